//! Entry points for the fuzz targets under `tests/fuzz/` (cargo-fuzz) and for the test that
//! replays their corpora on stable in `cargo test`.
