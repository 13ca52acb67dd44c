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

Whole runs into an output folder, as the command line does them:
:func:`run_config` (``galvani run``, optionally checkpointed) and :func:`resume`
(``galvani resume``); the backend comparison: :func:`compare` or
:meth:`Simulation.compare` (``galvani compare``), giving a :class:`Comparison`.

Modules: :mod:`galvani.network` (:class:`Network`, :func:`load`),
:mod:`galvani.simulation` (:class:`Simulation`, :func:`run_config`, :func:`resume`,
:func:`compare`, :class:`Comparison`); ``galvani._native`` is the compiled core (typed
in ``_native.pyi``).
"""

from __future__ import annotations

from . import _native
from .network import SOURCE, Network, Value, load
from .simulation import Comparison, Simulation, compare, resume, run_config

__all__ = [
    "Network",
    "Simulation",
    "load",
    "run_config",
    "resume",
    "compare",
    "Comparison",
    "__version__",
]
__version__ = _native.__version__
