//! The `galvani` command-line tool: argument parsing and commands ([`app`]), pictures
//! ([`plot`]), the progress bar ([`progress`]) and `bench --suite` ([`suite`]). Every
//! behaviour it runs lives in the core library, `galvani`; this crate converts
//! arguments and prints.
#![warn(missing_docs)]

pub mod app;
pub mod plot;
pub mod progress;
pub mod suite;
