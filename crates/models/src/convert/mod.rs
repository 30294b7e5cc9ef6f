//! Format conversion: CTranslate2 Whisper checkpoints to whisper.cpp's ggml format.
pub mod ct2;
pub mod ggml_whisper;
pub mod mel;
pub mod vocab;
