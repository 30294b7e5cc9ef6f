//! `sokuji.translation.TranslationService` over any `Translator`.
use crate::metrics::Metrics;
use sokuji_core::{Partial, TranslateRequest, Translator};
use sokuji_proto::{
    common::{Empty, HealthCheckResponse, MetricsResponse, TranslationResult},
    convert::{health_response, status_from_error},
    translation::{
        LanguageListResponse, TranslateBatchRequest, TranslateBatchResponse, TranslateRequest as WireRequest,
        translation_service_server::TranslationService,
    },
};
use std::{pin::Pin, sync::Arc, time::Instant};
use tokio_stream::{Stream, StreamExt};
use tonic::{Request, Response, Status, Streaming};

pub struct TranslationServer {
    translator: Arc<dyn Translator>,
    metrics: Arc<Metrics>,
}

impl TranslationServer {
    pub fn new(translator: Arc<dyn Translator>) -> Self {
        Self { translator, metrics: Arc::default() }
    }
}

#[tonic::async_trait]
impl TranslationService for TranslationServer {
    async fn translate(&self, request: Request<WireRequest>) -> Result<Response<TranslationResult>, Status> {
        let started = Instant::now();
        let result = self.translator.translate(request.into_inner().into()).await;
        self.metrics.observe(started, &result);
        result.map(|t| Response::new((&t).into())).map_err(|e| status_from_error(&e))
    }

    async fn prepare(&self, request: Request<WireRequest>) -> Result<Response<Empty>, Status> {
        let request: TranslateRequest = request.into_inner().into();
        self.translator.prepare(request).await.map(|()| Response::new(Empty {})).map_err(|e| status_from_error(&e))
    }

    async fn translate_batch(
        &self,
        request: Request<TranslateBatchRequest>,
    ) -> Result<Response<TranslateBatchResponse>, Status> {
        let started = Instant::now();
        let r = request.into_inner();
        sokuji_core::limits::check_list("texts", r.texts.len(), sokuji_core::limits::TRANSLATION_TEXTS)
            .map_err(|e| status_from_error(&e))?;
        let requests = r
            .texts
            .into_iter()
            .map(|text| TranslateRequest {
                text,
                source: if r.source_language.is_empty() { "auto".into() } else { r.source_language.clone() },
                target: r.target_language.clone(),
                context: None,
                keep: r.do_not_translate.clone(),
                ..Default::default()
            })
            .collect();
        let result = self.translator.translate_batch(requests).await;
        self.metrics.observe(started, &result);
        let results = result.map_err(|e| status_from_error(&e))?;
        Ok(Response::new(TranslateBatchResponse { results: results.iter().map(Into::into).collect() }))
    }

    type TranslateStreamStream = Pin<Box<dyn Stream<Item = Result<TranslationResult, Status>> + Send>>;

    /// Requests are answered one by one, in order; an error for one request is sent as that
    /// item's status and ends the stream (gRPC streams carry one final status). A request asking
    /// for partial results gets the translation so far as the engine writes it, then the result.
    async fn translate_stream(
        &self,
        request: Request<Streaming<WireRequest>>,
    ) -> Result<Response<Self::TranslateStreamStream>, Status> {
        let mut input = request.into_inner();
        let translator = self.translator.clone();
        let metrics = self.metrics.clone();
        let out = async_stream::try_stream! {
            while let Some(req) = input.next().await {
                let req = req?;
                let started = Instant::now();
                let partials = req.partial_results;
                let req: TranslateRequest = req.into();
                let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<String>();
                let partial: Partial = Arc::new(move |text: &str| {
                    let _ = tx.send(text.to_string());
                });
                let template = TranslationResult {
                    original_text: req.text.clone(),
                    source_language: req.source.clone(),
                    target_language: req.target.clone(),
                    partial: true,
                    ..Default::default()
                };
                let work = translator.translate_partial(req, partial);
                tokio::pin!(work);
                let result = loop {
                    let text = tokio::select! {
                        r = &mut work => break r,
                        Some(text) = rx.recv() => text,
                    };
                    if partials {
                        yield TranslationResult { translated_text: text, ..template.clone() };
                    }
                };
                metrics.observe(started, &result);
                let t = result.map_err(|e| status_from_error(&e))?;
                yield TranslationResult::from(&t);
            }
        };
        Ok(Response::new(Box::pin(out)))
    }

    async fn get_supported_languages(&self, _: Request<Empty>) -> Result<Response<LanguageListResponse>, Status> {
        let language_codes = self.translator.languages().await.map_err(|e| status_from_error(&e))?;
        Ok(Response::new(LanguageListResponse {
            language_codes,
            supports_batch: true,
            supports_streaming: true,
            supports_auto_detect: true,
        }))
    }

    async fn health_check(&self, _: Request<Empty>) -> Result<Response<HealthCheckResponse>, Status> {
        Ok(Response::new(health_response(&self.translator.health().await)))
    }

    async fn get_metrics(&self, _: Request<Empty>) -> Result<Response<MetricsResponse>, Status> {
        Ok(Response::new(self.metrics.snapshot()))
    }
}
