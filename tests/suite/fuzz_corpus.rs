//! Replays the fuzz corpora (fuzz/corpus/config_build and checkpoint_load: the seeds and what `cargo fuzz`
//! kept) and the regressions (fuzz/artifacts/*, inputs that once crashed)
//! through the fuzz target's body, on stable: none may panic. See fuzz/README.md.

use std::path::Path;

use galvani::fuzz_harness::fuzz_config_build;

fn inputs(dir: &str) -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    let Ok(rd) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut v: Vec<_> = rd
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&p).unwrap())
        })
        .collect();
    v.sort();
    v
}

#[test]
fn corpus_and_regressions_replay_without_panic() {
    let corpus = inputs("fuzz/corpus/config_build");
    assert!(
        corpus.len() >= 10,
        "the seed corpus is committed ({} files found)",
        corpus.len()
    );
    let regressions = inputs("fuzz/artifacts/config_build");
    let mut built = Vec::new();
    for (name, data) in corpus.iter().chain(&regressions) {
        // A panic here names the input through the test's output.
        eprintln!("replaying {name}");
        if fuzz_config_build(data) {
            built.push(name.as_str());
        }
    }
    // The hand-written seeds are valid and small: if they stop building, the harness
    // (or the CSV splitting) is broken and the fuzzer would only exercise parse errors.
    for seed in [
        "seed_lif_files",
        "seed_lif_edges_no_weight",
        "seed_hv_files",
        "cfg_hv_pair",
    ] {
        assert!(
            built.contains(&seed),
            "{seed} did not build; built: {built:?}"
        );
    }
}

/// The `checkpoint_load` target's corpus (fuzz/corpus/checkpoint_load: the genuine
/// seeds and what `cargo fuzz` kept) and regressions replay without panic, and the
/// committed seeds are still accepted (a format change makes them stale:
/// `GALVANI_BLESS=1 cargo test checkpoint_corpus` writes them anew).
#[test]
fn checkpoint_corpus_replays_and_its_seeds_load() {
    use galvani::fuzz_harness::{fuzz_checkpoint_load, genuine_checkpoints};
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/checkpoint_load");
    if std::env::var_os("GALVANI_BLESS").is_some() {
        std::fs::create_dir_all(&dir).unwrap();
        for (name, bytes) in genuine_checkpoints() {
            std::fs::write(dir.join(name), bytes).unwrap();
        }
    }
    let corpus = inputs("fuzz/corpus/checkpoint_load");
    let regressions = inputs("fuzz/artifacts/checkpoint_load");
    let mut accepted = Vec::new();
    for (name, data) in corpus.iter().chain(&regressions) {
        eprintln!("replaying {name}");
        if fuzz_checkpoint_load(data) {
            accepted.push(name.as_str());
        }
    }
    for seed in ["seed_f32", "seed_f64"] {
        assert!(
            accepted.contains(&seed),
            "{seed} is refused (stale after a format change? GALVANI_BLESS=1); accepted: {accepted:?}"
        );
    }
}
