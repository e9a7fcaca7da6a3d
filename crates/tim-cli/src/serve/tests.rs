use super::*;
use tim_grpc::pb;
use tonic::Request;

fn args(extra: &[&str]) -> ServeArgs {
    use clap::Parser;
    let cli = crate::Cli::try_parse_from(["tim", "serve"].iter().chain(extra)).unwrap();
    match cli.command {
        crate::Command::Serve(args) => args,
        other => panic!("parsed as {other:?}"),
    }
}

type Running = tokio::task::JoinHandle<Result<(), Failure>>;

/// Starts `tim serve` with `config`: its announced lines, its stop switch, its task.
fn start(
    config: ServeConfig,
) -> (tokio::sync::mpsc::UnboundedReceiver<String>, tokio::sync::oneshot::Sender<()>, Running) {
    let (lines_tx, lines) = tokio::sync::mpsc::unbounded_channel::<String>();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(serve(
        config,
        async move {
            let _ = stopped.await;
            Ok(())
        },
        move |line| lines_tx.send(line.to_owned()).map_err(|_| Failure("closed".to_owned())),
    ));
    (lines, stop, server)
}

#[test]
fn flags_override_the_environment_which_overrides_the_file() {
    let dir = std::env::temp_dir().join(format!("tim-serve-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("tim.toml");
    std::fs::write(&file, "listen = \"127.0.0.1:1111\"\nmetrics_listen = \"127.0.0.1:2222\"\n").unwrap();
    let path = file.to_str().unwrap();
    let env = |name: &str| (name == "TIM_METRICS_LISTEN").then(|| "127.0.0.1:3333".to_owned());
    let config = load(&args(&["--config", path]), &env).unwrap();
    assert_eq!(config.listen, "127.0.0.1:1111".parse().unwrap());
    assert_eq!(config.metrics_listen, "127.0.0.1:3333".parse().unwrap());
    let config = load(&args(&["--config", path, "--listen", "127.0.0.1:4444"]), &env).unwrap();
    assert_eq!(config.listen, "127.0.0.1:4444".parse().unwrap());
    let missing = load(&args(&["--config", "/nonexistent/tim.toml"]), &env).unwrap_err();
    assert!(missing.0.contains("cannot read the configuration file"), "{}", missing.0);
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn configured_quotas_are_honoured_on_the_embedded_emulator() {
    use tim_model::command::{CommandId, Rate};
    let dir = std::env::temp_dir().join(format!("tim-serve-quotas-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("tim.toml");
    std::fs::write(&file, "[quotas]\nbatchsendmsg_recipients_per_minute = 60000\n\"openim/sendmsg\" = \"500/s\"\n")
        .unwrap();
    let env = |_: &str| None;
    let config = load(&args(&["--config", file.to_str().unwrap()]), &env).unwrap();
    let configured = upstream(&config).await.unwrap();
    let pacer = configured.client.pacer();
    assert!(!pacer.is_unlimited(), "configured quotas are paced even though the emulator enforces none");
    assert_eq!(pacer.quota(CommandId::BatchSendMsg).recipients_per_minute, Some(60_000));
    assert_eq!(pacer.quota(CommandId::SendMsg).calls, Rate::PerSecond(500));
    assert!(configured.lines[0].contains("paced to the configured quotas"), "{}", configured.lines[0]);
    // Without configured quotas, the emulator without quotas is not paced.
    let config = load(&args(&[]), &env).unwrap();
    let plain = upstream(&config).await.unwrap();
    assert!(plain.client.pacer().is_unlimited());
    assert!(plain.lines[0].contains("pacing off"), "{}", plain.lines[0]);
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn serves_on_the_embedded_emulator_announces_itself_and_stops_cleanly() {
    let env = |name: &str| match name {
        "TIM_LISTEN" | "TIM_METRICS_LISTEN" => Some("127.0.0.1:0".to_owned()),
        _ => None,
    };
    let config = load(&args(&[]), &env).unwrap();
    let (mut lines, stop, server) = start(config);
    let banner = lines.recv().await.unwrap();
    assert!(banner.starts_with("tim serve: gRPC on 127.0.0.1:"), "{banner}");
    assert!(banner.contains("(plaintext), metrics on http://127.0.0.1:"), "{banner}");
    let grpc = banner.split_whitespace().nth(4).unwrap().to_owned();
    let emulator_line = lines.recv().await.unwrap();
    assert!(emulator_line.contains("running on the embedded emulator"), "{emulator_line}");
    let mut rest = Vec::new();
    while rest.len() < 3 {
        rest.push(lines.recv().await.unwrap());
    }
    assert!(rest.iter().any(|l| l.contains("Bearer dev-token")), "{rest:?}");
    assert!(rest.iter().any(|l| l.starts_with("first call: grpcurl -plaintext")), "{rest:?}");

    let channel = tonic::transport::Endpoint::from_shared(format!("http://{grpc}")).unwrap().connect().await.unwrap();
    let mut messages = pb::message_service_client::MessageServiceClient::new(channel);
    let send = |token: &str| {
        let mut request = Request::new(pb::SendMsgRequest {
            to_account: "alice".to_owned(),
            msg_body: vec![pb::MsgElement::text("hello")],
            ..Default::default()
        });
        request.metadata_mut().insert("authorization", format!("Bearer {token}").parse().unwrap());
        request
    };
    let refused = messages.send_msg(send("wrong")).await.unwrap_err();
    assert_eq!(refused.code(), tonic::Code::Unauthenticated);
    let answer = messages.send_msg(send(DEV_TOKEN)).await.unwrap().into_inner();
    assert!(answer.msg_key.is_some_and(|key| !key.is_empty()));

    stop.send(()).unwrap();
    server.await.unwrap().unwrap();
    let last = lines.recv().await.unwrap();
    assert_eq!(last, "tim serve stopped: every call finished");
}

#[tokio::test]
async fn serves_tencent_credentials_from_a_file_with_a_key_file_and_hashed_caller_tokens() {
    // "Tencent" here is an emulator on loopback that knows only this key.
    let key = "key-from-a-file";
    let upstream = Emulator::builder(1_400_000_123, SecretKey::new(key).unwrap(), || now_unix().unwrap_or(0))
        .auto_create_accounts(true)
        .quotas(QuotaConfig::disabled())
        .build()
        .unwrap()
        .serve(tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap())
        .unwrap();
    let dir = std::env::temp_dir().join(format!("tim-serve-tencent-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let key_file = dir.join("key");
    std::fs::write(&key_file, format!("{key}\n")).unwrap();
    // The file keeps only the token's SHA-256, as `printf %s TOKEN | sha256sum` prints it.
    let computed = {
        use std::fmt::Write as _;
        let bytes: [u8; 32] = sha2_digest(b"billing-token");
        bytes.iter().fold(String::new(), |mut hex, b| {
            let _ = write!(hex, "{b:02x}");
            hex
        })
    };
    let file = dir.join("tim.toml");
    std::fs::write(
        &file,
        format!(
            "listen = \"127.0.0.1:0\"\nmetrics_listen = \"127.0.0.1:0\"\n\n[tencent]\nsdkappid = 1400000123\n\
             secret_key_file = {key_file:?}\nbase_url = \"{}\"\n\n[[callers]]\nname = \"billing\"\n\
             token_sha256 = \"{computed}\"\n",
            upstream.base_url()
        ),
    )
    .unwrap();
    let config = load(&args(&["--config", file.to_str().unwrap()]), &|_| None).unwrap();
    assert!(!config.dev_token);
    let (mut lines, stop, server) = start(config);
    let banner = lines.recv().await.unwrap();
    let grpc = banner.split_whitespace().nth(4).unwrap().to_owned();
    let upstream_line = lines.recv().await.unwrap();
    assert!(upstream_line.starts_with("sending to Tencent Cloud Chat at http://127.0.0.1:"), "{upstream_line}");
    assert!(!upstream_line.contains(key), "{upstream_line}");
    let first_call = lines.recv().await.unwrap();
    assert!(first_call.contains("Bearer YOUR_TOKEN"), "{first_call}");

    let channel = tonic::transport::Endpoint::from_shared(format!("http://{grpc}")).unwrap().connect().await.unwrap();
    let mut messages = pb::message_service_client::MessageServiceClient::new(channel);
    let mut request = Request::new(pb::SendMsgRequest {
        to_account: "alice".to_owned(),
        msg_body: vec![pb::MsgElement::text("from the file")],
        ..Default::default()
    });
    request.metadata_mut().insert("authorization", "Bearer billing-token".parse().unwrap());
    messages.send_msg(request).await.unwrap();
    assert_eq!(upstream.emulator().inbox_len("alice"), Some(1));
    // The development token means nothing once callers are configured.
    let mut dev = Request::new(pb::SendMsgRequest { to_account: "alice".to_owned(), ..Default::default() });
    dev.metadata_mut().insert("authorization", format!("Bearer {DEV_TOKEN}").parse().unwrap());
    assert_eq!(messages.send_msg(dev).await.unwrap_err().code(), tonic::Code::Unauthenticated);

    stop.send(()).unwrap();
    server.await.unwrap().unwrap();
    upstream.shutdown().await;
    std::fs::remove_dir_all(dir).unwrap();
}

fn sha2_digest(bytes: &[u8]) -> [u8; 32] {
    use sha2::Digest;
    sha2::Sha256::digest(bytes).into()
}
