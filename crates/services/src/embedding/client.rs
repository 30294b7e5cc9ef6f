//! `Embedder` over gRPC. The model and its dimensions are asked once, at connection time, so
//! that an index can check it is fed by the model it was built with.
use crate::remote::Guarded;
use sokuji_core::{EmbedKind, Embedder, Embeddings, Error, ErrorCode, Health, Result};
use sokuji_proto::{
    common::Empty,
    convert::error_from_status,
    embedding::{EmbedRequest, InputType, embedding_service_client::EmbeddingServiceClient},
};
use std::time::Duration;

#[derive(Clone)]
pub struct RemoteEmbedder {
    client: EmbeddingServiceClient<Guarded>,
    model: String,
    dimensions: usize,
    url: String,
}

impl RemoteEmbedder {
    /// Connects and embeds one probe text to learn the model; every call gets `deadline`.
    pub async fn connect(url: &str, deadline: Duration) -> Result<Self> {
        let client = EmbeddingServiceClient::new(crate::remote::channel(url, "embedding service", deadline)?);
        let mut me = Self { client, model: String::new(), dimensions: 0, url: url.to_string() };
        let probe = me.call(vec!["probe".into()], EmbedKind::Query).await?;
        me.model = probe.1;
        me.dimensions = probe.0.vectors.first().map_or(0, Vec::len);
        if me.dimensions == 0 {
            return Err(Error::new(
                ErrorCode::EngineFailed,
                format!("the embedding service at {url} returned no vector"),
            ));
        }
        Ok(me)
    }

    async fn call(&self, texts: Vec<String>, kind: EmbedKind) -> Result<(Embeddings, String)> {
        let input_type = match kind {
            EmbedKind::Query => InputType::Query,
            EmbedKind::Passage => InputType::Passage,
        };
        let req = EmbedRequest { texts, input_type: input_type as i32 };
        let res = crate::remote::idempotent(|| {
            let (mut c, r) = (self.client.clone(), req.clone());
            async move { c.embed(r).await }
        })
        .await
        .map_err(|s| error_from_status(&s))?
        .into_inner();
        let e =
            Embeddings { vectors: res.vectors.into_iter().map(|v| v.values).collect(), tokens: res.tokens as usize };
        Ok((e, res.model))
    }
}

#[async_trait::async_trait]
impl Embedder for RemoteEmbedder {
    fn model(&self) -> &str {
        &self.model
    }

    fn dimensions(&self) -> usize {
        self.dimensions
    }

    async fn health(&self) -> Health {
        crate::remote::health(self.client.clone().health_check(Empty {}).await, &self.url)
    }

    async fn embed(&self, texts: Vec<String>, kind: EmbedKind) -> Result<Embeddings> {
        let (e, model) = self.call(texts, kind).await?;
        if model != self.model {
            return Err(Error::new(
                ErrorCode::EngineFailed,
                format!("the embedding service changed model ({} -> {model}): its vectors do not mix", self.model),
            ));
        }
        Ok(e)
    }
}
