//! Builds and runs gRPC servers with the cross-cutting layers every service gets: health,
//! reflection, message size limits, a per-connection concurrency limit and request timeouts.
use sokuji_core::{Embedder, SpeechToText, Synthesizer, TextNormalizer, Translator};
use sokuji_proto::{
    embedding::embedding_service_server::EmbeddingServiceServer, stt::stt_service_server::SttServiceServer,
    text::text_service_server::TextServiceServer, translation::translation_service_server::TranslationServiceServer,
    tts::tts_service_server::TtsServiceServer,
};
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
        Self { max_message_bytes: 64 << 20, concurrency_per_connection: 32, timeout: Duration::from_secs(600) }
    }
}

/// The services one gRPC server carries; each is optional so that a service can run alone.
#[derive(Clone, Default)]
pub struct Services {
    pub stt: Option<Arc<dyn SpeechToText>>,
    pub text: Option<Arc<dyn TextNormalizer>>,
    pub translation: Option<Arc<dyn Translator>>,
    pub tts: Option<Arc<dyn Synthesizer>>,
    pub embedding: Option<Arc<dyn Embedder>>,
    /// Live sessions over the engines above (local or remote).
    pub live: Option<sokuji_live::LiveEngines>,
    /// Who may call them (`None`: anyone; health and reflection are always open).
    pub auth: Option<Arc<dyn sokuji_core::auth::Authenticator>>,
}

/// Serves `services` on an already bound listener until `shutdown` completes.
pub async fn serve(
    listener: tokio::net::TcpListener,
    services: Services,
    limits: GrpcLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), tonic::transport::Error> {
    let (reporter, health) = tonic_health::server::health_reporter();
    reporter.set_service_status("", tonic_health::ServingStatus::Serving).await;
    let reflection = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(sokuji_proto::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1()
        .map_err(|e| {
            tracing::error!("reflection: {e}");
            e
        });
    let mut builder = tonic::transport::Server::builder()
        .concurrency_limit_per_connection(limits.concurrency_per_connection)
        .timeout(limits.timeout)
        .tcp_nodelay(true)
        .layer(
            tower::ServiceBuilder::new()
                .layer(tower::util::MapResponseLayer::new(too_large_is_resource_exhausted))
                .layer(crate::grpc_auth::GrpcAuthLayer(services.auth.clone())),
        );
    let mut router = builder.add_service(health);
    if let Some(stt) = services.stt {
        reporter.set_serving::<SttServiceServer<crate::SttServer>>().await;
        router = router.add_service(
            SttServiceServer::new(crate::SttServer::new(stt))
                .max_decoding_message_size(limits.max_message_bytes)
                .max_encoding_message_size(limits.max_message_bytes),
        );
    }
    if let Some(text) = services.text {
        reporter.set_serving::<TextServiceServer<crate::TextServer>>().await;
        router = router.add_service(
            TextServiceServer::new(crate::TextServer::new(text))
                .max_decoding_message_size(limits.max_message_bytes)
                .max_encoding_message_size(limits.max_message_bytes),
        );
    }
    if let Some(t) = services.translation {
        reporter.set_serving::<TranslationServiceServer<crate::TranslationServer>>().await;
        router = router.add_service(
            TranslationServiceServer::new(crate::TranslationServer::new(t))
                .max_decoding_message_size(limits.max_message_bytes)
                .max_encoding_message_size(limits.max_message_bytes),
        );
    }
    if let Some(t) = services.tts {
        reporter.set_serving::<TtsServiceServer<crate::TtsServer>>().await;
        router = router.add_service(
            TtsServiceServer::new(crate::TtsServer::new(t))
                .max_decoding_message_size(limits.max_message_bytes)
                .max_encoding_message_size(limits.max_message_bytes),
        );
    }
    if let Some(e) = services.embedding {
        reporter.set_serving::<EmbeddingServiceServer<crate::EmbeddingServer>>().await;
        router = router.add_service(
            EmbeddingServiceServer::new(crate::EmbeddingServer::new(e))
                .max_decoding_message_size(limits.max_message_bytes)
                .max_encoding_message_size(limits.max_message_bytes),
        );
    }
    if let Some(engines) = services.live {
        use sokuji_proto::live::live_translation_service_server::LiveTranslationServiceServer;
        reporter.set_serving::<LiveTranslationServiceServer<crate::live::LiveServer>>().await;
        router = router.add_service(
            LiveTranslationServiceServer::new(crate::live::LiveServer::new(engines))
                .max_decoding_message_size(limits.max_message_bytes)
                .max_encoding_message_size(limits.max_message_bytes),
        );
    }
    let router = match reflection {
        Ok(r) => router.add_service(r),
        Err(_) => router,
    };
    router.serve_with_incoming_shutdown(TcpListenerStream::new(listener), shutdown).await
}

/// Parses a listen address with a clear message.
pub fn parse_addr(s: &str) -> Result<SocketAddr, String> {
    s.parse().map_err(|e| format!("bad listen address {s:?}: {e}"))
}

/// tonic rejects an over-long message with OUT_OF_RANGE before reading it; the error table says
/// RESOURCE_EXHAUSTED / `upload_too_large`, so the status is rewritten on its way out, in the
/// headers (trailers-only responses) or in the trailers.
fn too_large_is_resource_exhausted(res: http::Response<tonic::body::Body>) -> http::Response<tonic::body::Body> {
    use http_body_util::BodyExt;
    let (mut parts, body) = res.into_parts();
    rewrite_status(&mut parts.headers);
    let body = body.map_frame(|frame| match frame.into_trailers() {
        Ok(mut trailers) => {
            rewrite_status(&mut trailers);
            http_body::Frame::trailers(trailers)
        }
        Err(frame) => frame,
    });
    http::Response::from_parts(parts, tonic::body::Body::new(body))
}

fn rewrite_status(h: &mut http::HeaderMap) {
    let too_large = h.get("grpc-status").is_some_and(|v| v == "11")
        && h.get("grpc-message")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|m| m.replace("%20", " ").contains("message length too large"));
    if too_large {
        let code = sokuji_core::ErrorCode::UploadTooLarge;
        h.insert("grpc-status", http::HeaderValue::from(code.grpc_code()));
        h.insert(sokuji_proto::convert::ERROR_CODE_KEY, http::HeaderValue::from_static(code.as_str()));
    }
}
