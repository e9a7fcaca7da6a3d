//! Building the `tim` binary and finding where cargo put it.
//!
//! The path is read from cargo's own build messages (`--message-format=json`), not guessed, so it is right whatever
//! sets the target directory (`CARGO_TARGET_DIR`, `build.target-dir` in a config file, `--target-dir`).

use serde_json::Value;
use std::path::PathBuf;
use std::process::Stdio;

/// The package and binary target of the `tim` command.
const PACKAGE: &str = "tim-cli";
const BINARY: &str = "tim";

/// Runs `cargo build --locked -p tim-cli` (plus `--release` when asked) and returns the path of the `tim` binary.
pub(crate) fn build_tim(release: bool) -> Result<PathBuf, String> {
    let mut command = crate::cargo();
    command.args(["build", "--locked", "-p", PACKAGE]);
    if release {
        command.arg("--release");
    }
    // Diagnostics still go to the terminal (rendered, on stderr); stdout carries the JSON messages.
    command.arg("--message-format=json-render-diagnostics");
    let shown = crate::shown(&command);
    println!("$ {shown}");
    let output = command
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot start `{shown}`: {e}"))?;
    if !output.status.success() {
        return Err(format!("`{shown}` failed with {}", output.status));
    }
    let path = executable_in(&String::from_utf8_lossy(&output.stdout))
        .ok_or_else(|| format!("`{shown}` succeeded but named no executable for the {BINARY} binary"))?;
    println!("xtask: built {}", path.display());
    Ok(path)
}

/// The `executable` of the last `compiler-artifact` message for the `tim` binary of `tim-cli`.
fn executable_in(messages: &str) -> Option<PathBuf> {
    messages
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|message| message["reason"] == "compiler-artifact" && message["target"]["name"] == BINARY)
        .filter(|message| message["target"]["kind"].as_array().is_some_and(|kinds| kinds.iter().any(|k| k == "bin")))
        .filter(|message| message["package_id"].as_str().is_some_and(|id| id.contains(PACKAGE)))
        .filter_map(|message| message["executable"].as_str().map(PathBuf::from))
        .next_back()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_tim_executable_among_other_messages() {
        let messages = [
            r#"{"reason":"compiler-artifact","package_id":"path+file:///w/crates/tim-model#0.1.0","target":{"kind":["lib"],"name":"tim_model"},"executable":null}"#,
            "not json at all",
            r#"{"reason":"compiler-artifact","package_id":"path+file:///w/crates/tim-cli#0.1.0","target":{"kind":["bin"],"name":"tim"},"executable":"/t/debug/tim"}"#,
            r#"{"reason":"build-finished","success":true}"#,
        ]
        .join("\n");
        assert_eq!(executable_in(&messages), Some(PathBuf::from("/t/debug/tim")));
    }

    #[test]
    fn no_executable_when_the_binary_is_not_among_the_artifacts() {
        let messages = r#"{"reason":"compiler-artifact","package_id":"path+file:///w/crates/tim-cli#0.1.0","target":{"kind":["lib"],"name":"tim_cli"},"executable":null}"#;
        assert_eq!(executable_in(messages), None);
    }
}
