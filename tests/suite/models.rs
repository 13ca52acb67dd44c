//! The model table ([`galvani::model::MODELS`]): what it names exists, and the
//! documentation's parameter reference is generated from it.

use std::path::Path;

use galvani::backend::gpu::shaders::KERNELS;

/// The documentation's parameter reference is the models' own tables
/// (`galvani::model::parameter_reference`); GALVANI_BLESS=1 rewrites it.
#[test]
fn docs_parameter_tables_match_the_models() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/reference/parameters.md");
    let want = galvani::model::parameter_reference();
    if std::env::var("GALVANI_BLESS").is_ok_and(|v| v == "1") {
        std::fs::write(&path, &want).unwrap();
    }
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        have == want,
        "{} is out of date with the models' parameter tables: run GALVANI_BLESS=1 cargo test docs_parameter_tables",
        path.display()
    );
}

/// Every model's kernels are registered shaders.
#[test]
fn every_model_names_registered_kernels() {
    for m in galvani::model::MODELS {
        for k in m.kernels() {
            // point models run the engine's point_step with their update spliced in
            if m.dynamics().is_some() {
                assert_eq!(*k, "point_step", "model {}", m.name());
                assert!(
                    galvani::backend::gpu::shaders::point_source(m.dynamics().unwrap(), false)
                        .is_ok()
                );
                continue;
            }
            assert!(
                KERNELS.iter().any(|s| s.name == *k),
                "model {} names kernel {k}, which is not registered",
                m.name()
            );
        }
    }
}
