"""PyNN's standard models in galvani's terms.

Each cell type translates PyNN's names and units (ms, nF, mV, nA, µS, Hz) into the
parameters of a galvani population (``tau_m_ms``, ``c_m_pf``, ..., pA, pF, nS):

======================  =================================  ===========================
PyNN                    galvani                            conversion
======================  =================================  ===========================
tau_m (ms)              tau_m_ms                           1
cm (nF)                 c_m_pf                             × 1000
v_rest (mV)             e_l_mv                             1
v_thresh (mV)           v_th_mv                            1
v_reset (mV)            v_reset_mv                         1
tau_refrac (ms)         t_ref_ms                           1
i_offset (nA)           i_e_pa                             × 1000
tau_syn_E / tau_syn_I   tau_ampa_ms / tau_gaba_a_ms        1
e_rev_E / e_rev_I (mV)  e_ampa_mv / e_gaba_a_mv            1
weight (nA, µS, mV)     projection weight (pA, nS, mV)     × 1000 (× 1 for delta)
======================  =================================  ===========================
"""

import numpy as np

from pyNN.parameters import ParameterSpace, Sequence
from pyNN.standardmodels import build_translations, cells, electrodes, synapses
from pyNN import errors

from .simulator import state


class _Neuron:
    """What a galvani LIF population needs besides the translated parameters."""

    galvani_model = "lif"
    galvani_synapse = "exp_current"
    #: multiplies PyNN weights into galvani's units
    weight_scale = 1000.0


class IF_curr_exp(_Neuron, cells.IF_curr_exp):
    __doc__ = cells.IF_curr_exp.__doc__
    translations = build_translations(
        ("tau_m", "tau_m_ms"),
        ("cm", "c_m_pf", 1000.0),
        ("v_rest", "e_l_mv"),
        ("v_thresh", "v_th_mv"),
        ("v_reset", "v_reset_mv"),
        ("tau_refrac", "t_ref_ms"),
        ("i_offset", "i_e_pa", 1000.0),
        ("tau_syn_E", "tau_ampa_ms"),
        ("tau_syn_I", "tau_gaba_a_ms"),
    )
    state_variable_translations = build_translations(("v", "v_mv"))


class IF_cond_exp(_Neuron, cells.IF_cond_exp):
    __doc__ = cells.IF_cond_exp.__doc__
    galvani_synapse = "exp_conductance"
    translations = build_translations(
        ("tau_m", "tau_m_ms"),
        ("cm", "c_m_pf", 1000.0),
        ("v_rest", "e_l_mv"),
        ("v_thresh", "v_th_mv"),
        ("v_reset", "v_reset_mv"),
        ("tau_refrac", "t_ref_ms"),
        ("i_offset", "i_e_pa", 1000.0),
        ("tau_syn_E", "tau_ampa_ms"),
        ("tau_syn_I", "tau_gaba_a_ms"),
        ("e_rev_E", "e_ampa_mv"),
        ("e_rev_I", "e_gaba_a_mv"),
    )
    state_variable_translations = build_translations(("v", "v_mv"))


class IF_curr_delta(_Neuron, cells.IF_curr_delta):
    __doc__ = cells.IF_curr_delta.__doc__
    galvani_synapse = "delta"
    weight_scale = 1.0
    translations = build_translations(
        ("tau_m", "tau_m_ms"),
        ("cm", "c_m_pf", 1000.0),
        ("v_rest", "e_l_mv"),
        ("v_thresh", "v_th_mv"),
        ("v_reset", "v_reset_mv"),
        ("tau_refrac", "t_ref_ms"),
        ("i_offset", "i_e_pa", 1000.0),
    )
    state_variable_translations = build_translations(("v", "v_mv"))


class SpikeSourcePoisson(cells.SpikeSourcePoisson):
    __doc__ = cells.SpikeSourcePoisson.__doc__
    galvani_model = "poisson_source"
    translations = build_translations(
        ("rate", "rate_hz"),
        ("start", "start_ms"),
        ("duration", "duration_ms"),
    )


class SpikeSourceArray(cells.SpikeSourceArray):
    __doc__ = cells.SpikeSourceArray.__doc__
    galvani_model = "spike_source"
    translations = build_translations(("spike_times", "spike_times"))


class StaticSynapse(synapses.StaticSynapse):
    __doc__ = synapses.StaticSynapse.__doc__
    translations = build_translations(("weight", "weight"), ("delay", "delay"))

    def _get_minimum_delay(self):
        return state.min_delay


# -- current sources ------------------------------------------------------------------


class _CurrentSource:
    """A galvani step current per population it is injected into; parameter changes
    between runs go to the running simulation (``Simulation.set_current``)."""

    def __init__(self, **parameters):
        object.__setattr__(self, "targets", [])  # (population, local indices)
        object.__setattr__(self, "stimuli", [])
        object.__setattr__(self, "_native", {})
        ps = ParameterSpace(self.default_parameters, self.get_schema(), shape=(1,))
        ps.update(**parameters)
        self.set_native_parameters(self.translate(ps))
        state.current_sources.append(self)

    def inject_into(self, cells):
        from .populations import _split_cells

        for pop, idx in _split_cells(cells):
            if not pop.celltype.injectable:
                raise TypeError("Can't inject current into a spike source.")
            state.changed("injecting a current")
            self.targets.append((pop, idx))

    def set_native_parameters(self, parameters):
        parameters.evaluate(simplify=True)
        new = dict(self._native)
        for name, value in parameters.items():
            if isinstance(value, Sequence):
                value = value.value
            elif isinstance(value, np.ndarray) and value.dtype == object:
                value = value[0].value if isinstance(value[0], Sequence) else value[0]
            new[name] = value
        self._native.clear()
        self._native.update(self._normalise(new))
        if state.sim is not None and not state.dirty:
            times, amps = self._steps()
            for i in self.stimuli:
                state.sim.set_current(i, times, amps)

    def get_native_parameters(self):
        return ParameterSpace(dict(self._native))

    def _normalise(self, values):
        return values

    def _add_to(self, net):
        times, amps = self._steps()
        self.stimuli.clear()
        for pop, idx in self.targets:
            self.stimuli.append(len(state.stimuli))
            state.stimuli.append(self)
            net.add_stimulus(
                "step_current",
                pop._gname,
                neurons=np.asarray(idx, dtype=np.int64),
                times_ms=times,
                amplitudes_pa=amps,
            )

    def record(self):
        pass  # the current is a function of the schedule: _get_data computes it

    def _get_data(self):
        """The injected current (nA) at every step from 0 to now: the amplitude that acts
        during the step that starts there."""
        dt = state.dt
        n = int(round(state.t / dt)) + 1
        t = np.arange(n) * dt
        times, amps = self._steps()
        i = np.zeros(n)
        k = np.rint(np.asarray(times) / dt).astype(int)
        for j, (kk, a) in enumerate(zip(k, amps)):
            end = k[j + 1] if j + 1 < len(k) else n
            i[min(kk, n):min(end, n)] = a / 1000.0
        return t, i


def _grid(t):
    return np.rint(np.asarray(t, dtype=float) / state.dt) * state.dt


class DCSource(_CurrentSource, electrodes.DCSource):
    __doc__ = electrodes.DCSource.__doc__
    translations = build_translations(
        ("amplitude", "amplitude"), ("start", "start"), ("stop", "stop")
    )

    def _steps(self):
        p = self._native
        a, start, stop = float(p["amplitude"]), float(p["start"]), float(p["stop"])
        start = max(float(_grid(start)), 0.0)
        stop = max(float(_grid(stop)), start)
        return np.array([start, stop]), np.array([a * 1000.0, 0.0])


class StepCurrentSource(_CurrentSource, electrodes.StepCurrentSource):
    __doc__ = electrodes.StepCurrentSource.__doc__
    translations = build_translations(("amplitudes", "amplitudes"), ("times", "times"))

    def _normalise(self, values):
        times = np.asarray(values.get("times", []), dtype=float).reshape(-1)
        amps = np.asarray(values.get("amplitudes", []), dtype=float).reshape(-1)
        if times.size != amps.size:
            raise ValueError("StepCurrentSource: times and amplitudes must have the same length")
        if np.any(times < 0):
            raise ValueError("StepCurrentSource: times must be >= 0")
        if np.any(np.diff(times) < 0):
            raise ValueError("StepCurrentSource: times must be in increasing order")
        times = _grid(times)
        # several changes in one step: the last one holds
        keep = np.append(np.diff(times) > 0, True) if times.size else np.zeros(0, bool)
        return {"times": times[keep], "amplitudes": amps[keep]}

    def _steps(self):
        times = np.asarray(self._native["times"], dtype=float)
        amps = np.asarray(self._native["amplitudes"], dtype=float) * 1000.0
        return times, amps


def _unsupported(kind, cls):
    """A PyNN model galvani lacks: using it raises NotImplementedError naming it."""

    def __init__(self, *args, **kwargs):
        raise NotImplementedError(
            f"galvani.pynn does not support the {kind} {cls.__name__}; supported: "
            "IF_curr_exp, IF_cond_exp, IF_curr_delta, SpikeSourceArray, SpikeSourcePoisson, "
            "DCSource, StepCurrentSource, StaticSynapse"
        )

    return type(cls.__name__, (cls,), {"__init__": __init__, "__doc__": cls.__doc__})


_UNSUPPORTED_CELLS = [
    "IF_curr_alpha", "IF_cond_alpha", "IF_facets_hardware1", "HH_cond_exp", "EIF_cond_alpha_isfa_ista",
    "EIF_cond_exp_isfa_ista", "IF_cond_exp_gsfa_grr", "Izhikevich", "SpikeSourceGamma",
    "SpikeSourceInhGamma", "SpikeSourcePoissonRefractory", "GIF_cond_exp", "IF_curr_dual_exp",
    "PointNeuron", "LIF", "AdExp",
]
_UNSUPPORTED_OTHER = [
    (electrodes, "ACSource", "current source"),
    (electrodes, "NoisyCurrentSource", "current source"),
    (synapses, "TsodyksMarkramSynapse", "synapse type"),
    (synapses, "STDPMechanism", "synapse type"),
    (synapses, "ElectricalSynapse", "synapse type"),
    (synapses, "SimpleStochasticSynapse", "synapse type"),
    (synapses, "StochasticTsodyksMarkramSynapse", "synapse type"),
    (synapses, "MultiQuantalSynapse", "synapse type"),
    (synapses, "MultiplicativeWeightDependence", "weight dependence"),
    (synapses, "AdditiveWeightDependence", "weight dependence"),
    (synapses, "AdditivePotentiationMultiplicativeDepression", "weight dependence"),
    (synapses, "GutigWeightDependence", "weight dependence"),
    (synapses, "SpikePairRule", "timing dependence"),
    (synapses, "Vogels2011Rule", "timing dependence"),
]

for _n in _UNSUPPORTED_CELLS:
    if hasattr(cells, _n):
        globals()[_n] = _unsupported("cell type", getattr(cells, _n))
for _m, _n, _k in _UNSUPPORTED_OTHER:
    if hasattr(_m, _n):
        globals()[_n] = _unsupported(_k, getattr(_m, _n))
