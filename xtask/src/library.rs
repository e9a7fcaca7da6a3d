//! The checks that keep the crates usable as libraries: the documentation builds with every warning an error
//! (broken intra-doc links included), every program of `examples/` runs to success against the embedded emulator,
//! and the workspace builds with its declared `rust-version`.

use crate::{cargo, run, workspace_root};
use std::process::Command;

/// `cargo doc --workspace --no-deps` with `-D warnings`.
pub(crate) fn docs() -> Result<(), String> {
    let mut command = cargo();
    command.args(["doc", "--workspace", "--no-deps", "--locked"]).env("RUSTDOCFLAGS", "-D warnings");
    run(&mut command)
}

/// Runs every example (`examples/*.rs`, each declared in `examples/Cargo.toml`) with `cargo run --example`.
pub(crate) fn examples() -> Result<(), String> {
    let dir = workspace_root().join("examples");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .filter_map(|name| name.strip_suffix(".rs").map(str::to_owned))
        .collect();
    names.sort();
    if names.is_empty() {
        return Err(format!("no examples in {}", dir.display()));
    }
    for name in &names {
        run(cargo().args(["run", "--locked", "-p", "tim-examples", "--example", name]))?;
    }
    println!("xtask: {} examples ran: {}", names.len(), names.join(", "));
    Ok(())
}

/// How long installing the toolchain may take before the check is given up (a machine whose network refuses the
/// download may also leave it hanging).
const INSTALL_DEADLINE: std::time::Duration = std::time::Duration::from_secs(300);

/// Runs `command` and says whether it succeeded before `deadline`; past it the command is killed.
fn run_with_deadline(command: &mut Command, deadline: std::time::Duration) -> bool {
    let Ok(mut child) = command.spawn() else { return false };
    let started = std::time::Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return status.success(),
            Ok(None) if started.elapsed() < deadline => std::thread::sleep(std::time::Duration::from_millis(200)),
            _ => {
                println!("xtask: `{}` did not finish within {deadline:?}: stopped", crate::shown(command));
                let _ = child.kill();
                let _ = child.wait();
                return false;
            }
        }
    }
}

/// The workspace's `rust-version`, from its `Cargo.toml`.
fn declared_rust_version() -> Result<String, String> {
    let path = workspace_root().join("Cargo.toml");
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let manifest: toml::Table = text.parse().map_err(|e| format!("{}: {e}", path.display()))?;
    manifest
        .get("workspace")
        .and_then(|workspace| workspace.get("package"))
        .and_then(|package| package.get("rust-version"))
        .and_then(|version| version.as_str())
        .map(str::to_owned)
        .ok_or_else(|| format!("{}: no [workspace.package] rust-version", path.display()))
}

/// `cargo +MSRV check --workspace --all-targets` in its own target directory, installing the toolchain with rustup
/// when it is missing. Where it cannot be installed (no rustup, or its download refused), this says so loudly
/// and the rest of CI goes on: the check did not run, and the output says it did not.
pub(crate) fn msrv() -> Result<(), String> {
    let version = declared_rust_version()?;
    let toolchain = format!("+{version}");
    let present = |toolchain: &str| {
        Command::new("cargo")
            .args([toolchain, "--version"])
            .env("RUSTUP_AUTO_INSTALL", "0")
            .output()
            .is_ok_and(|out| out.status.success())
    };
    if !present(&toolchain) {
        println!("xtask: the declared rust-version {version} is not installed: installing it with rustup");
        let installed = run_with_deadline(
            Command::new("rustup").args(["toolchain", "install", &version, "--profile", "minimal"]),
            INSTALL_DEADLINE,
        );
        if !installed || !present(&toolchain) {
            println!(
                "xtask: MSRV CHECK NOT RUN: Rust {version} cannot be installed on this machine; \
                 the build with the declared rust-version was not checked"
            );
            return Ok(());
        }
    }
    let target = crate::target_dir().join("msrv");
    let mut command = Command::new("cargo");
    command
        .current_dir(workspace_root())
        .args([toolchain.as_str(), "check", "--workspace", "--all-targets", "--locked"])
        .env("CARGO_TARGET_DIR", &target)
        .env_remove("RUSTC")
        .env_remove("RUSTDOC")
        .env_remove("CARGO");
    run(&mut command)?;
    println!("xtask: the workspace builds with its rust-version, Rust {version}");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_command_past_its_deadline_is_stopped_and_counts_as_failed() {
        assert!(run_with_deadline(&mut Command::new("true"), Duration::from_secs(60)));
        assert!(!run_with_deadline(&mut Command::new("false"), Duration::from_secs(60)));
        assert!(!run_with_deadline(Command::new("sleep").arg("600"), Duration::from_millis(100)));
        assert!(!run_with_deadline(&mut Command::new("/nonexistent/program"), Duration::from_secs(60)));
    }

    #[test]
    fn the_declared_rust_version_is_read_from_the_workspace() {
        let version = declared_rust_version().unwrap();
        assert!(version.split('.').all(|part| part.parse::<u32>().is_ok()), "{version}");
    }
}
