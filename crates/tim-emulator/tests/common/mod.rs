//! Shared by the behaviour tests: an emulator on 127.0.0.1 port 0 with a manual clock, an admin UserSig, and a
//! small HTTP/1.1 client on hyper that opens one connection per request (so a dropped connection is seen as such
//! and never retried behind the test's back).

// Each test file uses part of these helpers.
#![allow(dead_code)]

use bytes::Bytes;
use http::{Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tim_emulator::{Emulator, EmulatorBuilder, ManualClock, RunningEmulator};
use tim_sig::{SecretKey, Signer, Validity};

pub(crate) const SDKAPPID: u64 = 1_400_000_000;
pub(crate) const KEY: &str = "emulator-test-secret-key";
pub(crate) const ADMIN: &str = "administrator";
/// The emulator's time when a test starts.
pub(crate) const T0: u64 = 1_750_000_000;

pub(crate) struct Harness {
    pub(crate) running: RunningEmulator,
    pub(crate) clock: ManualClock,
    pub(crate) signer: Signer,
    usersig: String,
}

pub(crate) fn signer() -> Signer {
    Signer::new(SDKAPPID, SecretKey::new(KEY).unwrap())
}

/// An emulator configured by `configure` (which starts from the defaults and the manual clock at T0).
pub(crate) async fn start(configure: impl FnOnce(EmulatorBuilder) -> EmulatorBuilder) -> Harness {
    let clock = ManualClock::new(T0);
    let builder = Emulator::builder(SDKAPPID, SecretKey::new(KEY).unwrap(), clock.clone());
    let emulator = configure(builder).build().expect("valid settings");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let running = emulator.serve(listener).unwrap();
    let signer = signer();
    // Valid for ten years, so tests may move the clock far ahead.
    let usersig = usersig(&signer, ADMIN, T0, 3650 * 86_400);
    Harness { running, clock, signer, usersig }
}

/// The default emulator with accounts created on first use.
pub(crate) async fn start_auto() -> Harness {
    start(|builder| builder.auto_create_accounts(true)).await
}

pub(crate) fn usersig(signer: &Signer, identifier: &str, issued_at: u64, expire_secs: u64) -> String {
    signer.generate(identifier, Validity { issued_at, expire_secs }).unwrap().expose().to_owned()
}

/// What a request got back.
#[derive(Debug)]
pub(crate) enum Outcome {
    /// An HTTP answer.
    Answer(StatusCode, Bytes),
    /// The connection closed without an answer.
    Dropped,
}

impl Outcome {
    pub(crate) fn json(&self) -> Value {
        match self {
            Outcome::Answer(status, body) => {
                assert_eq!(*status, StatusCode::OK, "body: {}", String::from_utf8_lossy(body));
                serde_json::from_slice(body)
                    .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(body)))
            }
            Outcome::Dropped => panic!("the connection was dropped"),
        }
    }
}

/// One HTTP/1.1 request on a fresh connection.
pub(crate) async fn request(
    base: std::net::SocketAddr,
    method: Method,
    path_and_query: &str,
    body: Vec<u8>,
) -> Outcome {
    let stream = tokio::net::TcpStream::connect(base).await.unwrap();
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.unwrap();
    tokio::spawn(async move {
        let _ = connection.await;
    });
    let request = Request::builder()
        .method(method)
        .uri(path_and_query)
        .header(http::header::HOST, base.to_string())
        .header(http::header::CONTENT_TYPE, "application/json")
        .body(Full::new(Bytes::from(body)))
        .unwrap();
    match sender.send_request(request).await {
        Ok(response) => {
            let status = response.status();
            match response.into_body().collect().await {
                Ok(body) => Outcome::Answer(status, body.to_bytes()),
                Err(_) => Outcome::Dropped,
            }
        }
        Err(_) => Outcome::Dropped,
    }
}

impl Harness {
    pub(crate) fn addr(&self) -> std::net::SocketAddr {
        self.running.addr()
    }

    pub(crate) fn emulator(&self) -> &Emulator {
        self.running.emulator()
    }

    /// The query string of an admin call.
    pub(crate) fn query(&self) -> String {
        format!("sdkappid={SDKAPPID}&identifier={ADMIN}&usersig={}&random=42&contenttype=json", self.usersig)
    }

    /// POSTs `body` to `/v4/{path}` as the admin, expecting HTTP 200 with JSON.
    pub(crate) async fn call(&self, path: &str, body: Value) -> Value {
        self.call_outcome(path, body).await.json()
    }

    pub(crate) async fn call_outcome(&self, path: &str, body: Value) -> Outcome {
        self.call_bytes(path, serde_json::to_vec(&body).unwrap()).await
    }

    pub(crate) async fn call_bytes(&self, path: &str, body: Vec<u8>) -> Outcome {
        let uri = format!("/v4/{path}?{}", self.query());
        request(self.addr(), Method::POST, &uri, body).await
    }

    /// POSTs to `/v4/{path}` with a query of the caller's making.
    pub(crate) async fn call_with_query(&self, path: &str, query: &str, body: Value) -> Value {
        let uri = format!("/v4/{path}?{query}");
        request(self.addr(), Method::POST, &uri, serde_json::to_vec(&body).unwrap()).await.json()
    }

    /// GETs an inspection endpoint.
    pub(crate) async fn get(&self, path: &str) -> (StatusCode, Value) {
        match request(self.addr(), Method::GET, path, Vec::new()).await {
            Outcome::Answer(status, body) => (status, serde_json::from_slice(&body).unwrap()),
            Outcome::Dropped => panic!("GET {path}: connection dropped"),
        }
    }

    pub(crate) async fn import(&self, ids: &[&str]) {
        let answer = self.call("im_open_login_svc/multiaccount_import", json!({ "Accounts": ids })).await;
        assert_eq!(answer["ErrorCode"], 0, "{answer}");
    }

    pub(crate) async fn create_group(&self, group_type: &str, id: &str, members: &[&str]) {
        let members: Vec<Value> = members.iter().map(|m| json!({ "Member_Account": m })).collect();
        let body = json!({ "Type": group_type, "GroupId": id, "Name": "group", "MemberList": members });
        let answer = self.call("group_open_http_svc/create_group", body).await;
        assert_eq!(answer["ErrorCode"], 0, "{answer}");
    }
}

/// A one-text-element MsgBody.
pub(crate) fn text(text: &str) -> Value {
    json!([{ "MsgType": "TIMTextElem", "MsgContent": { "Text": text } }])
}

/// Asserts an answer is a failure with `code`, returning its ErrorInfo.
#[track_caller]
pub(crate) fn assert_code(answer: &Value, code: i64) -> String {
    assert_eq!(answer["ErrorCode"], code, "{answer}");
    if code != 0 {
        assert_eq!(answer["ActionStatus"], "FAIL", "{answer}");
    }
    answer["ErrorInfo"].as_str().unwrap_or_default().to_owned()
}
