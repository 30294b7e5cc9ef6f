//! Readable text for engines that write lowercase words without punctuation (the Vietnamese
//! Conformer): sentences end at long pauses, commas go at shorter ones, each sentence starts
//! with a capital. Pauses are measured between CTC word spikes, which run shorter than the
//! words: on the test recordings plain gaps were at most 0.32 s and every comma of the reference
//! texts stood at a gap of 0.48–0.80 s.
use crate::Word;

/// A pause at least this long (seconds) takes a comma.
pub const COMMA_PAUSE: f64 = 0.45;
/// A pause at least this long ends the sentence.
pub const SENTENCE_PAUSE: f64 = 1.0;

/// Splits `words` into sentences at pauses of `SENTENCE_PAUSE` and punctuates them; the words
/// themselves carry the punctuation and capitals, so joining them gives the sentence text.
pub fn sentences(words: Vec<Word>) -> Vec<Vec<Word>> {
    let mut out: Vec<Vec<Word>> = Vec::new();
    let mut previous_end: Option<f64> = None;
    for w in words.into_iter().filter(|w| !w.text.trim().is_empty()) {
        let gap = previous_end.map(|e| w.start - e);
        previous_end = Some(w.end);
        match (gap, out.last_mut()) {
            (Some(g), Some(s)) if g < SENTENCE_PAUSE => {
                if g >= COMMA_PAUSE
                    && let Some(last) = s.last_mut()
                {
                    end_with(&mut last.text, ',');
                }
                s.push(w);
            }
            _ => out.push(vec![w]),
        }
    }
    for s in &mut out {
        if let Some(first) = s.first_mut() {
            first.text = capitalized(&first.text);
        }
        if let Some(last) = s.last_mut() {
            end_with(&mut last.text, '.');
        }
    }
    out
}

/// The text of a sentence's words.
pub fn text(words: &[Word]) -> String {
    words.iter().map(|w| w.text.as_str()).collect::<Vec<_>>().join(" ")
}

/// `s` with its first letter upper-case.
pub(crate) fn capitalized(s: &str) -> String {
    let mut c = s.chars();
    c.next().map(|f| f.to_uppercase().chain(c).collect()).unwrap_or_default()
}

fn end_with(s: &mut String, mark: char) {
    if !s.ends_with(['.', ',', '?', '!']) {
        s.push(mark);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(text: &str, start: f64, end: f64) -> Word {
        Word { text: text.into(), start, end, probability: 0.9 }
    }

    #[test]
    fn pauses_make_commas_and_sentences() {
        type Case<'a> = (&'a [(&'a str, f64, f64)], &'a [&'a str]);
        let cases: &[Case] = &[
            (&[], &[]),
            (&[("xin", 0.0, 0.2), ("chào", 0.3, 0.5)], &["Xin chào."]),
            // 0.60 s: a comma (the reference's "Do Thái, không chỉ").
            (&[("thái", 1.6, 1.7), ("không", 2.3, 2.4), ("chỉ", 2.5, 2.6)], &["Thái, không chỉ."]),
            // 0.32 s: no comma.
            (&[("là", 1.3, 1.36), ("một", 1.68, 1.8)], &["Là một."]),
            // 1.2 s: a new sentence, each capitalized; Vietnamese capitals.
            (&[("đến", 0.0, 0.2), ("ừ", 1.4, 1.5), ("ấy", 1.6, 1.7)], &["Đến.", "Ừ ấy."]),
            (&[("", 0.0, 0.1), ("ok", 0.2, 0.3)], &["Ok."]),
        ];
        for (words, want) in cases {
            let words: Vec<Word> = words.iter().map(|(t, a, b)| w(t, *a, *b)).collect();
            let got: Vec<String> = sentences(words).iter().map(|s| text(s)).collect();
            assert_eq!(got, *want);
        }
    }

    #[test]
    fn punctuation_is_not_doubled() {
        let got = sentences(vec![w("vậy?", 0.0, 0.2), w("rồi", 0.8, 0.9)]);
        assert_eq!(text(&got[0]), "Vậy? rồi.");
    }
}
