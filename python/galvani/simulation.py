"""Simulating a network: :class:`Simulation` (in memory, run in pieces), whole runs
into an output folder (:func:`run_config`, :func:`resume`: ``galvani run`` and
``galvani resume``), and the backend comparison (:func:`compare`,
:meth:`Simulation.compare`, :class:`Comparison`: ``galvani compare``).

Every run releases the GIL, and Ctrl-C stops it between batches of steps with
``KeyboardInterrupt``.
"""

from __future__ import annotations

import os
from typing import List, Optional, Tuple, Union

import numpy as np

from . import _native
from .network import Network

__all__ = ["Simulation", "Comparison", "compare", "run_config", "resume"]

PathLike = Union[str, "os.PathLike[str]"]


def _threads(threads) -> Optional[int]:
    if threads is not None and (
        isinstance(threads, bool) or not isinstance(threads, (int, np.integer)) or threads < 1
    ):
        raise ValueError(f"threads: expected None or a positive integer, got {threads!r}")
    return None if threads is None else int(threads)


class Comparison:
    """The verdict of a backend comparison (``galvani compare``): the network run on
    the CPU and on the GPU (f32), judged by the core's typed checks.

    ``agree``: whether every check held (also the truth value of the object);
    ``checks``: ``[(ok, what), ...]``, every criterion with its measured value and
    bound; ``failures``: the ``what`` of the checks that failed; ``report``: the text
    ``galvani compare`` prints; ``statistical``: True for HV networks (chaotic, judged
    against a CPU f32-vs-f64 yardstick), False for LIF (spike trains must be identical
    over a span).
    """

    __slots__ = ("_report", "checks", "statistical")

    def __init__(self, report: List[str], checks: List[Tuple[bool, str]], statistical: bool):
        self._report = list(report)
        self.checks: List[Tuple[bool, str]] = [(bool(ok), str(what)) for ok, what in checks]
        self.statistical = bool(statistical)

    @property
    def agree(self) -> bool:
        """Whether every check held."""
        return all(ok for ok, _ in self.checks)

    @property
    def failures(self) -> List[str]:
        """What failed (empty when the backends agree)."""
        return [what for ok, what in self.checks if not ok]

    @property
    def report(self) -> str:
        """The report ``galvani compare`` prints, one line per line."""
        return "\n".join(self._report)

    def __bool__(self) -> bool:
        return self.agree

    def __repr__(self) -> str:
        verdict = "agree" if self.agree else "disagree: " + "; ".join(self.failures)
        return f"<galvani.Comparison: {len(self.checks)} checks, backends {verdict}>"


def compare(network: Union[Network, PathLike], duration_ms: Optional[float] = None,
            **tolerances) -> Comparison:
    """Compares the backends on a network, as ``galvani compare`` does: runs it on the
    CPU and on the GPU (f32) from t = 0 for ``duration_ms`` (default: the network's
    ``duration_ms``; a network built in Python needs it given) and judges the spike
    trains and recorded voltages. ``network``: a :class:`Network` or the path of a
    TOML config. ``tolerances`` (the CLI's options, defaults as there):
    ``identical_ms``, ``v_tol_mv``, ``rate_tol``; for HV networks ``match_ms``,
    ``t_tol_ms``, ``count_tol``, ``mean_dcount``, ``min_corr``, ``hv_v_tol_mv``; and
    ``threads`` (the CPU side's). Returns a :class:`Comparison` (a disagreement is a
    verdict, not an exception); no GPU adapter raises ``RuntimeError``."""
    if isinstance(network, Network):
        out = _native.compare_tree(network._tree, network._source,
                                   duration_ms=duration_ms, **tolerances)
    elif isinstance(network, (str, os.PathLike)):
        out = _native.compare_config(os.fspath(network), duration_ms=duration_ms,
                                     **tolerances)
    else:
        raise ValueError(
            f"compare: expected a galvani.Network or the path of a TOML config, got {type(network).__name__}"
        )
    return Comparison(*out)


def run_config(
    config: PathLike,
    out: PathLike,
    backend: str = "auto",
    precision: str = "f32",
    duration_ms: Optional[float] = None,
    seed: Optional[int] = None,
    threads: Optional[int] = None,
    checkpoint_every_ms: Optional[float] = None,
    quiet: bool = True,
) -> dict:
    """Runs a TOML config into the folder ``out`` as ``galvani run`` does: streams the
    spikes and probes into its CSVs, writes ``summary.json``, and with
    ``checkpoint_every_ms`` a checkpoint every that many simulated ms (and at a stop),
    which :func:`resume` continues from. ``duration_ms`` and ``seed`` override the
    config's; ``threads`` (CPU backend) does not change the results; ``quiet=False``
    prints notices (such as the CPU fallback of ``"auto"``).

    Returns the summary (the dict ``summary.json`` holds). The GIL is released while it
    runs; Ctrl-C stops it between batches with ``KeyboardInterrupt`` (the CSVs keep
    every batch written, and with checkpoints on, :func:`resume` continues it)."""
    if seed is not None and (
        isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0
    ):
        raise ValueError(f"seed: expected None or a non-negative integer, got {seed!r}")
    return _native.run_config(
        os.fspath(config), os.fspath(out), backend, precision,
        None if duration_ms is None else float(duration_ms),
        None if seed is None else int(seed),
        _threads(threads),
        None if checkpoint_every_ms is None else float(checkpoint_every_ms),
        bool(quiet),
    )


def resume(out: PathLike, threads: Optional[int] = None, quiet: bool = True) -> dict:
    """Continues the run in the folder ``out`` (of :func:`run_config` or ``galvani run``
    with ``checkpoint_every_ms``) from its checkpoint to the end, as ``galvani
    resume`` does: the CSVs end byte-identical to an uninterrupted run's. The config
    must be unchanged; ``threads`` may differ from the first run's. Returns the summary
    (``resumed_from_ms`` says where it continued). A folder without a checkpoint raises
    ``ValueError`` naming the file; Ctrl-C stops it again with ``KeyboardInterrupt``."""
    return _native.resume(os.fspath(out), _threads(threads), bool(quiet))


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
        self._sim = _native._Simulation(
            network._tree, network._source, backend, precision, _threads(threads)
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
        in-memory records start empty. A mismatched, damaged or crafted file (or a path
        that is not a regular file) raises ValueError, and the simulation stays exactly
        as it was."""
        self._sim.load(os.fspath(path))

    def spikes(self, population: str) -> Tuple[np.ndarray, np.ndarray]:
        """``(times_ms, neurons)`` of ``population`` since t = 0: float64 times (the end
        of the step for LIF, the interpolated crossing for HV) and int64
        population-local indices, sorted by time, then neuron."""
        return self._sim.spikes(population)

    def voltages(self, population: str, variable: str = "v_mv") -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(times_ms, neurons, v_mv)`` of the recorded probes of ``population``,
        starting with the t = 0 sample: float64, int64, float64, by time, then probe.
        ``variable``: ``"syn_ampa"`` / ``"syn_gaba_a"`` (and ``"dsyn_ampa"`` /
        ``"dsyn_gaba_a"`` for alpha synapses; ``"u"`` for Izhikevich) for the probes of other variables
        (``record_voltage(..., variable=...)``)."""
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

    def compare(self, duration_ms: Optional[float] = None, **tolerances) -> Comparison:
        """Compares the backends on this simulation's network, as :func:`compare` does:
        the network with its current parameters (:meth:`set` changes included) run
        afresh from t = 0 on the CPU and on the GPU (f32) for ``duration_ms`` (default:
        the network's ``duration_ms``). This simulation is untouched. Returns a
        :class:`Comparison`; no GPU adapter raises ``RuntimeError``."""
        return Comparison(*self._sim.compare(duration_ms=duration_ms, **tolerances))

    def __repr__(self) -> str:
        return (
            f"<galvani.Simulation t={self.t} ms on {self.backend} ({self.device}, "
            f"{self.precision}); populations {self.populations}>"
        )
