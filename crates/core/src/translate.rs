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

    /// Reads ahead, while the engine is idle, what of a request's prompt does not depend on its
    /// text (the instructions and the conversation so far), so that the next request with that
    /// context reads only its text: a live session prepares its next sentence's context as soon
    /// as a sentence is final. `request.text` is not used. Gives way to any request that arrives
    /// meanwhile. Engines that keep no state between requests (the default) do nothing.
    async fn prepare(&self, request: TranslateRequest) -> Result<()> {
        let _ = request;
        Ok(())
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

/// Of [`LANGUAGES`], those written in the Latin alphabet.
const LATIN_SCRIPT: &[&str] = &["en", "vi", "fr", "de", "es", "it", "pt", "nl", "sv", "tr"];

/// Whether text in `code` is written in the Latin alphabet.
pub fn latin_script(code: &str) -> bool {
    LATIN_SCRIPT.contains(&code)
}

/// The code points of text written in the Latin alphabet: its letters with every diacritic
/// (Vietnamese's included, precomposed or combining), digits, punctuation, currency signs (₫) and
/// common symbols; not the letters of other scripts (Han, kana, Cyrillic, Greek, …).
const LATIN_TEXT: [std::ops::RangeInclusive<u32>; 3] = [
    0x0000..=0x036F, // ASCII, Latin-1, Latin Extended-A/B, IPA, spacing modifiers, combining marks
    0x1E00..=0x1EFF, // Latin Extended Additional (Vietnamese's precomposed vowels)
    0x2000..=0x22FF, // punctuation, super/subscripts, currency, letterlike, number forms, arrows, maths
];

/// Whether `c` belongs in text written in the Latin alphabet (see [`LATIN_TEXT`]).
pub fn latin_text_char(c: char) -> bool {
    LATIN_TEXT.iter().any(|r| r.contains(&u32::from(c)))
}

/// Whether UTF-8 cut anywhere (a token's bytes) can belong to text in the Latin alphabet: its
/// whole characters do, a character cut at its end begins like one that can, and bytes that end
/// a character begun before them pass (its beginning was judged there).
pub fn latin_text_bytes(bytes: &[u8]) -> bool {
    let ending = bytes.iter().take_while(|&&b| b & 0xC0 == 0x80).count();
    let rest = &bytes[ending..];
    let (whole, cut) = match std::str::from_utf8(rest) {
        Ok(text) => (text, &[][..]),
        // Only a character cut at the end; bytes that are not UTF-8 at all are not text.
        Err(e) if e.error_len().is_none() => {
            let (valid, cut) = rest.split_at(e.valid_up_to());
            (std::str::from_utf8(valid).unwrap_or_default(), cut)
        }
        Err(_) => return false,
    };
    whole.chars().all(latin_text_char) && (cut.is_empty() || begins_latin(cut))
}

/// Whether a character whose first bytes are `cut` can be one of Latin-alphabet text: the range
/// of its completions meets [`LATIN_TEXT`].
fn begins_latin(cut: &[u8]) -> bool {
    let len = match cut.first() {
        Some(0xC0..=0xDF) => 2,
        Some(0xE0..=0xEF) => 3,
        Some(0xF0..=0xF7) => 4,
        _ => return false,
    };
    let completed = |fill: u8| {
        let mut b = cut.to_vec();
        b.resize(len, fill);
        std::str::from_utf8(&b).ok().and_then(|s| s.chars().next()).map(u32::from)
    };
    let (Some(lo), Some(hi)) = (completed(0x80), completed(0xBF)) else { return false };
    LATIN_TEXT.iter().any(|r| *r.start() <= hi && lo <= *r.end())
}

/// Checks a request before any engine sees it: text present and bounded, languages known.
pub fn validate(request: &TranslateRequest, max_chars: usize) -> Result<()> {
    use crate::Error;
    if request.text.trim().is_empty() {
        return Err(Error::invalid_request("text is empty"));
    }
    let chars = request.text.chars().count();
    if chars > max_chars {
        return Err(Error::invalid_request(format!("text has {chars} characters; the limit is {max_chars}")));
    }
    validate_languages(request)
}

/// Rejects a request whose languages the local models are not asked to handle ([`LANGUAGES`]);
/// the source may be "auto".
pub fn validate_languages(request: &TranslateRequest) -> crate::Result<()> {
    use crate::{Error, ErrorCode};
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

    #[test]
    fn latin_text_holds_latin_letters_only() {
        let latin = "Tôi muốn mua hai vé đi Hà Nội, giá 50.000₫ — “rẻ” ½ ≤ 3°C! Ğüşİ ơư ẠỹĂ e\u{301}";
        assert!(latin.chars().all(latin_text_char), "{:?}", latin.chars().find(|&c| !latin_text_char(c)));
        for c in ['中', 'あ', 'ア', '한', 'Ж', 'π', 'ع', 'ह', 'ก', '😀', '\u{fffd}'] {
            assert!(!latin_text_char(c), "{c}");
        }
        // Cut anywhere, as tokens cut text: (bytes, whether Latin text can hold them).
        let cases: &[(&[u8], bool)] = &[
            (b"Vi\xe1\xbb\x87t", true), // "Việt"
            (b" m\xe1\xbb", true),      // " m" and the start of "ệ" (U+1EC7)
            (b"\xbb\x87t Nam", true),   // the end of "ệ", begun in the token before
            (b"\xc3", true),            // the start of "à" … "ÿ"
            (b"\xe2\x82", true),        // the start of "₫" (U+20AB)
            ("很".as_bytes(), false),
            (b"\xe5", false), // the start of a Han character
            (b"\xe5\xbe", false),
            (b"\xd0", false),     // the start of a Cyrillic letter
            (b"\xe1\x84", false), // the start of a Hangul jamo (U+1100)
            (b"ok\xff", false),   // not UTF-8
            (b"", true),
        ];
        for (bytes, want) in cases {
            assert_eq!(latin_text_bytes(bytes), *want, "{bytes:?}");
        }
        assert!(LATIN_SCRIPT.iter().all(|c| language_name(c).is_some()), "a code the models are not asked for");
        assert!(latin_script("vi") && latin_script("en") && latin_script("tr"));
        assert!(!latin_script("ja") && !latin_script("ru") && !latin_script("auto"));
    }

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
