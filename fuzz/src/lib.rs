//! cargo-fuzz targets for puredtls; the bodies live in `targets.rs`, shared with the stable
//! replay test `tests/fuzz_corpus.rs`. See `fuzz/README.md`.

#[path = "../../tests/sim/mod.rs"]
pub mod sim;
pub mod targets;
