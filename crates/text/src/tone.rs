//! Tone marks: NFC composition, the tone mark moved to the vowel Vietnamese orthography puts it
//! on, and the look-alike "Ð" (U+00D0, Icelandic eth) replaced by "Đ" (U+0110).
use unicode_normalization::UnicodeNormalization;

/// Where the tone goes in open syllables with "oa", "oe", "uy": the only place the two
/// conventions differ.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ToneStyle {
    /// "hòa", "thủy": the traditional placement, still the most common in print and in ASR output.
    #[default]
    Classic,
    /// "hoà", "thuỷ": the placement of the 1980s spelling reform.
    Modern,
}

const TONES: [char; 5] = ['\u{300}', '\u{301}', '\u{309}', '\u{303}', '\u{323}'];

fn is_tone(c: char) -> bool {
    TONES.contains(&c)
}

/// Base vowels, with their quality marks (ă â ê ô ơ ư), lower case.
fn is_vowel(c: char) -> bool {
    matches!(c, 'a' | 'ă' | 'â' | 'e' | 'ê' | 'i' | 'o' | 'ô' | 'ơ' | 'u' | 'ư' | 'y')
}

fn has_quality_mark(c: char) -> bool {
    matches!(c, 'ă' | 'â' | 'ê' | 'ô' | 'ơ' | 'ư')
}

/// Normalizes every word of `text`; anything that is not a word is copied as it is (after NFC).
pub fn normalize_tones(text: &str, style: ToneStyle) -> String {
    let text: String = text
        .nfc()
        .map(|c| match c {
            'Ð' => 'Đ',
            'ð' => 'đ',
            c => c,
        })
        .collect();
    let mut out = String::with_capacity(text.len());
    let mut word = String::new();
    for c in text.chars() {
        if c.is_alphabetic() || is_tone(c) || matches!(c, '\u{302}' | '\u{306}' | '\u{31B}') {
            word.push(c);
        } else {
            if !word.is_empty() {
                out.push_str(&fix_word(&word, style));
                word.clear();
            }
            out.push(c);
        }
    }
    if !word.is_empty() {
        out.push_str(&fix_word(&word, style));
    }
    out
}

/// Places the tone of one word; words that are not Vietnamese syllables come back unchanged.
fn fix_word(word: &str, style: ToneStyle) -> String {
    let decomposed: Vec<char> = word.nfd().collect();
    let tone = decomposed.iter().rev().copied().find(|c| is_tone(*c));
    let Some(tone) = tone else { return word.to_string() };
    let base: Vec<char> = decomposed.iter().copied().filter(|c| !is_tone(*c)).collect::<String>().nfc().collect();
    let lower: Vec<char> = base.iter().map(|c| c.to_lowercase().next().unwrap_or(*c)).collect();
    let Some(pos) = tone_position(&lower, style) else { return word.to_string() };
    let mut out = String::with_capacity(word.len() + 2);
    for (i, c) in base.iter().enumerate() {
        out.push(*c);
        if i == pos {
            out.push(tone);
        }
    }
    out.nfc().collect()
}

/// Index of the vowel that carries the tone in a lower-case syllable without tone marks.
fn tone_position(s: &[char], style: ToneStyle) -> Option<usize> {
    // The vowel nucleus: the first run of vowels, after "qu" and "gi" which are consonants
    // when a vowel follows them.
    let mut start = s.iter().position(|c| is_vowel(*c))?;
    let followed_by_vowel = |i: usize| s.get(i + 1).is_some_and(|c| is_vowel(*c));
    if start > 0
        && ((s[start - 1] == 'q' && s[start] == 'u') || (s[start - 1] == 'g' && s[start] == 'i'))
        && followed_by_vowel(start)
    {
        start += 1;
    }
    let end = start + s[start..].iter().take_while(|c| is_vowel(**c)).count();
    // Letters after the nucleus must be consonants, and the word must end there.
    if s[end..].iter().any(|c| is_vowel(*c) || !c.is_alphabetic()) || end - start > 3 {
        return None;
    }
    let nucleus = &s[start..end];
    let closed = end < s.len();
    // 1. A vowel with a quality mark takes the tone; in "ươ" the second one.
    if let Some(i) = nucleus.iter().rposition(|c| has_quality_mark(*c)) {
        return Some(start + i);
    }
    Some(
        start
            + match nucleus.len() {
                1 => 0,
                // Three vowels ("oai", "uyu", "oeo"): the middle one.
                3 => 1,
                // Closed syllables: the last vowel ("hoàn", "huỳnh").
                _ if closed => nucleus.len() - 1,
                _ => {
                    let pair = (nucleus[0], nucleus[1]);
                    let second = matches!(pair, ('o', 'a') | ('o', 'e') | ('u', 'y'));
                    if second && style == ToneStyle::Modern { 1 } else { 0 }
                }
            },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issue_examples() {
        let check = |i: &str, o: &str| assert_eq!(normalize_tones(i, ToneStyle::Classic), o, "{i}");
        check("baỏ", "bảo");
        check("lựơng", "lượng");
        check("nghịêm", "nghiệm");
        check("Ðà Nẵng", "Đà Nẵng");
        check("hoà bình", "hòa bình");
        assert_eq!(normalize_tones("hòa thủy", ToneStyle::Modern), "hoà thuỷ");
    }
}
