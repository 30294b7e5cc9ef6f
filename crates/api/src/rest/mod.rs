//! The REST API's requests and answers, one struct per body, with their OpenAPI schemas
//! (`utoipa::ToSchema`): the gateway serves them, the CLI reads them, `/openapi.json` is made
//! from them. Conversions from the domain live here, so `sokuji-core` stays free of wire formats.
pub mod archive;
pub mod embeddings;
pub mod keys;
pub mod openai;
pub mod pipeline;
pub mod search;
pub mod service;
pub mod stt;
pub mod text;
pub mod transcript;
pub mod translation;
pub mod tts;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Every error answer: a code of the one error table and a sentence for people.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ErrorDetail {
    /// e.g. "invalid_request", "not_found", "engine_unavailable", "invalid_audio".
    pub code: String,
    pub message: String,
}

impl From<&sokuji_core::Error> for ErrorBody {
    fn from(e: &sokuji_core::Error) -> Self {
        Self { error: ErrorDetail { code: e.code.as_str().to_string(), message: e.message.clone() } }
    }
}
