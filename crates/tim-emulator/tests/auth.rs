//! Authentication refusals, each with the service's code, and the UserSig cache that must not weaken them.

mod common;

use common::*;
use serde_json::json;
use tim_sig::{SecretKey, Signer};

const PATH: &str = "im_open_login_svc/account_check";

fn body() -> serde_json::Value {
    json!({ "CheckItem": [{ "UserID": "alice" }] })
}

fn query(sdkappid: &str, identifier: &str, usersig: &str) -> String {
    format!("sdkappid={sdkappid}&identifier={identifier}&usersig={usersig}&random=1&contenttype=json")
}

#[tokio::test]
async fn a_valid_admin_usersig_is_accepted() {
    let h = start_auto().await;
    let answer = h.call(PATH, body()).await;
    assert_code(&answer, 0);
    assert_eq!(answer["ActionStatus"], "OK");
}

#[tokio::test]
async fn each_refusal_has_its_code() {
    let h = start_auto().await;
    let good = usersig(&h.signer, ADMIN, T0, 3600);
    let app = SDKAPPID.to_string();
    let other_app = Signer::new(SDKAPPID + 1, SecretKey::new(KEY).unwrap());
    let other_key = Signer::new(SDKAPPID, SecretKey::new("another-key").unwrap());
    h.emulator().create_accounts(["alice"]).unwrap();
    let cases: Vec<(String, i64, &str)> = vec![
        (String::new(), 60012, "no query at all"),
        (format!("identifier={ADMIN}&usersig={good}&random=1&contenttype=json"), 60012, "sdkappid missing"),
        (query("1400000001", ADMIN, &good), 60006, "another sdkappid"),
        (query("abc", ADMIN, &good), 60006, "sdkappid not a number"),
        (format!("sdkappid={app}&usersig={good}&random=1&contenttype=json"), 60004, "identifier missing"),
        (format!("sdkappid={app}&identifier={ADMIN}&random=1&contenttype=json"), 60004, "usersig missing"),
        (query(&app, ADMIN, ""), 70002, "usersig empty"),
        (format!("sdkappid={app}&identifier={ADMIN}&usersig={good}&contenttype=json"), 60002, "random missing"),
        (format!("sdkappid={app}&identifier={ADMIN}&usersig={good}&random=1"), 60002, "contenttype missing"),
        (
            format!("sdkappid={app}&identifier={ADMIN}&usersig={good}&random=1&contenttype=JSON"),
            60002,
            "contenttype not json",
        ),
        (query(&app, ADMIN, "not-a-usersig"), 70003, "garbage usersig"),
        (query(&app, ADMIN, &usersig(&h.signer, ADMIN, T0 - 7200, 3600)), 70001, "expired"),
        (query(&app, "mallory", &good), 70013, "usersig of another identifier"),
        (query(&app, ADMIN, &usersig(&other_app, ADMIN, T0, 3600)), 70014, "usersig of another sdkappid"),
        (query(&app, ADMIN, &usersig(&other_key, ADMIN, T0, 3600)), 70009, "usersig made with another key"),
        (query(&app, "alice", &usersig(&h.signer, "alice", T0, 3600)), 60010, "a valid usersig of a non-admin"),
    ];
    for (query, code, case) in &cases {
        let answer = h.call_with_query(PATH, query, body()).await;
        assert_eq!(answer["ErrorCode"], *code, "{case}: {answer}");
        assert_eq!(answer["ActionStatus"], "FAIL", "{case}");
        let info = answer["ErrorInfo"].as_str().unwrap();
        assert!(!info.is_empty(), "{case}: an ErrorInfo says why");
        assert!(!info.contains(&good) && !info.contains(KEY), "{case}: no secret in {info}");
    }
    assert_eq!(h.running.stats().auth_refused, cases.len() as u64);
    assert!(h.running.stats().calls.is_empty(), "refused requests are no calls");
}

#[tokio::test]
async fn a_cached_usersig_expires_with_the_clock() {
    let h = start_auto().await;
    let sig = usersig(&h.signer, ADMIN, T0, 10);
    let query = query(&SDKAPPID.to_string(), ADMIN, &sig);
    assert_code(&h.call_with_query(PATH, &query, body()).await, 0);
    h.clock.advance(10);
    assert_code(&h.call_with_query(PATH, &query, body()).await, 0);
    h.clock.advance(1);
    assert_code(&h.call_with_query(PATH, &query, body()).await, 70001);
}

#[tokio::test]
async fn several_admins_may_be_configured() {
    let h = start(|b| b.admins(["ops", "backend"])).await;
    let app = SDKAPPID.to_string();
    let as_backend = query(&app, "backend", &usersig(&h.signer, "backend", T0, 60));
    assert_code(&h.call_with_query(PATH, &as_backend, body()).await, 0);
    let as_default = query(&app, ADMIN, &usersig(&h.signer, ADMIN, T0, 60));
    assert_code(&h.call_with_query(PATH, &as_default, body()).await, 60010);
}

#[tokio::test]
async fn percent_encoded_query_values_are_decoded() {
    let h = start(|b| b.admin("ops team")).await;
    let query = query(&SDKAPPID.to_string(), "ops%20team", &usersig(&h.signer, "ops team", T0, 60));
    assert_code(&h.call_with_query(PATH, &query, body()).await, 0);
}
