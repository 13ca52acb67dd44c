//! The WGSL sources (compiled into the binary) and a tiny vello-style preprocessor:
//! a line `#import name` splices `shaders/shared/name.wgsl` (each module at most once).

/// One `.wgsl` file under `shaders/`.
#[derive(Debug, Clone, Copy)]
pub struct ShaderFile {
    /// Module name: the file stem (`#import` name for shared modules, entry point for kernels).
    pub name: &'static str,
    /// Path relative to the crate root.
    pub path: &'static str,
    /// Source before preprocessing.
    pub source: &'static str,
    /// WGSL that a kernel importing this shared module provides (bindings the module
    /// uses but does not declare), prepended when the module is validated on its own.
    pub harness: &'static str,
}

macro_rules! wgsl {
    ($name:literal, $path:literal) => {
        wgsl!($name, $path, "")
    };
    ($name:literal, $path:literal, $harness:literal) => {
        ShaderFile {
            name: $name,
            path: concat!("shaders/", $path),
            source: include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/shaders/", $path)),
            harness: $harness,
        }
    };
}

/// Modules under `shaders/shared/` that kernels may `#import`.
pub const SHARED: &[ShaderFile] = &[
    wgsl!("types", "shared/types.wgsl"),
    wgsl!(
        "rng",
        "shared/rng.wgsl",
        "@group(0) @binding(0) var<storage, read> poisson_cdf: array<f32>;\n"
    ),
];

/// The kernels (entry point = name).
pub const KERNELS: &[ShaderFile] = &[
    wgsl!("lif_step", "lif_step.wgsl"),
    wgsl!("source_spikes", "source_spikes.wgsl"),
    wgsl!("propagate", "propagate.wgsl"),
    wgsl!("record_voltage", "record_voltage.wgsl"),
    wgsl!("poisson_input", "poisson_input.wgsl"),
    wgsl!("hv_step", "hv_step.wgsl"),
    wgsl!("hv_gather", "hv_gather.wgsl"),
    wgsl!("hv_record_voltage", "hv_record_voltage.wgsl"),
];

/// Expands `#import name` lines with the shared modules in `shared` (recursively; each
/// module once). Fails on an unknown module.
pub fn preprocess(src: &str, shared: &[ShaderFile]) -> Result<String, String> {
    fn go(
        src: &str,
        shared: &[ShaderFile],
        done: &mut Vec<String>,
        out: &mut String,
    ) -> Result<(), String> {
        for line in src.lines() {
            if let Some(rest) = line.trim_start().strip_prefix("#import") {
                let name = rest.trim();
                if done.iter().any(|d| d == name) {
                    continue;
                }
                let Some(file) = shared.iter().find(|f| f.name == name) else {
                    return Err(format!(
                        "#import {name}: no shaders/shared/{name}.wgsl (known: {})",
                        shared.iter().map(|f| f.name).collect::<Vec<_>>().join(", ")
                    ));
                };
                done.push(name.to_string());
                out.push_str(&format!("// ---- begin shaders/shared/{name}.wgsl ----\n"));
                go(file.source, shared, done, out)?;
                out.push_str(&format!("// ---- end shaders/shared/{name}.wgsl ----\n"));
            } else {
                out.push_str(line);
                out.push('\n');
            }
        }
        Ok(())
    }
    let mut out = String::new();
    go(src, shared, &mut Vec::new(), &mut out)?;
    Ok(out)
}

/// The preprocessed source of one kernel.
pub fn kernel_source(name: &str) -> Result<String, String> {
    let file = KERNELS
        .iter()
        .find(|f| f.name == name)
        .ok_or_else(|| format!("no kernel {name}"))?;
    preprocess(file.source, SHARED).map_err(|e| format!("{}: {e}", file.path))
}

/// Every `.wgsl` file as the device would see it: `(path, preprocessed WGSL)` for the
/// kernels, and for each shared module on its own (after its harness: the bindings an
/// importing kernel provides). naga validates them all in tests. A preprocessing
/// failure yields a source that fails to parse, naming the cause.
pub fn shader_sources() -> Vec<(&'static str, String)> {
    KERNELS
        .iter()
        .chain(SHARED)
        .map(|f| {
            let src = preprocess(f.source, SHARED).unwrap_or_else(|e| format!("#error {e}\n"));
            (f.path, format!("{}{src}", f.harness))
        })
        .collect()
}
