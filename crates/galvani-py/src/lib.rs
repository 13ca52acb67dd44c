//! `galvani._native`: the Python face of [`galvani::Simulation`]. It is thin on purpose:
//! the Python package (`python/galvani`) keeps a network description as the same tree
//! a TOML file parses into, and this module turns that tree into a `toml::Table` and
//! hands it to the core's one validation path ([`galvani::config::from_value`]); the
//! simulation is the core's. No model code lives here.

use std::path::{Path, PathBuf};

use galvani::backend::BackendKind;
use galvani::network::Network;
use galvani::real::Precision;
use galvani::sim::Monitor;
use galvani::{Error, Simulation};
use numpy::{IntoPyArray, PyArray1, PyReadonlyArray1};
use pyo3::exceptions::{PyKeyboardInterrupt, PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};

/// Bad input (configs, data files, arguments) → ValueError with the CLI's message; a run
/// stopped by Ctrl-C → KeyboardInterrupt; the rest (devices, numerics) → RuntimeError.
fn py_err(e: Error) -> PyErr {
    match e {
        Error::Config { .. } | Error::Usage(_) | Error::Io { .. } => {
            PyValueError::new_err(e.to_string())
        }
        Error::Interrupted { .. } => PyKeyboardInterrupt::new_err(e.to_string()),
        _ => PyRuntimeError::new_err(e.to_string()),
    }
}

/// A Python value of a network tree as a TOML value: dicts, lists/tuples, numpy arrays
/// (1-d, float64 or int64), str, bool, int, float.
fn to_toml(obj: &Bound<'_, PyAny>, at: &str) -> PyResult<toml::Value> {
    if let Ok(a) = obj.extract::<PyReadonlyArray1<'_, f64>>() {
        return Ok(toml::Value::Array(
            a.as_array()
                .iter()
                .map(|&x| toml::Value::Float(x))
                .collect(),
        ));
    }
    if let Ok(a) = obj.extract::<PyReadonlyArray1<'_, i64>>() {
        return Ok(toml::Value::Array(
            a.as_array()
                .iter()
                .map(|&x| toml::Value::Integer(x))
                .collect(),
        ));
    }
    if obj.is_instance_of::<PyBool>() {
        return Ok(toml::Value::Boolean(obj.extract()?));
    }
    if obj.is_instance_of::<PyInt>() {
        return Ok(toml::Value::Integer(obj.extract().map_err(|_| {
            PyValueError::new_err(format!("{at}: integer out of range"))
        })?));
    }
    if obj.is_instance_of::<PyFloat>() {
        return Ok(toml::Value::Float(obj.extract()?));
    }
    if obj.is_instance_of::<PyString>() {
        return Ok(toml::Value::String(obj.extract()?));
    }
    if let Ok(d) = obj.cast::<PyDict>() {
        return Ok(toml::Value::Table(to_table(d, at)?));
    }
    if obj.is_instance_of::<PyList>() || obj.is_instance_of::<PyTuple>() {
        let mut out = Vec::new();
        for (k, x) in obj.try_iter()?.enumerate() {
            out.push(to_toml(&x?, &format!("{at}[{k}]"))?);
        }
        return Ok(toml::Value::Array(out));
    }
    Err(PyValueError::new_err(format!(
        "{at}: expected a number, string, bool, list, dict or 1-d numpy array, got {}",
        obj.get_type().name()?
    )))
}

fn to_table(d: &Bound<'_, PyDict>, at: &str) -> PyResult<toml::Table> {
    let mut t = toml::Table::new();
    for (k, v) in d.iter() {
        let k: String = k
            .extract()
            .map_err(|_| PyValueError::new_err(format!("{at}: keys must be strings")))?;
        if v.is_none() {
            continue; // None = not given (the default applies)
        }
        let sub = if at.is_empty() {
            k.clone()
        } else {
            format!("{at}.{k}")
        };
        let v = to_toml(&v, &sub)?;
        t.insert(k, v);
    }
    Ok(t)
}

fn from_toml<'py>(py: Python<'py>, v: &toml::Value) -> PyResult<Bound<'py, PyAny>> {
    Ok(match v {
        toml::Value::String(s) => s.into_pyobject(py)?.into_any(),
        toml::Value::Integer(i) => i.into_pyobject(py)?.into_any(),
        toml::Value::Float(x) => x.into_pyobject(py)?.into_any(),
        toml::Value::Boolean(b) => b.into_pyobject(py)?.to_owned().into_any(),
        toml::Value::Datetime(d) => d.to_string().into_pyobject(py)?.into_any(),
        toml::Value::Array(a) => {
            let l = PyList::empty(py);
            for x in a {
                l.append(from_toml(py, x)?)?;
            }
            l.into_any()
        }
        toml::Value::Table(t) => {
            let d = PyDict::new(py);
            for (k, x) in t {
                d.set_item(k, from_toml(py, x)?)?;
            }
            d.into_any()
        }
    })
}

/// load_toml(path) -> dict
///
/// Reads and validates a TOML network config exactly as `galvani run` does (same
/// messages) and returns its tree.
#[pyfunction]
fn load_toml<'py>(py: Python<'py>, path: PathBuf) -> PyResult<Bound<'py, PyAny>> {
    galvani::config::load(&path).map_err(py_err)?;
    let text = std::fs::read_to_string(&path).map_err(|e| py_err(Error::io(&path, e)))?;
    let table: toml::Table = text
        .parse()
        .map_err(|e: toml::de::Error| py_err(Error::config(&path, e.to_string())))?;
    from_toml(py, &toml::Value::Table(table))
}

fn config_of(tree: &Bound<'_, PyDict>, source: &str) -> PyResult<galvani::config::Config> {
    let table = to_table(tree, "")?;
    galvani::config::from_value(table, Path::new(source)).map_err(py_err)
}

/// validate(tree, source)
///
/// Validates a network tree as a config file is validated; raises ValueError with the
/// message `galvani run` would print (`source` names the network).
#[pyfunction]
fn validate(tree: &Bound<'_, PyDict>, source: &str) -> PyResult<()> {
    config_of(tree, source).map(|_| ())
}

/// Checks for Ctrl-C (and any other pending signal) after each batch, attaching to the
/// interpreter briefly; a raised exception stops the run between batches.
struct Signals {
    err: Option<PyErr>,
}

impl Monitor for Signals {
    fn batch_done(&mut self, _done: u64, _total: u64) {
        if self.err.is_none()
            && let Err(e) = Python::attach(|py| py.check_signals())
        {
            self.err = Some(e);
        }
    }
    fn stop_requested(&self) -> bool {
        self.err.is_some()
    }
}

/// The simulation engine behind `galvani.Simulation` (see its docstring).
#[pyclass(name = "_Simulation", module = "galvani._native")]
struct PySimulation {
    sim: Simulation,
}

fn population_names(net: &Network) -> Vec<String> {
    net.populations.iter().map(|p| p.name.clone()).collect()
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
        let kind = match backend {
            "auto" => BackendKind::Auto,
            "cpu" => BackendKind::Cpu,
            "gpu" => BackendKind::Gpu,
            other => {
                return Err(PyValueError::new_err(format!(
                    "backend: expected \"auto\", \"cpu\" or \"gpu\", got \"{other}\""
                )));
            }
        };
        let precision = match precision {
            "f32" => Precision::F32,
            "f64" => Precision::F64,
            other => {
                return Err(PyValueError::new_err(format!(
                    "precision: expected \"f32\" or \"f64\", got \"{other}\""
                )));
            }
        };
        let mut cfg = config_of(tree, source)?;
        if let Some(t) = threads {
            galvani::engine::threads::check_threads(t)
                .map_err(|e| PyValueError::new_err(format!("threads: {e} (or None)")))?;
            cfg.simulation.threads = Some(t);
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
        let mut signals = Signals { err: None };
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

    fn set(
        &mut self,
        population: &str,
        key: &str,
        values: PyReadonlyArray1<'_, f64>,
    ) -> PyResult<()> {
        let v = values.as_array().to_vec();
        self.sim.set(population, key, &v).map_err(py_err)
    }

    /// Replaces the spike times of a spike_source population (one array per neuron).
    fn set_spike_times(
        &mut self,
        population: &str,
        times: Vec<PyReadonlyArray1<'_, f64>>,
    ) -> PyResult<()> {
        let lists = times.iter().map(|a| a.as_array().to_vec()).collect();
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
        let (t, a) = (
            times_ms.as_array().to_vec(),
            amplitudes_pa.as_array().to_vec(),
        );
        self.sim.set_current(index, &t, &a).map_err(py_err)
    }
}

/// The compiled core of the galvani package; use `galvani`, not this module.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(load_toml, m)?)?;
    m.add_function(wrap_pyfunction!(validate, m)?)?;
    m.add_class::<PySimulation>()?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
