//! Streaming recognition over any `SpeechToText`: the same session serves gRPC
//! `TranscribeStream` and the gateway's WebSocket.
pub mod session;
