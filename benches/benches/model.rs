//! Benchmarks of the wire model: serializing a 500-recipient batchsendmsg request (the fan-out hot path),
//! against the same document held as a `serde_json::Value` (the untyped baseline), measured in the same run.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use std::time::Duration;
use tim_model::c2c::BatchSendMsgRequest;
use tim_model::push::OfflinePushInfo;
use tim_model::validate::Validate;
use tim_model::{MsgBody, UserId};

/// A realistic batch: 500 twelve-byte UserIDs, a 120-character text and offline-push settings.
fn batch_request() -> BatchSendMsgRequest {
    let ids = (0..500).map(|i| UserId::new(format!("user{i:08}")).expect("valid id")).collect();
    let mut request = BatchSendMsgRequest::new(
        ids,
        MsgBody::text(
            "Your order #20261121-0042 has shipped and will arrive tomorrow between 9:00 and 12:00. Track it in the app..",
        ),
    );
    request.from_account = Some(UserId::new("notifier").expect("valid id"));
    request.msg_random = Some(3_141_592_653);
    request.msg_life_time = Some(86_400);
    request.offline_push_info =
        Some(OfflinePushInfo { desc: Some("Your order has shipped".into()), ..OfflinePushInfo::default() });
    request
}

fn serialize(c: &mut Criterion) {
    let request = batch_request();
    let bytes = serde_json::to_vec(&request).expect("encodes");
    let as_value = serde_json::to_value(&request).expect("encodes");
    assert_eq!(serde_json::to_vec(&as_value).expect("encodes").len(), bytes.len(), "same document both ways");
    tim_benches::record_fact("model_batchsendmsg_500_bytes", bytes.len());

    let mut group = c.benchmark_group("model/serialize_batchsendmsg_500");
    group.measurement_time(Duration::from_secs(3));
    group.throughput(Throughput::Elements(500));
    group.bench_function(BenchmarkId::from_parameter("typed"), |b| {
        let mut out = Vec::with_capacity(bytes.len());
        b.iter(|| {
            out.clear();
            serde_json::to_writer(&mut out, black_box(&request)).expect("encodes");
            black_box(out.len())
        })
    });
    group.bench_function(BenchmarkId::from_parameter("json_value"), |b| {
        let mut out = Vec::with_capacity(bytes.len());
        b.iter(|| {
            out.clear();
            serde_json::to_writer(&mut out, black_box(&as_value)).expect("encodes");
            black_box(out.len())
        })
    });
    group.finish();

    let mut group = c.benchmark_group("model/validate_batchsendmsg_500");
    group.measurement_time(Duration::from_secs(3));
    group.throughput(Throughput::Elements(500));
    group.bench_function("validate", |b| b.iter(|| black_box(&request).validate().expect("valid")));
    group.finish();
}

criterion_group!(benches, serialize);
criterion_main!(benches);
