//! The gRPC services: typed RPCs, the generic REST call. (The fan-out RPC is in `fanout.rs`.)
//!
//! Every typed RPC goes the same way ([`Shared::unary`]): protobuf → `tim-model` (`convert`), deduplication keys
//! pinned once, the transport's call (validation, pacing, retries), `tim-model` → protobuf; failures through
//! `error` only.

use crate::convert::{FromModel, IntoModel};
use crate::error;
use crate::metrics::Metrics;
use crate::pb;
use std::sync::Arc;
use std::time::Instant;
use tim_model::api::TypedRequest;
use tim_model::command;
use tim_transport::Client;
use tonic::{Request, Response, Status};

/// What every service of one gateway shares.
#[derive(Debug, Clone)]
pub(crate) struct Shared {
    pub(crate) client: Client,
    pub(crate) metrics: Arc<Metrics>,
}

impl Shared {
    /// One typed RPC, measured.
    async fn unary<P, R>(&self, method: &str, request: Request<P>) -> Result<Response<R>, Status>
    where
        P: IntoModel + Clone,
        R: FromModel<P::Model>,
    {
        let started = Instant::now();
        let result = self.typed(request.into_inner()).await;
        let code = result.as_ref().map_or_else(Status::code, |_| tonic::Code::Ok);
        self.metrics.finished(method, code, started.elapsed());
        result.map(Response::new)
    }

    async fn typed<P, R>(&self, proto: P) -> Result<R, Status>
    where
        P: IntoModel + Clone,
        R: FromModel<P::Model>,
    {
        let command = P::Model::command().path;
        // The protobuf request is kept to name the fields of any error in this API's terms.
        let received = proto.clone();
        let names = |rest: &str| received.proto_path(rest);
        let mut model = proto.into_model().map_err(|errors| error::invalid(command, &errors, &names))?;
        // Pinned here, not only in the transport, so the answer can say which key was sent.
        model.pin_dedupe_keys(&mut rand::random::<u32>);
        let dedupe_key = model.dedupe_key();
        let answer = self.client.call(model).await.map_err(|e| error::from_transport(&e, &names))?;
        Ok(R::from_model(answer, dedupe_key))
    }
}

macro_rules! rpcs {
    ($service:ident, $server_trait:path, $label:literal { $($method:ident $rpc:ident($request:ident) -> $response:ident,)+ }) => {
        /// The service's implementation.
        #[derive(Debug, Clone)]
        pub(crate) struct $service(pub(crate) Shared);

        #[tonic::async_trait]
        impl $server_trait for $service {
            $(
                async fn $method(
                    &self,
                    request: Request<pb::$request>,
                ) -> Result<Response<pb::$response>, Status> {
                    self.0.unary(concat!($label, "/", stringify!($rpc)), request).await
                }
            )+
        }
    };
}

include!("service/rpcs.rs");

/// The generic call.
#[derive(Debug, Clone)]
pub(crate) struct Rest(pub(crate) Shared);

#[tonic::async_trait]
impl pb::rest_service_server::RestService for Rest {
    async fn call(&self, request: Request<pb::CallRequest>) -> Result<Response<pb::CallResponse>, Status> {
        let started = Instant::now();
        let result = self.generic(request.into_inner()).await;
        let code = result.as_ref().map_or_else(Status::code, |_| tonic::Code::Ok);
        self.0.metrics.finished("RestService/Call", code, started.elapsed());
        result.map(Response::new)
    }
}

impl Rest {
    async fn generic(&self, request: pb::CallRequest) -> Result<pb::CallResponse, Status> {
        let Some(command) = command::find(&request.command) else {
            return Err(error::bad_field(
                "command",
                format!("{:?} is not one of the 143 REST commands (form: openim/sendmsg)", request.command),
            ));
        };
        let body: serde_json::Value = serde_json::from_str(&request.json_body)
            .map_err(|e| error::bad_field("json_body", format!("is not JSON: {e}")))?;
        let names = |rest: &str| format!("json_body.{rest}");
        let answer =
            self.0.client.call_json(command.path, body).await.map_err(|e| error::from_transport(&e, &names))?;
        Ok(pb::CallResponse { command: command.path.to_owned(), json_body: answer.to_string() })
    }
}
