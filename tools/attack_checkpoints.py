#!/usr/bin/env python3
"""Crafted checkpoints against `galvani resume` and `Simulation.load` + `run(1.0)`.

Makes a genuine run folder (the checkpoint fuzz target's mixed network, stopped by
SIGTERM after its first checkpoints), then writes one mutated copy per case with the
CRC-32 recomputed after the edit, as an attacker would, and runs each through
`galvani resume DIR` (in its own folder) and through Python in a subprocess. Every
outcome must be a clean refusal (exit 2 / ValueError) or a clean success; a crash
(exit 101, a signal, PanicException), a hang (60 s) or runaway memory (4 GiB address
space) is a finding. Prints one line per category and a total; exits 1 on findings.

Usage: tools/attack_checkpoints.py GALVANI_BINARY PYTHON [--cases N]
(PYTHON: an interpreter with the galvani package installed.)
"""

import json
import os
import random
import re
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
import zlib
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HARNESS = ROOT / "crates/galvani/src/fuzz_harness/checkpoint_load.rs"


def net_toml():
    src = HARNESS.read_text()
    m = re.search(r'pub const NET_TOML: &str = r#"(.*?)"#;', src, re.S)
    # long enough that SIGTERM stops it with a checkpoint, short enough to resume quickly
    return m.group(1).replace("duration_ms = 20.0", "duration_ms = 5000.0")


def read_ck(b):
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
        sections.append([name, bytearray(b[at:at + slen])])
        at += slen
    return version, meta, sections


def write_ck(version, meta, sections, lengths=None):
    m = json.dumps(meta).encode()
    out = b"GALVCKPT" + struct.pack("<II", version, len(m)) + m + struct.pack("<I", len(sections))
    for k, (name, data) in enumerate(sections):
        n = lengths[k] if lengths and k in lengths else len(data)
        out += struct.pack("<H", len(name)) + name.encode() + struct.pack("<Q", n) + bytes(data)
    return out + struct.pack("<I", zlib.crc32(out))


def with_crc(body):
    return body + struct.pack("<I", zlib.crc32(body))


EXTREMES = [None, -1, 0, 2**64 - 1, 2**63, 1e308, -1e308, "x", [], {}, 1.5, True]
FLOATS = [float("nan"), float("inf"), float("-inf"), 1e38, -1e38, 3.4e38]
WORDS = [0xFFFFFFFF, 0x80000000, 0x7FFFFFFF, 0x7FC00000, 0x7F800000, 1 << 20]


def cases(genuine, rng, limit):
    version, meta, sections = read_ck(genuine)
    names = [s[0] for s in sections]
    out = []

    def add(cat, build):
        out.append((cat, build))

    # file-level: truncations, empty, bad magic, versions, section counts and lengths
    for cut in [0, 4, 8, 12, 16, 40, len(genuine) // 2, len(genuine) - 5]:
        add("truncated", lambda cut=cut: with_crc(genuine[:cut]))
    for v in [0, 2, 2**32 - 1]:
        add("version", lambda v=v: write_ck(v, meta, sections))
    for k in range(len(sections)):
        for n in [0, 1, 2**63, 2**64 - 1, 10**12]:
            add("section length", lambda k=k, n=n: write_ck(version, meta, sections, {k: n}))
    for k in range(len(sections)):
        add("missing section", lambda k=k: write_ck(version, meta, sections[:k] + sections[k + 1:]))
        add("duplicate section", lambda k=k: write_ck(version, meta, sections + [sections[k]]))
    # metadata values
    for key in list(meta["simulation"].keys()):
        for v in EXTREMES:
            def b(key=key, v=v):
                m = json.loads(json.dumps(meta))
                m["simulation"][key] = v
                return write_ck(version, m, sections)
            add("metadata", b)
    for group in ["run", "csv"]:
        for key in list(meta[group].keys()):
            for v in EXTREMES + ["/dev/zero", "/proc/self/mem", "/"]:
                def b(group=group, key=key, v=v):
                    m = json.loads(json.dumps(meta))
                    m[group][key] = v
                    return write_ck(version, m, sections)
                add("run/csv metadata", b)
    for step in [2**64 - 1, 2**32, 10**7, 10001]:
        def b(step=step):
            m = json.loads(json.dumps(meta))
            m["simulation"]["step"] = step
            return write_ck(version, m, sections)
        add("step", b)
    # section values: floats and words at random places
    for _ in range(limit):
        k = rng.randrange(len(sections))
        name, data = sections[k]
        if name == "net.inputs" or len(data) < 4:
            continue
        at = rng.randrange(len(data) // 4) * 4
        if rng.random() < 0.5:
            word = struct.pack("<f", rng.choice(FLOATS)) if not name.startswith(("param.", "isi.")) \
                else struct.pack("<d", rng.choice(FLOATS))[:4]
        else:
            word = struct.pack("<I", rng.choice(WORDS))

        def b(k=k, at=at, word=word):
            s = [[n, bytearray(d)] for n, d in sections]
            s[k][1][at:at + 4] = word
            return write_ck(version, meta, s)
        add(f"values in {name.split('.')[0]}.*", b)
    # inputs JSON
    inputs_k = names.index("net.inputs")
    v = json.loads(bytes(sections[inputs_k][1]))

    def paths(x, p=()):
        yield p
        if isinstance(x, dict):
            for kk, vv in x.items():
                yield from paths(vv, p + (kk,))
        elif isinstance(x, list):
            for i, vv in enumerate(x[:4]):
                yield from paths(vv, p + (i,))

    for p in list(paths(v))[1:]:
        for val in [None, -1, 2**64 - 1, 1e308, "x", [], [[]], [1.0], list(range(3))]:
            def b(p=p, val=val):
                w = json.loads(json.dumps(v))
                x = w
                for q in p[:-1]:
                    x = x[q]
                x[p[-1]] = val
                s = [[n, bytearray(d)] for n, d in sections]
                s[inputs_k][1] = bytearray(json.dumps(w).encode())
                return write_ck(version, meta, s)
            add("inputs", b)
    # a step current with 2 million change points (memory per point, not per neuron)
    def big():
        w = json.loads(json.dumps(v))
        n = 2_000_000
        w["currents"][0]["on"] = list(range(n))
        w["currents"][0]["amplitude"] = [1.0] * n
        s = [[nn, bytearray(d)] for nn, d in sections]
        s[inputs_k][1] = bytearray(json.dumps(w).encode())
        return write_ck(version, meta, s)
    add("huge schedule", big)
    return out


def limited(cmd, timeout, stdout_only=False):
    def pre():
        import resource
        resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))
    t0 = time.time()
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, preexec_fn=pre)
        return p.returncode, (p.stdout if stdout_only else p.stderr + p.stdout), time.time() - t0
    except subprocess.TimeoutExpired:
        return "hang", "", timeout


PY_LOAD = """
import sys, galvani
net = galvani.load(sys.argv[1])
for path in sys.argv[2:]:
    sim = galvani.Simulation(net, backend="cpu")
    try:
        sim.load(path)
        sim.run(1.0)
        print("accepted", flush=True)
    except ValueError as e:
        print("refused", flush=True)
    except BaseException as e:
        print("FINDING", type(e).__name__, str(e).splitlines()[0][:200], flush=True)
"""


def main():
    exe, py = sys.argv[1], sys.argv[2]
    limit = int(sys.argv[sys.argv.index("--cases") + 1]) if "--cases" in sys.argv else 300
    rng = random.Random(1)
    work = Path(tempfile.mkdtemp(prefix="galvani-attack-"))
    cfg = work / "net.toml"
    cfg.write_text(net_toml())
    out = work / "run"
    p = subprocess.Popen([exe, "run", str(cfg), "--out", str(out), "--backend", "cpu", "-q",
                          "--checkpoint-every-ms", "200", "--no-plots"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ck = out / "checkpoint.galvani"
    while not ck.exists():
        time.sleep(0.002)
    p.send_signal(signal.SIGTERM)
    p.wait()
    genuine = ck.read_bytes()
    all_cases = cases(genuine, rng, limit)
    tally = defaultdict(Counter)
    findings = []
    t0 = time.time()
    files = []
    for i, (cat, build) in enumerate(all_cases):
        data = build()
        d = work / f"c{i}"
        shutil.copytree(out, d)
        (d / "checkpoint.galvani").write_bytes(data)
        code, err, _ = limited([exe, "resume", str(d), "-q", "--no-plots"], 60)
        shutil.rmtree(d)
        ok = {0: "accepted", 2: "refused"}.get(code)
        tally[cat][f"resume:{ok or 'FINDING'}"] += 1
        if ok is None:
            findings.append((cat, "resume", code, err.strip().splitlines()[-1:] if err else ""))
        f = work / f"py{i}.galvani"
        f.write_bytes(data)
        files.append((cat, f))
        if i % 100 == 0:
            print(f"{i}/{len(all_cases)} resumed, {time.time() - t0:.0f} s", flush=True)
    # Python: every file in one interpreter, each into a fresh Simulation
    code, text, _ = limited([py, "-c", PY_LOAD, str(cfg)] + [str(f) for _, f in files], 1200,
                            stdout_only=True)
    lines = text.strip().splitlines()
    for k, (cat, _) in enumerate(files):
        res = lines[k] if k < len(lines) else f"no answer (interpreter exit {code})"
        key = res.split()[0] if res.split()[0] in ("accepted", "refused") else "FINDING"
        tally[cat][f"python:{key}"] += 1
        if key == "FINDING":
            findings.append((cat, "python", code, res))
    for cat, c in sorted(tally.items()):
        print(f"{cat:24s} {dict(sorted(c.items()))}")
    print(f"{len(all_cases)} crafted files, each through galvani resume and Python load + run(1.0), "
          f"{time.time() - t0:.0f} s; findings: {len(findings)}")
    for f in findings[:20]:
        print("FINDING", f)
    shutil.rmtree(work)
    sys.exit(1 if findings else 0)


if __name__ == "__main__":
    main()
