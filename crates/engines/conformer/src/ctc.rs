//! Greedy CTC decoding with its alignment: words with times (one output frame is 40 ms) and
//! confidences from the posteriors. Prefix beam search (beam 10) gave the same text on the test
//! clips, so the cheaper greedy path is the decoder.
use crate::vocab::{BLANK, Vocabulary};
use sokuji_core::Word;

/// Seconds per output frame: 4x subsampling of 10 ms feature frames.
pub const FRAME_SECS: f64 = 0.04;

/// One output frame's best token and its log-probability.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Best {
    pub id: usize,
    pub logprob: f32,
}

/// The best token of each row of log-posteriors.
pub fn best_path(rows: &[f32], classes: usize) -> Vec<Best> {
    rows.chunks_exact(classes)
        .map(|row| {
            let (id, logprob) = row
                .iter()
                .copied()
                .enumerate()
                .fold((BLANK, f32::NEG_INFINITY), |b, (i, p)| if p > b.1 { (i, p) } else { b });
            Best { id, logprob }
        })
        .collect()
}

/// Collapses repeats and blanks into words. `offset` (seconds) is added to every time. A word
/// spans from its first token's first frame to its last token's last frame; its probability is
/// the mean posterior of its tokens' frames.
pub fn words(path: &[Best], vocab: &Vocabulary, offset: f64) -> Vec<Word> {
    struct Open {
        text: String,
        first: usize,
        last: usize,
        p_sum: f32,
        frames: usize,
    }
    let close = |w: Open| Word {
        text: w.text,
        start: offset + w.first as f64 * FRAME_SECS,
        end: offset + (w.last + 1) as f64 * FRAME_SECS,
        probability: w.p_sum / w.frames.max(1) as f32,
    };
    let mut out = Vec::new();
    let mut open: Option<Open> = None;
    let mut previous = BLANK;
    for (t, b) in path.iter().enumerate() {
        let repeat = b.id == previous;
        previous = b.id;
        let Some((starts_word, text)) = vocab.piece(b.id) else {
            continue;
        };
        let p = b.logprob.exp();
        match open.as_mut() {
            Some(w) if repeat || !starts_word => {
                if !repeat {
                    w.text.push_str(text);
                }
                w.last = t;
                w.p_sum += p;
                w.frames += 1;
            }
            _ => {
                if let Some(w) = open.take() {
                    out.push(close(w));
                }
                open = Some(Open { text: text.to_string(), first: t, last: t, p_sum: p, frames: 1 });
            }
        }
    }
    out.extend(open.map(close));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vocab() -> Vocabulary {
        Vocabulary::parse("<blank> 0\n<unk> 1\n▁huấn 2\n▁luy 3\nện 4\n▁viên 5\n<sos/eos> 6\n").expect("vocab")
    }

    fn path(ids: &[usize]) -> Vec<Best> {
        ids.iter().map(|&id| Best { id, logprob: if id == 0 { -0.01 } else { (0.5f32).ln() } }).collect()
    }

    #[test]
    fn repeats_and_blanks_collapse_into_timed_words() {
        // frame:        0  1  2  3  4  5  6  7  8  9
        let p = path(&[0, 2, 2, 0, 3, 4, 0, 0, 5, 0]);
        let w = words(&p, &vocab(), 1.0);
        let texts: Vec<&str> = w.iter().map(|w| w.text.as_str()).collect();
        assert_eq!(texts, ["huấn", "luyện", "viên"]);
        assert!((w[0].start - 1.04).abs() < 1e-9 && (w[0].end - 1.12).abs() < 1e-9, "{:?}", w[0]);
        assert!((w[1].start - 1.16).abs() < 1e-9 && (w[1].end - 1.24).abs() < 1e-9, "{:?}", w[1]);
        assert!((w[2].start - 1.32).abs() < 1e-9);
        assert!(w.iter().all(|w| (w.probability - 0.5).abs() < 1e-6));
    }

    #[test]
    fn a_token_repeated_across_a_blank_is_two_tokens_and_specials_say_nothing() {
        let p = path(&[5, 0, 5, 1, 6, 0]);
        let texts: Vec<String> = words(&p, &vocab(), 0.0).into_iter().map(|w| w.text).collect();
        assert_eq!(texts, ["viên", "viên"]);
        assert!(words(&path(&[0, 0, 1, 6]), &vocab(), 0.0).is_empty());
    }

    #[test]
    fn best_path_takes_the_arg_max_of_each_row() {
        let rows = [-3.0, -0.1, -2.0, -0.2, -4.0, -1.0];
        assert_eq!(best_path(&rows, 3), vec![Best { id: 1, logprob: -0.1 }, Best { id: 0, logprob: -0.2 }]);
    }
}
