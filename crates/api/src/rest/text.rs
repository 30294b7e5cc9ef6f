//! `POST /api/v1/text/normalize`: Vietnamese ITN, TN and tone repair.
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct NormalizeRequest {
    /// One text, or `texts` for a batch (results keep the order).
    #[serde(default)]
    pub text: Option<String>,
    #[serde(default)]
    pub texts: Vec<String>,
    /// "itn" (spoken to written), "tn" (written to spoken) or "tone".
    pub mode: String,
    #[serde(default = "vi")]
    pub language: String,
    /// "classic" (default: "hòa") or "modern" ("hoà").
    #[serde(default)]
    pub tone_style: Option<String>,
}

fn vi() -> String {
    "vi".into()
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct NormalizeResponse {
    pub mode: String,
    pub results: Vec<String>,
}
