//! The translation capability: the local GGUF model, the remote providers and the gRPC client all
//! implement `Translator`.
pub use crate::detect::detect_language;
use crate::{Health, Result};

/// One text to translate.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TranslateRequest {
    pub text: String,
    /// ISO 639-1, or "auto".
    pub source: String,
    pub target: String,
    /// Preceding dialogue: helps with pronouns and terms, never translated itself.
    pub context: Option<String>,
    /// Phrases to keep verbatim.
    pub keep: Vec<String>,
    /// What an earlier attempt got wrong, said as instructions (`fidelity::Violation::hint`);
    /// engines that take instructions (the LLMs) put them in the prompt, others ignore them.
    pub hints: Vec<String>,
    /// The translation, made earlier, of the text's beginning (a live utterance's interim,
    /// translated while the speaker talked): engines that continue an answer (the LLMs) start
    /// from it, less its last word, and write only the rest; others translate the whole text.
    /// Sooner, but the early part stays what it was for the fragment.
    pub start: Option<String>,
    /// A likely translation, made earlier, of this text or of its beginning. An engine that can
    /// check it (the local LLM) reads in passes as much of it (after `start`) as it would have
    /// written itself, instead of writing it token by token: the answer is the engine's own
    /// either way, only sooner (but for rounding where two tokens nearly tie). Others ignore it.
    pub draft: Option<String>,
}

/// A translated text.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Translation {
    pub original: String,
    pub text: String,
    /// The source language; when the request said "auto", the detected one.
    pub source: String,
    pub target: String,
    pub source_detected: bool,
    /// The engine that translated (`fxtranslate`, `candle-gguf`, `deepl`, `openai`); with `model`
    /// it says what produced the text, so a wrong translation can be traced to its maker.
    pub engine: String,
    pub model: String,
    pub processing_ms: f64,
}

/// Told a translation's text so far, each time it grows.
pub type Partial = std::sync::Arc<dyn Fn(&str) + Send + Sync>;

#[async_trait::async_trait]
pub trait Translator: Send + Sync {
    async fn translate(&self, request: TranslateRequest) -> Result<Translation>;

    /// As `translate`, telling `partial` the translation so far as it is written, so a caller can
    /// act on its first clause before the rest exists. Engines that translate in one step (the
    /// default) never call it; the returned `Translation` is the final text either way.
    async fn translate_partial(&self, request: TranslateRequest, partial: Partial) -> Result<Translation> {
        let _ = partial;
        self.translate(request).await
    }

    /// Translates texts that share languages; results keep the order. Engines that can share work
    /// across texts override this.
    async fn translate_batch(&self, requests: Vec<TranslateRequest>) -> Result<Vec<Translation>> {
        let mut out = Vec::with_capacity(requests.len());
        for r in requests {
            out.push(self.translate(r).await?);
        }
        Ok(out)
    }

    /// ISO 639-1 codes this engine translates between.
    async fn languages(&self) -> Result<Vec<String>>;

    async fn health(&self) -> Health;

    /// Whether this engine translates `source` → `target` (both resolved, never "auto"). General
    /// engines take every pair of `languages`; dedicated ones only the pairs they have models for.
    fn serves(&self, _source: &str, _target: &str) -> bool {
        true
    }

    /// Ids of the models behind this engine, for listings (`/v1/models`).
    async fn models(&self) -> Vec<String> {
        Vec::new()
    }
}

/// English names for the prompt and for listings.
pub fn language_name(code: &str) -> Option<&'static str> {
    LANGUAGES.iter().find(|(c, _)| *c == code).map(|(_, n)| *n)
}

/// Languages the local models are asked to handle: those Qwen2.5 was trained on and that the
/// detector knows.
pub const LANGUAGES: &[(&str, &str)] = &[
    ("en", "English"),
    ("vi", "Vietnamese"),
    ("ja", "Japanese"),
    ("zh", "Chinese"),
    ("ko", "Korean"),
    ("fr", "French"),
    ("de", "German"),
    ("es", "Spanish"),
    ("it", "Italian"),
    ("pt", "Portuguese"),
    ("ru", "Russian"),
    ("nl", "Dutch"),
    ("sv", "Swedish"),
    ("tr", "Turkish"),
    ("ar", "Arabic"),
    ("hi", "Hindi"),
];

/// Checks a request before any engine sees it: text present and bounded, languages known.
pub fn validate(request: &TranslateRequest, max_chars: usize) -> Result<()> {
    use crate::{Error, ErrorCode};
    if request.text.trim().is_empty() {
        return Err(Error::invalid_request("text is empty"));
    }
    let chars = request.text.chars().count();
    if chars > max_chars {
        return Err(Error::invalid_request(format!("text has {chars} characters; the limit is {max_chars}")));
    }
    let known = |c: &str| language_name(c).is_some();
    if request.source != "auto" && !known(&request.source) {
        return Err(Error::new(
            ErrorCode::UnsupportedLanguage,
            format!("unsupported source language {:?}", request.source),
        ));
    }
    if !known(&request.target) {
        return Err(Error::new(
            ErrorCode::UnsupportedLanguage,
            format!("unsupported target language {:?}", request.target),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorCode;

    fn req(text: &str, source: &str, target: &str) -> TranslateRequest {
        TranslateRequest { text: text.into(), source: source.into(), target: target.into(), ..Default::default() }
    }

    #[test]
    fn validation() {
        assert!(validate(&req("hello", "en", "vi"), 100).is_ok());
        assert!(validate(&req("hello", "auto", "ja"), 100).is_ok());
        let code = |r: TranslateRequest| validate(&r, 10).expect_err("must fail").code;
        assert_eq!(code(req("  ", "en", "vi")), ErrorCode::InvalidRequest);
        assert_eq!(code(req("hello world!", "en", "vi")), ErrorCode::InvalidRequest);
        assert_eq!(code(req("hello", "xx", "vi")), ErrorCode::UnsupportedLanguage);
        assert_eq!(code(req("hello", "en", "auto")), ErrorCode::UnsupportedLanguage);
    }
}
