"""Recording for galvani.pynn: spikes come from galvani's spike record (every
population's spikes are recorded), v and gsyn_exc/gsyn_inh (conductance-based cells)
from probes on the recorded cells (`variable` v_mv, syn_ampa, syn_gaba_a), sampled at
the recorder's sampling interval from t = 0."""

import numpy as np

from pyNN import errors, recording

from . import simulator


#: PyNN's recordable signals, galvani's probe variable and the scale into PyNN's units
_SIGNALS = {"v": ("v_mv", 1.0), "gsyn_exc": ("syn_ampa", 1e-3), "gsyn_inh": ("syn_gaba_a", 1e-3),
            "u": ("u", 1.0), "w": ("w", 1e-3), "m": ("m", 1.0), "h": ("h", 1.0),
            "n": ("n", 1.0)}


class Recorder(recording.Recorder):
    _simulator = simulator

    def _record(self, variable, new_ids, sampling_interval=None):
        if variable.name != "spikes" and variable.name not in _SIGNALS:
            raise NotImplementedError(
                f"galvani.pynn records spikes, v, gsyn_exc and gsyn_inh; recording "
                f"'{variable.name}' is not supported"
            )
        if variable.name.startswith("gsyn") and not self.population.celltype.conductance_based:
            raise NotImplementedError(
                f"galvani.pynn records {variable.name} of conductance-based cells only"
            )
        if sampling_interval is not None:
            self.sampling_interval = sampling_interval
        if variable.name != "spikes" and new_ids:
            simulator.state.changed(f"recording {variable.name} from more cells")

    def _start(self):
        return float(np.asarray(self._recording_start_time.magnitude))

    def _ids(self, name):
        return sorted(int(i) for v, ids in self.recorded.items() if v.name == name for i in ids)

    def _add_probes(self, net):
        every = int(round(self.sampling_interval / simulator.state.dt))
        if every < 1 or abs(every * simulator.state.dt - self.sampling_interval) > 1e-9 * every:
            raise ValueError(
                f"sampling_interval {self.sampling_interval} ms is not a whole number of "
                f"time steps ({simulator.state.dt} ms)"
            )
        for name, (var, _) in _SIGNALS.items():
            ids = self._ids(name)
            if ids:
                local = np.atleast_1d(self.population.id_to_index(np.asarray(ids)))
                net.record_voltage(self.population._gname, neurons=local, every_steps=every,
                                   variable=var)

    def _get_spiketimes(self, ids, clear=False):
        sim = simulator.state.sim
        ids = np.asarray(ids, dtype=int)
        if sim is None:
            return np.zeros(0, int), np.zeros(0)
        t, n = sim.spikes(self.population._gname)
        gid = n + int(self.population.first_id)
        mask = np.isin(gid, ids) & (t > self._start() + 1e-9)
        return gid[mask], t[mask].copy()

    def _get_all_signals(self, variable, ids, clear=False):
        sim = simulator.state.sim
        if sim is None or not ids:
            return np.zeros((0, len(ids))), None
        var, scale = _SIGNALS[variable.name]
        t, n, v = sim.voltages(self.population._gname, var)
        probes = np.atleast_1d(self.population.id_to_index(np.asarray(self._ids(variable.name))))
        k = len(probes)
        if k == 0 or t.size == 0:
            return np.zeros((0, len(ids))), None
        t = t.reshape(-1, k)[:, 0]
        v = v.reshape(-1, k) * scale
        want = np.atleast_1d(self.population.id_to_index(np.asarray(ids)))
        cols = np.searchsorted(probes, want)
        keep = t >= self._start() - 1e-9
        return v[keep][:, cols], None

    def _local_count(self, variable, filter_ids=None):
        ids = sorted(self.filter_recorded(variable, filter_ids))
        gid, _ = self._get_spiketimes(ids)
        counts = {int(i): 0 for i in ids}
        for g in gid:
            counts[int(g)] += 1
        return counts

    def _clear_simulator(self):
        pass  # galvani keeps its records; what is before the new start time is skipped

    def _reset(self):
        pass
