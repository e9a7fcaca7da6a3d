//! Tencent's callbacks received by an axum handler that checks them first: `SdkAppid` must be the app's, and
//! `Sign` must match `RequestTime` under the console's webhook token, within a minute of now.
//!
//! `cargo run --example webhook_axum` serves the handler on a loopback port and posts three callbacks to it as
//! Tencent would: a genuine one (answered 200 with the acknowledgement Tencent expects), one with a forged `Sign`
//! and one for another app (both refused with 401 before their bodies are read).

#![allow(clippy::print_stdout)] // An example prints what it did.

use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use std::sync::Arc;
use tim_model::callback::CallbackQuery;
use tim_model::envelope::{EmptyResponse, NoFields};
use tim_sig::{WebhookToken, WebhookVerifier};

/// The token set in the console's callback settings (here, the example's own).
const TOKEN: &str = "example-webhook-token";

struct Webhooks {
    sdkappid: u64,
    verifier: WebhookVerifier,
}

/// Any path: the console's callback URL is the app's choice.
async fn callback(State(webhooks): State<Arc<Webhooks>>, Query(query): Query<CallbackQuery>, body: Bytes) -> Response {
    if !query.is_for(webhooks.sdkappid) {
        return (StatusCode::UNAUTHORIZED, "not this app's callback").into_response();
    }
    let (time, sign) = (query.request_time.as_deref().unwrap_or(""), query.sign.as_deref().unwrap_or(""));
    if let Err(refused) = webhooks.verifier.verify(time, sign, tim_examples::now()) {
        // The error never contains the token or the expected signature.
        return (StatusCode::UNAUTHORIZED, refused.to_string()).into_response();
    }
    // Only now is the body worth reading.
    let event: serde_json::Value = match serde_json::from_slice(&body) {
        Ok(event) => event,
        Err(error) => return (StatusCode::BAD_REQUEST, format!("not JSON: {error}")).into_response(),
    };
    let command = query.callback_command.as_deref().unwrap_or("?");
    println!("accepted {command} from {}: {event}", query.client_ip.as_deref().unwrap_or("?"));
    // ErrorCode 0: after-events are acknowledged, before-events allowed.
    axum::Json(EmptyResponse::ok(NoFields::default())).into_response()
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let webhooks = Arc::new(Webhooks {
        sdkappid: tim_examples::SDKAPPID,
        verifier: WebhookVerifier::new(WebhookToken::new(TOKEN)?),
    });
    let app = Router::new().route("/{*path}", post(callback)).with_state(webhooks);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    let server = tokio::spawn(async move { axum::serve(listener, app).await });

    // What Tencent sends: the signature over the token and the request time, in the query.
    let token = WebhookToken::new(TOKEN)?;
    let time = tim_examples::now().to_string();
    let body =
        r#"{"CallbackCommand":"C2C.CallbackAfterSendMsg","From_Account":"alice","To_Account":"bob","MsgBody":[]}"#;
    let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let post = |sdkappid: u64, sign: String| {
        let query = CallbackQuery {
            sdkappid: Some(sdkappid.to_string()),
            callback_command: Some("C2C.CallbackAfterSendMsg".into()),
            content_type: Some("json".into()),
            client_ip: Some("127.0.0.1".into()),
            opt_platform: Some("RESTAPI".into()),
            request_time: Some(time.clone()),
            sign: Some(sign),
        };
        let uri = serde_urlencoded::to_string(&query).map(|query| format!("http://{address}/tim/callback?{query}"));
        let request = uri.map_err(Box::<dyn std::error::Error>::from).and_then(|uri| {
            hyper::Request::post(uri)
                .header("content-type", "application/json")
                .body(Full::new(Bytes::from_static(body.as_bytes())))
                .map_err(Into::into)
        });
        let client = client.clone();
        async move {
            let response = client.request(request?).await?;
            let status = response.status();
            let text = response.into_body().collect().await?.to_bytes();
            Ok::<_, Box<dyn std::error::Error>>((status, String::from_utf8_lossy(&text).into_owned()))
        }
    };

    let genuine = post(tim_examples::SDKAPPID, token.sign(&time)).await?;
    println!("genuine callback: {} {}", genuine.0, genuine.1);
    let forged = post(tim_examples::SDKAPPID, WebhookToken::new("guessed")?.sign(&time)).await?;
    println!("forged Sign: {} {}", forged.0, forged.1);
    let other_app = post(1_400_000_001, token.sign(&time)).await?;
    println!("another app's SdkAppid: {} {}", other_app.0, other_app.1);

    assert_eq!([genuine.0, forged.0, other_app.0], [200, 401, 401]);
    server.abort();
    Ok(())
}
