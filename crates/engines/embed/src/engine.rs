//! multilingual-e5-small as an [`Embedder`]: e5's `query: ` / `passage: ` prefixes, texts longer
//! than the model's 512 positions embedded window by window (the token-weighted mean of the
//! windows' mean-pooled states, as the model file's reference engine does), L2-normalized.
//! Inference runs on blocking threads, one batch at a time.
use crate::{format::ModelFile, model::Encoder, tokenizer::Tokenizer};
use sokuji_core::{EmbedKind, Embedder, Embeddings, Error, ErrorCode, Result};
use std::{path::Path, sync::Arc};
use tokio::sync::Semaphore;

/// Texts in one call, and characters in one text: beyond them a request is refused.
pub const MAX_TEXTS: usize = 2048;
pub const MAX_CHARS: usize = 200_000;

#[derive(Clone)]
pub struct E5Embedder {
    inner: Arc<Inner>,
}

struct Inner {
    tokenizer: Tokenizer,
    encoder: Encoder,
    name: String,
    permits: Semaphore,
}

impl E5Embedder {
    /// Loads `e5-small-q4.bin` (or a file of the same format); a missing or foreign file is
    /// `model_not_found`.
    pub fn load(path: &Path, name: &str) -> Result<Self> {
        let data = std::fs::read(path).map_err(|e| {
            Error::new(
                ErrorCode::ModelNotFound,
                format!("no embedding model at {} ({e}): run `sokuji models fetch {name}`", path.display()),
            )
        })?;
        let file = ModelFile::parse(data)?;
        let tokenizer = Tokenizer::new(&file.vocab);
        let encoder = Encoder::load(&file)?;
        tracing::info!(model = name, dims = encoder.shape.hidden, "embedding model loaded");
        let inner = Inner { tokenizer, encoder, name: name.to_string(), permits: Semaphore::new(1) };
        Ok(Self { inner: Arc::new(inner) })
    }

    /// The content token ids the model reads for `text` as `kind` (prefix included).
    pub fn tokens(&self, text: &str, kind: EmbedKind) -> Vec<u32> {
        self.inner.tokenizer.encode(&format!("{}{text}", prefix(kind)))
    }

    /// Embeds on the calling thread.
    pub fn embed_blocking(&self, texts: &[String], kind: EmbedKind) -> Result<Embeddings> {
        let window = self.inner.encoder.shape.max_positions - 2;
        let (bos, eos) = (self.inner.tokenizer.bos, self.inner.tokenizer.eos);
        let mut out = Embeddings { vectors: Vec::with_capacity(texts.len()), tokens: 0 };
        for text in texts {
            let content = self.tokens(text, kind);
            let mut sum = vec![0f32; self.inner.encoder.shape.hidden];
            for chunk in content.chunks(window.max(1)) {
                let mut ids = Vec::with_capacity(chunk.len() + 2);
                ids.push(bos);
                ids.extend_from_slice(chunk);
                ids.push(eos);
                out.tokens += ids.len();
                let w = chunk.len() as f32;
                for (s, v) in sum.iter_mut().zip(self.inner.encoder.mean_pooled(&ids)?) {
                    *s += w * v;
                }
            }
            // The weighted mean's direction; its length goes with the L2 normalization.
            let norm = sum.iter().map(|v| v * v).sum::<f32>().sqrt().max(1e-12);
            out.vectors.push(sum.iter().map(|v| v / norm).collect());
        }
        Ok(out)
    }
}

fn prefix(kind: EmbedKind) -> &'static str {
    match kind {
        EmbedKind::Query => "query: ",
        EmbedKind::Passage => "passage: ",
    }
}

#[async_trait::async_trait]
impl Embedder for E5Embedder {
    fn model(&self) -> &str {
        &self.inner.name
    }

    fn dimensions(&self) -> usize {
        self.inner.encoder.shape.hidden
    }

    async fn health(&self) -> sokuji_core::Health {
        let mut h = sokuji_core::Health::ready("sokuji-embed (candle)");
        h.details.insert("model".into(), self.model().into());
        h.details.insert("dimensions".into(), self.dimensions().to_string());
        h
    }

    async fn embed(&self, texts: Vec<String>, kind: EmbedKind) -> Result<Embeddings> {
        if texts.len() > MAX_TEXTS {
            return Err(Error::invalid_request(format!("{} texts in one call: at most {MAX_TEXTS}", texts.len())));
        }
        if let Some(i) = texts.iter().position(|t| t.chars().count() > MAX_CHARS) {
            return Err(Error::invalid_request(format!("text {i} is longer than {MAX_CHARS} characters")));
        }
        let _permit = self
            .inner
            .permits
            .acquire()
            .await
            .map_err(|_| Error::new(ErrorCode::EngineUnavailable, "the embedding engine is shutting down"))?;
        let me = self.clone();
        tokio::task::spawn_blocking(move || me.embed_blocking(&texts, kind))
            .await
            .map_err(|e| Error::new(ErrorCode::EngineFailed, format!("embedding task failed: {e}")))?
    }
}
