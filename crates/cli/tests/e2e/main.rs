//! The slow tier: the real `sokuji` binary, real models, real speech, real clients. One test
//! binary with a module per area (each test binary links the whole dependency graph again).
//! Tests run one at a time (`RUST_TEST_THREADS=1`: inference is CPU-bound); the fast tier is
//! every crate's own unit tests, on fake engines.
mod common;
#[path = "../../../store/tests/support/nats.rs"]
mod nats;
#[path = "../../../store/tests/support/pg.rs"]
mod pg;
#[path = "../../../store/tests/support/seaweed.rs"]
mod seaweed;
#[path = "../../../store/tests/support/watchdog.rs"]
mod watchdog;

mod archive;
mod auth;
mod browser;
#[cfg(feature = "stt-conformer")]
mod conformer;
mod embeddings;
mod grpc_stt;
mod grpc_text;
mod http_api;
mod isolate;
mod live_grpc;
mod live_ws;
mod noise;
mod openai_sdk;
mod opus;
mod original_clients;
mod realtime;
mod search;
mod text_cli;
mod transcribe_cli;
mod translation;
mod tts;
#[cfg(feature = "stt-whisper")]
mod whisper;
