//! Exact retry schedules, with tokio's paused clock and scripted attempts: nothing really sleeps.

use super::*;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tim_model::command::CommandId;

fn policy() -> RetryPolicy {
    RetryPolicy { jitter: false, ..RetryPolicy::default() }
}

/// A script of attempt outcomes, each taking `took` of (paused) time; records when each attempt started, whether
/// it asked for a fresh UserSig, and whether its body left. A body leaves `leave_after` into the attempt (the time a
/// connection takes to be set up), or as `leaving` says for each attempt; a body refused by its departure gate ends the attempt as a broken connection,
/// which is what the HTTP client reports.
struct Script {
    outcomes: Mutex<Vec<Attempt>>,
    took: Duration,
    leave_after: Duration,
    leaving: Mutex<Vec<Duration>>,
    log: Mutex<Vec<(Duration, bool)>>,
    left: Mutex<Vec<bool>>,
    start: Instant,
}

impl Script {
    fn new(outcomes: Vec<Attempt>, took: Duration) -> Arc<Self> {
        Self::leaving_after(outcomes, took, Duration::ZERO)
    }

    fn leaving_after(mut outcomes: Vec<Attempt>, took: Duration, leave_after: Duration) -> Arc<Self> {
        outcomes.reverse();
        Arc::new(Self {
            outcomes: Mutex::new(outcomes),
            took,
            leave_after,
            leaving: Mutex::new(Vec::new()),
            log: Mutex::new(Vec::new()),
            left: Mutex::new(Vec::new()),
            start: Instant::now(),
        })
    }

    /// Sets how long each attempt takes to leave, in order.
    fn leaving(self: Arc<Self>, mut each: Vec<Duration>) -> Arc<Self> {
        each.reverse();
        *self.leaving.lock().unwrap() = each;
        self
    }

    fn left(&self) -> Vec<bool> {
        self.left.lock().unwrap().clone()
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
    let wall: WallClock = Arc::new(move || {
        1_700_000_000_000 + u64::try_from(Instant::now().saturating_duration_since(start).as_millis()).unwrap_or(0)
    });
    let op = Operation {
        command: command.command(),
        policy,
        budget,
        pacer,
        recipients: 0,
        deadline: Instant::now() + Duration::from_secs(60),
        stats: &super::Counters::default(),
        wall: &wall,
        cancel: None,
        fence: None,
    };
    execute(op, |refresh, departure| {
        let script = Arc::clone(script);
        async move {
            script.log.lock().unwrap().push((script.start.elapsed(), refresh));
            let leave_after = script.leaving.lock().unwrap().pop().unwrap_or(script.leave_after);
            tokio::time::sleep(leave_after).await;
            let left = departure.depart();
            script.left.lock().unwrap().push(left);
            let outcome = script.outcomes.lock().unwrap().pop().expect("the script has an outcome for every attempt");
            if !left {
                return Attempt::Broken("error from the request body".into());
            }
            tokio::time::sleep(script.took).await;
            outcome
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
async fn a_retry_the_quota_would_hold_past_the_window_is_not_sent() {
    // One sendmsg a second: the first retry borrows the next second's call and leaves at once; the second retry
    // would have to wait for a whole interval, past the first attempt's second, so it is not sent.
    let policy = policy();
    let budget = RetryBudget::new(&policy);
    let pacer = Pacer::new(&HashMap::from([(CommandId::SendMsg, tim_model::command::per_second(1))]));
    let script = Script::new(vec![Attempt::TimedOut, Attempt::TimedOut, ok()], Duration::ZERO);
    let error = run(CommandId::SendMsg, &policy, &budget, &pacer, &script).await.unwrap_err();
    assert!(matches!(&error, Error::OutcomeUnknown { why, .. } if why.contains("quota")), "{error:?}");
    assert_eq!(script.times(), ms(&[0, 100]));
}

#[tokio::test(start_paused = true)]
async fn a_retry_whose_bytes_would_leave_after_the_window_stays_unsent() {
    // Every attempt's connection takes 450 ms before the body is asked for: the first leaves at 450 ms, the retry
    // is decided at 550 ms but its bytes would leave at 1000 ms, in the next second. The gate keeps them back.
    let (policy, pacer) = (policy(), Pacer::unlimited());
    let budget = RetryBudget::new(&policy);
    let script = Script::leaving_after(vec![Attempt::TimedOut, ok()], Duration::ZERO, Duration::from_millis(450));
    let error = run(CommandId::SendMsg, &policy, &budget, &pacer, &script).await.unwrap_err();
    assert!(matches!(&error, Error::OutcomeUnknown { why, .. } if why.contains("could leave")), "{error:?}");
    assert_eq!(script.times(), ms(&[0, 550]));
    assert_eq!(script.left(), [true, false], "the retry's body never left");
}

#[tokio::test(start_paused = true)]
async fn the_window_counts_from_when_the_first_attempt_actually_left() {
    // The first attempt is refused for its rate (it did not act); the second starts at 800 ms, in second 0, but
    // its connection takes 300 ms, so its bytes leave at 1,100 ms, in second 1, and it times out. Its window is
    // second 1, so the retry at 1,300 ms is inside it (dated from the start, second 0, it would not have been).
    let policy = RetryPolicy { rate_limited_backoff: Duration::from_millis(800), ..policy() };
    let (budget, pacer) = (RetryBudget::new(&policy), Pacer::unlimited());
    let outcomes = vec![code(60007), Attempt::TimedOut, ok()];
    let script = Script::new(outcomes, Duration::ZERO).leaving(vec![Duration::ZERO, Duration::from_millis(300)]);
    let result = run(CommandId::SendMsg, &policy, &budget, &pacer, &script).await;
    assert!(result.is_ok(), "{result:?}");
    assert_eq!(script.times(), ms(&[0, 800, 1_300]));
    assert_eq!(script.left(), [true, true, true]);
}

#[tokio::test(start_paused = true)]
async fn once_an_attempt_may_have_acted_no_later_failure_proves_it_did_not() {
    let (policy, pacer) = (policy(), Pacer::unlimited());
    let budget = RetryBudget::new(&policy);
    let script = Script::new(vec![Attempt::TimedOut, code(70107)], Duration::ZERO);
    let error = run(CommandId::SendMsg, &policy, &budget, &pacer, &script).await.unwrap_err();
    assert!(matches!(&error, Error::OutcomeUnknown { last, .. } if last.service_code() == Some(70107)), "{error:?}");
    // Running out of attempts on a transient code after a maybe-applied attempt is unknown too.
    let policy = RetryPolicy { max_attempts: 2, ..policy };
    let script = Script::new(vec![code(70169), code(70169)], Duration::ZERO);
    let error = run(CommandId::BatchSendMsg, &policy, &budget, &pacer, &script).await.unwrap_err();
    assert!(error.is_outcome_unknown(), "{error:?}");
    // A command whose repeat is harmless reports the last failure itself.
    let script = Script::new(vec![Attempt::TimedOut, code(70107)], Duration::ZERO);
    let error = run(CommandId::GetGroupInfo, &policy, &budget, &pacer, &script).await.unwrap_err();
    assert_eq!(error.service_code(), Some(70107));
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
