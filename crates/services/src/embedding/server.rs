//! `sokuji.embedding.EmbeddingService` over any `Embedder`.
use sokuji_core::{EmbedKind, Embedder};
use sokuji_proto::{
    common::{Empty, HealthCheckResponse},
    convert::status_from_error,
    embedding::{EmbedRequest, EmbedResponse, InputType, Vector, embedding_service_server::EmbeddingService},
};
use std::sync::Arc;
use tonic::{Request, Response, Status};

pub struct EmbeddingServer {
    embedder: Arc<dyn Embedder>,
}

impl EmbeddingServer {
    pub fn new(embedder: Arc<dyn Embedder>) -> Self {
        Self { embedder }
    }
}

#[tonic::async_trait]
impl EmbeddingService for EmbeddingServer {
    async fn embed(&self, request: Request<EmbedRequest>) -> Result<Response<EmbedResponse>, Status> {
        let r = request.into_inner();
        let kind = match InputType::try_from(r.input_type) {
            Ok(InputType::Query) => EmbedKind::Query,
            Ok(InputType::Passage) => EmbedKind::Passage,
            Err(_) => return Err(Status::invalid_argument(format!("unknown input type {}", r.input_type))),
        };
        let e = self.embedder.embed(r.texts, kind).await.map_err(|e| status_from_error(&e))?;
        Ok(Response::new(EmbedResponse {
            vectors: e.vectors.into_iter().map(|values| Vector { values }).collect(),
            model: self.embedder.model().into(),
            dimensions: self.embedder.dimensions() as u32,
            tokens: e.tokens as u32,
        }))
    }

    async fn health_check(&self, _: Request<Empty>) -> Result<Response<HealthCheckResponse>, Status> {
        Ok(Response::new(HealthCheckResponse {
            healthy: true,
            status: "ready".into(),
            provider_name: format!("sokuji-embedding ({})", self.embedder.model()),
            details: Default::default(),
        }))
    }
}
