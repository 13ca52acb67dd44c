use clap::Parser;

fn main() {
    // Behave like other command-line tools when the reader of stdout goes away
    // (`galvani devices | head`): end quietly instead of panicking on a broken pipe.
    #[cfg(unix)]
    // SAFETY: restoring the default disposition of SIGPIPE before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    quiet_vulkan_device_select();
    let cli = galvani_cli::app::Cli::parse();
    std::process::exit(galvani_cli::app::main_with(cli));
}

/// Mesa's implicit Vulkan layer VK_LAYER_MESA_device_select reorders GPUs by asking the
/// Wayland and X11 servers which one drives the display; without XDG_RUNTIME_DIR,
/// libwayland prints "error: XDG_RUNTIME_DIR is invalid or not set in the environment."
/// once per probe, which reads as a galvani failure. galvani never presents to a display
/// and picks its adapter itself (GALVANI_ADAPTER), so the layer has nothing to do here:
/// it is switched off with its own switch, NODEVICE_SELECT=1, unless the user set that
/// or chose a device with MESA_VK_DEVICE_SELECT. Vulkan and the GL fallback are
/// unaffected (GL never loads the layer).
fn quiet_vulkan_device_select() {
    if std::env::var_os("NODEVICE_SELECT").is_none()
        && std::env::var_os("MESA_VK_DEVICE_SELECT").is_none()
    {
        // SAFETY: called first thing in main, before any thread exists, so nothing reads
        // the environment concurrently.
        unsafe { std::env::set_var("NODEVICE_SELECT", "1") };
    }
}
