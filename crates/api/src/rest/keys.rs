//! The key administration API (`admin` scope): `POST /api/v1/keys`, `GET /api/v1/keys`,
//! `DELETE /api/v1/keys/{id}`.
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateKey {
    pub name: String,
    /// Scope names (stt, translate, tts, live, search, archive:read, archive:write,
    /// archive:admin, datasets, training, metrics, admin) or "all".
    pub scopes: Vec<String>,
    #[serde(default)]
    pub tenant: Option<String>,
    /// Requests a minute (absent: unlimited).
    #[serde(default)]
    pub rate_per_minute: Option<u32>,
    /// Seconds of audio transcribed or synthesized a UTC day (absent: unlimited).
    #[serde(default)]
    pub audio_seconds_per_day: Option<u32>,
    /// Live sessions open at once (absent: unlimited).
    #[serde(default)]
    pub live_sessions: Option<u32>,
}

/// 201: the key, shown this once; only its hash is kept.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CreatedKey {
    pub key: String,
    #[serde(flatten)]
    pub info: KeyInfo,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct KeyInfo {
    /// The key's visible prefix (`sk_<id>_…`).
    pub id: String,
    pub name: String,
    pub scopes: Vec<String>,
    pub tenant: Option<String>,
    pub rate_per_minute: Option<u32>,
    pub audio_seconds_per_day: Option<u32>,
    pub live_sessions: Option<u32>,
    /// Milliseconds since the Unix epoch.
    pub created_at: i64,
    pub revoked_at: Option<i64>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct KeyList {
    pub items: Vec<KeyInfo>,
}

/// `POST /api/v1/auth/token` (with an API key): a short-lived token for a web page.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    /// A subset of the key's scopes (default: all of them).
    #[serde(default)]
    pub scopes: Option<Vec<String>>,
    /// Seconds of life, at most 900 (default 300).
    #[serde(default)]
    pub ttl_secs: Option<u64>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TokenResponse {
    /// Use as `Authorization: Bearer TOKEN` or `?api_key=TOKEN` (WebSockets).
    pub token: String,
    /// "Bearer".
    pub token_type: String,
    pub expires_in: u64,
    pub scopes: Vec<String>,
}

/// `GET /api/v1/audit` (admin scope).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AuditLog {
    pub items: Vec<AuditEntry>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AuditEntry {
    /// Milliseconds since the Unix epoch.
    pub at: i64,
    /// The key or token id, `cli:<user>`, or `anonymous` (authentication off).
    pub actor: String,
    /// key.create, key.revoke, recording.delete, dlq.purge, dlq.replay.
    pub action: String,
    pub target: String,
    pub detail: String,
}

/// `GET /api/v1/usage`: what the calling key used in the last day, by window.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Usage {
    pub key_id: String,
    pub rate_per_minute: Option<u32>,
    pub audio_seconds_per_day: Option<u32>,
    pub live_sessions: Option<u32>,
    /// Live sessions of this key open now (on every replica).
    pub live_sessions_open: u64,
    pub windows: Vec<UsageWindow>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct UsageWindow {
    /// "requests" (calendar minutes) or "audio_seconds" (UTC days).
    pub kind: String,
    /// The window's start, ms since the Unix epoch.
    pub window_start: i64,
    pub amount: u64,
}
