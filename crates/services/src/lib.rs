//! Sokuji's services on the wire. Each service has a server that wraps any implementation of its
//! domain trait and a client that implements the same trait, so callers never know which they
//! hold. Every server also serves `grpc.health.v1` and reflection.
//!
//! Only wire-level concerns live here: live sessions are `sokuji-live`'s, policies
//! (endpointing, agreement) `sokuji-core`'s, conversions to protobuf `sokuji-proto`'s.

pub mod breaker;
pub mod embedding;
pub mod grpc;
pub mod grpc_auth;
pub mod live;
pub mod metrics;
pub mod remote;
pub mod stt;
pub mod text;
pub mod translation;
pub mod tts;

pub use embedding::{client::RemoteEmbedder, server::EmbeddingServer};
pub use live::{LiveServer, SESSION_ID_KEY};
pub use stt::{client::RemoteStt, router::SttRouter, server::SttServer};
pub use text::{client::RemoteText, local::VietnameseNormalizer, server::TextServer};
pub use translation::{client::RemoteTranslator, router::TranslationRouter, server::TranslationServer};
pub use tts::{client::RemoteTts, server::TtsServer};
