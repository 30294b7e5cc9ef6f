pub mod client;
pub mod router;
pub mod server;
#[cfg(test)]
mod tests;
