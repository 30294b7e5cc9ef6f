//! Speech synthesis: its gRPC server and client (the local voice set is `sokuji_live::VoiceSet`).
pub mod client;
pub mod server;
