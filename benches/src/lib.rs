//! Support for tim's criterion benches (the benches themselves are in `benches/benches/`).
//!
//! Criterion records timings; figures that are not timings (a request's size in bytes, a peak memory) are
//! recorded here as facts in `target/bench-facts/`, where `cargo xtask bench` collects them into
//! `target/bench-summary.json`.

use std::path::PathBuf;

/// Records one named figure for the bench summary. Failing to write it only warns: a bench never fails on this.
pub fn record_fact(name: &str, value: impl Into<serde_json::Value>) {
    let dir = target_dir().join("bench-facts");
    let path = dir.join(format!("{name}.json"));
    let document = serde_json::json!({ name: value.into() });
    let written = std::fs::create_dir_all(&dir).and_then(|()| std::fs::write(&path, document.to_string()));
    if let Err(error) = written {
        #[allow(clippy::print_stderr)]
        {
            eprintln!("warning: cannot record bench fact {name} in {}: {error}", path.display());
        }
    }
}

/// The cargo target directory: `CARGO_TARGET_DIR` when set, else `target/` at the workspace root.
fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).parent().map(|root| root.join("target")).unwrap_or_default()
    })
}
