//! Edge lists from numpy: the network's own copy of an edge list, in the order the
//! simulator keeps synapses.
//!
//! The core sorts every edge list stably by (pre, post) when it builds a network (so
//! that repeated pairs merge in the order given); a comparison sort of 10^7 edges costs
//! more than drawing them with a connection rule, and it would be paid at every build.
//! [`sorted_edges`] takes the copy `Network.add_edges` needs anyway in that order, as a
//! CSR build does (one stable counting scatter by pre, then each row sorted by post,
//! rows being short), so every later build finds the list sorted.

use numpy::{IntoPyArray, PyArray1, PyReadonlyArray1};
use pyo3::prelude::*;

/// Edges and their per-edge values, owned.
type Edges = (Vec<i64>, Vec<i64>, Option<Vec<f64>>, Option<Vec<f64>>);

/// The edges stably sorted by (pre, post), or `None` when they are in that order
/// already or are not sorted here (mismatched lengths or indices out of range, which the
/// validation reports; few edges among very many neurons, which the core sorts fast).
fn sort_edges(p: &[i64], q: &[i64], w: Option<&[f64]>, d: Option<&[f64]>) -> Option<Edges> {
    let n = p.len();
    if q.len() != n || w.is_some_and(|w| w.len() != n) || d.is_some_and(|d| d.len() != n) {
        return None;
    }
    // one pass: in order already? indices in range (population-local: at most 2^30)?
    let (mut sorted, mut in_range, mut max) = (true, true, 0i64);
    for k in 0..n {
        let (a, b) = (p[k], q[k]);
        in_range &= (0..=1 << 30).contains(&a) && (0..=1 << 30).contains(&b);
        max = max.max(a);
        sorted &= k == 0 || (p[k - 1], q[k - 1]) <= (a, b);
    }
    let rows = max as usize + 1;
    if sorted || !in_range || rows > 4 * n + (1 << 16) {
        return None;
    }
    // rows: start[r]..start[r + 1]
    let mut start = vec![0usize; rows + 1];
    for &x in p {
        start[x as usize + 1] += 1;
    }
    for r in 0..rows {
        start[r + 1] += start[r];
    }
    // one stable scatter by pre
    let mut head = start[..rows].to_vec();
    let mut oq = vec![0i64; n];
    let mut ow = w.map(|_| vec![0f64; n]);
    let mut od = d.map(|_| vec![0f64; n]);
    for k in 0..n {
        let r = p[k] as usize;
        let j = head[r];
        head[r] += 1;
        oq[j] = q[k];
        if let (Some(ow), Some(w)) = (&mut ow, w) {
            ow[j] = w[k];
        }
        if let (Some(od), Some(d)) = (&mut od, d) {
            od[j] = d[k];
        }
    }
    drop(head);
    // each row stably by post
    let mut row: Vec<(i64, f64, f64)> = Vec::new();
    for r in 0..rows {
        let (s, e) = (start[r], start[r + 1]);
        if oq[s..e].windows(2).all(|x| x[0] <= x[1]) {
            continue;
        }
        if ow.is_none() && od.is_none() {
            oq[s..e].sort_unstable(); // equal indices are indistinguishable
            continue;
        }
        row.clear();
        row.extend((s..e).map(|j| {
            (
                oq[j],
                ow.as_ref().map_or(0.0, |w| w[j]),
                od.as_ref().map_or(0.0, |d| d[j]),
            )
        }));
        row.sort_by_key(|x| x.0);
        for (j, x) in (s..e).zip(&row) {
            oq[j] = x.0;
            if let Some(ow) = &mut ow {
                ow[j] = x.1;
            }
            if let Some(od) = &mut od {
                od[j] = x.2;
            }
        }
    }
    let mut op = Vec::with_capacity(n);
    for r in 0..rows {
        op.extend(std::iter::repeat_n(r as i64, start[r + 1] - start[r]));
    }
    Some((op, oq, ow, od))
}

/// The elements of a numpy array: its buffer when contiguous, else a copy.
fn slice<'a, T: numpy::Element + Copy>(
    a: &'a PyReadonlyArray1<'_, T>,
) -> std::borrow::Cow<'a, [T]> {
    match a.as_slice() {
        Ok(s) => std::borrow::Cow::Borrowed(s),
        Err(_) => std::borrow::Cow::Owned(a.as_array().to_vec()),
    }
}

/// sorted_edges(pre, post, weight=None, delay_ms=None) -> (pre, post, weight, delay_ms)
///
/// New arrays holding the edges stably sorted by (pre, post) (copies in the given
/// order when they are sorted already or cannot be sorted: mismatched lengths or bad
/// indices, which the validation reports). The GIL is released while it sorts.
#[pyfunction]
#[pyo3(signature = (pre, post, weight=None, delay_ms=None))]
#[allow(clippy::type_complexity)]
pub(crate) fn sorted_edges<'py>(
    py: Python<'py>,
    pre: PyReadonlyArray1<'py, i64>,
    post: PyReadonlyArray1<'py, i64>,
    weight: Option<PyReadonlyArray1<'py, f64>>,
    delay_ms: Option<PyReadonlyArray1<'py, f64>>,
) -> PyResult<(
    Bound<'py, PyArray1<i64>>,
    Bound<'py, PyArray1<i64>>,
    Option<Bound<'py, PyArray1<f64>>>,
    Option<Bound<'py, PyArray1<f64>>>,
)> {
    let (p, q) = (slice(&pre), slice(&post));
    let w = weight.as_ref().map(slice);
    let d = delay_ms.as_ref().map(slice);
    let (p, q, w, d) = (&*p, &*q, w.as_deref(), d.as_deref());
    let (p, q, w, d) = py.detach(|| {
        sort_edges(p, q, w, d).unwrap_or_else(|| {
            (
                p.to_vec(),
                q.to_vec(),
                w.map(<[f64]>::to_vec),
                d.map(<[f64]>::to_vec),
            )
        })
    });
    Ok((
        p.into_pyarray(py),
        q.into_pyarray(py),
        w.map(|w| w.into_pyarray(py)),
        d.map(|d| d.into_pyarray(py)),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_order_is_the_stable_sort_by_pre_then_post() {
        let pre = [3, 1, 3, 0, 1, 3, 1, 3];
        let post = [2, 5, 0, 9, 5, 2, 0, 2];
        let w: Vec<f64> = (0..pre.len()).map(|k| k as f64).collect();
        let (p, q, ws, ds) = sort_edges(&pre, &post, Some(&w), None).unwrap();
        let mut want: Vec<usize> = (0..pre.len()).collect();
        want.sort_by_key(|&k| (pre[k], post[k]));
        assert_eq!(p, want.iter().map(|&k| pre[k]).collect::<Vec<_>>());
        assert_eq!(q, want.iter().map(|&k| post[k]).collect::<Vec<_>>());
        assert_eq!(ws.unwrap(), want.iter().map(|&k| w[k]).collect::<Vec<_>>());
        assert!(ds.is_none());
        assert!(sort_edges(&[0, 0, 1], &[1, 2, 0], None, None).is_none()); // sorted
        assert!(sort_edges(&[1, 0], &[0, -1], None, None).is_none()); // bad index
        assert!(sort_edges(&[1, 0], &[0], None, None).is_none());
        assert!(sort_edges(&[1, 0], &[0, 0], Some(&[1.0]), None).is_none());
    }
}
