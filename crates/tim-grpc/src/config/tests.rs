use super::*;
use tim_model::command::Rate;

fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: HashMap<String, String> = pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    move |name| map.get(name).cloned()
}

#[test]
fn nothing_configured_runs_on_the_emulator_with_the_dev_token() {
    let config = FileConfig::parse("").unwrap().resolve(&env(&[])).unwrap();
    assert_eq!(config.listen, DEFAULT_LISTEN.parse().unwrap());
    assert_eq!(config.metrics_listen, DEFAULT_METRICS_LISTEN.parse().unwrap());
    assert!(config.dev_token);
    assert_eq!(config.callers.len(), 1);
    assert_eq!(config.callers[0].name(), "dev");
    match config.backend {
        Backend::Emulator { sdkappid, auto_create_accounts, quotas, .. } => {
            assert_eq!(sdkappid, DEFAULT_EMULATOR_SDKAPPID);
            assert!(auto_create_accounts);
            assert!(!quotas);
        }
        other => panic!("expected the emulator, got {other:?}"),
    }
}

#[test]
fn the_environment_overrides_the_file() {
    let file = r#"
        listen = "127.0.0.1:1000"
        [tencent]
        sdkappid = 1
        admin = "boss"
        secret_key = "from-file"
        region = "sgp"
        [[callers]]
        name = "billing"
        token_sha256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
    "#;
    let lookup = env(&[
        ("TIM_LISTEN", "127.0.0.1:2000"),
        ("TIM_SDKAPPID", "1400000001"),
        ("TIM_SECRET_KEY", "from-env"),
        ("TIM_BASE_URL", "http://127.0.0.1:9"),
        ("TIM_CALLER_TOKENS", "ops=abc, cron=def"),
    ]);
    let config = FileConfig::parse(file).unwrap().resolve(&lookup).unwrap();
    assert_eq!(config.listen, "127.0.0.1:2000".parse().unwrap());
    assert!(!config.dev_token);
    let names: Vec<&str> = config.callers.iter().map(Caller::name).collect();
    assert_eq!(names, ["billing", "ops", "cron"]);
    match config.backend {
        Backend::Tencent { sdkappid, admin, key: KeySource::Inline(key), endpoint, .. } => {
            assert_eq!(sdkappid, 1_400_000_001);
            assert_eq!(admin, "boss");
            assert_eq!(key, "from-env");
            assert_eq!(endpoint, EndpointChoice::BaseUrl("http://127.0.0.1:9".to_owned()));
        }
        other => panic!("expected Tencent, got {other:?}"),
    }
}

#[test]
fn tencent_without_callers_is_refused() {
    let lookup = env(&[("TIM_SDKAPPID", "1"), ("TIM_SECRET_KEY", "k"), ("TIM_REGION", "sgp")]);
    let error = FileConfig::parse("").unwrap().resolve(&lookup).unwrap_err();
    assert!(error.contains("no callers are configured"), "{error}");
}

#[test]
fn incomplete_credentials_name_what_is_missing_and_never_show_the_key() {
    let lookup = env(&[("TIM_SECRET_KEY", "very-secret-key")]);
    let error = FileConfig::parse("").unwrap().resolve(&lookup).unwrap_err();
    assert!(error.contains("the SDKAppID"), "{error}");
    assert!(error.contains("the region or base URL"), "{error}");
    assert!(!error.contains("the secret key"), "{error}");
    assert!(!error.contains("very-secret-key"), "{error}");
}

#[test]
fn quotas_and_limits_are_read() {
    let file = r#"
        [quotas]
        pacing = false
        "openim/sendmsg" = "500/s"
        "v4/all_member_push/im_push" = "300/day"
        batchsendmsg_recipients_per_minute = 60000
        [limits]
        max_request_bytes = 1024
        max_concurrent_per_caller = 3
        shutdown_grace_secs = 5
    "#;
    let config = FileConfig::parse(file).unwrap().resolve(&env(&[])).unwrap();
    assert!(!config.pacing);
    assert_eq!(config.quota_overrides[&CommandId::SendMsg].calls, Rate::PerSecond(500));
    let push = &config.quota_overrides[&CommandId::ImPush];
    assert_eq!(push.calls, Rate::PerDay(300));
    assert_eq!(push.min_interval_ms, CommandId::ImPush.command().quota.min_interval_ms);
    assert_eq!(config.quota_overrides[&CommandId::BatchSendMsg].recipients_per_minute, Some(60_000));
    assert_eq!(config.max_request_bytes, 1024);
    assert_eq!(config.max_concurrent_per_caller, 3);
    assert_eq!(config.shutdown_grace, Duration::from_secs(5));
}

#[test]
fn mistakes_are_reported() {
    assert!(FileConfig::parse("lisen = \"127.0.0.1:1\"").unwrap_err().contains("lisen"));
    let bad_rate = FileConfig::parse("[quotas]\n\"openim/sendmsg\" = \"fast\"").unwrap().resolve(&env(&[]));
    assert!(bad_rate.unwrap_err().contains("openim/sendmsg"));
    let bad_command = FileConfig::parse("[quotas]\n\"openim/nothing\" = \"1/s\"").unwrap().resolve(&env(&[]));
    assert!(bad_command.unwrap_err().contains("not a REST command"));
    let bad_tokens = FileConfig::parse("").unwrap().resolve(&env(&[("TIM_CALLER_TOKENS", "just-a-token")]));
    assert!(bad_tokens.unwrap_err().contains("NAME=TOKEN"));
    let bad_digest = FileConfig::parse("[[callers]]\nname = \"x\"\ntoken_sha256 = \"abc\"").unwrap().resolve(&env(&[]));
    assert!(bad_digest.unwrap_err().contains("64 hexadecimal digits"));
    let bad_listen = FileConfig::parse("").unwrap().resolve(&env(&[("TIM_LISTEN", "nowhere")]));
    assert!(bad_listen.unwrap_err().contains("TIM_LISTEN"));
}

#[test]
fn a_key_source_never_prints_the_key() {
    let shown = format!("{:?}", KeySource::Inline("very-secret-key".to_owned()));
    assert!(!shown.contains("very-secret-key"), "{shown}");
}

#[test]
fn a_cluster_shares_its_quota_through_redis_and_says_what_is_missing() {
    let resolve = |file: &str, vars: &[(&str, &str)]| FileConfig::parse(file).unwrap().resolve(&env(vars));
    assert!(resolve("", &[]).unwrap().shared_quota.is_none(), "one replica alone by default");
    let shared = resolve("[cluster]\nredis_url = \"redis://:pw@10.0.0.5:6379\"\nreplicas = 3", &[]).unwrap();
    let shared = shared.shared_quota.expect("shared through Redis");
    assert_eq!((shared.url.as_str(), shared.replicas), ("redis://:pw@10.0.0.5:6379", 3));
    let from_env = resolve("", &[("TIM_REDIS_URL", "redis://127.0.0.1:6379"), ("TIM_REPLICAS", "2")]).unwrap();
    assert_eq!(from_env.shared_quota.map(|s| s.replicas), Some(2));

    let without_replicas = resolve("[cluster]\nredis_url = \"redis://127.0.0.1:6379\"", &[]).unwrap_err();
    assert!(without_replicas.contains("needs replicas"), "{without_replicas}");
    let without_redis = resolve("[cluster]\nreplicas = 3", &[]).unwrap_err();
    assert!(without_redis.contains("3 times the quota"), "{without_redis}");
    assert!(resolve("[cluster]\nreplicas = 1", &[]).unwrap().shared_quota.is_none());
    assert!(resolve("", &[("TIM_REPLICAS", "none")]).unwrap_err().contains("TIM_REPLICAS"));
    let shown = format!("{:?}", FileConfig::parse("[cluster]\nredis_url = \"redis://:pw@h:1\"").unwrap());
    assert!(!shown.contains("pw"), "{shown}");
}

#[test]
fn jobs_go_to_postgresql_when_a_url_is_given_with_a_lease_of_the_configured_length() {
    let resolve = |file: &str, vars: &[(&str, &str)]| FileConfig::parse(file).unwrap().resolve(&env(vars));
    assert!(resolve("", &[]).unwrap().postgres.is_none(), "the data directory's store by default");
    let jobs = resolve("[cluster]\npostgres_url = \"postgresql://tim:secret@10.0.0.6/tim\"", &[]).unwrap();
    let jobs = jobs.postgres.expect("jobs in PostgreSQL");
    assert_eq!((jobs.url.as_str(), jobs.lease), ("postgresql://tim:secret@10.0.0.6/tim", crate::DEFAULT_JOB_LEASE));
    assert!(!format!("{jobs:?}").contains("secret"), "the password never shows: {jobs:?}");
    let from_env =
        resolve("", &[("TIM_POSTGRES_URL", "postgres://127.0.0.1:5432/tim"), ("TIM_JOB_LEASE_SECS", "2.5")]).unwrap();
    assert_eq!(from_env.postgres.map(|jobs| jobs.lease), Some(std::time::Duration::from_millis(2500)));
    let with_ca = resolve(
        "[cluster]\npostgres_url = \"postgres://h/tim?sslmode=require\"",
        &[("TIM_POSTGRES_CA_FILE", "/ca.pem")],
    );
    assert_eq!(with_ca.unwrap().postgres.and_then(|jobs| jobs.ca_file), Some(PathBuf::from("/ca.pem")));
    let short = resolve("[cluster]\npostgres_url = \"postgres://h/tim\"\njob_lease_secs = 0.1", &[]).unwrap_err();
    assert!(short.contains("between 1 and 3600"), "{short}");
    let not_a_url = resolve("[cluster]\npostgres_url = \"host=h dbname=tim\"", &[]).unwrap_err();
    assert!(not_a_url.contains("postgresql:// URL"), "{not_a_url}");
    let shown = format!("{:?}", FileConfig::parse("[cluster]\npostgres_url = \"postgres://u:pw@h/d\"").unwrap());
    assert!(!shown.contains("pw"), "{shown}");
}
