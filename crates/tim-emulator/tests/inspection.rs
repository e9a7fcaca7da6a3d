//! What the emulator shows about itself (`GET /emulator/stats`, `GET /emulator/inbox/{UserID}`), and how it
//! answers paths that are no command, commands it does not emulate, and other methods.

mod common;

use common::*;
use http::{Method, StatusCode};
use serde_json::json;
use tim_model::command::COMMANDS;

#[tokio::test]
async fn stats_count_calls_messages_and_duplicates() {
    let h = start_auto().await;
    let batch = json!({ "To_Account": ["a", "b"], "MsgRandom": 1, "MsgSeq": 3, "MsgBody": text("x") });
    assert_code(&h.call("openim/batchsendmsg", batch.clone()).await, 0);
    assert_code(&h.call("openim/batchsendmsg", batch).await, 0);
    h.create_group("Public", "g", &[]).await;
    assert_code(
        &h.call("group_open_http_svc/send_group_msg", json!({ "GroupId": "g", "Random": 1, "MsgBody": text("x") }))
            .await,
        0,
    );
    let (status, stats) = h.get("/emulator/stats").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(stats["calls"]["openim/batchsendmsg"], 2);
    assert_eq!(stats["calls"]["group_open_http_svc/create_group"], 1);
    assert_eq!(stats["messages_stored"], 3);
    assert_eq!(stats["stored"]["c2c"], 2);
    assert_eq!(stats["stored"]["group"], 1);
    assert_eq!(stats["duplicates_dropped"], 2);
    assert_eq!(stats["rate_limited"], 0);
    assert_eq!(stats["faults"], json!({ "502": 0, "delay": 0, "drop": 0, "lost": 0 }));
    assert_eq!(h.running.stats().messages_stored, 3, "the same figures from Rust");
}

#[tokio::test]
async fn the_inbox_endpoint_lists_what_a_user_received() {
    let h = start_auto().await;
    let body = json!({ "From_Account": "sender", "To_Account": "user one/中", "MsgRandom": 5, "MsgSeq": 6, "MsgBody": text("hello"), "CloudCustomData": "cc" });
    let sent = h.call("openim/sendmsg", body).await;
    let (status, inbox) = h.get("/emulator/inbox/user%20one%2F%E4%B8%AD").await;
    assert_eq!(status, StatusCode::OK, "{inbox}");
    assert_eq!(
        inbox,
        json!([{
            "MsgKey": sent["MsgKey"], "From_Account": "sender", "MsgSeq": 6, "MsgRandom": 5, "MsgTime": T0,
            "MsgBody": text("hello"), "CloudCustomData": "cc", "Origin": "SendMsg", "Recalled": false,
            "Unread": true, "UpdatesConversation": true, "InHistory": true
        }])
    );
    let (status, empty) = h.get("/emulator/inbox/sender").await;
    assert_eq!((status, empty), (StatusCode::OK, json!([])));
    let (status, missing) = h.get("/emulator/inbox/nobody").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(missing["error"].as_str().unwrap().contains("nobody"));
    let (status, _) = h.get("/emulator/inbox/%zz").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = h.get("/emulator/nothing").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_path_that_is_no_command_gets_60009() {
    let h = start_auto().await;
    for path in ["openim/sendmsgs", "openim/sendmsg/", "nothing/here", "OPENIM/sendmsg"] {
        let answer = h.call(path, json!({})).await;
        let info = assert_code(&answer, 60009);
        assert!(info.contains("is not a command"), "{path}: {info}");
    }
    assert_eq!(h.running.stats().unknown_commands, 4);
}

#[tokio::test]
async fn every_typed_command_is_emulated_and_every_other_one_says_it_is_not() {
    let h = start(|b| b.quotas(tim_emulator::QuotaConfig::disabled())).await;
    let mut unsupported = 0;
    for command in COMMANDS {
        let answer = h.call(command.short_path(), json!({})).await;
        let info = answer["ErrorInfo"].as_str().unwrap_or_default();
        let refused_as_unsupported = answer["ErrorCode"] == 60009 && info.contains("does not emulate");
        assert_eq!(refused_as_unsupported, !command.typed, "{}: {answer}", command.path);
        if !command.typed {
            assert!(info.contains(command.path), "{info}");
            unsupported += 1;
        }
    }
    assert_eq!(h.running.stats().unsupported_commands, unsupported);
    // An unsupported command still refuses a body that is not a JSON object.
    let untyped = COMMANDS.iter().find(|command| !command.typed).expect("an untyped command");
    let answer = h.call_bytes(untyped.short_path(), b"[]".to_vec()).await.json();
    assert_code(&answer, 60003);
}

#[tokio::test]
async fn only_post_is_accepted() {
    let h = start_auto().await;
    let uri = format!("/v4/openim/sendmsg?{}", h.query());
    let answer = request(h.addr(), Method::GET, &uri, Vec::new()).await.json();
    assert_code(&answer, 60002);
}

#[tokio::test]
async fn shutdown_stops_serving() {
    let h = start_auto().await;
    let addr = h.addr();
    h.running.shutdown().await;
    assert!(tokio::net::TcpStream::connect(addr).await.is_err(), "nothing listens any more");
}
