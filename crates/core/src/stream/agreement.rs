//! Local agreement: a word is committed once two consecutive hypotheses agree on it and on
//! everything before it. Committed words never change afterwards, so captions stop flickering.
use crate::wer::normalize_words;

/// Committed words so far and the tentative rest of the latest hypothesis.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Hypothesis {
    pub committed: Vec<String>,
    pub tentative: Vec<String>,
}

impl Hypothesis {
    pub fn committed_text(&self) -> String {
        self.committed.join(" ")
    }
    pub fn text(&self) -> String {
        self.committed.iter().chain(&self.tentative).cloned().collect::<Vec<_>>().join(" ")
    }
    /// Share of the words that are committed, in [0, 1].
    pub fn stability(&self) -> f32 {
        let n = self.committed.len() + self.tentative.len();
        if n == 0 { 1.0 } else { self.committed.len() as f32 / n as f32 }
    }
}

/// Tracks one utterance's hypotheses.
#[derive(Clone, Debug, Default)]
pub struct LocalAgreement {
    committed: Vec<String>,
    previous_tail: Vec<String>,
}

/// Two words agree when they are the same once case and punctuation are ignored.
fn same(a: &str, b: &str) -> bool {
    normalize_words(a) == normalize_words(b)
}

impl LocalAgreement {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn committed(&self) -> &[String] {
        &self.committed
    }

    /// Feeds the next hypothesis (its words in order). Words past the committed count are
    /// compared with the previous hypothesis' tail; their common prefix becomes committed.
    pub fn update(&mut self, words: &[String]) -> Hypothesis {
        let tail: Vec<String> = words.iter().skip(self.committed.len()).cloned().collect();
        let agreed = tail.iter().zip(&self.previous_tail).take_while(|(a, b)| same(a, b)).count();
        self.committed.extend(tail[..agreed].iter().cloned());
        self.previous_tail = tail[agreed..].to_vec();
        Hypothesis { committed: self.committed.clone(), tentative: self.previous_tail.clone() }
    }

    /// The final words of the utterance: the committed prefix exactly as it was shown, then
    /// whatever the final hypothesis has beyond it.
    pub fn finish(&mut self, words: &[String]) -> Vec<String> {
        let mut out = std::mem::take(&mut self.committed);
        out.extend(words.iter().skip(out.len()).cloned());
        self.previous_tail.clear();
        out
    }

    /// Drops the first `n` committed words (they were emitted as a final of their own).
    pub fn drain_committed(&mut self, n: usize) {
        let n = n.min(self.committed.len());
        self.committed.drain(..n);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    /// Runs hypotheses through one utterance; each step is (hypothesis, committed after it).
    fn check(steps: &[(&str, &str)]) {
        let mut la = LocalAgreement::new();
        let mut last = String::new();
        for (hyp, want) in steps {
            let h = la.update(&words(hyp));
            assert_eq!(h.committed_text(), *want, "after {hyp:?}");
            assert!(h.committed_text().starts_with(&last), "committed text changed");
            last = h.committed_text();
        }
    }

    #[test]
    fn agreement_cases() {
        check(&[("xin", ""), ("xin chào", "xin"), ("xin chào các", "xin chào"), ("xin chào các bạn", "xin chào các")]);
        check(&[("hello word", ""), ("hello world", "hello"), ("hello world again", "hello world")]);
        // Punctuation and case do not block agreement; the first surface form is kept.
        check(&[("Hello,", ""), ("hello there", "hello"), ("hello there friend", "hello there")]);
        // A later hypothesis that rewrites committed words cannot change them.
        check(&[("a b c", ""), ("a b d", "a b"), ("x y z w", "a b"), ("x y z w", "a b z w")]);
        check(&[("", ""), ("", "")]);
    }

    #[test]
    fn finish_keeps_committed_prefix() {
        let mut la = LocalAgreement::new();
        la.update(&words("một hai ba"));
        la.update(&words("một hai bốn"));
        assert_eq!(la.finish(&words("mốt hai bốn năm")), words("một hai bốn năm"));
        assert!(la.committed().is_empty());
    }

    #[test]
    fn stability() {
        let h = Hypothesis { committed: words("a b c"), tentative: words("d") };
        assert_eq!(h.stability(), 0.75);
        assert_eq!(h.text(), "a b c d");
    }
}
