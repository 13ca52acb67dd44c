"""Whole runs from Python (galvani.run_config / galvani.resume: the core's checkpointed
run and resume) and the backend comparison (galvani.compare, Simulation.compare)."""

import json
import os
import pathlib
import signal
import threading

import numpy as np
import pytest

import galvani

ROOT = pathlib.Path(__file__).resolve().parents[2]
CUBA = ROOT / "tests/data/cuba4000/cuba_reference.toml"


def csvs(folder):
    return {p.name: p.read_bytes() for p in sorted(pathlib.Path(folder).glob("*.csv"))}


def test_run_config_returns_the_summary_and_writes_the_csvs(tmp_path):
    s = galvani.run_config(CUBA, tmp_path / "out", backend="cpu", duration_ms=200.0, threads=2)
    assert s == json.loads((tmp_path / "out/summary.json").read_text())
    assert s["complete"] is True and s["resumed_from_ms"] is None
    assert s["steps"] == 2000 and s["duration_ms"] == pytest.approx(200.0)
    assert s["backend"] == "cpu" and s["threads"] == 2
    assert [p["name"] for p in s["populations"]] == ["exc", "inh"]
    lines = (tmp_path / "out/spikes.csv").read_text().splitlines()
    assert len(lines) - 1 == s["spikes"] > 1000
    # the run equals the in-memory simulation spike for spike
    sim = galvani.Simulation(galvani.load(CUBA), backend="cpu")
    sim.run(200.0)
    assert sum(sim.spike_counts().values()) == s["spikes"]
    # the same run again gives the same files; a seed override reaches the summary
    galvani.run_config(CUBA, tmp_path / "again", backend="cpu", duration_ms=200.0)
    assert csvs(tmp_path / "out") == csvs(tmp_path / "again")
    other = galvani.run_config(CUBA, tmp_path / "other", backend="cpu", duration_ms=200.0, seed=7)
    assert other["seed"] == 7


def test_run_config_bad_arguments_raise_value_error(tmp_path):
    with pytest.raises(ValueError, match="backend"):
        galvani.run_config(CUBA, tmp_path / "o", backend="tpu")
    with pytest.raises(ValueError, match="precision"):
        galvani.run_config(CUBA, tmp_path / "o", precision="f16")
    with pytest.raises(ValueError, match="threads"):
        galvani.run_config(CUBA, tmp_path / "o", threads=0)
    with pytest.raises(ValueError, match="seed"):
        galvani.run_config(CUBA, tmp_path / "o", seed=-1)
    with pytest.raises(ValueError, match="checkpoint-every-ms: expected a positive whole number of steps"):
        galvani.run_config(CUBA, tmp_path / "o", backend="cpu", checkpoint_every_ms=0.05)
    with pytest.raises(ValueError, match="nope.toml"):
        galvani.run_config(tmp_path / "nope.toml", tmp_path / "o")


def test_resume_without_a_checkpoint_names_the_file(tmp_path):
    out = tmp_path / "done"
    galvani.run_config(CUBA, out, backend="cpu", duration_ms=50.0, checkpoint_every_ms=10.0)
    ck = out / "checkpoint.galvani"
    assert not ck.exists()  # a run that completed leaves nothing to resume
    with pytest.raises(ValueError) as e:
        galvani.resume(out)
    assert str(ck) in str(e.value) and "no checkpoint to resume from" in str(e.value)
    with pytest.raises(ValueError, match="not a folder"):
        galvani.resume(tmp_path / "missing")
    with pytest.raises(ValueError, match="threads"):
        galvani.resume(out, threads=-1)


def test_a_stopped_run_resumes_to_the_files_of_an_uninterrupted_run(tmp_path):
    """Ctrl-C stops a checkpointed run between batches (KeyboardInterrupt with the core's
    message); galvani.resume continues it, on another thread count, to CSVs identical
    byte for byte to a run in one piece."""
    kw = dict(backend="cpu", duration_ms=6000.0)
    whole = galvani.run_config(CUBA, tmp_path / "whole", **kw)
    wall = whole["simulate_s"]
    out = tmp_path / "stopped"
    # the signal comes at a quarter of the uninterrupted run's wall time
    timer = threading.Timer(max(wall / 4, 0.02), os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt) as e:
            galvani.run_config(CUBA, out, checkpoint_every_ms=100.0, threads=2, **kw)
    finally:
        timer.cancel()
    msg = str(e.value)
    assert "interrupted by SIGINT: stopped at" in msg and "galvani resume" in msg, msg
    assert (out / "checkpoint.galvani").exists()
    stopped = json.loads((out / "summary.json").read_text())
    assert stopped["complete"] is False and 0 < stopped["steps"] < whole["steps"]
    s = galvani.resume(out, threads=1)
    assert s["complete"] is True and s["steps"] == whole["steps"]
    assert 0 < s["resumed_from_ms"] < 6000.0
    assert s["spikes"] == whole["spikes"]
    assert not (out / "checkpoint.galvani").exists()
    a, b = csvs(tmp_path / "whole"), csvs(out)
    assert sorted(a) == sorted(b) and "spikes.csv" in a
    for name in a:
        assert a[name] == b[name], name


# -- compare --------------------------------------------------------------------------


def gpu_or_skip(fn):
    """Runs fn(); a missing GPU adapter skips the test (unless GALVANI_REQUIRE_GPU=1)."""
    try:
        return fn()
    except RuntimeError as e:
        if os.environ.get("GALVANI_REQUIRE_GPU") == "1":
            raise
        pytest.skip(f"no GPU adapter: {e}")


def small_lif():
    net = galvani.Network(dt_ms=0.1, seed=11)
    n = 200
    net.add_population("e", n, params={"i_e_pa": np.linspace(300.0, 500.0, n)},
                       init={"v_mv": {"uniform": [-70.0, -55.0]}})
    rng = np.random.default_rng(2)
    pre, post = rng.integers(0, n, 4000), rng.integers(0, n, 4000)
    net.add_edges("e", "e", pre, post, weight=rng.uniform(-20.0, 30.0, 4000),
                  delay_ms=rng.integers(1, 20, 4000) * 0.1)
    net.record_voltage("e", neurons=[0, 7, 199])
    return net


def test_compare_a_small_lif_network_cpu_vs_gpu():
    net = small_lif()
    c = gpu_or_skip(lambda: galvani.compare(net, duration_ms=100.0))
    assert isinstance(c, galvani.Comparison)
    assert c.agree and bool(c) and c.failures == [], c.report
    assert c.statistical is False
    assert len(c.checks) >= 3 and all(isinstance(ok, bool) and what for ok, what in c.checks)
    assert "identical" in c.report and "galvani.Network" in c.report
    # a tolerance no run can meet is a verdict, not an exception
    strict = galvani.compare(net, duration_ms=100.0, rate_tol=-1.0)
    assert not strict.agree and strict.failures and "disagree" in repr(strict)


def test_simulation_compare_uses_its_network_and_leaves_it_alone():
    sim = galvani.Simulation(small_lif(), backend="cpu")
    sim.run(10.0)
    c = gpu_or_skip(lambda: sim.compare(duration_ms=50.0, v_tol_mv=1e-3, threads=1))
    assert c.agree, c.report
    assert sim.t == pytest.approx(10.0)
    with pytest.raises(ValueError, match="no duration_ms"):
        sim.compare()
    with pytest.raises(ValueError, match="unknown option 'vtol'"):
        sim.compare(duration_ms=10.0, vtol=1.0)


def test_compare_a_config_file():
    c = gpu_or_skip(lambda: galvani.compare(CUBA, duration_ms=30.0))
    assert c.agree, c.report
    assert str(CUBA) in c.report
    with pytest.raises(ValueError, match="expected a galvani.Network or the path"):
        galvani.compare(42)
