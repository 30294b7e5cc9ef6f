//! Groups whisper's sub-word tokens into words: a token that starts with a space starts a word;
//! anything else (word pieces, punctuation, the rest of a split UTF-8 character) continues it.
use sokuji_core::Word;

/// One decoded text token: its raw bytes, times (seconds) and probability.
#[derive(Clone, Debug, PartialEq)]
pub struct Token {
    pub bytes: Vec<u8>,
    pub start: f64,
    pub end: f64,
    pub probability: f32,
}

pub fn group(tokens: &[Token]) -> Vec<Word> {
    let mut words = Vec::new();
    let mut cur: Option<(Vec<u8>, f64, f64, Vec<f32>)> = None;
    let flush = |cur: Option<(Vec<u8>, f64, f64, Vec<f32>)>, words: &mut Vec<Word>| {
        if let Some((bytes, start, end, ps)) = cur {
            let text = String::from_utf8_lossy(&bytes).trim().to_string();
            if !text.is_empty() {
                let probability = ps.iter().sum::<f32>() / ps.len().max(1) as f32;
                words.push(Word { text, start, end, probability });
            }
        }
    };
    for t in tokens {
        let starts_word = t.bytes.first() == Some(&b' ');
        match cur.as_mut() {
            Some((bytes, _, end, ps)) if !starts_word => {
                bytes.extend_from_slice(&t.bytes);
                *end = t.end;
                ps.push(t.probability);
            }
            _ => {
                flush(cur.take(), &mut words);
                cur = Some((t.bytes.clone(), t.start, t.end, vec![t.probability]));
            }
        }
    }
    flush(cur, &mut words);
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tok(s: &[u8], start: f64, end: f64) -> Token {
        Token { bytes: s.to_vec(), start, end, probability: 0.5 }
    }

    #[test]
    fn groups_pieces_and_split_characters() {
        // "Xin chào." where "à" (C3 A0) is split across two tokens.
        let words = group(&[
            tok(b" Xin", 0.0, 0.3),
            tok(b" ch", 0.3, 0.4),
            tok(&[0xC3], 0.4, 0.45),
            tok(&[0xA0, b'o'], 0.45, 0.6),
            tok(b".", 0.6, 0.62),
        ]);
        let texts: Vec<_> = words.iter().map(|w| w.text.as_str()).collect();
        assert_eq!(texts, ["Xin", "chào."]);
        assert_eq!((words[1].start, words[1].end), (0.3, 0.62));
    }

    #[test]
    fn first_token_without_space_starts_a_word() {
        let words = group(&[tok(b"Hello", 0.0, 0.2), tok(b" world", 0.2, 0.5)]);
        assert_eq!(words.len(), 2);
        assert!(group(&[]).is_empty());
    }
}
