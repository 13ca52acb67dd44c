//! Checks of `[[projection]]` tables: endpoints, receptor, weights and delays, connection
//! rules and inline edge lists.

use super::*;

impl Config {
    /// Every `[[projection]]`.
    pub(super) fn check_projections(&self) -> Result<()> {
        let dt = self.dt_ms();
        for (i, pr) in self.projections.iter().enumerate() {
            let at = format!("projection[{i}] ({} -> {})", pr.pre, pr.post);
            for (key, name) in [("pre", &pr.pre), ("post", &pr.post)] {
                if self.population_index(name).is_none() {
                    return Err(self.err(format!(
                        "{at}.{key}: unknown population '{name}'; the populations are {}",
                        self.populations
                            .iter()
                            .map(|p| format!("'{}'", p.name))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )));
                }
            }
            if !matches!(pr.receptor.as_str(), "ampa" | "gaba_a") {
                return Err(self.err(format!(
                    "{at}.receptor: expected \"ampa\" or \"gaba_a\", got \"{}\"",
                    pr.receptor
                )));
            }
            let hv = self.model() == "hv";
            let post_i = self.population_index(&pr.post).unwrap();
            if crate::source::is_source(&self.populations[post_i].model) {
                return Err(self.err(format!(
                    "{at}.post: '{}' is a {} population: sources take no input, they only send spikes",
                    pr.post, self.populations[post_i].model
                )));
            }
            if let Some(w) = &pr.weight {
                w.check()
                    .map_err(|e| self.err(format!("{at}.weight: {e}")))?;
                let (lo, hi) = w.support().expect("checked");
                let random = w.as_const().is_none();
                if hv && lo < 0.0 {
                    return Err(self.err(format!(
                        "{at}.weight: HV weights are receptor activations and must be >= 0, {} (inhibition is receptor = \"gaba_a\"){}",
                        if random { format!("but this distribution can draw {lo}") } else { format!("got {lo}") },
                        if random { "; add min = 0.0" } else { "" }
                    )));
                }
                if lo < 0.0 && self.is_conductance(post_i) {
                    return Err(self.err(format!(
                        "{at}.weight: {} nS is negative, but '{}' has conductance synapses: weights must be >= 0 (the receptor's reversal potential gives the sign of the effect){}",
                        if random { format!("this distribution can draw {lo}:") } else { format!("{lo}") },
                        pr.post,
                        if random { "; add min = 0.0" } else { "" }
                    )));
                }
                if random && lo < 0.0 && hi > 0.0 {
                    return Err(self.err(format!(
                        "{at}.weight: this distribution can draw both signs ({lo} to {hi}), and the sign is the effect of a synapse: add a bound, min = 0.0 for excitatory or max = 0.0 for inhibitory weights (a draw outside is drawn again)"
                    )));
                }
            } else if !matches!(
                pr.connect,
                Connect::File { .. }
                    | Connect::Edges {
                        weight: Some(_),
                        ..
                    }
            ) {
                return Err(self.err(format!(
                    "{at}.weight: missing (required unless an edge file gives a weight column)"
                )));
            }
            if hv && pr.delay_ms.is_some() {
                return Err(self.err(format!(
                    "{at}.delay_ms: projections into HV populations take no delay: the coupling is instantaneous (spec hv-model.md 4.2)"
                )));
            }
            if let Some(d) = &pr.delay_ms {
                d.check()
                    .map_err(|e| self.err(format!("{at}.delay_ms: {e}")))?;
                let (lo, _) = d.support().expect("checked");
                if let Some(c) = d.as_const() {
                    if (c / dt).round() < 1.0 {
                        return Err(self.err(format!(
                            "{at}.delay_ms: {c} ms is shorter than one step (dt = {dt} ms); the minimum delay is one step"
                        )));
                    }
                } else if lo < 0.0 {
                    return Err(self.err(format!(
                        "{at}.delay_ms: this distribution can draw negative delays (down to {lo} ms): add a bound such as min = {} (half a step; draws below are drawn again, and every delay is rounded to whole steps, at least one)",
                        dt / 2.0
                    )));
                }
            }
            match &pr.connect {
                Connect::FixedProbability { p, .. } => {
                    if !(0.0..=1.0).contains(p) {
                        return Err(self.err(format!(
                            "{at}.connect.p: expected a probability in [0, 1], got {p}"
                        )));
                    }
                }
                Connect::FixedIndegree { k, .. } | Connect::FixedOutdegree { k, .. } => {
                    if *k < 0 {
                        return Err(self.err(format!(
                            "{at}.connect.k: expected a non-negative degree, got {k}"
                        )));
                    }
                }
                Connect::FixedTotalNumber { n, .. } => {
                    if *n < 0 {
                        return Err(self.err(format!(
                            "{at}.connect.n: expected a non-negative number of connections, got {n}"
                        )));
                    }
                }
                Connect::OneToOne => {
                    let a = &self.populations[self.population_index(&pr.pre).unwrap()];
                    let b = &self.populations[self.population_index(&pr.post).unwrap()];
                    if a.size != b.size {
                        return Err(self.err(format!(
                            "{at}.connect: one_to_one needs populations of equal size ({} has {}, {} has {})",
                            a.name, a.size, b.name, b.size
                        )));
                    }
                }
                Connect::AllToAll { .. } | Connect::File { .. } => {}
                Connect::Edges {
                    pre,
                    post,
                    weight,
                    delay_ms,
                } => self.check_edges(&at, pr, pre, post, weight, delay_ms)?,
            }
        }
        Ok(())
    }
}

impl Config {
    /// An inline edge list: equal lengths, indices in range, weights and delays as a
    /// projection's (finite; >= 0 into conductance and HV populations; at least one step;
    /// none into HV).
    #[allow(clippy::too_many_arguments)]
    fn check_edges(
        &self,
        at: &str,
        pr: &Projection,
        pre: &[i64],
        post: &[i64],
        weight: &Option<Vec<f64>>,
        delay_ms: &Option<Vec<f64>>,
    ) -> Result<()> {
        let n = pre.len();
        let size = |name: &str| self.populations[self.population_index(name).unwrap()].size;
        if post.len() != n {
            return Err(self.err(format!(
                "{at}.connect.post: expected as many entries as pre ({n}), got {}",
                post.len()
            )));
        }
        for (key, idx, pop) in [("pre", pre, &pr.pre), ("post", post, &pr.post)] {
            let sz = size(pop);
            if let Some((k, bad)) = idx.iter().enumerate().find(|(_, i)| **i < 0 || **i >= sz) {
                return Err(self.err(format!(
                    "{at}.connect.{key}[{k}]: index {bad} is out of range for '{pop}' (0..{sz})"
                )));
            }
        }
        let hv = self.model() == "hv";
        if let Some(w) = weight {
            if w.len() != n {
                return Err(self.err(format!(
                    "{at}.connect.weight: expected one weight per edge ({n}), got {}",
                    w.len()
                )));
            }
            let nonneg = hv || self.is_conductance(self.population_index(&pr.post).unwrap());
            if let Some((k, x)) = w
                .iter()
                .enumerate()
                .find(|(_, x)| !x.is_finite() || (nonneg && **x < 0.0))
            {
                return Err(self.err(format!(
                    "{at}.connect.weight[{k}]: expected a finite number{}, got {x}",
                    if nonneg {
                        " >= 0 (HV activations and conductances cannot be negative)"
                    } else {
                        ""
                    }
                )));
            }
        }
        if let Some(d) = delay_ms {
            if hv {
                return Err(self.err(format!(
                    "{at}.connect.delay_ms: projections into HV populations take no delay: the coupling is instantaneous (spec hv-model.md 4.2)"
                )));
            }
            if d.len() != n {
                return Err(self.err(format!(
                    "{at}.connect.delay_ms: expected one delay per edge ({n}), got {}",
                    d.len()
                )));
            }
            let dt = self.dt_ms();
            if let Some((k, x)) = d
                .iter()
                .enumerate()
                .find(|(_, x)| !x.is_finite() || (**x / dt).round() < 1.0)
            {
                return Err(self.err(format!(
                    "{at}.connect.delay_ms[{k}]: {x} ms is shorter than one step (dt = {dt} ms); the minimum delay is one step"
                )));
            }
        }
        Ok(())
    }
}
