//! The one error type of the library. Every failure a user can cause ends here, with a
//! message that names the file, key or limit, and an exit code (see [`Error::exit_code`]).

use std::path::PathBuf;

/// Result alias.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A config or data file is malformed or inconsistent.
    #[error("{}: {msg}", file.display())]
    Config {
        /// The file at fault.
        file: PathBuf,
        /// What is wrong and what was expected.
        msg: String,
    },
    /// Invalid usage (an option or argument out of range).
    #[error("{0}")]
    Usage(String),
    /// Reading or writing a file failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The path.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// No GPU adapter is available (and `--backend gpu` was asked for).
    #[error("no GPU adapter found: {0}")]
    NoAdapter(String),
    /// The network does not fit a device limit.
    #[error("the network does not fit the device: {0}")]
    Limit(String),
    /// A GPU operation failed (validation, device loss, mapping).
    #[error("GPU error: {0}")]
    Gpu(String),
    /// The model state became non-finite.
    #[error("{0}")]
    NonFinite(String),
    /// Two backends disagree beyond the stated tolerances (`galvani compare`).
    #[error("{0}")]
    Disagree(String),
    /// Drawing a plot failed.
    #[error("plot: {0}")]
    Plot(String),
    /// The run was stopped by a signal (Ctrl-C, SIGTERM, SIGHUP); its outputs hold
    /// what ran until then.
    #[error("{msg}")]
    Interrupted {
        /// The signal that stopped it (it decides the exit code).
        signal: crate::stop::StopSignal,
        /// What was stopped and what was kept.
        msg: String,
    },
}

impl Error {
    /// Shorthand for a config error.
    pub fn config(file: impl Into<PathBuf>, msg: impl Into<String>) -> Self {
        Error::Config {
            file: file.into(),
            msg: msg.into(),
        }
    }
    /// Shorthand for an I/O error on a path.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
    /// Process exit code: 2 for bad input, 3 for a numerical failure, 128 + the signal's
    /// number when stopped by one (130 for Ctrl-C, 143 for SIGTERM, 129 for SIGHUP, as
    /// shells report them), 1 otherwise.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Config { .. } | Error::Usage(_) => 2,
            Error::NonFinite(_) => 3,
            Error::Interrupted { signal, .. } => signal.exit_code(),
            Error::Io { .. } => 2,
            _ => 1,
        }
    }
}
