//! The documented deduplication windows, driven exactly by the injected clock: a repeat inside the window is
//! answered as a success (with the first message's key) and not stored again; outside it, it is a new message.

mod common;

use common::*;
use serde_json::{Value, json};
use tim_emulator::QuotaConfig;

fn sendmsg(random: u32, seq: u32, words: &str) -> Value {
    json!({ "From_Account": "alice", "To_Account": "bob", "MsgRandom": random, "MsgSeq": seq, "MsgBody": text(words) })
}

#[tokio::test]
async fn sendmsg_repeats_within_the_same_second_are_stored_once() {
    let h = start_auto().await;
    let first = h.call("openim/sendmsg", sendmsg(7, 1, "hi")).await;
    let again = h.call("openim/sendmsg", sendmsg(7, 1, "hi")).await;
    assert_code(&again, 0);
    assert_eq!(again["MsgKey"], first["MsgKey"], "the repeat is answered with the first message's key");
    assert_eq!(h.emulator().inbox_len("bob"), Some(1));
    assert_eq!(h.running.stats().duplicates_dropped, 1);
    // Another MsgSeq or MsgRandom is another message.
    assert_code(&h.call("openim/sendmsg", sendmsg(7, 2, "hi")).await, 0);
    assert_code(&h.call("openim/sendmsg", sendmsg(8, 1, "hi")).await, 0);
    assert_eq!(h.emulator().inbox_len("bob"), Some(3));
    // The next second is outside the window.
    h.clock.advance(1);
    let later = h.call("openim/sendmsg", sendmsg(7, 1, "hi")).await;
    assert_ne!(later["MsgKey"], first["MsgKey"]);
    assert_eq!(h.emulator().inbox_len("bob"), Some(4));
}

#[tokio::test]
async fn a_repeat_without_msg_seq_is_a_new_message_as_at_the_service() {
    // The service draws a random MsgSeq for a request that has none, so the same MsgRandom alone dedupes nothing:
    // a client that retries without pinning MsgSeq delivers twice, and the inbox shows it.
    let h = start_auto().await;
    let bare = json!({ "From_Account": "alice", "To_Account": "bob", "MsgRandom": 7, "MsgBody": text("hi") });
    let first = h.call("openim/sendmsg", bare.clone()).await;
    let again = h.call("openim/sendmsg", bare).await;
    assert_code(&again, 0);
    assert_ne!(again["MsgKey"], first["MsgKey"]);
    assert_eq!(h.emulator().inbox_len("bob"), Some(2));
    assert_eq!(h.running.stats().duplicates_dropped, 0);
    let batch = json!({ "From_Account": "alice", "To_Account": ["carol"], "MsgRandom": 9, "MsgBody": text("sale") });
    h.call("openim/batchsendmsg", batch.clone()).await;
    h.call("openim/batchsendmsg", batch).await;
    assert_eq!(h.emulator().inbox_len("carol"), Some(2));
}

#[tokio::test]
async fn batchsendmsg_retry_delivers_only_to_recipients_that_missed_it() {
    let h = start(|b| b).await;
    h.import(&["a", "b"]).await;
    let batch = |to: &[&str]| json!({ "To_Account": to, "MsgRandom": 99, "MsgSeq": 5, "MsgBody": text("sale") });
    let first = h.call("openim/batchsendmsg", batch(&["a", "b", "c"])).await;
    assert_eq!(first["ActionStatus"], "SomeError");
    h.import(&["c"]).await;
    let retry = h.call("openim/batchsendmsg", batch(&["c"])).await;
    assert_code(&retry, 0);
    assert_eq!(retry["MsgKey"], first["MsgKey"]);
    let again = h.call("openim/batchsendmsg", batch(&["a", "b", "c"])).await;
    assert_eq!(again["ActionStatus"], "OK");
    for user in ["a", "b", "c"] {
        assert_eq!(h.emulator().inbox_len(user), Some(1), "{user}");
    }
    assert_eq!(h.running.stats().duplicates_dropped, 3);
    assert_eq!(h.running.stats().stored.c2c, 3);
}

#[tokio::test]
async fn sendmsg_and_batchsendmsg_share_the_window_per_recipient() {
    let h = start_auto().await;
    let single = json!({ "To_Account": "bob", "MsgRandom": 3, "MsgSeq": 3, "MsgBody": text("x") });
    assert_code(&h.call("openim/sendmsg", single).await, 0);
    let batch = json!({ "To_Account": ["bob", "carol"], "MsgRandom": 3, "MsgSeq": 3, "MsgBody": text("x") });
    assert_code(&h.call("openim/batchsendmsg", batch).await, 0);
    assert_eq!(h.emulator().inbox_len("bob"), Some(1));
    assert_eq!(h.emulator().inbox_len("carol"), Some(1));
}

#[tokio::test]
async fn send_group_msg_drops_the_same_random_and_content_for_five_minutes() {
    let h = start(|b| b).await;
    h.create_group("Public", "pub", &[]).await;
    let msg = |random: u32, words: &str| json!({ "GroupId": "pub", "Random": random, "MsgBody": text(words) });
    let first = h.call("group_open_http_svc/send_group_msg", msg(1, "hello")).await;
    h.clock.advance(299);
    let repeat = h.call("group_open_http_svc/send_group_msg", msg(1, "hello")).await;
    assert_code(&repeat, 0);
    assert_eq!(repeat["MsgSeq"], first["MsgSeq"]);
    assert_eq!(repeat["MsgTime"], first["MsgTime"]);
    let other_content = h.call("group_open_http_svc/send_group_msg", msg(1, "hello!")).await;
    assert_eq!(other_content["MsgSeq"], 2, "same Random, other content: a new message");
    h.clock.advance(1);
    let late = h.call("group_open_http_svc/send_group_msg", msg(1, "hello")).await;
    assert_eq!(late["MsgSeq"], 3, "300 s after the first, the window is over");
    assert_eq!(h.emulator().group_messages("pub").unwrap().len(), 3);
    assert_eq!(h.running.stats().duplicates_dropped, 1);
}

#[tokio::test]
async fn importmsg_dedupes_the_triple_for_ever_in_both_directions() {
    let h = start(|b| b).await;
    h.import(&["vinson", "dramon"]).await;
    let import = |from: &str, to: &str, words: &str| json!({ "SyncFromOldSystem": 2, "From_Account": from, "To_Account": to, "MsgSeq": 10, "MsgRandom": 20, "MsgTimeStamp": 1_500_000_000, "MsgBody": text(words) });
    assert_code(&h.call("openim/importmsg", import("vinson", "dramon", "first")).await, 0);
    h.clock.advance(365 * 86_400);
    assert_code(&h.call("openim/importmsg", import("vinson", "dramon", "changed content")).await, 0);
    assert_code(&h.call("openim/importmsg", import("dramon", "vinson", "swapped")).await, 0);
    assert_eq!(h.emulator().inbox_len("dramon"), Some(1));
    assert_eq!(h.emulator().inbox_len("vinson"), Some(0));
    let kept = &h.emulator().inbox("dramon").unwrap()[0].message;
    assert_eq!(kept.msg_body, tim_model::MsgBody::text("first"), "the first import wins");
    assert_eq!(h.running.stats().duplicates_dropped, 2);
}

#[tokio::test]
async fn im_push_task_is_identified_by_msg_random_for_seven_days() {
    let h = start(|b| b.quotas(QuotaConfig::disabled())).await;
    let push = json!({ "MsgRandom": 77, "MsgBody": text("news") });
    let first = h.call("all_member_push/im_push", push.clone()).await;
    h.clock.advance(7 * 86_400 - 1);
    let retry = h.call("all_member_push/im_push", push.clone()).await;
    assert_eq!(retry["TaskId"], first["TaskId"]);
    assert_eq!(h.emulator().pushes().len(), 1);
    h.clock.advance(1);
    let later = h.call("all_member_push/im_push", push).await;
    assert_ne!(later["TaskId"], first["TaskId"]);
    assert_eq!(h.emulator().pushes().len(), 2);
}

#[tokio::test]
async fn broadcast_and_group_import_repeats_are_dropped_within_five_minutes() {
    let h = start(|b| b.quotas(QuotaConfig::disabled()).auto_create_accounts(true)).await;
    h.create_group("AVChatRoom", "live", &[]).await;
    h.create_group("Public", "pub", &["a"]).await;
    let broadcast = json!({ "Random": 4, "MsgBody": text("all") });
    let first = h.call("group_open_http_svc/send_broadcast_msg", broadcast.clone()).await;
    let repeat = h.call("group_open_http_svc/send_broadcast_msg", broadcast).await;
    assert_eq!(repeat["MsgSeq"], first["MsgSeq"]);
    assert_eq!(h.emulator().broadcasts().len(), 1);

    h.clock.advance(10);
    let import = json!({ "GroupId": "pub", "MsgList": [{ "From_Account": "a", "SendTime": T0 + 5, "Random": 8, "MsgBody": text("old") }] });
    let first = h.call("group_open_http_svc/import_group_msg", import.clone()).await;
    let repeat = h.call("group_open_http_svc/import_group_msg", import).await;
    assert_eq!(repeat["ImportMsgResult"], first["ImportMsgResult"]);
    assert_eq!(h.emulator().group_messages("pub").unwrap().len(), 1);
}
