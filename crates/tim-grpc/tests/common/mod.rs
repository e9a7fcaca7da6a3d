//! What the gateway's test binaries share.

use tim_grpc::pb;
use tonic::Request;
use tonic::transport::Channel;

/// Watches a job (as the caller presenting `token`) until the watch ends; the job as its last event shows it.
pub(crate) async fn watch_to_end(
    jobs: &mut pb::job_service_client::JobServiceClient<Channel>,
    token: &str,
    id: u64,
) -> pb::Job {
    let mut request = Request::new(pb::WatchJobRequest { id, interval_secs: 1 });
    request.metadata_mut().insert("authorization", format!("Bearer {token}").parse().unwrap());
    let mut watch = jobs.watch_job(request).await.unwrap().into_inner();
    let mut last = None;
    while let Some(event) = watch.message().await.unwrap() {
        if let Some(pb::job_event::Kind::Job(job)) = event.kind {
            last = Some(job);
        }
    }
    last.expect("the watch ends with the job")
}
