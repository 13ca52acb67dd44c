//! A network tree (the Python package's `Network._tree`: the tree a TOML config parses
//! into, with numpy arrays where a file has arrays) → a validated [`Config`].
//!
//! The small part of the tree goes through TOML and the core's one validation path
//! ([`galvani::config::from_value`]). The bulk arrays do not: per-neuron parameter and
//! initial values (`population[i].params.K`, `.init.K`), spike times
//! (`population[i].spike_times`) and edge lists (`projection[i].connect.pre/post/weight/
//! delay_ms`) given as numpy arrays are lifted out of the tree ([`Bulk`]) and replaced by
//! placeholders of the same shape for validation (a number, `{ file = "" }`, empty
//! arrays), then checked here on the numpy buffers themselves and copied once, straight
//! into the config's vectors. A per-element TOML value of 10^7 edges would cost gigabytes
//! and seconds; this costs one scan and one memcpy.
//!
//! The array checks mirror the ones of `Config::validate` (same messages). They live
//! here only because that function is private to the core; once the core exposes it
//! (fill the arrays, then validate), [`Bulk::check`] goes.

use std::borrow::Cow;
use std::path::Path;

use galvani::Error;
use galvani::config::{Config, Connect, SpikeTimes, ValueSpec};
use numpy::{Element, PyReadonlyArray1, PyUntypedArray};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};

use crate::py_err;

/// A Python value of a network tree as a TOML value: dicts, lists/tuples, numpy arrays
/// (1-d, float64 or int64), str, bool, int, float.
pub(crate) fn to_toml(obj: &Bound<'_, PyAny>, at: &str) -> PyResult<toml::Value> {
    if obj.is_instance_of::<PyUntypedArray>() {
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

/// The entries of a dict (string keys; None = not given, left out), each with its path.
fn entries<'py>(
    d: &Bound<'py, PyDict>,
    at: &str,
) -> PyResult<Vec<(String, String, Bound<'py, PyAny>)>> {
    let mut out = Vec::with_capacity(d.len());
    for (k, v) in d.iter() {
        let k: String = k
            .extract()
            .map_err(|_| PyValueError::new_err(format!("{at}: keys must be strings")))?;
        if v.is_none() {
            continue;
        }
        let sub = if at.is_empty() {
            k.clone()
        } else {
            format!("{at}.{k}")
        };
        out.push((k, sub, v));
    }
    Ok(out)
}

pub(crate) fn to_table(d: &Bound<'_, PyDict>, at: &str) -> PyResult<toml::Table> {
    let mut t = toml::Table::new();
    for (k, sub, v) in entries(d, at)? {
        t.insert(k, to_toml(&v, &sub)?);
    }
    Ok(t)
}

/// A 1-d numpy array of `T`, if `obj` is one.
fn array<'py, T: Element>(obj: &Bound<'py, PyAny>) -> Option<PyReadonlyArray1<'py, T>> {
    if obj.is_instance_of::<PyUntypedArray>() {
        obj.extract().ok()
    } else {
        None
    }
}

/// The elements of a numpy array: its buffer when contiguous, else a copy.
fn slice<'a, T: Element + Clone>(a: &'a PyReadonlyArray1<'_, T>) -> Cow<'a, [T]> {
    match a.as_slice() {
        Ok(s) => Cow::Borrowed(s),
        Err(_) => Cow::Owned(a.as_array().to_vec()),
    }
}

/// `population[i].params.K` / `.init.K` given as a numpy array.
struct BulkValues<'py> {
    pop: usize,
    init: bool,
    key: String,
    values: PyReadonlyArray1<'py, f64>,
}

/// `projection[i].connect` of rule `edges`, its arrays given as numpy arrays.
struct BulkEdges<'py> {
    proj: usize,
    pre: PyReadonlyArray1<'py, i64>,
    post: PyReadonlyArray1<'py, i64>,
    weight: Option<PyReadonlyArray1<'py, f64>>,
    delay_ms: Option<PyReadonlyArray1<'py, f64>>,
}

/// The numpy arrays lifted out of a network tree (borrowed from Python, not copied).
#[derive(Default)]
pub(crate) struct Bulk<'py> {
    values: Vec<BulkValues<'py>>,
    spike_times: Vec<(usize, Vec<PyReadonlyArray1<'py, f64>>)>,
    edges: Vec<BulkEdges<'py>>,
}

/// Splits a network tree into its TOML part (bulk arrays replaced by placeholders that
/// pass the same structural checks) and its bulk arrays.
pub(crate) fn split<'py>(tree: &Bound<'py, PyDict>) -> PyResult<(toml::Table, Bulk<'py>)> {
    let mut bulk = Bulk::default();
    let mut t = toml::Table::new();
    for (k, sub, v) in entries(tree, "")? {
        let value = match k.as_str() {
            "population" | "projection"
                if v.is_instance_of::<PyList>() || v.is_instance_of::<PyTuple>() =>
            {
                let mut out = Vec::new();
                for (i, x) in v.try_iter()?.enumerate() {
                    let x = x?;
                    let at = format!("{sub}[{i}]");
                    out.push(match x.cast::<PyDict>() {
                        Ok(d) if k == "population" => split_population(i, d, &at, &mut bulk)?,
                        Ok(d) => split_projection(i, d, &at, &mut bulk)?,
                        Err(_) => to_toml(&x, &at)?,
                    });
                }
                toml::Value::Array(out)
            }
            _ => to_toml(&v, &sub)?,
        };
        t.insert(k, value);
    }
    Ok((t, bulk))
}

fn split_population<'py>(
    i: usize,
    d: &Bound<'py, PyDict>,
    at: &str,
    bulk: &mut Bulk<'py>,
) -> PyResult<toml::Value> {
    let mut t = toml::Table::new();
    for (k, sub, v) in entries(d, at)? {
        let value = match (k.as_str(), v.cast::<PyDict>()) {
            ("params" | "init", Ok(values)) => {
                let mut vt = toml::Table::new();
                for (key, vsub, x) in entries(values, &sub)? {
                    let placeholder = match array::<f64>(&x) {
                        Some(values) => {
                            bulk.values.push(BulkValues {
                                pop: i,
                                init: k == "init",
                                key: key.clone(),
                                values,
                            });
                            toml::Value::Float(0.0)
                        }
                        None => to_toml(&x, &vsub)?,
                    };
                    vt.insert(key, placeholder);
                }
                toml::Value::Table(vt)
            }
            ("spike_times", _) if v.is_instance_of::<PyList>() || v.is_instance_of::<PyTuple>() => {
                let lists: Option<Vec<_>> = v
                    .try_iter()?
                    .map(|x| x.ok().and_then(|x| array::<f64>(&x)))
                    .collect();
                match lists {
                    Some(lists) if !lists.is_empty() => {
                        bulk.spike_times.push((i, lists));
                        let mut ph = toml::Table::new();
                        ph.insert("file".into(), toml::Value::String(String::new()));
                        toml::Value::Table(ph)
                    }
                    _ => to_toml(&v, &sub)?,
                }
            }
            _ => to_toml(&v, &sub)?,
        };
        t.insert(k, value);
    }
    Ok(toml::Value::Table(t))
}

fn split_projection<'py>(
    i: usize,
    d: &Bound<'py, PyDict>,
    at: &str,
    bulk: &mut Bulk<'py>,
) -> PyResult<toml::Value> {
    let mut t = toml::Table::new();
    for (k, sub, v) in entries(d, at)? {
        let value = match (k.as_str(), v.cast::<PyDict>()) {
            ("connect", Ok(c)) => split_edges(i, c, &sub, bulk)?,
            _ => to_toml(&v, &sub)?,
        };
        t.insert(k, value);
    }
    Ok(toml::Value::Table(t))
}

/// A `connect` table whose `pre` and `post` (and `weight`/`delay_ms`, when given) are all
/// numpy arrays of the right dtype goes to the bulk, with empty arrays in its place; any
/// other goes through TOML whole.
fn split_edges<'py>(
    i: usize,
    c: &Bound<'py, PyDict>,
    at: &str,
    bulk: &mut Bulk<'py>,
) -> PyResult<toml::Value> {
    let get = |k: &str| c.get_item(k).ok().flatten().filter(|x| !x.is_none());
    let ints = |k: &str| get(k).and_then(|x| array::<i64>(&x));
    let floats = |k: &str| get(k).map(|x| array::<f64>(&x));
    if let (Some(pre), Some(post), Some(weight), Some(delay_ms)) = (
        ints("pre"),
        ints("post"),
        floats("weight").map_or(Some(None), |a| a.map(Some)),
        floats("delay_ms").map_or(Some(None), |a| a.map(Some)),
    ) {
        let mut t = toml::Table::new();
        for (k, sub, v) in entries(c, at)? {
            let value = match k.as_str() {
                "pre" | "post" | "weight" | "delay_ms" => toml::Value::Array(Vec::new()),
                _ => to_toml(&v, &sub)?,
            };
            t.insert(k, value);
        }
        bulk.edges.push(BulkEdges {
            proj: i,
            pre,
            post,
            weight,
            delay_ms,
        });
        return Ok(toml::Value::Table(t));
    }
    Ok(toml::Value::Table(to_table(c, at)?))
}

impl Bulk<'_> {
    /// Checks the bulk arrays against the validated config (what `Config::validate`
    /// checks of them, with its messages).
    pub(crate) fn check(&self, cfg: &Config) -> galvani::Result<()> {
        let err = |msg: String| Error::config(&cfg.path, msg);
        let pop_at = |i: usize| format!("population[{i}] ('{}')", cfg.populations[i].name);
        for b in &self.values {
            let p = &cfg.populations[b.pop];
            let at = format!(
                "{}.{}.{}",
                pop_at(b.pop),
                if b.init { "init" } else { "params" },
                b.key
            );
            let v = slice(&b.values);
            if v.iter().any(|x| !x.is_finite()) {
                return Err(err(format!("{at}: expected finite numbers")));
            }
            if v.len() as i64 != p.size {
                return Err(err(format!(
                    "{at}: expected one value per neuron ({}), got {}",
                    p.size,
                    v.len()
                )));
            }
        }
        for (i, lists) in &self.spike_times {
            let p = &cfg.populations[*i];
            let at = pop_at(*i);
            if lists.len() as i64 != p.size {
                return Err(err(format!(
                    "{at}.spike_times: expected one list per neuron ({}), got {}",
                    p.size,
                    lists.len()
                )));
            }
            for (n, l) in lists.iter().enumerate() {
                if let Some((k, t)) = slice(l)
                    .iter()
                    .enumerate()
                    .find(|(_, t)| !(t.is_finite() && **t >= 0.0))
                {
                    return Err(err(format!(
                        "{at}.spike_times[{n}][{k}]: expected a finite time >= 0 ms, got {t}"
                    )));
                }
            }
        }
        let hv = cfg.model() == "hv";
        let dt = cfg.dt_ms();
        for e in &self.edges {
            let pr = &cfg.projections[e.proj];
            let at = format!("projection[{}] ({} -> {})", e.proj, pr.pre, pr.post);
            let size =
                |name: &str| cfg.populations[cfg.population_index(name).expect("validated")].size;
            let (pre, post) = (slice(&e.pre), slice(&e.post));
            let n = pre.len();
            if post.len() != n {
                return Err(err(format!(
                    "{at}.connect.post: expected as many entries as pre ({n}), got {}",
                    post.len()
                )));
            }
            for (key, idx, pop) in [("pre", &pre, &pr.pre), ("post", &post, &pr.post)] {
                let sz = size(pop);
                if let Some((k, bad)) = idx.iter().enumerate().find(|(_, i)| **i < 0 || **i >= sz) {
                    return Err(err(format!(
                        "{at}.connect.{key}[{k}]: index {bad} is out of range for '{pop}' (0..{sz})"
                    )));
                }
            }
            if let Some(w) = &e.weight {
                let w = slice(w);
                if w.len() != n {
                    return Err(err(format!(
                        "{at}.connect.weight: expected one weight per edge ({n}), got {}",
                        w.len()
                    )));
                }
                let post_i = cfg.population_index(&pr.post).expect("validated");
                let nonneg = hv || cfg.is_conductance(post_i);
                if let Some((k, x)) = w
                    .iter()
                    .enumerate()
                    .find(|(_, x)| !x.is_finite() || (nonneg && **x < 0.0))
                {
                    return Err(err(format!(
                        "{at}.connect.weight[{k}]: expected a finite number{}, got {x}",
                        if nonneg {
                            " >= 0 (HV activations and conductances cannot be negative)"
                        } else {
                            ""
                        }
                    )));
                }
            }
            if let Some(d) = &e.delay_ms {
                let d = slice(d);
                if d.len() != n {
                    return Err(err(format!(
                        "{at}.connect.delay_ms: expected one delay per edge ({n}), got {}",
                        d.len()
                    )));
                }
                if let Some((k, x)) = d
                    .iter()
                    .enumerate()
                    .find(|(_, x)| !x.is_finite() || (**x / dt).round() < 1.0)
                {
                    return Err(err(format!(
                        "{at}.connect.delay_ms[{k}]: {x} ms is shorter than one step (dt = {dt} ms); the minimum delay is one step"
                    )));
                }
            }
        }
        Ok(())
    }

    /// Puts the (checked) bulk arrays into the config, in place of their placeholders:
    /// one copy of each buffer.
    pub(crate) fn fill(self, cfg: &mut Config) {
        for b in self.values {
            let p = &mut cfg.populations[b.pop];
            let map = if b.init { &mut p.init } else { &mut p.params };
            map.insert(b.key, ValueSpec::Array(slice(&b.values).into_owned()));
        }
        for (i, lists) in self.spike_times {
            cfg.populations[i].spike_times = Some(SpikeTimes::Lists(
                lists.iter().map(|l| slice(l).into_owned()).collect(),
            ));
        }
        for e in self.edges {
            if let Connect::Edges {
                pre,
                post,
                weight,
                delay_ms,
            } = &mut cfg.projections[e.proj].connect
            {
                *pre = slice(&e.pre).into_owned();
                *post = slice(&e.post).into_owned();
                *weight = e.weight.as_ref().map(|w| slice(w).into_owned());
                *delay_ms = e.delay_ms.as_ref().map(|d| slice(d).into_owned());
            }
        }
    }
}

/// Validates a network tree: the TOML part by the core, the bulk arrays in place.
pub(crate) fn check_tree(tree: &Bound<'_, PyDict>, source: &str) -> PyResult<()> {
    let (table, bulk) = split(tree)?;
    let cfg = galvani::config::from_value(table, Path::new(source)).map_err(py_err)?;
    bulk.check(&cfg).map_err(py_err)
}

/// The validated config of a network tree, its bulk arrays copied in.
pub(crate) fn config_of(tree: &Bound<'_, PyDict>, source: &str) -> PyResult<Config> {
    let (table, bulk) = split(tree)?;
    let mut cfg = galvani::config::from_value(table, Path::new(source)).map_err(py_err)?;
    bulk.check(&cfg).map_err(py_err)?;
    bulk.fill(&mut cfg);
    Ok(cfg)
}
