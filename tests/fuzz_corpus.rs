//! Replays the committed fuzz corpus (`fuzz/corpus/<target>/`) and any saved crash inputs
//! (`fuzz/regressions/<target>/`) through the same target functions the cargo-fuzz crate runs,
//! on the stable toolchain.
//!
//! `cargo test --test fuzz_corpus -- --ignored regenerate` rewrites the seed corpus from real
//! handshakes (deterministic: the same bytes every time).

mod sim;
#[path = "../fuzz/src/targets.rs"]
mod targets;

use std::path::{Path, PathBuf};

fn dir(kind: &str, target: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz")
        .join(kind)
        .join(target)
}

fn inputs(kind: &str, target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let Ok(entries) = std::fs::read_dir(dir(kind, target)) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    files.sort();
    files
        .into_iter()
        .filter(|p| p.is_file())
        .map(|p| {
            let bytes = std::fs::read(&p).expect("readable corpus file");
            (p, bytes)
        })
        .collect()
}

fn replay(target: &str, run: fn(&[u8])) {
    let corpus = inputs("corpus", target);
    assert!(
        corpus.len() >= 10,
        "fuzz/corpus/{target} has {} files; regenerate it (see this file's header)",
        corpus.len()
    );
    let regressions = inputs("regressions", target);
    for (path, bytes) in corpus.iter().chain(&regressions) {
        let outcome = std::panic::catch_unwind(|| run(bytes));
        assert!(outcome.is_ok(), "{target} failed on {}", path.display());
    }
    println!(
        "{target}: {} corpus and {} regression inputs replayed",
        corpus.len(),
        regressions.len()
    );
}

#[test]
fn record_corpus_replays() {
    replay("record", targets::record);
}

#[test]
fn handshake_corpus_replays() {
    replay("handshake", targets::handshake);
}

#[test]
fn server_corpus_replays() {
    replay("server", targets::server);
}

#[test]
fn client_corpus_replays() {
    replay("client", targets::client);
}

#[test]
fn the_seed_corpus_is_reproducible() {
    let a = targets::seed_corpus();
    let b = targets::seed_corpus();
    assert_eq!(a, b, "seeded handshakes give the same bytes every time");
}

#[test]
#[ignore = "rewrites fuzz/corpus from real handshakes"]
fn regenerate_seed_corpus() {
    for (target, name, bytes) in targets::seed_corpus() {
        let d = dir("corpus", target);
        std::fs::create_dir_all(&d).expect("corpus directory");
        std::fs::write(d.join(format!("seed-{name}")), bytes).expect("corpus file");
    }
}
