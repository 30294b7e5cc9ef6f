//! `sokuji.text.TextService` over any `TextNormalizer`.
use sokuji_core::{NormalizeMode, TextNormalizer};
use sokuji_proto::{
    common::{Empty, HealthCheckResponse},
    convert::status_from_error,
    text::{Mode, NormalizeRequest, NormalizeResponse, ToneStyle, text_service_server::TextService},
};
use std::sync::Arc;
use tonic::{Request, Response, Status};

pub struct TextServer {
    text: Arc<dyn TextNormalizer>,
}

impl TextServer {
    pub fn new(text: Arc<dyn TextNormalizer>) -> Self {
        Self { text }
    }
}

#[tonic::async_trait]
impl TextService for TextServer {
    async fn normalize(&self, request: Request<NormalizeRequest>) -> Result<Response<NormalizeResponse>, Status> {
        let r = request.into_inner();
        sokuji_core::limits::check_list("texts", r.texts.len(), sokuji_core::limits::NORMALIZE_TEXTS)
            .map_err(|e| status_from_error(&e))?;
        let mode = match Mode::try_from(r.mode) {
            Ok(Mode::Itn) => NormalizeMode::Itn,
            Ok(Mode::Tn) => NormalizeMode::Tn,
            Ok(Mode::Tone) => NormalizeMode::Tone,
            Err(_) => return Err(Status::invalid_argument(format!("unknown mode {}", r.mode))),
        };
        let modern = r.tone_style == ToneStyle::Modern as i32;
        let texts = self.text.normalize(r.texts, mode, &r.language, modern).await.map_err(|e| status_from_error(&e))?;
        Ok(Response::new(NormalizeResponse { texts }))
    }

    async fn health_check(&self, _: Request<Empty>) -> Result<Response<HealthCheckResponse>, Status> {
        Ok(Response::new(HealthCheckResponse {
            healthy: true,
            status: "ready".into(),
            provider_name: "sokuji-text".into(),
            details: Default::default(),
        }))
    }
}
