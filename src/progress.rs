//! What `galvani run` shows while it runs: a progress bar (simulated time, steps/s, ETA)
//! for runs longer than a couple of seconds. Stop signals are the library's
//! ([`galvani::stop`]); the bar passes them on to the run loop.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use galvani::sim::Monitor;
pub use galvani::stop::{
    StopSignal, install_ctrlc, install_stop_handlers, stop_requested, stop_signal,
};

/// Shows a progress bar once a run looks like it will take more than [`SHOW_AFTER`] in
/// all, and passes stop signals on to the simulation loop. Updated once per batch.
pub struct RunMonitor {
    bar: Option<ProgressBar>,
    enabled: bool,
    start: Instant,
    dt_ms: f64,
}

/// A run whose projected wall time is at least this long gets a progress bar.
pub const SHOW_AFTER: Duration = Duration::from_secs(2);

impl RunMonitor {
    /// A monitor for a run of `dt_ms` steps; the bar is never shown with `quiet` or when
    /// stdout is not a terminal.
    pub fn new(dt_ms: f64, quiet: bool) -> Self {
        RunMonitor {
            bar: None,
            enabled: !quiet && std::io::stdout().is_terminal(),
            start: Instant::now(),
            dt_ms,
        }
    }

    /// Removes the bar (before the summary is printed).
    pub fn clear(&mut self) {
        if let Some(b) = self.bar.take() {
            b.finish_and_clear();
        }
    }
}

impl Drop for RunMonitor {
    fn drop(&mut self) {
        self.clear();
    }
}

/// Simulated time in a readable unit.
fn sim_time(ms: f64, total_ms: f64) -> String {
    if total_ms >= 10_000.0 {
        format!("{:.1} / {:.1} s", ms / 1000.0, total_ms / 1000.0)
    } else {
        format!("{ms:.1} / {total_ms:.1} ms")
    }
}

impl Monitor for RunMonitor {
    fn batch_done(&mut self, done: u64, total: u64) {
        if !self.enabled || total == 0 {
            return;
        }
        let el = self.start.elapsed();
        if self.bar.is_none() {
            if done >= total || done == 0 {
                return;
            }
            let projected = el.as_secs_f64() * total as f64 / done as f64;
            if el < Duration::from_millis(500) || projected < SHOW_AFTER.as_secs_f64() {
                return;
            }
            let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stdout());
            bar.set_style(
                ProgressStyle::with_template(
                    "{spinner:.green} [{elapsed_precise}] {bar:36.cyan/blue} {percent:>3}% {msg}, ETA {eta}",
                )
                .expect("valid template")
                .progress_chars("=> "),
            );
            self.bar = Some(bar);
        }
        let bar = self.bar.as_ref().expect("set above");
        let rate = done as f64 / el.as_secs_f64().max(1e-9);
        bar.set_position(done);
        bar.set_message(format!(
            "t = {}, {:.0} steps/s",
            sim_time(done as f64 * self.dt_ms, total as f64 * self.dt_ms),
            rate
        ));
    }

    fn stop_requested(&self) -> bool {
        stop_requested()
    }
}
