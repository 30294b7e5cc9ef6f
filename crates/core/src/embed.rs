//! The text-embedding capability (semantic search over transcripts): the local e5 engine
//! implements it, and so will the gRPC client.
use crate::Result;

/// What a text is, for models trained with asymmetric prefixes (e5: `query: ` / `passage: `).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EmbedKind {
    Query,
    Passage,
}

/// One vector per text, in order, L2-normalized (cosine similarity is a dot product).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Embeddings {
    pub vectors: Vec<Vec<f32>>,
    /// Tokens the model read, for usage reporting.
    pub tokens: usize,
}

#[async_trait::async_trait]
pub trait Embedder: Send + Sync {
    /// The model's name, reported with its vectors (an index is only valid for one model).
    fn model(&self) -> &str;
    fn dimensions(&self) -> usize;
    async fn embed(&self, texts: Vec<String>, kind: EmbedKind) -> Result<Embeddings>;
    /// Whether it can embed now, for `/health`.
    async fn health(&self) -> crate::Health;
}
