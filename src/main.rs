use clap::Parser;

fn main() {
    // Behave like other command-line tools when the reader of stdout goes away
    // (`galvani devices | head`): end quietly instead of panicking on a broken pipe.
    #[cfg(unix)]
    // SAFETY: restoring the default disposition of SIGPIPE before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = galvani::app::Cli::parse();
    std::process::exit(galvani::app::main_with(cli));
}
