//! What the server says of itself: `GET /health`, `GET /` (for API clients), `GET /api/v1/info`.
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::ToSchema;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct HealthResponse {
    /// "healthy", or "degraded" when an engine is not (the server still serves what works).
    pub status: String,
    /// Each engine: "ready", "loading", "disabled", or what is wrong.
    pub services: BTreeMap<String, String>,
    pub details: BTreeMap<String, EngineDetails>,
    pub version: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct EngineDetails {
    pub provider: String,
    pub info: BTreeMap<String, String>,
}

/// `GET /` with `Accept: application/json` (browsers get the live page).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Root {
    pub message: String,
    pub version: String,
    /// Where the API is described.
    pub docs: String,
    pub openapi: String,
}

/// What the API offers, grouped as the original gateway grouped it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Info {
    pub name: String,
    pub version: String,
    pub description: String,
    /// By area (the OpenAPI tags): the routes under it.
    pub endpoints: BTreeMap<String, EndpointGroup>,
    /// The gRPC services and their default ports.
    pub microservices: BTreeMap<String, String>,
    pub openapi: String,
    pub docs: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct EndpointGroup {
    /// The longest path prefix the group's routes share.
    pub base_path: String,
    /// "METHOD /rest-of-path".
    pub endpoints: Vec<String>,
}
