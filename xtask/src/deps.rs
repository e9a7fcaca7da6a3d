//! The dependency-direction check: dependencies run one way, model ← sig ← transport ← jobs ← grpc, with the
//! emulator beside the transport (never on it, so it judges the transport independently).
//!
//! Every package of the workspace has a rule: its normal (non-dev, non-build) dependency graph must not contain
//! any of the listed packages. `cargo tree` prints the graph; a forbidden name anywhere in it fails the check, and
//! so does a workspace package without a rule (`cargo metadata` lists them). It runs as a test of this crate
//! (`cargo test -p xtask`, part of `cargo xtask ci`) and alone as `cargo xtask deps`.

use std::collections::BTreeSet;

/// (crate, packages that must not appear in its normal dependency graph, why).
const RULES: &[(&str, &[&str], &str)] = &[
    (
        "tim-model",
        &[
            "tokio",
            "hyper",
            "hyper-util",
            "tonic",
            "prost",
            "rustls",
            "redis",
            "tokio-postgres",
            "tim-sig",
            "tim-transport",
            "tim-jobs",
            "tim-grpc",
            "tim-emulator",
        ],
        "the wire model knows nothing about HTTP, async runtimes, TLS or protobuf",
    ),
    (
        "tim-sig",
        &["tokio", "hyper", "tonic", "prost", "tim-transport", "tim-jobs", "tim-grpc", "tim-emulator"],
        "signing is pure computation and never depends on the transport or the gateway",
    ),
    (
        "tim-transport",
        &["tonic", "prost", "tim-jobs", "tim-grpc", "tim-emulator", "tim-testkit"],
        "the transport knows nothing about gRPC, jobs or the emulator it is tested against",
    ),
    (
        "tim-emulator",
        &["tonic", "prost", "redis", "tokio-postgres", "tim-transport", "tim-jobs", "tim-grpc", "tim-testkit"],
        "the emulator never builds on the transport, so it can judge it independently",
    ),
    (
        "tim-jobs",
        &["tonic", "prost", "tim-grpc", "tim-emulator", "tim-testkit"],
        "the job store knows nothing about gRPC or the emulator",
    ),
    (
        "tim-grpc",
        &["tim-emulator", "tim-testkit"],
        "the gateway sends through the transport only; the CLI starts the emulator beside it",
    ),
    ("tim-cli", &["tim-testkit"], "test support stays out of what ships"),
    (
        "tim-testkit",
        &["tokio", "tim-model", "tim-sig", "tim-transport", "tim-jobs", "tim-grpc", "tim-emulator"],
        "test support starts servers with the standard library and knows nothing of the product",
    ),
    ("tim-examples", &["tim-testkit"], "the examples use only what a user of the crates has"),
    ("tim-benches", &["tim-testkit", "tim-grpc"], "the benches' own code is loopback servers, not the product"),
    (
        "xtask",
        &["tokio", "tim-model", "tim-sig", "tim-transport", "tim-jobs", "tim-grpc", "tim-emulator", "tim-testkit"],
        "the tooling builds on cargo and the standard library, not on the product",
    ),
];

/// What `krate`'s graph (the package `names`) holds of what its rule forbids, as messages.
fn violations_in(krate: &str, names: &BTreeSet<String>, forbidden: &[&str], why: &str) -> Vec<String> {
    forbidden
        .iter()
        .filter(|name| names.contains(**name))
        .map(|name| format!("{krate} depends on {name}, but {why}"))
        .collect()
}

/// The workspace packages that have no rule.
fn without_rule(members: &[String]) -> Vec<String> {
    members.iter().filter(|member| !RULES.iter().any(|(krate, _, _)| krate == member)).cloned().collect()
}

/// The names of the workspace's packages.
fn workspace_members() -> Result<Vec<String>, String> {
    let output = crate::cargo()
        .args(["metadata", "--locked", "--no-deps", "--format-version", "1"])
        .output()
        .map_err(|e| format!("cannot run cargo metadata: {e}"))?;
    if !output.status.success() {
        return Err(format!("cargo metadata failed: {}", String::from_utf8_lossy(&output.stderr).trim()));
    }
    let metadata: serde_json::Value =
        serde_json::from_slice(&output.stdout).map_err(|e| format!("cargo metadata's output: {e}"))?;
    let packages = metadata["packages"].as_array().ok_or("cargo metadata lists no packages")?;
    Ok(packages.iter().filter_map(|package| package["name"].as_str().map(str::to_owned)).collect())
}

/// The packages of `krate`'s normal dependency graph, itself included.
fn graph(krate: &str) -> Result<BTreeSet<String>, String> {
    let output = crate::cargo()
        .args(["tree", "--locked", "-p", krate, "-e", "normal", "--prefix", "none", "--format", "{p}"])
        .output()
        .map_err(|e| format!("cannot run cargo tree: {e}"))?;
    if !output.status.success() {
        return Err(format!("cargo tree -p {krate} failed: {}", String::from_utf8_lossy(&output.stderr).trim()));
    }
    Ok(String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .map(str::to_owned)
        .collect())
}

/// Runs every rule and reports all violations at once.
pub(crate) fn check() -> Result<(), String> {
    let mut violations: Vec<String> = without_rule(&workspace_members()?)
        .into_iter()
        .map(|member| format!("{member} is a workspace package with no rule in xtask/src/deps.rs"))
        .collect();
    for (krate, forbidden, why) in RULES {
        let names = graph(krate)?;
        let found = violations_in(krate, &names, forbidden, why);
        println!("xtask deps: {krate}: {} packages, {} forbidden found", names.len(), found.len());
        violations.extend(found);
    }
    if violations.is_empty() {
        Ok(())
    } else {
        Err(format!("dependency direction violated:\n  {}", violations.join("\n  ")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Packages that speak protobuf or gRPC.
    const GRPC: &[&str] = &["tonic", "prost"];

    #[test]
    fn the_workspace_follows_every_dependency_rule() {
        check().unwrap();
    }

    #[test]
    fn a_forbidden_package_anywhere_in_a_graph_is_reported_with_its_reason() {
        let names: BTreeSet<String> = ["tim-emulator", "hyper", "tim-transport"].map(str::to_owned).into();
        let (krate, forbidden, why) = RULES.iter().find(|(krate, _, _)| *krate == "tim-emulator").unwrap();
        assert_eq!(
            violations_in(krate, &names, forbidden, why),
            [format!("tim-emulator depends on tim-transport, but {why}")]
        );
        let clean: BTreeSet<String> = ["tim-emulator", "hyper"].map(str::to_owned).into();
        assert!(violations_in(krate, &clean, forbidden, why).is_empty());
    }

    #[test]
    fn a_workspace_package_without_a_rule_is_reported() {
        let members = ["tim-model".to_owned(), "tim-new".to_owned()];
        assert_eq!(without_rule(&members), ["tim-new"]);
    }

    #[test]
    fn no_rule_lets_a_library_speak_grpc_but_the_gateway_and_the_cli() {
        for (krate, forbidden, _) in RULES {
            if ["tim-model", "tim-sig", "tim-transport", "tim-jobs", "tim-emulator"].contains(krate) {
                assert!(GRPC.iter().all(|name| forbidden.contains(name)), "{krate} may depend on gRPC");
            }
        }
    }
}
