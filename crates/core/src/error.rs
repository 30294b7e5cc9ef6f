//! The one error table: every error a user can see carries a stable machine code, and the
//! HTTP and gRPC statuses derive from that code alone.
use std::fmt;

/// Stable machine codes. Never rename a code: clients match on the string.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    InvalidAudio,
    InvalidRequest,
    UnsupportedLanguage,
    UploadTooLarge,
    RateLimited,
    ModelNotFound,
    VoiceNotFound,
    UnsupportedFormat,
    EngineUnavailable,
    EngineFailed,
    Timeout,
    Cancelled,
    NotFound,
    /// No credential, or one that is wrong, expired or revoked.
    Unauthenticated,
    /// A valid credential without the scope (or tenant) the request needs.
    Forbidden,
    Internal,
}

/// Every code, for documentation and table tests.
pub const ALL_CODES: &[ErrorCode] = &[
    ErrorCode::InvalidAudio,
    ErrorCode::InvalidRequest,
    ErrorCode::UnsupportedLanguage,
    ErrorCode::UploadTooLarge,
    ErrorCode::RateLimited,
    ErrorCode::ModelNotFound,
    ErrorCode::VoiceNotFound,
    ErrorCode::UnsupportedFormat,
    ErrorCode::EngineUnavailable,
    ErrorCode::EngineFailed,
    ErrorCode::Timeout,
    ErrorCode::Cancelled,
    ErrorCode::NotFound,
    ErrorCode::Unauthenticated,
    ErrorCode::Forbidden,
    ErrorCode::Internal,
];

/// gRPC status codes (numeric, from the gRPC spec) so that `core` needs no gRPC crate.
pub mod grpc {
    pub const CANCELLED: i32 = 1;
    pub const INVALID_ARGUMENT: i32 = 3;
    pub const DEADLINE_EXCEEDED: i32 = 4;
    pub const NOT_FOUND: i32 = 5;
    pub const PERMISSION_DENIED: i32 = 7;
    pub const RESOURCE_EXHAUSTED: i32 = 8;
    pub const INTERNAL: i32 = 13;
    pub const UNAVAILABLE: i32 = 14;
    pub const UNAUTHENTICATED: i32 = 16;
}

impl ErrorCode {
    /// (machine code, HTTP status, gRPC status, retryable)
    const fn row(self) -> (&'static str, u16, i32, bool) {
        use ErrorCode::*;
        match self {
            InvalidAudio => ("invalid_audio", 400, grpc::INVALID_ARGUMENT, false),
            InvalidRequest => ("invalid_request", 400, grpc::INVALID_ARGUMENT, false),
            UnsupportedLanguage => ("unsupported_language", 400, grpc::INVALID_ARGUMENT, false),
            UploadTooLarge => ("upload_too_large", 413, grpc::RESOURCE_EXHAUSTED, false),
            RateLimited => ("rate_limited", 429, grpc::RESOURCE_EXHAUSTED, true),
            ModelNotFound => ("model_not_found", 404, grpc::NOT_FOUND, false),
            VoiceNotFound => ("voice_not_found", 404, grpc::NOT_FOUND, false),
            UnsupportedFormat => ("unsupported_format", 400, grpc::INVALID_ARGUMENT, false),
            EngineUnavailable => ("engine_unavailable", 503, grpc::UNAVAILABLE, true),
            EngineFailed => ("engine_failed", 500, grpc::INTERNAL, false),
            Timeout => ("timeout", 504, grpc::DEADLINE_EXCEEDED, true),
            Cancelled => ("cancelled", 499, grpc::CANCELLED, false),
            NotFound => ("not_found", 404, grpc::NOT_FOUND, false),
            Unauthenticated => ("unauthenticated", 401, grpc::UNAUTHENTICATED, false),
            Forbidden => ("forbidden", 403, grpc::PERMISSION_DENIED, false),
            Internal => ("internal", 500, grpc::INTERNAL, false),
        }
    }

    pub const fn as_str(self) -> &'static str {
        self.row().0
    }
    pub const fn http_status(self) -> u16 {
        self.row().1
    }
    pub const fn grpc_code(self) -> i32 {
        self.row().2
    }
    pub const fn retryable(self) -> bool {
        self.row().3
    }

    pub fn from_str_code(s: &str) -> Option<Self> {
        ALL_CODES.iter().copied().find(|c| c.as_str() == s)
    }

    /// Best guess from a bare gRPC status, for peers that do not send the machine code.
    pub fn from_grpc_code(code: i32) -> Self {
        match code {
            grpc::CANCELLED => Self::Cancelled,
            grpc::INVALID_ARGUMENT => Self::InvalidRequest,
            grpc::DEADLINE_EXCEEDED => Self::Timeout,
            grpc::NOT_FOUND => Self::NotFound,
            grpc::RESOURCE_EXHAUSTED => Self::RateLimited,
            grpc::UNAVAILABLE => Self::EngineUnavailable,
            grpc::UNAUTHENTICATED => Self::Unauthenticated,
            grpc::PERMISSION_DENIED => Self::Forbidden,
            _ => Self::Internal,
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A user-visible error: a code from the table and a message for humans.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct Error {
    pub code: ErrorCode,
    pub message: String,
    /// The limit that refused a request (`rate_limited`): the answer's `Retry-After` and
    /// RateLimit fields.
    pub limit: Option<crate::quota::LimitState>,
}

impl Error {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self { code, message: message.into(), limit: None }
    }
    pub fn with_limit(self, limit: crate::quota::LimitState) -> Self {
        Self { limit: Some(limit), ..self }
    }
    pub fn invalid_audio(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidAudio, message)
    }
    pub fn invalid_request(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidRequest, message)
    }
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Internal, message)
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_round_trip() {
        let mut seen = std::collections::HashSet::new();
        for &c in ALL_CODES {
            assert!(seen.insert(c.as_str()), "duplicate code {c}");
            assert_eq!(ErrorCode::from_str_code(c.as_str()), Some(c));
            assert!((400..600).contains(&c.http_status()));
        }
    }

    #[test]
    fn table_rows() {
        let check = |c: ErrorCode, s: &str, http: u16, g: i32| {
            assert_eq!((c.as_str(), c.http_status(), c.grpc_code()), (s, http, g));
        };
        check(ErrorCode::InvalidAudio, "invalid_audio", 400, 3);
        check(ErrorCode::UploadTooLarge, "upload_too_large", 413, 8);
        check(ErrorCode::EngineUnavailable, "engine_unavailable", 503, 14);
        assert!(ErrorCode::EngineUnavailable.retryable());
        assert!(!ErrorCode::InvalidAudio.retryable());
    }
}
