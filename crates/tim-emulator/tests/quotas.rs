//! Quotas: calls per second per command (the command table's defaults or overrides), im_push's interval and daily
//! quota, batchsendmsg's recipients per minute, and switching quotas off. The injected clock makes them exact.

mod common;

use common::*;
use serde_json::json;
use tim_emulator::QuotaConfig;

#[tokio::test]
async fn calls_over_the_per_second_quota_get_60007_until_the_next_second() {
    let quotas = QuotaConfig::default().with_spec("openim/sendmsg=3/s").unwrap();
    let h = start(|b| b.auto_create_accounts(true).quotas(quotas)).await;
    for random in 0..3 {
        assert_code(
            &h.call("openim/sendmsg", json!({ "To_Account": "bob", "MsgRandom": random, "MsgBody": text("x") })).await,
            0,
        );
    }
    let refused = h.call("openim/sendmsg", json!({ "To_Account": "bob", "MsgRandom": 3, "MsgBody": text("x") })).await;
    let info = assert_code(&refused, 60007);
    assert!(info.contains("openim/sendmsg") && info.contains('3'), "{info}");
    assert_eq!(h.emulator().inbox_len("bob"), Some(3), "a refused call stores nothing");
    // Other commands have their own quota.
    assert_code(&h.call("im_open_login_svc/account_check", json!({ "CheckItem": [{ "UserID": "bob" }] })).await, 0);
    h.clock.advance(1);
    assert_code(
        &h.call("openim/sendmsg", json!({ "To_Account": "bob", "MsgRandom": 3, "MsgBody": text("x") })).await,
        0,
    );
    let stats = h.running.stats();
    assert_eq!(stats.rate_limited, 1);
    assert_eq!(stats.calls["openim/sendmsg"], 5, "refused calls are counted as calls");
}

#[tokio::test]
async fn the_command_tables_defaults_apply() {
    let h = start(|b| b).await;
    // send_broadcast_msg: 1 call a second.
    assert_code(
        &h.call("group_open_http_svc/send_broadcast_msg", json!({ "Random": 1, "MsgBody": text("a") })).await,
        0,
    );
    assert_code(
        &h.call("group_open_http_svc/send_broadcast_msg", json!({ "Random": 2, "MsgBody": text("b") })).await,
        10023,
    );
    // im_push: more than a second apart (90024), 100 a day (90047).
    assert_code(&h.call("all_member_push/im_push", json!({ "MsgRandom": 1, "MsgBody": text("a") })).await, 0);
    assert_code(&h.call("all_member_push/im_push", json!({ "MsgRandom": 2, "MsgBody": text("b") })).await, 90024);
    h.clock.advance(1);
    assert_code(&h.call("all_member_push/im_push", json!({ "MsgRandom": 2, "MsgBody": text("b") })).await, 0);
}

#[tokio::test]
async fn a_daily_quota_answers_its_own_code() {
    let quotas = QuotaConfig::default().with_spec("all_member_push/im_push=2/day").unwrap();
    let h = start(|b| b.quotas(quotas)).await;
    for random in 0..2 {
        assert_code(&h.call("all_member_push/im_push", json!({ "MsgRandom": random, "MsgBody": text("x") })).await, 0);
        h.clock.advance(5);
    }
    assert_code(&h.call("all_member_push/im_push", json!({ "MsgRandom": 9, "MsgBody": text("x") })).await, 90047);
    h.clock.advance(86_400);
    assert_code(&h.call("all_member_push/im_push", json!({ "MsgRandom": 9, "MsgBody": text("x") })).await, 0);
}

#[tokio::test]
async fn batchsendmsg_recipients_per_minute() {
    let quotas = QuotaConfig::default().with_recipients_per_minute(1000);
    let h = start(|b| b.auto_create_accounts(true).quotas(quotas)).await;
    // Start at the beginning of a minute, so that the whole test stays inside it.
    h.clock.set(T0 - T0 % 60 + 60);
    let batch = |random: u32| {
        let to: Vec<String> = (0..500).map(|i| format!("u{i}")).collect();
        json!({ "To_Account": to, "MsgRandom": random, "MsgBody": text("x") })
    };
    assert_code(&h.call("openim/batchsendmsg", batch(1)).await, 0);
    h.clock.advance(1);
    assert_code(&h.call("openim/batchsendmsg", batch(2)).await, 0);
    h.clock.advance(1);
    let info = assert_code(&h.call("openim/batchsendmsg", batch(3)).await, 60007);
    assert!(info.contains("1000 recipients per minute"), "{info}");
    assert_eq!(h.emulator().inbox_len("u0"), Some(2));
    h.clock.advance(60);
    assert_code(&h.call("openim/batchsendmsg", batch(3)).await, 0);
}

#[tokio::test]
async fn quotas_can_be_switched_off() {
    let h = start(|b| b.auto_create_accounts(true).quotas(QuotaConfig::disabled())).await;
    for random in 0..3 {
        assert_code(
            &h.call("group_open_http_svc/send_broadcast_msg", json!({ "Random": random, "MsgBody": text("x") })).await,
            0,
        );
    }
    assert_eq!(h.running.stats().rate_limited, 0);
}

#[tokio::test]
async fn send_broadcast_msg_answers_10007_when_the_app_has_broadcast_off() {
    let h = start(|b| b.broadcast(false)).await;
    let answer = h.call("group_open_http_svc/send_broadcast_msg", json!({ "Random": 1, "MsgBody": text("a") })).await;
    let info = assert_code(&answer, 10007);
    assert!(info.contains("not enabled"), "{info}");
    assert!(h.emulator().broadcasts().is_empty());
}
