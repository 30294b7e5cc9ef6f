//! Speech synthesis: the local voice set (Piper + eSpeak NG), its gRPC server and client.
pub mod client;
pub mod local;
pub mod server;
