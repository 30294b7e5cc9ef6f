pub mod health;
pub mod openai;
pub mod openai_speech;
pub mod stt;
pub mod text;
pub mod translation;
pub mod tts;
