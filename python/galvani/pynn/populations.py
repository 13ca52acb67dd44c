"""Population, PopulationView and Assembly for galvani.pynn.

A population keeps its native (galvani) parameters as arrays, one value per cell; they
become the ``params`` of a galvani population when the network is built, and a change
after that goes to the running simulation through ``Simulation.set`` (or
``set_spike_times`` for spike sources).
"""

import numpy as np

from pyNN import common, errors
from pyNN.parameters import ParameterSpace, Sequence, simplify
from pyNN.standardmodels import StandardCellType

from . import simulator
from .recording import Recorder
from .standardmodels import unsupported_message

state = simulator.state


def _split_cells(cells):
    """(parent population, local indices) pairs of a population, view, assembly or list
    of ids."""
    if isinstance(cells, common.Assembly):
        out = []
        for p in cells.populations:
            out.extend(_split_cells(p))
        return out
    if isinstance(cells, common.PopulationView):
        return [(cells.grandparent, np.asarray(cells.index_in_grandparent(np.arange(cells.size))))]
    if isinstance(cells, common.Population):
        return [(cells, np.arange(cells.size))]
    groups = {}
    for c in cells:
        pop = c.parent
        while isinstance(pop, common.PopulationView):
            pop = pop.parent
        groups.setdefault(id(pop), (pop, []))[1].append(pop.id_to_index(c))
    return [(p, np.asarray(sorted(ix))) for p, ix in groups.values()]


def _check_times(lists):
    for t in lists:
        if np.any(np.diff(t) < 0):
            raise errors.InvalidParameterValueError(
                f"SpikeSourceArray: spike times must be in increasing order, got {t}"
            )
        if np.any(t < 0) or not np.all(np.isfinite(t)):
            raise errors.InvalidParameterValueError(
                f"SpikeSourceArray: spike times must be finite and >= 0, got {t}"
            )


def _seq_list(values, n):
    """Per-cell spike-time arrays from an array of Sequence objects (or one Sequence)."""
    out = []
    for i in range(n):
        v = values[i] if isinstance(values, np.ndarray) and values.dtype == object else values
        if isinstance(v, Sequence):
            v = v.value
        out.append(np.asarray(v, dtype=float).reshape(-1))
    return out


class Assembly(common.Assembly):
    _simulator = simulator


class _ParamMixin:
    def _get_parameters(self, *names):
        if isinstance(self.celltype, StandardCellType):
            if any(name in self.celltype.computed_parameters() for name in names):
                native_names = self.celltype.get_native_names()
            else:
                native_names = self.celltype.get_native_names(*names)
            return self.celltype.reverse_translate(self._get_native_parameters(*native_names))
        return self._get_native_parameters(*names)


class PopulationView(_ParamMixin, common.PopulationView):
    _assembly_class = Assembly
    _simulator = simulator

    def _get_native_parameters(self, *names):
        d = {}
        for name in names:
            value = self.grandparent._native_values(name)
            d[name] = simplify(value[self.index_in_grandparent(np.arange(self.size))])
        return ParameterSpace(d, shape=(self.size,))

    def _set_parameters(self, parameter_space):
        parameter_space.evaluate(simplify=False)
        idx = self.index_in_grandparent(np.arange(self.size))
        for name, value in parameter_space.items():
            self.grandparent._set_native(name, idx, value)

    def _set_initial_value_array(self, variable, initial_values):
        idx = self.index_in_grandparent(np.arange(self.size))
        self.grandparent._set_initial(variable, idx, initial_values)

    def _get_view(self, selector, label=None):
        return PopulationView(self, selector, label)


class Population(_ParamMixin, common.Population):
    __doc__ = common.Population.__doc__
    _simulator = simulator
    _recorder_class = Recorder
    _assembly_class = Assembly

    def _create_cells(self):
        if not isinstance(self.celltype, StandardCellType) or not hasattr(
            self.celltype, "galvani_model"
        ):
            raise NotImplementedError(
                unsupported_message("cell type", type(self.celltype).__name__)
            )
        state.changed("creating a population")
        ids = np.arange(state.id_counter, state.id_counter + self.size)
        self.all_cells = np.array([simulator.ID(i) for i in ids], dtype=simulator.ID)
        self._mask_local = np.ones((self.size,), bool)
        ps = self.celltype.native_parameters
        ps.shape = (self.size,)
        ps.evaluate(simplify=False)
        self._parameters = ps.as_dict()
        if "spike_times" in self._parameters:
            _check_times(_seq_list(self._native_values("spike_times"), self.size))
        self._init = {}  # PyNN state variable -> initial values set so far
        for c in self.all_cells:
            c.parent = self
        state.id_counter += self.size
        self._gname = f"p{len(state.populations)}"
        state.populations.append(self)

    # -- native values --------------------------------------------------------------

    def _native_values(self, name):
        v = self._parameters[name]
        if not isinstance(v, np.ndarray):
            v = np.full(self.size, v, dtype=object if isinstance(v, Sequence) else float)
            self._parameters[name] = v
        return v

    def _set_native(self, name, idx, value):
        arr = self._native_values(name)
        if name == "spike_times":
            new = arr.copy()
            vals = np.asarray(value, dtype=object).reshape(-1)
            if vals.size == 1:
                vals = np.repeat(vals, len(idx))
            for k, i in enumerate(idx):
                new[i] = vals[k]
            _check_times(_seq_list(new, self.size))
            self._parameters[name] = new
            if state.sim is not None and not state.dirty:
                state.sim.set_spike_times(self._gname, _seq_list(new, self.size))
            return
        new = np.array(arr, dtype=float)
        new[idx] = np.asarray(value, dtype=float)
        if state.sim is not None and not state.dirty:
            state.sim.set(self._gname, name, new)
        self._parameters[name] = new

    def _get_native_parameters(self, *names):
        return ParameterSpace(
            {name: simplify(self._native_values(name)) for name in names}, shape=(self.size,)
        )

    def _set_parameters(self, parameter_space):
        parameter_space.evaluate(simplify=False)
        idx = np.arange(self.size)
        for name, value in parameter_space.items():
            self._set_native(name, idx, value)

    # -- initial values -------------------------------------------------------------

    def _set_initial(self, variable, idx, values):
        if not hasattr(self.celltype, "galvani_synapse"):
            return
        name = self._galvani_state(variable)
        if name is None:
            return  # a PyNN state variable galvani's model does not keep
        v = self._current_init(variable)
        v[idx] = np.asarray(values, dtype=float)
        self._init[variable] = v
        if state.sim is not None and not state.dirty:
            state.sim.set(self._gname, name, self._to_native(variable, v))

    def _to_native(self, variable, values):
        """A state variable's values in galvani's units (PyNN's ``w`` nA -> pA)."""
        f = self.celltype.state_variable_translations[variable]["forward_transform"]
        values = np.asarray(values, dtype=float)
        return f(**{variable: values}) if callable(f) else eval(f, {}, {variable: values})

    def _galvani_state(self, variable):
        """galvani's name of a PyNN state variable (``v`` -> ``v_mv``), or None."""
        t = getattr(self.celltype, "state_variable_translations", {})
        return t[variable]["translated_name"] if variable in t else None

    def _set_initial_value_array(self, variable, initial_values):
        initial_values.shape = (self.size,)
        self._set_initial(variable, np.arange(self.size), initial_values.evaluate(simplify=False))

    def _current_init(self, variable):
        if variable in self._init:
            return self._init[variable].copy()
        iv = self.initial_values.get(variable) if hasattr(self, "initial_values") else None
        if iv is None:
            default = self.celltype.default_initial_values.get(variable, -65.0)
            return np.full(self.size, float(default))
        iv = iv.copy() if hasattr(iv, "copy") else iv
        try:
            iv.shape = (self.size,)
            return np.asarray(iv.evaluate(simplify=False), dtype=float)
        except AttributeError:
            return np.full(self.size, float(iv))

    def _init_values(self):
        """galvani's initial values: every state variable the model keeps."""
        out = {}
        for variable in getattr(self.celltype, "state_variable_translations", {}):
            out[self._galvani_state(variable)] = self._to_native(
                variable, self._current_init(variable))
        return out

    def _apply_initial_values(self):
        if hasattr(self.celltype, "galvani_synapse"):
            for name, values in self._init_values().items():
                state.sim.set(self._gname, name, values)

    def _get_view(self, selector, label=None):
        return PopulationView(self, selector, label)

    # -- the galvani population -----------------------------------------------------

    def _add_to(self, net):
        ct = self.celltype
        if ct.galvani_model == "spike_source":
            net.add_population(
                self._gname,
                self.size,
                model="spike_source",
                spike_times=_seq_list(self._native_values("spike_times"), self.size),
            )
        elif ct.galvani_model == "poisson_source":
            params = {k: np.asarray(self._native_values(k), dtype=float)
                      for k in ("rate_hz", "start_ms", "duration_ms")}
            net.add_population(self._gname, self.size, model="poisson_source", params=params)
        else:
            params = {k: np.asarray(self._native_values(k), dtype=float)
                      for k in self._parameters}
            net.add_population(
                self._gname, self.size, model=ct.galvani_model, synapse=ct.galvani_synapse,
                params=params, init=self._init_values(),
            )
