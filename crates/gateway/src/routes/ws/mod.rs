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

use crate::{AppState, error::ApiError};
use axum::{
    extract::{FromRequestParts, Query, State, ws::WebSocketUpgrade},
    http::{HeaderMap, HeaderValue, request::Parts},
    response::{IntoResponse, Response},
};
use serde::Deserialize;
use sokuji_core::auth::{LiveSlot, Meter, Principal};
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

/// Who opens a live session: the tenant a recorded session is stored for, and the meter of its
/// audio and concurrent sessions (keys with such limits).
pub struct Caller {
    pub tenant: String,
    pub meter: Option<Meter>,
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let tenant = parts.extensions.get::<Principal>().map_or("", Principal::home_tenant).to_string();
        Ok(Self { tenant, meter: parts.extensions.get::<Meter>().cloned() })
    }
}

/// A live session's caller and the session slot it holds until the socket closes.
pub struct Opened {
    pub caller: Caller,
    /// Held, never read: dropped with the session, it frees the slot.
    pub slot: LiveSlot,
}

/// Takes one of the caller's live-session slots (a refusal is a 429 before any upgrade), upgrades
/// with the frame limits, runs `protocol` in a span carrying a fresh session id, and gives the id
/// back in the upgrade response's headers.
async fn upgrade<P: driver::Protocol>(
    state: AppState,
    caller: Caller,
    ws: WebSocketUpgrade,
    wire: &'static str,
    protocol: impl FnOnce(&str) -> P + Send + 'static,
) -> Response {
    let opened = match sokuji_core::auth::open_live(caller.meter.as_ref()).await {
        Ok(slot) => Opened { caller, slot },
        Err(e) => return ApiError(e).into_response(),
    };
    let id = session_id();
    let span = tracing::info_span!("live", session = %id, wire);
    let session = id.clone();
    let mut response = ws
        .max_message_size(MAX_FRAME_BYTES)
        .max_frame_size(MAX_FRAME_BYTES)
        .on_upgrade(move |socket| driver::run(state, socket, protocol(&session), opened).instrument(span));
    if let Ok(v) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(SESSION_ID_KEY, v);
    }
    response
}

/// WebSocket: the original system's live translation protocol (`config`, audio, `commit`, `end`;
/// `transcription`, `translation`, `audio`, `error`, `recording`). See `sokuji_api::live`.
#[utoipa::path(get, path = "/api/v1/ws/translate", tag = "websocket", operation_id = "ws_translate",
    responses((status = 101, description = "WebSocket upgrade"), (status = 400, description = "Not a WebSocket handshake")))]
async fn translate(State(s): State<AppState>, caller: Caller, ws: WebSocketUpgrade) -> Response {
    let ctx = driver::Ctx::of(&s);
    upgrade(s, caller, ws, "ws", move |_| sokuji::SokujiJson::new(sokuji::Mode::Translate, ctx)).await
}

/// WebSocket: live transcription (the translate protocol with translation and speech off).
#[utoipa::path(get, path = "/api/v1/ws/asr", tag = "websocket",
    responses((status = 101, description = "WebSocket upgrade"), (status = 400, description = "Not a WebSocket handshake")))]
async fn asr(State(s): State<AppState>, caller: Caller, ws: WebSocketUpgrade) -> Response {
    let ctx = driver::Ctx::of(&s);
    upgrade(s, caller, ws, "ws-asr", move |_| sokuji::SokujiJson::new(sokuji::Mode::Transcribe, ctx)).await
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
async fn realtime(State(s): State<AppState>, caller: Caller, headers: HeaderMap, ws: WebSocketUpgrade) -> Response {
    let beta = beta(&headers);
    upgrade(s, caller, ws, "realtime", move |id| realtime_transcription::Transcription::new(id, beta)).await
}

/// WebSocket: OpenAI's realtime speech translation sessions.
#[utoipa::path(get, path = "/v1/realtime/translations", tag = "websocket", params(RealtimeQuery),
    responses((status = 101, description = "WebSocket upgrade"), (status = 400, description = "Not a WebSocket handshake")))]
async fn realtime_translations(
    State(s): State<AppState>,
    caller: Caller,
    Query(q): Query<RealtimeQuery>,
    ws: WebSocketUpgrade,
) -> Response {
    let model = q.model.unwrap_or_else(|| "sokuji-live".into());
    upgrade(s, caller, ws, "realtime-translation", move |id| realtime_translation::Translation::new(id, model)).await
}

#[cfg(test)]
mod tests;
