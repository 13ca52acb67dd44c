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
a, b, c (mV), d         a, b, c_mv, d (Izhikevich)         1
EIF: a (nS), b (nA)     a_ns, b_pa (adex)                  1, × 1000
tau_m (EIF)             g_l_ns                             cm/tau_m × 1000
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


#: The translations every LIF cell type shares (PyNN name, galvani name, factor).
_LIF_COMMON = (
    ("tau_m", "tau_m_ms"),
    ("cm", "c_m_pf", 1000.0),
    ("v_rest", "e_l_mv"),
    ("v_thresh", "v_th_mv"),
    ("v_reset", "v_reset_mv"),
    ("tau_refrac", "t_ref_ms"),
    ("i_offset", "i_e_pa", 1000.0),
)
#: ... plus the synaptic time constants (exponential synapses)
_EXP_SYN = (("tau_syn_E", "tau_ampa_ms"), ("tau_syn_I", "tau_gaba_a_ms"))
#: ... plus the reversal potentials (conductance synapses)
_REVERSAL = (("e_rev_E", "e_ampa_mv"), ("e_rev_I", "e_gaba_a_mv"))
_V = ("v", "v_mv")


class IF_curr_exp(_Neuron, cells.IF_curr_exp):
    __doc__ = cells.IF_curr_exp.__doc__
    translations = build_translations(*_LIF_COMMON, *_EXP_SYN)
    state_variable_translations = build_translations(_V)


class IF_curr_alpha(_Neuron, cells.IF_curr_alpha):
    __doc__ = cells.IF_curr_alpha.__doc__
    # a weight is the current's peak (nA in PyNN, pA in galvani), as in NEST's
    # iaf_psc_alpha
    galvani_synapse = "alpha_current"
    translations = build_translations(*_LIF_COMMON, *_EXP_SYN)
    state_variable_translations = build_translations(_V)


class IF_cond_exp(_Neuron, cells.IF_cond_exp):
    __doc__ = cells.IF_cond_exp.__doc__
    galvani_synapse = "exp_conductance"
    translations = build_translations(*_LIF_COMMON, *_EXP_SYN, *_REVERSAL)
    state_variable_translations = build_translations(_V)


class IF_cond_alpha(_Neuron, cells.IF_cond_alpha):
    __doc__ = cells.IF_cond_alpha.__doc__
    # a weight is the conductance's peak (µS in PyNN, nS in galvani)
    galvani_synapse = "alpha_conductance"
    translations = build_translations(*_LIF_COMMON, *_EXP_SYN, *_REVERSAL)
    state_variable_translations = build_translations(_V)


class IF_curr_delta(_Neuron, cells.IF_curr_delta):
    __doc__ = cells.IF_curr_delta.__doc__
    galvani_synapse = "delta"
    weight_scale = 1.0
    translations = build_translations(*_LIF_COMMON)
    state_variable_translations = build_translations(_V)


class Izhikevich(_Neuron, cells.Izhikevich):
    __doc__ = cells.Izhikevich.__doc__
    # NEST's izhikevich: delta synapses, a weight is a jump of V in mV (as pyNN.nest,
    # which undoes PyNN's nA scaling for this model)
    galvani_model = "izhikevich"
    galvani_synapse = None
    weight_scale = 1.0
    translations = build_translations(
        ("a", "a"),
        ("b", "b"),
        ("c", "c_mv"),
        ("d", "d"),
        ("i_offset", "i_e_pa", 1000.0),
    )
    state_variable_translations = build_translations(_V, ("u", "u"))


#: The adaptive exponential cells (galvani's adex; pyNN.nest's translations).
_ADEX = (
    ("cm", "c_m_pf", 1000.0),
    ("tau_refrac", "t_ref_ms"),
    ("v_spike", "v_peak_mv"),
    ("v_reset", "v_reset_mv"),
    ("v_rest", "e_l_mv"),
    ("tau_m", "g_l_ns", "cm/tau_m*1000.0", "c_m_pf/g_l_ns"),
    ("i_offset", "i_e_pa", 1000.0),
    ("a", "a_ns"),
    ("b", "b_pa", 1000.0),
    ("delta_T", "delta_t_mv"),
    ("tau_w", "tau_w_ms"),
    ("v_thresh", "v_t_mv"),
    *_EXP_SYN,
    *_REVERSAL,
)


class EIF_cond_exp_isfa_ista(_Neuron, cells.EIF_cond_exp_isfa_ista):
    __doc__ = cells.EIF_cond_exp_isfa_ista.__doc__
    galvani_model = "adex"
    galvani_synapse = "exp_conductance"
    translations = build_translations(*_ADEX)
    state_variable_translations = build_translations(_V, ("w", "w", 1000.0))


class EIF_cond_alpha_isfa_ista(_Neuron, cells.EIF_cond_alpha_isfa_ista):
    __doc__ = cells.EIF_cond_alpha_isfa_ista.__doc__
    galvani_model = "adex"
    galvani_synapse = "alpha_conductance"
    translations = build_translations(*_ADEX)
    state_variable_translations = build_translations(_V, ("w", "w", 1000.0))


class HH_cond_exp(_Neuron, cells.HH_cond_exp):
    __doc__ = cells.HH_cond_exp.__doc__
    # NEST's hh_cond_exp_traub (pyNN.nest's translations; t_ref keeps NEST's 2 ms)
    galvani_model = "hh"
    galvani_synapse = "exp_conductance"
    translations = build_translations(
        ("gbar_Na", "g_na_ns", 1000.0),
        ("gbar_K", "g_k_ns", 1000.0),
        ("g_leak", "g_l_ns", 1000.0),
        ("cm", "c_m_pf", 1000.0),
        ("v_offset", "v_t_mv"),
        ("e_rev_Na", "e_na_mv"),
        ("e_rev_K", "e_k_mv"),
        ("e_rev_leak", "e_l_mv"),
        ("e_rev_E", "e_ampa_mv"),
        ("e_rev_I", "e_gaba_a_mv"),
        ("tau_syn_E", "tau_ampa_ms"),
        ("tau_syn_I", "tau_gaba_a_ms"),
        ("i_offset", "i_e_pa", 1000.0),
    )
    state_variable_translations = build_translations(_V, ("m", "m"), ("h", "h"), ("n", "n"))


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

    #: whether each run (piece) gets its own schedule (``_refresh``)
    _windowed = False

    def _refresh(self, t0, t1):
        """Sources whose schedule has no end (ACSource) rewrite it for each run."""

    def _get_data(self):
        """The injected current (nA) at every step from 0 to now: the amplitude that acts
        during the step that starts there."""
        dt = state.dt
        n = int(round(state.t / dt)) + 1
        t = np.arange(n) * dt
        times, amps = self._steps(0.0, state.t + dt)
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

    def _steps(self, t0=None, t1=None):
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

    def _steps(self, t0=None, t1=None):
        times = np.asarray(self._native["times"], dtype=float)
        amps = np.asarray(self._native["amplitudes"], dtype=float) * 1000.0
        return times, amps


class _Windowed(_CurrentSource):
    """A current that changes every step or interval without end: each run writes the
    schedule of its own steps (``_refresh``, called by ``State.run_until``)."""

    _windowed = True

    def _refresh(self, t0, t1):
        if self.stimuli:
            times, amps = self._steps(t0, t1)
            for i in self.stimuli:
                state.sim.set_current(i, times, amps)

    def set_native_parameters(self, parameters):
        _CurrentSource.set_native_parameters(self, parameters)
        if state.sim is not None and not state.dirty:
            self._refresh(state.t, state.t)


class ACSource(_Windowed, electrodes.ACSource):
    __doc__ = electrodes.ACSource.__doc__
    translations = build_translations(
        ("amplitude", "amplitude"), ("start", "start"), ("stop", "stop"),
        ("frequency", "frequency"), ("offset", "offset"), ("phase", "phase"),
    )

    def _steps(self, t0=None, t1=None):
        """A new amplitude every step of [start, stop) within [t0, t1): offset +
        amplitude·sin(2π·frequency·(t − start) + phase), t the start of the step (as
        PyNN's brian2 backend computes it); 0 from stop on. Without a window: none yet
        (each run writes its own, see ``_refresh``)."""
        if t0 is None:
            return np.zeros(0), np.zeros(0)
        p = {k: float(v) for k, v in self._native.items()}
        dt = state.dt
        start, stop = max(float(_grid(p["start"])), 0.0), float(_grid(p["stop"]))
        k0 = int(round(max(start, t0) / dt))
        k1 = int(round(min(stop, t1) / dt))
        t = np.arange(k0, max(k1, k0)) * dt
        amps = p["offset"] + p["amplitude"] * np.sin(
            2 * np.pi * p["frequency"] * (t - start) / 1000.0 + 2 * np.pi * p["phase"] / 360.0
        )
        times, amps = list(t), list(amps * 1000.0)
        if start <= t1 and stop < 1e12:
            times.append(max(stop, start))
            amps.append(0.0)
        return np.asarray(times), np.asarray(amps)



class NoisyCurrentSource(_Windowed, electrodes.NoisyCurrentSource):
    __doc__ = electrodes.NoisyCurrentSource.__doc__
    translations = build_translations(
        ("mean", "mean"), ("start", "start"), ("stop", "stop"), ("stdev", "stdev"),
        ("dt", "dt"),
    )

    def __init__(self, **parameters):
        object.__setattr__(self, "_uid", len(state.current_sources))
        _CurrentSource.__init__(self, **parameters)

    def _steps(self, t0=None, t1=None):
        """mean + stdev·N(0, 1), a new value every ``dt`` (a whole number of steps) on
        [start, stop), drawn from numpy's generator seeded by (seed, source): the same
        values however the runs are split. Windowed as ``ACSource``."""
        if t0 is None:
            return np.zeros(0), np.zeros(0)
        p = {k: float(v) for k, v in self._native.items()}
        step = state.dt
        every = max(int(round(p["dt"] / step)), 1)
        start, stop = max(float(_grid(p["start"])), 0.0), float(_grid(p["stop"]))
        ks, ke = int(round(start / step)), int(round(min(stop, 1e12) / step))
        k0 = max(int(round(max(start, t0) / step)), ks)
        k1 = min(int(round(min(stop, t1) / step)), ke)
        if k1 <= k0:
            times, amps = [], []
        else:
            # intervals of `every` steps from start; value j for steps ks + j·every ...
            j0, j1 = (k0 - ks) // every, (k1 - 1 - ks) // every + 1
            z = np.random.default_rng([state.seed, self._uid]).standard_normal(j1)[j0:]
            k = np.maximum(ks + np.arange(j0, j1) * every, k0)
            times, amps = list(k * step), list((p["mean"] + p["stdev"] * z) * 1000.0)
        if start <= t1 and stop < 1e12:
            times.append(stop)
            amps.append(0.0)
        return np.asarray(times), np.asarray(amps)


#: What galvani.pynn supports, by kind (the lists NotImplementedError messages give).
SUPPORTED = {
    "cell type": ["IF_curr_exp", "IF_curr_alpha", "IF_cond_exp", "IF_cond_alpha",
                  "IF_curr_delta", "Izhikevich", "EIF_cond_exp_isfa_ista",
                  "EIF_cond_alpha_isfa_ista", "HH_cond_exp", "SpikeSourceArray",
                  "SpikeSourcePoisson"],
    "synapse type": ["StaticSynapse"],
    "current source": ["DCSource", "StepCurrentSource", "ACSource", "NoisyCurrentSource"],
}
#: The kind whose list answers for a kind of model galvani.pynn has none of (the parts
#: of an STDP synapse are synapse types to the user).
_LISTED_AS = {"weight dependence": "synapse type", "timing dependence": "synapse type"}


def unsupported_message(kind, name):
    """'galvani.pynn does not support the <kind> <name>; supported <kind>s: ...'."""
    listed = _LISTED_AS.get(kind, kind)
    extra = " (synaptic plasticity is not supported)" if listed != kind else ""
    return (f"galvani.pynn does not support the {kind} {name}{extra}; supported {listed}s: "
            + ", ".join(SUPPORTED[listed]))


def _unsupported(kind, cls):
    """A PyNN model galvani lacks: using it raises NotImplementedError naming it and the
    supported models of its kind."""

    def __init__(self, *args, **kwargs):
        raise NotImplementedError(unsupported_message(kind, cls.__name__))

    return type(cls.__name__, (cls,), {"__init__": __init__, "__doc__": cls.__doc__})


_UNSUPPORTED_CELLS = [
    "IF_facets_hardware1", "IF_cond_exp_gsfa_grr", "SpikeSourceGamma",
    "SpikeSourceInhGamma", "SpikeSourcePoissonRefractory", "GIF_cond_exp", "IF_curr_dual_exp",
    "PointNeuron", "LIF", "AdExp",
]
_UNSUPPORTED_OTHER = [
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
