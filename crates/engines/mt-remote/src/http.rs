//! Mapping of HTTP outcomes onto the error table.
use sokuji_core::{Error, ErrorCode};

pub fn send_error(provider: &str, e: &reqwest::Error) -> Error {
    if e.is_timeout() {
        Error::new(ErrorCode::Timeout, format!("{provider} did not answer in time"))
    } else {
        Error::new(ErrorCode::EngineUnavailable, format!("{provider} unreachable: {e}"))
    }
}

pub fn status_error(provider: &str, status: reqwest::StatusCode, body: &str) -> Error {
    let body: String = body.chars().take(300).collect();
    let code = match status.as_u16() {
        429 => ErrorCode::RateLimited,
        500..=599 => ErrorCode::EngineUnavailable,
        _ => ErrorCode::EngineFailed,
    };
    Error::new(code, format!("{provider} answered {status}: {body}"))
}

pub fn client(timeout: std::time::Duration) -> Result<reqwest::Client, Error> {
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(std::time::Duration::from_secs(5))
        .build()
        .map_err(|e| Error::internal(format!("http client: {e}")))
}
