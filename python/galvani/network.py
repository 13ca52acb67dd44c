"""The network description: :class:`Network` (built in Python) and :func:`load` (from a
TOML config).

A :class:`Network` holds the tree a TOML config parses into. Bulk data (per-neuron
parameters and initial values, spike times, edge lists) stays in it as numpy arrays:
read-only copies taken when added, handed to the extension as buffers (checked in place
and copied once into the core's config when a simulation is built), never converted
element by element.
"""

from __future__ import annotations

import contextlib
import copy
import os
from typing import Any, Iterable, Mapping, Optional, Sequence, Union

import numpy as np

from . import _native

__all__ = ["Network", "load", "SOURCE", "Value"]

#: The name :class:`Network` objects built in Python go by in error messages.
SOURCE = "galvani.Network"

Value = Union[float, int, Mapping[str, Any], Sequence[float], np.ndarray]


def _owned(v, dtype=None) -> np.ndarray:
    """A read-only contiguous copy the network owns (one copy): later changes to the
    caller's array cannot reach a validated network, and copies of the tree can share
    it."""
    a = np.array(v, dtype=dtype, copy=True, order="C")
    a.setflags(write=False)
    return a


def _floats(v, what: str) -> np.ndarray:
    a = _owned(v, np.float64)
    if a.ndim != 1:
        raise ValueError(f"{what}: expected a 1-d array, got shape {a.shape}")
    return a


def _per_neuron(values: Optional[Mapping[str, Value]], what: str) -> dict:
    """Parameters or initial values: numbers and distribution tables pass through;
    sequences and numpy arrays become float64 arrays (one value per neuron)."""
    out = {}
    for key, v in (values or {}).items():
        if not isinstance(key, str):
            raise ValueError(f"{what}: keys must be strings, got {key!r}")
        if isinstance(v, Mapping):
            out[key] = dict(v)
        elif isinstance(v, (np.ndarray, list, tuple)):
            out[key] = _floats(v, f"{what}.{key}")
        else:
            out[key] = v
    return out


def _index_array(v, what: str) -> np.ndarray:
    """Indices as an int64 array (the caller's own when it is one: not copied here)."""
    a = np.asarray(v)
    if a.ndim != 1:
        raise ValueError(f"{what}: expected a 1-d array of indices, got shape {a.shape}")
    if a.size and not np.issubdtype(a.dtype, np.integer):
        raise ValueError(f"{what}: expected integer indices, got dtype {a.dtype}")
    return a.astype(np.int64, copy=False)


def _indices(v, what: str) -> np.ndarray:
    return _owned(_index_array(v, what))


def _share(tree):
    """A copy of a tree's dicts and lists that shares its (read-only) arrays."""
    if isinstance(tree, dict):
        return {k: _share(v) for k, v in tree.items()}
    if isinstance(tree, list):
        return [_share(v) for v in tree]
    return tree


class Network:
    """A network description: populations, projections, stimuli and what to record.

    ``Network(dt_ms=None, seed=None)``: the time step (ms; default 0.1 for LIF
    networks, 1/70 for HV) and the seed every random choice derives from (default 1234).

    It holds exactly what a TOML config holds (``to_dict()`` shows the tree), and every
    change is validated at once by the code that validates config files, so a mistake
    raises ``ValueError`` with the message ``galvani run`` would print, and the change
    is not kept. Arrays (per-neuron values, spike times, edges) are kept as read-only
    numpy copies and reach the simulator as buffers, without per-element conversion.
    """

    def __init__(self, dt_ms: Optional[float] = None, seed: Optional[int] = None):
        sim: dict = {"duration_ms": 0.0}
        if dt_ms is not None:
            sim["dt_ms"] = float(dt_ms)
        if seed is not None:
            if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
                raise ValueError(f"seed: expected a non-negative integer, got {seed!r}")
            sim["seed"] = int(seed)
        self._tree: dict = {"simulation": sim}
        self._source = SOURCE

    # -- construction from a file ---------------------------------------------------

    @classmethod
    def _from_tree(cls, tree: dict, source: str) -> "Network":
        net = cls.__new__(cls)
        net._tree = tree
        net._source = source
        return net

    # -- helpers ---------------------------------------------------------------------

    def _change(self, edit) -> None:
        """Applies ``edit`` to a copy of the tree, validates it, and keeps it if valid
        (inside :meth:`_deferred`: applies it, and validation waits for the end)."""
        if getattr(self, "_defer", False):
            edit(self._tree)
            return
        tree = copy.copy(self._tree)
        for k in ("population", "projection", "stimulus"):
            if k in tree:
                tree[k] = list(tree[k])
        if "record" in tree:
            tree["record"] = dict(tree["record"])
        edit(tree)
        _native.validate(tree, self._source)
        self._tree = tree

    @contextlib.contextmanager
    def _deferred(self):
        """Validates once, at the end of the block, instead of after every change (for
        building large networks from code, as galvani.pynn does). A change that breaks
        the network raises ``ValueError`` there, and the changes of the block are not
        kept."""
        saved = _share(self._tree)
        self._defer = True
        try:
            yield self
            _native.validate(self._tree, self._source)
        except BaseException:
            self._tree = saved
            raise
        finally:
            self._defer = False

    @property
    def dt_ms(self) -> Optional[float]:
        """The time step (ms) as given (None: the model's default)."""
        return self._tree["simulation"].get("dt_ms")

    @property
    def seed(self) -> Optional[int]:
        """The seed as given (None: 1234)."""
        return self._tree["simulation"].get("seed")

    @property
    def populations(self) -> list:
        """The population names, in order."""
        return [p["name"] for p in self._tree.get("population", [])]

    def to_dict(self) -> dict:
        """A deep copy of the description, as the tree a TOML config parses into (with
        writable copies of its numpy arrays)."""
        return copy.deepcopy(self._tree)

    def validate(self) -> None:
        """Raises ``ValueError`` if the description is not a valid network."""
        _native.validate(self._tree, self._source)

    def __repr__(self) -> str:
        t = self._tree
        return (
            f"<galvani.Network {self._source}: {len(t.get('population', []))} populations, "
            f"{len(t.get('projection', []))} projections, {len(t.get('stimulus', []))} stimuli>"
        )

    # -- building --------------------------------------------------------------------

    def add_population(
        self,
        name: str,
        size: int,
        model: str = "lif",
        synapse: Optional[str] = None,
        params: Optional[Mapping[str, Value]] = None,
        init: Optional[Mapping[str, Value]] = None,
        spike_times=None,
    ) -> str:
        """Adds a ``[[population]]``; returns its name.

        ``model``: ``"lif"``, ``"hv"``, or a source: ``"spike_source"`` (give
        ``spike_times``, one sequence or array of times in ms per neuron) or
        ``"poisson_source"`` (``params``: ``rate_hz``, ``start_ms``, ``duration_ms``).
        ``synapse`` (LIF): ``"delta"``, ``"exp_current"`` (default), ``"alpha_current"``,
        ``"exp_conductance"`` or ``"alpha_conductance"``. ``params`` and ``init`` map names (``tau_m_ms``,
        ``v_th_mv``, ...; ``init``: ``v_mv``, and ``w`` for HV) to a number, a numpy array
        or sequence of one value per neuron, or a distribution table such as
        ``{"uniform": [a, b]}``, ``{"normal": [mean, sd]}``, ``{"linspace": [a, b]}``.
        Omitted parameters take the spec's defaults. Arrays are copied (float64) and
        reach the simulator as buffers.
        """
        if isinstance(size, bool) or not isinstance(size, (int, np.integer)):
            raise ValueError(f"population '{name}'.size: expected an integer, got {size!r}")
        pop = {
            "name": name,
            "size": int(size),
            "model": model,
            "synapse": synapse,
            "params": _per_neuron(params, f"population '{name}'.params"),
            "init": _per_neuron(init, f"population '{name}'.init"),
        }
        if spike_times is not None:
            pop["spike_times"] = [
                _owned(np.asarray(t, dtype=np.float64).reshape(-1)) for t in spike_times
            ]
        pop = {k: v for k, v in pop.items() if v is not None}
        self._change(lambda t: t.setdefault("population", []).append(pop))
        return name

    def add_projection(
        self,
        pre: str,
        post: str,
        receptor: str = "ampa",
        weight: Optional[float] = None,
        delay_ms: Optional[float] = None,
        rule: str = "fixed_probability",
        **rule_args: Any,
    ) -> None:
        """Adds a ``[[projection]]`` drawn by a connection rule.

        ``rule``: ``"fixed_probability"`` (``p``, ``autapses``), ``"fixed_indegree"``
        (``k``, ``autapses``), ``"one_to_one"``, ``"all_to_all"`` (``autapses``) or
        ``"file"`` (``path``, a CSV edge list); the rule's keys are keyword arguments.
        ``weight`` in pA (exp_current; the peak for alpha_current), mV (delta), nS
        (conductance kinds) or receptor activation (HV); ``delay_ms`` rounded to whole steps, at least one (the default).
        For edges given as arrays, see :meth:`add_edges`.
        """
        connect = {"rule": rule, **rule_args}
        pr = {"pre": pre, "post": post, "receptor": receptor, "weight": weight,
              "delay_ms": delay_ms, "connect": connect}
        pr = {k: v for k, v in pr.items() if v is not None}
        self._change(lambda t: t.setdefault("projection", []).append(pr))

    def add_edges(
        self,
        pre: str,
        post: str,
        pre_index,
        post_index,
        weight=None,
        delay_ms=None,
        receptor: str = "ampa",
    ) -> None:
        """Adds a ``[[projection]]`` from arrays: edge k is ``pre_index[k] → post_index[k]``
        (population-local indices). ``weight`` and ``delay_ms`` are a number for all
        edges or an array with one value per edge. Repeated pairs are merged into one
        synapse of summed weight, as with an edge file. The network keeps its own
        copy of the arrays (int64 indices, float64 values), sorted stably by (pre, post)
        as the simulator keeps synapses (``to_dict()`` shows them in that order; the
        network is the same), and they reach the simulator as buffers, without
        per-element conversion.
        """
        pi = _index_array(pre_index, "add_edges: pre_index")
        qi = _index_array(post_index, "add_edges: post_index")
        pr: dict = {"pre": pre, "post": post, "receptor": receptor}
        per_edge = {}
        for key, v in (("weight", weight), ("delay_ms", delay_ms)):
            if v is None:
                continue
            if np.ndim(v) == 0:
                pr[key] = float(v)
            else:
                a = np.asarray(v, dtype=np.float64)
                if a.ndim != 1:
                    raise ValueError(f"add_edges: {key}: expected a 1-d array, got shape {a.shape}")
                per_edge[key] = a
        # the network's own copies, sorted by (pre, post) as the simulator keeps them
        pi, qi, w, d = _native.sorted_edges(pi, qi, per_edge.get("weight"),
                                            per_edge.get("delay_ms"))
        connect: dict = {"rule": "edges", "pre": pi, "post": qi}
        for key, a in (("weight", w), ("delay_ms", d)):
            if a is not None:
                a.setflags(write=False)
                connect[key] = a
        pi.setflags(write=False)
        qi.setflags(write=False)
        pr["connect"] = connect
        self._change(lambda t: t.setdefault("projection", []).append(pr))

    def add_stimulus(self, kind: str, target: str, neurons=None, **keys: Any) -> None:
        """Adds a ``[[stimulus]]`` of ``kind`` ``"poisson"`` (``rate_hz``, ``weight``,
        ``receptor``, ``delay_ms``), ``"current_pulse"`` (``start_ms``, ``stop_ms``,
        ``amplitude_pa``), ``"dc_current"`` (``amplitude_pa``, optional ``start_ms``,
        ``stop_ms``), ``"step_current"`` (``times_ms``, ``amplitudes_pa``) or
        ``"receptor_pulse"`` (HV: ``receptor``, ``amplitude``, ``start_ms``,
        ``stop_ms``) onto ``target`` (all its neurons, or ``neurons``).
        """
        keys = {
            k: (_owned(v, np.float64)
                if isinstance(v, (list, tuple, np.ndarray)) else v)
            for k, v in keys.items()
        }
        st = {"kind": kind, "target": target, **keys}
        if neurons is not None:
            st["neurons"] = _indices(neurons, "add_stimulus: neurons")
        self._change(lambda t: t.setdefault("stimulus", []).append(st))

    def record_spikes(self, populations: Union[bool, Iterable[str]] = True) -> None:
        """Which populations' spikes are recorded: True (all, the default), False, or a
        list of names."""
        sel = populations if isinstance(populations, bool) else list(populations)
        self._change(lambda t: t.setdefault("record", {}).__setitem__("spikes", sel))

    def record_voltage(self, population: str, neurons=None, every_steps: int = 1,
                       variable: str = "v_mv") -> None:
        """Records the membrane potential of ``neurons`` (default: all) of
        ``population`` every ``every_steps`` steps, and at t = 0; with ``variable``
        ``"syn_ampa"`` or ``"syn_gaba_a"``, the synaptic current (pA, current kinds) or
        conductance (nS, conductance kinds) of that receptor instead, and with
        ``"dsyn_ampa"`` or ``"dsyn_gaba_a"`` (alpha kinds) its derivative state
        (``Simulation.voltages(population, variable)``)."""
        probe: dict = {"population": population, "every_steps": int(every_steps)}
        if variable != "v_mv":
            probe["variable"] = variable
        if neurons is not None:
            probe["neurons"] = _indices(neurons, "record_voltage: neurons")

        def edit(t):
            rec = t.setdefault("record", {})
            rec["voltage"] = list(rec.get("voltage", [])) + [probe]

        self._change(edit)


def load(path: Union[str, os.PathLike]) -> Network:
    """Reads a TOML network config into a :class:`Network`, validated as ``galvani run``
    validates it (a bad file raises ``ValueError`` with the same message). Relative
    paths inside it resolve against its folder; its ``duration_ms`` is what
    ``Simulation.run()`` without an argument simulates."""
    path = os.fspath(path)
    return Network._from_tree(_native.load_toml(path), path)
