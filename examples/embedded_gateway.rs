//! The gRPC gateway inside a service of one's own: one tonic server serves tim's `tim.v1` services beside the
//! service's own (here gRPC health stands in for them), on the service's own listener.
//!
//! `cargo run --example embedded_gateway` starts it against an emulator in the process, calls
//! `MessageService.SendMsg` through it as a Go or Java client would, shows that a call without a caller token is
//! refused while the service's own health check needs none, and shuts it down.

#![allow(clippy::print_stdout)] // An example prints what it did.

use tim_grpc::pb::message_service_client::MessageServiceClient;
use tim_grpc::pb::{self, MsgElement};
use tim_grpc::{Caller, Gateway, GatewayOptions};
use tim_sig::SecretKey;
use tim_transport::{Client, ClientConfig, Endpoint};
use tokio::sync::oneshot;
use tonic::transport::Server;
use tonic::transport::server::TcpIncoming;
use tonic_health::pb::health_client::HealthClient;

/// The token a caller of the example presents. A real one is long and random, and kept as its SHA-256 digest
/// (`Caller::with_digest_hex`).
const TOKEN: &str = "example-caller-token";

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let emulator = tim_examples::local_emulator(true).await?;
    let config = ClientConfig::new(Endpoint::BaseUrl(emulator.base_url()));
    let client = Client::new(tim_examples::SDKAPPID, tim_examples::ADMIN, SecretKey::new(tim_examples::KEY)?, config)?;

    // The gateway's services, behind its callers' authentication; without a data directory, JobService refuses
    // every call (`GatewayOptions::data_dir` keeps durable jobs).
    let options = GatewayOptions::new(vec![Caller::with_token("orders-service", TOKEN)]);
    let embedded = Gateway::new(client, options)?.embed().await?;

    // One server of the service's own: its services (health here) beside tim's.
    // The reporter (first) is how the service would set its own status; it starts SERVING.
    let (_health, own_service) = tonic_health::server::health_reporter();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(
        Server::builder().add_routes(embedded.routes()).add_service(own_service).serve_with_incoming_shutdown(
            TcpIncoming::from(listener),
            async {
                let _ = stopped.await;
            },
        ),
    );
    println!("serving tim.v1 and the service's own services on {address}");

    let channel = tonic::transport::Endpoint::from_shared(format!("http://{address}"))?.connect().await?;
    let mut messages = MessageServiceClient::new(channel.clone());
    let send = || pb::SendMsgRequest {
        from_account: Some("alice".into()),
        to_account: "bob".into(),
        msg_body: vec![MsgElement::text("Your order has shipped")],
        ..Default::default()
    };

    let mut request = tonic::Request::new(send());
    request.metadata_mut().insert("authorization", format!("Bearer {TOKEN}").parse()?);
    let sent = messages.send_msg(request).await?.into_inner();
    println!("sent through the gateway: MsgKey {:?}, MsgRandom {}", sent.msg_key, sent.msg_random);
    println!("bob's inbox now holds {:?} message(s)", emulator.emulator().inbox_len("bob"));

    let refused = messages.send_msg(send()).await.expect_err("a call without a token is refused");
    println!("without a token: {:?}: {}", refused.code(), refused.message());

    let own = HealthClient::new(channel)
        .check(tonic_health::pb::HealthCheckRequest { service: String::new() })
        .await?
        .into_inner();
    println!("the service's own health check, no token needed: {:?}", own.status());

    // Stop taking calls, then let the gateway finish its work (fan-outs, jobs) and say what was left undone.
    let _ = stop.send(());
    server.await??;
    let report = embedded.shutdown().await;
    println!("stopped: {report:?}");
    emulator.shutdown().await;
    Ok(())
}
