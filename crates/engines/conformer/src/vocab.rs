//! The model's vocabulary: lines of `piece id`, lowercase BPE pieces with `▁` marking the start
//! of a word. Blank is 0, `<unk>` 1, `<sos/eos>` the last id the model outputs; the ids above it
//! (punctuation) are never output.
use sokuji_core::{Error, ErrorCode, Result};

pub const BLANK: usize = 0;
const WORD_MARK: char = '▁';

#[derive(Debug)]
pub struct Vocabulary {
    pieces: Vec<String>,
}

impl Vocabulary {
    pub fn parse(text: &str) -> Result<Self> {
        let bad = |detail: String| Error::new(ErrorCode::ModelNotFound, format!("bad vocabulary: {detail}"));
        let mut pieces: Vec<Option<String>> = Vec::new();
        for (n, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
            let (piece, id) = line.rsplit_once(' ').ok_or_else(|| bad(format!("line {}: {line:?}", n + 1)))?;
            let id: usize = id.trim().parse().map_err(|_| bad(format!("line {}: id {id:?}", n + 1)))?;
            if id >= 1 << 16 {
                return Err(bad(format!("line {}: id {id} is out of range", n + 1)));
            }
            if pieces.len() <= id {
                pieces.resize(id + 1, None);
            }
            pieces[id] = Some(piece.to_string());
        }
        if pieces.len() < 3 {
            return Err(bad("fewer than three pieces".into()));
        }
        Ok(Self { pieces: pieces.into_iter().map(Option::unwrap_or_default).collect() })
    }

    pub fn len(&self) -> usize {
        self.pieces.len()
    }

    /// The piece as text: `Some((starts_word, text))`, `None` for ids that carry no text
    /// (blank, `<unk>`, `<sos/eos>`, anything unknown).
    pub fn piece(&self, id: usize) -> Option<(bool, &str)> {
        let p = self.pieces.get(id)?;
        if id == BLANK || p.is_empty() || (p.starts_with('<') && p.ends_with('>')) {
            return None;
        }
        match p.strip_prefix(WORD_MARK) {
            Some(rest) => Some((true, rest)),
            None => Some((false, p.as_str())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_and_special_ids() {
        let v = Vocabulary::parse("<blank> 0\n<unk> 1\na 2\n▁xin 3\n▁chào 4\n<sos/eos> 5\n, 6\n").expect("parse");
        assert_eq!(v.len(), 7);
        assert_eq!(v.piece(0), None);
        assert_eq!(v.piece(1), None);
        assert_eq!(v.piece(2), Some((false, "a")));
        assert_eq!(v.piece(3), Some((true, "xin")));
        assert_eq!(v.piece(5), None);
        assert_eq!(v.piece(99), None);
    }

    #[test]
    fn malformed_vocabularies_are_refused() {
        for bad in ["", "a\n", "a x\n", "<blank> 0\n", "a 999999999\n"] {
            assert!(Vocabulary::parse(bad).is_err(), "{bad:?}");
        }
    }
}
