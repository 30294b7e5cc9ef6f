//! Numbers written out in words, in the languages whose number words are tabled here (English
//! and Vietnamese): what a recognizer writes for spoken numbers ("mười chín", "nineteenth"), so
//! that the translation checks compare them with digits and with each other.
//!
//! Each number comes with whether it is certain. A lone small number word often is no number at
//! all ("một" is also "a", "năm" also "year", "ba" also "dad", "one" and "first" are pronoun and
//! adverb as often as numbers), so such a word only lets the other side's number of the same
//! value through; compounds ("hai mươi", "three hundred") and words no other meaning shares
//! ("nineteen", "mười") are certain; not so a lone scale word ("hàng trăm", "thousands of"),
//! which is a magnitude more often than a number. "không" (also "not") and "zero" are not read.

/// A number read off words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Spelled {
    pub value: u64,
    pub certain: bool,
}

/// Whether [`spelled`] knows `lang`'s number words.
pub fn spells(lang: &str) -> bool {
    matches!(lang, "en" | "vi")
}

/// The numbers `text` writes in words (lowercase text expected; digits are not read here).
pub fn spelled(text: &str, lang: &str) -> Vec<Spelled> {
    let word = match lang {
        "en" => english,
        "vi" => vietnamese,
        _ => return Vec::new(),
    };
    let mut out = Vec::new();
    let mut number = Number::default();
    let mut tokens = text.split(|c: char| !c.is_alphabetic()).filter(|t| !t.is_empty()).peekable();
    while let Some(token) = tokens.next() {
        // "hai nghìn không trăm hai mươi" is 2020: no hundreds, the number goes on.
        if token == "không" && number.words > 0 && tokens.peek() == Some(&"trăm") {
            tokens.next();
            number.last = Some(Word::Scale(100));
            continue;
        }
        match word(token) {
            Some(w) => {
                if number.ends_before(w) {
                    out.extend(number.take());
                }
                number.push(w, token);
            }
            // "one hundred and five", "một trăm lẻ năm": a joining word inside a number.
            None if number.open_scale() && matches!(token, "and" | "lẻ" | "linh") => {}
            None => out.extend(number.take()),
        }
    }
    out.extend(number.take());
    out
}

/// What one number word does.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Word {
    /// Adds its value: units, teens, tens.
    Add(u64),
    /// Multiplies the units before it by ten (Vietnamese "mươi": "hai mươi" is 20).
    Tens,
    /// Multiplies the group so far (hundred) or closes it into the total (thousand, million…).
    Scale(u64),
}

/// A number being read.
#[derive(Default)]
struct Number {
    total: u64,
    group: u64,
    words: usize,
    /// The only word, when there is one: whether it is a lone word of several meanings.
    ambiguous: bool,
    last: Option<Word>,
}

impl Number {
    /// A word that cannot continue the number read so far starts another: "one two" are two
    /// numbers, "twenty one" one.
    fn ends_before(&self, w: Word) -> bool {
        match (self.last, w) {
            (None, _) => false,
            (Some(Word::Add(a)), Word::Add(b)) => !(a >= 10 && a % 10 == 0 && b < 10 && a < 100),
            (Some(Word::Tens), Word::Tens) => true,
            _ => false,
        }
    }

    fn open_scale(&self) -> bool {
        matches!(self.last, Some(Word::Scale(_)))
    }

    fn push(&mut self, w: Word, token: &str) {
        // Saturating: "hundred hundred hundred …" is any text's to write.
        match w {
            Word::Add(v) => self.group = self.group.saturating_add(v),
            Word::Tens => self.group = self.group / 100 * 100 + self.group % 100 * 10,
            Word::Scale(100) => self.group = self.group.max(1).saturating_mul(100),
            Word::Scale(s) => {
                self.total = self.total.saturating_add(self.group.max(1).saturating_mul(s));
                self.group = 0;
            }
        }
        self.words += 1;
        // A lone scale word is a magnitude more often than a number ("hàng trăm", "thousands of").
        self.ambiguous = self.words == 1 && (AMBIGUOUS.contains(&token) || matches!(w, Word::Scale(_)));
        self.last = Some(w);
    }

    fn take(&mut self) -> Option<Spelled> {
        let n = std::mem::take(self);
        let value = n.total.saturating_add(n.group);
        // A stray "mươi" alone is no number.
        (value > 0).then_some(Spelled { value, certain: !n.ambiguous })
    }
}

/// Number words that alone most often mean something else.
const AMBIGUOUS: &[&str] = &[
    "one", "first", "second", "một", "mốt", "hai", "ba", "bốn", "tư", "năm", "lăm", "sáu", "bảy", "bẩy", "tám", "chín",
];

fn english(w: &str) -> Option<Word> {
    const UNITS: [&str; 20] = [
        "",
        "one",
        "two",
        "three",
        "four",
        "five",
        "six",
        "seven",
        "eight",
        "nine",
        "ten",
        "eleven",
        "twelve",
        "thirteen",
        "fourteen",
        "fifteen",
        "sixteen",
        "seventeen",
        "eighteen",
        "nineteen",
    ];
    const ORDINALS: [&str; 20] = [
        "",
        "first",
        "second",
        "third",
        "fourth",
        "fifth",
        "sixth",
        "seventh",
        "eighth",
        "ninth",
        "tenth",
        "eleventh",
        "twelfth",
        "thirteenth",
        "fourteenth",
        "fifteenth",
        "sixteenth",
        "seventeenth",
        "eighteenth",
        "nineteenth",
    ];
    const TENS: [&str; 10] = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"];
    const TENTHS: [&str; 10] =
        ["", "", "twentieth", "thirtieth", "fortieth", "fiftieth", "sixtieth", "seventieth", "eightieth", "ninetieth"];
    let at = |table: &[&str]| table.iter().position(|t| !t.is_empty() && *t == w).map(|i| i as u64);
    if let Some(v) = at(&UNITS).or_else(|| at(&ORDINALS)) {
        return Some(Word::Add(v));
    }
    if let Some(v) = at(&TENS).or_else(|| at(&TENTHS)) {
        return Some(Word::Add(v * 10));
    }
    let scale = match w {
        "hundred" | "hundreds" | "hundredth" => 100,
        "thousand" | "thousands" | "thousandth" => 1_000,
        "million" | "millions" | "millionth" => 1_000_000,
        "billion" | "billions" | "billionth" => 1_000_000_000,
        _ => return None,
    };
    Some(Word::Scale(scale))
}

fn vietnamese(w: &str) -> Option<Word> {
    Some(match w {
        "một" | "mốt" => Word::Add(1),
        "hai" => Word::Add(2),
        "ba" => Word::Add(3),
        "bốn" | "tư" => Word::Add(4),
        "năm" | "lăm" => Word::Add(5),
        "sáu" => Word::Add(6),
        "bảy" | "bẩy" => Word::Add(7),
        "tám" => Word::Add(8),
        "chín" => Word::Add(9),
        "mười" => Word::Add(10),
        "mươi" => Word::Tens,
        "trăm" => Word::Scale(100),
        "nghìn" | "ngàn" => Word::Scale(1_000),
        "triệu" => Word::Scale(1_000_000),
        "tỷ" | "tỉ" => Word::Scale(1_000_000_000),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str, lang: &str) -> Vec<(u64, bool)> {
        spelled(text, lang).into_iter().map(|s| (s.value, s.certain)).collect()
    }

    #[test]
    fn endless_number_words_saturate() {
        for (lang, text) in [
            ("en", ["hundred"; 500].join(" ")),
            ("vi", ["trăm"; 500].join(" ")),
            ("en", format!("{} billion", ["hundred"; 20].join(" "))),
            ("vi", format!("{} tỷ", ["trăm"; 20].join(" "))),
        ] {
            assert_eq!(read(&text, lang), [(u64::MAX, true)], "{text}");
        }
    }

    #[test]
    fn spoken_numbers_read_as_their_values() {
        for (text, lang, want) in [
            ("đến cuối thế kỷ mười chín", "vi", vec![(19, true)]),
            ("hai mươi mốt người", "vi", vec![(21, true)]),
            ("ba trăm hai mươi lăm", "vi", vec![(325, true)]),
            ("một trăm lẻ năm", "vi", vec![(105, true)]),
            ("năm hai nghìn không trăm hai mươi", "vi", vec![(5, false), (2_020, true)]),
            ("không trăm", "vi", vec![(100, false)]),
            ("hai triệu ba trăm nghìn", "vi", vec![(2_300_000, true)]),
            ("hàng nghìn người", "vi", vec![(1_000, false)]),
            ("một nghìn người", "vi", vec![(1_000, true)]),
            ("mươi người", "vi", vec![]),
            ("tôi muốn mua hai vé", "vi", vec![(2, false)]),
            ("như là một huấn luyện viên", "vi", vec![(1, false)]),
            ("không chỉ tốt cho đứa trẻ", "vi", vec![]),
            ("năm hai nghìn", "vi", vec![(5, false), (2_000, true)]),
            ("by the end of the nineteenth century", "en", vec![(19, true)]),
            ("the tenth century", "en", vec![(10, true)]),
            ("twenty-one tickets", "en", vec![(21, true)]),
            ("one hundred and five", "en", vec![(105, true)]),
            ("three hundred thousand", "en", vec![(300_000, true)]),
            ("thousands of people", "en", vec![(1_000, false)]),
            ("a hundred people", "en", vec![(100, false)]),
            ("the first one", "en", vec![(1, false), (1, false)]),
            ("two tickets", "en", vec![(2, true)]),
            ("one two three", "en", vec![(1, false), (2, true), (3, true)]),
            ("twenty twenty", "en", vec![(20, true), (20, true)]),
            ("no numbers here", "en", vec![]),
            ("một hai ba", "ja", vec![]),
        ] {
            assert_eq!(read(text, lang), want, "{text:?}");
        }
    }
}
