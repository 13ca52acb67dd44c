"""galvani.pynn against closed forms and PyNN's conventions (PyNN's own scenario tests
run separately: tools/pynn_scenarios.py)."""

import numpy as np
import pytest

sim = pytest.importorskip("galvani.pynn")


def test_units_dc_offset_charges_the_membrane_exactly():
    """i_offset 0.5 nA into cm = 0.25 nF, tau_m = 10 ms: V = v_rest + R·I(1 − e^(−t/τ)),
    R = τ/C = 40 MΩ, so 20 mV at steady state (nA and nF translated to pA and pF)."""
    sim.setup(timestep=0.1)
    p = sim.Population(1, sim.IF_curr_exp(i_offset=0.5, cm=0.25, tau_m=10.0,
                                         v_rest=-65.0, v_thresh=0.0))
    p.record("v")
    sim.run(50.0)
    v = p.get_data().segments[0].analogsignals[0]
    t = v.times.magnitude
    assert v.shape == (501, 1) and t[0] == 0.0
    exact = -65.0 + 20.0 * (1.0 - np.exp(-t / 10.0))
    assert np.max(np.abs(v.magnitude[:, 0] - exact)) < 1e-9
    sim.end()


def test_spike_source_array_delivers_after_the_delay():
    """A SpikeSourceArray spike at t reaches an IF_curr_delta cell (weight in mV) at
    t + delay exactly; the source's recorded train is the given times; a reset starts a
    new segment and replays the same."""
    sim.setup(timestep=0.1)
    # two cells each: PyNN 0.13's OneToOneConnector fails on one-cell populations
    # with numpy 2 (a 0-d mask)
    src = sim.Population(2, sim.SpikeSourceArray(spike_times=[5.0, 12.3]))
    post = sim.Population(2, sim.IF_curr_delta(tau_m=1e9, v_rest=-65.0, v_thresh=0.0))
    sim.Projection(src, post, sim.OneToOneConnector(),
                   sim.StaticSynapse(weight=2.0, delay=1.5))
    src.record("spikes")
    post.record("v")
    for _ in range(2):
        sim.run(20.0)
        sim.reset()
    blk = src.get_data()
    assert len(blk.segments) == 2
    for seg in blk.segments:
        assert list(seg.spiketrains[0].magnitude) == [5.0, 12.3]
    v = post.get_data().segments[1].analogsignals[0].magnitude[:, 1]
    jumps = np.flatnonzero(np.diff(v) > 1.0) + 1
    assert list(jumps) == [65, 138]  # 6.5 ms and 13.8 ms
    assert abs(v[-1] - (-61.0)) < 1e-6
    sim.end()


def test_if_curr_alpha_psp_is_the_closed_form():
    """IF_curr_alpha (NEST iaf_psc_alpha): a weight of 0.1 nA is the current's peak, at
    tau_syn after the arrival; V - v_rest = w·e/(cm·τ_s·a²)·(e^(−s/τ_m) − e^(−s/τ_s)(1 + a s)),
    a = 1/τ_s − 1/τ_m, s = t − arrival."""
    sim.setup(timestep=0.1)
    src = sim.Population(2, sim.SpikeSourceArray(spike_times=[5.0]))
    post = sim.Population(2, sim.IF_curr_alpha(tau_m=20.0, cm=0.25, v_rest=-65.0,
                                               v_thresh=0.0, tau_syn_E=2.0))
    sim.Projection(src, post, sim.OneToOneConnector(),
                   sim.StaticSynapse(weight=0.1, delay=1.0))
    post.record("v")
    sim.run(40.0)
    v = post.get_data().segments[0].analogsignals[0]
    t = v.times.magnitude
    s = np.maximum(t - 6.0, 0.0)
    w, c, tm, ts = 100.0, 250.0, 20.0, 2.0
    a = 1.0 / ts - 1.0 / tm
    exact = -65.0 + w * np.e / (c * ts * a * a) * (np.exp(-s / tm) - np.exp(-s / ts) * (1 + a * s))
    assert np.max(np.abs(v.magnitude[:, 0] - exact)) < 1e-9
    assert 12.0 < t[np.argmax(v.magnitude[:, 0])] < 16.0  # a rise over ~8 ms, not a jump
    sim.end()


def test_unsupported_models_say_so():
    sim.setup()
    with pytest.raises(NotImplementedError, match="SpikeSourceGamma"):
        sim.Population(1, sim.SpikeSourceGamma())
    with pytest.raises(NotImplementedError, match="TsodyksMarkramSynapse"):
        sim.TsodyksMarkramSynapse()
    with pytest.raises(NotImplementedError, match="GIF_cond_exp"):
        sim.GIF_cond_exp()
    sim.end()


def test_gsyn_of_a_conductance_cell_in_microsiemens():
    """A spike of weight 0.003 µS reaches an IF_cond_exp cell at t + delay: gsyn_inh is
    0.003 µS there and decays with tau_syn_I; gsyn_exc stays 0."""
    sim.setup(timestep=0.1)
    src = sim.Population(2, sim.SpikeSourceArray(spike_times=[5.0]))
    post = sim.Population(2, sim.IF_cond_exp(tau_syn_I=8.0))
    sim.Projection(src, post, sim.OneToOneConnector(),
                   sim.StaticSynapse(weight=0.003, delay=2.0), receptor_type="inhibitory")
    post.record(["gsyn_exc", "gsyn_inh", "v"])
    sim.run(30.0)
    seg = post.get_data().segments[0]
    sig = {s.name: s for s in seg.analogsignals}
    assert str(sig["gsyn_inh"].units.dimensionality) == "uS"
    g = sig["gsyn_inh"].magnitude[:, 0]
    t = sig["gsyn_inh"].times.magnitude
    exact = np.where(t < 7.0 - 1e-9, 0.0, 0.003 * np.exp(-(t - 7.0) / 8.0))
    assert np.max(np.abs(g - exact)) < 1e-12
    assert np.all(sig["gsyn_exc"].magnitude == 0.0)
    assert sig["v"].magnitude[-1, 0] < -65.0  # inhibited below rest
    sim.end()


def test_ac_source_is_a_new_step_every_step():
    """ACSource: offset + amplitude·sin(2π f (t − start) + phase) on [start, stop), one
    value per step, across runs; the membrane of a cell at rest follows the current
    from the step after it starts."""
    sim.setup(timestep=0.1)
    cells = sim.Population(2, sim.IF_curr_exp(v_thresh=0.0))
    ac = sim.ACSource(start=10.0, stop=30.0, amplitude=0.5, offset=0.1, frequency=50.0,
                      phase=90.0)
    ac.inject_into(cells[0:1])
    cells.record("v")
    sim.run(15.0)
    sim.run(25.0)
    i = ac.get_data()
    t = i.times.magnitude
    exact = np.where((t >= 10.0 - 1e-9) & (t < 30.0 - 1e-9),
                     0.1 + 0.5 * np.sin(2 * np.pi * 50.0 * (t - 10.0) / 1000.0 + np.pi / 2), 0.0)
    assert np.max(np.abs(i.magnitude[:, 0] - exact)) < 1e-12
    v = cells.get_data().segments[0].analogsignals[0].magnitude
    assert np.all(v[:101, 0] == -65.0) and v[101, 0] > -65.0
    assert np.all(v[:, 1] == -65.0)
    sim.end()


def test_noisy_current_is_the_same_however_the_runs_are_split():
    """NoisyCurrentSource: a new value every dt on [start, stop) with the given mean and
    stdev, identical for one run and for three pieces."""
    traces = []
    for pieces in ([300.0], [70.0, 100.0, 130.0]):
        sim.setup(timestep=0.1, seed=5)
        cells = sim.Population(2, sim.IF_curr_exp(v_thresh=0.0))
        noise = sim.NoisyCurrentSource(mean=0.2, stdev=0.05, start=20.0, stop=280.0, dt=1.0)
        noise.inject_into(cells)
        cells.record("v")
        for ms in pieces:
            sim.run(ms)
        i = noise.get_data().magnitude[:, 0]
        v = cells.get_data().segments[0].analogsignals[0].magnitude
        traces.append((i, v))
        sim.end()
    (i, v), (i2, v2) = traces
    assert np.array_equal(i, i2) and np.array_equal(v, v2)
    on = i[200:2800]
    assert np.all(i[:200] == 0) and np.all(i[2800:] == 0)
    vals = on[::10]
    assert np.all(on.reshape(-1, 10) == vals[:, None])  # constant over each ms
    assert abs(vals.mean() - 0.2) < 4 * 0.05 / np.sqrt(vals.size)
    assert abs(vals.std() - 0.05) < 0.01


# -- connectors on galvani's own rules ------------------------------------------------------


def _built_projections():
    """The [[projection]] tables of the network galvani.pynn builds (run(0) builds it)."""
    sim.run(0.0)
    return sim.simulator.state.net.to_dict()["projection"]


def test_standard_connectors_map_to_native_rules():
    """Without an rng (or with NativeRNG), the standard connectors become galvani's rules,
    weights converted to galvani's units (nA → pA, µS → nS) and distributions included;
    no Python array per connection."""
    from pyNN.random import RandomDistribution as RD

    sim.setup(timestep=0.1)
    a = sim.Population(40, sim.IF_curr_exp())
    b = sim.Population(30, sim.IF_cond_exp())
    c = sim.Population(30, sim.IF_cond_exp())
    syn = sim.StaticSynapse(weight=0.5, delay=1.0)
    cases = [
        (a, a, sim.AllToAllConnector(allow_self_connections=False),
         {"rule": "all_to_all", "autapses": False}),
        (b, c, sim.OneToOneConnector(), {"rule": "one_to_one"}),
        (a, a, sim.FixedProbabilityConnector(0.1),
         {"rule": "fixed_probability", "p": 0.1, "autapses": True}),
        (a, b, sim.FixedNumberPreConnector(5, with_replacement=True),
         {"rule": "fixed_indegree", "k": 5, "autapses": True, "multapses": True}),
        (a, a, sim.FixedNumberPostConnector(3, allow_self_connections=False),
         {"rule": "fixed_outdegree", "k": 3, "autapses": False, "multapses": False}),
        (a, b, sim.FixedTotalNumberConnector(77),
         {"rule": "fixed_total_number", "n": 77, "autapses": True, "multapses": True}),
        (a, b, sim.FixedProbabilityConnector(0.2, rng=sim.NativeRNG(seed=9)),
         {"rule": "fixed_probability", "p": 0.2, "autapses": True}),
    ]
    for pre, post, connector, _ in cases:
        sim.Projection(pre, post, connector, syn)
    sim.Projection(a, b, sim.FixedProbabilityConnector(0.5), sim.StaticSynapse(
        weight=RD("uniform", (0.001, 0.002)), delay=RD("normal_clipped", (1.0, 0.2, 0.5, 2.0))))
    sim.Projection(a, c, sim.AllToAllConnector(), sim.StaticSynapse(
        weight=RD("lognormal", (-6.0, 0.5)), delay=RD("uniform", (0.5, 1.5))),
        receptor_type="inhibitory")
    built = _built_projections()
    assert len(built) == len(cases) + 2
    for (pre, post, _, rule), pr in zip(cases, built):
        assert pr["connect"] == rule
        assert (pr["pre"], pr["post"]) == (pre._gname, post._gname)
        assert pr["weight"] == 500.0 and pr["delay_ms"] == 1.0
    assert built[-2]["weight"] == {"uniform": [1.0, 2.0]}
    assert built[-2]["delay_ms"] == {"normal": [1.0, 0.2], "min": 0.5, "max": 2.0}
    w = built[-1]["weight"]["lognormal"]
    assert abs(w[0] - (-6.0 + np.log(1000.0))) < 1e-12 and w[1] == 0.5
    assert built[-1]["receptor"] == "gaba_a"
    # the numbers of connections are the rules' (fixed_probability: about p·n_pre·n_post)
    assert [len(prj) for prj in sim.simulator.state.projections[:2]] == [40 * 39, 30]
    counts = sim.simulator.state.sim.synapses
    assert counts > 0
    sim.end()


def test_native_fixed_probability_draws_about_p():
    sim.setup(timestep=0.1, seed=3)
    p = sim.Population(400, sim.IF_curr_exp())
    sim.Projection(p, p, sim.FixedProbabilityConnector(0.1), sim.StaticSynapse(weight=0.1))
    sim.run(0.0)
    n = sim.simulator.state.sim.synapses
    assert abs(n - 16000) < 5 * np.sqrt(16000 * 0.9)
    sim.end()


def test_what_galvani_cannot_draw_falls_back_to_edges():
    """A script's own NumpyRNG, connectors without a rule, views, weight arrays and
    distributions galvani lacks (or that draw both signs) are drawn by PyNN (edges)."""
    from pyNN.random import NumpyRNG, RandomDistribution as RD

    sim.setup(timestep=0.1)
    a = sim.Population(20, sim.IF_curr_exp())
    sim.Projection(a, a, sim.FixedProbabilityConnector(0.3, rng=NumpyRNG(seed=1)))
    sim.Projection(a, a, sim.FromListConnector([(0, 1), (2, 3)]))
    sim.Projection(a[0:5], a, sim.AllToAllConnector())
    sim.Projection(a, a, sim.AllToAllConnector(), sim.StaticSynapse(weight=np.ones((20, 20))))
    sim.Projection(a, a, sim.AllToAllConnector(),
                   sim.StaticSynapse(weight=RD("normal", (0.5, 0.1))))  # both signs
    sim.Projection(a, a, sim.AllToAllConnector(),
                   sim.StaticSynapse(weight=RD("gamma", (2.0, 0.1))))
    sim.Projection(a, a, sim.AllToAllConnector(),
                   sim.StaticSynapse(weight=RD("uniform", (0.1, 0.2), rng=NumpyRNG(seed=2))))
    assert [pr["connect"]["rule"] for pr in _built_projections()] == ["edges"] * 7
    sim.end()


def test_native_rng_is_exported():
    """pyNN.nest's NativeRNG convention (PyNN's examples/random_numbers.py): connections
    and weights with NativeRNG are galvani's; reading them before the run draws them in
    Python, and the network simulates what was read."""
    import pyNN.random
    from galvani.pynn import NativeRNG
    from pyNN.random import RandomDistribution

    assert issubclass(NativeRNG, pyNN.random.NativeRNG)
    sim.setup()
    native_rng = NativeRNG(seed=87354762)
    p1 = sim.Population(10, sim.SpikeSourcePoisson(rate=100.0))
    p2 = sim.Population(10, sim.IF_cond_exp())
    syn = sim.StaticSynapse(
        weight=RandomDistribution("normal_clipped", mu=0.5, sigma=0.01, low=0.0, high=1.0,
                                  rng=native_rng), delay=0.5)
    prj = sim.Projection(p1, p2, sim.FixedProbabilityConnector(p_connect=0.7, rng=native_rng),
                         syn)
    w = prj.get("weight", format="array")
    assert w.shape == (10, 10) and np.all((w[~np.isnan(w)] > 0.4) & (w[~np.isnan(w)] < 0.6))
    sim.run(10.0)
    built = sim.simulator.state.net.to_dict()["projection"][0]
    assert built["connect"]["rule"] == "edges"
    assert np.allclose(np.sort(built["connect"]["weight"]), np.sort(w[~np.isnan(w)]) * 1000.0)
    sim.end()


def test_native_connections_cannot_be_read_after_the_run():
    sim.setup()
    p = sim.Population(50, sim.IF_curr_exp())
    rand = sim.Projection(p, p, sim.FixedProbabilityConnector(0.2))
    exact = sim.Projection(p, p, sim.AllToAllConnector(), sim.StaticSynapse(weight=0.1))
    sim.run(5.0)
    with pytest.raises(NotImplementedError, match="NumpyRNG"):
        rand.get("weight", format="list")
    # all_to_all with constant values: PyNN's drawing is galvani's, readable any time
    assert len(exact.get("weight", format="list")) == 2500
    assert sim.simulator.state.net.to_dict()["projection"][1]["connect"]["rule"] == "all_to_all"
    sim.end()


def test_numpy_rng_connectors_keep_pynn_connections():
    """With a script's own NumpyRNG(seed), the connections, weights and delays are PyNN's,
    exactly as on PyNN's mock backend (any backend draws the same)."""
    import pyNN.mock as mock
    from pyNN.random import NumpyRNG, RandomDistribution as RD

    def draw(backend):
        backend.setup(timestep=0.1)
        a = backend.Population(30, backend.IF_curr_exp())
        b = backend.Population(25, backend.IF_curr_exp())
        syn = backend.StaticSynapse(weight=RD("normal", (0.5, 0.1), rng=NumpyRNG(seed=11)),
                                    delay=RD("uniform", (0.5, 2.0), rng=NumpyRNG(seed=12)))
        prjs = [
            backend.Projection(a, b, backend.FixedProbabilityConnector(0.2, rng=NumpyRNG(seed=1)), syn),
            backend.Projection(a, a, backend.FixedNumberPreConnector(
                4, allow_self_connections=False, rng=NumpyRNG(seed=2)), syn),
            backend.Projection(a, b, backend.FixedNumberPostConnector(
                3, with_replacement=True, rng=NumpyRNG(seed=3)), syn),
            backend.Projection(b, a, backend.FixedTotalNumberConnector(40, rng=NumpyRNG(seed=4)), syn),
        ]
        out = [sorted(prj.get(["weight", "delay"], format="list")) for prj in prjs]
        backend.end()
        return out

    ours, theirs = draw(sim), draw(mock)
    for x, y in zip(ours, theirs):
        assert len(x) == len(y) > 0
        xa, ya = np.array(x, dtype=float), np.array(y, dtype=float)
        assert np.array_equal(xa[:, :3], ya[:, :3])  # pre, post, weight
        # delays: rounded to the time step here
        assert np.allclose(xa[:, 3], np.maximum(np.round(ya[:, 3] / 0.1) * 0.1, 0.1))


def test_not_implemented_messages_list_their_own_kind():
    from galvani.pynn.standardmodels import unsupported_message

    cells = ("IF_curr_exp, IF_curr_alpha, IF_cond_exp, IF_cond_alpha, IF_curr_delta, Izhikevich, "
             "EIF_cond_exp_isfa_ista, EIF_cond_alpha_isfa_ista, HH_cond_exp, "
             "SpikeSourceArray, SpikeSourcePoisson")
    sim.setup()
    with pytest.raises(NotImplementedError) as e:
        sim.GIF_cond_exp()
    assert str(e.value) == ("galvani.pynn does not support the cell type GIF_cond_exp; "
                            f"supported cell types: {cells}")
    with pytest.raises(NotImplementedError) as e:
        sim.TsodyksMarkramSynapse()
    assert str(e.value).endswith("supported synapse types: StaticSynapse")
    assert "IF_curr_exp" not in str(e.value) and "DCSource" not in str(e.value)
    with pytest.raises(NotImplementedError) as e:
        sim.SpikePairRule()
    assert "SpikePairRule" in str(e.value) and str(e.value).endswith(
        "supported synapse types: StaticSynapse")
    msg = unsupported_message("current source", "FancySource")
    assert msg.endswith(
        "supported current sources: DCSource, StepCurrentSource, ACSource, NoisyCurrentSource")
    assert "IF_curr_exp" not in msg and "StaticSynapse" not in msg
    sim.end()


def test_native_projection_set_and_len():
    """Numbers (and distributions galvani draws) set on a native projection change its
    rule; len of fixed-size rules needs no drawing; after a run, even across reset, the
    drawn connections of a random rule cannot be read, those of all_to_all can."""
    sim.setup(timestep=0.1)
    p = sim.Population(30, sim.IF_curr_exp())
    fixed = sim.Projection(p, p, sim.FixedNumberPreConnector(5), sim.StaticSynapse(weight=0.1))
    full = sim.Projection(p, p, sim.AllToAllConnector(), sim.StaticSynapse(weight=0.1))
    assert len(fixed) == 150 and len(full) == 900
    fixed.set(weight=0.2, delay=1.5)
    built = _built_projections()
    assert built[0]["connect"]["rule"] == "fixed_indegree"
    assert (built[0]["weight"], built[0]["delay_ms"]) == (200.0, 1.5)
    sim.run(5.0)
    sim.reset()
    with pytest.raises(NotImplementedError, match="fixed_indegree"):
        fixed.get("weight", format="list")
    full.set(weight=np.arange(900.0).reshape(30, 30) / 1000.0)  # arrays: drawn in Python
    sim.run(1.0)
    built = sim.simulator.state.net.to_dict()["projection"]
    assert [b["connect"]["rule"] for b in built] == ["fixed_indegree", "edges"]
    assert sorted(built[1]["connect"]["weight"]) == list(np.arange(900.0))
    sim.end()


def test_izhikevich_matches_nests_update_and_records_u():
    """PyNN's Izhikevich is NEST's izhikevich: i_offset in nA (× 1000 into I_e), weights
    are jumps of V in mV, v and u recordable; one step by hand from the defaults."""
    sim.setup(timestep=0.1)
    src = sim.Population(2, sim.SpikeSourceArray(spike_times=[5.0]))
    p = sim.Population(2, sim.Izhikevich(a=0.02, b=0.2, c=-65.0, d=6.0, i_offset=0.0))
    sim.Projection(src, p, sim.OneToOneConnector(), sim.StaticSynapse(weight=3.0, delay=1.0))
    p.record(["v", "u", "spikes"])
    sim.run(10.0)
    seg = p.get_data().segments[0]
    sig = {s.name: s.magnitude[:, 0] for s in seg.analogsignals}
    assert sig["v"][0] == -70.0 and sig["u"][0] == -14.0
    dv = 0.04 * -70.0 * -70.0 + 5.0 * -70.0 + 140.0 - -14.0
    assert sig["v"][1] == pytest.approx(-70.0 + 0.1 * dv, abs=1e-12)
    # the 3 mV jump arrives at 6.0 ms (step 60)
    d = np.diff(sig["v"])
    assert np.argmax(d) == 60 - 1 and d.max() > 2.9
    sim.end()
    sim.setup(timestep=0.1)
    q = sim.Population(1, sim.Izhikevich(i_offset=0.01))  # 10 in I_e: tonic spiking
    q.initialize(v=-65.0, u=-13.0)
    q.record("spikes")
    sim.run(200.0)
    assert len(q.get_data().segments[0].spiketrains[0]) > 3
    sim.end()


def test_eif_cond_alpha_isfa_ista_adapts_and_records_w_in_na():
    """EIF_cond_alpha_isfa_ista is galvani's adex with alpha conductances: b in nA (pA
    in galvani), w recorded in nA, the intervals lengthen (spike-triggered adaptation)."""
    sim.setup(timestep=0.1)
    p = sim.Population(1, sim.EIF_cond_alpha_isfa_ista(i_offset=1.0, b=0.1, tau_w=100.0))
    p.initialize(w=0.05)
    p.record(["v", "w", "spikes"])
    sim.run(300.0)
    seg = p.get_data().segments[0]
    w = {s.name: s for s in seg.analogsignals}["w"].magnitude[:, 0]
    assert w[0] == pytest.approx(0.05)  # nA, as initialised
    t = seg.spiketrains[0].magnitude
    assert len(t) >= 5
    isi = np.diff(t)
    assert isi[-1] > 1.5 * isi[0]
    assert w.max() > 0.1  # each spike adds b = 0.1 nA
    sim.end()


def test_hh_cond_exp_fires_with_pynn_units():
    """HH_cond_exp is NEST's hh_cond_exp_traub: µS and nF into nS and pF, i_offset nA
    into pA; PyNN's initial m = 0, h = 1, n = 0 (as pyNN.nest) reach galvani's state."""
    sim.setup(timestep=0.1)
    p = sim.Population(1, sim.HH_cond_exp(i_offset=0.2))
    p.record(["v", "spikes"])
    sim.run(100.0)
    seg = p.get_data().segments[0]
    v = seg.analogsignals[0].magnitude[:, 0]
    assert v[0] == -65.0 and v.max() > 0.0 and len(seg.spiketrains[0]) >= 3
    native = sim.simulator.state.sim
    assert native.get(p._gname, "h")[0] <= 1.0
    assert native.get(p._gname, "g_na_ns")[0] == 20000.0
    sim.end()
