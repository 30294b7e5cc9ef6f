//! The HTTP gateway: Sokuji's REST API, the OpenAI-compatible audio API and health. It holds
//! `Arc<dyn Trait>` for every engine and never knows whether one is local or remote.
//!
//! Only this crate (and `proto`) knows wire formats; errors leave as
//! `{"error":{"code","message"}}` with the status from the one error table.

pub mod auth;
pub mod cors;
pub mod error;
pub mod jwt;
pub mod metrics;
pub mod routes;
pub mod upload;

#[cfg(test)]
mod auth_tests;
#[cfg(test)]
mod openapi_tests;
#[cfg(test)]
mod tenant_tests;
#[cfg(test)]
mod testing;

use axum::{Extension, Router, extract::DefaultBodyLimit};
use sokuji_admission::Admission;
use sokuji_audio::OutputFormat;
use sokuji_core::{Error, ErrorCode, SpeechToText, Synthesizer, TextNormalizer, Translator, guard::Rejections};
use std::{sync::Arc, time::Duration};
use tower_http::trace::TraceLayer;
use utoipa::OpenApi as _;
use utoipa_axum::router::OpenApiRouter;

/// What the handlers share.
#[derive(Clone)]
pub struct AppState {
    pub stt: Arc<dyn SpeechToText>,
    pub text: Arc<dyn TextNormalizer>,
    /// `None` when translation is switched off: its routes answer `engine_unavailable`.
    pub translator: Option<Arc<dyn Translator>>,
    /// `None` when speech output is switched off.
    pub tts: Option<Arc<dyn Synthesizer>>,
    /// `None` when embeddings are switched off.
    pub embedder: Option<Arc<dyn sokuji_core::Embedder>>,
    /// Largest accepted request body; larger uploads get `upload_too_large`.
    pub max_upload_bytes: usize,
    /// Model ids listed by `GET /v1/models` (the configured STT and translation models).
    pub model_names: Vec<String>,
    pub metrics: metrics::Metrics,
    /// A live client that has not taken a message for this long is disconnected, so a stuck
    /// client cannot hold a session's engines.
    pub live_send_timeout: std::time::Duration,
    /// Longest time a request may take, except archive uploads (bounded by their idle time).
    pub request_timeout: std::time::Duration,
    /// The speech archive (recordings API); `None` when this server runs none.
    pub archive: Option<routes::recordings::Archive>,
    /// Makes each live session's voice-activity detector.
    pub vad: sokuji_live::VadFactory,
    /// Audio the local recognizer refused as non-speech, by reason (exported in /metrics).
    pub rejections: Arc<Rejections>,
    /// CPU work of requests (decoding uploads, encoding FLAC) runs here, off the async runtime.
    pub cpu: Admission,
    /// Which browser origins may call the API.
    pub cors: cors::Cors,
    /// Who may call it.
    pub auth: auth::Auth,
}

impl AppState {
    pub fn translator(&self) -> Result<&Arc<dyn Translator>, Error> {
        self.translator.as_ref().ok_or_else(|| off("translation"))
    }

    pub fn tts(&self) -> Result<&Arc<dyn Synthesizer>, Error> {
        self.tts.as_ref().ok_or_else(|| off("speech synthesis"))
    }

    pub fn embedder(&self) -> Result<&Arc<dyn sokuji_core::Embedder>, Error> {
        self.embedder.as_ref().ok_or_else(|| off("text embedding"))
    }

    /// The engines of a live session, its heard audio metered by `meter`.
    pub fn live_engines(&self, meter: Option<sokuji_core::auth::Meter>) -> sokuji_live::LiveEngines {
        sokuji_live::LiveEngines {
            stt: self.stt.clone(),
            translator: self.translator.clone(),
            tts: self.tts.clone(),
            vad: self.vad.clone(),
            meter,
        }
    }

    /// Encodes speech off the async runtime (FLAC costs real CPU time).
    pub async fn encode(&self, samples: Vec<f32>, rate: u32, format: OutputFormat) -> Result<Vec<u8>, Error> {
        self.cpu.run(None, move |_| sokuji_audio::encode(&samples, rate, format)).await
    }
}

fn off(what: &str) -> Error {
    Error::new(ErrorCode::EngineUnavailable, format!("{what} is switched off in this server's configuration"))
}

/// The document's head; the paths and schemas come from the handlers (`utoipa::path`).
#[derive(utoipa::OpenApi)]
#[openapi(
    info(title = "Sokuji", description = "Live speech translation and a Vietnamese-first speech archive: \
        speech-to-text, translation and speech over REST, WebSocket and gRPC; OpenAI-compatible audio API."),
    tags(
        (name = "stt", description = "Speech to text (the original system's REST API)"),
        (name = "translation", description = "Text translation"),
        (name = "tts", description = "Text to speech"),
        (name = "text", description = "Vietnamese text normalization"),
        (name = "pipeline", description = "Speech or text in, translated speech out"),
        (name = "websocket", description = "Live sessions"),
        (name = "openai", description = "OpenAI-compatible audio and embeddings API"),
        (name = "archive", description = "The speech archive: recordings, transcripts, search"),
        (name = "health", description = "Health"),
        (name = "admin", description = "API keys"),
        (name = "service", description = "Pages, metrics and this document"),
    )
)]
struct ApiDoc;

/// Every documented route, without layers: the application and its OpenAPI document are made
/// from the same list, so neither can miss a route of the other.
fn routes() -> (OpenApiRouter<AppState>, OpenApiRouter<AppState>) {
    let timed = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(routes::health::router())
        .merge(routes::stt::router())
        .merge(routes::openai::router())
        .merge(routes::openai_speech::router())
        .merge(routes::text::router())
        .merge(routes::translation::router())
        .merge(routes::tts::router())
        .merge(routes::embeddings::router())
        .merge(routes::ws::router())
        .merge(routes::pipeline::router())
        .merge(routes::recordings::router())
        .merge(routes::search::router())
        .merge(metrics::router())
        .merge(routes::keys::router())
        .merge(routes::keys::token_router())
        .merge(routes::web::router());
    (timed, routes::recordings::upload_router())
}

/// This API's OpenAPI 3.1 document (`/openapi.json`; `sokuji openapi` prints it).
pub fn openapi() -> utoipa::openapi::OpenApi {
    let (timed, uploads) = routes();
    timed.merge(uploads).into_openapi()
}

/// The whole HTTP application, with its layers. Archive uploads may take as long as the bytes
/// keep coming (a multi-gigabyte file over a slow link), so they are bounded by the time between
/// body chunks instead of the request timeout.
pub fn app(state: AppState) -> Router<()> {
    let limit = state.max_upload_bytes;
    let upload_idle = state.archive.as_ref().map_or(Duration::from_secs(60), |a| a.upload_idle);
    let (timed, uploads) = routes();
    let timed = timed.layer(DefaultBodyLimit::max(limit)).layer(tower_http::timeout::TimeoutLayer::with_status_code(
        axum::http::StatusCode::GATEWAY_TIMEOUT,
        state.request_timeout,
    ));
    let uploads = uploads
        .layer(DefaultBodyLimit::disable())
        .layer(tower_http::timeout::RequestBodyTimeoutLayer::new(upload_idle));
    let (router, doc) = timed.merge(uploads).split_for_parts();
    let cors = state.cors.layer();
    router
        .merge(routes::web::docs())
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), auth::authenticate))
        .fallback(not_found)
        .with_state(state)
        .layer(Extension(Arc::new(doc)))
        // No answer is ever sniffed into another type (an HTML file uploaded as "audio").
        .layer(tower_http::set_header::SetResponseHeaderLayer::overriding(
            axum::http::header::X_CONTENT_TYPE_OPTIONS,
            axum::http::HeaderValue::from_static("nosniff"),
        ))
        .layer(TraceLayer::new_for_http())
        .layer(cors)
}

async fn not_found(uri: axum::http::Uri) -> error::ApiError {
    error::ApiError::new(sokuji_core::ErrorCode::NotFound, format!("no route for {}", uri.path()))
}
