"""Source populations and current stimuli through galvani.Network / Simulation."""

import numpy as np
import pytest

import galvani


def _net():
    net = galvani.Network(dt_ms=0.1, seed=3)
    net.add_population("s", 2, model="spike_source", spike_times=[[1.0, 4.0], np.array([2.5])])
    net.add_population("p", 50, model="poisson_source",
                       params={"rate_hz": 100.0, "start_ms": 10.0})
    net.add_population("n", 2, synapse="delta", params={"tau_m_ms": 1e9, "v_th_mv": 100.0})
    net.add_edges("s", "n", [0, 1], [0, 1], weight=1.0, delay_ms=1.0)
    net.add_stimulus("step_current", "n", neurons=[1], times_ms=[20.0, 30.0],
                     amplitudes_pa=[100.0, 0.0])
    net.record_voltage("n")
    return net


def test_sources_and_currents_from_python():
    sim = galvani.Simulation(_net(), backend="cpu", precision="f64")
    sim.run(10.0)
    t, n = sim.spikes("s")
    assert list(t) == [1.0, 2.5, 4.0] and list(n) == [0, 1, 0]
    assert len(sim.spikes("p")[0]) == 0  # the Poisson sources start at 10 ms
    sim.set_spike_times("s", [[12.0], []])
    sim.set("p", "rate_hz", 0.0)
    sim.set_current(0, [15.0], [50.0])
    sim.run(30.0)
    t, n = sim.spikes("s")
    assert list(t) == [1.0, 2.5, 4.0, 12.0]
    assert len(sim.spikes("p")[0]) == 0
    assert [list(x) for x in sim.spike_times("s")] == [[12.0], []]
    tv, nv, v = sim.voltages("n")
    v1 = v[nv == 1]
    # only the 2.5 ms spike before the current (tau_m = 1e9 ms: no visible leak)
    assert np.allclose(v1[tv[nv == 1] <= 15.0 + 1e-9][-3:], v1[0] + 1.0, atol=1e-6)
    assert v1[-1] > v1[0] + 1.5  # 50 pA from 15 ms on


def test_bad_source_input_raises_value_error():
    net = galvani.Network(dt_ms=0.1)
    with pytest.raises(ValueError, match=r"spike_times\[0\]\[1\]: expected a finite time >= 0 ms"):
        net.add_population("s", 1, model="spike_source", spike_times=[[1.0, -1.0]])
    sim = galvani.Simulation(_net(), backend="cpu")
    with pytest.raises(ValueError, match="expected one list of spike times per neuron"):
        sim.set_spike_times("s", [[1.0]])
    with pytest.raises(ValueError, match="ascending"):
        sim.set_current(0, [5.0, 1.0], [1.0, 2.0])


def test_deferred_validation_checks_once_at_the_end():
    net = galvani.Network(dt_ms=0.1)
    net.add_population("a", 3)
    with pytest.raises(ValueError, match="unknown population 'b'"):
        with net._deferred():
            net.add_edges("a", "b", [0], [0], weight=1.0)  # not checked yet
            net.add_population("c", 2)
    assert net.populations == ["a"]  # nothing of the block is kept
    with net._deferred():
        net.add_population("b", 2)
        net.add_edges("a", "b", [0, 2], [1, 1], weight=1.0)
    assert net.populations == ["a", "b"]
