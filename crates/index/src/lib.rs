//! Search indexes over transcript passages, behind `sokuji_core::search::SearchIndex`.
//! Embedded (default): tantivy holds every passage durably (its text analyzed twice: as
//! written, and lowercased with diacritics folded, so "hop dong" finds "hợp đồng") together with
//! its vector; an in-memory HNSW graph (hnsw_rs) over the vectors is rebuilt from it at start-up
//! and kept up to date. A tantivy commit is atomic: a crash loses at most the uncommitted
//! recording, whose index event is then redelivered.
mod embedded;
mod schema;

pub use embedded::EmbeddedIndex;
