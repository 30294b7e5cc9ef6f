//! Property tests: any valid UTF-8 line comes back as one line, and number words in any order
//! never make the parsers panic or overflow.
use proptest::prelude::*;
use sokuji_text::{ToneStyle, inverse_normalize, normalize, normalize_tones, number};

const VOCAB: &[&str] = &[
    "không", "một", "mốt", "hai", "ba", "bốn", "tư", "năm", "lăm", "nhăm", "sáu", "bảy", "tám", "chín", "mười", "mươi",
    "chục", "trăm", "linh", "lẻ", "nghìn", "ngàn", "triệu", "tỷ", "tỉ", "rưỡi", "phẩy", "phần", "trên", "giờ", "phút",
    "giây", "kém", "ngày", "tháng", "năm", "mùng", "thứ", "đồng", "đô", "la", "ki", "lô", "mét", "vuông", "a", "còng",
    "chấm", "com", "gạch", "dưới", ",", ".", "x",
];

fn one_line(input: &str, output: &str) {
    assert_eq!(input.contains('\n'), output.contains('\n'), "{input:?} -> {output:?}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn any_text(s in "\\PC{0,80}") {
        let line = s.replace('\n', " ");
        one_line(&line, &inverse_normalize(&line));
        one_line(&line, &normalize(&line));
        one_line(&line, &normalize_tones(&line, ToneStyle::Classic));
        one_line(&line, &normalize_tones(&line, ToneStyle::Modern));
    }

    #[test]
    fn number_word_soup(words in proptest::collection::vec(proptest::sample::select(VOCAB), 0..24)) {
        let line = words.join(" ");
        let _ = inverse_normalize(&line);
        let _ = number::parse_cardinal(&words);
    }

    #[test]
    fn digit_soup(s in "[0-9.,:/%$€đh+\\-kgmIVX ]{0,40}") {
        let _ = normalize(&s);
    }

    #[test]
    fn cardinals_round_trip(n in 0u64..10_000_000_000_000) {
        let w = number::to_words(n);
        let words: Vec<&str> = w.split(' ').collect();
        prop_assert_eq!(number::parse_cardinal(&words), Some((n, words.len())));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    /// Inverse normalization rewrites words, never punctuation: every non-alphanumeric, non-space
    /// character of the input survives, in order (numbers may add ":" "." "/" "%" and symbols).
    #[test]
    fn itn_keeps_punctuation(words in proptest::collection::vec(proptest::sample::select(VOCAB), 0..16), marks in proptest::collection::vec(proptest::sample::select(&["\"", "(", ")", "!", "?", ";"][..]), 0..16)) {
        let mut line = String::new();
        for (i, w) in words.iter().enumerate() {
            if let Some(m) = marks.get(i) { line.push_str(m); }
            line.push_str(w);
            line.push(' ');
        }
        let out = inverse_normalize(&line);
        let kept = |s: &str| s.chars().filter(|c| matches!(c, '"' | '(' | ')' | '!' | '?' | ';')).collect::<String>();
        prop_assert_eq!(kept(&line), kept(&out));
    }
}
