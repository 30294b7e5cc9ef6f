//! The text-normalization capability: the local Vietnamese normalizer implements it, and so does
//! the gRPC client.
use crate::Result;

/// What to do to the text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NormalizeMode {
    /// Spoken to written (ASR output).
    Itn,
    /// Written to spoken (TTS input).
    Tn,
    /// Unicode and tone-mark repair only.
    Tone,
}

impl NormalizeMode {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "itn" => Some(Self::Itn),
            "tn" => Some(Self::Tn),
            "tone" => Some(Self::Tone),
            _ => None,
        }
    }
}

#[async_trait::async_trait]
pub trait TextNormalizer: Send + Sync {
    /// Normalizes each text (line by line); results keep the order. `modern_tones` places tones
    /// the 1980s way ("hoà") instead of the classic way ("hòa").
    async fn normalize(
        &self,
        texts: Vec<String>,
        mode: NormalizeMode,
        language: &str,
        modern_tones: bool,
    ) -> Result<Vec<String>>;
}
