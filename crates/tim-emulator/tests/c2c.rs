//! One-to-one messages: sendmsg, batchsendmsg, importmsg, admin_msgwithdraw and admin_getroammsg, each with a
//! success and its documented failures.

mod common;

use common::*;
use serde_json::{Value, json};

fn send(to: &str, random: u32, words: &str) -> Value {
    json!({ "To_Account": to, "MsgRandom": random, "MsgBody": text(words) })
}

#[tokio::test]
async fn sendmsg_stores_the_message_and_answers_its_key() {
    let h = start(|b| b).await;
    h.import(&["alice", "bob"]).await;
    let mut body = send("bob", 2_837_546, "hello");
    body["From_Account"] = json!("alice");
    body["MsgSeq"] = json!(48_374);
    body["CloudCustomData"] = json!("custom");
    let answer = h.call("openim/sendmsg", body).await;
    assert_code(&answer, 0);
    assert_eq!(answer["ActionStatus"], "OK");
    assert_eq!(answer["MsgTime"], T0);
    assert_eq!(answer["MsgKey"], format!("48374_2837546_{T0}"));
    let msg_id = answer["MsgId"].as_str().expect("a MsgId");
    assert!(msg_id.ends_with(&format!("-{T0}-2837546")), "{{sender}}-{{MsgTime}}-{{MsgRandom}}: {msg_id}");
    let inbox = h.emulator().inbox("bob").unwrap();
    assert_eq!(inbox.len(), 1);
    let message = &inbox[0].message;
    assert_eq!(&*message.from_account, "alice");
    assert_eq!(message.msg_key(), format!("48374_2837546_{T0}"));
    assert_eq!(message.cloud_custom_data.as_deref(), Some("custom"));
    assert_eq!(h.emulator().inbox_len("alice"), Some(0), "the sender's inbox is untouched");
}

#[tokio::test]
async fn sendmsg_without_from_account_sends_as_the_admin_and_draws_a_msg_seq() {
    let h = start(|b| b).await;
    h.import(&["bob"]).await;
    let answer = h.call("openim/sendmsg", send("bob", 7, "hi")).await;
    assert_code(&answer, 0);
    let key = answer["MsgKey"].as_str().unwrap();
    assert!(key.ends_with(&format!("_7_{T0}")), "{key}");
    assert_eq!(&*h.emulator().inbox("bob").unwrap()[0].message.from_account, ADMIN);
}

#[tokio::test]
async fn sendmsg_failures_have_their_documented_codes() {
    let h = start(|b| b).await;
    h.import(&["bob"]).await;
    let cases = [
        (b"{\"To_Account\":".to_vec(), 90001, "not JSON"),
        (br#"{"MsgRandom":1,"MsgBody":[{"MsgType":"TIMTextElem","MsgContent":{"Text":"x"}}]}"#.to_vec(), 90003, "To_Account missing"),
        (br#"{"To_Account":"bob","MsgBody":[{"MsgType":"TIMTextElem","MsgContent":{"Text":"x"}}]}"#.to_vec(), 90005, "MsgRandom missing"),
        (br#"{"To_Account":"bob","MsgRandom":1}"#.to_vec(), 90007, "MsgBody missing"),
        (br#"{"To_Account":"bob","MsgRandom":1,"MsgBody":[]}"#.to_vec(), 90002, "MsgBody empty"),
        (br#"{"To_Account":"bob","MsgRandom":1,"MsgLifeTime":604801,"MsgBody":[{"MsgType":"TIMTextElem","MsgContent":{"Text":"x"}}]}"#.to_vec(), 90026, "MsgLifeTime over 7 days"),
        (serde_json::to_vec(&send("nobody", 1, "x")).unwrap(), 90012, "recipient not registered"),
        (serde_json::to_vec(&json!({"From_Account":"ghost","To_Account":"bob","MsgRandom":1,"MsgBody":text("x")})).unwrap(), 90008, "sender does not exist"),
        (serde_json::to_vec(&send("bob", 1, &"x".repeat(12_001))).unwrap(), 93000, "over 12 KB"),
    ];
    for (body, code, case) in cases {
        let answer = h.call_bytes("openim/sendmsg", body).await.json();
        assert_eq!(answer["ErrorCode"], code, "{case}: {answer}");
        assert_eq!(answer["ActionStatus"], "FAIL", "{case}");
    }
    assert_eq!(h.emulator().inbox_len("bob"), Some(0), "nothing was stored");
    assert_eq!(h.running.stats().messages_stored, 0);
}

#[tokio::test]
async fn batchsendmsg_delivers_to_every_recipient_with_one_key() {
    let h = start(|b| b).await;
    let recipients: Vec<String> = (0..500).map(|i| format!("user{i:03}")).collect();
    for chunk in recipients.chunks(100) {
        let ids: Vec<&str> = chunk.iter().map(String::as_str).collect();
        h.import(&ids).await;
    }
    let body =
        json!({ "To_Account": recipients, "MsgRandom": 19_901_224, "MsgSeq": 28_460, "MsgBody": text("notice") });
    let answer = h.call("openim/batchsendmsg", body).await;
    assert_code(&answer, 0);
    assert_eq!(answer["ActionStatus"], "OK");
    assert_eq!(answer["MsgKey"], format!("28460_19901224_{T0}"));
    assert!(answer["MsgId"].as_str().is_some_and(|id| id.ends_with(&format!("-{T0}-19901224"))), "{answer}");
    assert!(answer.get("ErrorList").is_none(), "{answer}");
    for recipient in &recipients {
        assert_eq!(h.emulator().inbox_len(recipient), Some(1), "{recipient}");
    }
    let first = &h.emulator().inbox("user000").unwrap()[0].message;
    let last = &h.emulator().inbox("user499").unwrap()[0].message;
    assert!(std::sync::Arc::ptr_eq(first, last), "one stored message shared by all recipients");
    assert_eq!(h.running.stats().stored.c2c, 500);
}

#[tokio::test]
async fn batchsendmsg_partial_failure_is_some_error_with_code_zero() {
    let h = start(|b| b).await;
    h.import(&["bonnie"]).await;
    let body = json!({ "To_Account": ["bonnie", "rong", "ghost"], "MsgRandom": 5, "MsgBody": text("hi") });
    let answer = h.call("openim/batchsendmsg", body).await;
    assert_eq!(answer["ActionStatus"], "SomeError", "{answer}");
    assert_eq!(answer["ErrorCode"], 0);
    assert!(answer["MsgKey"].is_string());
    assert_eq!(
        answer["ErrorList"],
        json!([{ "To_Account": "rong", "ErrorCode": 70107 }, { "To_Account": "ghost", "ErrorCode": 70107 }])
    );
    assert_eq!(h.emulator().inbox_len("bonnie"), Some(1));
}

#[tokio::test]
async fn batchsendmsg_fails_when_no_recipient_exists_and_refuses_501() {
    let h = start(|b| b).await;
    let answer =
        h.call("openim/batchsendmsg", json!({ "To_Account": ["a", "b"], "MsgRandom": 5, "MsgBody": text("hi") })).await;
    assert_eq!(answer["ActionStatus"], "FAIL", "{answer}");
    assert_ne!(answer["ErrorCode"], 0);
    assert_eq!(answer["ErrorList"].as_array().unwrap().len(), 2);

    let too_many: Vec<String> = (0..501).map(|i| format!("u{i}")).collect();
    let answer =
        h.call("openim/batchsendmsg", json!({ "To_Account": too_many, "MsgRandom": 5, "MsgBody": text("hi") })).await;
    let info = assert_code(&answer, 90011);
    assert!(info.contains("501"), "{info}");
    let answer = h.call("openim/batchsendmsg", json!({ "To_Account": ["a"], "MsgBody": text("hi") })).await;
    assert_code(&answer, 90005);
    let answer = h
        .call(
            "openim/batchsendmsg",
            json!({ "From_Account": "ghost", "To_Account": ["a"], "MsgRandom": 1, "MsgBody": text("hi") }),
        )
        .await;
    assert_code(&answer, 90008);
}

#[tokio::test]
async fn auto_create_accounts_creates_every_addressed_user() {
    let h = start_auto().await;
    let body =
        json!({ "From_Account": "newsender", "To_Account": ["n1", "n2"], "MsgRandom": 5, "MsgBody": text("hi") });
    assert_code(&h.call("openim/batchsendmsg", body).await, 0);
    for user in ["newsender", "n1", "n2"] {
        assert!(h.emulator().account_exists(user), "{user}");
    }
}

#[tokio::test]
async fn importmsg_stores_with_the_given_time_and_checks_its_fields() {
    let h = start(|b| b).await;
    h.import(&["vinson", "dramon"]).await;
    let body = json!({
        "SyncFromOldSystem": 2, "From_Account": "vinson", "To_Account": "dramon",
        "MsgSeq": 1, "MsgRandom": 9, "MsgTimeStamp": 1_600_000_000, "MsgBody": text("old")
    });
    assert_code(&h.call("openim/importmsg", body.clone()).await, 0);
    let inbox = h.emulator().inbox("dramon").unwrap();
    assert_eq!(inbox[0].message.msg_time, 1_600_000_000);

    let mut bad = body.clone();
    bad["SyncFromOldSystem"] = json!(3);
    assert_code(&h.call("openim/importmsg", bad).await, 90030);
    let mut bad = body.clone();
    bad.as_object_mut().unwrap().remove("MsgTimeStamp");
    assert_code(&h.call("openim/importmsg", bad).await, 90006);
    let mut bad = body.clone();
    bad["From_Account"] = json!("ghost");
    assert_code(&h.call("openim/importmsg", bad).await, 90008);
    let mut bad = body;
    bad["To_Account"] = json!("ghost");
    assert_code(&h.call("openim/importmsg", bad).await, 90012);
}

#[tokio::test]
async fn admin_msgwithdraw_recalls_once_then_answers_already_recalled() {
    let h = start(|b| b).await;
    h.import(&["vinson", "dramon"]).await;
    let mut body = send("dramon", 833_502, "oops");
    body["From_Account"] = json!("vinson");
    let key = h.call("openim/sendmsg", body).await["MsgKey"].as_str().unwrap().to_owned();
    let withdraw = json!({ "From_Account": "vinson", "To_Account": "dramon", "MsgKey": key });
    assert_code(&h.call("openim/admin_msgwithdraw", withdraw.clone()).await, 0);
    assert!(h.emulator().inbox("dramon").unwrap()[0].recalled);
    assert_code(&h.call("openim/admin_msgwithdraw", withdraw.clone()).await, 20023);

    let mut other = withdraw.clone();
    other["MsgKey"] = json!("1_2_3");
    assert_code(&h.call("openim/admin_msgwithdraw", other).await, 20022);
    let mut other = withdraw.clone();
    other["MsgKey"] = json!("not-a-key");
    assert_code(&h.call("openim/admin_msgwithdraw", other).await, 90054);
    let mut other = withdraw;
    other["From_Account"] = json!("ghost");
    assert_code(&h.call("openim/admin_msgwithdraw", other).await, 90008);
}

#[tokio::test]
async fn admin_getroammsg_reads_both_directions_newest_first_in_pages() {
    let h = start(|b| b).await;
    h.import(&["user1", "user2", "user3"]).await;
    for (i, (from, to)) in
        [("user1", "user2"), ("user2", "user1"), ("user3", "user2"), ("user1", "user2")].iter().enumerate()
    {
        let mut body = send(to, i as u32, &format!("m{i}"));
        body["From_Account"] = json!(from);
        assert_code(&h.call("openim/sendmsg", body).await, 0);
        h.clock.advance(1);
    }
    // A batch with MsgLifeTime 0 is online only: not in roaming history.
    let online = json!({ "From_Account": "user1", "To_Account": ["user2"], "MsgRandom": 99, "MsgLifeTime": 0, "MsgBody": text("ephemeral") });
    assert_code(&h.call("openim/batchsendmsg", online).await, 0);

    let ask = |last: Option<Value>| {
        let mut body = json!({ "Operator_Account": "user2", "Peer_Account": "user1", "MaxCnt": 2, "MinTime": T0, "MaxTime": T0 + 100 });
        if let Some(last) = last {
            body["LastMsgKey"] = last["LastMsgKey"].clone();
            body["MaxTime"] = last["LastMsgTime"].clone();
        }
        body
    };
    let first = h.call("openim/admin_getroammsg", ask(None)).await;
    assert_code(&first, 0);
    assert_eq!(first["Complete"], 0);
    assert_eq!(first["MsgCnt"], 2);
    let texts = |page: &Value| -> Vec<String> {
        page["MsgList"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["MsgBody"][0]["MsgContent"]["Text"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(texts(&first), ["m3", "m1"]);
    assert_eq!(first["MsgList"][1]["From_Account"], "user2");
    assert_eq!(first["MsgList"][1]["To_Account"], "user1");
    let second = h.call("openim/admin_getroammsg", ask(Some(first))).await;
    assert_eq!(texts(&second), ["m0"]);
    assert_eq!(second["Complete"], 1);

    let bad =
        json!({ "Operator_Account": "user2", "Peer_Account": "user1", "MaxCnt": 0, "MinTime": T0, "MaxTime": T0 });
    assert_code(&h.call("openim/admin_getroammsg", bad).await, 70402);
}

#[tokio::test]
async fn storage_fields_decide_the_history_the_unread_count_and_the_conversation_list() {
    let h = start(|b| b).await;
    h.import(&["alice", "bob"]).await;
    // (API, extra fields) in the order sent, one second apart; the message's text is `m{index}`.
    let sends: [(&str, Value); 8] = [
        ("sendmsg", json!({})),
        ("sendmsg", json!({ "SendMsgControl": ["NoUnread"] })),
        ("sendmsg", json!({ "OnlineOnlyFlag": 1 })),
        ("sendmsg", json!({ "MsgLifeTime": 0 })),
        ("batchsendmsg", json!({ "MsgLifeTime": 0 })),
        ("batchsendmsg", json!({ "OnlineOnlyFlag": 1 })),
        ("batchsendmsg", json!({ "SyncOtherMachine": 2 })),
        ("sendmsg", json!({ "SendMsgControl": ["NoLastMsg"] })),
    ];
    for (index, (api, extra)) in sends.iter().enumerate() {
        let to = if *api == "sendmsg" { json!("bob") } else { json!(["bob"]) };
        let mut body = json!({ "From_Account": "alice", "To_Account": to, "MsgRandom": index, "MsgBody": text(&format!("m{index}")) });
        for (field, value) in extra.as_object().unwrap() {
            body[field] = value.clone();
        }
        assert_code(&h.call(&format!("openim/{api}"), body).await, 0);
        h.clock.advance(1);
    }
    let emulator = h.emulator();
    assert_eq!(emulator.inbox_len("bob"), Some(8), "every message reached bob's (online) devices");

    let history = |operator: &'static str, peer: &'static str| {
        let h = &h;
        async move {
            let ask = json!({ "Operator_Account": operator, "Peer_Account": peer, "MaxCnt": 100, "MinTime": T0, "MaxTime": T0 + 100 });
            let page = h.call("openim/admin_getroammsg", ask).await;
            assert_code(&page, 0);
            let mut texts: Vec<String> = page["MsgList"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| m["MsgBody"][0]["MsgContent"]["Text"].as_str().unwrap().to_owned())
                .collect();
            texts.reverse();
            texts
        }
    };
    // Online-only messages (OnlineOnlyFlag 1 anywhere, a batch's MsgLifeTime 0) are kept in no history;
    // sendmsg's MsgLifeTime 0 only skips offline storage.
    assert_eq!(history("bob", "alice").await, ["m0", "m1", "m3", "m6", "m7"], "the recipient's copy");
    assert_eq!(
        history("alice", "bob").await,
        ["m0", "m1", "m3", "m7"],
        "the sender's copy leaves out SyncOtherMachine 2"
    );

    // NoUnread and the online-only messages count nothing unread.
    assert_eq!(emulator.unread("bob"), Some(4), "m0, m3, m6 and m7");
    assert_eq!(emulator.unread("nobody"), None);
    // NoLastMsg (m7) and online-only messages leave the conversation list as it was.
    let conversations = emulator.conversations("bob").unwrap();
    assert_eq!(conversations.len(), 1);
    assert_eq!(&*conversations[0].peer, "alice");
    assert_eq!(conversations[0].last.msg_random, 6, "the last message that updated it is m6");
    assert!(emulator.conversations("alice").unwrap().is_empty(), "alice received nothing");
}
