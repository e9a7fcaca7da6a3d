//! Three `tim serve` replicas of one app sharing one quota through a real `redis-server` (started here on
//! loopback), against one emulator that enforces sendmsg's quota: together they are never refused for their rate,
//! and each replica's metrics show its calls reserved on the shared schedule.

use futures_util::future::join_all;
use tim_emulator::{FaultConfig, QuotaConfig};
use tim_grpc::pb;
use tim_model::command::{CommandId, per_second};
use tim_testkit::RedisServer;
use tonic::Request;

mod common;

const KEY: &str = "serve-replicas-key";
const TOKEN: &str = "replicas-test-token";
const REPLICAS: usize = 3;
const PER_REPLICA: usize = 20;
/// What every replica paces sendmsg at; the service allows 2.5 times that a calendar second (room for loopback
/// delays), less than three replicas pacing alone would send at once.
const RATE: u32 = 20;

fn authed<T>(message: T) -> Request<T> {
    let mut request = Request::new(message);
    request.metadata_mut().insert("authorization", format!("Bearer {TOKEN}").parse().unwrap());
    request
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_replicas_share_one_quota_through_redis_and_are_never_refused_for_their_rate() {
    let Some(mut redis) = RedisServer::start() else {
        return;
    };
    let quotas = QuotaConfig::default().with(CommandId::SendMsg, per_second(RATE * 5 / 2));
    let running = common::emulator_with_quotas(KEY, FaultConfig::none(), 0, quotas).await;
    let scratch = std::env::temp_dir().join(format!("tim-serve-replicas-{}", std::process::id()));
    let config = format!("[quotas]\n\"openim/sendmsg\" = \"{RATE}/s\"\n");
    let cluster = [("TIM_REDIS_URL", redis.url()), ("TIM_REPLICAS", REPLICAS.to_string())];
    let replicas: Vec<common::Served> = (0..REPLICAS)
        .map(|r| common::serve(&running, KEY, TOKEN, &scratch.join(format!("r{r}")), &config, &cluster))
        .collect();

    let mut calls = Vec::new();
    for (r, replica) in replicas.iter().enumerate() {
        let channel = tonic::transport::Channel::from_shared(replica.grpc.clone()).unwrap().connect().await.unwrap();
        let client = pb::message_service_client::MessageServiceClient::new(channel);
        for i in 0..PER_REPLICA {
            let mut client = client.clone();
            calls.push(async move {
                let text =
                    pb::MsgElement { elem: Some(pb::msg_element::Elem::Text(pb::TextElem { text: "hi".to_owned() })) };
                let request =
                    pb::SendMsgRequest { to_account: format!("r{r}u{i}"), msg_body: vec![text], ..Default::default() };
                client.send_msg(authed(request)).await
            });
        }
    }
    let answers = join_all(calls).await;
    for answer in &answers {
        assert!(answer.is_ok(), "{answer:?}");
    }
    assert_eq!(running.stats().rate_limited, 0, "the replicas exceeded the quota together");
    for replica in &replicas {
        let reserved = common::metric(&replica.metrics, "tim_transport_shared_quota_reservations_total").await;
        assert_eq!(reserved, PER_REPLICA as f64, "every call of {} was reserved in Redis", replica.grpc);
        assert_eq!(common::metric(&replica.metrics, "tim_transport_shared_quota_unreachable").await, 0.0);
    }

    // Redis gone: each replica paces at its share, and its metrics say so.
    redis.kill();
    for (r, replica) in replicas.iter().enumerate() {
        let channel = tonic::transport::Channel::from_shared(replica.grpc.clone()).unwrap().connect().await.unwrap();
        let mut client = pb::message_service_client::MessageServiceClient::new(channel);
        let text = pb::MsgElement { elem: Some(pb::msg_element::Elem::Text(pb::TextElem { text: "hi".to_owned() })) };
        let request =
            pb::SendMsgRequest { to_account: format!("after{r}"), msg_body: vec![text], ..Default::default() };
        client.send_msg(authed(request)).await.unwrap();
        assert_eq!(common::metric(&replica.metrics, "tim_transport_shared_quota_unreachable").await, 1.0);
        assert_eq!(common::metric(&replica.metrics, "tim_transport_shared_quota_fallbacks_total").await, 1.0);
    }
    assert_eq!(running.stats().rate_limited, 0);
    for mut replica in replicas {
        let _ = replica.child.kill();
        let _ = replica.child.wait();
    }
    let _ = std::fs::remove_dir_all(&scratch);
    running.shutdown().await;
}
