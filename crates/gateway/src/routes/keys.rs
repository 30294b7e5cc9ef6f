//! Key administration over HTTP (`admin` scope); `sokuji keys` does the same on the database.
use crate::{
    AppState,
    error::{ApiError, ApiResult, bad_json},
};
use axum::{
    Json,
    extract::{Path, State, rejection::JsonRejection},
    http::StatusCode,
};
use sokuji_api::rest::{
    ErrorBody,
    keys::{CreateKey, CreatedKey, KeyInfo, KeyList},
};
use sokuji_core::{ErrorCode, auth::Scope};
use sokuji_store::{Db, NewKey};
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(create, list)).routes(routes!(revoke))
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
        created_at: k.created_at,
        revoked_at: k.revoked_at,
    }
}

/// A new key, shown once.
#[utoipa::path(post, path = "/api/v1/keys", tag = "admin", request_body = CreateKey,
    responses((status = 201, description = "Created: the key is shown this once", body = CreatedKey),
        (status = 400, description = "Invalid request: the error says what to change", body = ErrorBody)))]
async fn create(
    State(s): State<AppState>,
    body: Result<Json<CreateKey>, JsonRejection>,
) -> ApiResult<(StatusCode, Json<CreatedKey>)> {
    let Json(r) = body.map_err(bad_json)?;
    let scopes = Scope::parse_list(&r.scopes.join(","))?;
    let (key, k) = keys(&s)?.create_key(&NewKey { name: r.name, scopes, tenant: r.tenant }).await?;
    Ok((StatusCode::CREATED, Json(CreatedKey { key, info: info(k) })))
}

/// Every key (never their secrets), revoked ones too.
#[utoipa::path(get, path = "/api/v1/keys", tag = "admin", responses((status = 200, description = "Done", body = KeyList)))]
async fn list(State(s): State<AppState>) -> ApiResult<Json<KeyList>> {
    Ok(Json(KeyList { items: keys(&s)?.keys().await?.into_iter().map(info).collect() }))
}

/// Revokes a key at once.
#[utoipa::path(delete, path = "/api/v1/keys/{id}", tag = "admin", params(("id" = String, Path)),
    responses((status = 200, description = "Revoked", body = KeyInfo), (status = 404, description = "Not found", body = ErrorBody)))]
async fn revoke(State(s): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<KeyInfo>> {
    Ok(Json(info(keys(&s)?.revoke_key(&id).await?)))
}
