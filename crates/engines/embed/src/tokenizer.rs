//! XLM-RoBERTa's SentencePiece unigram tokenizer, from the tables in the model file: each
//! character through the normalization map, runs of spaces collapsed, a leading `▁` and every
//! space as `▁` (the metaspace), then the most probable segmentation into vocabulary pieces
//! (Viterbi over piece scores; a character no piece covers becomes `<unk>`).
use crate::format::Vocab;
use std::collections::HashMap;

const METASPACE: char = '\u{2581}';

pub struct Tokenizer {
    ids: HashMap<Vec<u8>, u32>,
    scores: Vec<f32>,
    unk: u32,
    unk_score: f32,
    max_piece_bytes: usize,
    normalize: HashMap<u32, Vec<u32>>,
    pub bos: u32,
    pub eos: u32,
}

impl Tokenizer {
    pub fn new(v: &Vocab) -> Self {
        let mut ids = HashMap::with_capacity(v.pieces.len());
        for (i, p) in v.pieces.iter().enumerate() {
            // The first of duplicates wins, as in the reference's probe order.
            if !p.is_empty() {
                ids.entry(p.clone()).or_insert(i as u32);
            }
        }
        let min = v.scores.iter().copied().fold(f32::INFINITY, f32::min);
        Self {
            ids,
            scores: v.scores.clone(),
            unk: v.unk,
            // SentencePiece's penalty for an unknown character.
            unk_score: min - 10.0,
            max_piece_bytes: v.pieces.iter().map(Vec::len).max().unwrap_or(1),
            normalize: v.normalize.clone(),
            bos: v.bos,
            eos: v.eos,
        }
    }

    /// The content token ids of `text` (without `<s>` and `</s>`).
    pub fn encode(&self, text: &str) -> Vec<u32> {
        let mut chars: Vec<char> = Vec::with_capacity(text.len() + 1);
        for c in text.chars() {
            match self.normalize.get(&u32::from(c)) {
                Some(out) => chars.extend(out.iter().filter_map(|cp| char::from_u32(*cp))),
                None => chars.push(c),
            }
        }
        chars.dedup_by(|b, a| *a == ' ' && *b == ' ');
        if chars.first() != Some(&' ') {
            chars.insert(0, ' ');
        }
        let mut buf = String::with_capacity(chars.len() * 3);
        let mut bounds = Vec::with_capacity(chars.len() + 1);
        for c in chars {
            bounds.push(buf.len());
            buf.push(if c == ' ' { METASPACE } else { c });
        }
        bounds.push(buf.len());
        let bytes = buf.as_bytes();
        let n = bounds.len() - 1;
        // best[e]: the best score of a segmentation of the first e characters, and its last piece.
        let mut best = vec![(f32::NEG_INFINITY, u32::MAX, 0usize); n + 1];
        best[0].0 = 0.0;
        for i in 0..n {
            let here = best[i].0;
            if here == f32::NEG_INFINITY {
                continue;
            }
            for e in i + 1..=n {
                let span = &bytes[bounds[i]..bounds[e]];
                if span.len() > self.max_piece_bytes {
                    break;
                }
                if let Some(&id) = self.ids.get(span)
                    && id != self.unk
                {
                    let s = here + self.scores[id as usize];
                    if s > best[e].0 {
                        best[e] = (s, id, i);
                    }
                }
            }
            let s = here + self.unk_score;
            if s > best[i + 1].0 {
                best[i + 1] = (s, self.unk, i);
            }
        }
        let mut out = Vec::new();
        let mut e = n;
        while e > 0 {
            out.push(best[e].1);
            e = best[e].2;
        }
        out.reverse();
        out
    }
}
