//! The servers the cluster tests start themselves (`tim-testkit`: Redis, PostgreSQL): installed from Debian's
//! packages when missing,
//! the way `ci` installs cargo-deny and the Python packages.
//!
//! The tests run each server as a child process on a loopback port in a temporary directory; nothing here starts
//! a system service. Where the packages cannot be installed (no apt-get, no root and no sudo), this says so and the
//! tests that need them fail with a message naming the package.

use crate::run;
use std::path::Path;
use std::process::Command;

/// (a program the tests run, the Debian package that has it, where Debian puts it).
const SERVERS: &[(&str, &str, &str)] =
    &[("redis-server", "redis-server", "/usr/bin/redis-server"), ("initdb", "postgresql", "/usr/lib/postgresql")];

/// Installs the packages of the servers that are missing.
pub(crate) fn ensure() -> Result<(), String> {
    let missing: Vec<&str> = SERVERS
        .iter()
        .filter(|(program, _, path)| !Path::new(path).exists() && !on_path(program))
        .map(|(_, package, _)| *package)
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    if !on_path("apt-get") {
        println!("xtask: {} missing and no apt-get here: install it; the tests that need it say so", missing.join(" "));
        return Ok(());
    }
    let root = Command::new("id").arg("-u").output().is_ok_and(|out| out.stdout.starts_with(b"0"));
    let apt = |args: &[&str]| {
        let mut command = if root { Command::new("apt-get") } else { Command::new("sudo") };
        if !root {
            command.arg("apt-get");
        }
        command.args(args).env("DEBIAN_FRONTEND", "noninteractive");
        command
    };
    println!("xtask: installing {} for the cluster tests (once)", missing.join(" "));
    let mut install = apt(&["install", "-y", "--no-install-recommends"]);
    install.args(&missing);
    if run(&mut install).is_err() {
        run(&mut apt(&["update"]))?;
        let mut install = apt(&["install", "-y", "--no-install-recommends"]);
        install.args(&missing);
        run(&mut install)?;
    }
    Ok(())
}

fn on_path(program: &str) -> bool {
    std::env::var_os("PATH").is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(program).is_file()))
}
