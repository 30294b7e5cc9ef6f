//! Key administration over HTTP (`admin` scope); `sokuji keys` does the same on the database.
use crate::{
    AppState,
    error::{ApiError, ApiResult, bad_json},
};
use axum::http::HeaderMap;
use axum::{
    Extension, Json,
    extract::{Path, Query, State, rejection::JsonRejection},
    http::StatusCode,
};
use sokuji_api::rest::{
    ErrorBody,
    keys::{
        AuditEntry, AuditLog, CreateKey, CreatedKey, KeyInfo, KeyList, TokenRequest, TokenResponse, Usage, UsageWindow,
    },
};
use sokuji_core::{
    ErrorCode,
    auth::{Principal, Scope},
    quota::Limits,
};
use sokuji_store::{Db, NewKey};
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(create_key, list_keys)).routes(routes!(revoke_key)).routes(routes!(audit_log))
}

/// `POST /api/v1/auth/token`: public in the scope table, since any key may ask (for its own
/// scopes); the handler checks the key itself.
pub fn token_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(issue_token)).routes(routes!(usage))
}

/// What the calling key used in the last day (any key, for itself).
#[utoipa::path(get, path = "/api/v1/usage", tag = "admin", responses((status = 200, description = "Done", body = Usage)))]
async fn usage(State(s): State<AppState>, who: Option<Extension<Principal>>) -> ApiResult<Json<Usage>> {
    let p = who.map(|Extension(p)| p).unwrap_or_else(Principal::anonymous);
    let since = sokuji_store::now_ms() - 86_400_000;
    let db = keys(&s)?;
    let windows = db
        .usage(&p.id, since)
        .await?
        .into_iter()
        .map(|(kind, window_start, amount)| UsageWindow { kind, window_start, amount })
        .collect();
    let l = p.limits;
    Ok(Json(Usage {
        live_sessions_open: db.live_held(&p.id).await?,
        key_id: p.id,
        rate_per_minute: l.requests_per_minute,
        audio_seconds_per_day: l.audio_seconds_per_day,
        live_sessions: l.live_sessions,
        windows,
    }))
}

fn keys(s: &AppState) -> ApiResult<&Db> {
    s.auth.keys.as_ref().ok_or_else(|| ApiError::new(ErrorCode::EngineUnavailable, "this server keeps no keys"))
}

pub fn info(k: sokuji_store::KeyInfo) -> KeyInfo {
    KeyInfo {
        id: k.id,
        name: k.name,
        scopes: k.scopes.iter().map(|s| s.as_str().to_string()).collect(),
        tenant: k.tenant,
        rate_per_minute: k.limits.requests_per_minute,
        audio_seconds_per_day: k.limits.audio_seconds_per_day,
        live_sessions: k.limits.live_sessions,
        created_at: k.created_at,
        revoked_at: k.revoked_at,
    }
}

/// A new key, shown once.
#[utoipa::path(post, path = "/api/v1/keys", tag = "admin", request_body = CreateKey,
    responses((status = 201, description = "Created: the key is shown this once", body = CreatedKey),
        (status = 400, description = "Invalid request: the error says what to change", body = ErrorBody)))]
async fn create_key(
    State(s): State<AppState>,
    who: Option<Extension<Principal>>,
    body: Result<Json<CreateKey>, JsonRejection>,
) -> ApiResult<(StatusCode, Json<CreatedKey>)> {
    let Json(r) = body.map_err(bad_json)?;
    let scopes = Scope::parse_list(&r.scopes.join(","))?;
    let limits = Limits {
        requests_per_minute: r.rate_per_minute,
        audio_seconds_per_day: r.audio_seconds_per_day,
        live_sessions: r.live_sessions,
    };
    let new = NewKey { name: r.name, scopes, tenant: r.tenant, limits };
    let (key, k) = keys(&s)?.create_key(&new, crate::auth::actor(who.as_deref())).await?;
    Ok((StatusCode::CREATED, Json(CreatedKey { key, info: info(k) })))
}

/// Every key (never their secrets), revoked ones too.
#[utoipa::path(get, path = "/api/v1/keys", tag = "admin", responses((status = 200, description = "Done", body = KeyList)))]
async fn list_keys(State(s): State<AppState>) -> ApiResult<Json<KeyList>> {
    Ok(Json(KeyList { items: keys(&s)?.keys().await?.into_iter().map(info).collect() }))
}

/// Revokes a key at once.
#[utoipa::path(delete, path = "/api/v1/keys/{id}", tag = "admin", params(("id" = String, Path)),
    responses((status = 200, description = "Revoked", body = KeyInfo), (status = 404, description = "Not found", body = ErrorBody)))]
async fn revoke_key(
    State(s): State<AppState>,
    who: Option<Extension<Principal>>,
    Path(id): Path<String>,
) -> ApiResult<Json<KeyInfo>> {
    Ok(Json(info(keys(&s)?.revoke_key(&id, crate::auth::actor(who.as_deref())).await?)))
}

#[derive(serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct AuditParams {
    /// Newest entries to show, 1..=1000 (default 100).
    limit: Option<u32>,
}

/// The audit log, newest first: key creation and revocation, deletions, dead-letter purges and replays.
#[utoipa::path(get, path = "/api/v1/audit", tag = "admin", params(AuditParams),
    responses((status = 200, description = "Done", body = AuditLog)))]
async fn audit_log(
    State(s): State<AppState>,
    p: Result<Query<AuditParams>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<AuditLog>> {
    let Query(p) = p.map_err(|e| ApiError::new(ErrorCode::InvalidRequest, format!("bad query: {}", e.body_text())))?;
    let limit = p.limit.unwrap_or(100).clamp(1, 1000);
    let items = keys(&s)?
        .audit_log(limit)
        .await?
        .into_iter()
        .map(|e| AuditEntry { at: e.at, actor: e.actor, action: e.action, target: e.target, detail: e.detail })
        .collect();
    Ok(Json(AuditLog { items }))
}

/// A short-lived token for a web page, exchanged for an API key (never for another token).
#[utoipa::path(post, path = "/api/v1/auth/token", tag = "admin", request_body = TokenRequest,
    responses((status = 200, description = "The token", body = TokenResponse),
        (status = 401, description = "No valid API key", body = ErrorBody),
        (status = 403, description = "A scope the key lacks", body = ErrorBody)))]
async fn issue_token(
    State(s): State<AppState>,
    headers: HeaderMap,
    body: Result<Json<TokenRequest>, JsonRejection>,
) -> ApiResult<Json<TokenResponse>> {
    let Json(r) = body.map_err(bad_json)?;
    let key = crate::auth::credential(&headers, None)
        .filter(|k| k.starts_with("sk_"))
        .ok_or_else(|| ApiError::new(ErrorCode::Unauthenticated, "give an API key (Authorization: Bearer sk_…)"))?;
    let principal = s.auth.verify(key).await?;
    let scopes = match &r.scopes {
        Some(names) => Scope::parse_list(&names.join(","))?,
        None => principal.scopes.clone(),
    };
    let tokens = s
        .auth
        .tokens
        .as_ref()
        .ok_or_else(|| ApiError::new(ErrorCode::EngineUnavailable, "this server issues no tokens"))?;
    let (token, expires_in) = tokens.issue(&principal, &scopes, r.ttl_secs.unwrap_or(300))?;
    Ok(Json(TokenResponse {
        token,
        token_type: "Bearer".into(),
        expires_in,
        scopes: scopes.iter().map(|s| s.as_str().to_string()).collect(),
    }))
}
