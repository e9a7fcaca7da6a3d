//! The dependency-direction check: dependencies run one way, model ← sig ← transport ← jobs ← grpc.
//!
//! For each crate below, its normal (non-dev, non-build) dependency graph must not contain any of the listed
//! packages. `cargo tree` prints the graph; a forbidden name anywhere in it fails the check.

use std::collections::BTreeSet;

/// (crate, packages that must not appear in its normal dependency graph, why).
const RULES: &[(&str, &[&str], &str)] = &[
    (
        "tim-model",
        &["tokio", "hyper", "hyper-util", "tonic", "prost", "rustls", "redis", "tim-sig", "tim-transport", "tim-grpc"],
        "the wire model knows nothing about HTTP, async runtimes, TLS or protobuf",
    ),
    (
        "tim-sig",
        &["tokio", "hyper", "tonic", "prost", "tim-transport", "tim-grpc"],
        "signing is pure computation and never depends on the transport or the gateway",
    ),
    ("tim-transport", &["tonic", "prost", "tim-grpc", "tim-testkit"], "the transport knows nothing about gRPC"),
    ("tim-jobs", &["tonic", "prost", "tim-grpc", "tim-testkit"], "the job store knows nothing about gRPC"),
    ("tim-grpc", &["tim-testkit"], "test support stays out of what ships"),
    ("tim-cli", &["tim-testkit"], "test support stays out of what ships"),
    (
        "tim-testkit",
        &["tokio", "tim-model", "tim-transport", "tim-grpc"],
        "test support starts servers with the standard library and knows nothing of the product",
    ),
];

/// Runs every rule and reports all violations at once.
pub(crate) fn check() -> Result<(), String> {
    let mut violations = Vec::new();
    for (krate, forbidden, why) in RULES {
        let output = crate::cargo()
            .args(["tree", "--locked", "-p", krate, "-e", "normal", "--prefix", "none", "--format", "{p}"])
            .output()
            .map_err(|e| format!("cannot run cargo tree: {e}"))?;
        if !output.status.success() {
            return Err(format!("cargo tree -p {krate} failed: {}", String::from_utf8_lossy(&output.stderr).trim()));
        }
        let names: BTreeSet<String> = String::from_utf8_lossy(&output.stdout)
            .lines()
            .filter_map(|line| line.split_whitespace().next())
            .map(str::to_owned)
            .collect();
        let found: Vec<&str> = forbidden.iter().copied().filter(|name| names.contains(*name)).collect();
        println!("xtask deps: {krate}: {} packages, forbidden found: {found:?}", names.len());
        violations.extend(found.iter().map(|name| format!("{krate} depends on {name}, but {why}")));
    }
    if violations.is_empty() {
        Ok(())
    } else {
        Err(format!("dependency direction violated:\n  {}", violations.join("\n  ")))
    }
}
