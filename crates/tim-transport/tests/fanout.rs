//! A fan-out of 100,000 recipients against a mock service that injects transient failures — whole calls refused
//! with transient codes, HTTP 502 after the message was stored ("stored, but the response was lost"), and
//! recipients listed in `ErrorList` with transient codes — accounts for every recipient exactly once, delivers
//! nobody twice, and only ever re-sends byte-identical bodies under the same `MsgRandom`.

use futures_util::stream;
use rand::{Rng, SeedableRng};
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::Duration;
use tim_model::c2c::BatchSendMsgRequest;
use tim_model::{MsgBody, UserId};
use tim_sig::SecretKey;
use tim_transport::fanout::Settled;
use tim_transport::retry::RetryPolicy;
use tim_transport::{Client, ClientConfig, Endpoint, Fanout, FanoutOptions};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const RECIPIENTS: usize = 100_000;

/// Which recipients do not exist (a permanent failure).
fn missing(id: &str) -> bool {
    id.ends_with("37")
}

#[derive(Default)]
struct State {
    rng: Option<rand::rngs::StdRng>,
    /// Every body seen, by MsgRandom.
    bodies: HashMap<u64, Vec<u8>>,
    /// The answer given when each MsgRandom's recipients were stored (the service's deduplication replays it).
    stored: HashMap<u64, Value>,
    /// How often each recipient was stored.
    deliveries: HashMap<String, u32>,
    /// Recipients refused once with a transient code: never again, so that whether a recipient recovers does not
    /// depend on how the concurrent chunks happen to interleave with the seeded rolls.
    refused_once: HashSet<String>,
    resends: u32,
    lost: u32,
}

struct FlakyService(Mutex<State>);

impl Respond for FlakyService {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let body: Value = serde_json::from_slice(&request.body).expect("the client sends JSON");
        let random = body["MsgRandom"].as_u64().expect("every chunk carries a MsgRandom");
        let to: Vec<String> =
            body["To_Account"].as_array().expect("recipients").iter().map(|v| v.as_str().unwrap().to_owned()).collect();
        let mut state = self.0.lock().unwrap();
        if let Some(previous) = state.bodies.insert(random, request.body.clone()) {
            assert_eq!(previous, request.body, "a retry under MsgRandom {random} changed the body");
            state.resends += 1;
        }
        let roll: f64 = state.rng.as_mut().unwrap().random();
        if roll < 0.05 {
            // Refused before storing, with a transient code.
            return ResponseTemplate::new(200)
                .set_body_string(r#"{"ActionStatus":"FAIL","ErrorCode":70169,"ErrorInfo":"server timeout"}"#);
        }
        if let Some(first) = state.stored.get(&random) {
            // A duplicate the service drops, answering as it did the first time.
            return ResponseTemplate::new(200).set_body_json(first.clone());
        }
        let mut error_list = Vec::new();
        {
            for id in &to {
                let transient =
                    state.rng.as_mut().unwrap().random::<f64>() < 0.02 && state.refused_once.insert(id.clone());
                if missing(id) {
                    error_list.push(serde_json::json!({"To_Account": id, "ErrorCode": 70107}));
                } else if transient {
                    error_list.push(serde_json::json!({"To_Account": id, "ErrorCode": 91000}));
                } else {
                    *state.deliveries.entry(id.clone()).or_default() += 1;
                }
            }
        }
        let status = if error_list.is_empty() { "OK" } else { "SomeError" };
        let answer = serde_json::json!({"ActionStatus": status, "ErrorCode": 0, "ErrorInfo": "", "MsgKey": format!("1_{random}_1"), "ErrorList": error_list});
        state.stored.insert(random, answer.clone());
        if roll < 0.10 {
            // Stored, but the answer is lost on the way back.
            state.lost += 1;
            return ResponseTemplate::new(502).set_body_string("bad gateway");
        }
        ResponseTemplate::new(200).set_body_json(answer)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_recipient_is_accounted_for_once_and_nobody_gets_the_message_twice() {
    let server = MockServer::start().await;
    let service =
        FlakyService(Mutex::new(State { rng: Some(rand::rngs::StdRng::seed_from_u64(7)), ..State::default() }));
    let shared = std::sync::Arc::new(service);
    Mock::given(method("POST"))
        .and(path("/v4/openim/batchsendmsg"))
        .respond_with(SharedResponder(shared.clone()))
        .mount(&server)
        .await;

    let mut config = ClientConfig::new(Endpoint::BaseUrl(server.uri()));
    config.pacing = false;
    config.retry = RetryPolicy {
        initial_backoff: Duration::from_millis(5),
        max_backoff: Duration::from_millis(20),
        budget_max: 1e9,
        ..RetryPolicy::default()
    };
    let client = Client::new(1_400_000_000, "administrator", SecretKey::new("test-key").unwrap(), config).unwrap();
    let message = BatchSendMsgRequest::new(Vec::new(), MsgBody::text("Your order has shipped"));
    // This service keeps no history: unknown outcomes stay unknown (resolving them is tested on the emulator).
    let options = FanoutOptions { resolve_unknown: false, ..FanoutOptions::default() };
    let fanout = Fanout::new(client, &message, options).unwrap();
    let progress = fanout.progress();

    let mut input: Vec<String> = (0..RECIPIENTS).map(|i| format!("user{i:06}")).collect();
    input.extend(["user000001".to_owned(), "user000002".to_owned()]); // duplicates
    input.push(String::new()); // a blank line: read, and reported as invalid
    input.push("x".repeat(33)); // invalid UserID
    let report = fanout.run(stream::iter(input)).await;

    let state = shared.0.lock().unwrap();
    let failed: HashSet<&str> = report.failures.iter().map(|f| f.user_id.as_str()).collect();
    assert_eq!(report.read as usize, RECIPIENTS + 4);
    assert_eq!(report.invalid, 2, "the blank line and the 33-byte UserID");
    let counted = report.delivered + report.failed + report.outcome_unknown + report.invalid + report.duplicate_lines;
    assert_eq!(counted, report.read, "the counts add up to the lines read");
    assert_eq!(report.failed, report.failed_by_code.values().sum::<u64>(), "unknown outcomes are not failures by code");
    assert_eq!(report.duplicates, ["user000001", "user000002"]);
    assert_eq!(report.delivered as usize + report.failures.len() + report.duplicates.len(), report.read as usize);
    assert_eq!(failed.len(), report.failures.len(), "a recipient is listed twice among failures");
    // Nobody stored twice; every recipient reported delivered is stored; a stored recipient reported failed is
    // one whose outcome was unknown (stored, the answer lost, and the retry would have left outside the same
    // calendar second as the first attempt, so it was not sent).
    assert!(state.deliveries.values().all(|&count| count == 1), "a recipient got the message twice");
    let unknown: HashSet<&str> =
        report.failures.iter().filter(|f| f.outcome_unknown).map(|f| f.user_id.as_str()).collect();
    for id in (0..RECIPIENTS).map(|i| format!("user{i:06}")) {
        let stored = state.deliveries.contains_key(&id);
        if failed.contains(id.as_str()) {
            assert!(!stored || unknown.contains(id.as_str()), "{id}: stored but reported failed with a known outcome");
        } else {
            assert!(stored, "{id}: reported delivered but not stored");
        }
    }
    // Permanent failures carry their code; every transient failure recovered or ended with an unknown outcome.
    for failure in &report.failures {
        match failure.code {
            _ if failure.outcome_unknown => {}
            Some(70107) => assert!(missing(&failure.user_id)),
            None if failure.line == Some(RECIPIENTS as u64 + 3) => assert_eq!(failure.reason, "empty line"),
            None => assert_eq!(failure.user_id, "x".repeat(33)),
            other => panic!("unexpected failure {other:?} for {}", failure.user_id),
        }
    }
    // Every unknown account failed: with its code, or with an unknown outcome when its chunk's answer was lost.
    let missing_failed = report.failures.iter().filter(|f| missing(&f.user_id)).count();
    assert_eq!(missing_failed, RECIPIENTS / 100);
    let with_code = report.failed_by_code.get(&70107).copied().unwrap_or(0) as usize;
    assert!(
        with_code <= missing_failed && with_code >= missing_failed / 2,
        "{with_code} of {missing_failed} with 70107"
    );
    assert!(
        state.resends > 0 && state.lost > 0,
        "the faults were exercised: {} resends, {} lost",
        state.resends,
        state.lost
    );
    let last = progress.borrow().clone();
    assert_eq!(last.pending, 0);
    assert_eq!(last.delivered, report.delivered);
}

/// Lets the test keep a handle on the responder's state.
struct SharedResponder<R>(std::sync::Arc<R>);

impl<R: Respond> Respond for SharedResponder<R> {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        self.0.respond(request)
    }
}

/// Answers OK, but only once the test lets it: it says when a request has arrived and holds it until released.
struct Gate {
    arrived: tokio::sync::mpsc::UnboundedSender<()>,
    release: Mutex<std::sync::mpsc::Receiver<()>>,
}

impl Respond for Gate {
    fn respond(&self, _request: &Request) -> ResponseTemplate {
        let _ = self.arrived.send(());
        let _ = self.release.lock().unwrap().recv();
        ResponseTemplate::new(200).set_body_string(r#"{"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":""}"#)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelling_reports_what_was_not_sent() {
    // Explicit release points, no sleeps: the cancellation comes while the first chunk is held at the service.
    let server = MockServer::start().await;
    let (arrived, mut arrivals) = tokio::sync::mpsc::unbounded_channel();
    let (release, released) = std::sync::mpsc::channel();
    Mock::given(method("POST")).respond_with(Gate { arrived, release: Mutex::new(released) }).mount(&server).await;
    let mut config = ClientConfig::new(Endpoint::BaseUrl(server.uri()));
    config.pacing = false;
    let client = Client::new(1_400_000_000, "administrator", SecretKey::new("test-key").unwrap(), config).unwrap();
    let message = BatchSendMsgRequest::new(Vec::new(), MsgBody::text("hi"));
    let fanout = Fanout::new(client, &message, FanoutOptions { concurrency: 1, ..FanoutOptions::default() }).unwrap();
    let cancel = fanout.cancel_handle();
    let ids: Vec<String> = (0..5_000).map(|i| format!("u{i}")).collect();
    let running = tokio::spawn(fanout.run(stream::iter(ids)));
    arrivals.recv().await.expect("the first chunk reaches the service");
    cancel.cancel();
    release.send(()).unwrap();
    let report = running.await.unwrap();
    assert!(arrivals.try_recv().is_err(), "no chunk was sent after the cancellation");
    assert!(report.cancelled);
    // The chunk in flight finished; the next one was read but not sent; the rest was never read.
    assert_eq!(report.delivered, 500);
    assert!(report.failures.iter().all(|f| f.reason.contains("cancelled")));
    assert_eq!(report.delivered as usize + report.failures.len(), report.read as usize);
    assert!(report.read < 5_000);
    let _ = UserId::new("unused");
}

/// Records who was sent what, and answers OK.
#[derive(Default)]
struct Recorder(Mutex<(HashMap<String, u32>, Vec<usize>)>);

impl Respond for Recorder {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let body: Value = serde_json::from_slice(&request.body).expect("the client sends JSON");
        let to = body["To_Account"].as_array().expect("recipients");
        let mut state = self.0.lock().unwrap();
        for id in to {
            *state.0.entry(id.as_str().unwrap().to_owned()).or_default() += 1;
        }
        state.1.push(to.len());
        ResponseTemplate::new(200)
            .set_body_string(r#"{"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":"","MsgKey":"1_2_3"}"#)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn small_chunks_from_an_input_that_pauses_are_each_sent_once() {
    // Chunks of 3 finish several times within one batch of input lines, and the input is often not ready.
    let options = FanoutOptions { concurrency: 4, max_recipients: 3, ..FanoutOptions::default() };
    let (fanout, recorder, _server) = recorder_fanout(options).await;

    let mut input: Vec<String> = (0..1_000).map(|i| format!("u{i}\n")).collect();
    input.insert(500, "u7\r\n".to_owned()); // a duplicate, with another line ending
    input.insert(100, "\n".to_owned()); // a blank line
    let paced = futures_util::StreamExt::then(stream::iter(input.into_iter().enumerate()), |(i, line)| async move {
        if i % 7 == 0 {
            tokio::task::yield_now().await;
        }
        line
    });
    let report = fanout.run(Box::pin(paced)).await;

    assert_eq!((report.read, report.delivered), (1_002, 1_000));
    assert_eq!(report.duplicates, ["u7"]);
    assert_eq!(report.failures.len(), 1, "{:?}", report.failures);
    assert_eq!((report.failures[0].line, report.failures[0].reason.as_str()), (Some(101), "empty line"));
    assert_eq!(report.chunks, 334, "1,000 recipients in chunks of 3");
    let state = recorder.0.lock().unwrap();
    assert_eq!(state.0.len(), 1_000);
    assert!(state.0.values().all(|&count| count == 1), "a recipient was sent the message twice");
    assert!(state.1.iter().all(|&len| (1..=3).contains(&len)));
}

/// A fan-out of "hi" to a service that records who was sent what and answers OK; unpaced unless `configure` says.
async fn recorder_fanout_with(
    options: FanoutOptions,
    configure: impl FnOnce(&mut ClientConfig),
) -> (Fanout, std::sync::Arc<Recorder>, MockServer) {
    let server = MockServer::start().await;
    let recorder = std::sync::Arc::new(Recorder::default());
    Mock::given(method("POST")).respond_with(SharedResponder(recorder.clone())).mount(&server).await;
    let mut config = ClientConfig::new(Endpoint::BaseUrl(server.uri()));
    config.pacing = false;
    configure(&mut config);
    let client = Client::new(1_400_000_000, "administrator", SecretKey::new("test-key").unwrap(), config).unwrap();
    let message = BatchSendMsgRequest::new(Vec::new(), MsgBody::text("hi"));
    (Fanout::new(client, &message, options).unwrap(), recorder, server)
}

async fn recorder_fanout(options: FanoutOptions) -> (Fanout, std::sync::Arc<Recorder>, MockServer) {
    recorder_fanout_with(options, |_| {}).await
}

#[tokio::test]
async fn a_line_that_is_not_utf8_is_reported_and_the_lines_after_it_are_sent() {
    let (fanout, recorder, _server) = recorder_fanout(FanoutOptions::default()).await;
    let mut input: Vec<Vec<u8>> = (1..=5).map(|i| format!("v{i}").into_bytes()).collect();
    input.push(b"bad\xff\xfe".to_vec());
    input.extend((1..=5).map(|i| format!("w{i}\r").into_bytes()));
    let report = fanout.run(stream::iter(input)).await;
    assert_eq!((report.read, report.delivered, report.invalid), (11, 10, 1));
    let bad = &report.failures[0];
    assert_eq!((bad.line, bad.reason.as_str(), bad.status), (Some(6), "not UTF-8", Settled::Invalid));
    assert_eq!(bad.user_id, "bad\u{fffd}\u{fffd}");
    let sent = recorder.0.lock().unwrap();
    for id in ["v1", "v5", "w1", "w5"] {
        assert_eq!(sent.0.get(id), Some(&1), "{id} sent once");
    }
}

#[tokio::test]
async fn settled_entries_stream_out_while_the_fan_out_runs_and_the_report_keeps_only_counts() {
    let (mut fanout, _recorder, _server) = recorder_fanout(FanoutOptions::default()).await;
    let mut settled = fanout.stream_settled(1);
    // 5,000 invalid lines and 5,000 duplicates around 100 good ones: far more than one batch.
    let mut input: Vec<String> = (0..100).map(|i| format!("ok{i}")).collect();
    input.extend((0..5_000).map(|i| format!("{i:0>40}")));
    input.extend((0..5_000).map(|i| format!("ok{}", i % 100)));
    let run = tokio::spawn(fanout.run(stream::iter(input)));
    let mut received = Vec::new();
    let mut batches = 0;
    while let Some(batch) = settled.recv().await {
        assert!(batch.len() <= tim_transport::fanout::SETTLED_BATCH);
        batches += 1;
        received.extend(batch);
        // A slow reader: the engine waits for it instead of piling entries up.
        tokio::task::yield_now().await;
    }
    let report = run.await.unwrap();
    assert!(report.failures.is_empty() && report.duplicates.is_empty(), "streamed, not kept");
    assert_eq!((report.read, report.delivered, report.invalid, report.duplicate_lines), (10_100, 100, 5_000, 5_000));
    assert_eq!(received.len(), 10_000);
    assert!(batches >= 10_000 / tim_transport::fanout::SETTLED_BATCH);
    let lines: HashSet<u64> = received.iter().filter_map(|f| f.line).collect();
    assert_eq!(lines.len(), 10_000, "every settled line once, with its number");
    assert!(received.iter().all(|f| f.line.is_some_and(|line| line > 100)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_fan_out_does_not_wait_for_the_quota_of_chunks_that_never_left() {
    // 60 recipients a minute: the first chunk of 500 leaves at once, the second would wait minutes for its quota.
    let (fanout, recorder, _server) = recorder_fanout_with(FanoutOptions::default(), |config| {
        config.pacing = true;
        config.quota_overrides =
            tim_transport::config::quota_overrides([], Some(60)).expect("a recipients-per-minute quota");
    })
    .await;
    let (cancel, mut progress) = (fanout.cancel_handle(), fanout.progress());
    let running = tokio::spawn(fanout.run(stream::iter((0..1_000).map(|i| format!("q{i}")))));
    progress.wait_for(|now| now.delivered == 500).await.unwrap();
    cancel.cancel();
    let report = running.await.unwrap();
    assert!(report.cancelled);
    assert_eq!((report.delivered, report.failed, report.outcome_unknown), (500, 500, 0));
    assert!(report.failures.iter().all(|f| f.reason.contains("cancelled") && !f.outcome_unknown));
    assert_eq!(recorder.0.lock().unwrap().1.len(), 1, "only the first chunk was sent");
}
