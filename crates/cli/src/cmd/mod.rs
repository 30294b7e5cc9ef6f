pub mod config;
pub mod engines;
pub mod models;
pub mod serve;
pub mod speak;
pub mod text;
pub mod transcribe;
pub mod translate;
