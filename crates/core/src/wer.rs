//! Word error rate, the measure every speech test and benchmark reports.

/// Lower-cases and drops punctuation so that only words are compared.
pub fn normalize_words(text: &str) -> Vec<String> {
    text.to_lowercase()
        .split(|c: char| c.is_whitespace())
        .map(|w| w.chars().filter(|c| c.is_alphanumeric() || *c == '\'').collect::<String>())
        .filter(|w| !w.is_empty())
        .collect()
}

/// (substitutions + deletions + insertions) / reference words, over normalized words.
/// An empty reference gives 0 for an empty hypothesis and 1 otherwise.
pub fn word_error_rate(reference: &str, hypothesis: &str) -> f64 {
    let (r, h) = (normalize_words(reference), normalize_words(hypothesis));
    if r.is_empty() {
        return if h.is_empty() { 0.0 } else { 1.0 };
    }
    edit_distance(&r, &h) as f64 / r.len() as f64
}

/// Levenshtein distance over tokens, one row at a time.
pub fn edit_distance<T: PartialEq>(a: &[T], b: &[T]) -> usize {
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, x) in a.iter().enumerate() {
        cur[0] = i + 1;
        for (j, y) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(x != y);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cases() {
        let check = |r: &str, h: &str, want: f64| {
            let got = word_error_rate(r, h);
            assert!((got - want).abs() < 1e-9, "wer({r:?}, {h:?}) = {got}, want {want}");
        };
        check("xin chào các bạn", "Xin chào, các bạn!", 0.0);
        check("huấn luyện viên", "hoấn lượng viên", 2.0 / 3.0);
        check("a b c", "a c", 1.0 / 3.0);
        check("a b c", "a b c d e", 2.0 / 3.0);
        check("", "", 0.0);
        check("", "thank you", 1.0);
        check("one", "", 1.0);
    }
}
