//! Word times for a normalized transcript: each written token spans the times of the spoken
//! words it came from ("hai mươi tư" -> "24" from the start of "hai" to the end of "tư"), so
//! highlights and the player stay right on the text people read. Pure: a sequence alignment of
//! the normalized tokens against the words, on tokens that normalization left alone.
use crate::Word;

/// A token compared without case and surrounding punctuation.
fn key(t: &str) -> String {
    t.trim_matches(|c: char| !c.is_alphanumeric()).to_lowercase()
}

/// The normalized text's tokens with times from `words` (what the recognizer heard). Tokens that
/// equal a word take its times; the tokens between two such anchors share the words between
/// them in order (each at least one word while there are enough). An empty `words` gives none.
pub fn align_words(words: &[Word], normalized: &str) -> Vec<Word> {
    let tokens: Vec<&str> = normalized.split_whitespace().collect();
    if words.is_empty() || tokens.is_empty() {
        return Vec::new();
    }
    let (wk, tk): (Vec<String>, Vec<String>) =
        (words.iter().map(|w| key(&w.text)).collect(), tokens.iter().map(|t| key(t)).collect());
    // Longest common subsequence of equal, non-empty keys.
    let (n, m) = (tokens.len(), words.len());
    let mut lcs = vec![vec![0u32; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i][j] = if !tk[i].is_empty() && tk[i] == wk[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let mut anchors = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < n && j < m {
        if !tk[i].is_empty() && tk[i] == wk[j] {
            anchors.push((i, j));
            i += 1;
            j += 1;
        } else if lcs[i + 1][j] >= lcs[i][j + 1] {
            i += 1;
        } else {
            j += 1;
        }
    }
    anchors.push((n, m));
    let mut out = Vec::with_capacity(n);
    let (mut ti, mut wi) = (0, 0);
    for (ta, wa) in anchors {
        share(&tokens[ti..ta], &words[wi..wa], words.get(wi.wrapping_sub(1)), words.get(wa), &mut out);
        if let (Some(t), Some(w)) = (tokens.get(ta), words.get(wa)) {
            out.push(Word { text: t.to_string(), ..w.clone() });
        }
        (ti, wi) = (ta + 1, wa + 1);
    }
    out
}

/// Gives `tokens` the times of `span` (the words between two anchors), in order; with no words
/// between, an instant where the gap is.
fn share(tokens: &[&str], span: &[Word], before: Option<&Word>, after: Option<&Word>, out: &mut Vec<Word>) {
    let (k, m) = (tokens.len(), span.len());
    for (i, t) in tokens.iter().enumerate() {
        let word = if m == 0 {
            let at = before.map(|w| w.end).or(after.map(|w| w.start)).unwrap_or(0.0);
            Word { text: String::new(), start: at, end: at, probability: 0.0 }
        } else {
            // Token i of k takes words [a, b) of the m: contiguous, covering all, in order.
            let a = (i * m / k).min(m - 1);
            let b = ((i + 1) * m / k).max(a + 1).min(m);
            let covered = &span[a..b];
            Word {
                text: String::new(),
                start: covered[0].start,
                end: covered[covered.len() - 1].end,
                probability: covered.iter().map(|w| w.probability).fold(1.0, f32::min),
            }
        };
        out.push(Word { text: t.to_string(), ..word });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(spec: &[(&str, f64, f64)]) -> Vec<Word> {
        spec.iter().map(|(t, s, e)| Word { text: t.to_string(), start: *s, end: *e, probability: 0.9 }).collect()
    }

    fn times(out: &[Word]) -> Vec<(&str, f64, f64)> {
        out.iter().map(|w| (w.text.as_str(), w.start, w.end)).collect()
    }

    #[test]
    fn written_tokens_span_their_spoken_words() {
        let w = words(&[
            ("Ngày", 0.0, 0.3),
            ("hai", 0.3, 0.5),
            ("mươi", 0.5, 0.7),
            ("tư", 0.7, 0.9),
            ("tháng", 1.0, 1.2),
            ("bảy,", 1.2, 1.5),
            ("giá", 1.6, 1.8),
            ("năm", 1.8, 2.0),
            ("mươi", 2.0, 2.2),
            ("nghìn", 2.2, 2.4),
            ("đồng.", 2.4, 2.8),
        ]);
        let out = align_words(&w, "Ngày 24 tháng 7, giá 50000 đồng.");
        assert_eq!(
            times(&out),
            [
                ("Ngày", 0.0, 0.3),
                ("24", 0.3, 0.9),
                ("tháng", 1.0, 1.2),
                ("7,", 1.2, 1.5),
                ("giá", 1.6, 1.8),
                ("50000", 1.8, 2.4),
                ("đồng.", 2.4, 2.8)
            ]
        );
    }

    #[test]
    fn several_written_tokens_share_their_words_in_order() {
        // "hai triệu rưỡi đồng" -> "2.5 triệu đồng": "triệu" is an anchor, "2.5" takes "hai".
        let w = words(&[("hai", 0.0, 0.2), ("triệu", 0.2, 0.5), ("rưỡi", 0.5, 0.8), ("đồng", 0.8, 1.0)]);
        assert_eq!(
            times(&align_words(&w, "2.5 triệu đồng")),
            [("2.5", 0.0, 0.2), ("triệu", 0.2, 0.5), ("đồng", 0.8, 1.0)]
        );
        // Two tokens from three words: contiguous, covering them all.
        let w = words(&[("a", 0.0, 1.0), ("b", 1.0, 2.0), ("c", 2.0, 3.0)]);
        assert_eq!(times(&align_words(&w, "x y")), [("x", 0.0, 1.0), ("y", 1.0, 3.0)]);
        // More tokens than words, and nothing to align with.
        let w = words(&[("a", 0.0, 1.0)]);
        assert_eq!(times(&align_words(&w, "x y")), [("x", 0.0, 1.0), ("y", 0.0, 1.0)]);
        assert!(align_words(&[], "x").is_empty());
        assert!(align_words(&w, "   ").is_empty());
    }

    #[test]
    fn every_token_gets_times_within_the_words() {
        let w = words(&[("một", 0.0, 0.2), ("trăm", 0.2, 0.4), ("mốt", 0.4, 0.6), ("người", 0.6, 1.0)]);
        for text in ["110 người", "một trăm mốt người", "110", "người 110 thêm", ""] {
            let out = align_words(&w, text);
            assert_eq!(out.len(), text.split_whitespace().count(), "{text}");
            assert!(out.iter().all(|t| 0.0 <= t.start && t.start <= t.end && t.end <= 1.0), "{text}: {out:?}");
            assert!(out.windows(2).all(|p| p[0].start <= p[1].start), "in order: {text}");
        }
    }
}
