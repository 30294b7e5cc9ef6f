//! Piper voices: VITS models exported to ONNX, run by ONNX Runtime (loaded from a shared library
//! at run time, so nothing native is linked at build time), fed with eSpeak NG's IPA.
//!
//! Pure parts (`config`: the voice's JSON and phoneme ids) are separate from the session.

mod config;
mod synthesizer;
mod voice;

pub use config::{PiperConfig, phoneme_ids};
pub use synthesizer::PiperSynthesizer;
pub use voice::{PiperError, PiperVoice};
