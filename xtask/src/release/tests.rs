use super::*;
use flate2::read::GzDecoder;
use protox::prost_reflect::DescriptorPool;
use std::io::Read;

/// A fresh, empty directory under the system's temporary directory, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Self {
        let path = std::env::temp_dir().join(format!("xtask-release-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&path);
        fs::create_dir_all(&path).expect("create the scratch directory");
        Scratch(path)
    }

    fn write(&self, relative: &str, bytes: &[u8]) {
        let path = self.0.join(relative);
        fs::create_dir_all(path.parent().expect("a parent")).expect("create the parent");
        fs::write(path, bytes).expect("write a file");
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

const SHA256_ABC: &str = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
const SHA256_EMPTY: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

#[test]
fn sums_list_every_file_but_themselves_sorted_in_sha256sum_format() {
    let dir = Scratch::new("sums");
    dir.write("tim", b"abc");
    dir.write("proto/tim/v1/a.proto", b"");
    dir.write("README.md", b"abc");
    dir.write(SUMS, b"stale checksums are not checksummed");
    let sums = sha256sums(&dir.0).expect("checksums");
    assert_eq!(
        sums,
        format!("{SHA256_ABC}  README.md\n{SHA256_EMPTY}  proto/tim/v1/a.proto\n{SHA256_ABC}  tim\n"),
        "one `<hex>  <path>` line per file, relative paths with /, sorted, SHA256SUMS itself left out"
    );
}

#[test]
fn a_sums_line_is_64_hex_digits_two_spaces_and_the_path() {
    let line = sums_line(&Sha256::digest(b"abc"), "proto/tim/v1/x.proto");
    assert_eq!(line, format!("{SHA256_ABC}  proto/tim/v1/x.proto\n"));
}

#[test]
fn a_name_with_a_newline_is_refused_rather_than_written_into_the_sums() {
    let error = slash_path(Path::new("bad\nname")).expect_err("a newline cannot be carried");
    assert!(error.contains("newline"), "{error}");
}

#[test]
fn the_protoset_decodes_and_holds_every_tim_v1_file_and_service() {
    let proto = crate::workspace_root().join("proto");
    let bytes = compile_protoset(&proto).expect("the protos compile");
    let pool = DescriptorPool::decode(bytes.as_slice()).expect("a FileDescriptorSet that decodes");
    let files: Vec<String> = pool.files().map(|f| f.name().to_owned()).collect();
    for entry in fs::read_dir(proto.join("tim/v1")).expect("list proto/tim/v1") {
        let name = entry.expect("an entry").file_name().to_string_lossy().into_owned();
        if name.ends_with(".proto") {
            let expected = format!("tim/v1/{name}");
            assert!(files.contains(&expected), "{expected} missing from {files:?}");
        }
    }
    for service in ["tim.v1.MessageService", "tim.v1.FanoutService", "tim.v1.RestService", "tim.v1.AccountService"] {
        let found = pool.get_service_by_name(service).unwrap_or_else(|| panic!("{service} missing"));
        assert!(found.methods().next().is_some(), "{service} has no methods");
    }
    let fanout = pool.get_service_by_name("tim.v1.FanoutService").expect("FanoutService");
    let method = fanout.methods().find(|m| m.name() == "Fanout").expect("Fanout");
    assert!(method.is_client_streaming() && method.is_server_streaming(), "Fanout is bidirectional");
}

#[test]
fn the_protoset_keeps_comments_for_reflection_clients() {
    let bytes = compile_protoset(&crate::workspace_root().join("proto")).expect("the protos compile");
    let set = protox::prost_reflect::prost_types::FileDescriptorSet::decode(bytes.as_slice()).expect("decodes");
    assert!(set.file.iter().all(|f| f.source_code_info.is_some()), "every file keeps its source info");
}

#[test]
fn no_proto_files_is_an_error_not_an_empty_set() {
    let dir = Scratch::new("noproto");
    dir.write("tim/v1/README", b"not a proto");
    let error = compile_protoset(&dir.0).expect_err("nothing to compile");
    assert!(error.contains("no .proto files"), "{error}");
}

#[test]
fn the_version_comes_from_workspace_package() {
    let manifest = "[workspace]\nmembers = []\n\n[workspace.package]\nversion = \"1.2.3\"\nedition = \"2024\"\n";
    assert_eq!(workspace_version(manifest), Ok("1.2.3".to_owned()));
    let error = workspace_version("[package]\nversion = \"9.9.9\"\n").expect_err("not a workspace version");
    assert!(error.contains("[workspace.package] version"), "{error}");
}

#[test]
fn the_host_triple_comes_from_rustc_vv() {
    let output = "rustc 1.95.0 (abc 2026-01-01)\nbinary: rustc\ncommit-hash: abc\nhost: x86_64-unknown-linux-gnu\n\
                  release: 1.95.0\nLLVM version: 20.1.0\n";
    assert_eq!(host_triple(output), Ok("x86_64-unknown-linux-gnu".to_owned()));
    assert!(host_triple("rustc 1.95.0\n").is_err());
}

/// Reads a ustar archive back: (path, mode, type flag, contents) per entry, checking every header's checksum.
fn read_tar(tar: &[u8]) -> Vec<(String, u32, u8, Vec<u8>)> {
    let field = |block: &[u8], at: usize, len: usize| {
        let raw = &block[at..at + len];
        let end = raw.iter().position(|&b| b == 0).unwrap_or(len);
        String::from_utf8(raw[..end].to_vec()).expect("UTF-8 field")
    };
    let octal = |text: String| u64::from_str_radix(text.trim(), 8).expect("an octal field");
    let mut entries = Vec::new();
    let mut at = 0;
    while tar[at..at + BLOCK].iter().any(|&b| b != 0) {
        let block = &tar[at..at + BLOCK];
        let mut blank = block.to_vec();
        blank[148..156].copy_from_slice(b"        ");
        let sum: u64 = blank.iter().map(|&b| u64::from(b)).sum();
        assert_eq!(octal(field(block, 148, 8)), sum, "header checksum of block at {at}");
        assert_eq!(&block[257..263], b"ustar\0");
        let prefix = field(block, 345, 155);
        let name = field(block, 0, 100);
        let path = if prefix.is_empty() { name } else { format!("{prefix}/{name}") };
        let size = octal(field(block, 124, 12)) as usize;
        let mode = octal(field(block, 100, 8)) as u32;
        let contents = tar[at + BLOCK..at + BLOCK + size].to_vec();
        entries.push((path, mode, block[156], contents));
        at += BLOCK + size.next_multiple_of(BLOCK);
    }
    assert_eq!(tar.len(), at + 2 * BLOCK, "two zero blocks end the archive");
    entries
}

#[test]
fn the_archive_holds_the_directory_under_its_top_name() {
    let dir = Scratch::new("tar");
    dir.write("tim", b"\x7fELF binary");
    dir.write("proto/tim/v1/a.proto", &[b'x'; 700]);
    dir.write(SUMS, b"sums\n");
    let gz =
        tar_gz(&dir.0, "tim-1.2.3-x86_64-unknown-linux-gnu", &[PathBuf::from("tim")], 1_700_000_000).expect("archive");
    let mut tar = Vec::new();
    GzDecoder::new(gz.as_slice()).read_to_end(&mut tar).expect("gzip");
    let entries = read_tar(&tar);
    let listing: Vec<(&str, u32, u8)> = entries.iter().map(|(p, m, k, _)| (p.as_str(), *m, *k)).collect();
    assert_eq!(
        listing,
        [
            ("tim-1.2.3-x86_64-unknown-linux-gnu/", 0o755, b'5'),
            ("tim-1.2.3-x86_64-unknown-linux-gnu/SHA256SUMS", 0o644, b'0'),
            ("tim-1.2.3-x86_64-unknown-linux-gnu/proto/", 0o755, b'5'),
            ("tim-1.2.3-x86_64-unknown-linux-gnu/proto/tim/", 0o755, b'5'),
            ("tim-1.2.3-x86_64-unknown-linux-gnu/proto/tim/v1/", 0o755, b'5'),
            ("tim-1.2.3-x86_64-unknown-linux-gnu/proto/tim/v1/a.proto", 0o644, b'0'),
            ("tim-1.2.3-x86_64-unknown-linux-gnu/tim", 0o755, b'0'),
        ]
    );
    assert_eq!(entries[5].3, vec![b'x'; 700]);
    assert_eq!(entries[6].3, b"\x7fELF binary");
}

#[test]
fn long_paths_split_into_prefix_and_name() {
    let long = format!("{}/{}/file.proto", "a".repeat(80), "b".repeat(60));
    let header = ustar_header(&long, 3, 0o644, 0, b'0').expect("fits with a prefix");
    let mut tar = header.to_vec();
    tar.extend_from_slice(b"xyz");
    tar.resize(BLOCK * 4, 0);
    let entries = read_tar(&tar);
    assert_eq!(entries[0].0, long);
    assert_eq!(entries[0].3, b"xyz");
    let too_long = format!("{}/{}", "a".repeat(160), "b".repeat(101));
    assert!(ustar_header(&too_long, 0, 0o644, 0, b'0').is_err());
}
