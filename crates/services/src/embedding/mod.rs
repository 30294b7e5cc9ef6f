//! Text embeddings: the gRPC server over any `Embedder` and the gRPC client.
pub mod client;
pub mod server;
