//! Translation: its gRPC server and client (engines live in `sokuji-llm` and `sokuji-mt-remote`).
pub mod client;
pub mod server;
