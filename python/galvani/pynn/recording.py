"""Recording for galvani.pynn: spikes come from galvani's spike record (every
population's spikes are recorded), membrane potentials from voltage probes on the
recorded cells, sampled at the recorder's sampling interval from t = 0."""

import numpy as np

from pyNN import errors, recording

from . import simulator


class Recorder(recording.Recorder):
    _simulator = simulator

    def _record(self, variable, new_ids, sampling_interval=None):
        if variable.name not in ("spikes", "v"):
            raise NotImplementedError(
                f"galvani.pynn records spikes and v; recording '{variable.name}' is not supported"
            )
        if sampling_interval is not None:
            self.sampling_interval = sampling_interval
        if variable.name == "v" and new_ids:
            simulator.state.changed("recording v from more cells")

    def _start(self):
        return float(np.asarray(self._recording_start_time.magnitude))

    def _v_ids(self):
        return sorted(int(i) for v, ids in self.recorded.items() if v.name == "v" for i in ids)

    def _add_probes(self, net):
        ids = self._v_ids()
        if not ids:
            return
        every = int(round(self.sampling_interval / simulator.state.dt))
        if every < 1 or abs(every * simulator.state.dt - self.sampling_interval) > 1e-9 * every:
            raise ValueError(
                f"sampling_interval {self.sampling_interval} ms is not a whole number of "
                f"time steps ({simulator.state.dt} ms)"
            )
        local = self.population.id_to_index(np.asarray(ids))
        net.record_voltage(self.population._gname, neurons=np.atleast_1d(local), every_steps=every)

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
        t, n, v = sim.voltages(self.population._gname)
        probes = self.population.id_to_index(np.asarray(self._v_ids()))
        probes = np.atleast_1d(probes)
        k = len(probes)
        if k == 0 or t.size == 0:
            return np.zeros((0, len(ids))), None
        t = t.reshape(-1, k)[:, 0]
        v = v.reshape(-1, k)
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
