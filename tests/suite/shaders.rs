//! Every WGSL file under `shaders/`, after `#import` preprocessing, parses and validates
//! with naga (no GPU needed), and each kernel's bindings match the explicit bind group
//! layout the backend declares for it (`src/backend/gpu/pipelines.rs`).

use std::collections::BTreeSet;
use std::path::Path;

use galvani::backend::gpu::layout::WG_SIZE;
use galvani::backend::gpu::limits::MAX_SYN_CHUNKS;
use galvani::backend::gpu::pipelines::{
    BindKind, KERNEL_SPECS, KernelSpec, PROPAGATE, propagate_spec,
};
use galvani::backend::gpu::shader_sources;
use galvani::backend::gpu::shaders::{
    KERNELS, SHARED, ShaderFile, kernel_source, kernel_source_chunks, preprocess,
};
use naga::valid::{Capabilities, ValidationFlags, Validator};

fn parse_and_validate(path: &str, src: &str) -> Result<naga::Module, String> {
    // the 64-bit variants of shared modules (shaders::INT64_VARIANTS) need SHADER_INT64,
    // which the backend requests only where the adapter has it; nothing else may
    let caps = if path.ends_with("_u64.wgsl") {
        Capabilities::SHADER_INT64
    } else {
        Capabilities::default()
    };
    let m = naga::front::wgsl::parse_str(src).map_err(|e| e.emit_to_string_with_path(src, path))?;
    Validator::new(ValidationFlags::all(), caps)
        .validate(&m)
        .map_err(|e| e.emit_to_string_with_path(src, path))?;
    Ok(m)
}

#[test]
fn every_shader_validates() {
    let sources = shader_sources();
    let mut failures = Vec::new();
    for (path, src) in &sources {
        if let Err(e) = parse_and_validate(path, src) {
            failures.push(e);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    eprintln!("validated {} shaders", sources.len());
}

/// Every .wgsl file on disk is registered (so none escapes validation), and vice versa.
#[test]
fn every_wgsl_file_is_registered() {
    fn walk(dir: &Path, root: &Path, out: &mut BTreeSet<String>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, root, out);
            } else if p.extension().is_some_and(|x| x == "wgsl") {
                out.insert(
                    p.strip_prefix(root)
                        .unwrap()
                        .to_string_lossy()
                        .replace('\\', "/"),
                );
            }
        }
    }
    // the core crate: engine stages under src/engine/shaders, each model's under its
    // folder in src/model
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("crates/galvani");
    let mut on_disk = BTreeSet::new();
    walk(&root.join("src"), &root, &mut on_disk);
    let registered: BTreeSet<String> = shader_sources()
        .iter()
        .map(|(p, _)| p.to_string())
        .collect();
    assert_eq!(on_disk, registered);
}

#[test]
fn preprocessor_splices_each_import_once_and_rejects_unknown_ones() {
    let shared = [
        ShaderFile {
            name: "a",
            path: "shaders/shared/a.wgsl",
            source: "const A: u32 = 1u;\n",
            harness: "",
        },
        ShaderFile {
            name: "b",
            path: "shaders/shared/b.wgsl",
            source: "#import a\nconst B: u32 = A + 1u;\n",
            harness: "",
        },
    ];
    let out = preprocess("#import b\n#import a\nconst C: u32 = B;\n", &shared).unwrap();
    assert_eq!(out.matches("const A").count(), 1, "{out}");
    assert!(out.find("const A").unwrap() < out.find("const B").unwrap());
    parse_and_validate("test.wgsl", &out).unwrap();
    let err = preprocess("#import nope\n", &shared).unwrap_err();
    assert!(err.contains("nope") && err.contains("a, b"), "{err}");
    assert!(kernel_source("no_such_kernel").is_err());
    // The real kernels use no directive the preprocessor leaves behind.
    for k in KERNELS {
        let src = kernel_source(k.name).unwrap();
        assert!(!src.contains("#import"), "{}", k.path);
    }
    assert!(SHARED.iter().any(|s| s.name == "types"));
}

/// A binding's WGSL type size: the element stride for a runtime-sized array, the whole
/// size otherwise.
fn min_size(
    m: &naga::Module,
    layouter: &naga::proc::Layouter,
    ty: naga::Handle<naga::Type>,
) -> u64 {
    match m.types[ty].inner {
        naga::TypeInner::Array {
            size: naga::ArraySize::Dynamic,
            stride,
            ..
        } => stride as u64,
        _ => layouter[ty].size as u64,
    }
}

#[test]
fn bind_group_layouts_match_the_shaders() {
    assert_eq!(KERNEL_SPECS.len(), KERNELS.len());
    let mut cases: Vec<(KernelSpec, String)> = KERNEL_SPECS
        .iter()
        .map(|s| (s.clone(), kernel_source(s.name).unwrap()))
        .collect();
    // propagate as generated for other chunk counts (1 chunk, GL's 3, lavapipe's 9, the most)
    for chunks in [1, 2, 3, 9, MAX_SYN_CHUNKS] {
        cases.push((
            propagate_spec(chunks),
            kernel_source_chunks("propagate", chunks).unwrap(),
        ));
    }
    assert_eq!(propagate_spec(3).bindings, PROPAGATE.bindings);
    for (spec, src) in &cases {
        let m = parse_and_validate(spec.name, src).unwrap();
        let mut layouter = naga::proc::Layouter::default();
        layouter.update(m.to_ctx()).unwrap();
        let mut globals: Vec<_> = m
            .global_variables
            .iter()
            .filter_map(|(_, g)| g.binding.as_ref().map(|b| (b.group, b.binding, g)))
            .collect();
        globals.sort_by_key(|g| (g.0, g.1));
        assert_eq!(
            globals.len(),
            spec.bindings.len(),
            "{}: the WGSL declares {} bindings, the layout {}",
            spec.name,
            globals.len(),
            spec.bindings.len()
        );
        for (pos, ((group, binding, g), kind)) in
            globals.iter().zip(spec.bindings.iter()).enumerate()
        {
            let name = g.name.as_deref().unwrap_or("?");
            assert_eq!((*group, *binding), (0, pos as u32), "{}: {name}", spec.name);
            let size = min_size(&m, &layouter, g.ty);
            match (*kind, g.space) {
                (BindKind::StepUniform, naga::AddressSpace::Uniform) => {
                    assert_eq!(
                        size,
                        std::mem::size_of::<galvani::backend::gpu::layout::StepUniform>() as u64,
                        "{}: {name}",
                        spec.name
                    );
                }
                (BindKind::ReadOnly(min), naga::AddressSpace::Storage { access }) => {
                    assert!(
                        !access.contains(naga::StorageAccess::STORE),
                        "{}: {name} is writable",
                        spec.name
                    );
                    assert_eq!(size, min, "{}: {name} min_binding_size", spec.name);
                }
                (BindKind::ReadWrite(min), naga::AddressSpace::Storage { access }) => {
                    assert!(
                        access.contains(naga::StorageAccess::STORE),
                        "{}: {name} is read-only",
                        spec.name
                    );
                    assert_eq!(size, min, "{}: {name} min_binding_size", spec.name);
                }
                (k, s) => panic!(
                    "{}: binding {pos} ({name}) is {s:?} in WGSL, {k:?} in the layout",
                    spec.name
                ),
            }
        }
        let ep = m
            .entry_points
            .iter()
            .find(|e| e.name == spec.name)
            .unwrap_or_else(|| panic!("{}: no entry point of that name", spec.name));
        assert_eq!(ep.stage, naga::ShaderStage::Compute);
        assert_eq!(ep.workgroup_size, [WG_SIZE, 1, 1], "{}", spec.name);
    }
}

/// The kernels that import a module with a 64-bit variant validate with it too (and
/// need SHADER_INT64 then), and the variant computes the same function: the same name
/// and signature.
#[test]
fn int64_variants_validate_in_their_kernels() {
    use galvani::backend::gpu::shaders::{INT64_VARIANTS, kernel_source_for};
    for (module, variant) in INT64_VARIANTS {
        let m = SHARED.iter().find(|f| f.name == *module).unwrap();
        let v = SHARED.iter().find(|f| f.name == *variant).unwrap();
        let sig = |src: &str| {
            src.lines()
                .filter(|l| l.starts_with("fn "))
                .map(str::to_string)
                .collect::<Vec<_>>()
        };
        assert_eq!(sig(m.source), sig(v.source), "{variant} mirrors {module}");
    }
    let src = kernel_source_for("lif_step", 3, true).unwrap();
    assert!(src.contains("u64(a) * u64(b)"));
    let m = naga::front::wgsl::parse_str(&src).unwrap();
    Validator::new(ValidationFlags::all(), Capabilities::SHADER_INT64)
        .validate(&m)
        .unwrap();
    assert!(
        Validator::new(ValidationFlags::all(), Capabilities::default())
            .validate(&m)
            .is_err(),
        "the variant needs the capability"
    );
    assert!(
        !kernel_source_for("lif_step", 3, false)
            .unwrap()
            .contains("u64(")
    );
}
