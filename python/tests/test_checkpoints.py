"""Checkpoints as untrusted input from Python: a crafted file (valid checksum) is
refused with ValueError, never PanicException, and the refused load changes nothing."""

import json
import struct
import zlib

import numpy as np
import pytest

import galvani


def _net():
    net = galvani.Network(dt_ms=0.1, seed=3)
    net.add_population("p", 5, model="poisson_source", params={"rate_hz": 100.0})
    net.add_population("n", 4, synapse="exp_current")
    net.add_projection("p", "n", weight=50.0, delay_ms=1.0, rule="all_to_all")
    return net


def _read(path):
    b = open(path, "rb").read()
    assert b[:8] == b"GALVCKPT"
    version, mlen = struct.unpack_from("<II", b, 8)
    at = 16
    meta = json.loads(b[at:at + mlen])
    at += mlen
    (count,) = struct.unpack_from("<I", b, at)
    at += 4
    sections = []
    for _ in range(count):
        (nlen,) = struct.unpack_from("<H", b, at)
        name = b[at + 2:at + 2 + nlen].decode()
        at += 2 + nlen
        (slen,) = struct.unpack_from("<Q", b, at)
        at += 8
        sections.append((name, b[at:at + slen]))
        at += slen
    return version, meta, sections


def _write(path, version, meta, sections):
    m = json.dumps(meta).encode()
    out = b"GALVCKPT" + struct.pack("<II", version, len(m)) + m + struct.pack("<I", len(sections))
    for name, data in sections:
        out += struct.pack("<H", len(name)) + name.encode() + struct.pack("<Q", len(data)) + data
    open(path, "wb").write(out + struct.pack("<I", zlib.crc32(out)))


def test_a_crafted_checkpoint_raises_value_error_and_changes_nothing(tmp_path):
    a = galvani.Simulation(_net(), backend="cpu")
    a.run(5.0)
    a.set("n", "tau_m_ms", 7.0)
    a.save(tmp_path / "ck.galvani")
    version, meta, sections = _read(tmp_path / "ck.galvani")
    # the parameter change is valid; the Poisson column is one short (once a panic)
    inputs = dict(sections)["net.inputs"]
    v = json.loads(inputs)
    v["sources"][0]["poisson"][0] = v["sources"][0]["poisson"][0][:-1]
    sections = [(k, json.dumps(v).encode() if k == "net.inputs" else d) for k, d in sections]
    _write(tmp_path / "bad.galvani", version, meta, sections)

    b = galvani.Simulation(_net(), backend="cpu")
    b.run(2.0)
    tau, t, v_before = b.get("n", "tau_m_ms"), b.t, b.get("n", "v_mv")
    with pytest.raises(ValueError, match="net.inputs.*expected one per neuron"):
        b.load(tmp_path / "bad.galvani")
    assert np.array_equal(b.get("n", "tau_m_ms"), tau)
    assert b.t == t and np.array_equal(b.get("n", "v_mv"), v_before)
    # the genuine file loads
    b.load(tmp_path / "ck.galvani")
    assert b.t == pytest.approx(5.0) and np.all(b.get("n", "tau_m_ms") == 7.0)


def test_a_fifo_is_refused_without_blocking(tmp_path):
    import os
    fifo = tmp_path / "ck.fifo"
    os.mkfifo(fifo)
    sim = galvani.Simulation(_net(), backend="cpu")
    with pytest.raises(ValueError, match="a FIFO"):
        sim.load(fifo)
