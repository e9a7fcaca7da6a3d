//! The emulator under hostile input: clients that trickle their headers are cut off after
//! [`tim_emulator::HEADER_TIMEOUT`], and a body declared over the limit is refused at once, without waiting for it.
//! Time is tokio's paused clock: a stalled client costs no real time, and only lower bounds are asserted.

mod common;

use std::time::Duration;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

/// Reads until the server closes the connection; what it sent.
async fn read_to_close(stream: &mut tokio::net::TcpStream) -> Vec<u8> {
    let mut seen = Vec::new();
    let _ = stream.read_to_end(&mut seen).await;
    seen
}

#[tokio::test(start_paused = true)]
async fn connections_that_trickle_their_headers_are_closed_after_the_header_timeout() {
    let harness = common::start_auto().await;
    let started = tokio::time::Instant::now();
    let mut stalled = Vec::new();
    for _ in 0..50 {
        let mut stream = tokio::net::TcpStream::connect(harness.addr()).await.unwrap();
        // The start of a request, and then nothing: its headers never end.
        stream.write_all(b"POST /v4/openim/sendmsg HTTP/1.1\r\nHost: x\r\n").await.unwrap();
        stalled.push(stream);
    }
    for stream in &mut stalled {
        let answer = tokio::time::timeout(Duration::from_secs(300), read_to_close(stream)).await;
        assert!(answer.is_ok(), "the server closed the connection (it did not wait for ever)");
    }
    assert!(started.elapsed() >= tim_emulator::HEADER_TIMEOUT, "closed no earlier than the timeout");
    // The emulator still serves.
    let answer = harness.call("openim/sendmsg", serde_json::json!({"To_Account": "a", "MsgRandom": 1, "MsgBody": [{"MsgType": "TIMTextElem", "MsgContent": {"Text": "hi"}}]})).await;
    assert_eq!(answer["ActionStatus"], "OK", "{answer}");
}

#[tokio::test(start_paused = true)]
async fn a_body_declared_over_the_limit_is_refused_without_waiting_for_it() {
    let harness = common::start_auto().await;
    let mut stream = tokio::net::TcpStream::connect(harness.addr()).await.unwrap();
    let head = format!(
        "POST /v4/openim/sendmsg?{} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 104857600\r\n\r\n",
        harness.query()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    // Not a byte of the body is sent: the answer must come anyway (well before the header timeout would matter).
    let answer =
        tokio::time::timeout(Duration::from_secs(1), read_to_close(&mut stream)).await.expect("answered at once");
    let text = String::from_utf8_lossy(&answer);
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    assert!(text.contains("\"ErrorCode\":60002"), "{text}");
}
