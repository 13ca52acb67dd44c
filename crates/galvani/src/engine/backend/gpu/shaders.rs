//! The WGSL sources (compiled into the binary) and a tiny vello-style preprocessor:
//! a line `#import name` splices `shaders/shared/name.wgsl` (each module at most once),
//! and a line `#synapse_chunks` (in `propagate.wgsl`) becomes the bindings and accessors
//! of as many synapse-array chunks as the network needs ([`synapse_chunks`]).

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
            path: $path,
            source: include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/", $path)),
            harness: $harness,
        }
    };
}

/// Modules under `shaders/shared/` that kernels may `#import`.
pub const SHARED: &[ShaderFile] = &[
    wgsl!("types", "src/engine/shaders/shared/types.wgsl"),
    wgsl!(
        "rng",
        "src/engine/shaders/shared/rng.wgsl",
        "@group(0) @binding(0) var<storage, read> poisson_cdf: array<f32>;\n"
    ),
    wgsl!(
        "poisson_drive",
        "src/engine/shaders/shared/poisson_drive.wgsl",
        "@group(0) @binding(0) var<uniform> u: StepUniform;\n\
         @group(0) @binding(1) var<storage, read_write> ring: array<i32>;\n\
         @group(0) @binding(2) var<storage, read> aux: array<u32>;\n\
         @group(0) @binding(3) var<storage, read> streams: array<PoissonStream>;\n\
         @group(0) @binding(4) var<storage, read> poisson_cdf: array<f32>;\n\
         @group(0) @binding(5) var<storage, read_write> drive_cache: array<vec4<u32>>;\n"
    ),
    wgsl!("mulhilo", "src/engine/shaders/shared/mulhilo.wgsl"),
    wgsl!("mulhilo_u64", "src/engine/shaders/shared/mulhilo_u64.wgsl"),
    wgsl!(
        "spike_out",
        "src/engine/shaders/shared/spike_out.wgsl",
        "@group(0) @binding(0) var<uniform> u: StepUniform;\n\
         @group(0) @binding(1) var<storage, read_write> counts: array<atomic<u32>, 16>;\n\
         @group(0) @binding(2) var<storage, read_write> blocks: array<vec2<u32>>;\n\
         @group(0) @binding(3) var<storage, read> row_ptr: array<vec2<u32>>;\n\
         @group(0) @binding(4) var<storage, read_write> spike_bits: array<atomic<u32>>;\n\
         @group(0) @binding(5) var<storage, read_write> spike_rec: array<atomic<u32>>;\n"
    ),
];

/// The kernels (entry point = name).
pub const KERNELS: &[ShaderFile] = &[
    wgsl!("lif_step", "src/model/lif/lif_step.wgsl"),
    wgsl!("source_spikes", "src/engine/shaders/source_spikes.wgsl"),
    wgsl!("propagate", "src/engine/shaders/propagate.wgsl"),
    wgsl!("hv_step", "src/model/hv/hv_step.wgsl"),
    wgsl!("hv_gather", "src/model/hv/hv_gather.wgsl"),
    wgsl!("hv_record_voltage", "src/model/hv/hv_record_voltage.wgsl"),
];

/// The engine's kernel for point models (`#model` marks where the model's update goes).
pub const POINT_STEP: ShaderFile = wgsl!("point_step", "src/engine/shaders/point_step.wgsl");

/// The preprocessed `point_step` kernel of point model `d`: its `point_update` spliced in
/// at `#model`, after the constants POINT_WIDTH and POINT_CONSTS.
pub fn point_source(
    d: &dyn crate::model::point::PointDynamics,
    int64: bool,
) -> Result<String, String> {
    let model = format!(
        "const POINT_WIDTH: u32 = {}u;\nconst POINT_CONSTS: u32 = {}u;\n{}",
        d.state().len(),
        d.n_consts(),
        d.wgsl()
    );
    let src = POINT_STEP.source.replace("#model\n", &model);
    let shared: Vec<ShaderFile> = SHARED
        .iter()
        .map(|f| {
            let variant = INT64_VARIANTS
                .iter()
                .find(|(m, _)| int64 && *m == f.name)
                .and_then(|(_, v)| SHARED.iter().find(|g| g.name == *v));
            match variant {
                Some(v) => ShaderFile { name: f.name, ..*v },
                None => *f,
            }
        })
        .collect();
    preprocess(&src, &shared).map_err(|e| format!("{}: {e}", POINT_STEP.path))
}

/// The chunk count `#synapse_chunks` expands to where none is given: what the GL backend
/// allows (`limits::max_syn_chunks` with 16 storage bindings per stage).
pub const DEFAULT_CHUNKS: u32 = 3;

/// The WGSL of `#synapse_chunks` for `chunks` chunks (≥ 1): for chunk c the bindings
/// 6 + 3c (`syn_word{c}`), 7 + 3c (`syn_weight{c}`), 8 + 3c (`syn_delay{c}`), and
/// `word_at`, `weight_at` (i32 bits as u32), `delay_at`, which read element `o` of
/// chunk `c`. Twin of `pipelines::propagate_spec` (the same bindings, in order).
pub fn synapse_chunks(chunks: u32) -> String {
    let chunks = chunks.max(1);
    let mut s = String::new();
    for c in 0..chunks {
        let b = 6 + 3 * c;
        s += &format!("@group(0) @binding({b}) var<storage, read> syn_word{c}: array<u32>;\n");
        s += &format!(
            "@group(0) @binding({}) var<storage, read> syn_weight{c}: array<i32>;\n",
            b + 1
        );
        s += &format!(
            "@group(0) @binding({}) var<storage, read> syn_delay{c}: array<u32>;\n",
            b + 2
        );
    }
    let accessor = |name: &str, array: &str, read: &dyn Fn(&str) -> String| {
        let mut f = format!("fn {name}(c: u32, o: u32) -> u32 {{\n    switch c {{\n");
        for c in 0..chunks {
            let arm = if c + 1 == chunks {
                "default".to_string()
            } else {
                format!("case {c}u")
            };
            f += &format!(
                "        {arm}: {{ return {}; }}\n",
                read(&format!("{array}{c}[o]"))
            );
        }
        f + "    }\n}\n"
    };
    s += &accessor("word_at", "syn_word", &|x| x.to_string());
    s += &accessor("weight_at", "syn_weight", &|x| format!("bitcast<u32>({x})"));
    s += &accessor("delay_at", "syn_delay", &|x| x.to_string());
    s
}

/// Expands `#import name` lines with the shared modules in `shared` (recursively; each
/// module once), and `#synapse_chunks` for [`DEFAULT_CHUNKS`]. Fails on an unknown
/// module.
pub fn preprocess(src: &str, shared: &[ShaderFile]) -> Result<String, String> {
    preprocess_chunks(src, shared, DEFAULT_CHUNKS)
}

/// [`preprocess`] with `#synapse_chunks` for `chunks` chunks.
pub fn preprocess_chunks(src: &str, shared: &[ShaderFile], chunks: u32) -> Result<String, String> {
    fn go(
        src: &str,
        shared: &[ShaderFile],
        chunks: u32,
        done: &mut Vec<String>,
        out: &mut String,
    ) -> Result<(), String> {
        for line in src.lines() {
            if line.trim() == "#synapse_chunks" {
                out.push_str(&synapse_chunks(chunks));
            } else if let Some(rest) = line.trim_start().strip_prefix("#import") {
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
                go(file.source, shared, chunks, done, out)?;
                out.push_str(&format!("// ---- end shaders/shared/{name}.wgsl ----\n"));
            } else {
                out.push_str(line);
                out.push('\n');
            }
        }
        Ok(())
    }
    let mut out = String::new();
    go(src, shared, chunks, &mut Vec::new(), &mut out)?;
    Ok(out)
}

/// The preprocessed source of one kernel.
pub fn kernel_source(name: &str) -> Result<String, String> {
    kernel_source_chunks(name, DEFAULT_CHUNKS)
}

/// The preprocessed source of one kernel, `propagate` with `chunks` synapse-array chunks.
pub fn kernel_source_chunks(name: &str, chunks: u32) -> Result<String, String> {
    kernel_source_for(name, chunks, false)
}

/// The shared modules that need a device feature: `(module, its variant)`; a device
/// with SHADER_INT64 gets the variant wherever a kernel imports the module.
pub const INT64_VARIANTS: &[(&str, &str)] = &[("mulhilo", "mulhilo_u64")];

/// The preprocessed source of one kernel, with `chunks` synapse-array chunks, and with
/// `int64` the modules of [`INT64_VARIANTS`] replaced by their 64-bit variants.
pub fn kernel_source_for(name: &str, chunks: u32, int64: bool) -> Result<String, String> {
    let file = KERNELS
        .iter()
        .find(|f| f.name == name)
        .ok_or_else(|| format!("no kernel {name}"))?;
    let shared: Vec<ShaderFile> = SHARED
        .iter()
        .map(|f| {
            let variant = INT64_VARIANTS
                .iter()
                .find(|(m, _)| int64 && *m == f.name)
                .and_then(|(_, v)| SHARED.iter().find(|g| g.name == *v));
            match variant {
                Some(v) => ShaderFile { name: f.name, ..*v },
                None => *f,
            }
        })
        .collect();
    preprocess_chunks(file.source, &shared, chunks).map_err(|e| format!("{}: {e}", file.path))
}

/// Every `.wgsl` file as the device would see it: `(path, preprocessed WGSL)` for the
/// kernels, and for each shared module on its own (after its harness: the bindings an
/// importing kernel provides). naga validates them all in tests. A preprocessing
/// failure yields a source that fails to parse, naming the cause.
pub fn shader_sources() -> Vec<(&'static str, String)> {
    let mut out: Vec<(&'static str, String)> = KERNELS
        .iter()
        .chain(SHARED)
        .map(|f| {
            let src = preprocess(f.source, SHARED).unwrap_or_else(|e| format!("#error {e}\n"));
            (f.path, format!("{}{src}", f.harness))
        })
        .collect();
    // the point-model kernel once per point model, under the model's WGSL file, and
    // under its own with the first model's update
    for m in crate::model::MODELS {
        if let Some(d) = m.dynamics() {
            let src = point_source(d, false).unwrap_or_else(|e| format!("#error {e}\n"));
            if !out.iter().any(|(p, _)| *p == POINT_STEP.path) {
                out.push((POINT_STEP.path, src.clone()));
            }
            out.push((d.wgsl_path(), src));
        }
    }
    out
}
