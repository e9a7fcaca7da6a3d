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
async fn serves_on_the_embedded_emulator_announces_itself_and_stops_cleanly() {
    let env = |name: &str| match name {
        "TIM_LISTEN" | "TIM_METRICS_LISTEN" => Some("127.0.0.1:0".to_owned()),
        _ => None,
    };
    let config = load(&args(&[]), &env).unwrap();
    let (lines_tx, mut lines) = tokio::sync::mpsc::unbounded_channel::<String>();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(serve(
        config,
        async move {
            let _ = stopped.await;
            Ok(())
        },
        move |line| lines_tx.send(line.to_owned()).map_err(|_| Failure("closed".to_owned())),
    ));
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
            msg_body: vec![pb::MsgElement {
                elem: Some(pb::msg_element::Elem::Text(pb::TextElem { text: "hello".to_owned() })),
            }],
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
