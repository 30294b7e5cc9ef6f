//! Vietnamese text normalization, pure: no IO, no allocation beyond the output, and no panic on
//! any input — every valid UTF-8 line gives back a line.
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
