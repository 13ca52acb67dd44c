"""Bulk data as numpy buffers: per-neuron values, spike times and edge lists reach the
core without per-element conversion and survive exactly; their checks give the messages
the TOML path gives; the stubs cover the extension."""

import ast
import pathlib

import numpy as np
import pytest

import galvani
from galvani import _native

ROOT = pathlib.Path(__file__).resolve().parents[2]


def test_per_neuron_values_survive_exactly():
    rng = np.random.default_rng(4)
    n = 1000
    params = {
        "v_th_mv": rng.uniform(-52.0, -48.0, n),
        "tau_m_ms": rng.uniform(10.0, 30.0, n),
        "i_e_pa": rng.normal(200.0, 50.0, n),
    }
    v0 = rng.uniform(-70.0, -60.0, n)
    net = galvani.Network(dt_ms=0.1, seed=1)
    net.add_population("a", n, params=params, init={"v_mv": v0})
    sim = galvani.Simulation(net, backend="cpu", precision="f64")
    for k, v in params.items():
        assert sim.get("a", k).tobytes() == v.tobytes(), k
    assert sim.get("a", "v_mv").tobytes() == v0.tobytes()
    # set() from numpy: exact, and a scalar broadcasts
    new = rng.uniform(-51.0, -49.0, n)
    sim.set("a", "v_th_mv", new)
    assert sim.get("a", "v_th_mv").tobytes() == new.tobytes()
    sim.set("a", "v_mv", -65.0)
    assert np.all(sim.get("a", "v_mv") == -65.0)
    # strided and other dtypes are converted, not refused
    sim.set("a", "i_e_pa", np.arange(2 * n, dtype=np.int32)[::2])
    assert np.array_equal(sim.get("a", "i_e_pa"), np.arange(0, 2 * n, 2))


def test_the_network_keeps_its_own_read_only_copies():
    pre = np.array([0, 1, 2], dtype=np.int32)
    post = np.array([1, 2, 0])
    w = np.array([1.0, 2.0, 3.0])
    v = np.full(3, -60.0)
    net = galvani.Network()
    net.add_population("a", 3, init={"v_mv": v})
    net.add_edges("a", "a", pre, post, weight=w)
    # changing the caller's arrays afterwards changes nothing (and cannot skip a check)
    pre[0], post[0], w[0], v[0] = 99, 99, np.nan, np.inf
    t = net._tree
    c = t["projection"][0]["connect"]
    assert list(c["pre"]) == [0, 1, 2] and c["pre"].dtype == np.int64
    assert list(c["post"]) == [1, 2, 0] and list(c["weight"]) == [1.0, 2.0, 3.0]
    assert t["population"][0]["init"]["v_mv"][0] == -60.0
    assert not c["pre"].flags.writeable
    net.validate()
    # to_dict gives writable copies
    d = net.to_dict()["projection"][0]["connect"]
    d["pre"][0] = 5
    assert c["pre"][0] == 0


def test_edges_from_numpy_equal_the_same_edges_from_lists_and_a_file(tmp_path):
    rng = np.random.default_rng(9)
    n, m = 300, 20_000
    pre, post = rng.integers(0, n, m), rng.integers(0, n, m)  # with repeated pairs
    w = rng.uniform(-40.0, 60.0, m)
    d = rng.integers(1, 40, m) * 0.1
    path = tmp_path / "edges.csv"
    with open(path, "w") as f:
        f.write("pre,post,weight,delay_ms\n")
        for row in zip(pre, post, w, d):
            f.write("%d,%d,%r,%r\n" % (row[0], row[1], float(row[2]), float(row[3])))

    def net(how):
        x = galvani.Network(seed=5)
        x.add_population("a", n, init={"v_mv": {"uniform": [-70.0, -52.0]}},
                         params={"i_e_pa": 350.0})
        if how == "numpy":
            x.add_edges("a", "a", pre, post, weight=w, delay_ms=d)
        elif how == "file":
            x.add_projection("a", "a", rule="file", path=str(path))
        x.record_voltage("a", neurons=[1, 2, 3])
        return x

    sims = {how: galvani.Simulation(net(how), backend="cpu") for how in ("numpy", "file")}
    # the tree with python lists instead of arrays goes through TOML element by element
    lists = net("numpy")
    c = lists._tree["projection"][0]["connect"]
    for k in ("pre", "post", "weight", "delay_ms"):
        c[k] = c[k].tolist()
    sims["lists"] = galvani.Simulation(lists, backend="cpu")
    assert len({s.synapses for s in sims.values()}) == 1
    for s in sims.values():
        s.run(150.0)
    ref = sims["file"]
    assert len(ref.spikes("a")[0]) > 100
    for how, s in sims.items():
        for x, y in zip(s.spikes("a"), ref.spikes("a")):
            assert x.tobytes() == y.tobytes(), how
        for x, y in zip(s.voltages("a"), ref.voltages("a")):
            assert x.tobytes() == y.tobytes(), how


def test_the_network_keeps_edges_in_the_stable_order_of_pre_then_post():
    rng = np.random.default_rng(3)
    m = 50_000
    pre, post = rng.integers(0, 40, m), rng.integers(0, 300, m)  # many repeated pairs
    w, d = rng.uniform(size=m), rng.uniform(0.1, 2.0, m)
    net = galvani.Network()
    net.add_population("a", 40)
    net.add_population("b", 300)
    net.add_edges("a", "b", pre.astype(np.int32), post, weight=w, delay_ms=d)
    c = net._tree["projection"][0]["connect"]
    order = np.lexsort((post, pre))  # stable: repeated pairs keep their order
    for key, want in (("pre", pre), ("post", post), ("weight", w), ("delay_ms", d)):
        assert c[key].tobytes() == want[order].tobytes(), key
    # sorted input is kept as given; unsortable input is kept for validation to report
    s_pre, s_post, s_w, s_d = _native.sorted_edges(pre[order], post[order])
    assert s_pre.tobytes() == pre[order].tobytes() and s_w is None and s_d is None
    bad = _native.sorted_edges(np.array([3, 1]), np.array([0, -5]))
    assert list(bad[0]) == [3, 1] and list(bad[1]) == [0, -5]


def test_spike_times_from_numpy():
    times = [np.array([0.5, 3.0, 7.25]), np.array([], dtype=np.float64), np.arange(1.0, 9.0, 2.0)]
    net = galvani.Network(dt_ms=0.25)
    net.add_population("s", 3, model="spike_source", spike_times=times)
    net.add_population("n", 1)
    net.add_edges("s", "n", [0, 1, 2], [0, 0, 0], weight=1.0)
    sim = galvani.Simulation(net, backend="cpu", precision="f64")
    for got, want in zip(sim.spike_times("s"), times):
        assert got.tobytes() == want.tobytes()
    sim.run(10.0)
    t, idx = sim.spikes("s")
    want = sorted((x, i) for i, ts in enumerate(times) for x in ts)
    assert list(zip(t, idx)) == want
    sim.set_spike_times("s", [np.array([12.0]), np.array([11.0, 13.5]), np.zeros(0)])
    sim.run(10.0)
    t, idx = sim.spikes("s")
    assert list(zip(t[-3:], idx[-3:])) == [(11.0, 1), (12.0, 0), (13.5, 1)]


def lists_of(tree):
    """The tree with every numpy array as a list: what the TOML path validates."""
    if isinstance(tree, dict):
        return {k: lists_of(v) for k, v in tree.items()}
    if isinstance(tree, list):
        return [lists_of(v) for v in tree]
    if isinstance(tree, np.ndarray):
        return tree.tolist()
    return tree


def base(model="lif", synapse=None):
    t = {"simulation": {"duration_ms": 0.0, "dt_ms": 0.1},
         "population": [{"name": "a", "size": 4, "model": model, "params": {}, "init": {}},
                        {"name": "b", "size": 3, "model": model, "params": {}, "init": {}}]}
    if synapse:
        for p in t["population"]:
            p["synapse"] = synapse
    return t


def edges(tree, **connect):
    c = {"rule": "edges"}
    c.update({k: np.asarray(v, dtype=np.int64 if k in ("pre", "post") else np.float64)
              for k, v in connect.items()})
    tree["projection"] = [{"pre": "a", "post": "b", "receptor": "ampa", "connect": c}]
    return tree


def bad_trees():
    t = base()
    t["population"][0]["params"]["v_th_mv"] = np.array([1.0, 2.0, np.nan, 4.0])
    yield t
    t = base()
    t["population"][1]["init"]["v_mv"] = np.array([-60.0, -61.0])
    yield t
    yield edges(base(), pre=[0, 1], post=[0], weight=[1.0, 1.0])
    yield edges(base(), pre=[0, 4], post=[0, 1], weight=[1.0, 1.0])
    yield edges(base(), pre=[0, -1], post=[0, 1], weight=[1.0, 1.0])
    yield edges(base(), pre=[0, 1], post=[2, 3], weight=[1.0, 1.0])
    yield edges(base(), pre=[0, 1], post=[0, 1], weight=[1.0])
    yield edges(base(), pre=[0, 1], post=[0, 1], weight=[1.0, np.inf])
    yield edges(base(synapse="exp_conductance"), pre=[0, 1], post=[0, 1], weight=[1.0, -1.0])
    yield edges(base(), pre=[0, 1], post=[0, 1], weight=[1.0, 1.0], delay_ms=[0.1])
    yield edges(base(), pre=[0, 1], post=[0, 1], weight=[1.0, 1.0], delay_ms=[0.2, 0.04])
    yield edges(base(model="hv"), pre=[0, 1], post=[0, 1], weight=[1.0, 1.0], delay_ms=[1.0, 1.0])
    yield edges(base(model="hv"), pre=[0, 1], post=[0, 1], weight=[1.0, -1.0])
    yield edges(base(), pre=[0, 1], post=[0, 1])  # no weight anywhere
    t = base()
    t["population"].append({"name": "s", "size": 2, "model": "spike_source",
                            "spike_times": [np.array([1.0]), np.array([2.0, -3.0])]})
    yield t
    t = base()
    t["population"].append({"name": "s", "size": 2, "model": "spike_source",
                            "spike_times": [np.array([1.0])]})
    yield t
    t = base()
    t["population"][0]["params"]["v_thh_mv"] = np.zeros(4)
    yield t


@pytest.mark.parametrize("k", range(17))
def test_array_checks_give_the_messages_of_the_toml_path(k):
    tree = list(bad_trees())[k]
    with pytest.raises(ValueError) as numpy_path:
        _native.validate(tree, "net")
    with pytest.raises(ValueError) as toml_path:
        _native.validate(lists_of(tree), "net")
    assert str(numpy_path.value) == str(toml_path.value)
    # the Simulation refuses it with the same message
    with pytest.raises(ValueError) as sim:
        galvani.Simulation(galvani.Network._from_tree(tree, "net"), backend="cpu")
    assert str(sim.value) == str(numpy_path.value)


def test_a_valid_numpy_tree_equals_its_list_twin():
    tree = edges(base(), pre=[0, 1, 3], post=[0, 1, 2], weight=[1.0, 2.0, -3.0],
                 delay_ms=[0.1, 0.5, 1.0])
    tree["population"][0]["params"]["v_th_mv"] = np.array([-50.0, -51.0, -52.0, -53.0])
    _native.validate(tree, "net")
    _native.validate(lists_of(tree), "net")
    a = galvani.Simulation(galvani.Network._from_tree(tree, "net"), backend="cpu", precision="f64")
    b = galvani.Simulation(galvani.Network._from_tree(lists_of(tree), "net"), backend="cpu",
                           precision="f64")
    assert a.synapses == b.synapses == 3
    assert a.get("a", "v_th_mv").tobytes() == b.get("a", "v_th_mv").tobytes()


def test_deferred_blocks_share_arrays_instead_of_copying_them():
    net = galvani.Network()
    net.add_population("a", 1000)
    net.add_edges("a", "a", np.arange(1000), np.arange(1000)[::-1], weight=1.0)
    before = net._tree["projection"][0]["connect"]["pre"]
    with pytest.raises(ValueError):
        with net._deferred():
            net.add_edges("a", "zz", [0], [0], weight=1.0)
    assert net._tree["projection"][0]["connect"]["pre"] is before
    assert len(net._tree["projection"]) == 1


def test_a_million_edges_are_not_converted_element_by_element():
    import time

    n, m = 10_000, 1_000_000
    rng = np.random.default_rng(1)
    pre, post = rng.integers(0, n, m), rng.integers(0, n, m)
    w = rng.uniform(0.0, 10.0, m)
    net = galvani.Network()
    net.add_population("a", n)
    t0 = time.perf_counter()
    net.add_edges("a", "a", pre, post, weight=w)
    net.validate()
    dt = time.perf_counter() - t0
    # a per-element TOML tree of 2 * 10^6 ints and 10^6 floats takes seconds
    assert dt < 1.0, dt
    sim = galvani.Simulation(net, backend="cpu")
    assert 0 < sim.synapses <= m


def stub_names():
    tree = ast.parse((pathlib.Path(galvani.__file__).parent / "_native.pyi").read_text())
    top, methods = set(), set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            top.add(node.name)
        elif isinstance(node, ast.ClassDef):
            top.add(node.name)
            methods |= {f"{node.name}.{x.name}" for x in node.body if isinstance(x, ast.FunctionDef)}
        elif isinstance(node, ast.AnnAssign):
            top.add(node.target.id)
    return top, methods


def test_the_stubs_cover_the_extension():
    top, methods = stub_names()
    exported = {k for k in dir(_native) if not k.startswith("__") or k == "__version__"}
    exported -= {"_native"}
    assert exported <= top, exported - top
    real = {f"_Simulation.{k}" for k in vars(_native._Simulation) if not k.startswith("__")}
    real.add("_Simulation.__init__")
    assert real == methods, real ^ methods
    here = pathlib.Path(galvani.__file__).parent
    assert (here / "py.typed").exists()


def test_every_public_name_is_importable_from_galvani():
    for name in ("Network", "Simulation", "load", "run_config", "resume", "compare",
                 "Comparison", "SOURCE", "Value", "__version__"):
        assert hasattr(galvani, name), name
    from galvani.network import Network, load  # noqa: F401
    from galvani.simulation import Comparison, Simulation, compare, resume, run_config  # noqa: F401
    assert galvani.Network is Network and galvani.__version__ == _native.__version__
    for name in galvani.__all__:
        assert getattr(galvani, name) is not None
