//! How a run stops cleanly: the stop signals (Ctrl-C/SIGINT, SIGTERM, SIGHUP) are
//! recorded here and read by the run loop between batches, so that a stopped run's files
//! stay valid. The faces (CLI, Python) install the handlers; the library only reads the
//! flag.

use std::sync::Once;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};

static STOP: AtomicBool = AtomicBool::new(false);
/// The first stop signal that arrived, as [`StopSignal::code`]; 0 while none has.
static SIGNAL: AtomicU8 = AtomicU8::new(0);

/// A signal that asks a run to stop at its next batch boundary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopSignal {
    /// SIGINT (Ctrl-C).
    Interrupt,
    /// SIGTERM (`kill`, service managers, job schedulers).
    Terminate,
    /// SIGHUP (the terminal went away).
    Hangup,
}

impl StopSignal {
    /// The conventional signal number (the same on Linux and macOS).
    pub fn code(self) -> u8 {
        match self {
            StopSignal::Hangup => 1,
            StopSignal::Interrupt => 2,
            StopSignal::Terminate => 15,
        }
    }

    fn from_code(c: u8) -> Option<StopSignal> {
        [
            StopSignal::Hangup,
            StopSignal::Interrupt,
            StopSignal::Terminate,
        ]
        .into_iter()
        .find(|s| s.code() == c)
    }

    /// The name shells and `kill -l` use: "SIGINT", "SIGTERM", "SIGHUP".
    pub fn name(self) -> &'static str {
        match self {
            StopSignal::Interrupt => "SIGINT",
            StopSignal::Terminate => "SIGTERM",
            StopSignal::Hangup => "SIGHUP",
        }
    }

    /// The exit code a shell reports for a process killed by this signal, 128 + its
    /// number: 130, 143, 129. A stopped run exits with it so that scripts see the same
    /// status whether galvani stopped cleanly or was killed.
    pub fn exit_code(self) -> i32 {
        128 + i32::from(self.code())
    }
}

/// Records `sig`; returns whether a stop had already been requested (the caller then
/// exits at once).
fn request_stop(sig: StopSignal) -> bool {
    let _ = SIGNAL.compare_exchange(0, sig.code(), Ordering::SeqCst, Ordering::SeqCst);
    STOP.swap(true, Ordering::SeqCst)
}

/// Installs the handlers of SIGINT, SIGTERM and SIGHUP, once per process: the first
/// signal asks the run to stop after its current batch (see [`stop_signal`]); a second
/// one exits at once with 128 + its number.
///
/// The signals are received on a thread of their own (signal-hook's iterator), not in
/// a signal handler, so the reaction may do anything, `process::exit` included. On
/// platforms without these signals only Ctrl-C is handled (the `ctrlc` crate).
pub fn install_stop_handlers() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        #[cfg(unix)]
        {
            use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
            // Failing to install (which needs a broken libc) only loses the clean stop;
            // the signals keep their default action, so it is not worth failing a run.
            if let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP])
            {
                let _ = std::thread::Builder::new()
                    .name("galvani-signals".into())
                    .spawn(move || {
                        for raw in signals.forever() {
                            let Some(sig) = u8::try_from(raw).ok().and_then(StopSignal::from_code)
                            else {
                                continue;
                            };
                            if request_stop(sig) {
                                std::process::exit(sig.exit_code());
                            }
                        }
                    });
            }
        }
        #[cfg(not(unix))]
        {
            let _ = ctrlc::set_handler(|| {
                if request_stop(StopSignal::Interrupt) {
                    std::process::exit(StopSignal::Interrupt.exit_code());
                }
            });
        }
    });
}

/// The former name of [`install_stop_handlers`], which now handles SIGTERM and SIGHUP
/// as well as Ctrl-C.
pub fn install_ctrlc() {
    install_stop_handlers();
}

/// Whether a stop signal arrived.
pub fn stop_requested() -> bool {
    STOP.load(Ordering::SeqCst)
}

/// The first stop signal that arrived, if any.
pub fn stop_signal() -> Option<StopSignal> {
    StopSignal::from_code(SIGNAL.load(Ordering::SeqCst))
}
