//! Shared pieces of the contract tests: a wiremock service that checks the URL of every call exactly, and the
//! fixtures of `tim-model`.

#![allow(dead_code, unreachable_pub)] // Each test file uses a different part.

use serde_json::Value;
use std::path::PathBuf;
use tim_model::api::{TypedRequest, decode};
use tim_sig::{SecretKey, Signer};
use tim_transport::{Client, ClientConfig, Endpoint};
use wiremock::matchers::{method, path, query_param};
use wiremock::{Match, Mock, MockServer, Request, ResponseTemplate};

pub const SDKAPPID: u64 = 1_400_000_000;
pub const ADMIN: &str = "administrator";
pub const KEY: &str = "contract-test-key";

/// The `tim-model` fixture `{service}/{command}/{name}.json`.
pub fn fixture(command: &str, name: &str) -> Vec<u8> {
    let file = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../tim-model/tests/fixtures")
        .join(command)
        .join(format!("{name}.json"));
    std::fs::read(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()))
}

/// Accepts a request only if its query carries a UserSig that verifies for the admin, and a numeric `random`.
pub struct SignedQuery;

impl Match for SignedQuery {
    fn matches(&self, request: &Request) -> bool {
        let pairs: Vec<(String, String)> =
            request.url.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
        let get = |key: &str| pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str());
        let keys: Vec<&str> = pairs.iter().map(|(k, _)| k.as_str()).collect();
        let signer = Signer::new(SDKAPPID, SecretKey::new(KEY).unwrap());
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
        keys == ["sdkappid", "identifier", "usersig", "random", "contenttype"]
            && get("random").is_some_and(|r| r.parse::<u32>().is_ok())
            && get("usersig").is_some_and(|sig| signer.verify(sig, ADMIN, now).is_ok())
    }
}

/// A mock service: `/v4/{command}` with the exact query answers `answer` when the body equals `expected_body`;
/// anything else falls through to a catch-all that answers loudly and fails the test when the server drops.
pub async fn service(command: &str, expected_body: Value, answer: Vec<u8>) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(format!("/v4/{command}")))
        .and(query_param("sdkappid", SDKAPPID.to_string()))
        .and(query_param("identifier", ADMIN))
        .and(query_param("contenttype", "json"))
        .and(SignedQuery)
        .and(wiremock::matchers::body_json(expected_body))
        .respond_with(ResponseTemplate::new(200).set_body_raw(answer, "application/json"))
        .expect(1)
        .with_priority(1)
        .mount(&server)
        .await;
    mount_catch_all(&server).await;
    server
}

/// A mock service where every request is unexpected.
pub async fn service_expecting_nothing() -> MockServer {
    let server = MockServer::start().await;
    mount_catch_all(&server).await;
    server
}

async fn mount_catch_all(server: &MockServer) {
    Mock::given(wiremock::matchers::any())
        .respond_with(ResponseTemplate::new(404).set_body_string("unexpected route: no contract matches this request"))
        .expect(0)
        .with_priority(u8::MAX)
        .named("catch-all: unexpected route")
        .mount(server)
        .await;
}

pub fn client(server: &MockServer) -> Client {
    let config = ClientConfig::new(Endpoint::BaseUrl(server.uri()));
    Client::new(SDKAPPID, ADMIN, SecretKey::new(KEY).unwrap(), config).unwrap()
}

/// Sends the `request` fixture of `command` through the typed call against a mock that expects exactly that
/// body and answers the `response` fixture; checks the decoded answer.
pub async fn contract<R: TypedRequest + PartialEq + std::fmt::Debug>(
    command: &str,
    request_fixture: &str,
    response_fixture: &str,
) where
    R::Response: PartialEq + std::fmt::Debug,
{
    assert_eq!(R::command().short_path(), command, "the fixture folder names the command");
    let mut request: R = decode(&fixture(command, request_fixture)).expect("request fixture decodes");
    // Keys the fixture leaves out are pinned by the client; pin them here first so the expected body is exact.
    request.pin_dedupe_keys(&mut || 4_242_424_242);
    let expected_body = serde_json::to_value(&request).unwrap();
    let answer = fixture(command, response_fixture);
    let server = service(command, expected_body, answer.clone()).await;
    let response = client(&server).call(request).await.unwrap_or_else(|e| panic!("{command}: {e}"));
    let expected: R::Response = decode(&answer).unwrap();
    assert_eq!(response, expected);
    server.verify().await;
}

/// Contract tests for typed commands: `name => RequestType, "service/command"` (fixtures `request` and `response`).
#[macro_export]
macro_rules! contracts {
    ($($name:ident => $request:ty, $command:literal;)+) => {
        $(
            #[tokio::test]
            async fn $name() {
                common::contract::<$request>($command, "request", "response").await;
            }
        )+
    };
}
