"""Projection for galvani.pynn.

A projection whose connector galvani has a rule for (``AllToAllConnector``,
``FixedProbabilityConnector``, ... with galvani's own generator, see
``galvani.pynn.connectors``) becomes a galvani projection with that rule
(``Network.add_projection``): the connections are drawn when the network is built. The
others are drawn by PyNN: its connectors hand each postsynaptic cell's connections to
``Projection._convergent_connect``; they are kept as arrays (pre index, post index,
weight in PyNN units, delay rounded to the time step) and become galvani edge
projections (``Network.add_edges``, one per pair of parent populations). Weights are
converted to galvani's units by the postsynaptic cell type (nA → pA, µS → nS, mV for
delta synapses); ``excitatory`` is galvani's AMPA receptor and ``inhibitory`` GABA-A.
"""

import inspect

import numpy as np

from pyNN import common, errors
from pyNN.core import is_listlike
from pyNN.parameters import ParameterSpace
from pyNN.connectors import OneToOneConnector
from pyNN.space import Space

from . import simulator
from .connectors import connection_rule, value_spec
from .standardmodels import StaticSynapse, SUPPORTED

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
                f"galvani.pynn does not support the synapse type "
                f"{type(self.synapse_type).__name__}; supported synapse types: "
                + ", ".join(SUPPORTED["synapse type"])
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
        #: galvani's rule for the whole projection (see ``_native_plan``), or None: the
        #: connections are the arrays PyNN's connector drew
        self._native = self._native_plan(connector)
        self._drawn = self._native is None
        self._built_native = False  # whether the last build drew it with galvani's rule
        self._ran_native = False  # whether a simulation has run with those connections
        if self._native is None:
            if isinstance(connector, OneToOneConnector) and self.pre.size == 1 == self.post.size:
                self._one_to_one_single()
            else:
                connector.connect(self)
        state.projections.append(self)

    def _one_to_one_single(self):
        """OneToOneConnector between one-cell populations or views: PyNN 0.13's own
        connect fails there with numpy 2 (a 0-d mask), so the one connection is made
        here, with the synapse type's values evaluated as PyNN would."""
        ps = self.synapse_type.native_parameters
        ps.shape = (1, 1)
        params = {}
        for name, m in ps.items():
            v = m.evaluate(simplify=True) if m.is_homogeneous else m.evaluate(simplify=False)
            params[name] = float(np.asarray(v, dtype=float).reshape(-1)[0])
        self._convergent_connect([0], 0, **params)

    # -- galvani's own rules ---------------------------------------------------------------

    def _native_plan(self, connector):
        """The galvani projection (connect table, weight, delay_ms) that draws what
        ``connector`` and the synapse type describe, or None where PyNN must draw."""
        if not (isinstance(self.pre, common.Population)
                and isinstance(self.post, common.Population)):
            return None
        rule = connection_rule(connector, self.pre, self.post)
        if rule is None:
            return None
        ps = self.synapse_type.native_parameters
        w = value_spec(ps["weight"], self.post.celltype.weight_scale)
        d = value_spec(ps["delay"], 1.0)
        if w is None or d is None:
            return None
        weight, wlo, whi, wrandom = w
        if wrandom and wlo < 0.0 < whi:
            return None  # galvani's weights keep one sign per projection
        if wlo < 0.0 and self.post.celltype.conductance_based:
            return None  # PyNN's drawing raises its ConnectionError
        delay, dlo, _, drandom = d
        if drandom:
            if dlo < 0.0:
                return None
            dlo = float(self._round_delay(dlo))
        else:
            delay = dlo = float(self._round_delay(delay))
        exact = rule["rule"] in ("all_to_all", "one_to_one") and not (wrandom or drandom)
        return {"connect": rule, "weight": weight, "delay_ms": delay, "min_delay": dlo,
                "exact": exact}

    def _draw(self):
        """Draws the connections in Python (PyNN's connector), for reading or changing
        them. Where that draws other connections than galvani's rule, the projection
        becomes those connections (an edge list), which changes the network: possible
        until the simulation has run with galvani's."""
        plan = self._native
        if not plan["exact"]:
            if self._ran_native:
                raise NotImplementedError(
                    "galvani.pynn: the connections of this projection were drawn by "
                    f"galvani's '{plan['connect']['rule']}' rule and cannot be read back "
                    "after the simulation has run with them; read them before the first "
                    "run, or give the connector (and random weights/delays) a "
                    "NumpyRNG(seed=...) to have PyNN draw them"
                )
            state.changed("drawing the connections of a projection in Python")
            self._native = None
        self._drawn = True
        self._connector.connect(self)

    def _note_run(self):
        """The simulation is about to run the network as last built."""
        if self._built_native:
            self._ran_native = True

    def _native_count(self):
        """The number of connections galvani's rule makes, where it is fixed; else None."""
        rule = self._native["connect"]
        n_pre, n_post = self.pre.size, self.post.size
        r = rule["rule"]
        if r == "all_to_all":
            return n_pre * n_post - (n_pre if self.pre is self.post and not rule["autapses"] else 0)
        if r == "one_to_one":
            return n_pre
        if r == "fixed_indegree":
            return rule["k"] * n_post
        if r == "fixed_outdegree":
            return rule["k"] * n_pre
        if r == "fixed_total_number":
            return rule["n"]
        return None

    def _min_delay(self):
        """The shortest delay (ms, rounded), or None without connections."""
        if not self._drawn:
            return self._native["min_delay"] if self._native_count() != 0 else None
        return float(self._delay.min()) if len(self) else None

    # -- the connection arrays ---------------------------------------------------------

    def _arrays(self):
        if not self._drawn:
            self._draw()
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
        if not self._drawn:
            n = self._native_count()
            if n is not None:
                return n
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
        self._native = None  # the changed arrays are the connections now
        i = 2 if name == "weight" else 3
        if name == "delay":
            values = self._round_delay(values)
        else:
            self._check_weights(values)
        arrays[i] = arrays[i].copy()
        arrays[i][k] = values

    def set(self, **attributes):
        if self._drawn or any(isinstance(v, list) or (isinstance(v, np.ndarray) and v.ndim == 1)
                              for v in attributes.values()):
            return common.Projection.set(self, **attributes)
        # PyNN's set reads the connection mask first (for per-connection lists), which
        # would draw a natively drawn projection in Python; numbers and distributions
        # need no mask
        ps = ParameterSpace(attributes, self.synapse_type.get_schema(),
                            (self.pre.size, self.post.size))
        ps = self._handle_distance_expressions(ps)
        self._set_attributes(self.synapse_type.translate(ps))

    set.__doc__ = common.Projection.set.__doc__

    def _set_attributes(self, parameter_space):
        if not self._drawn and self._set_native(parameter_space):
            return
        parameter_space.evaluate(simplify=False)
        pre, post = self._pre, self._post
        for name, value in parameter_space.items():
            if name not in ("weight", "delay"):
                raise NotImplementedError(f"galvani.pynn: static synapses have no '{name}'")
            v = np.asarray(value, dtype=float)
            vals = v[pre, post] if v.ndim == 2 else np.broadcast_to(v, pre.shape)
            self._set_column(name, np.arange(len(pre)), vals)

    def _set_native(self, parameter_space):
        """``set`` of values galvani's rule can take (numbers, distributions it draws) on a
        projection not drawn in Python: a new rule; False where the connections must be
        drawn first."""
        new = {}
        for name, value in parameter_space.items():
            if name not in ("weight", "delay"):
                raise NotImplementedError(f"galvani.pynn: static synapses have no '{name}'")
            scale = self.post.celltype.weight_scale if name == "weight" else 1.0
            spec = value_spec(value, scale)
            if spec is None:
                return False
            new[name] = spec
        plan = dict(self._native)
        if "weight" in new:
            w, lo, hi, random = new["weight"]
            if (random and lo < 0.0 < hi) or (lo < 0.0 and self.post.celltype.conductance_based):
                return False
            plan["weight"] = w
        if "delay" in new:
            d, lo, _, random = new["delay"]
            if random and lo < 0.0:
                return False
            d = d if random else float(self._round_delay(d))
            plan["delay_ms"], plan["min_delay"] = d, float(self._round_delay(lo))
        plan["exact"] = plan["connect"]["rule"] in ("all_to_all", "one_to_one") and not any(
            isinstance(plan[k], dict) for k in ("weight", "delay_ms"))
        state.changed("changing connection weights or delays")
        self._native = plan
        return True

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
        receptor = _RECEPTORS[self.receptor_type]
        self._built_native = self._native is not None
        if self._native is not None:
            plan = self._native
            args = dict(receptor=receptor, weight=plan["weight"], delay_ms=plan["delay_ms"])
            if "connect" in inspect.signature(net.add_projection).parameters:
                args["connect"] = dict(plan["connect"])
            else:  # add_projection(..., rule=..., **rule_args)
                args.update(plan["connect"])
            net.add_projection(self.pre._gname, self.post._gname, **args)
            return
        pre_pops, pre_local = _parents(self.pre)
        post_pops, post_local = _parents(self.post)
        pre, post, w, d = self._arrays()
        if len(pre) == 0:
            return
        # the parent populations of each side as small integer codes (no string array
        # of one name per connection)
        pre_ids, pre_code = _codes(pre_pops)
        post_ids, post_code = _codes(post_pops)
        a_all, b_all = pre_code[pre], post_code[post]
        pairs = {(a, b) for a in np.unique(a_all) for b in np.unique(b_all)}
        single = len(pre_ids) == 1 and len(post_ids) == 1
        for a, b in sorted(pairs):
            m = slice(None) if single else (a_all == a) & (b_all == b)
            if not single and not m.any():
                continue
            post_pop = post_ids[b]
            net.add_edges(pre_ids[a]._gname, post_pop._gname, pre_local[pre[m]],
                          post_local[post[m]],
                          weight=np.ascontiguousarray(w[m] * post_pop.celltype.weight_scale),
                          delay_ms=np.ascontiguousarray(d[m]), receptor=receptor)


def _codes(pops):
    """(distinct populations in order of first appearance, the code of each entry)."""
    ids, index, code = [], {}, np.empty(len(pops), dtype=np.int64)
    for k, p in enumerate(pops):
        if id(p) not in index:
            index[id(p)] = len(ids)
            ids.append(p)
        code[k] = index[id(p)]
    return ids, code
