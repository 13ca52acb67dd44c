//! `galvani._native._Simulation`: the engine behind `galvani.Simulation`.

use std::path::PathBuf;

use galvani::Simulation;
use galvani::network::Network;
use numpy::{IntoPyArray, PyArray1, PyReadonlyArray1};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::runs::{
    PyComparison, Signals, compare_options, comparison_to_py, parse_backend, parse_precision,
    parse_threads,
};
use crate::{py_err, tree};

/// The simulation engine behind `galvani.Simulation` (see its docstring). Methods that
/// change it take `&mut self`: pyo3's borrow flag makes them exclusive.
#[pyclass(name = "_Simulation", module = "galvani._native")]
pub(crate) struct PySimulation {
    sim: Simulation,
}

fn population_names(net: &Network) -> Vec<String> {
    net.populations.iter().map(|p| p.name.clone()).collect()
}

/// The elements of a numpy array: its buffer when contiguous, else a copy.
fn values<'a>(a: &'a PyReadonlyArray1<'_, f64>) -> std::borrow::Cow<'a, [f64]> {
    match a.as_slice() {
        Ok(s) => std::borrow::Cow::Borrowed(s),
        Err(_) => std::borrow::Cow::Owned(a.as_array().to_vec()),
    }
}

#[pymethods]
impl PySimulation {
    #[new]
    #[pyo3(signature = (tree, source, backend, precision, threads=None))]
    fn new(
        py: Python<'_>,
        tree: &Bound<'_, PyDict>,
        source: &str,
        backend: &str,
        precision: &str,
        threads: Option<u64>,
    ) -> PyResult<Self> {
        let kind = parse_backend(backend)?;
        let precision = parse_precision(precision)?;
        let mut cfg = tree::config_of(tree, source)?;
        if let Some(t) = parse_threads(threads)? {
            cfg.simulation.threads = Some(t as u64);
        }
        let sim = py
            .detach(|| Simulation::from_config(&cfg, kind, precision, true))
            .map_err(py_err)?;
        Ok(PySimulation { sim })
    }

    /// Runs `steps` more steps with the GIL released, checking for Ctrl-C between
    /// batches (KeyboardInterrupt; the steps run so far are kept). Returns the wall
    /// seconds of the loop.
    fn run_steps(&mut self, py: Python<'_>, steps: u64) -> PyResult<f64> {
        let mut signals = Signals::default();
        let sim = &mut self.sim;
        let stats = py
            .detach(|| sim.run_steps(steps, &mut signals))
            .map_err(py_err)?;
        if let Some(e) = signals.err {
            return Err(e);
        }
        Ok(stats.simulate_s)
    }

    /// The number of steps in `ms` (a whole number of steps, else ValueError).
    fn steps_in(&self, ms: f64) -> PyResult<u64> {
        self.sim.steps_in(ms).map_err(py_err)
    }

    #[getter]
    fn step(&self) -> u64 {
        self.sim.step()
    }

    #[getter]
    fn t_ms(&self) -> f64 {
        self.sim.t_ms()
    }

    #[getter]
    fn dt_ms(&self) -> f64 {
        self.sim.network().dt_ms
    }

    #[getter]
    fn default_steps(&self) -> u64 {
        self.sim.default_steps()
    }

    #[getter]
    fn populations(&self) -> Vec<String> {
        population_names(self.sim.network())
    }

    #[getter]
    fn sizes(&self) -> Vec<usize> {
        self.sim
            .network()
            .populations
            .iter()
            .map(|p| p.size)
            .collect()
    }

    #[getter]
    fn variables(&self) -> Vec<&'static str> {
        self.sim.variables()
    }

    #[getter]
    fn synapses(&self) -> usize {
        self.sim.network().synapses.len()
    }

    /// (backend, device, precision)
    #[getter]
    fn info(&self) -> (String, String, String) {
        let i = self.sim.info();
        (i.backend, i.device, i.precision.to_string())
    }

    /// Host threads of the CPU backend (None on the GPU).
    #[getter]
    fn threads(&self) -> Option<usize> {
        self.sim.info().threads
    }

    #[getter]
    fn spike_counts(&self) -> Vec<u64> {
        self.sim.spike_counts().to_vec()
    }

    fn reset(&mut self, py: Python<'_>) -> PyResult<()> {
        let sim = &mut self.sim;
        py.detach(|| sim.reset()).map_err(py_err)
    }

    fn save(&mut self, py: Python<'_>, path: PathBuf) -> PyResult<()> {
        let sim = &mut self.sim;
        py.detach(|| sim.save(&path)).map_err(py_err)
    }

    fn load(&mut self, py: Python<'_>, path: PathBuf) -> PyResult<()> {
        let sim = &mut self.sim;
        py.detach(|| sim.load(&path)).map_err(py_err)
    }

    #[allow(clippy::type_complexity)]
    fn spikes<'py>(
        &self,
        py: Python<'py>,
        population: &str,
    ) -> PyResult<(Bound<'py, PyArray1<f64>>, Bound<'py, PyArray1<i64>>)> {
        let (t, n) = self.sim.spikes(population).map_err(py_err)?;
        let n: Vec<i64> = n.into_iter().map(i64::from).collect();
        Ok((t.into_pyarray(py), n.into_pyarray(py)))
    }

    #[allow(clippy::type_complexity)]
    #[pyo3(signature = (population, variable = "v_mv"))]
    fn voltages<'py>(
        &self,
        py: Python<'py>,
        population: &str,
        variable: &str,
    ) -> PyResult<(
        Bound<'py, PyArray1<f64>>,
        Bound<'py, PyArray1<i64>>,
        Bound<'py, PyArray1<f64>>,
    )> {
        let (t, n, v) = self.sim.samples(population, variable).map_err(py_err)?;
        let n: Vec<i64> = n.into_iter().map(i64::from).collect();
        Ok((t.into_pyarray(py), n.into_pyarray(py), v.into_pyarray(py)))
    }

    fn get<'py>(
        &mut self,
        py: Python<'py>,
        population: &str,
        key: &str,
    ) -> PyResult<Bound<'py, PyArray1<f64>>> {
        Ok(self
            .sim
            .get(population, key)
            .map_err(py_err)?
            .into_pyarray(py))
    }

    /// Sets a variable or parameter from a float64 array (read in place, no copy).
    fn set(
        &mut self,
        population: &str,
        key: &str,
        values: PyReadonlyArray1<'_, f64>,
    ) -> PyResult<()> {
        let v = self::values(&values);
        self.sim.set(population, key, &v).map_err(py_err)
    }

    /// Replaces the spike times of a spike_source population (one array per neuron).
    fn set_spike_times(
        &mut self,
        population: &str,
        times: Vec<PyReadonlyArray1<'_, f64>>,
    ) -> PyResult<()> {
        let lists = times.iter().map(|a| values(a).into_owned()).collect();
        self.sim.set_spike_times(population, lists).map_err(py_err)
    }

    /// The spike times of a spike_source population (one array per neuron).
    fn spike_times<'py>(
        &self,
        py: Python<'py>,
        population: &str,
    ) -> PyResult<Vec<Bound<'py, PyArray1<f64>>>> {
        Ok(self
            .sim
            .spike_times(population)
            .map_err(py_err)?
            .into_iter()
            .map(|v| v.into_pyarray(py))
            .collect())
    }

    /// Replaces the current of stimulus `index` by a step current.
    fn set_current(
        &mut self,
        index: usize,
        times_ms: PyReadonlyArray1<'_, f64>,
        amplitudes_pa: PyReadonlyArray1<'_, f64>,
    ) -> PyResult<()> {
        self.sim
            .set_current(index, &values(&times_ms), &values(&amplitudes_pa))
            .map_err(py_err)
    }

    /// Compares the backends on this simulation's network (its current parameters, from
    /// its initial state, over `duration_ms` or the network's duration) with the GIL
    /// released; the simulation itself is untouched.
    #[pyo3(signature = (**options))]
    fn compare(
        &self,
        py: Python<'_>,
        options: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<PyComparison> {
        let opts = compare_options(options)?;
        let mut net = self.sim.network().clone();
        if let Some(ms) = opts.duration_ms {
            net.steps = self.sim.steps_in(ms).map_err(py_err)?;
        }
        let name = net.name.clone();
        comparison_to_py(py, &name, net, &opts)
    }
}
