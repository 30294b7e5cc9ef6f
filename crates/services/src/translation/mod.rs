//! Translation: its gRPC server and client and the router by language pair (engines live in `sokuji-marian`, `sokuji-llm` and `sokuji-mt-remote`).
pub mod client;
pub mod router;
pub mod server;
#[cfg(test)]
mod tests;
