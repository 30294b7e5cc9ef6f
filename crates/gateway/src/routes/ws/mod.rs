//! Live sessions over WebSockets. Four protocols, one driver ([`driver`]) and one session type
//! (`sokuji_live`): the original system's JSON protocol for translation (`/api/v1/ws/translate`)
//! and transcription (`/api/v1/ws/asr`, the same session with translation and speech off), and
//! OpenAI's realtime protocols for transcription (`/v1/realtime`) and speech translation
//! (`/v1/realtime/translations`). A protocol only turns frames into session input and session
//! events into frames; the driver owns the socket, the send timeout, close codes, metrics and
//! the archive.
mod driver;
mod realtime_events;
mod realtime_transcription;
mod realtime_translation;
mod sokuji;

use crate::AppState;
use axum::{
    extract::{Query, State, ws::WebSocketUpgrade},
    http::{HeaderMap, HeaderValue},
    response::Response,
};
use serde::Deserialize;
use sokuji_live::session_id;
use sokuji_services::SESSION_ID_KEY;
use tracing::Instrument;
use utoipa_axum::{router::OpenApiRouter, routes};

/// Largest frame a client may send: 1 MiB is 32 s of 16 kHz int16 mono.
pub const MAX_FRAME_BYTES: usize = 1 << 20;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(translate))
        .routes(routes!(asr))
        .routes(routes!(realtime))
        .routes(routes!(realtime_translations))
}

/// Upgrades with the frame limits, runs `protocol` in a span carrying a fresh session id, and
/// gives the id back in the upgrade response's headers.
fn upgrade<P: driver::Protocol>(
    state: AppState,
    ws: WebSocketUpgrade,
    wire: &'static str,
    protocol: impl FnOnce(&str) -> P + Send + 'static,
) -> Response {
    let id = session_id();
    let span = tracing::info_span!("live", session = %id, wire);
    let session = id.clone();
    let mut response = ws
        .max_message_size(MAX_FRAME_BYTES)
        .max_frame_size(MAX_FRAME_BYTES)
        .on_upgrade(move |socket| driver::run(state, socket, protocol(&session)).instrument(span));
    if let Ok(v) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(SESSION_ID_KEY, v);
    }
    response
}

/// WebSocket: the original system's live translation protocol (`config`, audio, `commit`, `end`;
/// `transcription`, `translation`, `audio`, `error`, `recording`). See `sokuji_api::live`.
#[utoipa::path(get, path = "/api/v1/ws/translate", tag = "websocket", operation_id = "ws_translate",
    responses((status = 101, description = "WebSocket upgrade"), (status = 400, description = "Not a WebSocket handshake")))]
async fn translate(State(s): State<AppState>, ws: WebSocketUpgrade) -> Response {
    let ctx = driver::Ctx::of(&s);
    upgrade(s, ws, "ws", move |_| sokuji::SokujiJson::new(sokuji::Mode::Translate, ctx))
}

/// WebSocket: live transcription (the translate protocol with translation and speech off).
#[utoipa::path(get, path = "/api/v1/ws/asr", tag = "websocket",
    responses((status = 101, description = "WebSocket upgrade"), (status = 400, description = "Not a WebSocket handshake")))]
async fn asr(State(s): State<AppState>, ws: WebSocketUpgrade) -> Response {
    let ctx = driver::Ctx::of(&s);
    upgrade(s, ws, "ws-asr", move |_| sokuji::SokujiJson::new(sokuji::Mode::Transcribe, ctx))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct RealtimeQuery {
    /// Reported back in the session; the server's engines do the work.
    #[serde(default)]
    model: Option<String>,
}

/// OpenAI's beta realtime clients say so in a header; they get the beta event shapes.
fn beta(headers: &HeaderMap) -> bool {
    headers.get("openai-beta").and_then(|v| v.to_str().ok()).is_some_and(|v| v.contains("realtime=v1"))
}

/// WebSocket: OpenAI's realtime transcription sessions.
#[utoipa::path(get, path = "/v1/realtime", tag = "websocket",
    responses((status = 101, description = "WebSocket upgrade"), (status = 400, description = "Not a WebSocket handshake")))]
async fn realtime(State(s): State<AppState>, headers: HeaderMap, ws: WebSocketUpgrade) -> Response {
    let beta = beta(&headers);
    upgrade(s, ws, "realtime", move |id| realtime_transcription::Transcription::new(id, beta))
}

/// WebSocket: OpenAI's realtime speech translation sessions.
#[utoipa::path(get, path = "/v1/realtime/translations", tag = "websocket", params(RealtimeQuery),
    responses((status = 101, description = "WebSocket upgrade"), (status = 400, description = "Not a WebSocket handshake")))]
async fn realtime_translations(
    State(s): State<AppState>,
    Query(q): Query<RealtimeQuery>,
    ws: WebSocketUpgrade,
) -> Response {
    let model = q.model.unwrap_or_else(|| "sokuji-live".into());
    upgrade(s, ws, "realtime-translation", move |id| realtime_translation::Translation::new(id, model))
}

#[cfg(test)]
mod tests;
