//! go-plugin's own services beside the provider: `GRPCController/Shutdown`
//! (Terraform asks the process to exit) and `GRPCStdio` (stdout/stderr
//! forwarding, unused: logs go to stderr, which go-plugin reads directly).
//! The gRPC health service (`plugin` SERVING) is tonic-health's, wired in
//! [`super::serve`].

use std::pin::Pin;

use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status};

use super::proto::plugin as pb;

/// Answers `Shutdown` and then triggers the process's clean exit.
pub struct Controller {
    /// Cancelled on `Shutdown`; `None` ignores it (debug mode keeps serving
    /// until the person stops it).
    pub shutdown: Option<CancellationToken>,
}

#[tonic::async_trait]
impl pb::grpc_controller_server::GrpcController for Controller {
    async fn shutdown(&self, _req: Request<pb::Empty>) -> Result<Response<pb::Empty>, Status> {
        match &self.shutdown {
            Some(t) => {
                tracing::debug!("shutdown requested by Terraform");
                t.cancel();
            }
            None => tracing::info!("shutdown requested; ignored in debug mode"),
        }
        Ok(Response::new(pb::Empty {}))
    }
}

/// An stdio stream that ends at once: nothing is forwarded.
pub struct Stdio;

type StdioStream =
    Pin<Box<dyn futures::Stream<Item = Result<pb::StdioData, Status>> + Send + 'static>>;

#[tonic::async_trait]
impl pb::grpc_stdio_server::GrpcStdio for Stdio {
    type StreamStdioStream = StdioStream;

    async fn stream_stdio(
        &self,
        _req: Request<()>,
    ) -> Result<Response<Self::StreamStdioStream>, Status> {
        Ok(Response::new(Box::pin(futures::stream::empty())))
    }
}
