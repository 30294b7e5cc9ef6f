//! OpenAI-compatible `POST /v1/embeddings`.
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct EmbeddingsRequest {
    pub input: EmbeddingInput,
    /// Accepted and reported back; there is one embedding model per server.
    #[serde(default)]
    pub model: Option<String>,
    /// "query" or "passage" (default; "document" too), as NVIDIA's API names e5's prefixes.
    #[serde(default)]
    pub input_type: Option<String>,
    /// "float" (default) or "base64" (little-endian f32).
    #[serde(default)]
    pub encoding_format: Option<String>,
    /// When given, must be the model's.
    #[serde(default)]
    pub dimensions: Option<usize>,
    /// OpenAI's, accepted and ignored.
    #[serde(default)]
    pub user: Option<String>,
}

/// A string or a list of strings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum EmbeddingInput {
    One(String),
    Many(Vec<String>),
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct EmbeddingsResponse {
    /// "list".
    pub object: String,
    pub data: Vec<Embedding>,
    pub model: String,
    pub usage: Usage,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Embedding {
    /// "embedding".
    pub object: String,
    pub index: usize,
    pub embedding: Vector,
}

/// Floats, or base64 of little-endian f32 (`encoding_format=base64`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum Vector {
    Float(Vec<f32>),
    Base64(String),
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Usage {
    pub prompt_tokens: usize,
    pub total_tokens: usize,
}
