//! `sokuji.stt.STTService` over any `SpeechToText`.
use crate::{
    metrics::Metrics,
    stream::session::{StreamConfig, StreamEvent, StreamSession},
};
use sokuji_audio::PcmSpec;
use sokuji_core::{Audio, Error, SpeechToText, TranscribeOptions};
use sokuji_proto::{
    common::{AudioChunk, Empty, HealthCheckResponse, MetricsResponse, TranscriptionResult},
    convert::{final_result, health_response, options_from_request, status_from_error},
    stt::{LanguageListResponse, TranscribeRequest, stt_service_server::SttService},
};
use std::{pin::Pin, sync::Arc, time::Instant};
use tokio_stream::{Stream, StreamExt};
use tonic::{Request, Response, Status, Streaming};

pub struct SttServer {
    stt: Arc<dyn SpeechToText>,
    metrics: Arc<Metrics>,
    stream_cfg: StreamConfig,
}

impl SttServer {
    pub fn new(stt: Arc<dyn SpeechToText>) -> Self {
        Self { stt, metrics: Arc::default(), stream_cfg: StreamConfig::default() }
    }
}

fn now_secs() -> f64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or(0.0)
}

pub(crate) fn chunk_spec(c: &AudioChunk) -> Result<PcmSpec, Error> {
    PcmSpec::new(&c.format, i64::from(c.sample_rate), i64::from(c.channels))
}

pub fn event_to_result(e: &StreamEvent) -> TranscriptionResult {
    TranscriptionResult {
        text: e.text.clone(),
        language: e.language.clone(),
        confidence: e.confidence,
        timestamp: now_secs(),
        start_time: Some(e.start),
        end_time: Some(e.end),
        is_final: e.is_final,
        words: e.words.iter().map(Into::into).collect(),
        segments: Vec::new(),
        stability: e.stability,
        committed_text: e.committed.clone(),
        segment_id: e.segment_id,
        processing_time_ms: e.processing_ms,
    }
}

type ResultStream = Pin<Box<dyn Stream<Item = Result<TranscriptionResult, Status>> + Send>>;

#[tonic::async_trait]
impl SttService for SttServer {
    async fn transcribe(&self, request: Request<TranscribeRequest>) -> Result<Response<TranscriptionResult>, Status> {
        let started = Instant::now();
        let result = async {
            let req = request.into_inner();
            let chunk = req.audio.ok_or_else(|| Error::invalid_audio("the request has no audio"))?;
            if chunk.data.is_empty() {
                return Err(Error::invalid_audio("the audio is empty (0 bytes)"));
            }
            let samples =
                sokuji_audio::resample::to_16k(&chunk_spec(&chunk)?.to_mono(&chunk.data)?, chunk.sample_rate as u32)?;
            let options = options_from_request(req.language, req.options)?;
            let t = self.stt.transcribe(Audio::new(samples), options).await?;
            Ok(final_result(&t, chunk.timestamp, started.elapsed().as_secs_f64() * 1000.0))
        }
        .await;
        self.metrics.observe(started, &result);
        result.map(Response::new).map_err(|e| status_from_error(&e))
    }

    type TranscribeStreamStream = ResultStream;

    async fn transcribe_stream(
        &self,
        request: Request<Streaming<AudioChunk>>,
    ) -> Result<Response<ResultStream>, Status> {
        let mut inbound = request.into_inner();
        let stt = Arc::clone(&self.stt);
        let cfg = self.stream_cfg.clone();
        let metrics = Arc::clone(&self.metrics);
        let out = async_stream::try_stream! {
            let started = Instant::now();
            let mut session: Option<StreamSession> = None;
            while let Some(chunk) = inbound.next().await {
                // A client that goes away ends the loop; its session is dropped with it.
                let chunk = chunk?;
                let s = session.get_or_insert_with(|| {
                    let options = TranscribeOptions {
                        language: chunk.language.clone(),
                        task: if chunk.task.as_deref() == Some("translate") { sokuji_core::Task::Translate } else { sokuji_core::Task::Transcribe },
                        ..Default::default()
                    };
                    StreamSession::new(Arc::clone(&stt), cfg.clone(), options)
                });
                let spec = chunk_spec(&chunk).map_err(|e| status_from_error(&e))?;
                let events = s.push(spec, &chunk.data).await.map_err(|e| status_from_error(&e))?;
                for e in &events {
                    yield event_to_result(e);
                }
            }
            if let Some(s) = session.as_mut() {
                let events = s.finish().await.map_err(|e| status_from_error(&e))?;
                for e in &events {
                    yield event_to_result(e);
                }
            }
            metrics.observe::<(), ()>(started, &Ok(()));
        };
        Ok(Response::new(Box::pin(out)))
    }

    async fn get_supported_languages(&self, _: Request<Empty>) -> Result<Response<LanguageListResponse>, Status> {
        let language_codes = self.stt.languages().await.map_err(|e| status_from_error(&e))?;
        Ok(Response::new(LanguageListResponse { language_codes }))
    }

    async fn health_check(&self, _: Request<Empty>) -> Result<Response<HealthCheckResponse>, Status> {
        Ok(Response::new(health_response(&self.stt.health().await)))
    }

    async fn get_metrics(&self, _: Request<Empty>) -> Result<Response<MetricsResponse>, Status> {
        Ok(Response::new(self.metrics.snapshot()))
    }
}
