//! Builds and runs gRPC servers with the cross-cutting layers every service gets: health,
//! reflection, message size limits, a per-connection concurrency limit and request timeouts.
use sokuji_core::SpeechToText;
use sokuji_proto::stt::stt_service_server::SttServiceServer;
use std::{future::Future, net::SocketAddr, sync::Arc, time::Duration};
use tokio_stream::wrappers::TcpListenerStream;

/// Limits of one gRPC server.
#[derive(Clone, Debug)]
pub struct GrpcLimits {
    /// Largest request message (a whole file for `Transcribe`).
    pub max_message_bytes: usize,
    pub concurrency_per_connection: usize,
    /// Timeout of unary calls; streams are bounded by their client.
    pub timeout: Duration,
}

impl Default for GrpcLimits {
    fn default() -> Self {
        Self {
            max_message_bytes: 64 << 20,
            concurrency_per_connection: 32,
            timeout: Duration::from_secs(600),
        }
    }
}

/// Serves the STT service on an already bound listener until `shutdown` completes.
pub async fn serve_stt(
    listener: tokio::net::TcpListener,
    stt: Arc<dyn SpeechToText>,
    limits: GrpcLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), tonic::transport::Error> {
    let (reporter, health) = tonic_health::server::health_reporter();
    reporter
        .set_serving::<SttServiceServer<crate::SttServer>>()
        .await;
    reporter
        .set_service_status("", tonic_health::ServingStatus::Serving)
        .await;
    let reflection = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(sokuji_proto::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1()
        .map_err(|e| {
            tracing::error!("reflection: {e}");
            e
        });
    let stt_service = SttServiceServer::new(crate::SttServer::new(stt))
        .max_decoding_message_size(limits.max_message_bytes)
        .max_encoding_message_size(limits.max_message_bytes);
    let mut builder = tonic::transport::Server::builder()
        .concurrency_limit_per_connection(limits.concurrency_per_connection)
        .timeout(limits.timeout)
        .tcp_nodelay(true);
    let router = builder.add_service(health).add_service(stt_service);
    let router = match reflection {
        Ok(r) => router.add_service(r),
        Err(_) => router,
    };
    router
        .serve_with_incoming_shutdown(TcpListenerStream::new(listener), shutdown)
        .await
}

/// Parses a listen address with a clear message.
pub fn parse_addr(s: &str) -> Result<SocketAddr, String> {
    s.parse()
        .map_err(|e| format!("bad listen address {s:?}: {e}"))
}
