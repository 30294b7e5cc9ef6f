//! The speech-synthesis capability: Piper and espeak-ng voices, and the gRPC client, implement
//! `Synthesizer`.
use crate::{Health, Result};
use std::collections::BTreeMap;

/// A voice a synthesizer offers.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Voice {
    pub id: String,
    pub name: String,
    /// Primary language (ISO 639-1, or a BCP 47 tag such as "en-US").
    pub language: String,
    pub languages: Vec<String>,
    pub gender: String,
    pub sample_rate: u32,
    /// "piper" or "espeak".
    pub engine: String,
    pub metadata: BTreeMap<String, String>,
}

/// What to say and how.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SynthesizeRequest {
    pub text: String,
    /// Voice id; empty or "default" picks the default voice for `language`.
    pub voice: String,
    pub language: Option<String>,
    /// Rate multiplier, 1.0 normal.
    pub speed: Option<f32>,
    /// Pitch multiplier, 1.0 normal.
    pub pitch: Option<f32>,
}

/// Synthesized mono speech.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Speech {
    pub samples: Vec<f32>,
    pub sample_rate: u32,
    /// The voice that spoke (the resolved id, never "default").
    pub voice: String,
}

impl Speech {
    pub fn duration_ms(&self) -> f64 {
        if self.sample_rate == 0 { 0.0 } else { self.samples.len() as f64 * 1000.0 / f64::from(self.sample_rate) }
    }
}

#[async_trait::async_trait]
pub trait Synthesizer: Send + Sync {
    async fn synthesize(&self, request: SynthesizeRequest) -> Result<Speech>;

    async fn voices(&self) -> Result<Vec<Voice>>;

    async fn health(&self) -> Health;
}

/// Speed limits shared by every engine.
pub const SPEED_RANGE: std::ops::RangeInclusive<f32> = 0.25..=4.0;

/// Checks a request before any engine sees it.
pub fn validate(request: &SynthesizeRequest, max_chars: usize) -> Result<()> {
    use crate::Error;
    if request.text.trim().is_empty() {
        return Err(Error::invalid_request("text is empty"));
    }
    let chars = request.text.chars().count();
    if chars > max_chars {
        return Err(Error::invalid_request(format!("text has {chars} characters; the limit is {max_chars}")));
    }
    for (name, v) in [("speed", request.speed), ("pitch", request.pitch)] {
        if let Some(v) = v
            && !SPEED_RANGE.contains(&v)
        {
            return Err(Error::invalid_request(format!("{name} {v} is outside 0.25..4.0")));
        }
    }
    Ok(())
}

/// Splits text into sentences for streaming synthesis: ends at . ! ? … and their CJK forms
/// (and newlines); very long sentences are cut at commas, then spaces, so no chunk waits on a
/// whole paragraph. Never returns empty pieces.
pub fn split_sentences(text: &str, max_chars: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\n' {
            push(&mut out, &mut cur, max_chars);
            continue;
        }
        cur.push(c);
        let ends = matches!(c, '.' | '!' | '?' | '…' | '。' | '！' | '？');
        // "3.5" and "e.g." stay whole: a sentence ends only where whitespace (or the end) follows.
        let cjk = matches!(c, '。' | '！' | '？');
        if ends && (cjk || chars.peek().is_none_or(|n| n.is_whitespace())) {
            push(&mut out, &mut cur, max_chars);
        }
    }
    push(&mut out, &mut cur, max_chars);
    out
}

/// Where the first complete clause of a text still being written ends (a byte offset just past its
/// mark), for speaking it before the rest exists. A clause ends at , ; : . ! ? … once whitespace
/// follows (so "3.5" and a comma still being written are not ends), or at a CJK mark; clauses
/// shorter than `min_chars` join the next one, so speech does not start on a lone "Yes,".
pub fn clause_end(text: &str, min_chars: usize) -> Option<usize> {
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let cjk = matches!(c, '。' | '！' | '？' | '、' | '，' | '；');
        let latin = matches!(c, ',' | ';' | ':' | '.' | '!' | '?' | '…');
        let end = i + c.len_utf8();
        if (cjk || (latin && chars.peek().is_some_and(|(_, n)| n.is_whitespace())))
            && text[..end].trim().chars().count() >= min_chars
        {
            return Some(end);
        }
    }
    None
}

fn push(out: &mut Vec<String>, cur: &mut String, max_chars: usize) {
    let s = cur.trim();
    if !s.is_empty() && s.chars().any(char::is_alphanumeric) {
        cut_long(s, max_chars, out);
    } else if !s.is_empty()
        && let Some(last) = out.last_mut()
    {
        // Stray punctuation ("..." after a sentence) joins the previous piece.
        last.push_str(s);
    }
    cur.clear();
}

fn cut_long(s: &str, max_chars: usize, out: &mut Vec<String>) {
    let mut rest = s;
    while rest.chars().count() > max_chars {
        let limit = rest.char_indices().nth(max_chars).map_or(rest.len(), |(i, _)| i);
        let head = &rest[..limit];
        let cut = head
            .rfind([',', ';', ':', '、', '，'])
            .map(|i| i + head[i..].chars().next().map_or(1, char::len_utf8))
            .or_else(|| head.rfind(' '))
            .filter(|&i| i > 0)
            .unwrap_or(limit);
        out.push(rest[..cut].trim().to_string());
        rest = rest[cut..].trim_start();
    }
    if !rest.trim().is_empty() {
        out.push(rest.trim().to_string());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clause_ends_in_text_still_being_written() {
        for (text, want) in [
            ("Hội nghị đã được chuyển", None),
            // The comma is written but nothing follows yet: the model may still be writing "3,5".
            ("Hội nghị đã được chuyển,", None),
            ("Hội nghị đã được chuyển, vì", Some("Hội nghị đã được chuyển,")),
            ("Nó giá 3.5 đô la", None),
            ("Yes, I will come. Then", Some("Yes, I will come.")),
            ("会議は木曜日に変更されました、部長", Some("会議は木曜日に変更されました、")),
            ("はい、", None),
            ("The meeting is at noon! And", Some("The meeting is at noon!")),
        ] {
            assert_eq!(clause_end(text, 12).map(|e| &text[..e]), want, "{text:?}");
        }
    }

    #[test]
    fn sentences() {
        let s = |t: &str| split_sentences(t, 200);
        assert_eq!(s("Hello there. How are you? Fine!"), ["Hello there.", "How are you?", "Fine!"]);
        assert_eq!(s("It costs 3.5 dollars. Yes"), ["It costs 3.5 dollars.", "Yes"]);
        assert_eq!(s("こんにちは。元気ですか？"), ["こんにちは。", "元気ですか？"]);
        assert_eq!(s("Line one\nLine two"), ["Line one", "Line two"]);
        assert_eq!(s("Wait... what?! ..."), ["Wait...", "what?!..."]);
        assert!(s("  ... \n ").is_empty());
        assert_eq!(s("Xin chào. Tôi tên là Lan."), ["Xin chào.", "Tôi tên là Lan."]);
    }

    #[test]
    fn long_sentences_are_cut_at_commas_then_spaces() {
        let got = split_sentences("one two three, four five six seven", 16);
        assert_eq!(got, ["one two three,", "four five six", "seven"]);
        let got = split_sentences(&"a".repeat(40), 16);
        assert_eq!(got.iter().map(String::len).collect::<Vec<_>>(), [16, 16, 8]);
    }

    #[test]
    fn validation() {
        let r = |text: &str, speed: Option<f32>| SynthesizeRequest { text: text.into(), speed, ..Default::default() };
        assert!(validate(&r("hi", Some(1.5)), 10).is_ok());
        assert!(validate(&r("", None), 10).is_err());
        assert!(validate(&r("hi", Some(9.0)), 10).is_err());
        assert!(validate(&r("hello world!", None), 10).is_err());
    }
}
