//! The PostgreSQL job store against a real server started on loopback: leases claimed once, taken over only when
//! they ended, a replica that lost its lease records (and so sends) nothing more, and the journal's rules give the
//! same job as on the embedded store.

use std::time::Duration;
use tim_jobs::{JobSpec, JobState, JobStore, Lease, PgJobStore, Source};
use tim_testkit::PostgresServer;
use tim_transport::fanout::{ChunkOutcome, Failure, Journal as _, Settled, StoredChunk};

const LONG: Duration = Duration::from_secs(600);

fn spec(source: Source) -> JobSpec {
    JobSpec { message: serde_json::json!({"From_Account": "admin"}), source }
}

fn chunk(id: u64, users: &[&str]) -> StoredChunk {
    let listed: Vec<String> = users.iter().map(|user| format!("\"{user}\"")).collect();
    let body = format!(r#"{{"To_Account":[{}],"MsgSeq":1,"MsgRandom":2}}"#, listed.join(","));
    StoredChunk { id, body: bytes::Bytes::from(body), rounds: Vec::new(), keys: vec![1, 2] }
}

fn failure(user: &str, line: Option<u64>, status: Settled, code: Option<i64>) -> Failure {
    Failure { user_id: user.to_owned(), line, status, code, reason: "why".into(), outcome_unknown: false }
}

async fn store(server: &PostgresServer) -> PgJobStore {
    PgJobStore::connect(&server.url(), 4, &[]).await.expect("the store connects and migrates")
}

async fn job_with_input(store: &PgJobStore, input: &[u8]) -> tim_jobs::JobInfo {
    let mut upload = store.upload().await.unwrap();
    // Written in odd pieces: the blocks are what the store cuts, not what the caller wrote.
    for piece in input.chunks(7) {
        upload.write(piece).await.unwrap();
    }
    let (input, source) = upload.finish().await.unwrap();
    store.create_with(spec(source), input, 1_000, None, None).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_is_claimed_by_one_replica_and_taken_over_only_once_its_lease_ended() {
    let Some(server) = PostgresServer::start() else { return };
    let (a, b) = (store(&server).await, store(&server).await);
    // Migrations ran twice (once per store) and are recorded once.
    assert_eq!(server.psql("SELECT count(*) FROM tim_schema_migrations").trim(), "1");

    let input = b"u1\nu2\nu3\n";
    let job = job_with_input(&a, input).await;
    // The input reads back whole from any replica, and its fingerprint is the content's.
    let mut read = Vec::new();
    tokio::io::AsyncReadExt::read_to_end(&mut b.input(job.id), &mut read).await.unwrap();
    assert_eq!(read, input);
    assert_eq!(job.spec.source.bytes, input.len() as u64);

    let lease = a.claim("replica-a", LONG).await.unwrap().expect("a running job is claimed");
    assert_eq!((lease.job, lease.epoch, lease.previous_end_ms, lease.taken_over), (job.id, 1, None, false));
    assert!(b.claim("replica-b", LONG).await.unwrap().is_none(), "a held lease is not claimed");
    assert!(b.is_leased(job.id).await.unwrap());
    assert_eq!(a.renew(&lease, LONG).await.unwrap(), Some(JobState::Running));

    // The holder stops renewing (here: renews for no time at all): its lease ends and another replica claims it.
    assert_eq!(a.renew(&lease, Duration::ZERO).await.unwrap(), Some(JobState::Running));
    let taken = b.claim("replica-b", LONG).await.unwrap().expect("an ended lease is claimed");
    assert_eq!((taken.job, taken.epoch), (job.id, 2));
    assert!(taken.previous_end_ms.is_some() && taken.taken_over, "the taker knows when the old lease ended");
    assert_eq!(a.renew(&lease, LONG).await.unwrap(), None, "the old holder learns it lost the job");
    a.release(&lease).await.unwrap();
    assert!(b.is_leased(job.id).await.unwrap(), "the old holder's release does not free the new holder's lease");

    // Pausing from any replica shows in the holder's next renewal; a released lease frees the job at once.
    a.pause(job.id, 2_000).await.unwrap();
    assert_eq!(b.renew(&taken, LONG).await.unwrap(), Some(JobState::Paused));
    b.release(&taken).await.unwrap();
    assert!(!a.is_leased(job.id).await.unwrap());
    assert!(a.claim("replica-a", LONG).await.unwrap().is_none(), "a paused job is not claimed");
    a.unpause(job.id, 3_000).await.unwrap();
    let again = a.claim("replica-a", LONG).await.unwrap().expect("a resumed job is claimed");
    assert_eq!((again.epoch, again.taken_over), (3, false), "a released lease is not taken over");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_claiming_together_never_take_the_same_job() {
    let Some(server) = PostgresServer::start() else { return };
    let store = store(&server).await;
    for _ in 0..6 {
        job_with_input(&store, b"x\n").await;
    }
    let claims = (0..6).map(|replica| {
        let store = store.clone();
        tokio::spawn(async move { store.claim(&format!("replica-{replica}"), LONG).await.unwrap() })
    });
    let mut jobs: Vec<u64> = Vec::new();
    for claim in claims {
        jobs.extend(claim.await.unwrap().map(|lease| lease.job));
    }
    jobs.sort_unstable();
    assert_eq!(jobs, [1, 2, 3, 4, 5, 6], "every job claimed once, by one replica each");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_that_lost_its_lease_records_nothing_more_and_the_taker_resolves_after_the_old_lease() {
    let Some(server) = PostgresServer::start() else { return };
    let (a, b) = (store(&server).await, store(&server).await);
    let job = job_with_input(&a, b"u1\nu2\nu3\n").await;
    let old = a.claim("replica-a", Duration::ZERO).await.unwrap().unwrap();
    let journal = a.journal(&old);
    journal.sending(&chunk(0, &["u1", "u2"]), 2, 1_000).await.expect("recorded while the lease is held");

    let new = b.claim("replica-b", LONG).await.unwrap().expect("the lease ended: another replica claims the job");
    let refused = journal.sending(&chunk(1, &["u3"]), 3, 1_100).await;
    assert!(refused.is_err(), "a chunk of the old holder is never recorded after the takeover, so never sent");
    journal.settled(0, ChunkOutcome { delivered: 2, ..ChunkOutcome::default() });
    assert!(journal.finish().await.is_err(), "the old holder's journal stopped: {:?}", journal.finish().await);

    // The taker finds chunk 0 in flight, as sent no earlier than the old lease's end; chunk 1 was never recorded.
    let resume = b.resume(&new).await.unwrap();
    assert_eq!(resume.in_flight.len(), 1);
    let (stored, sent_ms) = &resume.in_flight[0];
    assert_eq!(stored.id, 0);
    assert!(*sent_ms >= new.previous_end_ms.unwrap() && *sent_ms > 1_000, "{sent_ms} vs {new:?}");
    assert_eq!((resume.covered, resume.next_chunk), (2, 1));
    let info = b.job(job.id).await.unwrap();
    assert_eq!((info.counters.in_flight, info.counters.delivered), (1, 0));
    // What a watcher of the job sees as not settled: the chunk's two recipients, outcome unknown.
    assert_eq!(b.pending(&info).await.unwrap().iter().filter(|f| f.outcome_unknown).count(), 2);
}

/// One sequence of events, applied by both stores' journals: the same job comes out (counters, cursor, settled
/// lines, what is pending), because both apply the same rules.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_journal_gives_the_same_job_on_postgresql_as_on_the_embedded_store() {
    let Some(server) = PostgresServer::start() else { return };
    let pg = store(&server).await;
    let dir = std::env::temp_dir().join(format!("tim-jobs-pg-parity-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let local = JobStore::open(&dir).unwrap();

    let source = Source { path: "r.txt".into(), bytes: 0, sha256: String::new() };
    let local_job = local.create(spec(source), 1_000).unwrap();
    let pg_job = job_with_input(&pg, b"").await;
    let lease: Lease = pg.claim("replica", LONG).await.unwrap().unwrap();

    let journals = [local.journal(local_job.id).unwrap(), pg.journal(&lease)];
    for journal in &journals {
        journal.sending(&chunk(0, &["a", "b", "c"]), 3, 10).await.unwrap();
        journal.entry(&failure("a", Some(4), Settled::Duplicate, None), 4);
        journal.entry(&failure("a", Some(4), Settled::Duplicate, None), 4);
        journal.entry(&failure("!", Some(5), Settled::Invalid, None), 5);
        let outcome = ChunkOutcome {
            delivered: 1,
            resolved: 1,
            failures: vec![failure("b", None, Settled::Failed, Some(20003))],
            requeued: vec![("c".into(), 1)],
        };
        journal.settled(0, outcome.clone());
        journal.settled(0, outcome);
        journal.sending(&chunk(1, &["c"]), 5, 20).await.unwrap();
        journal.sending(&chunk(2, &["d"]), 6, 30).await.unwrap();
        journal.settled(1, ChunkOutcome { delivered: 1, ..ChunkOutcome::default() });
        journal.input_done(6);
        journal.finish().await.unwrap();
    }
    let (mut local_after, mut pg_after) = (local.job(local_job.id).unwrap(), pg.job(pg_job.id).await.unwrap());
    assert_eq!(local_after.counters, pg_after.counters);
    assert_eq!(local_after.counters.failed_by_code.get(&20003), Some(&1));
    assert_eq!((local_after.counters.in_flight, local_after.counters.requeued), (1, 0));
    assert_eq!(
        (local_after.covered, local_after.lines, local_after.next_chunk, local_after.settled),
        (pg_after.covered, pg_after.lines, pg_after.next_chunk, pg_after.settled)
    );
    assert_eq!(local.settled_since(local_job.id, 0, 10).unwrap(), pg.settled_since(pg_job.id, 0, 10).await.unwrap());
    let mut local_pending = Vec::new();
    local.for_each_pending(&local_after, |failure| local_pending.push(failure.clone())).unwrap();
    assert_eq!(local_pending, pg.pending(&pg_after).await.unwrap());
    assert_eq!(local_pending.len(), 1, "chunk 2 is in flight: {local_pending:?}");

    // The state rules are shared too: a finished job cannot be cancelled on either store.
    local_after = local.cancel(local_job.id, 40).unwrap();
    pg_after = pg.cancel(pg_job.id, 40).await.unwrap();
    assert_eq!(local_after.state, pg_after.state);
    let _ = std::fs::remove_dir_all(&dir);
}

/// With `sslmode=require` the store speaks TLS and verifies the server's certificate against the given CA (its
/// name included: here the address 127.0.0.1); without the CA, the same server is refused rather than trusted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_sslmode_require_the_store_speaks_tls_to_a_server_it_verifies() {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca_params, ca_key);
    let server_key = KeyPair::generate().unwrap();
    let server_cert =
        CertificateParams::new(vec!["127.0.0.1".to_owned()]).unwrap().signed_by(&server_key, &issuer).unwrap();
    let Some(server) = PostgresServer::start_with_tls(&server_cert.pem(), &server_key.serialize_pem()) else { return };
    let url = format!("{}?sslmode=require", server.url());

    let store = PgJobStore::connect(&url, 2, &[ca.pem().into_bytes()]).await.expect("a verified TLS connection");
    job_with_input(&store, b"tls\n").await;
    let encrypted = server.psql("SELECT count(*) FROM pg_stat_ssl WHERE ssl");
    assert!(encrypted.parse::<u32>().unwrap() >= 1, "the store's sessions are encrypted: {encrypted}");

    let refused = PgJobStore::connect(&url, 2, &[]).await.expect_err("a server whose certificate nothing vouches for");
    assert!(refused.to_string().contains("certificate"), "{refused}");
    // Without sslmode=require the same server is spoken to in plaintext, as the URL says.
    PgJobStore::connect(&server.url(), 2, &[]).await.expect("plaintext when the URL does not require TLS");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inputs_no_job_refers_to_are_swept_once_old_enough_and_a_jobs_input_never() {
    let Some(server) = PostgresServer::start() else { return };
    let store = store(&server).await;
    let job = job_with_input(&store, b"u1\nu2\n").await;
    // A submission whose replica died between storing the recipients and creating the job.
    let mut orphan = store.upload().await.unwrap();
    orphan.write(b"u3\nu4\n").await.unwrap();
    orphan.finish().await.unwrap();
    let inputs = || server.psql("SELECT count(*) FROM tim_job_inputs").trim().to_owned();
    let blocks = || server.psql("SELECT count(*) FROM tim_job_input_blocks").trim().to_owned();
    assert_eq!((inputs(), blocks()), ("2".to_owned(), "2".to_owned()));

    assert_eq!(store.sweep_inputs(LONG).await.unwrap(), 0, "too young to be swept");
    assert_eq!(store.sweep_inputs(Duration::ZERO).await.unwrap(), 1);
    assert_eq!((inputs(), blocks()), ("1".to_owned(), "1".to_owned()));
    let mut read = Vec::new();
    tokio::io::AsyncReadExt::read_to_end(&mut store.input(job.id), &mut read).await.unwrap();
    assert_eq!(read, b"u1\nu2\n", "the job's input is kept");
    assert_eq!(store.sweep_inputs(Duration::ZERO).await.unwrap(), 0);
}
