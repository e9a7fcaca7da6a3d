//! `cargo xtask codegen [--check]`: everything that follows from the command declarations.
//!
//! The source of truth is one TOML file per group of commands in `crates/tim-model/commands/`, plus
//! `values.toml` for the value types several groups share (see its `README.md`). From those files this writes, and with `--check` compares against what is checked in:
//!
//! - for every group: the model's types, their documented checks and `TypedRequest` impls
//!   (`crates/tim-model/src/<module>/generated.rs`), its part of the proto file (`proto/tim/v1/<file>.proto`,
//!   which several groups may share) and the protobuf↔model conversions with their field-path mapping
//!   (`crates/tim-grpc/src/convert/<module>.rs`);
//! - for every typed command: the registry of typed requests
//!   (`crates/tim-model/src/registry/typed.rs`), the fixture round-trip list
//!   (`crates/tim-model/tests/generated/typed.rs`), the gRPC services and their registration
//!   (`crates/tim-grpc/src/service/rpcs.rs`), the emulator's routing (`crates/tim-emulator/src/api/routes.rs`)
//!   and the contract tests (`crates/tim-transport/tests/contracts.rs`);
//! - the proto field lock (`proto/tim/v1/fields.lock`), which only grows: a declaration that renumbers or drops a
//!   field of a generated message is refused.
//!
//! Paths, quotas and idempotency stay in the command table (`crates/tim-model/src/command.rs`), which this reads
//! for the paths; a declaration names its command by the table's `CommandId`.

mod emit;
mod lock;
mod schema;

use crate::workspace_root;
use schema::Group;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Where the declarations live, relative to the workspace root.
pub(crate) const DECLARATIONS: &str = "crates/tim-model/commands";

/// The file of shared value types among the declarations (not a group of commands).
const VALUES: &str = "values.toml";

/// Runs the task: `--check` compares, anything else writes.
pub(crate) fn run(args: &[String]) -> Result<(), String> {
    let check = match args {
        [] => false,
        [flag] if flag == "--check" => true,
        _ => return Err("usage: cargo xtask codegen [--check]".into()),
    };
    let root = workspace_root();
    let files = generate(&root)?;
    if check {
        let stale = stale(&root, &files);
        if stale.is_empty() {
            println!("xtask codegen: {} generated files are up to date", files.len());
            Ok(())
        } else {
            Err(format!(
                "these generated files differ from what the declarations in {DECLARATIONS} give: {}; run `cargo xtask codegen`",
                stale.join(", ")
            ))
        }
    } else {
        for (path, text) in &files {
            let full = root.join(path);
            if let Some(parent) = full.parent() {
                std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
            }
            let unchanged = std::fs::read_to_string(&full).is_ok_and(|old| &old == text);
            if !unchanged {
                std::fs::write(&full, text).map_err(|e| format!("{}: {e}", full.display()))?;
                println!("xtask codegen: wrote {}", path.display());
            }
        }
        Ok(())
    }
}

/// The generated files whose checked-in text differs from `files`.
pub(crate) fn stale(root: &Path, files: &BTreeMap<PathBuf, String>) -> Vec<String> {
    files
        .iter()
        .filter(|(path, text)| std::fs::read_to_string(root.join(path)).ok().as_ref() != Some(*text))
        .map(|(path, _)| path.display().to_string())
        .collect()
}

/// Every generated file, by path relative to the workspace root.
pub(crate) fn generate(root: &Path) -> Result<BTreeMap<PathBuf, String>, String> {
    let table = command_paths(&root.join("crates/tim-model/src/command.rs"))?;
    let groups = load(&root.join(DECLARATIONS), &table)?;
    let mut files = BTreeMap::new();
    let declared: Vec<&Group> = groups.iter().collect();
    for group in &declared {
        files.insert(PathBuf::from(format!("crates/tim-model/src/{}/generated.rs", group.module)), emit::model(group)?);
        files.insert(PathBuf::from(format!("crates/tim-grpc/src/convert/{}.rs", group.module)), emit::convert(group)?);
    }
    // Several groups may share one proto file (and its service): messages.proto holds one-to-one, group and
    // all-user messages.
    let mut proto_files: Vec<(&str, Vec<&Group>)> = Vec::new();
    for group in &declared {
        match proto_files.iter_mut().find(|(file, _)| *file == group.proto.file) {
            Some((_, list)) => list.push(group),
            None => proto_files.push((&group.proto.file, vec![group])),
        }
    }
    for (file, list) in &proto_files {
        files.insert(PathBuf::from(format!("proto/tim/v1/{file}.proto")), emit::proto(list)?);
    }
    let old_lock = std::fs::read_to_string(root.join(lock::LOCK)).ok();
    files.insert(PathBuf::from(lock::LOCK), lock::update(old_lock.as_deref(), &groups)?);
    files.insert(PathBuf::from("crates/tim-model/src/registry/typed.rs"), emit::registry(&groups));
    files.insert(PathBuf::from("crates/tim-model/tests/generated/typed.rs"), emit::fixture_list(&groups));
    files.insert(PathBuf::from("crates/tim-grpc/src/service/rpcs.rs"), emit::rpcs(&groups));
    files.insert(PathBuf::from("crates/tim-emulator/src/api/routes.rs"), emit::routes(&groups));
    files.insert(PathBuf::from("crates/tim-transport/tests/contracts.rs"), emit::contracts(&groups));
    for (path, text) in &mut files {
        if path.extension().is_some_and(|ext| ext == "rs") {
            *text = rustfmt(root, text).map_err(|e| format!("{}: {e}", path.display()))?;
        }
    }
    Ok(files)
}

/// `text` formatted by rustfmt with the workspace's settings, so that `cargo fmt` leaves generated files alone.
fn rustfmt(root: &Path, text: &str) -> Result<String, String> {
    use std::io::Write as _;
    use std::process::{Command, Stdio};
    let mut child = Command::new("rustfmt")
        .args(["--edition", "2024", "--emit", "stdout", "--config-path"])
        .arg(root.join("rustfmt.toml"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start rustfmt: {e}"))?;
    child.stdin.take().expect("piped").write_all(text.as_bytes()).map_err(|e| format!("rustfmt: {e}"))?;
    let out = child.wait_with_output().map_err(|e| format!("rustfmt: {e}"))?;
    if !out.status.success() {
        return Err(format!("rustfmt refused the generated code:\n{}\n{text}", String::from_utf8_lossy(&out.stderr)));
    }
    String::from_utf8(out.stdout).map_err(|e| format!("rustfmt: {e}"))
}

/// The command table's paths and groups by `CommandId` variant, read from its rows
/// (`Variant => "v4/...", "Group", ...`).
fn command_paths(table: &Path) -> Result<BTreeMap<String, (String, String)>, String> {
    let text = std::fs::read_to_string(table).map_err(|e| format!("{}: {e}", table.display()))?;
    let mut paths = BTreeMap::new();
    for line in text.lines() {
        let Some((variant, rest)) = line.trim().split_once(" => \"") else { continue };
        let Some((path, rest)) = rest.split_once('"') else { continue };
        let Some(group) = rest.strip_prefix(", \"").and_then(|rest| rest.split_once('"')).map(|(group, _)| group)
        else {
            continue;
        };
        if variant.chars().all(|c| c.is_ascii_alphanumeric()) && path.starts_with("v4/") {
            paths.insert(variant.to_owned(), (path.to_owned(), group.to_owned()));
        }
    }
    if paths.len() < 100 {
        return Err(format!("{} has only {} rows that look like commands", table.display(), paths.len()));
    }
    Ok(paths)
}

/// Reads and checks every declaration file, in file-name order.
fn load(dir: &Path, table: &BTreeMap<String, (String, String)>) -> Result<Vec<Group>, String> {
    let mut names: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "toml"))
        .collect();
    names.sort();
    let values_path = dir.join(VALUES);
    let text = std::fs::read_to_string(&values_path).map_err(|e| format!("{}: {e}", values_path.display()))?;
    let values: schema::Values = toml::from_str(&text).map_err(|e| format!("{}: {e}", values_path.display()))?;
    let mut groups = Vec::new();
    for path in names.into_iter().filter(|path| !path.ends_with(VALUES)) {
        let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let mut group: Group = toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        group.source = format!("{DECLARATIONS}/{}", path.file_name().unwrap_or_default().to_string_lossy());
        group.values = values.values.clone();
        group.resolve(table).map_err(|e| format!("{}: {e}", group.source))?;
        groups.push(group);
    }
    let mut seen = BTreeMap::new();
    for group in &groups {
        for command in &group.commands {
            if let Some(other) = seen.insert(command.id.clone(), group.source.clone()) {
                return Err(format!("{} is declared in {other} and in {}", command.id, group.source));
            }
        }
    }
    Ok(groups)
}

/// The header of every generated file, in the comment syntax of `prefix`.
pub(crate) fn header(prefix: &str, source: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{prefix} Generated by `cargo xtask codegen` from {source}: edit that, not this file.");
    out
}

/// A REST name in snake case, as the proto spells it (the rule of `tim-grpc`'s path mapping): `From_Account` →
/// `from_account`, `UserID` → `user_id`, `OPPOChannelID` → `oppo_channel_id`.
pub(crate) fn snake_case(name: &str) -> String {
    let name = name.replace("HuaWei", "Huawei").replace("XiaoMi", "Xiaomi");
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::with_capacity(name.len() + 4);
    for (i, &c) in chars.iter().enumerate() {
        if c.is_uppercase() && i > 0 {
            let previous = chars[i - 1];
            let next_is_lower = chars.get(i + 1).is_some_and(|next| next.is_lowercase());
            if previous.is_lowercase() || previous.is_ascii_digit() || (previous.is_uppercase() && next_is_lower) {
                out.push('_');
            }
        }
        out.extend(c.to_lowercase());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// CI's check that nobody edited a generated file by hand or forgot to regenerate after editing a declaration.
    #[test]
    fn generated_files_are_up_to_date() {
        let root = workspace_root();
        let files = generate(&root).unwrap_or_else(|e| panic!("{e}"));
        let stale = stale(&root, &files);
        assert!(stale.is_empty(), "stale generated files (run `cargo xtask codegen`): {stale:?}");
    }

    #[test]
    fn snake_case_matches_the_proto_names() {
        assert_eq!(snake_case("From_Account"), "from_account");
        assert_eq!(snake_case("UserID"), "user_id");
        assert_eq!(snake_case("FaceUrl"), "face_url");
        assert_eq!(snake_case("OPPOChannelID"), "oppo_channel_id");
        assert_eq!(snake_case("IsNeedDetail"), "is_need_detail");
    }
}
