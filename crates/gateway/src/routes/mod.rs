pub mod health;
pub mod openai;
pub mod stt;
pub mod text;
