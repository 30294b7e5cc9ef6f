//! multilingual-e5-small as an [`Embedder`]: e5's `query: ` / `passage: ` prefixes, texts longer
//! than the model's 512 positions embedded window by window (the token-weighted mean of the
//! windows' mean-pooled states, as the model file's reference engine does), L2-normalized.
//! Inference runs on blocking threads through an admission pool, one call at a time; a call
//! whose caller has gone stops between batches.
use crate::{format::ModelFile, model::Encoder, tokenizer::Tokenizer};
use sokuji_admission::{Admission, Ticket};
use sokuji_core::{EmbedKind, Embedder, Embeddings, Error, ErrorCode, Result};
use std::{path::Path, sync::Arc};

/// Texts in one call, and characters in one text: beyond them a request is refused.
pub const MAX_TEXTS: usize = sokuji_core::limits::EMBEDDING_TEXTS;
pub const MAX_CHARS: usize = 200_000;
/// Tokens through the encoder at once (a larger matrix product is a faster one per row).
const BATCH_TOKENS: usize = 2048;

#[derive(Clone)]
pub struct E5Embedder {
    inner: Arc<Inner>,
}

struct Inner {
    tokenizer: Tokenizer,
    encoder: Encoder,
    name: String,
    admission: Admission,
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
        let inner = Inner { tokenizer, encoder, name: name.to_string(), admission: Admission::new("embedding", 1) };
        Ok(Self { inner: Arc::new(inner) })
    }

    /// The content token ids the model reads for `text` as `kind` (prefix included).
    pub fn tokens(&self, text: &str, kind: EmbedKind) -> Vec<u32> {
        self.inner.tokenizer.encode(&format!("{}{text}", prefix(kind)))
    }

    /// Embeds on the calling thread: every text's windows, up to `BATCH_TOKENS` tokens through
    /// the encoder at a time.
    pub fn embed_blocking(&self, texts: &[String], kind: EmbedKind) -> Result<Embeddings> {
        self.embed_until(texts, kind, &Ticket::unbounded())
    }

    /// The same, stopping between batches once `ticket` is cancelled.
    fn embed_until(&self, texts: &[String], kind: EmbedKind, ticket: &Ticket) -> Result<Embeddings> {
        let window = self.inner.encoder.shape.max_positions - 2;
        let (bos, eos) = (self.inner.tokenizer.bos, self.inner.tokenizer.eos);
        // (text, weight, ids) of every window.
        let mut windows: Vec<(usize, f32, Vec<u32>)> = Vec::new();
        for (i, text) in texts.iter().enumerate() {
            for chunk in self.tokens(text, kind).chunks(window.max(1)) {
                let ids: Vec<u32> = std::iter::once(bos).chain(chunk.iter().copied()).chain([eos]).collect();
                windows.push((i, chunk.len() as f32, ids));
            }
        }
        let tokens = windows.iter().map(|w| w.2.len()).sum();
        let mut sums = vec![vec![0f32; self.inner.encoder.shape.hidden]; texts.len()];
        let mut rest = windows.as_slice();
        while !rest.is_empty() {
            ticket.check()?;
            let mut n = 0;
            let mut batch_tokens = 0;
            while n < rest.len() && (n == 0 || batch_tokens + rest[n].2.len() <= BATCH_TOKENS) {
                batch_tokens += rest[n].2.len();
                n += 1;
            }
            let (batch, tail) = rest.split_at(n);
            let ids: Vec<&[u32]> = batch.iter().map(|w| w.2.as_slice()).collect();
            for ((text, weight, _), pooled) in batch.iter().zip(self.inner.encoder.mean_pooled(&ids)?) {
                for (s, v) in sums[*text].iter_mut().zip(pooled) {
                    *s += weight * v;
                }
            }
            rest = tail;
        }
        // Each weighted mean's direction; its length goes with the L2 normalization.
        let vectors = sums
            .into_iter()
            .map(|sum| {
                let norm = sum.iter().map(|v| v * v).sum::<f32>().sqrt().max(1e-12);
                sum.iter().map(|v| v / norm).collect()
            })
            .collect();
        Ok(Embeddings { vectors, tokens })
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
        let me = self.clone();
        self.inner.admission.run(None, move |ticket| me.embed_until(&texts, kind, ticket)).await
    }
}
