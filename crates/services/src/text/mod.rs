//! Text normalization: the local normalizer, its gRPC server and its gRPC client.
pub mod client;
pub mod local;
pub mod server;
