//! kick, setnospeaking and getnospeaking: a mute is read back counting down on the emulator's clock, refuses the
//! muted account's group messages until it ends, and the documented codes answer the documented mistakes.

mod common;

use common::*;
use serde_json::{Value, json};

const SET: &str = "openconfigsvr/setnospeaking";
const GET: &str = "openconfigsvr/getnospeaking";
const SEND_GROUP: &str = "group_open_http_svc/send_group_msg";
const FOR_EVER: u64 = 4_294_967_295;

async fn mute_of(h: &Harness, account: &str) -> (Value, Value) {
    let answer = h.call(GET, json!({ "Get_Account": account })).await;
    assert_code(&answer, 0);
    (answer["C2CmsgNospeakingTime"].clone(), answer["GroupmsgNospeakingTime"].clone())
}

#[tokio::test]
async fn a_mute_counts_down_on_the_clock_and_ends_by_itself_or_by_zero() {
    let h = start(|b| b).await;
    h.import(&["lumotuwe"]).await;
    assert_eq!(mute_of(&h, "lumotuwe").await, (json!(0), json!(0)), "not muted by default");

    let answer = h
        .call(
            SET,
            json!({ "Set_Account": "lumotuwe", "C2CmsgNospeakingTime": FOR_EVER, "GroupmsgNospeakingTime": 7200 }),
        )
        .await;
    assert_code(&answer, 0);
    assert!(answer.get("ActionStatus").is_none(), "these APIs answer without ActionStatus: {answer}");
    h.clock.advance(4);
    // The documented sample: 7196 seconds left four seconds after 7200 were set; for ever stays for ever.
    assert_eq!(mute_of(&h, "lumotuwe").await, (json!(FOR_EVER), json!(7196)));
    h.clock.advance(7196);
    assert_eq!(mute_of(&h, "lumotuwe").await, (json!(FOR_EVER), json!(0)), "the group mute ended by itself");

    // One time changes that kind only; 0 unmutes.
    assert_code(&h.call(SET, json!({ "Set_Account": "lumotuwe", "GroupmsgNospeakingTime": 60 })).await, 0);
    assert_eq!(mute_of(&h, "lumotuwe").await, (json!(FOR_EVER), json!(60)));
    assert_code(&h.call(SET, json!({ "Set_Account": "lumotuwe", "C2CmsgNospeakingTime": 0 })).await, 0);
    assert_eq!(mute_of(&h, "lumotuwe").await, (json!(0), json!(60)));
}

#[tokio::test]
async fn a_group_muted_sender_is_refused_with_10017_until_the_mute_ends() {
    let h = start(|b| b).await;
    h.import(&["a", "b"]).await;
    h.create_group("Public", "pub", &["a", "b"]).await;
    let message =
        |random: u32| json!({ "GroupId": "pub", "From_Account": "a", "Random": random, "MsgBody": text("hi") });
    assert_code(&h.call(SET, json!({ "Set_Account": "a", "GroupmsgNospeakingTime": 100 })).await, 0);
    let info = assert_code(&h.call(SEND_GROUP, message(1)).await, 10017);
    assert!(info.contains("muted"), "{info}");
    // Another member is not muted.
    let mut other = message(2);
    other["From_Account"] = json!("b");
    assert_code(&h.call(SEND_GROUP, other).await, 0);
    h.clock.advance(100);
    assert_code(&h.call(SEND_GROUP, message(3)).await, 0);

    // One-to-one mute does not refuse REST one-to-one sends: sendmsg's page says it does not check mutes.
    assert_code(&h.call(SET, json!({ "Set_Account": "a", "C2CmsgNospeakingTime": FOR_EVER })).await, 0);
    let send = json!({ "From_Account": "a", "To_Account": "b", "MsgRandom": 9, "MsgBody": text("hi") });
    assert_code(&h.call("openim/sendmsg", send).await, 0);
    // Nor does it refuse group messages.
    assert_code(&h.call(SEND_GROUP, message(4)).await, 0);
}

#[tokio::test]
async fn deleting_an_account_ends_its_mute() {
    let h = start(|b| b).await;
    h.import(&["a"]).await;
    assert_code(&h.call(SET, json!({ "Set_Account": "a", "GroupmsgNospeakingTime": FOR_EVER })).await, 0);
    let answer = h.call("im_open_login_svc/account_delete", json!({ "DeleteItem": [{ "UserID": "a" }] })).await;
    assert_code(&answer, 0);
    h.import(&["a"]).await;
    assert_eq!(mute_of(&h, "a").await, (json!(0), json!(0)));
}

/// A refusal of setnospeaking or getnospeaking: the code, and no `ActionStatus`, as the pages show the answers.
#[track_caller]
fn refused(answer: &Value, code: i64) {
    assert_eq!(answer["ErrorCode"], code, "{answer}");
    assert!(answer.get("ActionStatus").is_none(), "{answer}");
}

#[tokio::test]
async fn mistakes_get_the_pages_codes() {
    let h = start(|b| b).await;
    h.import(&["a"]).await;
    refused(&h.call_bytes(SET, b"{".to_vec()).await.json(), 130001);
    refused(&h.call(SET, json!({ "C2CmsgNospeakingTime": 1 })).await, 130004);
    refused(&h.call(SET, json!({ "Set_Account": "", "C2CmsgNospeakingTime": 1 })).await, 130005);
    refused(&h.call(SET, json!({ "Set_Account": "nobody", "C2CmsgNospeakingTime": 1 })).await, 130005);
    refused(&h.call(SET, json!({ "Set_Account": "a" })).await, 130008);
    // A time beyond 4294967295 seconds is not a time.
    refused(&h.call(SET, json!({ "Set_Account": "a", "C2CmsgNospeakingTime": FOR_EVER + 1 })).await, 130001);
    refused(&h.call_bytes(GET, b"{".to_vec()).await.json(), 130001);
    refused(&h.call(GET, json!({})).await, 130002);
    refused(&h.call(GET, json!({ "Get_Account": "nobody" })).await, 130003);
}

#[tokio::test]
async fn kick_needs_an_existing_account_and_is_counted() {
    let h = start(|b| b).await;
    h.import(&["test"]).await;
    assert_code(&h.call("im_open_login_svc/kick", json!({ "UserID": "test" })).await, 0);
    // The older pages' field name is accepted too.
    assert_code(&h.call("im_open_login_svc/kick", json!({ "Identifier": "test" })).await, 0);
    assert_code(&h.call("im_open_login_svc/kick", json!({ "UserID": "nobody" })).await, 70107);
    assert_code(&h.call("im_open_login_svc/kick", json!({})).await, 70402);
    assert_eq!(h.running.stats().logins_invalidated, 2);
}
