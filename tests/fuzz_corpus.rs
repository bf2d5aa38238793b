//! Replays the committed fuzz corpora and crash regressions (`tests/fuzz/corpus/<target>/`,
//! `tests/fuzz/regressions/<target>/`) through the same checks the cargo-fuzz targets run
//! (`redis_lite::fuzzing`), so they guard every `cargo test` on stable without a fuzzer.

use std::path::{Path, PathBuf};

type Target = fn(&[u8]);

const TARGETS: [(&str, Target); 3] = [
    ("resp_decode", redis_lite::fuzzing::resp_decode),
    ("exec_commands", redis_lite::fuzzing::exec_commands),
    ("rdb_load", redis_lite::fuzzing::rdb_load),
];

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz")
}

/// Every file under `dir` (sorted, so a failure names the same file each run).
fn files(dir: &Path) -> Vec<PathBuf> {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut v: Vec<PathBuf> = rd
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .collect();
    v.sort();
    v
}

/// Runs every input of `target` in `kind` (corpus or regressions); returns how many ran.
fn replay(kind: &str, name: &str, f: Target) -> usize {
    let inputs = files(&fuzz_dir().join(kind).join(name));
    for path in &inputs {
        let data = std::fs::read(path).unwrap();
        let outcome = std::panic::catch_unwind(|| f(&data));
        assert!(outcome.is_ok(), "{name}: {} fails", path.display());
    }
    inputs.len()
}

#[test]
fn seed_corpora_pass() {
    for (name, f) in TARGETS {
        let n = replay("corpus", name, f);
        assert!(n > 0, "no seed corpus for {name}");
    }
}

#[test]
fn crash_regressions_pass() {
    for (name, f) in TARGETS {
        replay("regressions", name, f);
    }
}

/// Prints a libFuzzer dictionary of every command the exec_commands target runs (shard
/// commands) plus the harness's own, for `tests/fuzz/dicts/exec_commands.dict`:
/// `cargo test --release --test fuzz_corpus -- --ignored --nocapture exec_dictionary`.
#[test]
#[ignore]
fn exec_dictionary() {
    let mut names: Vec<&str> = redis_lite::cmd::table()
        .iter()
        .filter(|c| matches!(c.handler, redis_lite::cmd::Handler::Shard(_)))
        .filter(|c| c.flags & redis_lite::cmd::flags::INTERNAL == 0)
        .map(|c| c.name)
        .collect();
    names.extend(["tick", "cycle", "select"]);
    names.sort_unstable();
    for n in names {
        println!("\"{}\"", n.to_ascii_uppercase());
    }
}
