"""Projection for galvani.pynn.

PyNN's connectors hand each postsynaptic cell's connections to
``Projection._convergent_connect``; they are kept as arrays (pre index, post index,
weight in PyNN units, delay rounded to the time step) and become galvani edge
projections (``Network.add_edges``, one per pair of parent populations) when the network
is built. Weights are converted to galvani's units by the postsynaptic cell type (nA →
pA, µS → nS, mV for delta synapses); ``excitatory`` is galvani's AMPA receptor and
``inhibitory`` GABA-A.
"""

import numpy as np

from pyNN import common, errors
from pyNN.core import is_listlike
from pyNN.parameters import ParameterSpace
from pyNN.space import Space

from . import simulator
from .standardmodels import StaticSynapse

state = simulator.state

_RECEPTORS = {"excitatory": "ampa", "inhibitory": "gaba_a"}


def _parents(cells):
    """For a population, view or assembly: (parent population, local index) of each of its
    cells, in its order."""
    if isinstance(cells, common.Assembly):
        pops, idx = [], []
        for p in cells.populations:
            a, b = _parents(p)
            pops.extend(a)
            idx.append(b)
        return pops, np.concatenate(idx) if idx else np.zeros(0, int)
    if isinstance(cells, common.PopulationView):
        return [cells.grandparent] * cells.size, np.asarray(
            cells.index_in_grandparent(np.arange(cells.size)), dtype=int
        )
    return [cells] * cells.size, np.arange(cells.size)


class Connection(common.Connection):
    """One connection of a projection; weight and delay are read and written through it."""

    def __init__(self, projection, k):
        self.projection = projection
        self.k = k
        self.presynaptic_index = int(projection._pre[k])
        self.postsynaptic_index = int(projection._post[k])

    def _get_weight(self):
        return float(self.projection._weight[self.k])

    def _set_weight(self, w):
        self.projection._set_column("weight", np.array([self.k]), np.array([float(w)]))

    def _get_delay(self):
        return float(self.projection._delay[self.k])

    def _set_delay(self, d):
        self.projection._set_column("delay", np.array([self.k]), np.array([float(d)]))

    weight = property(_get_weight, _set_weight)
    delay = property(_get_delay, _set_delay)

    def as_tuple(self, *attribute_names):
        return tuple(getattr(self, name) for name in attribute_names)


class Projection(common.Projection):
    __doc__ = common.Projection.__doc__
    _simulator = simulator
    _static_synapse_class = StaticSynapse

    def __init__(self, presynaptic_population, postsynaptic_population, connector,
                 synapse_type=None, source=None, receptor_type=None, space=Space(),
                 label=None):
        common.Projection.__init__(self, presynaptic_population, postsynaptic_population,
                                   connector, synapse_type, source, receptor_type, space,
                                   label)
        if not isinstance(self.synapse_type, StaticSynapse):
            raise NotImplementedError(
                f"galvani.pynn supports StaticSynapse only, not {type(self.synapse_type).__name__}"
            )
        if self.receptor_type not in _RECEPTORS:
            raise NotImplementedError(
                f"galvani.pynn: receptor type '{self.receptor_type}'; expected 'excitatory' or 'inhibitory'"
            )
        for p in set(_parents(self.post)[0]):
            if not p.celltype.injectable:
                raise errors.ConnectionError("spike sources cannot receive connections")
        state.changed("creating a projection")
        self._chunks = []
        self._cache = None
        connector.connect(self)
        state.projections.append(self)

    # -- the connection arrays ---------------------------------------------------------

    def _arrays(self):
        if self._cache is None:
            if self._chunks:
                cols = list(zip(*self._chunks))
                self._cache = [np.concatenate(c) for c in cols]
            else:
                self._cache = [np.zeros(0, int), np.zeros(0, int), np.zeros(0), np.zeros(0)]
            self._chunks = []
        return self._cache

    _pre = property(lambda self: self._arrays()[0])
    _post = property(lambda self: self._arrays()[1])
    _weight = property(lambda self: self._arrays()[2])
    _delay = property(lambda self: self._arrays()[3])

    def __len__(self):
        return len(self._pre)

    @property
    def connections(self):
        return (Connection(self, k) for k in range(len(self)))

    def __getitem__(self, i):
        if isinstance(i, int):
            if i < 0:
                i += len(self)
            return Connection(self, i)
        return [Connection(self, k) for k in np.arange(len(self))[i]]

    def _round_delay(self, d):
        dt = state.dt
        d = np.rint(np.asarray(d, dtype=float) / dt) * dt
        return np.maximum(d, dt)

    def _convergent_connect(self, presynaptic_indices, postsynaptic_index,
                            location_selector=None, **connection_parameters):
        if location_selector is not None:
            raise NotImplementedError("galvani.pynn has point neurons only")
        connection_parameters.pop("dendritic_delay_fraction", None)
        pre = np.asarray(presynaptic_indices, dtype=int).reshape(-1)
        n = pre.size
        if n == 0:
            return
        def col(name, default):
            v = connection_parameters.get(name, default)
            v = np.asarray(v, dtype=float)
            return np.full(n, float(v)) if v.ndim == 0 else v.reshape(-1).astype(float)
        w = col("weight", 0.0)
        d = self._round_delay(col("delay", state.min_delay))
        self._check_weights(w)
        post = np.full(n, int(postsynaptic_index))
        if self._cache is not None:
            self._chunks = [tuple(self._cache)]
            self._cache = None
        self._chunks.append((pre, post, w, d))

    def _check_weights(self, w):
        conductance = any(p.celltype.conductance_based for p in set(_parents(self.post)[0]))
        if conductance and np.any(w < 0):
            raise errors.ConnectionError("Weights must be positive for conductance-based synapses")

    def _set_column(self, name, k, values):
        state.changed(f"changing connection {name}s")
        arrays = self._arrays()
        i = 2 if name == "weight" else 3
        if name == "delay":
            values = self._round_delay(values)
        else:
            self._check_weights(values)
        arrays[i] = arrays[i].copy()
        arrays[i][k] = values

    def _set_attributes(self, parameter_space):
        parameter_space.evaluate(simplify=False)
        pre, post = self._pre, self._post
        for name, value in parameter_space.items():
            if name not in ("weight", "delay"):
                raise NotImplementedError(f"galvani.pynn: static synapses have no '{name}'")
            v = np.asarray(value, dtype=float)
            vals = v[pre, post] if v.ndim == 2 else np.broadcast_to(v, pre.shape)
            self._set_column(name, np.arange(len(pre)), vals)

    def _get_attributes_as_list(self, names):
        cols = []
        for name in names:
            if name == "presynaptic_index":
                cols.append(self._pre)
            elif name == "postsynaptic_index":
                cols.append(self._post)
            elif name == "weight":
                cols.append(self._weight)
            elif name == "delay":
                cols.append(self._delay)
            else:
                raise NotImplementedError(f"galvani.pynn: static synapses have no '{name}'")
        return [tuple(x) for x in zip(*cols)] if cols else []

    def _get_attributes_as_arrays(self, names, multiple_synapses="sum"):
        agg = {"sum": (np.add.at, 0.0), "min": (np.minimum.at, np.inf),
               "max": (np.maximum.at, -np.inf)}
        if multiple_synapses not in agg:
            raise NotImplementedError(multiple_synapses)
        f, init = agg[multiple_synapses]
        pre, post = self._pre, self._post
        out = []
        for name in names:
            vals = {"weight": self._weight, "delay": self._delay}.get(name)
            if vals is None:
                raise NotImplementedError(f"galvani.pynn: static synapses have no '{name}'")
            a = np.full((self.pre.size, self.post.size), init)
            f(a, (pre, post), vals)
            mask = np.ones_like(a, dtype=bool)
            mask[pre, post] = False
            a[mask] = np.nan
            out.append(a)
        return out

    # -- the galvani projections ---------------------------------------------------------

    def _add_to(self, net):
        pre_pops, pre_local = _parents(self.pre)
        post_pops, post_local = _parents(self.post)
        pre, post, w, d = self._arrays()
        if len(pre) == 0:
            return
        receptor = _RECEPTORS[self.receptor_type]
        pre_names = np.array([p._gname for p in pre_pops])[pre]
        post_names = np.array([p._gname for p in post_pops])[post]
        by_name = {p._gname: p for p in list(pre_pops) + list(post_pops)}
        pairs = sorted(set(zip(pre_names, post_names)))
        for a, b in pairs:
            m = (pre_names == a) & (post_names == b)
            scale = by_name[b].celltype.weight_scale
            net.add_edges(a, b, pre_local[pre[m]], post_local[post[m]],
                          weight=np.ascontiguousarray(w[m] * scale),
                          delay_ms=np.ascontiguousarray(d[m]), receptor=receptor)
