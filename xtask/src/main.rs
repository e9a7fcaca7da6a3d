//! Project automation, run as `cargo xtask <task>`.
//!
//! - `ci`: exactly what CI runs: format check, clippy with warnings denied, the servers the cluster tests start
//!   (Redis, from Debian's packages when missing: `servers.rs`), every test (doc tests included, and the
//!   dependency-direction check, which is a test of this crate: `deps.rs`), the documentation with warnings
//!   denied, every program of `examples/`, the build with the declared `rust-version` (`library.rs`),
//!   `cargo deny check bans licenses sources`, and the Python gRPC client's smoke test against a real `tim serve`
//!   (`polyglot.rs`).
//! - `bench [FILTER]`: runs the criterion benches, then writes their figures and ratios to
//!   `target/bench-summary.json` and prints them as a table.
//! - `codegen [--check]`: writes (or compares against what is checked in) every file generated from the command
//!   declarations in `crates/tim-model/commands/` (`codegen.rs`); `cargo test` runs the check too.
//! - `release`: builds `tim` in release mode and assembles `<target>/dist/tim-<version>-<host>/` (binary,
//!   descriptor set, protos, README, SHA256SUMS) and its `.tar.gz` (`release.rs`).
//!
//! `deps`, `polyglot`, `docs`, `examples` and `msrv` run one step of `ci` alone.
//!
//! The tasks shell out to `cargo` and print every command before running it.

#![allow(clippy::print_stdout, clippy::print_stderr)]

mod bench;
mod binary;
mod codegen;
mod deps;
mod library;
mod polyglot;
mod release;
mod servers;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("ci") => ci(),
        Some("bench") => bench::run(&args[1..]),
        Some("codegen") => codegen::run(&args[1..]),
        Some("deps") => deps::check(),
        Some("polyglot") => polyglot::check(),
        Some("docs") => library::docs(),
        Some("examples") => library::examples(),
        Some("msrv") => library::msrv(),
        Some("release") => release::run(),
        _ => {
            eprintln!("usage: cargo xtask <ci | bench [FILTER] | deps | polyglot | docs | examples | msrv | release>");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: {message}");
            ExitCode::FAILURE
        }
    }
}

/// The steps of `cargo xtask ci`, in order; the first failure stops the run.
fn ci() -> Result<(), String> {
    run(cargo().args(["fmt", "--all", "--", "--check"]))?;
    run(cargo().args(["clippy", "--workspace", "--all-targets", "--locked", "--", "-D", "warnings"]))?;
    servers::ensure()?;
    // `cargo test` runs unit, integration and doc tests; benches are compiled and run once as tests too,
    // so a broken bench fails CI without timing anything.
    run(cargo().args(["test", "--workspace", "--all-targets", "--locked"]))?;
    run(cargo().args(["test", "--workspace", "--doc", "--locked"]))?;
    library::docs()?;
    library::examples()?;
    library::msrv()?;
    // The dependency-direction check runs as a test of this crate (deps.rs), in `cargo test` above.
    deny()?;
    // After the Rust tests: a real Python gRPC client against the real gateway.
    polyglot::check()?;
    println!("xtask ci: all checks passed");
    Ok(())
}

/// `cargo deny check bans licenses sources`, installing cargo-deny first when it is missing.
///
/// The `advisories` check is left out on purpose: it downloads the advisory database from a host that these
/// machines cannot reach.
fn deny() -> Result<(), String> {
    let installed =
        Command::new("cargo").args(["deny", "--version"]).output().map(|out| out.status.success()).unwrap_or(false);
    if !installed {
        println!("xtask: cargo-deny is missing, installing it (a few minutes, once)");
        run(cargo().args(["install", "cargo-deny", "--locked"]))?;
    }
    run(cargo().args(["deny", "--locked", "check", "bans", "licenses", "sources"]))
}

/// A `cargo` command run from the workspace root.
pub(crate) fn cargo() -> Command {
    let mut command = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    command.current_dir(workspace_root());
    command
}

/// Runs a command, echoing it first, and fails when it does not exit successfully.
pub(crate) fn run(command: &mut Command) -> Result<(), String> {
    let shown = shown(command);
    println!("$ {shown}");
    let status = command.status().map_err(|e| format!("cannot start `{shown}`: {e}"))?;
    if status.success() { Ok(()) } else { Err(format!("`{shown}` failed with {status}")) }
}

/// A command as it would be typed, for echoing and error messages.
pub(crate) fn shown(command: &Command) -> String {
    format!(
        "{} {}",
        command.get_program().to_string_lossy(),
        command.get_args().map(|a| a.to_string_lossy()).collect::<Vec<_>>().join(" ")
    )
}

/// Where cargo builds: `CARGO_TARGET_DIR` when set, else `target/` at the workspace root.
pub(crate) fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| workspace_root().join("target"))
}

/// The workspace root: the parent of this crate's directory.
pub(crate) fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("xtask lives inside the workspace").to_path_buf()
}
