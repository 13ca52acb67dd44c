//! `galvani._native`: the Python face of [`galvani::Simulation`]. It is thin on purpose:
//! the Python package (`python/galvani`) keeps a network description as the same tree
//! a TOML file parses into, and this module turns that tree into a
//! [`galvani::config::Config`] through the core's one validation path
//! ([`galvani::config::from_value`]), with bulk numpy arrays (per-neuron values, spike
//! times, edge lists) kept out of the TOML tree ([`tree`]); the simulation, whole runs
//! and comparisons are the core's ([`simulation`], [`runs`]). No model code lives here.

use std::path::PathBuf;

use galvani::Error;
use pyo3::exceptions::{PyKeyboardInterrupt, PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

mod edges;
mod runs;
mod simulation;
mod tree;

/// Bad input (configs, data files, arguments) → ValueError with the CLI's message; a run
/// stopped by Ctrl-C → KeyboardInterrupt; the rest (devices, numerics) → RuntimeError.
pub(crate) fn py_err(e: Error) -> PyErr {
    match e {
        Error::Config { .. } | Error::Usage(_) | Error::Io { .. } => {
            PyValueError::new_err(e.to_string())
        }
        Error::Interrupted { .. } => PyKeyboardInterrupt::new_err(e.to_string()),
        _ => PyRuntimeError::new_err(e.to_string()),
    }
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

/// validate(tree, source)
///
/// Validates a network tree as a config file is validated; raises ValueError with the
/// message `galvani run` would print (`source` names the network). Numpy arrays of
/// per-neuron values, spike times and edges are checked in place, not copied.
#[pyfunction]
fn validate(tree: &Bound<'_, PyDict>, source: &str) -> PyResult<()> {
    tree::check_tree(tree, source)
}

/// The compiled core of the galvani package; use `galvani`, not this module.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(load_toml, m)?)?;
    m.add_function(wrap_pyfunction!(validate, m)?)?;
    m.add_function(wrap_pyfunction!(edges::sorted_edges, m)?)?;
    m.add_function(wrap_pyfunction!(runs::run_config, m)?)?;
    m.add_function(wrap_pyfunction!(runs::resume, m)?)?;
    m.add_function(wrap_pyfunction!(runs::compare_tree, m)?)?;
    m.add_function(wrap_pyfunction!(runs::compare_config, m)?)?;
    m.add_class::<simulation::PySimulation>()?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
