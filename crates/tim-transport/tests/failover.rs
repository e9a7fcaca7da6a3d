//! Failover to the standby domain: with two loopback listeners, one refusing connections (the main domain whose
//! DNS was hijacked or that is unreachable) and one answering (the standby), calls reach the standby, stay there
//! for the cool-down, then try the main one again. The wall clock is the test's, so the cool-down takes no time.
//! And the URL `random` a refusal names, which Tencent support asks for.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tim_sig::SecretKey;
use tim_transport::retry::RetryPolicy;
use tim_transport::{Client, ClientConfig, Endpoint, FAILOVER_COOLDOWN};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// A loopback address nothing listens on: connections are refused.
async fn refusing() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    drop(listener);
    format!("http://{address}")
}

#[tokio::test]
async fn calls_fail_over_to_the_standby_and_try_the_main_domain_again_after_the_cool_down() {
    let standby = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v4/im_open_login_svc/account_check"))
        .respond_with(
            ResponseTemplate::new(200).set_body_string(r#"{"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":""}"#),
        )
        .mount(&standby)
        .await;
    let now = Arc::new(AtomicU64::new(1_750_000_000_000));
    let mut config = ClientConfig::new(Endpoint::Failover { primary: refusing().await, standby: standby.uri() });
    config.wall_clock = {
        let now = Arc::clone(&now);
        Arc::new(move || now.load(Ordering::SeqCst))
    };
    config.retry = RetryPolicy { initial_backoff: Duration::from_millis(1), ..RetryPolicy::default() };
    let client = Client::new(1_400_000_000, "administrator", SecretKey::new("k").unwrap(), config).unwrap();
    let call =
        || client.call_json("im_open_login_svc/account_check", serde_json::json!({"CheckItem": [{"UserID": "a"}]}));

    // The main domain refuses: the retry goes to the standby and succeeds.
    call().await.expect("answered by the standby");
    let first = client.stats();
    assert_eq!((first.attempts, first.retries), (2, 1), "{first:?}");
    // Within the cool-down, calls go straight to the standby.
    call().await.unwrap();
    assert_eq!(client.stats().attempts, first.attempts + 1, "one attempt, on the standby");
    // After it, the main domain is tried again (and, still refusing, the standby answers).
    now.fetch_add(FAILOVER_COOLDOWN.as_millis() as u64 + 1, Ordering::SeqCst);
    call().await.unwrap();
    assert_eq!(client.stats().attempts, first.attempts + 3, "the main domain again, then the standby");
    assert_eq!(standby.received_requests().await.unwrap().len(), 3);
}

#[test]
fn every_documented_region_has_its_domain_and_fails_over_where_it_has_a_standby() {
    use tim_transport::Region;
    let tokyo = Endpoint::Region { region: Region::parse("jpn").unwrap(), standby: false };
    assert_eq!(tokyo.base_url().unwrap(), "https://adminapijpn.im.qcloud.com");
    assert_eq!(tokyo.standby_url().unwrap(), None);
    let riyadh = Endpoint::Region { region: Region::parse("KSA").unwrap(), standby: false };
    assert_eq!(riyadh.base_url().unwrap(), "https://adminapiksa.im.qcloud.com");
    let singapore = Endpoint::Region { region: Region::parse("sgp").unwrap(), standby: false };
    assert_eq!(singapore.standby_url().unwrap().as_deref(), Some("https://adminapisgp.my-imcloud.com"));
    let only_standby = Endpoint::Region { region: Region::parse("sgp").unwrap(), standby: true };
    assert_eq!(only_standby.standby_url().unwrap(), None, "already on the standby: nothing to fail over to");
}

/// A refusal carries the `random` of the request the service answered, as Tencent support asks for it.
#[tokio::test]
async fn a_refusal_names_the_random_of_the_request_it_answered() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_string(r#"{"ActionStatus":"FAIL","ErrorCode":70107,"ErrorInfo":"no such account"}"#),
        )
        .mount(&server)
        .await;
    let client = Client::new(
        1_400_000_000,
        "administrator",
        SecretKey::new("k").unwrap(),
        ClientConfig::new(Endpoint::BaseUrl(server.uri())),
    )
    .unwrap();
    let error = client
        .call_json("im_open_login_svc/account_check", serde_json::json!({"CheckItem": [{"UserID": "a"}]}))
        .await
        .unwrap_err();
    let received = server.received_requests().await.unwrap();
    let sent: u32 =
        received.last().unwrap().url.query_pairs().find(|(key, _)| key == "random").unwrap().1.parse().unwrap();
    assert_eq!(error.request_random(), Some(sent));
    assert!(error.to_string().contains(&format!("request random {sent}")), "{error}");
}
