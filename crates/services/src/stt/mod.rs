pub mod client;
pub mod router;
pub mod server;
