"""galvani: spiking neural networks on any GPU (wgpu), with a CPU reference backend.

Describe a network with :class:`Network` (or read one from a TOML config with
:func:`load`), simulate it with :class:`Simulation`, and read spikes and voltages back
as numpy arrays::

    import galvani
    net = galvani.Network(dt_ms=0.1, seed=1)
    net.add_population("exc", 800, params={"e_l_mv": -49.0, "v_th_mv": -50.0},
                       init={"v_mv": {"uniform": [-60.0, -50.0]}})
    net.add_projection("exc", "exc", weight=20.0, delay_ms=0.8,
                       rule="fixed_probability", p=0.02)
    net.record_voltage("exc", neurons=[0, 1])
    sim = galvani.Simulation(net, backend="cpu")
    sim.run(100.0)
    times_ms, neurons = sim.spikes("exc")

A :class:`Network` is the same description a TOML config holds (the same tables, keys,
defaults and units; see the README), and it is validated by the same code, with the
same messages: bad input raises ``ValueError``.
"""

from __future__ import annotations

import contextlib
import copy
import os
from typing import Any, Iterable, Mapping, Optional, Sequence, Tuple, Union

import numpy as np

from . import _native

__all__ = ["Network", "Simulation", "load", "__version__"]
__version__ = _native.__version__

#: The name :class:`Network` objects built in Python go by in error messages.
SOURCE = "galvani.Network"

Value = Union[float, int, Mapping[str, Any], Sequence[float], np.ndarray]


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
            a = np.asarray(v, dtype=np.float64)
            if a.ndim != 1:
                raise ValueError(f"{what}.{key}: expected a 1-d array, got shape {a.shape}")
            out[key] = np.ascontiguousarray(a)
        else:
            out[key] = v
    return out


def _indices(v, what: str) -> np.ndarray:
    a = np.asarray(v)
    if a.ndim != 1:
        raise ValueError(f"{what}: expected a 1-d array of indices, got shape {a.shape}")
    if a.size and not np.issubdtype(a.dtype, np.integer):
        raise ValueError(f"{what}: expected integer indices, got dtype {a.dtype}")
    return np.ascontiguousarray(a, dtype=np.int64)


class Network:
    """A network description: populations, projections, stimuli and what to record.

    ``Network(dt_ms=None, seed=None)``: the time step (ms; default 0.1 for LIF
    networks, 1/70 for HV) and the seed every random choice derives from (default 1234).

    It holds exactly what a TOML config holds (``to_dict()`` shows the tree), and every
    change is validated at once by the code that validates config files, so a mistake
    raises ``ValueError`` with the message ``galvani run`` would print, and the change
    is not kept.
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
        saved = copy.deepcopy(self._tree)
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
        """A deep copy of the description, as the tree a TOML config parses into."""
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
        ``spike_times``, one sequence of times in ms per neuron) or ``"poisson_source"``
        (``params``: ``rate_hz``, ``start_ms``, ``duration_ms``). ``synapse`` (LIF): ``"delta"``,
        ``"exp_current"`` (default) or ``"exp_conductance"``. ``params`` and ``init``
        map names (``tau_m_ms``, ``v_th_mv``, ...; ``init``: ``v_mv``, and ``w`` for HV) to
        a number, a numpy array or sequence of one value per neuron, or a distribution
        table such as ``{"uniform": [a, b]}``, ``{"normal": [mean, sd]}``,
        ``{"linspace": [a, b]}``. Omitted parameters take the spec's defaults.
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
                np.ascontiguousarray(np.asarray(t, dtype=np.float64).reshape(-1))
                for t in spike_times
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
        ``weight`` in pA (exp_current), mV (delta), nS (exp_conductance) or receptor
        activation (HV); ``delay_ms`` rounded to whole steps, at least one (the default).
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
        synapse of summed weight, as with an edge file.
        """
        pi = _indices(pre_index, "add_edges: pre_index")
        qi = _indices(post_index, "add_edges: post_index")
        connect: dict = {"rule": "edges", "pre": pi, "post": qi}
        pr: dict = {"pre": pre, "post": post, "receptor": receptor}
        for key, v in (("weight", weight), ("delay_ms", delay_ms)):
            if v is None:
                continue
            if np.ndim(v) == 0:
                pr[key] = float(v)
            else:
                connect[key] = np.ascontiguousarray(np.asarray(v, dtype=np.float64))
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
            k: (np.ascontiguousarray(np.asarray(v, dtype=np.float64))
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
        ``"syn_ampa"`` or ``"syn_gaba_a"``, the synaptic current (pA, exp_current) or
        conductance (nS, exp_conductance) of that receptor instead
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


class Simulation:
    """A network being simulated.

    ``Simulation(network, backend="auto", precision="f32", threads=None)``

    ``backend``: ``"cpu"``, ``"gpu"`` or ``"auto"`` (a hardware GPU adapter if wgpu
    finds one, else the CPU; a software adapter such as lavapipe only with ``"gpu"``).
    ``precision``: ``"f32"`` or ``"f64"`` (CPU only). ``threads``: None or a positive
    integer: the CPU backend's threads (default: the network's ``threads``, else every
    core). The results are the same, bit for bit, for any number of threads.

    :meth:`run` continues where the last run stopped: ``run(100)`` then ``run(900)``
    records exactly (bit for bit) what ``run(1000)`` records. :meth:`reset` returns to
    t = 0. Device errors raise ``RuntimeError``; bad arguments ``ValueError``.
    """

    def __init__(
        self,
        network: Network,
        backend: str = "auto",
        precision: str = "f32",
        threads: Optional[int] = None,
    ):
        if not isinstance(network, Network):
            raise ValueError(
                f"network: expected a galvani.Network (or galvani.load(path)), got {type(network).__name__}"
            )
        if threads is not None and (
            isinstance(threads, bool) or not isinstance(threads, (int, np.integer)) or threads < 1
        ):
            raise ValueError(f"threads: expected None or a positive integer, got {threads!r}")
        self._sim = _native._Simulation(
            network._tree, network._source, backend, precision, None if threads is None else int(threads)
        )
        self._sizes = dict(zip(self._sim.populations, self._sim.sizes))

    def run(self, ms: Optional[float] = None) -> float:
        """Simulates ``ms`` more milliseconds (a whole number of steps); without an
        argument, the network's ``duration_ms`` (from its TOML config). The GIL is
        released while it runs; Ctrl-C stops it between batches of steps with
        ``KeyboardInterrupt`` (what ran is kept, and :attr:`t` says how far).
        Returns the wall seconds of the simulation loop."""
        if ms is None:
            steps = self._sim.default_steps
            if steps == 0:
                raise ValueError(
                    "run(): this network has no duration_ms (it was built in Python); give run(ms)"
                )
        else:
            steps = self._sim.steps_in(float(ms))
        return self._sim.run_steps(steps)

    @property
    def t(self) -> float:
        """The simulated time (ms)."""
        return self._sim.t_ms

    @property
    def dt_ms(self) -> float:
        """The time step (ms)."""
        return self._sim.dt_ms

    @property
    def populations(self) -> dict:
        """Population names and sizes, in order."""
        return dict(self._sizes)

    @property
    def backend(self) -> str:
        """``"cpu"`` or ``"gpu"``: where it runs."""
        return self._sim.info[0]

    @property
    def device(self) -> str:
        """The device (CPU model or GPU adapter)."""
        return self._sim.info[1]

    @property
    def precision(self) -> str:
        """``"f32"`` or ``"f64"``."""
        return self._sim.info[2]

    @property
    def threads(self) -> Optional[int]:
        """The CPU backend's threads (fewer than asked for when the network has fewer
        neurons); None on the GPU."""
        return self._sim.threads

    @property
    def synapses(self) -> int:
        """Synapses stored (multapses merged)."""
        return self._sim.synapses

    @property
    def variables(self) -> list:
        """What :meth:`get` and :meth:`set` accept: state variables, then parameters."""
        return list(self._sim.variables)

    def spike_counts(self) -> dict:
        """Spikes per population since t = 0 (recorded or not)."""
        return dict(zip(self._sim.populations, self._sim.spike_counts))

    def reset(self) -> None:
        """Back to t = 0: initial state, empty synaptic input and delay queues, no
        records. Parameters changed with :meth:`set` keep their new values."""
        self._sim.reset()

    def save(self, path: Union[str, os.PathLike]) -> None:
        """Writes a checkpoint of the complete simulation state to ``path``, atomically
        (a crash during the write leaves the previous file intact): the neuron state,
        pending synaptic input, the step, spike counts and every parameter. Records
        kept in memory (:meth:`spikes`, :meth:`voltages`) are not part of it."""
        self._sim.save(os.fspath(path))

    def load(self, path: Union[str, os.PathLike]) -> None:
        """Continues from a checkpoint written by :meth:`save` or by ``galvani run
        --checkpoint-every-ms`` for the same network (same config, seed and dt: checked)
        in the same precision; f32 checkpoints load into the CPU and the GPU backend
        alike. ``t``, spike counts and changed parameters become the checkpoint's; the
        in-memory records start empty. A mismatched or damaged file raises ValueError."""
        self._sim.load(os.fspath(path))

    def spikes(self, population: str) -> Tuple[np.ndarray, np.ndarray]:
        """``(times_ms, neurons)`` of ``population`` since t = 0: float64 times (the end
        of the step for LIF, the interpolated crossing for HV) and int64
        population-local indices, sorted by time, then neuron."""
        return self._sim.spikes(population)

    def voltages(self, population: str, variable: str = "v_mv") -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(times_ms, neurons, v_mv)`` of the recorded probes of ``population``,
        starting with the t = 0 sample: float64, int64, float64, by time, then probe.
        ``variable``: ``"syn_ampa"`` / ``"syn_gaba_a"`` for the probes of synaptic
        variables (``record_voltage(..., variable=...)``)."""
        return self._sim.voltages(population, variable)

    def get(self, population: str, name: str) -> np.ndarray:
        """The current value of a state variable (``v_mv``; ``w`` for HV) or parameter
        of each neuron of ``population`` (float64)."""
        return self._sim.get(population, name)

    def set(self, population: str, name: str, value) -> None:
        """Sets a state variable or parameter of ``population``: a number for all
        neurons or an array of one per neuron. Parameters are checked as in a config;
        the membrane potential is kept when one changes. Acts from the next step."""
        a = np.ascontiguousarray(np.atleast_1d(np.asarray(value, dtype=np.float64)))
        if a.ndim != 1:
            raise ValueError(f"set: expected a number or a 1-d array, got shape {a.shape}")
        self._sim.set(population, name, a)

    def set_spike_times(self, population: str, times) -> None:
        """Replaces the spike times (ms) of a ``spike_source`` population: one sequence
        per neuron. Acts from the next step; times already past are never emitted."""
        self._sim.set_spike_times(
            population,
            [np.ascontiguousarray(np.asarray(t, dtype=np.float64).reshape(-1)) for t in times],
        )

    def spike_times(self, population: str) -> list:
        """The spike times (ms) of a ``spike_source`` population, one array per neuron."""
        return self._sim.spike_times(population)

    def set_current(self, index: int, times_ms, amplitudes_pa) -> None:
        """Replaces the current of stimulus ``index`` (a ``current_pulse``,
        ``dc_current`` or ``step_current``, in the order added) by a step current:
        ``amplitudes_pa[k]`` from ``times_ms[k]`` on, 0 before the first. Acts from the
        next step."""
        self._sim.set_current(
            int(index),
            np.ascontiguousarray(np.asarray(times_ms, dtype=np.float64).reshape(-1)),
            np.ascontiguousarray(np.asarray(amplitudes_pa, dtype=np.float64).reshape(-1)),
        )

    def __repr__(self) -> str:
        return (
            f"<galvani.Simulation t={self.t} ms on {self.backend} ({self.device}, "
            f"{self.precision}); populations {self.populations}>"
        )
