//! Group messages: send_group_msg, send_group_system_notification, send_broadcast_msg, import_group_msg,
//! group_msg_recall and group_msg_get_simple, and im_push; each with a success and its documented failures.

mod common;

use common::*;
use serde_json::{Value, json};
use tim_emulator::QuotaConfig;

fn group_msg(group: &str, random: u32, words: &str) -> Value {
    json!({ "GroupId": group, "Random": random, "MsgBody": text(words) })
}

#[tokio::test]
async fn send_group_msg_numbers_messages_from_one() {
    let h = start(|b| b).await;
    h.import(&["a", "b"]).await;
    h.create_group("Public", "pub", &["a", "b"]).await;
    for (i, words) in ["one", "two"].iter().enumerate() {
        let mut body = group_msg("pub", i as u32, words);
        body["From_Account"] = json!("a");
        let answer = h.call("group_open_http_svc/send_group_msg", body).await;
        assert_code(&answer, 0);
        assert_eq!(answer["MsgSeq"], i + 1);
        assert_eq!(answer["MsgTime"], T0);
        assert_eq!(answer["MsgDropReason"], "");
    }
    let messages = h.emulator().group_messages("pub").unwrap();
    assert_eq!(messages.len(), 2);
    assert_eq!(&*messages[1].from_account, "a");
    assert_eq!(h.running.stats().stored.group, 2);
}

#[tokio::test]
async fn send_group_msg_refusals() {
    let h = start(|b| b).await;
    h.import(&["member", "outsider"]).await;
    h.create_group("Work", "work", &["member"]).await;
    h.create_group("AVChatRoom", "live", &[]).await;
    assert_code(&h.call("group_open_http_svc/send_group_msg", group_msg("nope", 1, "x")).await, 10010);
    let mut outsider = group_msg("work", 1, "x");
    outsider["From_Account"] = json!("outsider");
    assert_code(&h.call("group_open_http_svc/send_group_msg", outsider).await, 10007);
    let mut ghost = group_msg("work", 1, "x");
    ghost["From_Account"] = json!("ghost");
    assert_code(&h.call("group_open_http_svc/send_group_msg", ghost).await, 10019);
    assert_code(&h.call("group_open_http_svc/send_group_msg", group_msg("work", 1, &"x".repeat(12_001))).await, 80002);
    let mut no_random = group_msg("work", 1, "x");
    no_random.as_object_mut().unwrap().remove("Random");
    assert_code(&h.call("group_open_http_svc/send_group_msg", no_random).await, 10004);
    // Live-group rules (GroupTypeRules): no online-only flag, no @all.
    let mut online_only = group_msg("live", 1, "x");
    online_only["OnlineOnlyFlag"] = json!(1);
    assert_code(&h.call("group_open_http_svc/send_group_msg", online_only).await, 10004);
    let mut at_all = group_msg("live", 1, "x");
    at_all["GroupAtInfo"] = json!([{ "GroupAtAllFlag": 1 }]);
    assert_code(&h.call("group_open_http_svc/send_group_msg", at_all).await, 10004);
    // Anyone may speak in a live group, which has no member list.
    let mut speaker = group_msg("live", 1, "x");
    speaker["From_Account"] = json!("outsider");
    assert_code(&h.call("group_open_http_svc/send_group_msg", speaker).await, 0);
}

#[tokio::test]
async fn system_notifications_go_to_members() {
    let h = start(|b| b).await;
    h.import(&["a", "b", "c"]).await;
    h.create_group("Public", "pub", &["a", "b"]).await;
    h.create_group("AVChatRoom", "live", &[]).await;
    let all = json!({ "GroupId": "pub", "Content": "maintenance at noon" });
    assert_code(&h.call("group_open_http_svc/send_group_system_notification", all).await, 0);
    let some = json!({ "GroupId": "pub", "ToMembers_Account": ["b", "c"], "Content": "hi b" });
    assert_code(&h.call("group_open_http_svc/send_group_system_notification", some).await, 0);
    let notes = h.emulator().system_notifications("pub").unwrap();
    let recipients = |i: usize| notes[i].recipients.iter().map(|r| r.to_string()).collect::<Vec<_>>();
    assert_eq!(recipients(0), ["a", "b"]);
    assert_eq!(recipients(1), ["b"], "c is not a member");
    let to_live_members = json!({ "GroupId": "live", "ToMembers_Account": ["a"], "Content": "x" });
    assert_code(&h.call("group_open_http_svc/send_group_system_notification", to_live_members).await, 10004);
    assert_code(
        &h.call("group_open_http_svc/send_group_system_notification", json!({ "GroupId": "pub", "Content": "" })).await,
        10004,
    );
    assert_code(
        &h.call("group_open_http_svc/send_group_system_notification", json!({ "GroupId": "none", "Content": "x" }))
            .await,
        10010,
    );
}

#[tokio::test]
async fn broadcasts_reach_every_live_group() {
    // send_broadcast_msg allows one call a second; this test is about what a broadcast does.
    let h = start(|b| b.quotas(QuotaConfig::disabled())).await;
    h.create_group("AVChatRoom", "live1", &[]).await;
    h.create_group("AVChatRoom", "live2", &[]).await;
    h.create_group("Public", "pub", &[]).await;
    let answer =
        h.call("group_open_http_svc/send_broadcast_msg", json!({ "Random": 1, "MsgBody": text("to all") })).await;
    assert_code(&answer, 0);
    assert_eq!(answer["MsgSeq"], 1);
    assert_eq!(h.emulator().group_messages("live1").unwrap().len(), 1);
    assert_eq!(h.emulator().group_messages("live2").unwrap().len(), 1);
    assert_eq!(h.emulator().group_messages("pub").unwrap().len(), 0);
    assert_eq!(h.emulator().broadcasts().len(), 1);
    assert_code(&h.call("group_open_http_svc/send_broadcast_msg", json!({ "MsgBody": text("x") })).await, 10004);
    let ghost = json!({ "From_Account": "ghost", "Random": 2, "MsgBody": text("x") });
    assert_code(&h.call("group_open_http_svc/send_broadcast_msg", ghost).await, 10019);
}

#[tokio::test]
async fn import_group_msg_checks_each_send_time() {
    let h = start(|b| b).await;
    h.import(&["a"]).await;
    h.create_group("Public", "pub", &["a"]).await;
    h.create_group("AVChatRoom", "live", &[]).await;
    h.clock.advance(100);
    let item = |time: u64, words: &str| json!({ "From_Account": "a", "SendTime": time, "Random": time, "MsgBody": text(words) });
    let body = json!({ "GroupId": "pub", "MsgList": [item(T0 + 10, "first"), item(T0 + 20, "second"), item(T0 + 500, "future")] });
    let answer = h.call("group_open_http_svc/import_group_msg", body).await;
    assert_code(&answer, 0);
    let results: Vec<(i64, i64)> = answer["ImportMsgResult"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["MsgSeq"].as_i64().unwrap(), r["Result"].as_i64().unwrap()))
        .collect();
    assert_eq!(results, [(1, 0), (2, 0), (0, 10004)]);
    let before_creation = json!({ "GroupId": "pub", "MsgList": [item(T0 - 1, "too old")] });
    assert_eq!(
        h.call("group_open_http_svc/import_group_msg", before_creation).await["ImportMsgResult"][0]["Result"],
        10004
    );
    let live = json!({ "GroupId": "live", "MsgList": [item(T0 + 10, "x")] });
    assert_code(&h.call("group_open_http_svc/import_group_msg", live).await, 10007);
    let image = json!({ "GroupId": "pub", "MsgList": [{ "From_Account": "a", "SendTime": T0 + 30, "MsgBody": [{ "MsgType": "TIMSoundElem", "MsgContent": { "Url": "u", "UUID": "x", "Download_Flag": 2 } }] }] });
    assert_code(&h.call("group_open_http_svc/import_group_msg", image).await, 10004);
    let eight: Vec<Value> = (0..8).map(|i| item(T0 + 30 + i, "x")).collect();
    assert_code(
        &h.call("group_open_http_svc/import_group_msg", json!({ "GroupId": "pub", "MsgList": eight })).await,
        10004,
    );
    let big = json!({ "GroupId": "pub", "MsgList": [item(T0 + 40, &"x".repeat(12_001))] });
    assert_code(&h.call("group_open_http_svc/import_group_msg", big).await, 10020);
}

#[tokio::test]
async fn recall_and_history() {
    let h = start(|b| b).await;
    h.create_group("Public", "pub", &[]).await;
    h.create_group("AVChatRoom", "live", &[]).await;
    for i in 0..5 {
        assert_code(
            &h.call("group_open_http_svc/send_group_msg", group_msg("pub", i, &format!("m{}", i + 1))).await,
            0,
        );
    }
    let recall = json!({ "GroupId": "pub", "MsgSeqList": [{ "MsgSeq": 2 }, { "MsgSeq": 9 }] });
    let answer = h.call("group_open_http_svc/group_msg_recall", recall).await;
    assert_code(&answer, 0);
    assert_eq!(answer["RecallRetList"], json!([{ "MsgSeq": 2, "RetCode": 0 }, { "MsgSeq": 9, "RetCode": 10030 }]));
    let live_recall = json!({ "GroupId": "live", "MsgSeqList": [{ "MsgSeq": 1 }] });
    assert_code(&h.call("group_open_http_svc/group_msg_recall", live_recall).await, 10033);
    assert_code(
        &h.call("group_open_http_svc/group_msg_recall", json!({ "GroupId": "nope", "MsgSeqList": [{ "MsgSeq": 1 }] }))
            .await,
        10010,
    );

    let seqs = |answer: &Value| -> Vec<i64> {
        answer["RspMsgList"].as_array().unwrap().iter().map(|m| m["MsgSeq"].as_i64().unwrap()).collect()
    };
    let newest =
        h.call("group_open_http_svc/group_msg_get_simple", json!({ "GroupId": "pub", "ReqMsgNumber": 3 })).await;
    assert_code(&newest, 0);
    assert_eq!(seqs(&newest), [5, 4, 3]);
    assert_eq!(newest["IsFinished"], 0);
    let older = h
        .call(
            "group_open_http_svc/group_msg_get_simple",
            json!({ "GroupId": "pub", "ReqMsgNumber": 3, "ReqMsgSeq": 2 }),
        )
        .await;
    assert_eq!(seqs(&older), [1], "the recalled message is left out");
    assert_eq!(older["IsFinished"], 1);
    let with_recalled = json!({ "GroupId": "pub", "ReqMsgNumber": 3, "ReqMsgSeq": 2, "WithRecalledMsg": 1 });
    let older = h.call("group_open_http_svc/group_msg_get_simple", with_recalled).await;
    assert_eq!(seqs(&older), [2, 1]);
    assert_eq!(older["RspMsgList"][0]["IsPlaceMsg"], 2);
    assert_code(
        &h.call("group_open_http_svc/group_msg_get_simple", json!({ "GroupId": "live", "ReqMsgNumber": 1 })).await,
        10007,
    );
    assert_code(
        &h.call("group_open_http_svc/group_msg_get_simple", json!({ "GroupId": "pub", "ReqMsgNumber": 21 })).await,
        10004,
    );
}

#[tokio::test]
async fn im_push_reaches_every_account_and_checks_conditions() {
    // im_push allows a call a second and 100 a day; this test is about what a push does.
    let h = start(|b| b.quotas(QuotaConfig::disabled())).await;
    h.import(&["a", "b"]).await;
    let answer = h.call("all_member_push/im_push", json!({ "MsgRandom": 1234, "MsgBody": text("to everyone") })).await;
    assert_code(&answer, 0);
    assert_eq!(answer["TaskId"], format!("{SDKAPPID}_1_1234_{T0}"));
    let pushes = h.emulator().pushes();
    assert_eq!(pushes[0].recipients, 3, "a, b and the admin");
    h.clock.advance(2);
    let tagged = json!({ "MsgRandom": 5, "MsgBody": text("x"), "Condition": { "TagsOr": ["vip"] } });
    assert_code(&h.call("all_member_push/im_push", tagged).await, 0);
    assert_eq!(h.emulator().pushes()[1].recipients, 0, "no user has tags in the emulator");
    let both =
        json!({ "MsgRandom": 6, "MsgBody": text("x"), "Condition": { "TagsOr": ["a"], "AttrsAnd": { "k": "v" } } });
    assert_code(&h.call("all_member_push/im_push", both).await, 90039);
    assert_code(&h.call("all_member_push/im_push", json!({ "MsgBody": text("x") })).await, 90005);
    let long_tag = json!({ "MsgRandom": 7, "MsgBody": text("x"), "Condition": { "TagsAnd": ["t".repeat(51)] } });
    assert_code(&h.call("all_member_push/im_push", long_tag).await, 90020);
}
