//! Whole runs from Python: `run_config` and `resume` (the checkpointed run of
//! [`galvani::run`], into an output folder) and the backend comparison of
//! [`galvani::compare`]. Each runs with the GIL released.

use std::path::PathBuf;

use galvani::backend::BackendKind;
use galvani::compare::{self, CompareOptions};
use galvani::network::Network;
use galvani::real::Precision;
use galvani::run::{ResumeOptions, RunJob, RunOptions};
use galvani::sim::Monitor;
use pyo3::exceptions::{PyKeyboardInterrupt, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

use crate::{py_err, tree};

/// Checks for Ctrl-C (and any other pending signal) after each batch, attaching to the
/// interpreter briefly; a raised exception stops the run between batches.
#[derive(Default)]
pub(crate) struct Signals {
    pub(crate) err: Option<PyErr>,
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

pub(crate) fn parse_backend(s: &str) -> PyResult<BackendKind> {
    s.parse()
        .map_err(|e: String| PyValueError::new_err(format!("backend: {e}")))
}

pub(crate) fn parse_precision(s: &str) -> PyResult<Precision> {
    s.parse()
        .map_err(|e: String| PyValueError::new_err(format!("precision: {e}")))
}

pub(crate) fn parse_threads(threads: Option<u64>) -> PyResult<Option<usize>> {
    threads
        .map(|t| {
            galvani::engine::threads::check_threads(t)
                .map_err(|e| PyValueError::new_err(format!("threads: {e} (or None)")))
        })
        .transpose()
}

/// A JSON value as the Python value `json.loads` would give.
fn json_to_py<'py>(py: Python<'py>, v: &serde_json::Value) -> PyResult<Bound<'py, PyAny>> {
    use serde_json::Value as J;
    Ok(match v {
        J::Null => py.None().into_bound(py),
        J::Bool(b) => b.into_pyobject(py)?.to_owned().into_any(),
        J::Number(n) => match (n.as_u64(), n.as_i64()) {
            (Some(u), _) => u.into_pyobject(py)?.into_any(),
            (None, Some(i)) => i.into_pyobject(py)?.into_any(),
            _ => n.as_f64().unwrap_or(f64::NAN).into_pyobject(py)?.into_any(),
        },
        J::String(s) => s.into_pyobject(py)?.into_any(),
        J::Array(a) => {
            let l = PyList::empty(py);
            for x in a {
                l.append(json_to_py(py, x)?)?;
            }
            l.into_any()
        }
        J::Object(o) => {
            let d = PyDict::new(py);
            for (k, x) in o {
                d.set_item(k, json_to_py(py, x)?)?;
            }
            d.into_any()
        }
    })
}

/// Runs a built (or resumed) job to its end with the GIL released, Ctrl-C checked
/// between batches, and returns its summary (what `summary.json` holds). A run stopped by
/// Ctrl-C raises KeyboardInterrupt with the core's message (where it stopped, what was
/// kept, how to resume); another exception raised by a signal handler propagates as is.
fn finish<'py>(py: Python<'py>, job: RunJob) -> PyResult<Bound<'py, PyAny>> {
    let mut signals = Signals::default();
    let outcome = py.detach(|| job.run(&mut signals)).map_err(py_err)?;
    if let Some(e) = signals.err {
        return Err(match outcome.interrupted() {
            Some(stopped) if e.is_instance_of::<PyKeyboardInterrupt>(py) => py_err(stopped),
            _ => e,
        });
    }
    if let Some(stopped) = outcome.interrupted() {
        return Err(py_err(stopped));
    }
    let summary = serde_json::to_value(&outcome.summary).expect("the summary serialises");
    json_to_py(py, &summary)
}

/// run_config(config, out, backend="auto", precision="f32", duration_ms=None, seed=None,
/// threads=None, checkpoint_every_ms=None, quiet=True) -> dict
///
/// `galvani run` without the progress bar, printed summary and plots.
#[pyfunction]
#[pyo3(signature = (config, out, backend="auto", precision="f32", duration_ms=None, seed=None,
                    threads=None, checkpoint_every_ms=None, quiet=true))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn run_config<'py>(
    py: Python<'py>,
    config: PathBuf,
    out: PathBuf,
    backend: &str,
    precision: &str,
    duration_ms: Option<f64>,
    seed: Option<u64>,
    threads: Option<u64>,
    checkpoint_every_ms: Option<f64>,
    quiet: bool,
) -> PyResult<Bound<'py, PyAny>> {
    let opts = RunOptions {
        backend: parse_backend(backend)?,
        precision: parse_precision(precision)?,
        duration_ms,
        seed,
        threads: parse_threads(threads)?,
        checkpoint_every_ms,
        quiet,
    };
    let job = py
        .detach(|| RunJob::new(&config, &out, &opts))
        .map_err(py_err)?;
    finish(py, job)
}

/// resume(out, threads=None, quiet=True) -> dict
///
/// `galvani resume` without the progress bar, printed summary and plots.
#[pyfunction]
#[pyo3(signature = (out, threads=None, quiet=true))]
pub(crate) fn resume<'py>(
    py: Python<'py>,
    out: PathBuf,
    threads: Option<u64>,
    quiet: bool,
) -> PyResult<Bound<'py, PyAny>> {
    let opts = ResumeOptions {
        threads: parse_threads(threads)?,
        quiet,
    };
    let job = py.detach(|| RunJob::resume(&out, &opts)).map_err(py_err)?;
    finish(py, job)
}

/// What a comparison gives Python: (report lines, [(ok, what)], statistical).
pub(crate) type PyComparison = (Vec<String>, Vec<(bool, String)>, bool);

const OPTION_NAMES: &str = "duration_ms, identical_ms, v_tol_mv, rate_tol, match_ms, t_tol_ms, \
count_tol, mean_dcount, min_corr, hv_v_tol_mv, threads";

/// The options of a comparison: the core's defaults, with the keyword arguments given
/// (None = the default).
pub(crate) fn compare_options(kw: Option<&Bound<'_, PyDict>>) -> PyResult<CompareOptions> {
    let mut o = CompareOptions::default();
    let Some(kw) = kw else { return Ok(o) };
    for (k, v) in kw.iter() {
        let k: String = k.extract()?;
        if v.is_none() {
            continue;
        }
        let num = |v: &Bound<'_, PyAny>| -> PyResult<f64> {
            let x: f64 = v
                .extract()
                .map_err(|_| PyValueError::new_err(format!("{k}: expected a number, got {v:?}")))?;
            if x.is_finite() {
                Ok(x)
            } else {
                Err(PyValueError::new_err(format!(
                    "{k}: expected a finite number, got {x}"
                )))
            }
        };
        match k.as_str() {
            "duration_ms" => o.duration_ms = Some(num(&v)?),
            "identical_ms" => o.identical_ms = Some(num(&v)?),
            "v_tol_mv" => o.v_tol_mv = num(&v)?,
            "rate_tol" => o.rate_tol = num(&v)?,
            "match_ms" => o.match_ms = num(&v)?,
            "t_tol_ms" => o.t_tol_ms = num(&v)?,
            "count_tol" => o.count_tol = num(&v)?,
            "mean_dcount" => o.mean_dcount = num(&v)?,
            "min_corr" => o.min_corr = num(&v)?,
            "hv_v_tol_mv" => o.hv_v_tol_mv = num(&v)?,
            "threads" => {
                let t: u64 = v.extract().map_err(|_| {
                    PyValueError::new_err(format!(
                        "threads: expected None or a positive integer, got {v:?}"
                    ))
                })?;
                o.threads = parse_threads(Some(t))?;
            }
            other => {
                return Err(PyValueError::new_err(format!(
                    "compare: unknown option '{other}'; expected one of: {OPTION_NAMES}"
                )));
            }
        }
    }
    Ok(o)
}

/// Compares the backends on `net` (over its `steps`) with the GIL released.
pub(crate) fn comparison_to_py(
    py: Python<'_>,
    name: &str,
    net: Network,
    opts: &CompareOptions,
) -> PyResult<PyComparison> {
    if net.steps == 0 {
        return Err(PyValueError::new_err(
            "compare: nothing to simulate: the network has no duration_ms; give duration_ms=...",
        ));
    }
    let c = py
        .detach(|| compare::compare_network(name, net, opts))
        .map_err(py_err)?;
    Ok((
        c.report,
        c.checks.into_iter().map(|c| (c.ok, c.what)).collect(),
        c.statistical,
    ))
}

/// compare_tree(tree, source, **options) -> (report, checks, statistical)
///
/// Compares the backends on a network tree (see `galvani.compare`).
#[pyfunction]
#[pyo3(signature = (tree, source, **options))]
pub(crate) fn compare_tree(
    py: Python<'_>,
    tree: &Bound<'_, PyDict>,
    source: &str,
    options: Option<&Bound<'_, PyDict>>,
) -> PyResult<PyComparison> {
    let opts = compare_options(options)?;
    let cfg = tree::config_of(tree, source)?;
    let net = py
        .detach(|| Network::build(&cfg, opts.duration_ms, None))
        .map_err(py_err)?;
    comparison_to_py(py, source, net, &opts)
}

/// compare_config(path, **options) -> (report, checks, statistical)
///
/// `galvani compare CONFIG` (see `galvani.compare`).
#[pyfunction]
#[pyo3(signature = (path, **options))]
pub(crate) fn compare_config(
    py: Python<'_>,
    path: PathBuf,
    options: Option<&Bound<'_, PyDict>>,
) -> PyResult<PyComparison> {
    let opts = compare_options(options)?;
    let c = py
        .detach(|| compare::compare_config(&path, &opts))
        .map_err(py_err)?;
    Ok((
        c.report,
        c.checks.into_iter().map(|c| (c.ok, c.what)).collect(),
        c.statistical,
    ))
}
