//! Every fixture (spec §2 and §3 samples and the documented samples of the account, group and history APIs)
//! decodes through the typed model and encodes back to the same JSON value; every request fixture passes
//! validation; and every typed command of the command table has request and response fixtures.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use tim_model::MsgElement;
use tim_model::api::{TypedRequest, decode};
use tim_model::c2c::*;
use tim_model::command::{self, CommandId};
use tim_model::push::OfflinePushInfo;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn read(path: &Path) -> (Vec<u8>, Value) {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let value = serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()));
    (bytes, value)
}

/// Decodes `bytes` as `T`, encodes it again, and returns the re-encoded value.
fn through<T: Serialize + DeserializeOwned>(path: &Path, bytes: &[u8]) -> (T, Value) {
    let typed: T = decode(bytes).unwrap_or_else(|e| panic!("{} does not decode: {e}", path.display()));
    let value = serde_json::to_value(&typed).expect("typed values always encode");
    (typed, value)
}

/// Round-trips one request or response fixture of a typed command.
fn round_trip_request<R: TypedRequest>(path: &Path, bytes: &[u8], is_request: bool) -> Value {
    if is_request {
        let (request, value) = through::<R>(path, bytes);
        if let Err(errors) = request.validate() {
            panic!("{} is a documented sample but fails validation: {errors}", path.display());
        }
        value
    } else {
        through::<R::Response>(path, bytes).1
    }
}

macro_rules! typed_requests {
    ($($request:ty),+ $(,)?) => {
        /// Every typed request type's command.
        fn typed_commands() -> Vec<CommandId> {
            vec![$(<$request>::COMMAND),+]
        }

        fn round_trip_typed(id: CommandId, path: &Path, bytes: &[u8], is_request: bool) -> Value {
            $(if id == <$request>::COMMAND {
                return round_trip_request::<$request>(path, bytes, is_request);
            })+
            panic!("{}: command {id:?} has no typed request", path.display())
        }
    };
}

include!("generated/typed.rs");

fn json_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.expect("readable directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    files.sort();
    files
}

#[test]
fn every_command_fixture_round_trips_through_its_typed_model() {
    let root = fixtures();
    let mut seen: BTreeSet<(CommandId, bool)> = BTreeSet::new();
    let mut checked = 0;
    for service in std::fs::read_dir(&root).expect("fixtures folder").map(|e| e.expect("entry").path()) {
        if !service.is_dir() || service.ends_with("elements") {
            continue;
        }
        for command_dir in std::fs::read_dir(&service).expect("service folder").map(|e| e.expect("entry").path()) {
            let short = command_dir.strip_prefix(&root).expect("under fixtures").to_string_lossy().replace('\\', "/");
            let command = command::find(&short).unwrap_or_else(|| panic!("fixture folder {short} is not a command"));
            for file in json_files(&command_dir) {
                let name = file.file_name().expect("file name").to_string_lossy().into_owned();
                let is_request = name.starts_with("request");
                assert!(
                    is_request || name.starts_with("response"),
                    "{}: name must start with request or response",
                    file.display()
                );
                let (bytes, original) = read(&file);
                let again = round_trip_typed(command.id, &file, &bytes, is_request);
                assert_eq!(again, original, "{} changed in a round trip", file.display());
                seen.insert((command.id, is_request));
                checked += 1;
            }
        }
    }
    assert!(checked >= 40, "only {checked} fixtures checked");
    for id in typed_commands() {
        assert!(seen.contains(&(id, true)), "typed command {id:?} has no request fixture");
        assert!(seen.contains(&(id, false)), "typed command {id:?} has no response fixture");
    }
}

#[test]
fn this_test_covers_every_typed_command() {
    let here: BTreeSet<CommandId> = typed_commands().into_iter().collect();
    assert_eq!(here.len(), typed_commands().len(), "a typed request is listed twice");
    let typed: BTreeSet<CommandId> = tim_model::registry::TYPED_COMMANDS.iter().copied().collect();
    assert_eq!(here, typed);
}

#[test]
fn every_element_fixture_round_trips_and_unknown_kinds_stay_untouched() {
    let files = json_files(&fixtures().join("elements"));
    assert!(files.len() >= 9);
    for file in &files {
        let (bytes, original) = read(file);
        let (element, again) = through::<MsgElement>(file, &bytes);
        assert_eq!(again, original, "{} changed in a round trip", file.display());
        let name = file.file_stem().expect("stem").to_string_lossy();
        let unknown = matches!(element, MsgElement::Unknown(_));
        assert_eq!(unknown, name == "unknown_kind" || name == "group_tip", "{name}: decoded as {element:?}");
    }
    let (bytes, original) = read(&fixtures().join("offline_push_info.json"));
    assert_eq!(through::<OfflinePushInfo>(Path::new("offline_push_info.json"), &bytes).1, original);
}

#[test]
fn partial_failure_of_a_batch_is_success_with_an_error_list() {
    let (bytes, _) = read(&fixtures().join("openim/batchsendmsg/response_some_error.json"));
    let response: <BatchSendMsgRequest as TypedRequest>::Response = decode(&bytes).expect("decodes");
    assert!(response.is_success(), "SomeError carries ErrorCode 0");
    assert_eq!(response.action_status, tim_model::envelope::ActionStatus::SomeError);
    let failed: Vec<(&str, i64)> =
        response.body.error_list.iter().flatten().map(|e| (e.to_account.as_str(), e.error_code)).collect();
    assert_eq!(failed, [("rong", 70107), ("ghost", 70107)]);
}
