//! Dedicated translation on Firefox Translations models (Marian transformers, int8, one model
//! per direction, 17–44 MB each) run by `fxtranslate`, a pure-Rust port of their inference
//! engine. A sentence costs milliseconds where an LLM costs seconds, so the live path uses these
//! models for every pair they cover and the LLM for the rest.
//!
//! Models live one directory per direction (`<model dir>/marian/<src>-<trg>/`), whether they came
//! from a registry package or from Mozilla's hub (`sokuji models fetch`): the model cache's
//! `sokuji_models::marian` layout.

mod translator;

pub use sokuji_models::marian::{Pair, PairFiles, installed};
pub use translator::{ENGINE, MarianTranslator};
