//! `TextNormalizer` over the pure `sokuji-text` crate.
use sokuji_core::{Error, ErrorCode, NormalizeMode, Result, TextNormalizer};
use sokuji_text::{ToneStyle, inverse_normalize, normalize, normalize_tones};

/// A text is refused above this size: normalization is linear, but a text is a transcript, not a book.
pub const MAX_TEXT_BYTES: usize = 1 << 20;

#[derive(Clone, Copy, Default)]
pub struct VietnameseNormalizer;

#[async_trait::async_trait]
impl TextNormalizer for VietnameseNormalizer {
    async fn normalize(
        &self,
        texts: Vec<String>,
        mode: NormalizeMode,
        language: &str,
        modern: bool,
    ) -> Result<Vec<String>> {
        if !matches!(language, "" | "vi") {
            return Err(Error::new(
                ErrorCode::UnsupportedLanguage,
                format!("language {language:?}: only \"vi\" is supported"),
            ));
        }
        if texts.iter().any(|t| t.len() > MAX_TEXT_BYTES) {
            return Err(Error::new(ErrorCode::UploadTooLarge, format!("a text is longer than {MAX_TEXT_BYTES} bytes")));
        }
        let style = if modern { ToneStyle::Modern } else { ToneStyle::Classic };
        let line = |l: &str| {
            let toned = normalize_tones(l, style);
            match mode {
                NormalizeMode::Itn => inverse_normalize(&toned),
                NormalizeMode::Tn => normalize(&toned),
                NormalizeMode::Tone => toned,
            }
        };
        // Each line on its own: a newline never joins two sentences.
        Ok(texts.iter().map(|t| t.split('\n').map(line).collect::<Vec<_>>().join("\n")).collect())
    }
}
