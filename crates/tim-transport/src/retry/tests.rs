//! Exact retry schedules, with tokio's paused clock and scripted attempts: nothing really sleeps.

use super::*;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tim_model::command::CommandId;

fn policy() -> RetryPolicy {
    RetryPolicy { jitter: false, ..RetryPolicy::default() }
}

/// A script of attempt outcomes, each taking `took` of (paused) time; records when each attempt started and
/// whether it asked for a fresh UserSig.
struct Script {
    outcomes: Mutex<Vec<Attempt>>,
    took: Duration,
    log: Mutex<Vec<(Duration, bool)>>,
    start: Instant,
}

impl Script {
    fn new(mut outcomes: Vec<Attempt>, took: Duration) -> Arc<Self> {
        outcomes.reverse();
        Arc::new(Self { outcomes: Mutex::new(outcomes), took, log: Mutex::new(Vec::new()), start: Instant::now() })
    }

    fn times(&self) -> Vec<Duration> {
        self.log.lock().unwrap().iter().map(|(at, _)| *at).collect()
    }

    fn refreshes(&self) -> Vec<bool> {
        self.log.lock().unwrap().iter().map(|(_, refresh)| *refresh).collect()
    }
}

fn ok() -> Attempt {
    Attempt::Answered {
        status: 200,
        body: Bytes::from_static(br#"{"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":""}"#),
    }
}

fn code(code: i64) -> Attempt {
    let body = format!(r#"{{"ActionStatus":"FAIL","ErrorCode":{code},"ErrorInfo":"scripted"}}"#);
    Attempt::Answered { status: 200, body: Bytes::from(body) }
}

async fn run(
    command: CommandId,
    policy: &RetryPolicy,
    budget: &RetryBudget,
    pacer: &Pacer,
    script: &Arc<Script>,
) -> Result<Bytes, Error> {
    // A wall clock that follows tokio's (paused) clock from the script's start, exactly at a second boundary.
    let start = script.start;
    let wall_ms = move || {
        1_700_000_000_000 + u64::try_from(Instant::now().saturating_duration_since(start).as_millis()).unwrap_or(0)
    };
    let op = Operation {
        command: command.command(),
        policy,
        budget,
        pacer,
        recipients: 0,
        deadline: Instant::now() + Duration::from_secs(60),
        stats: &super::Counters::default(),
        wall_ms: &wall_ms,
    };
    execute(op, |refresh| {
        let script = Arc::clone(script);
        async move {
            script.log.lock().unwrap().push((script.start.elapsed(), refresh));
            tokio::time::sleep(script.took).await;
            script.outcomes.lock().unwrap().pop().expect("the script has an outcome for every attempt")
        }
    })
    .await
}

fn ms(values: &[u64]) -> Vec<Duration> {
    values.iter().map(|v| Duration::from_millis(*v)).collect()
}

#[test]
fn backoff_doubles_from_the_initial_value_up_to_the_cap() {
    let policy = policy();
    let schedule: Vec<Duration> = (1..=7).map(|retry| policy.backoff(retry)).collect();
    assert_eq!(schedule, ms(&[100, 200, 400, 800, 1600, 2000, 2000]));
    assert_eq!(policy.backoff(u32::MAX), Duration::from_secs(2));
    let jittered = RetryPolicy::default();
    for _ in 0..100 {
        let wait = jittered.jittered(Duration::from_millis(400));
        assert!(wait >= Duration::from_millis(200) && wait <= Duration::from_millis(400), "{wait:?}");
    }
}

#[tokio::test(start_paused = true)]
async fn connection_failures_are_retried_on_the_exact_schedule() {
    let (policy, pacer) = (policy(), Pacer::unlimited());
    let budget = RetryBudget::new(&policy);
    let failed = || Attempt::ConnectFailed("refused".into());
    let script = Script::new(vec![failed(), failed(), failed(), ok()], Duration::ZERO);
    // Even an unsafe command is retried: the request never left.
    let result = run(CommandId::SendGroupSystemNotification, &policy, &budget, &pacer, &script).await;
    assert!(result.is_ok());
    assert_eq!(script.times(), ms(&[0, 100, 300, 700]));
}

#[tokio::test(start_paused = true)]
async fn attempts_are_bounded_and_the_last_error_is_reported() {
    let (policy, pacer) = (policy(), Pacer::unlimited());
    let budget = RetryBudget::new(&policy);
    let bad_gateway = || Attempt::Answered { status: 502, body: Bytes::from_static(b"<html>bad gateway</html>") };
    let script = Script::new(vec![bad_gateway(), bad_gateway(), bad_gateway(), bad_gateway()], Duration::ZERO);
    let error = run(CommandId::GetGroupInfo, &policy, &budget, &pacer, &script).await.unwrap_err();
    assert!(matches!(&error, Error::NoResponse { attempts: 4, detail, .. } if detail == "HTTP 502"), "{error:?}");
    assert_eq!(script.times(), ms(&[0, 100, 300, 700]));
}

#[tokio::test(start_paused = true)]
async fn a_send_is_retried_only_inside_its_one_second_dedupe_window() {
    let (policy, pacer) = (policy(), Pacer::unlimited());
    let budget = RetryBudget::new(&policy);
    // Each attempt times out after 400 ms: retries leave at 500 ms and 1100 ms; the second is past the window.
    let script = Script::new(vec![Attempt::TimedOut, Attempt::TimedOut, ok()], Duration::from_millis(400));
    let error = run(CommandId::SendMsg, &policy, &budget, &pacer, &script).await.unwrap_err();
    assert!(error.is_outcome_unknown(), "{error:?}");
    assert!(
        matches!(&error, Error::OutcomeUnknown { last, .. } if matches!(**last, Error::TimedOut { attempts: 2, .. }))
    );
    assert_eq!(script.times(), ms(&[0, 500]));
}

#[tokio::test(start_paused = true)]
async fn an_unsafe_command_that_may_have_acted_is_never_retried() {
    let (policy, pacer) = (policy(), Pacer::unlimited());
    let budget = RetryBudget::new(&policy);
    let script = Script::new(vec![Attempt::Broken("connection reset".into()), ok()], Duration::ZERO);
    let error = run(CommandId::SendGroupSystemNotification, &policy, &budget, &pacer, &script).await.unwrap_err();
    assert!(error.is_outcome_unknown(), "{error:?}");
    assert_eq!(script.times(), ms(&[0]));
}

#[tokio::test(start_paused = true)]
async fn transient_codes_are_retried_while_safe_and_permanent_codes_are_not() {
    let (policy, pacer) = (policy(), Pacer::unlimited());
    let budget = RetryBudget::new(&policy);
    let script = Script::new(vec![code(91000), code(70169), ok()], Duration::ZERO);
    assert!(run(CommandId::SendGroupMsg, &policy, &budget, &pacer, &script).await.is_ok());
    assert_eq!(script.times(), ms(&[0, 100, 300]));

    let script = Script::new(vec![code(70107)], Duration::ZERO);
    let error = run(CommandId::SendMsg, &policy, &budget, &pacer, &script).await.unwrap_err();
    assert_eq!(error.service_code(), Some(70107));
    assert!(matches!(error, Error::Refused { class: RetryClass::Permanent, .. }));
}

#[tokio::test(start_paused = true)]
async fn a_refused_usersig_is_regenerated_once() {
    let (policy, pacer) = (policy(), Pacer::unlimited());
    let budget = RetryBudget::new(&policy);
    let script = Script::new(vec![code(70001), ok()], Duration::ZERO);
    assert!(run(CommandId::SendMsg, &policy, &budget, &pacer, &script).await.is_ok());
    assert_eq!(script.refreshes(), [false, true]);
    assert_eq!(script.times(), ms(&[0, 0]));

    let script = Script::new(vec![code(70003), code(70003)], Duration::ZERO);
    let error = run(CommandId::SendMsg, &policy, &budget, &pacer, &script).await.unwrap_err();
    assert_eq!(error.service_code(), Some(70003));
    assert_eq!(script.refreshes(), [false, true]);
}

#[tokio::test(start_paused = true)]
async fn a_rate_limit_answer_holds_the_command_back_then_retries() {
    let policy = policy();
    let budget = RetryBudget::new(&policy);
    let pacer = Pacer::new(&HashMap::new());
    let script = Script::new(vec![code(60007), ok()], Duration::ZERO);
    // A rate-limited request did not act, so even an unsafe command is retried.
    assert!(run(CommandId::SendGroupSystemNotification, &policy, &budget, &pacer, &script).await.is_ok());
    assert_eq!(script.times(), ms(&[0, 1000]));
}

#[tokio::test(start_paused = true)]
async fn without_pacing_a_rate_limit_answer_still_waits_before_the_retry() {
    let (policy, pacer) = (policy(), Pacer::unlimited());
    let budget = RetryBudget::new(&policy);
    let script = Script::new(vec![code(60007), code(60007), ok()], Duration::ZERO);
    assert!(run(CommandId::SendMsg, &policy, &budget, &pacer, &script).await.is_ok());
    assert_eq!(script.times(), ms(&[0, 1000, 2000]));
}

#[tokio::test(start_paused = true)]
async fn already_done_is_success() {
    let (policy, pacer) = (policy(), Pacer::unlimited());
    let budget = RetryBudget::new(&policy);
    let script = Script::new(vec![code(20023)], Duration::ZERO);
    assert!(run(CommandId::AdminMsgWithdraw, &policy, &budget, &pacer, &script).await.is_ok());
}

#[tokio::test(start_paused = true)]
async fn the_retry_budget_stops_retries_when_the_service_keeps_failing() {
    let policy = RetryPolicy { budget_max: 2.0, budget_per_success: 0.5, ..policy() };
    let budget = RetryBudget::new(&policy);
    let pacer = Pacer::unlimited();
    let failed = || Attempt::ConnectFailed("refused".into());
    let script = Script::new(vec![failed(), failed(), failed()], Duration::ZERO);
    let error = run(CommandId::GetGroupInfo, &policy, &budget, &pacer, &script).await.unwrap_err();
    assert!(matches!(error, Error::Connect { attempts: 3, .. }), "{error:?}");
    // The budget is spent: the next failing operation gets no retry, until successes earn tokens back.
    let script = Script::new(vec![failed()], Duration::ZERO);
    assert!(matches!(
        run(CommandId::GetGroupInfo, &policy, &budget, &pacer, &script).await,
        Err(Error::Connect { attempts: 1, .. })
    ));
    for _ in 0..2 {
        let script = Script::new(vec![ok()], Duration::ZERO);
        assert!(run(CommandId::GetGroupInfo, &policy, &budget, &pacer, &script).await.is_ok());
    }
    let script = Script::new(vec![failed(), ok()], Duration::ZERO);
    assert!(run(CommandId::GetGroupInfo, &policy, &budget, &pacer, &script).await.is_ok());
}

#[tokio::test(start_paused = true)]
async fn answers_that_are_not_the_services_json_keep_their_body() {
    let (policy, pacer) = (policy(), Pacer::unlimited());
    let budget = RetryBudget::new(&policy);
    let script =
        Script::new(vec![Attempt::Answered { status: 200, body: Bytes::from_static(b"not json") }], Duration::ZERO);
    let error = run(CommandId::SendMsg, &policy, &budget, &pacer, &script).await.unwrap_err();
    assert!(matches!(&error, Error::Unreadable { status: 200, raw, .. } if raw.as_ref() == b"not json"), "{error:?}");
    let script =
        Script::new(vec![Attempt::Answered { status: 404, body: Bytes::from_static(b"nope") }], Duration::ZERO);
    assert!(matches!(
        run(CommandId::SendMsg, &policy, &budget, &pacer, &script).await,
        Err(Error::Unreadable { status: 404, .. })
    ));
}
