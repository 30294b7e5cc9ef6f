//! Audio at the edges of Sokuji: whatever comes in (files in common containers, raw PCM of any
//! rate and channel count) leaves as `sokuji_core::Audio`, 16 kHz mono f32.
//!
//! Never panics on input: malformed audio is an `invalid_audio` error naming what was wrong.

pub mod decode;
pub mod encode;
pub mod gate;
pub mod media_stream;
pub mod pcm;
pub mod resample;
pub mod vad;
pub mod wav;

pub use decode::{decode_bytes, decode_file};
pub use encode::{OutputFormat, encode};
pub use media_stream::MediaStream;
pub use pcm::{PcmFormat, PcmSpec};
pub use resample::StreamResampler;
pub use vad::{FrameScorer, VoiceDetector};
