//! Behaviour of quota pacing, with tokio's clock paused so every schedule is exact and nothing really sleeps.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use proptest::prelude::*;
use tim_model::command::{CommandId, Quota, Rate, per_second};
use tim_transport::pacing::{Pacer, UNLIMITED_QUOTA};
use tokio::time::Instant;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

fn with(command: CommandId, quota: Quota) -> Pacer {
    Pacer::new(&HashMap::from([(command, quota)]))
}

/// Acquires `n` calls one after another and returns each one's admission time, measured from `origin`.
async fn admit(pacer: &Pacer, command: CommandId, recipients: u32, n: usize, origin: Instant) -> Vec<Duration> {
    let mut times = Vec::with_capacity(n);
    for _ in 0..n {
        pacer.acquire(command, recipients).await;
        times.push(origin.elapsed());
    }
    times
}

/// Spawns one task per entry of `recipients`, in order, each acquiring `command` once, letting each task reserve
/// before the next is spawned. Returns, in admission order, each task's index and admission time.
async fn contend(pacer: &Arc<Pacer>, command: CommandId, recipients: &[u32]) -> Vec<(usize, Duration)> {
    let origin = Instant::now();
    let admitted = Arc::new(Mutex::new(Vec::new()));
    let mut tasks = Vec::new();
    for (index, &count) in recipients.iter().enumerate() {
        let pacer = Arc::clone(pacer);
        let admitted = Arc::clone(&admitted);
        tasks.push(tokio::spawn(async move {
            pacer.acquire(command, count).await;
            admitted.lock().unwrap().push((index, origin.elapsed()));
        }));
        tokio::task::yield_now().await;
    }
    for task in tasks {
        task.await.unwrap();
    }
    Arc::try_unwrap(admitted).unwrap().into_inner().unwrap()
}

#[test]
fn pacer_is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync + 'static>() {}
    assert_send_sync::<Pacer>();
    assert_send_sync::<Arc<Pacer>>();
}

#[tokio::test(start_paused = true)]
async fn default_quota_admits_a_burst_of_200_then_one_every_5_ms() {
    let pacer = Pacer::default();
    assert_eq!(pacer.quota(CommandId::SendMsg), per_second(200));
    let origin = Instant::now();
    let times = admit(&pacer, CommandId::SendMsg, 0, 202, origin).await;
    assert!(times[..200].iter().all(Duration::is_zero), "the first 200 calls are a burst: {:?}", &times[..200]);
    assert_eq!(times[200], ms(5));
    assert_eq!(times[201], ms(10));
}

#[tokio::test(start_paused = true)]
async fn burst_is_available_again_after_an_idle_second() {
    let pacer = Pacer::default();
    let origin = Instant::now();
    admit(&pacer, CommandId::SendMsg, 0, 202, origin).await;
    // The 202nd call left the bucket due to be full one second after the burst began, plus its two 5 ms steps.
    tokio::time::sleep_until(origin + ms(1_010)).await;
    let resumed = Instant::now();
    let times = admit(&pacer, CommandId::SendMsg, 0, 201, resumed).await;
    assert!(times[..200].iter().all(Duration::is_zero), "a full burst after idling: {:?}", &times[..200]);
    assert_eq!(times[200], ms(5));
}

#[tokio::test(start_paused = true)]
async fn partly_refilled_bucket_admits_only_what_refilled() {
    let pacer = Pacer::default();
    let origin = Instant::now();
    admit(&pacer, CommandId::SendMsg, 0, 200, origin).await;
    // 100 ms refill 20 calls.
    tokio::time::sleep_until(origin + ms(100)).await;
    let times = admit(&pacer, CommandId::SendMsg, 0, 21, origin).await;
    assert!(times[..20].iter().all(|&t| t == ms(100)), "20 calls refilled: {times:?}");
    assert_eq!(times[20], ms(105));
}

#[tokio::test(start_paused = true)]
async fn acquire_returns_how_long_it_waited() {
    let pacer = with(CommandId::SendMsg, per_second(2));
    let mut waits = Vec::new();
    for _ in 0..4 {
        waits.push(pacer.acquire(CommandId::SendMsg, 0).await);
    }
    assert_eq!(waits, [Duration::ZERO, Duration::ZERO, ms(500), ms(500)]);
}

#[tokio::test(start_paused = true)]
async fn recipients_limit_governs_large_batches() {
    let quota = Quota { calls: Rate::PerSecond(1_000), recipients_per_minute: Some(12_000), min_interval_ms: None };
    let pacer = with(CommandId::BatchSendMsg, quota);
    let origin = Instant::now();
    let times = admit(&pacer, CommandId::BatchSendMsg, 500, 26, origin).await;
    assert!(times[..24].iter().all(Duration::is_zero), "24 batches of 500 fill the minute: {:?}", &times[..24]);
    // 500 recipients at 60 s / 12,000 each.
    assert_eq!(times[24], ms(2_500));
    assert_eq!(times[25], ms(5_000));
}

#[tokio::test(start_paused = true)]
async fn calls_limit_governs_small_batches() {
    let quota = Quota { calls: Rate::PerSecond(1_000), recipients_per_minute: Some(12_000), min_interval_ms: None };
    let pacer = with(CommandId::BatchSendMsg, quota);
    let origin = Instant::now();
    let times = admit(&pacer, CommandId::BatchSendMsg, 1, 1_002, origin).await;
    assert!(times[..1_000].iter().all(Duration::is_zero));
    assert_eq!(times[1_000], ms(1));
    assert_eq!(times[1_001], ms(2));
}

#[tokio::test(start_paused = true)]
async fn batchsendmsg_default_quota_limits_recipients_per_minute() {
    let pacer = Pacer::default();
    let origin = Instant::now();
    let times = admit(&pacer, CommandId::BatchSendMsg, 500, 25, origin).await;
    assert!(times[..24].iter().all(Duration::is_zero));
    assert_eq!(times[24], ms(2_500));
}

#[tokio::test(start_paused = true)]
async fn im_push_keeps_its_interval_and_its_daily_limit() {
    let pacer = Pacer::default();
    assert_eq!(pacer.quota(CommandId::ImPush).calls, Rate::PerDay(100));
    let origin = Instant::now();
    let times = admit(&pacer, CommandId::ImPush, 0, 102, origin).await;
    let expected_first: Vec<Duration> = (0..100).map(secs).collect();
    assert_eq!(times[..100], expected_first[..], "one call a second while the day's burst lasts");
    // 100 calls per day is one every 864 s: the 101st waits until the first call's unit has drained.
    assert_eq!(times[100], secs(864));
    assert_eq!(times[101], secs(2 * 864));
}

#[tokio::test(start_paused = true)]
async fn send_broadcast_msg_default_is_one_per_second() {
    let pacer = Pacer::default();
    let origin = Instant::now();
    let times = admit(&pacer, CommandId::SendBroadcastMsg, 0, 3, origin).await;
    assert_eq!(times, [Duration::ZERO, secs(1), secs(2)]);
}

#[tokio::test(start_paused = true)]
async fn concurrent_callers_are_admitted_in_order() {
    let pacer = Arc::new(with(CommandId::SendMsg, per_second(1)));
    let admitted = contend(&pacer, CommandId::SendMsg, &[0; 6]).await;
    let expected: Vec<(usize, Duration)> = (0..6).map(|i| (i, secs(i as u64))).collect();
    assert_eq!(admitted, expected);
}

#[tokio::test(start_paused = true)]
async fn small_batch_does_not_overtake_a_large_one_queued_first() {
    let pacer = Arc::new(Pacer::default());
    // Drain the minute's 12,000 recipients.
    assert!(pacer.acquire(CommandId::BatchSendMsg, 12_000).await.is_zero());
    let admitted = contend(&pacer, CommandId::BatchSendMsg, &[6_000, 1]).await;
    // 6,000 recipients need half a minute; the single recipient then needs another 5 ms.
    assert_eq!(admitted, [(0, secs(30)), (1, ms(30_005))]);
}

#[tokio::test(start_paused = true)]
async fn back_off_delays_the_next_call() {
    let pacer = Pacer::default();
    assert!(pacer.acquire(CommandId::SendMsg, 0).await.is_zero());
    pacer.back_off(CommandId::SendMsg, secs(3));
    assert_eq!(pacer.acquire(CommandId::SendMsg, 0).await, secs(3));
    // The bucket had room, so the next call goes at once.
    assert!(pacer.acquire(CommandId::SendMsg, 0).await.is_zero());
}

#[tokio::test(start_paused = true)]
async fn back_off_moves_waiting_callers_back_and_keeps_admitted_ones() {
    let pacer = Arc::new(with(CommandId::SendMsg, per_second(1)));
    let origin = Instant::now();
    let admitted = Arc::new(Mutex::new(Vec::new()));
    let mut tasks = Vec::new();
    for index in 0..3_usize {
        let pacer = Arc::clone(&pacer);
        let admitted = Arc::clone(&admitted);
        tasks.push(tokio::spawn(async move {
            pacer.acquire(CommandId::SendMsg, 0).await;
            admitted.lock().unwrap().push((index, origin.elapsed()));
        }));
        tokio::task::yield_now().await;
    }
    // The first caller was admitted at 0; the others reserved 1 s and 2 s.
    assert_eq!(*admitted.lock().unwrap(), [(0, Duration::ZERO)]);
    pacer.back_off(CommandId::SendMsg, secs(3));
    let late = pacer.acquire(CommandId::SendMsg, 0).await;
    for task in tasks {
        task.await.unwrap();
    }
    assert_eq!(*admitted.lock().unwrap(), [(0, Duration::ZERO), (1, secs(4)), (2, secs(5))]);
    assert_eq!(late, secs(6), "a new caller queues behind the moved ones");
}

#[tokio::test(start_paused = true)]
async fn shorter_back_off_inside_a_longer_one_changes_nothing() {
    let pacer = Pacer::default();
    pacer.back_off(CommandId::SendMsg, secs(5));
    pacer.back_off(CommandId::SendMsg, secs(2));
    assert_eq!(pacer.acquire(CommandId::SendMsg, 0).await, secs(5));
}

#[tokio::test(start_paused = true)]
async fn back_off_of_one_command_leaves_others_alone() {
    let pacer = Pacer::default();
    pacer.back_off(CommandId::SendMsg, secs(3));
    assert!(pacer.acquire(CommandId::SendGroupMsg, 0).await.is_zero());
}

#[tokio::test(start_paused = true)]
async fn unlimited_never_waits() {
    let pacer = Pacer::unlimited();
    assert!(pacer.is_unlimited());
    assert_eq!(pacer.quota(CommandId::ImPush), UNLIMITED_QUOTA);
    let origin = Instant::now();
    pacer.back_off(CommandId::ImPush, secs(60));
    for _ in 0..10_000 {
        assert!(pacer.acquire(CommandId::ImPush, 0).await.is_zero());
        assert!(pacer.acquire(CommandId::BatchSendMsg, 500).await.is_zero());
    }
    assert!(origin.elapsed().is_zero());
}

#[tokio::test(start_paused = true)]
async fn overrides_replace_the_table_quota() {
    let quota = Quota { calls: Rate::PerSecond(4), recipients_per_minute: None, min_interval_ms: Some(500) };
    let pacer = with(CommandId::ImPush, quota);
    assert!(!pacer.is_unlimited());
    assert_eq!(pacer.quota(CommandId::ImPush), quota);
    assert_eq!(pacer.quota(CommandId::SendMsg), per_second(200), "commands not overridden keep the table's");
    let origin = Instant::now();
    let times = admit(&pacer, CommandId::ImPush, 0, 3, origin).await;
    // The interval (500 ms) is stricter than 4 a second, and the day limit is gone.
    assert_eq!(times, [Duration::ZERO, ms(500), ms(1_000)]);
}

#[tokio::test(start_paused = true)]
async fn zero_rate_is_read_as_one_and_zero_interval_as_none() {
    let quota = Quota { calls: Rate::PerSecond(0), recipients_per_minute: None, min_interval_ms: Some(0) };
    let pacer = with(CommandId::SendMsg, quota);
    assert_eq!(pacer.quota(CommandId::SendMsg), quota);
    let origin = Instant::now();
    let times = admit(&pacer, CommandId::SendMsg, 0, 2, origin).await;
    assert_eq!(times, [Duration::ZERO, secs(1)]);
}

#[tokio::test(start_paused = true)]
async fn rates_that_do_not_divide_a_second_stay_exact() {
    let pacer = with(CommandId::SendMsg, per_second(3));
    let origin = Instant::now();
    let times = admit(&pacer, CommandId::SendMsg, 0, 3 + 3_000, origin).await;
    // One call every 333.33 ms. Tokio's timer wakes on whole milliseconds, so a single call may come a little
    // late, but the schedule itself does not round: after 3,000 more calls it is exactly 1,000 s.
    assert!((Duration::from_nanos(333_333_334)..ms(335)).contains(&times[3]), "{:?}", times[3]);
    assert_eq!(times[3 + 2_999], secs(1_000));
}

#[tokio::test(start_paused = true)]
async fn batch_larger_than_the_minute_waits_for_a_full_bucket() {
    let pacer = Pacer::default();
    let origin = Instant::now();
    assert!(pacer.acquire(CommandId::BatchSendMsg, 12_000).await.is_zero());
    // 20,000 recipients cannot fit a 12,000 bucket: it goes once the bucket is full again (60 s) ...
    assert_eq!(pacer.acquire(CommandId::BatchSendMsg, 20_000).await, secs(60));
    // ... and its 8,000 excess delays the next recipient until 60 s + 100 s - 59.995 s.
    pacer.acquire(CommandId::BatchSendMsg, 1).await;
    assert_eq!(origin.elapsed(), ms(100_005));
}

#[tokio::test(start_paused = true)]
async fn huge_cost_is_admitted_and_delays_by_its_exact_excess() {
    let pacer = Pacer::default();
    let origin = Instant::now();
    assert!(pacer.acquire(CommandId::BatchSendMsg, u32::MAX).await.is_zero(), "a full bucket admits it");
    pacer.acquire(CommandId::BatchSendMsg, 1).await;
    // (u32::MAX - 11,999) recipients at 5 ms each.
    assert_eq!(origin.elapsed(), ms((u64::from(u32::MAX) - 11_999) * 5));
}

#[tokio::test(start_paused = true)]
async fn huge_back_off_does_not_overflow() {
    let pacer = Pacer::default();
    pacer.back_off(CommandId::SendMsg, Duration::MAX);
    pacer.back_off(CommandId::SendMsg, Duration::MAX);
    // Never finishing is right here: check that acquiring is pending, not panicking.
    let pending = tokio::time::timeout(secs(86_400 * 365), pacer.acquire(CommandId::SendMsg, 0)).await;
    assert!(pending.is_err(), "a call inside an endless back-off was admitted");
    assert!(pacer.acquire(CommandId::SendGroupMsg, 0).await.is_zero());
}

#[tokio::test(start_paused = true)]
async fn independent_commands_do_not_slow_each_other() {
    let pacer = Pacer::default();
    let origin = Instant::now();
    admit(&pacer, CommandId::SendMsg, 0, 200, origin).await;
    admit(&pacer, CommandId::ImPush, 0, 1, origin).await;
    let times = admit(&pacer, CommandId::SendGroupMsg, 0, 200, origin).await;
    assert!(times.iter().all(Duration::is_zero), "another command's burst is its own: {times:?}");
    assert_eq!(admit(&pacer, CommandId::SendMsg, 0, 1, origin).await, [ms(5)]);
}

#[tokio::test(start_paused = true)]
async fn cancelled_caller_loses_its_slot() {
    let pacer = with(CommandId::SendMsg, per_second(1));
    let origin = Instant::now();
    assert!(pacer.acquire(CommandId::SendMsg, 0).await.is_zero());
    // Reserves 1 s, then is dropped at 0.5 s.
    let cancelled = tokio::time::timeout(ms(500), pacer.acquire(CommandId::SendMsg, 0)).await;
    assert!(cancelled.is_err());
    pacer.acquire(CommandId::SendMsg, 0).await;
    assert_eq!(origin.elapsed(), secs(2), "the dropped caller's 1 s slot is not given back");
}

/// Checks the GCRA guarantee for one limit of `capacity` units per `window`: over any run of consecutive calls,
/// the units admitted never exceed a full bucket plus what the elapsed time refills.
fn assert_within_limit(times: &[Duration], costs: &[u64], capacity: u64, window: Duration) {
    for first in 0..times.len() {
        let mut units: u128 = 0;
        for last in first..times.len() {
            units += u128::from(costs[last]);
            let elapsed = (times[last] - times[first]).as_nanos();
            let allowed = u128::from(capacity) * window.as_nanos() + elapsed * u128::from(capacity);
            assert!(
                units * window.as_nanos() <= allowed,
                "{units} units between {:?} and {:?} exceed {capacity} per {window:?}",
                times[first],
                times[last],
            );
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn schedules_never_exceed_any_limit(
        calls in prop::collection::vec((0_u64..3_000, 0_u32..=2_000), 1..60),
        // Rates whose emission interval is a whole number of milliseconds, tokio's timer resolution, so the
        // admission times observed are the times reserved.
        calls_per_second in prop::sample::select(vec![1_u32, 2, 4, 5, 8, 10, 20, 25, 40, 50]),
        recipients_per_minute in
            prop::sample::select(vec![2_000_u32, 2_400, 3_000, 4_000, 5_000, 6_000, 7_500, 10_000, 12_000, 15_000]),
    ) {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_time().start_paused(true).build().unwrap();
        let quota = Quota {
            calls: Rate::PerSecond(calls_per_second),
            recipients_per_minute: Some(recipients_per_minute),
            min_interval_ms: None,
        };
        let pacer = with(CommandId::BatchSendMsg, quota);
        let times = runtime.block_on(async {
            let origin = Instant::now();
            let mut times = Vec::new();
            for &(gap_ms, recipients) in &calls {
                tokio::time::sleep(ms(gap_ms)).await;
                pacer.acquire(CommandId::BatchSendMsg, recipients).await;
                times.push(origin.elapsed());
            }
            times
        });
        prop_assert!(times.windows(2).all(|pair| pair[0] <= pair[1]), "admissions out of order: {times:?}");
        let ones = vec![1; calls.len()];
        assert_within_limit(&times, &ones, u64::from(calls_per_second), secs(1));
        let recipients: Vec<u64> = calls.iter().map(|&(_, count)| u64::from(count)).collect();
        assert_within_limit(&times, &recipients, u64::from(recipients_per_minute), secs(60));
    }
}

/// Spawns a task that acquires `command` once and reports when it was admitted, measured from `origin`; it has
/// reserved its slot when this returns.
async fn queue_one(pacer: &Arc<Pacer>, command: CommandId, origin: Instant) -> tokio::task::JoinHandle<Duration> {
    let pacer = Arc::clone(pacer);
    let task = tokio::spawn(async move {
        pacer.acquire(command, 0).await;
        origin.elapsed()
    });
    tokio::task::yield_now().await;
    task
}

#[tokio::test(start_paused = true)]
async fn a_retry_goes_ahead_of_the_queue_borrowing_one_call_and_the_queue_moves_back() {
    // 10 calls a second: after a burst of 10 the next call is due at 100 ms, then one every 100 ms.
    let pacer = Arc::new(with(CommandId::SendMsg, per_second(10)));
    let origin = Instant::now();
    admit(&pacer, CommandId::SendMsg, 0, 10, origin).await;
    let mut queued = Vec::new();
    for _ in 0..3 {
        queued.push(queue_one(&pacer, CommandId::SendMsg, origin).await);
    }
    // The retry leaves at once (it borrows the 100 ms call), though three calls were queued before it.
    let waited = pacer.acquire_ahead(CommandId::SendMsg, 0, origin + ms(900)).await;
    assert_eq!(waited, Ok(Duration::ZERO));
    // A second retry could borrow only once the first one's charge is paid: it is due at 100 ms, and its last
    // safe moment is earlier, so nothing is reserved.
    assert!(pacer.acquire_ahead(CommandId::SendMsg, 0, origin + ms(50)).await.is_err());
    // A third, allowed until 150 ms, leaves at 100 ms.
    assert_eq!(pacer.acquire_ahead(CommandId::SendMsg, 0, origin + ms(150)).await, Ok(ms(100)));
    let mut times = Vec::new();
    for task in queued {
        times.push(task.await.unwrap());
    }
    // The queue was due at 100, 200, 300 ms; each of the two retries moved it back by one call.
    assert_eq!(times, [ms(300), ms(400), ms(500)]);
}

#[tokio::test(start_paused = true)]
async fn a_back_off_that_moves_a_waiting_retry_past_its_window_makes_it_too_late() {
    let pacer = Arc::new(with(CommandId::SendMsg, per_second(10)));
    let origin = Instant::now();
    admit(&pacer, CommandId::SendMsg, 0, 10, origin).await;
    // The first retry borrows the next call; the second has to wait for it, until 100 ms.
    assert_eq!(pacer.acquire_ahead(CommandId::SendMsg, 0, origin + ms(500)).await, Ok(Duration::ZERO));
    let retry = {
        let pacer = Arc::clone(&pacer);
        tokio::spawn(async move { pacer.acquire_ahead(CommandId::SendMsg, 0, origin + ms(500)).await })
    };
    tokio::task::yield_now().await;
    pacer.back_off(CommandId::SendMsg, secs(1));
    assert!(retry.await.unwrap().is_err(), "moved past its last safe moment by the back-off");
}

#[tokio::test(start_paused = true)]
async fn retries_ahead_of_the_queue_keep_the_long_run_rate() {
    // Calls and retries mixed: over 10 s at 10 calls a second, at most 100 calls plus one borrowed.
    let pacer = Arc::new(with(CommandId::SendMsg, per_second(10)));
    let origin = Instant::now();
    let admitted = Arc::new(Mutex::new(Vec::new()));
    let mut tasks = Vec::new();
    for i in 0..200_u64 {
        let (pacer, admitted) = (Arc::clone(&pacer), Arc::clone(&admitted));
        tasks.push(tokio::spawn(async move {
            let ok = if i % 4 == 0 {
                pacer.acquire_ahead(CommandId::SendMsg, 0, Instant::now() + ms(900)).await.is_ok()
            } else {
                pacer.acquire(CommandId::SendMsg, 0).await;
                true
            };
            if ok {
                admitted.lock().unwrap().push(origin.elapsed());
            }
        }));
        tokio::time::sleep(ms(20)).await;
    }
    for task in tasks {
        task.await.unwrap();
    }
    let times = admitted.lock().unwrap().clone();
    for start in (0..40).map(|tenth| ms(tenth * 100)) {
        let in_window = times.iter().filter(|t| **t >= start && **t < start + secs(1)).count();
        // A fresh bucket's burst of 10, the window's 10, and one borrowed call.
        assert!(in_window <= 21, "{in_window} calls in the second from {start:?}");
    }
    let in_ten_seconds = times.iter().filter(|t| **t < secs(10)).count();
    assert!(in_ten_seconds <= 10 + 100 + 1, "{in_ten_seconds}");
}
