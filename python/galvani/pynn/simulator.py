"""The simulator state of galvani.pynn: what PyNN has described so far, and the
galvani.Simulation it becomes.

PyNN describes a network piece by piece; galvani builds a whole network at once (so that
both backends simulate the identical arrays). The state collects populations,
projections (galvani connection rules, or their connections as arrays), current sources and recording requests, and
builds a ``galvani.Network`` + ``galvani.Simulation`` at the first ``run``. Parameter,
spike-time and current changes after that go to the running simulation (``set``,
``set_spike_times``, ``set_current``); a change of structure (a new population,
projection, current source or voltage probe, or new weights) rebuilds it, which is only
possible at t = 0.
"""

import numpy as np

from pyNN import common, errors

import galvani

name = "galvani"


class ID(int, common.IDMixin):
    """A cell id: an int with PyNN's cell methods."""

    def __init__(self, n):
        int.__init__(n)
        common.IDMixin.__init__(self)


class State(common.control.BaseState):
    """The one simulator state of the module (``state``)."""

    def __init__(self):
        common.control.BaseState.__init__(self)
        self.mpi_rank = 0
        self.num_processes = 1
        self.dt = 0.1
        self.min_delay = 0.1
        self.min_delay_auto = False
        self.max_delay = 10.0
        self.backend = "cpu"
        self.precision = "f64"
        self.seed = 1234
        self.record_sample_times = False
        self.clear()

    # -- the description ------------------------------------------------------------

    def clear(self):
        """Forgets the network (``setup``/``end``)."""
        self.recorders = set()
        self.populations = []
        self.projections = []
        self.current_sources = []
        self.id_counter = 0
        self.segment_counter = -1
        self.sim = None
        self.net = None  # the galvani.Network of the last build
        self.ran = False  # whether the simulation of the last build has run any step
        self.dirty = True
        self.t_empty = 0.0  # time run with no network (PyNN allows that)
        self.reset()

    def reset(self):
        """Back to t = 0 (PyNN's ``reset``): a new segment; parameters are kept."""
        self.running = False
        self.t_start = 0
        self.t_empty = 0.0
        self.segment_counter += 1
        if self.sim is not None:
            self.sim.reset()
            for p in self.populations:
                p._apply_initial_values()

    def changed(self, what):
        """Marks the structure as changed: the next run builds the network anew."""
        if self.t > 0:
            raise NotImplementedError(
                f"galvani.pynn: {what} after the simulation has started needs reset() first "
                "(galvani builds the whole network at once)"
            )
        self.dirty = True

    # -- time -------------------------------------------------------------------------

    @property
    def t(self):
        return self.t_empty if self.sim is None else self.sim.t

    def _build(self):
        net = galvani.Network(dt_ms=self.dt, seed=self.seed)
        self.stimuli = []
        with net._deferred():  # one validation of the whole description
            for p in self.populations:
                p._add_to(net)
            for prj in self.projections:
                prj._add_to(net)
            for cs in self.current_sources:
                cs._add_to(net)
            net.record_spikes(True)
            for p in self.populations:
                p.recorder._add_probes(net)
        if self.min_delay_auto:
            delays = [d for d in (prj._min_delay() for prj in self.projections) if d is not None]
            self.min_delay = float(min(delays)) if delays else self.dt
        self.sim = None  # the old one's memory is free before the new one is built
        self.net = net
        self.ran = False
        self.sim = galvani.Simulation(net, backend=self.backend, precision=self.precision)
        for p in self.populations:
            p._apply_initial_values()
        self.dirty = False

    def _ensure_built(self):
        if self.sim is None or self.dirty:
            self._build()

    def _steps_to(self, tstop):
        k = int(round((tstop - self.t) / self.dt))
        return max(k, 0)

    def run(self, simtime):
        self.run_until(self.t + simtime)

    def run_until(self, tstop):
        if not self.populations:
            self.t_empty = self.t + self._steps_to(tstop) * self.dt
            self.running = True
            return
        self._ensure_built()
        k = self._steps_to(tstop)
        # Currents that change every step (ACSource, NoisyCurrentSource) get the schedule
        # of each piece of at most WINDOW steps (runs split anywhere give the same
        # result), so the host's per-step edge check stays short.
        windowed = [cs for cs in self.current_sources if cs._windowed]
        while True:
            piece = min(k, WINDOW) if windowed else k
            for cs in windowed:
                cs._refresh(self.t, self.t + piece * self.dt)
            if piece:
                if not self.ran:
                    self.ran = True
                    for prj in self.projections:
                        prj._note_run()
                self.sim.run(piece * self.sim.dt_ms)
            k -= piece
            if k <= 0:
                break
        self.running = True


#: Steps per piece of a run with per-step currents (see ``State.run_until``).
WINDOW = 1000

state = State()
