//! The words of a text as both engines see them: lowercased as written, and with diacritics
//! folded ("Hợp" -> "hợp", "hop"), with their character ranges; and highlights from them.
use tantivy::tokenizer::{AsciiFoldingFilter, LowerCaser, SimpleTokenizer, TextAnalyzer};

/// A word: lowercased, folded, and its character range in the text.
pub type Word = (String, String, usize, usize);

pub fn exact_analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default()).filter(LowerCaser).build()
}

pub fn folded_analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default()).filter(LowerCaser).filter(AsciiFoldingFilter).build()
}

fn tokens(mut analyzer: TextAnalyzer, text: &str) -> Vec<(String, usize, usize)> {
    let mut stream = analyzer.token_stream(text);
    let mut out = Vec::new();
    while stream.advance() {
        let t = stream.token();
        out.push((t.text.clone(), t.offset_from, t.offset_to));
    }
    out
}

pub fn words(text: &str) -> Vec<Word> {
    let chars = |byte: usize| text.get(..byte).map_or(0, |s| s.chars().count());
    // Both analyzers cut at the same places; folding only rewrites each word.
    tokens(exact_analyzer(), text)
        .into_iter()
        .zip(tokens(folded_analyzer(), text))
        .map(|((exact, a, b), (folded, _, _))| (exact, folded, chars(a), chars(b)))
        .collect()
}

/// The text with each word folded, space-separated (for engines that index words as given).
pub fn folded(text: &str) -> String {
    tokens(folded_analyzer(), text).into_iter().map(|(w, _, _)| w).collect::<Vec<_>>().join(" ")
}

/// The character ranges of `text`'s words that match the query's: as written when the query
/// word has diacritics, folded when it has none.
pub fn highlights(text: &str, query: &[Word]) -> Vec<(usize, usize)> {
    words(text)
        .into_iter()
        .filter(|(exact, folded, _, _)| query.iter().any(|(qe, qf, _, _)| qe == exact || (qe == qf && qf == folded)))
        .map(|(_, _, a, b)| (a, b))
        .collect()
}
