//! The gRPC gateway's cost, measured against the library in the same run.
//!
//! - `gateway/sendmsg`: one unary sendmsg through the gateway (tonic client → gateway → emulator) against the
//!   same call through the library (`Client::call` → emulator), one at a time. Besides criterion's means, the
//!   latency percentiles of 2,000 alternating calls of each are recorded as facts: `gateway_sendmsg_*_p50_us`,
//!   `*_p99_us`, and the added latency `gateway_sendmsg_added_p50_us` / `_p99_us`. `grpc_round_trip` times a
//!   health check on the same channel: the cost of a gRPC round trip alone on this machine.
//! - `gateway/fanout_1m`: a fan-out of 1,000,000 recipients through the gateway's streaming RPC (recipients sent
//!   as `RecipientBatch.lines`, 20,000 a message) against the same fan-out through the library's engine, both
//!   sending to a bare loopback server that answers like Tencent (so the gateway's own cost is not hidden behind
//!   the emulator's), pacing off, 16 chunks in flight, the count known to both (the library's input says how long
//!   it is; the gateway's caller sends `expected_recipients`), the engine running as a task of the runtime in both.
//!   Ratio `gateway_fanout_vs_library` (target >= 0.8).

use criterion::{Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use futures_util::{StreamExt, stream};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tim_emulator::{Emulator, QuotaConfig};
use tim_grpc::pb;
use tim_grpc::{Caller, Gateway, GatewayOptions};
use tim_model::c2c::{BatchSendMsgRequest, SendMsgRequest};
use tim_model::{MsgBody, UserId};
use tim_sig::SecretKey;
use tim_transport::{Client, ClientConfig, Endpoint, Fanout, FanoutOptions};
use tonic::transport::Channel;

const SDKAPPID: u64 = 1_400_000_000;
const KEY: &str = "bench-secret-key";
const TOKEN: &str = "bench-caller-token";
const RECIPIENTS: usize = 1_000_000;
const LINES_PER_MESSAGE: usize = 20_000;
const CONCURRENCY: usize = 16;
const TEXT: &str = "Your order has shipped and will arrive tomorrow.";
const ANSWER: &[u8] = br#"{"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":"","MsgKey":"1_2_3"}"#;

fn now_unix() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |elapsed| elapsed.as_secs())
}

fn client(base_url: String) -> Client {
    let mut config = ClientConfig::new(Endpoint::BaseUrl(base_url));
    config.pacing = false;
    Client::new(SDKAPPID, "administrator", SecretKey::new(KEY).expect("a key"), config).expect("a client")
}

/// Serves a gateway over `client` on loopback; returns a connected channel.
async fn gateway(client: Client) -> Channel {
    let options = GatewayOptions {
        fanout_concurrency: CONCURRENCY,
        ..GatewayOptions::new(vec![Caller::with_token("bench", TOKEN)])
    };
    let gateway = Gateway::new(client, options).expect("a gateway");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a port");
    let address = listener.local_addr().expect("an address");
    tokio::spawn(gateway.serve(listener, std::future::pending()));
    tonic::transport::Endpoint::from_shared(format!("http://{address}"))
        .expect("a url")
        .tcp_nodelay(true)
        .connect()
        .await
        .expect("connected")
}

fn authed<T>(message: T) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    request.metadata_mut().insert("authorization", format!("Bearer {TOKEN}").parse().expect("ascii"));
    request
}

fn proto_sendmsg(to: &str) -> pb::SendMsgRequest {
    pb::SendMsgRequest { to_account: to.to_owned(), msg_body: vec![pb::MsgElement::text(TEXT)], ..Default::default() }
}

fn model_sendmsg(to: &str) -> SendMsgRequest {
    SendMsgRequest::new(UserId::new(to).expect("valid"), MsgBody::text(TEXT))
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index].as_secs_f64() * 1e6
}

fn sendmsg(c: &mut Criterion) {
    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("a runtime");
    let emulator = Emulator::builder(SDKAPPID, SecretKey::new(KEY).expect("a key"), now_unix)
        .auto_create_accounts(true)
        .quotas(QuotaConfig::disabled())
        .build()
        .expect("valid settings");
    let running = runtime
        .block_on(async { emulator.serve(tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a port")) })
        .expect("serving");
    let library = runtime.block_on(async { client(running.base_url()) });
    let channel = runtime.block_on(gateway(client(running.base_url())));
    let grpc = pb::message_service_client::MessageServiceClient::new(channel.clone());
    let health = tonic_health::pb::health_client::HealthClient::new(channel);

    // Percentiles: alternate the two paths so drift on this shared machine hits both alike.
    let (mut via_library, mut via_gateway) = (Vec::new(), Vec::new());
    runtime.block_on(async {
        for i in 0..2_200 {
            let to = format!("user{}", i % 100);
            let started = Instant::now();
            library.call(model_sendmsg(&to)).await.expect("sent");
            let library_took = started.elapsed();
            let started = Instant::now();
            grpc.clone().send_msg(authed(proto_sendmsg(&to))).await.expect("sent");
            let gateway_took = started.elapsed();
            if i >= 200 {
                via_library.push(library_took);
                via_gateway.push(gateway_took);
            }
        }
    });
    via_library.sort();
    via_gateway.sort();
    let (l50, l99) = (percentile(&via_library, 0.5), percentile(&via_library, 0.99));
    let (g50, g99) = (percentile(&via_gateway, 0.5), percentile(&via_gateway, 0.99));
    tim_benches::record_fact("gateway_sendmsg_library_p50_us", l50.round());
    tim_benches::record_fact("gateway_sendmsg_library_p99_us", l99.round());
    tim_benches::record_fact("gateway_sendmsg_gateway_p50_us", g50.round());
    tim_benches::record_fact("gateway_sendmsg_gateway_p99_us", g99.round());
    tim_benches::record_fact("gateway_sendmsg_added_p50_us", (g50 - l50).round());
    tim_benches::record_fact("gateway_sendmsg_added_p99_us", (g99 - l99).round());

    let mut group = c.benchmark_group("gateway/sendmsg");
    group.sample_size(20).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(4));
    group.bench_function("library", |b| {
        b.iter(|| runtime.block_on(async { library.call(model_sendmsg("alice")).await.expect("sent") }))
    });
    group.bench_function("gateway", |b| {
        b.iter(|| {
            runtime.block_on(async { grpc.clone().send_msg(authed(proto_sendmsg("alice"))).await.expect("sent") })
        })
    });
    // The floor: a gRPC round trip to the same server that does no work (the health check).
    group.bench_function("grpc_round_trip", |b| {
        b.iter(|| {
            runtime.block_on(async {
                let request = tonic_health::pb::HealthCheckRequest { service: String::new() };
                health.clone().check(request).await.expect("serving")
            })
        })
    });
    group.finish();
    runtime.block_on(running.shutdown());
}

fn fanout_1m(c: &mut Criterion) {
    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("a runtime");
    let bare = runtime.block_on(tim_benches::bare_server(ANSWER));
    let base = format!("http://{bare}");
    let library = runtime.block_on(async { client(base.clone()) });
    let channel = runtime.block_on(gateway(client(base)));
    let ids: std::sync::Arc<Vec<String>> =
        std::sync::Arc::new((0..RECIPIENTS).map(|i| format!("user{i:08}")).collect());
    let batches: Vec<String> = ids.chunks(LINES_PER_MESSAGE).map(|chunk| chunk.join("\n")).collect();
    let message = BatchSendMsgRequest::new(Vec::new(), MsgBody::text(TEXT));

    let mut group = c.benchmark_group("gateway/fanout_1m");
    group.sampling_mode(SamplingMode::Flat).sample_size(10).measurement_time(Duration::from_secs(20));
    group.throughput(Throughput::Elements(RECIPIENTS as u64));
    group.bench_function("library", |b| {
        b.iter(|| {
            runtime.block_on(async {
                let options = FanoutOptions { concurrency: CONCURRENCY, ..FanoutOptions::default() };
                let fanout = Fanout::new(library.clone(), &message, options).expect("a valid message");
                // A task of the runtime, as the gateway runs it (not on the thread that blocks on the runtime).
                let ids = std::sync::Arc::clone(&ids);
                let report = tokio::spawn(async move { fanout.run(stream::iter(ids.iter())).await }).await;
                assert_eq!(report.expect("the fan-out task").delivered as usize, RECIPIENTS);
            })
        })
    });
    group.bench_function("gateway", |b| {
        b.iter(|| {
            runtime.block_on(async {
                let mut client = pb::fanout_service_client::FanoutServiceClient::new(channel.clone());
                let start = pb::FanoutRequest {
                    kind: Some(pb::fanout_request::Kind::Start(pb::FanoutStart {
                        message: Some(pb::BatchSendMsgRequest {
                            msg_body: vec![pb::MsgElement::text(TEXT)],
                            ..Default::default()
                        }),
                        concurrency: CONCURRENCY as u32,
                        progress_interval_secs: 1,
                        expected_recipients: RECIPIENTS as u64,
                    })),
                };
                let recipients = batches.iter().map(|lines| pb::FanoutRequest {
                    kind: Some(pb::fanout_request::Kind::Recipients(pb::RecipientBatch {
                        lines: lines.clone(),
                        user_ids: Vec::new(),
                    })),
                });
                let input = stream::iter(std::iter::once(start).chain(recipients).collect::<Vec<_>>());
                let mut events = client.fanout(authed(input)).await.expect("started").into_inner();
                let mut delivered = 0;
                while let Some(event) = events.next().await {
                    if let Some(pb::fanout_event::Kind::Report(report)) = event.expect("an event").kind {
                        delivered = report.delivered;
                    }
                }
                assert_eq!(delivered as usize, RECIPIENTS);
            })
        })
    });
    group.finish();
}

criterion_group!(benches, sendmsg, fanout_1m);
criterion_main!(benches);
