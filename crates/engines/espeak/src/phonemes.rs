//! Text to IPA the way Piper voices were trained: espeak-ng's IPA per clause, each clause
//! followed by the punctuation that ended it (Piper's models read "," and "." as pauses).
use crate::ffi::{Espeak, EspeakError};

/// One clause: its IPA and the punctuation mark that closed it, if any.
#[derive(Debug, Clone, PartialEq)]
pub struct Clause {
    pub ipa: String,
    pub punctuation: Option<char>,
}

impl Espeak {
    pub fn phonemize(&mut self, voice: &str, text: &str) -> Result<Vec<Clause>, EspeakError> {
        self.set_voice(voice)?;
        let clauses = self.clauses_ipa(text)?;
        Ok(clauses
            .into_iter()
            .filter(|(ipa, _)| !ipa.trim().is_empty())
            .map(|(ipa, range)| Clause { ipa: ipa.trim().to_string(), punctuation: closing_punctuation(text, range) })
            .collect())
    }
}

/// espeak's cursor stops a character into the next clause, so the mark is the last one in the
/// range that is followed by whitespace or the end ("3.5" has no mark).
fn closing_punctuation(text: &str, range: std::ops::Range<usize>) -> Option<char> {
    let slice = text.get(range.clone())?;
    slice
        .char_indices()
        .filter(|&(i, c)| {
            matches!(c, '.' | ',' | ';' | ':' | '!' | '?')
                && text[range.start + i + c.len_utf8()..].chars().next().is_none_or(char::is_whitespace)
        })
        .map(|(_, c)| c)
        .next_back()
}

/// Piper's phoneme string: clauses with their punctuation, separated by spaces.
pub fn join_clauses(clauses: &[Clause]) -> String {
    let mut out = String::new();
    for (i, c) in clauses.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(&c.ipa);
        if let Some(p) = c.punctuation {
            out.push(p);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::espeak;

    #[test]
    fn clauses_keep_their_punctuation() {
        let mut e = espeak().expect("espeak-ng");
        let clauses = e.phonemize("en-us", "Hello world, this is a test. Is it?").expect("phonemize");
        let marks: Vec<_> = clauses.iter().map(|c| c.punctuation).collect();
        assert_eq!(marks, [Some(','), Some('.'), Some('?')], "{clauses:?}");
        let joined = join_clauses(&clauses);
        assert!(joined.starts_with("həlˈoʊ wˈɜːld,"), "{joined}");
        // Vietnamese has its own voice and tones come out as IPA too.
        let vi = e.phonemize("vi", "Xin chào").expect("vi");
        assert!(!vi.is_empty() && !vi[0].ipa.is_empty());
    }

    #[test]
    fn unknown_voice_and_nul_are_errors() {
        let mut e = espeak().expect("espeak-ng");
        assert!(matches!(e.phonemize("xx-nope", "hi"), Err(EspeakError::UnknownVoice(_))));
        assert!(matches!(e.phonemize("en-us", "a\0b"), Err(EspeakError::Nul)));
    }
}
