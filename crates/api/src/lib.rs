//! Sokuji's JSON wire types, one typed message per wire message, shared by the gateway (which
//! speaks them) and the CLI (which reads them): no `v["field"]` lookups anywhere.
//!
//! - [`live`]: the live-translation WebSocket protocol of the original system (and its Sokuji
//!   additions), served at `/api/v1/ws/translate` and `/api/v1/ws/asr`.
//! - [`realtime`]: OpenAI's realtime events for transcription sessions (`/v1/realtime`) and
//!   speech translation sessions (`/v1/realtime/translations`).
//! - [`rest`]: every REST request and answer, with the OpenAPI schemas `/openapi.json` is made of.
//!
//! Never: any behaviour beyond (de)serialization and the defaults a client may omit.
pub mod live;
pub mod realtime;
pub mod rest;

/// `Option<Option<T>>` from JSON: a missing field is `None` (keep), `null` is `Some(None)`
/// (switch off), a value is `Some(Some(v))`. Use with `#[serde(default, deserialize_with)]`.
pub fn double_option<'de, T, D>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    T: serde::Deserialize<'de>,
    D: serde::Deserializer<'de>,
{
    serde::Deserialize::deserialize(d).map(Some)
}
