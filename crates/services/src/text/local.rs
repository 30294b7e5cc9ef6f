//! `TextNormalizer` over the pure `sokuji-text` crate.
use sokuji_core::{Error, ErrorCode, NormalizeMode, Result, TextNormalizer};
use sokuji_text::{Mode, ToneStyle, normalize_line};

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
        let mode = match mode {
            NormalizeMode::Itn => Mode::Itn,
            NormalizeMode::Tn => Mode::Tn,
            NormalizeMode::Tone => Mode::Tone,
        };
        let line = |l: &str| normalize_line(l, mode, style);
        // Each line on its own: a newline never joins two sentences.
        Ok(texts.iter().map(|t| t.split('\n').map(line).collect::<Vec<_>>().join("\n")).collect())
    }
}
