//! Guards against text from non-speech: Whisper's best-known failure is to "hear" a stock
//! sentence in silence, noise or music ("Thank you for watching.", "Hãy subscribe cho kênh…").
//! Each guard is a pure judgement of one piece of evidence; the engines apply them before and
//! after decoding and count every rejection by its reason, so an operator sees how often each
//! fires (`sokuji_stt_rejections_total{reason}`).
//!
//! Nothing here depends on timing: the same audio and the same decoder output always get the
//! same verdict, whatever the load of the machine.
use std::sync::atomic::{AtomicU64, Ordering};

/// Why a piece of audio was not decoded, or a decoded segment was dropped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Rejection {
    /// Too little audio above the silence floor to hold a word.
    Quiet,
    /// Steady noise (hiss, hum, fans, room tone): its loudness barely varies, speech's does.
    Steady,
    /// The decoder itself judged the window as having no speech, and its text is unsure.
    NoSpeech,
    /// The decoder barely believes its own tokens.
    LowConfidence,
    /// The text repeats itself (a decoder loop).
    Repetition,
    /// A stock phrase Whisper produces from non-speech, without strong evidence of speech.
    KnownPhrase,
    /// A live decode stopped as soon as its tokens went round in a loop (`ends_in_loop`):
    /// its text would have been dropped as a `Repetition`, after up to ~220 tokens.
    Loop,
}

impl Rejection {
    pub const ALL: [Rejection; 7] = [
        Rejection::Quiet,
        Rejection::Steady,
        Rejection::NoSpeech,
        Rejection::LowConfidence,
        Rejection::Repetition,
        Rejection::KnownPhrase,
        Rejection::Loop,
    ];

    /// The metric label.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Quiet => "quiet",
            Self::Steady => "steady_noise",
            Self::NoSpeech => "no_speech",
            Self::LowConfidence => "low_confidence",
            Self::Repetition => "repetition",
            Self::KnownPhrase => "known_phrase",
            Self::Loop => "decoder_loop",
        }
    }

    const fn index(self) -> usize {
        self as usize
    }
}

/// Rejections counted by reason; shared (`Arc`) between the engines that reject and whatever
/// exports the counts.
#[derive(Debug, Default)]
pub struct Rejections {
    counts: [AtomicU64; 7],
}

impl Rejections {
    pub fn count(&self, r: Rejection) {
        self.counts[r.index()].fetch_add(1, Ordering::Relaxed);
    }

    pub fn get(&self, r: Rejection) -> u64 {
        self.counts[r.index()].load(Ordering::Relaxed)
    }

    /// Every reason with its count, in `Rejection::ALL` order.
    pub fn snapshot(&self) -> Vec<(Rejection, u64)> {
        Rejection::ALL.iter().map(|r| (*r, self.get(*r))).collect()
    }
}

/// What the decoder says of one segment it produced.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SegmentEvidence<'a> {
    pub text: &'a str,
    /// The decoder's probability that the window holds no speech.
    pub no_speech: f32,
    /// Mean log-probability of the segment's text tokens.
    pub mean_logprob: f32,
    /// Mean probability of the segment's text tokens.
    pub mean_probability: f32,
}

/// The verdict on a decoded segment; `None` keeps it.
///
/// - `NoSpeech`: OpenAI's rule: no-speech probability above 0.6 and mean log-probability
///   below -1.
/// - `LowConfidence`: mean token probability below 0.2.
/// - `Repetition`: one word (or character, for text without spaces) or phrase of up to eight
///   repeated back to back so that the repeats fill most of the text.
/// - `KnownPhrase`: the whole text is a stock phrase and the decoder is not sure of it (some
///   no-speech probability, or a mean token probability below 0.75); phrases no speaker says
///   (subtitle credits) go regardless.
pub fn judge_segment(e: &SegmentEvidence) -> Option<Rejection> {
    if e.no_speech > 0.6 && e.mean_logprob < -1.0 {
        return Some(Rejection::NoSpeech);
    }
    if e.mean_probability < 0.2 {
        return Some(Rejection::LowConfidence);
    }
    if is_repetitive(e.text) {
        return Some(Rejection::Repetition);
    }
    match known_phrase(e.text) {
        Some(Phrase::Credit) => Some(Rejection::KnownPhrase),
        Some(Phrase::Stock) if e.no_speech > 0.1 || e.mean_probability < 0.75 => Some(Rejection::KnownPhrase),
        _ => None,
    }
}

/// Lower-cased words (letters, digits and apostrophes), or characters for text written without
/// spaces (Japanese, Chinese).
fn units(text: &str) -> Vec<String> {
    let lower = text.to_lowercase();
    let words: Vec<String> = lower
        .split_whitespace()
        .map(|w| w.chars().filter(|c| c.is_alphanumeric() || *c == '\'').collect::<String>())
        .filter(|w| !w.is_empty())
        .collect();
    if words.len() == 1 && words[0].chars().count() > 12 {
        return words[0].chars().map(String::from).collect();
    }
    words
}

/// How many times `items[i..i + n]` occurs back to back from `i`.
fn repeats<T: PartialEq>(items: &[T], i: usize, n: usize) -> usize {
    let mut reps = 1;
    while i + (reps + 1) * n <= items.len() && items[i + reps * n..i + (reps + 1) * n] == items[i..i + n] {
        reps += 1;
    }
    reps
}

/// True when a run of one unit or phrase of up to eight, repeated back to back at least three
/// times, covers at least 60% of the text and six units.
pub fn is_repetitive(text: &str) -> bool {
    let u = units(text);
    for n in 1..=8usize {
        let mut i = 0;
        while i + n <= u.len() {
            let reps = repeats(&u, i, n);
            let covered = reps * n;
            if reps >= 3 && covered >= 6 && covered * 10 >= u.len() * 6 {
                return true;
            }
            i += 1;
        }
    }
    false
}

/// True when `tokens` end in one phrase of up to 16 tokens repeated back to back at least four
/// times over at least 16 tokens ("can do so you can do so you can do so you can do so you").
///
/// Checked after every token of a live decode, which then stops: greedy decoding never leaves
/// such a loop by itself; it runs to whisper.cpp's limit (~220 tokens, measured 3.8 s for 7 s
/// of English on 2 cores) and the text is dropped (`is_repetitive`) anyway. Stricter than
/// `is_repetitive`, since stopping also loses whatever the speaker said after: "no, no, no"
/// and a word said four times are not loops.
pub fn ends_in_loop<T: PartialEq>(tokens: &[T]) -> bool {
    (1..=16usize).any(|n| {
        let reps = 16usize.div_ceil(n).max(4);
        tokens.len() >= reps * n && repeats(tokens, tokens.len() - reps * n, n) >= reps
    })
}

enum Phrase {
    /// Said by people too ("Thank you."): dropped only on weak evidence.
    Stock,
    /// Never said by a speaker (subtitle credits, channel plugs with a channel's name).
    Credit,
}

/// Stock phrases Whisper is known to produce from non-speech, as `units` writes them.
const STOCK: &[&str] = &[
    "you",
    "bye",
    "thank you",
    "thank you very much",
    "thanks for watching",
    "thank you for watching",
    "thank you so much for watching",
    "thanks for watching and see you next time",
    "please subscribe",
    "please subscribe to my channel",
    "like and subscribe",
    "see you in the next video",
    "see you next time",
    "the end",
    "cảm ơn các bạn đã theo dõi",
    "cảm ơn các bạn đã xem video",
    "hẹn gặp lại các bạn trong những video tiếp theo",
    "các bạn hãy đăng ký kênh",
    "merci d'avoir regardé",
    "vielen dank fürs zuschauen",
    "gracias por ver",
    "obrigado por assistir",
];

/// Fragments that mark a credit wherever they appear.
const CREDITS: &[&str] = &[
    "amara.org",
    "ghiền mì gõ",
    "subtitles by",
    "transcription by castingwords",
    "untertitel im auftrag",
    "sous-titres réalisés",
    "ご視聴ありがとうございました",
    "チャンネル登録",
    "字幕由",
    "请不吝点赞",
    "明镜与点点",
    "시청해주셔서 감사합니다",
];

fn known_phrase(text: &str) -> Option<Phrase> {
    let lower = text.to_lowercase();
    if CREDITS.iter().any(|c| lower.contains(c)) {
        return Some(Phrase::Credit);
    }
    let joined = units(text).join(" ");
    STOCK.contains(&joined.as_str()).then_some(Phrase::Stock)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn judge(text: &str, no_speech: f32, mean_probability: f32) -> Option<Rejection> {
        judge_segment(&SegmentEvidence { text, no_speech, mean_logprob: mean_probability.ln(), mean_probability })
    }

    #[test]
    fn verdicts() {
        use Rejection::*;
        let cases: &[(&str, f32, f32, Option<Rejection>)] = &[
            // Real speech, said with confidence.
            ("Chúng ta có thể áp dụng logic tương tự với người khác.", 0.01, 0.85, None),
            ("The birch canoe slid on the smooth planks.", 0.02, 0.9, None),
            ("Thank you.", 0.01, 0.92, None),
            ("I said no, no, no to him.", 0.02, 0.9, None),
            // The decoder's own doubts.
            ("The next day, we'll be going to the beach.", 0.8, 0.3, Some(NoSpeech)),
            ("The next day, we'll be going to the beach.", 0.1, 0.15, Some(LowConfidence)),
            // Loops.
            ("the the the the the the the", 0.0, 0.9, Some(Repetition)),
            ("I'm sorry. I'm sorry. I'm sorry. I'm sorry.", 0.0, 0.9, Some(Repetition)),
            ("ありがとうありがとうありがとうありがとう", 0.0, 0.9, Some(Repetition)),
            // Stock phrases: dropped on weak evidence only.
            ("Thank you for watching!", 0.3, 0.9, Some(KnownPhrase)),
            ("Thank you.", 0.05, 0.6, Some(KnownPhrase)),
            ("Thanks for watching.", 0.01, 0.95, None),
            ("Cảm ơn các bạn đã theo dõi.", 0.2, 0.8, Some(KnownPhrase)),
            // Credits: always.
            ("Subtitles by the Amara.org community", 0.0, 0.99, Some(KnownPhrase)),
            ("Hãy subscribe cho kênh Ghiền Mì Gõ để không bỏ lỡ những video hấp dẫn", 0.0, 0.95, Some(KnownPhrase)),
            ("ご視聴ありがとうございました", 0.0, 0.99, Some(KnownPhrase)),
        ];
        for (text, no_speech, p, expected) in cases {
            assert_eq!(judge(text, *no_speech, *p), *expected, "{text:?} (no_speech {no_speech}, p {p})");
        }
    }

    #[test]
    fn loops_at_the_end_of_a_decode() {
        let tokens = |s: &str| s.split_whitespace().map(String::from).collect::<Vec<_>>();
        let cases: &[(&str, bool)] = &[
            ("the merch can do so you can do so you can do so you can do so you", true),
            ("the merch can do so you can do so you can do so you", false),
            ("can do so you can do so you can do so you can do so you and then", false),
            ("la la la la la la la la la la la la la la la la", true),
            ("la la la la la la la la la la la la la la la", false),
            ("no , no , no , no , no , no , no , no , no", true),
            ("no , no , no , no , no , no , no , no", false),
            ("I said no , no , no , no to him", false),
            ("a b c d e f g h i j a b c d e f g h i j a b c d e f g h i j a b c d e f g h i j", true),
            ("a b c d e f g h i j a b c d e f g h i j a b c d e f g h i j", false),
            ("", false),
        ];
        for (text, expected) in cases {
            assert_eq!(ends_in_loop(&tokens(text)), *expected, "{text:?}");
        }
    }

    #[test]
    fn counts_by_reason() {
        let r = Rejections::default();
        r.count(Rejection::Steady);
        r.count(Rejection::Steady);
        r.count(Rejection::KnownPhrase);
        assert_eq!(r.get(Rejection::Steady), 2);
        let labels: Vec<_> = r.snapshot().iter().map(|(k, n)| (k.as_str(), *n)).collect();
        assert_eq!(labels[1], ("steady_noise", 2));
        assert_eq!(labels.iter().map(|(_, n)| n).sum::<u64>(), 3);
    }
}
