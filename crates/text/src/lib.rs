//! Vietnamese text normalization, pure: no IO and no panic on any input — every valid UTF-8
//! line gives back a line.
//!
//! - [`itn`]: inverse normalization, spoken to written, for ASR output ("hai mươi tư" -> "24").
//! - [`tn`]: normalization, written to spoken, the front end of TTS ("12kg" -> "mười hai ki lô gam").
//! - [`tone`]: Unicode and tone-mark repair ("lựơng" -> "lượng", "Ð" -> "Đ").

pub mod itn;
pub mod number;
pub mod tn;
pub mod tone;

pub use itn::inverse_normalize;
pub use tn::normalize;
pub use tone::{ToneStyle, normalize_tones};

/// What to do to a line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Spoken to written (ASR output).
    Itn,
    /// Written to spoken (TTS input).
    Tn,
    /// Unicode and tone-mark repair only.
    Tone,
}

/// One line through `mode`. Tone marks are repaired first in every mode, so that the number
/// and unit tables match however the text was typed or decoded.
pub fn normalize_line(line: &str, mode: Mode, style: ToneStyle) -> String {
    let toned = normalize_tones(line, style);
    match mode {
        Mode::Itn => inverse_normalize(&toned),
        Mode::Tn => normalize(&toned),
        Mode::Tone => toned,
    }
}
