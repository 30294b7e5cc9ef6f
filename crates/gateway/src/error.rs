//! HTTP rendering of the one error table.
use axum::{
    Json,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use sokuji_core::{Error, ErrorCode};

/// An `Error` on its way out as JSON.
#[derive(Debug)]
pub struct ApiError(pub Error);

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        Self(e)
    }
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self(Error::new(code, message))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.0.code.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        if status.is_server_error() {
            tracing::error!(code = %self.0.code, "{}", self.0.message);
        }
        let mut response = (status, Json(sokuji_api::rest::ErrorBody::from(&self.0))).into_response();
        // A request without a valid credential is told how to authenticate.
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                axum::http::header::WWW_AUTHENTICATE,
                axum::http::HeaderValue::from_static("Bearer realm=\"sokuji\""),
            );
        }
        // A retryable refusal says when to come back; a limit's, with the limit's fields.
        if let Some(limit) = &self.0.limit {
            let h = response.headers_mut();
            h.insert(axum::http::header::RETRY_AFTER, axum::http::HeaderValue::from(limit.reset_secs));
            for (k, v) in crate::auth::rate_headers(limit) {
                h.insert(k, v);
            }
        } else if status == StatusCode::SERVICE_UNAVAILABLE {
            response.headers_mut().insert(axum::http::header::RETRY_AFTER, axum::http::HeaderValue::from_static("1"));
        }
        response
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

/// A JSON body axum could not read, as `invalid_request`.
pub fn bad_json(e: axum::extract::rejection::JsonRejection) -> ApiError {
    ApiError::new(ErrorCode::InvalidRequest, format!("bad JSON body: {}", e.body_text()))
}
