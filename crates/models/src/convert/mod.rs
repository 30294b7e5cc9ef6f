//! Format conversion: CTranslate2 Whisper checkpoints to whisper.cpp's ggml format; blobs
//! embedded in native libraries.
pub mod ct2;
pub mod elf;
pub mod ggml_whisper;
pub mod mel;
pub mod vocab;
