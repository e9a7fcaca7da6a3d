//! The polyglot step of `cargo xtask ci`: a real Python gRPC client against a real `tim serve`.
//!
//! It makes sure the five Python packages the client needs are importable (installing them from PyPI with pip
//! when they are not: CI machines start fresh), builds the `tim` binary with the profile and target directory the
//! tests used, and runs `clients/python/smoke_test.py` against it. The script starts the gateway itself, on
//! loopback ports with its embedded emulator, and exits non-zero when any check fails, which fails CI.

use std::process::Command;

/// The interpreter; `python3` on every machine this project runs on (see `../shared/ENVIRONMENT.md`).
const PYTHON: &str = "python3";
/// The modules the smoke test imports, and the PyPI packages that provide them.
const MODULES: &str = "grpc, grpc_tools, grpc_health, grpc_reflection, grpc_status";
const PACKAGES: &[&str] = &["grpcio", "grpcio-tools", "grpcio-health-checking", "grpcio-reflection", "grpcio-status"];
/// The script, relative to the workspace root.
const SCRIPT: &str = "clients/python/smoke_test.py";

/// Runs the Python smoke test against a freshly built debug `tim`.
pub(crate) fn check() -> Result<(), String> {
    ensure_python_packages()?;
    let tim = crate::binary::build_tim(false)?;
    let root = crate::workspace_root();
    crate::run(Command::new(PYTHON).current_dir(&root).arg(root.join(SCRIPT)).arg("--tim").arg(&tim))
        .map_err(|e| format!("the Python gRPC smoke test failed (its output is above): {e}"))
}

/// Imports the modules; installs their packages with pip when the import fails.
fn ensure_python_packages() -> Result<(), String> {
    let import = format!("import {MODULES}");
    let importable = Command::new(PYTHON)
        .args(["-c", &import])
        .output()
        .map_err(|e| format!("cannot run {PYTHON} (the Python gRPC smoke test needs Python 3): {e}"))?
        .status
        .success();
    if importable {
        println!("xtask: Python modules {MODULES} are importable");
        return Ok(());
    }
    println!("xtask: Python modules {MODULES} are missing, installing {} from PyPI", PACKAGES.join(" "));
    crate::run(
        Command::new(PYTHON).args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check"]).args(PACKAGES),
    )?;
    crate::run(Command::new(PYTHON).args(["-c", &import]))
        .map_err(|e| format!("pip installed {} but `{import}` still fails: {e}", PACKAGES.join(" ")))
}
