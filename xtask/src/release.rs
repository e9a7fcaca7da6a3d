//! `cargo xtask release`: the gateway's release directory and archive.
//!
//! Builds `tim` with `cargo build --release --locked -p tim-cli`, then assembles
//! `<target>/dist/tim-<version>-<host triple>/` holding:
//!
//! - `tim`: the binary;
//! - `tim-v1.protoset`: a serialized `google.protobuf.FileDescriptorSet` of every `proto/tim/v1/*.proto` and its
//!   imports, compiled here with protox (no `protoc`), for grpcurl, Postman and other dynamic clients;
//! - `proto/`: a copy of the proto tree, for Go and Java code generation;
//! - `README.md`;
//! - `SHA256SUMS`: the SHA-256 of every other file, in the format `sha256sum -c SHA256SUMS` reads.
//!
//! It also writes `tim-<version>-<host triple>.tar.gz` beside the directory (a ustar archive of it, written here:
//! the format is 512-byte blocks, too small to be worth a dependency; gzip comes from flate2, pure Rust).
//! `<target>` is `CARGO_TARGET_DIR` when set, else `target/` at the workspace root. The version is
//! `[workspace.package] version` of the workspace `Cargo.toml`; the host triple is `host:` of `rustc -vV`.

use flate2::Compression;
use flate2::write::GzEncoder;
use prost::Message;
use sha2::{Digest, Sha256};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The name of the checksum file inside the release directory.
const SUMS: &str = "SHA256SUMS";
/// The name of the descriptor set inside the release directory.
const PROTOSET: &str = "tim-v1.protoset";

/// Builds the release binary and assembles the release directory and archive.
pub(crate) fn run() -> Result<(), String> {
    let root = crate::workspace_root();
    let binary = crate::binary::build_tim(true)?;
    let manifest = read_text(&root.join("Cargo.toml"))?;
    let version = workspace_version(&manifest)?;
    let triple = host_triple(&rustc_verbose_version()?)?;
    let name = format!("tim-{version}-{triple}");
    let dist = crate::target_dir().join("dist");
    let dir = dist.join(&name);
    if dir.exists() {
        fs::remove_dir_all(&dir).map_err(|e| format!("cannot clear {}: {e}", dir.display()))?;
    }
    fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;

    let binary_name = binary.file_name().ok_or("the binary path has no file name")?;
    copy_file(&binary, &dir.join(binary_name))?;
    let proto = root.join("proto");
    let protoset = compile_protoset(&proto)?;
    write_file(&dir.join(PROTOSET), &protoset)?;
    copy_tree(&proto, &dir.join("proto"))?;
    copy_file(&root.join("README.md"), &dir.join("README.md"))?;
    let sums = sha256sums(&dir)?;
    write_file(&dir.join(SUMS), sums.as_bytes())?;

    let archive = dist.join(format!("{name}.tar.gz"));
    let executables = [Path::new(binary_name).to_path_buf()];
    write_file(&archive, &tar_gz(&dir, &name, &executables, source_date())?)?;

    println!("\nxtask release: {}", dir.display());
    for line in sums.lines() {
        println!("  {line}");
    }
    let archive_sum = hex(&Sha256::digest(read_bytes(&archive)?));
    println!("xtask release: {}\n  {archive_sum}  {name}.tar.gz", archive.display());
    println!("verify with: (cd {} && sha256sum -c {SUMS})", dir.display());
    Ok(())
}

/// `[workspace.package] version` of the workspace manifest.
fn workspace_version(manifest: &str) -> Result<String, String> {
    let table: toml::Table = manifest.parse().map_err(|e| format!("the workspace Cargo.toml is not TOML: {e}"))?;
    table
        .get("workspace")
        .and_then(|w| w.get("package"))
        .and_then(|p| p.get("version"))
        .and_then(toml::Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| "the workspace Cargo.toml has no [workspace.package] version".to_owned())
}

/// The `host:` line of `rustc -vV`.
fn host_triple(rustc_vv: &str) -> Result<String, String> {
    rustc_vv
        .lines()
        .find_map(|line| line.strip_prefix("host:"))
        .map(|host| host.trim().to_owned())
        .filter(|host| !host.is_empty())
        .ok_or_else(|| format!("`rustc -vV` printed no host line: {rustc_vv:?}"))
}

fn rustc_verbose_version() -> Result<String, String> {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let output = Command::new(&rustc).arg("-vV").output().map_err(|e| format!("cannot run `{rustc} -vV`: {e}"))?;
    if !output.status.success() {
        return Err(format!("`{rustc} -vV` failed with {}", output.status));
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// Every `tim/v1/*.proto` under `proto_root`, compiled with its imports into a serialized `FileDescriptorSet`.
fn compile_protoset(proto_root: &Path) -> Result<Vec<u8>, String> {
    let dir = proto_root.join("tim/v1");
    let mut files: Vec<PathBuf> = fs::read_dir(&dir)
        .map_err(|e| format!("cannot list {}: {e}", dir.display()))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "proto"))
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(format!("no .proto files in {}", dir.display()));
    }
    // protox::compile includes imports and source info (the comments, which reflection clients show).
    let set = protox::compile(&files, [proto_root]).map_err(|e| format!("cannot compile the protos: {e}"))?;
    Ok(set.encode_to_vec())
}

/// The `SHA256SUMS` text for every file under `dir` (recursively, `SHA256SUMS` itself excepted): one
/// `<hex>  <path>` line per file, paths relative to `dir` with `/` separators, sorted by path.
fn sha256sums(dir: &Path) -> Result<String, String> {
    let mut out = String::new();
    for relative in files_under(dir)? {
        if relative == Path::new(SUMS) {
            continue;
        }
        let digest = Sha256::digest(read_bytes(&dir.join(&relative))?);
        out.push_str(&sums_line(&digest, &slash_path(&relative)?));
    }
    Ok(out)
}

/// One line of a checksum file: the hex digest, two spaces (text mode, as `sha256sum` writes), the path.
fn sums_line(digest: &[u8], path: &str) -> String {
    format!("{}  {path}\n", hex(digest))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A relative path with `/` separators; refuses names a checksum line could not carry.
fn slash_path(relative: &Path) -> Result<String, String> {
    let parts: Option<Vec<&str>> = relative.components().map(|c| c.as_os_str().to_str()).collect();
    let joined = parts.map(|p| p.join("/")).ok_or_else(|| format!("{} is not UTF-8", relative.display()))?;
    if joined.contains(['\n', '\\']) {
        return Err(format!("{joined:?}: a newline or backslash in a file name breaks the checksum file"));
    }
    Ok(joined)
}

/// Every file under `dir`, as paths relative to it, sorted.
fn files_under(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let mut out = Vec::new();
    let mut stack = vec![PathBuf::new()];
    while let Some(relative) = stack.pop() {
        let full = dir.join(&relative);
        for entry in fs::read_dir(&full).map_err(|e| format!("cannot list {}: {e}", full.display()))? {
            let entry = entry.map_err(|e| format!("cannot list {}: {e}", full.display()))?;
            let path = relative.join(entry.file_name());
            let kind = entry.file_type().map_err(|e| format!("cannot stat {}: {e}", entry.path().display()))?;
            if kind.is_dir() {
                stack.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out.sort();
    Ok(out)
}

fn copy_tree(from: &Path, to: &Path) -> Result<(), String> {
    for relative in files_under(from)? {
        copy_file(&from.join(&relative), &to.join(&relative))?;
    }
    Ok(())
}

fn copy_file(from: &Path, to: &Path) -> Result<(), String> {
    if let Some(parent) = to.parent() {
        fs::create_dir_all(parent).map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
    }
    fs::copy(from, to).map(drop).map_err(|e| format!("cannot copy {} to {}: {e}", from.display(), to.display()))
}

fn read_text(path: &Path) -> Result<String, String> {
    fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

fn read_bytes(path: &Path) -> Result<Vec<u8>, String> {
    fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<(), String> {
    fs::write(path, bytes).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// The archive's timestamp: `SOURCE_DATE_EPOCH` when set (reproducible builds), else now.
fn source_date() -> u64 {
    std::env::var("SOURCE_DATE_EPOCH").ok().and_then(|s| s.parse().ok()).unwrap_or_else(|| {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs())
    })
}

/// A gzip-compressed ustar archive of `dir`, its entries under `top/`. Files in `executables` (relative to `dir`)
/// get mode 0755, other files 0644, directories 0755; owner root, every timestamp `mtime`.
fn tar_gz(dir: &Path, top: &str, executables: &[PathBuf], mtime: u64) -> Result<Vec<u8>, String> {
    let mut tar = Vec::new();
    let mut directories = std::collections::BTreeSet::new();
    for relative in files_under(dir)? {
        // Directory entries first, so extractors that need them (and listings) see the tree.
        let mut ancestors: Vec<&Path> = relative.ancestors().skip(1).filter(|a| !a.as_os_str().is_empty()).collect();
        ancestors.reverse();
        if directories.insert(PathBuf::new()) {
            tar.extend_from_slice(&ustar_header(&format!("{top}/"), 0, 0o755, mtime, b'5')?);
        }
        for ancestor in ancestors {
            if directories.insert(ancestor.to_path_buf()) {
                let name = format!("{top}/{}/", slash_path(ancestor)?);
                tar.extend_from_slice(&ustar_header(&name, 0, 0o755, mtime, b'5')?);
            }
        }
        let bytes = read_bytes(&dir.join(&relative))?;
        let mode = if executables.contains(&relative) { 0o755 } else { 0o644 };
        let name = format!("{top}/{}", slash_path(&relative)?);
        tar.extend_from_slice(&ustar_header(&name, bytes.len() as u64, mode, mtime, b'0')?);
        tar.extend_from_slice(&bytes);
        tar.resize(tar.len().next_multiple_of(BLOCK), 0);
    }
    // The end of the archive: two zero blocks.
    tar.resize(tar.len() + 2 * BLOCK, 0);
    let mut gz = GzEncoder::new(Vec::new(), Compression::default());
    gz.write_all(&tar).map_err(|e| format!("cannot compress the archive: {e}"))?;
    gz.finish().map_err(|e| format!("cannot compress the archive: {e}"))
}

/// The tar block size.
const BLOCK: usize = 512;

/// One POSIX ustar header block. Names longer than 100 bytes are split at a `/` into prefix (up to 155 bytes) and
/// name (up to 100 bytes), as ustar requires; longer names are refused.
fn ustar_header(path: &str, size: u64, mode: u32, mtime: u64, kind: u8) -> Result<[u8; BLOCK], String> {
    let (prefix, name) = split_ustar_name(path)?;
    let mut header = [0u8; BLOCK];
    let mut put = |offset: usize, bytes: &[u8]| header[offset..offset + bytes.len()].copy_from_slice(bytes);
    put(0, name.as_bytes());
    put(100, format!("{mode:07o}\0").as_bytes());
    put(108, b"0000000\0"); // uid
    put(116, b"0000000\0"); // gid
    if size >= 1 << 33 {
        return Err(format!("{path}: {size} bytes is too large for a ustar header"));
    }
    put(124, format!("{size:011o}\0").as_bytes());
    put(136, format!("{:011o}\0", mtime.min((1 << 33) - 1)).as_bytes());
    put(148, b"        "); // the checksum is computed with its own field as spaces
    put(156, &[kind]);
    put(257, b"ustar\0");
    put(263, b"00");
    put(265, b"root");
    put(297, b"root");
    put(329, b"0000000\0"); // devmajor
    put(337, b"0000000\0"); // devminor
    put(345, prefix.as_bytes());
    let checksum: u32 = header.iter().map(|&b| u32::from(b)).sum();
    header[148..156].copy_from_slice(format!("{checksum:06o}\0 ").as_bytes());
    Ok(header)
}

fn split_ustar_name(path: &str) -> Result<(&str, &str), String> {
    if path.len() <= 100 {
        return Ok(("", path));
    }
    // The shortest name that fits: split at the first `/` leaving at most 100 bytes after it (a trailing `/` of a
    // directory stays with the name).
    let body = path.strip_suffix('/').unwrap_or(path);
    body.match_indices('/')
        .map(|(at, _)| at)
        .find(|&at| path.len() - at - 1 <= 100 && at <= 155 && at > 0)
        .map(|at| (&path[..at], &path[at + 1..]))
        .ok_or_else(|| format!("{path}: the path is too long for a ustar archive"))
}

#[cfg(test)]
mod tests;
