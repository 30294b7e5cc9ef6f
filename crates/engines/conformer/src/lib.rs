//! Vietnamese speech-to-text on a streaming Conformer with a CTC head (12 layers, width 448,
//! int8, ONNX), run by ONNX Runtime. Whisper base gets about one Vietnamese word in four
//! wrong; this model about one in twelve, at a fraction of the cost.
//!
//! Pure parts are apart from the session: `features` (the model's exact log-mel features),
//! `vocab`, `ctc` (greedy decoding with word times and confidences); `model` runs the network a
//! step at a time, several streams in one batch; `engine` is the `SpeechToText` impl.

mod ctc;
mod engine;
mod features;
mod model;
mod stream;
mod vocab;

pub use engine::{ConformerConfig, ConformerEngine};
