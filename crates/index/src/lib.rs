//! Search indexes over transcript passages, behind `sokuji_core::search::SearchIndex`.
//! Embedded (default): tantivy holds every passage durably (its text analyzed twice: as
//! written, and lowercased with diacritics folded, so "hop dong" finds "hợp đồng") together with
//! its vector; an in-memory HNSW graph (hnsw_rs) over the vectors is rebuilt from it at start-up
//! and kept up to date. A tantivy commit is atomic: a crash loses at most the uncommitted
//! recording, whose index event is then redelivered.
//! PostgreSQL (feature `pgvector`): the same over pgvector's HNSW and full text, for deployments
//! where workers and gateways are separate processes.
//! Qdrant (feature `qdrant`): dense vectors plus sparse BM25 word vectors in one collection.
mod embedded;
#[cfg(feature = "pgvector")]
mod pgvector;
#[cfg(feature = "qdrant")]
mod qdrant;
mod schema;
mod words;

/// The search beam of every engine's HNSW walk (hnsw_rs `ef`, pgvector `hnsw.ef_search`,
/// Qdrant `hnsw_ef`): alike, so the engines compare, and one place to trade recall for latency.
const SEARCH_EF: usize = 100;

pub use embedded::EmbeddedIndex;
#[cfg(feature = "pgvector")]
pub use pgvector::PgVectorIndex;
#[cfg(feature = "qdrant")]
pub use qdrant::QdrantIndex;
