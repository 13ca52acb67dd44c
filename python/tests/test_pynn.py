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


def test_unsupported_models_say_so():
    sim.setup()
    with pytest.raises(NotImplementedError, match="IF_curr_alpha"):
        sim.Population(1, sim.IF_curr_alpha())
    with pytest.raises(NotImplementedError, match="TsodyksMarkramSynapse"):
        sim.TsodyksMarkramSynapse()
    with pytest.raises(NotImplementedError, match="IF_cond_alpha"):
        sim.IF_cond_alpha()
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
