"""Typed stubs of ``galvani._native``, the compiled core of the galvani package (the
pyo3 crate ``crates/galvani-py``). Use ``galvani``, not this module: its classes and
functions wrap these and document them."""

from os import PathLike
from typing import Any, Dict, List, Optional, Tuple, Union

import numpy as np
import numpy.typing as npt

__version__: str

_Path = Union[str, PathLike[str]]
_F64 = npt.NDArray[np.float64]
_I64 = npt.NDArray[np.int64]

#: (report lines, [(ok, what), ...], statistical)
_Comparison = Tuple[List[str], List[Tuple[bool, str]], bool]

def load_toml(path: _Path) -> Dict[str, Any]:
    """Reads and validates a TOML network config as ``galvani run`` does; returns its
    tree."""

def validate(tree: Dict[str, Any], source: str) -> None:
    """Validates a network tree as a config file is validated (ValueError with the
    CLI's message); numpy arrays of values, spike times and edges are checked in
    place."""

def sorted_edges(
    pre: _I64,
    post: _I64,
    weight: Optional[_F64] = None,
    delay_ms: Optional[_F64] = None,
) -> Tuple[_I64, _I64, Optional[_F64], Optional[_F64]]:
    """New arrays of the edges stably sorted by (pre, post) (copies in the given order
    when sorted already or not sortable: mismatched lengths, bad indices)."""

def run_config(
    config: _Path,
    out: _Path,
    backend: str = "auto",
    precision: str = "f32",
    duration_ms: Optional[float] = None,
    seed: Optional[int] = None,
    threads: Optional[int] = None,
    checkpoint_every_ms: Optional[float] = None,
    quiet: bool = True,
) -> Dict[str, Any]:
    """``galvani run``: returns the summary (``summary.json``)."""

def resume(out: _Path, threads: Optional[int] = None, quiet: bool = True) -> Dict[str, Any]:
    """``galvani resume``: returns the summary (``summary.json``)."""

def compare_tree(
    tree: Dict[str, Any],
    source: str,
    *,
    duration_ms: Optional[float] = None,
    identical_ms: Optional[float] = None,
    v_tol_mv: Optional[float] = None,
    rate_tol: Optional[float] = None,
    match_ms: Optional[float] = None,
    t_tol_ms: Optional[float] = None,
    count_tol: Optional[float] = None,
    mean_dcount: Optional[float] = None,
    min_corr: Optional[float] = None,
    hv_v_tol_mv: Optional[float] = None,
    threads: Optional[int] = None,
) -> _Comparison:
    """``galvani compare`` on a network tree."""

def compare_config(
    path: _Path,
    *,
    duration_ms: Optional[float] = None,
    identical_ms: Optional[float] = None,
    v_tol_mv: Optional[float] = None,
    rate_tol: Optional[float] = None,
    match_ms: Optional[float] = None,
    t_tol_ms: Optional[float] = None,
    count_tol: Optional[float] = None,
    mean_dcount: Optional[float] = None,
    min_corr: Optional[float] = None,
    hv_v_tol_mv: Optional[float] = None,
    threads: Optional[int] = None,
) -> _Comparison:
    """``galvani compare CONFIG``."""

class _Simulation:
    """The simulation engine behind ``galvani.Simulation``."""

    def __init__(
        self,
        tree: Dict[str, Any],
        source: str,
        backend: str,
        precision: str,
        threads: Optional[int] = None,
    ) -> None: ...
    def run_steps(self, steps: int) -> float:
        """Runs ``steps`` more steps (GIL released); returns the wall seconds."""
    def steps_in(self, ms: float) -> int: ...
    @property
    def step(self) -> int: ...
    @property
    def t_ms(self) -> float: ...
    @property
    def dt_ms(self) -> float: ...
    @property
    def default_steps(self) -> int: ...
    @property
    def populations(self) -> List[str]: ...
    @property
    def sizes(self) -> List[int]: ...
    @property
    def variables(self) -> List[str]: ...
    @property
    def synapses(self) -> int: ...
    @property
    def info(self) -> Tuple[str, str, str]:
        """(backend, device, precision)"""
    @property
    def threads(self) -> Optional[int]: ...
    @property
    def spike_counts(self) -> List[int]: ...
    def reset(self) -> None: ...
    def save(self, path: _Path) -> None: ...
    def load(self, path: _Path) -> None: ...
    def spikes(self, population: str) -> Tuple[_F64, _I64]: ...
    def voltages(self, population: str, variable: str = "v_mv") -> Tuple[_F64, _I64, _F64]: ...
    def get(self, population: str, key: str) -> _F64: ...
    def set(self, population: str, key: str, values: _F64) -> None: ...
    def set_spike_times(self, population: str, times: List[_F64]) -> None: ...
    def spike_times(self, population: str) -> List[_F64]: ...
    def set_current(self, index: int, times_ms: _F64, amplitudes_pa: _F64) -> None: ...
    def compare(
        self,
        *,
        duration_ms: Optional[float] = None,
        identical_ms: Optional[float] = None,
        v_tol_mv: Optional[float] = None,
        rate_tol: Optional[float] = None,
        match_ms: Optional[float] = None,
        t_tol_ms: Optional[float] = None,
        count_tol: Optional[float] = None,
        mean_dcount: Optional[float] = None,
        min_corr: Optional[float] = None,
        hv_v_tol_mv: Optional[float] = None,
        threads: Optional[int] = None,
    ) -> _Comparison:
        """``galvani compare`` on this simulation's network."""
