"""The Python package over galvani::Simulation: the CUBA reference, continuation, reset,
array round trips, errors, and Python-built networks equal to their TOML twins."""

import pathlib

import numpy as np
import pytest

import galvani

ROOT = pathlib.Path(__file__).resolve().parents[2]
CUBA = ROOT / "tests/data/cuba4000/cuba_reference.toml"


def reference_spikes():
    data = np.genfromtxt(
        ROOT / "tests/data/cuba4000/spikes_reference.csv",
        delimiter=",",
        names=True,
        dtype=None,
        encoding="utf-8",
    )
    return data


def test_cuba_reference_f64_gives_nests_23430_spikes():
    sim = galvani.Simulation(galvani.load(CUBA), backend="cpu", precision="f64")
    sim.run(1000.0)
    assert sim.t == pytest.approx(1000.0)
    ref = reference_spikes()
    total = 0
    for pop in ("exc", "inh"):
        t, n = sim.spikes(pop)
        want = ref[ref["population"] == pop]
        np.testing.assert_array_equal(n, want["neuron"])
        np.testing.assert_allclose(t, want["time_ms"], rtol=0, atol=1e-9)
        total += len(t)
    assert total == 23430
    assert sum(sim.spike_counts().values()) == 23430


@pytest.mark.parametrize("precision", ["f32", "f64"])
def test_split_runs_equal_one_run_byte_for_byte(precision):
    net = galvani.load(CUBA)
    net.record_voltage("exc", neurons=[0, 5, 17], every_steps=2)
    one = galvani.Simulation(net, backend="cpu", precision=precision)
    one.run(300.0)
    parts = galvani.Simulation(net, backend="cpu", precision=precision)
    for ms in (0.1, 99.9, 37.3, 162.7):
        parts.run(ms)
    assert parts.t == pytest.approx(300.0)
    for pop in ("exc", "inh"):
        a, b = one.spikes(pop), parts.spikes(pop)
        assert len(a[0]) > 100
        for x, y in zip(a, b):
            assert x.tobytes() == y.tobytes()
    va, vb = one.voltages("exc"), parts.voltages("exc")
    assert len(va[0]) > 3 * (1 + 3000 // 2)
    for x, y in zip(va, vb):
        assert x.tobytes() == y.tobytes()


def test_reset_and_rerun_gives_the_same_spikes():
    net = galvani.load(CUBA)
    sim = galvani.Simulation(net, backend="cpu")
    sim.run(200.0)
    first = [a.copy() for a in sim.spikes("exc")]
    v_first = sim.voltages("exc")
    sim.reset()
    assert sim.t == 0.0
    t, n = sim.spikes("exc")
    assert len(t) == 0 and len(n) == 0
    assert len(sim.voltages("exc")[0]) == 0
    assert sum(sim.spike_counts().values()) == 0
    sim.run(200.0)
    for x, y in zip(first, sim.spikes("exc")):
        assert x.tobytes() == y.tobytes()
    for x, y in zip(v_first, sim.voltages("exc")):
        assert x.tobytes() == y.tobytes()


def test_arrays_round_trip_with_the_right_dtypes():
    n = 50
    v0 = np.linspace(-70.0, -56.0, n)
    i_e = np.arange(n, dtype=np.float64) * 10.0
    net = galvani.Network(dt_ms=0.1, seed=3)
    net.add_population("a", n, params={"i_e_pa": i_e, "t_ref_ms": 2.0}, init={"v_mv": v0})
    net.record_voltage("a", neurons=[3, 7])
    sim = galvani.Simulation(net, backend="cpu", precision="f64")
    got = sim.get("a", "v_mv")
    assert got.dtype == np.float64 and got.shape == (n,)
    np.testing.assert_allclose(got, v0, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(sim.get("a", "i_e_pa"), i_e)
    sim.run(50.0)
    t, idx = sim.spikes("a")
    assert t.dtype == np.float64 and idx.dtype == np.int64
    assert len(t) > 0 and set(idx) <= set(range(n))
    assert np.all(np.diff(t) >= 0)
    # neurons with more current fire at least as often
    counts = np.bincount(idx, minlength=n)
    assert counts[-1] > counts[20] >= counts[0] == 0
    tv, nv, vv = sim.voltages("a")
    assert (tv.dtype, nv.dtype, vv.dtype) == (np.float64, np.int64, np.float64)
    assert tv[0] == 0.0 and tv[1] == 0.0 and list(nv[:2]) == [3, 7]
    np.testing.assert_allclose(vv[:2], v0[[3, 7]], rtol=0, atol=1e-12)
    assert len(tv) == 2 * (1 + 500)
    # set between runs: state and parameters, scalars and arrays
    sim.set("a", "v_mv", -65.0)
    np.testing.assert_allclose(sim.get("a", "v_mv"), -65.0)
    sim.set("a", "i_e_pa", np.zeros(n))
    before = len(sim.spikes("a")[0])
    sim.run(100.0)
    assert len(sim.spikes("a")[0]) == before, "no current, no spikes"
    assert sim.t == pytest.approx(150.0)


def test_bad_input_raises_value_error_with_the_cli_message(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text(CUBA.read_text().replace("tau_m_ms", "tau_mm_ms", 1))
    with pytest.raises(ValueError) as e:
        galvani.load(bad)
    msg = str(e.value)
    assert str(bad) in msg and "unknown key 'tau_mm_ms'" in msg and "expected one of" in msg

    net = galvani.Network()
    with pytest.raises(ValueError, match=r"galvani.Network: population\[0\] \('x'\).size: expected a positive"):
        net.add_population("x", 0)
    net.add_population("x", 10)
    with pytest.raises(ValueError, match="unknown population 'y'"):
        net.add_projection("x", "y", weight=1.0, p=0.1)
    with pytest.raises(ValueError, match="expected a probability in"):
        net.add_projection("x", "x", weight=1.0, p=1.5)
    with pytest.raises(ValueError, match=r"expected one value per neuron \(10\), got 3"):
        net.add_population("z", 10, init={"v_mv": [1.0, 2.0, 3.0]})
    with pytest.raises(ValueError, match=r"connect.post\[1\]: index 10 is out of range"):
        net.add_edges("x", "x", [0, 1], [1, 10], weight=1.0)
    with pytest.raises(ValueError, match="shorter than one step"):
        net.add_edges("x", "x", [0, 1], [1, 2], weight=1.0, delay_ms=[0.1, 0.01])
    # a rejected change is not kept
    assert net.populations == ["x"] and "projection" not in net.to_dict()
    with pytest.raises(ValueError, match="backend"):
        galvani.Simulation(net, backend="tpu")
    with pytest.raises(ValueError, match="precision"):
        galvani.Simulation(net, precision="f16")
    with pytest.raises(ValueError, match="threads"):
        galvani.Simulation(net, threads=0)
    with pytest.raises(ValueError, match="f64 needs"):
        galvani.Simulation(net, backend="gpu", precision="f64")
    sim = galvani.Simulation(net, backend="cpu", threads=2)
    assert sim.threads == 2
    with pytest.raises(ValueError, match="whole number of steps"):
        sim.run(0.15)
    with pytest.raises(ValueError, match="no duration_ms"):
        sim.run()
    assert sim.t == 0.0
    with pytest.raises(ValueError, match="unknown population"):
        sim.spikes("nope")
    with pytest.raises(ValueError, match="must be below v_th_mv"):
        sim.set("x", "v_reset_mv", 0.0)
    with pytest.raises(ValueError, match="unknown variable"):
        sim.get("x", "tau")


def cuba_in_python():
    """tests/data/cuba4000/cuba_reference.toml, built call by call, its edge files read
    with numpy and given as arrays."""
    ref = galvani.load(CUBA).to_dict()
    sim = ref["simulation"]
    net = galvani.Network(dt_ms=sim.get("dt_ms"), seed=sim.get("seed"))
    def arrays(values):
        """{file, column} tables as the numpy arrays they hold, by neuron."""
        out = {}
        for k, v in (values or {}).items():
            if isinstance(v, dict) and "file" in v:
                d = np.genfromtxt(CUBA.parent / v["file"], delimiter=",", names=True)
                v = d[v["column"]][np.argsort(d["neuron"])]
            out[k] = v
        return out

    for p in ref["population"]:
        net.add_population(p["name"], p["size"], p["model"], p.get("synapse"),
                           arrays(p.get("params")), arrays(p.get("init")))
    for pr in ref["projection"]:
        c = dict(pr["connect"])
        rule = c.pop("rule")
        if rule == "file":
            edges = np.loadtxt(CUBA.parent / c["path"], delimiter=",", skiprows=1,
                               dtype=np.int64, ndmin=2)
            net.add_edges(pr["pre"], pr["post"], edges[:, 0], edges[:, 1],
                          pr.get("weight"), pr.get("delay_ms"), pr["receptor"])
        else:
            net.add_projection(pr["pre"], pr["post"], pr["receptor"], pr.get("weight"),
                               pr.get("delay_ms"), rule, **c)
    rec = ref.get("record", {})
    if "spikes" in rec:
        net.record_spikes(rec["spikes"])
    for v in rec.get("voltage", []):
        net.record_voltage(v["population"], v.get("neurons"), v.get("every_steps", 1))
    return net


def test_network_built_in_python_equals_the_toml_network():
    py = cuba_in_python()
    toml = galvani.load(CUBA)
    assert [p["connect"]["rule"] for p in py.to_dict()["projection"]] == ["edges"] * 4
    a = galvani.Simulation(py, backend="cpu")
    b = galvani.Simulation(toml, backend="cpu")
    assert a.synapses == b.synapses > 300_000
    a.run(200.0)
    b.run(200.0)
    for pop in ("exc", "inh"):
        for x, y in zip(a.spikes(pop), b.spikes(pop)):
            assert len(x) > 0 and x.tobytes() == y.tobytes()


def test_edges_from_arrays_equal_the_same_edge_file(tmp_path):
    rng = np.random.default_rng(7)
    pairs = rng.choice(100 * 100, 2000, replace=False)  # distinct (pre, post) pairs
    pre, post = pairs // 100, pairs % 100
    w = rng.uniform(50.0, 150.0, 2000)
    d = rng.integers(1, 30, 2000) * 0.1
    path = tmp_path / "edges.csv"
    with open(path, "w") as f:
        f.write("pre,post,weight,delay_ms\n")
        for row in zip(pre, post, w, d):
            f.write("%d,%d,%r,%r\n" % (row[0], row[1], float(row[2]), float(row[3])))

    def net(arrays):
        n = galvani.Network(seed=5)
        n.add_population("a", 100, init={"v_mv": {"uniform": [-70.0, -52.0]}},
                         params={"i_e_pa": 300.0})
        if arrays:
            n.add_edges("a", "a", pre, post, weight=w, delay_ms=d)
        else:
            n.add_projection("a", "a", rule="file", path=str(path))
        return n

    a = galvani.Simulation(net(True), backend="cpu")
    b = galvani.Simulation(net(False), backend="cpu")
    a.run(100.0)
    b.run(100.0)
    assert len(a.spikes("a")[0]) > 50
    for x, y in zip(a.spikes("a"), b.spikes("a")):
        assert x.tobytes() == y.tobytes()


def test_hv_pair_from_python_matches_toml_and_continues():
    toml = galvani.load(ROOT / "configs/hv_pair.toml")
    net = galvani.Network()
    net.add_population("driver", 1, "hv", params={"i_e_pa": 180.0})
    net.add_population("follower", 1, "hv")
    net.add_projection("driver", "follower", "ampa", weight=30.0, rule="one_to_one")
    for v in toml.to_dict().get("record", {}).get("voltage", []):
        net.record_voltage(v["population"], v.get("neurons"), v.get("every_steps", 1))
    a, b = galvani.Simulation(net, backend="cpu"), galvani.Simulation(toml, backend="cpu")
    a.run(40.0)
    a.run(60.0)
    b.run()
    assert b.t == pytest.approx(100.0)
    for pop in ("driver", "follower"):
        x, y = a.spikes(pop), b.spikes(pop)
        assert len(x[0]) > 0
        for p, q in zip(x, y):
            assert p.tobytes() == q.tobytes()
    assert 0 < a.get("follower", "w")[0] <= 1


def test_docstrings_and_help():
    for obj in (galvani, galvani.Network, galvani.Simulation, galvani.load,
                galvani.Simulation.run, galvani.Simulation.spikes, galvani.Network.add_edges):
        assert obj.__doc__ and len(obj.__doc__) > 40
    import pydoc
    text = pydoc.render_doc(galvani.Simulation)
    assert "reset" in text and "KeyboardInterrupt" in text


def test_gpu_backend_when_available():
    try:
        sim = galvani.Simulation(galvani.load(CUBA), backend="gpu")
    except RuntimeError as e:
        if __import__("os").environ.get("GALVANI_REQUIRE_GPU") == "1":
            raise
        pytest.skip(f"no GPU adapter: {e}")
    assert sim.backend == "gpu"
    cpu = galvani.Simulation(galvani.load(CUBA), backend="cpu")
    sim.run(20.0)
    sim.run(30.0)
    cpu.run(50.0)
    for x, y in zip(sim.spikes("exc"), cpu.spikes("exc")):
        assert len(x) > 0 and x.tobytes() == y.tobytes()


def test_ctrl_c_interrupts_a_run_between_batches():
    import os
    import signal
    import threading

    sim = galvani.Simulation(galvani.load(CUBA), backend="cpu")
    timer = threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            sim.run(200_000.0)
    finally:
        timer.cancel()
    # stopped at a batch boundary; what ran is kept and the run can go on
    assert 0 < sim.t < 200_000.0
    assert (sim.t / 0.1) % 1000 == pytest.approx(0.0, abs=1e-6)
    t, _ = sim.spikes("exc")
    assert len(t) > 0 and t[-1] <= sim.t
    sim.run(10.0)


def test_hv_coupling_example_draws_the_pair(tmp_path):
    pytest.importorskip("matplotlib")
    import subprocess
    import sys

    out = tmp_path / "hv.png"
    r = subprocess.run([sys.executable, str(ROOT / "examples/hv_coupling.py"), str(out)],
                       capture_output=True, text=True, check=True)
    assert out.stat().st_size > 20_000
    cells = eval(r.stdout.split("(cells ")[1].rstrip().rstrip(")"))
    assert cells == [0, 1] * 9, r.stdout  # 9 + 9 spikes, the follower after each


@pytest.mark.parametrize("precision", ["f32", "f64"])
def test_save_and_load_continue_byte_for_byte(tmp_path, precision):
    whole = galvani.Simulation(galvani.load(CUBA), backend="cpu", precision=precision)
    whole.run(300.0)
    first = galvani.Simulation(galvani.load(CUBA), backend="cpu", precision=precision)
    first.run(120.0)
    first.set("exc", "i_e_pa", 0.0)  # a no-op change, kept through the file
    first.save(tmp_path / "ck.galvani")
    rest = galvani.Simulation(galvani.load(CUBA), backend="cpu", precision=precision)
    rest.load(tmp_path / "ck.galvani")
    assert rest.t == pytest.approx(120.0)
    rest.run(180.0)
    for pop in ("exc", "inh"):
        t, n = whole.spikes(pop)
        tail = t > 120.0 + 1e-9
        t2, n2 = rest.spikes(pop)
        assert len(t2) > 0
        np.testing.assert_array_equal(t[tail], t2)
        np.testing.assert_array_equal(n[tail], n2)
        np.testing.assert_array_equal(whole.get(pop, "v_mv"), rest.get(pop, "v_mv"))
    assert whole.spike_counts() == rest.spike_counts()


def test_load_refuses_another_network(tmp_path):
    sim = galvani.Simulation(galvani.load(CUBA), backend="cpu")
    sim.run(10.0)
    sim.save(tmp_path / "ck.galvani")
    net = galvani.load(CUBA)
    other = galvani.Network(dt_ms=net.dt_ms, seed=(net.seed or 0) + 1)
    other.add_population("a", 10)
    with pytest.raises(ValueError, match="different network"):
        galvani.Simulation(other, backend="cpu").load(tmp_path / "ck.galvani")
    (tmp_path / "bad.galvani").write_bytes(b"nothing")
    with pytest.raises(ValueError, match="not a galvani checkpoint"):
        sim.load(tmp_path / "bad.galvani")


def test_izhikevich_state_reads_and_writes_from_python():
    """A point model's state variables are get/set between runs: u as well as V."""
    net = galvani.Network()
    net.add_population("n", 2, "izhikevich", params={"i_e_pa": 10.0},
                       init={"v_mv": -70.0, "u": -14.0})
    net.record_voltage("n", [0])
    sim = galvani.Simulation(net, backend="cpu", precision="f64")
    assert list(sim.get("n", "u")) == [-14.0, -14.0]
    sim.run(0.1)
    # one Euler step of NEST's consistent scheme by hand
    assert sim.get("n", "u")[0] == -14.0 + 0.1 * 0.02 * (0.2 * -70.0 - -14.0)
    dv = 0.04 * -70.0 * -70.0 + 5.0 * -70.0 + 140.0 - -14.0 + 0.0 + 10.0
    assert sim.get("n", "v_mv")[0] == -70.0 + (0.1 * dv + 0.0)
    sim.set("n", "u", [5.0, -3.0])
    assert list(sim.get("n", "u")) == [5.0, -3.0]
    sim.set("n", "d", 4.0)
    assert list(sim.get("n", "d")) == [4.0, 4.0]
    with pytest.raises(ValueError, match="c_mv"):
        sim.set("n", "c_mv", 40.0)
    with pytest.raises(ValueError, match="unknown variable 'w'"):
        sim.get("n", "w")
