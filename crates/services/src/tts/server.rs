//! `sokuji.tts.TTSService` over any `Synthesizer`. Sentences of a request are synthesized and sent
//! one by one, so the first audio leaves long before the last sentence is done.
use crate::metrics::Metrics;
use sokuji_audio::{OutputFormat, encode};
use sokuji_core::{Error, Speech, SynthesizeRequest, Synthesizer, auth::meter_audio, quota::speech_seconds};
use sokuji_live::voices::sentences;
use sokuji_proto::{
    common::{Empty, HealthCheckResponse, MetricsResponse, SynthesisResult},
    convert::{health_response, now_timestamp, status_from_error},
    tts::{LanguageListResponse, SynthesizeRequest as WireRequest, VoiceListResponse, tts_service_server::TtsService},
};
use std::{pin::Pin, sync::Arc, time::Instant};
use tokio_stream::{Stream, StreamExt};
use tonic::{Request, Response, Status, Streaming};

pub struct TtsServer {
    voices: Arc<dyn Synthesizer>,
    metrics: Arc<Metrics>,
}

impl TtsServer {
    pub fn new(voices: Arc<dyn Synthesizer>) -> Self {
        Self { voices, metrics: Arc::default() }
    }
}

fn format_of(r: &WireRequest) -> Result<OutputFormat, Error> {
    OutputFormat::parse(r.parameters.get("format").map(String::as_str).unwrap_or(""))
}

/// The wire result of one piece of speech.
pub fn result(
    speech: &Speech,
    text: &str,
    format: OutputFormat,
    index: u32,
    last: bool,
    ms: f64,
) -> Result<SynthesisResult, Error> {
    Ok(SynthesisResult {
        audio_data: encode(&speech.samples, speech.sample_rate, format)?,
        sample_rate: speech.sample_rate as i32,
        text: text.to_string(),
        voice_id: speech.voice.clone(),
        timestamp: now_timestamp(),
        duration_ms: speech.duration_ms(),
        format: format.as_str().into(),
        chunk_index: index,
        is_last: last,
        processing_time_ms: ms,
    })
}

#[tonic::async_trait]
impl TtsService for TtsServer {
    async fn synthesize(&self, request: Request<WireRequest>) -> Result<Response<SynthesisResult>, Status> {
        let started = Instant::now();
        let meter = crate::grpc_auth::meter(&request);
        let r = request.into_inner();
        let out = async {
            let format = format_of(&r)?;
            let text = r.text.clone();
            meter_audio(meter.as_ref(), speech_seconds(&text)).await?;
            let speech = self.voices.synthesize(r.into()).await?;
            result(&speech, &text, format, 0, true, started.elapsed().as_secs_f64() * 1000.0)
        }
        .await;
        self.metrics.observe(started, &out);
        out.map(Response::new).map_err(|e| status_from_error(&e))
    }

    type SynthesizeStreamStream = Pin<Box<dyn Stream<Item = Result<SynthesisResult, Status>> + Send>>;

    async fn synthesize_stream(
        &self,
        request: Request<Streaming<WireRequest>>,
    ) -> Result<Response<Self::SynthesizeStreamStream>, Status> {
        let meter = crate::grpc_auth::meter(&request);
        let mut input = request.into_inner();
        let voices = self.voices.clone();
        let metrics = self.metrics.clone();
        let out = async_stream::try_stream! {
            while let Some(r) = input.next().await {
                let r = r?;
                let started = Instant::now();
                let format = format_of(&r).map_err(|e| status_from_error(&e))?;
                let req: SynthesizeRequest = r.into();
                let pieces = sentences(&req).map_err(|e| status_from_error(&e))?;
                meter_audio(meter.as_ref(), speech_seconds(&req.text)).await.map_err(|e| status_from_error(&e))?;
                let n = pieces.len();
                for (i, piece) in pieces.into_iter().enumerate() {
                    let piece_started = Instant::now();
                    let text = piece.text.clone();
                    let speech = voices.synthesize(piece).await;
                    metrics.observe(piece_started, &speech);
                    let speech = speech.map_err(|e| status_from_error(&e))?;
                    let ms = started.elapsed().as_secs_f64() * 1000.0;
                    yield result(&speech, &text, format, i as u32, i + 1 == n, ms).map_err(|e| status_from_error(&e))?;
                }
            }
        };
        Ok(Response::new(Box::pin(out)))
    }

    async fn get_voices(&self, _: Request<Empty>) -> Result<Response<VoiceListResponse>, Status> {
        let voices = self.voices.voices().await.map_err(|e| status_from_error(&e))?;
        Ok(Response::new(VoiceListResponse { voices: voices.iter().map(Into::into).collect() }))
    }

    async fn get_supported_languages(&self, _: Request<Empty>) -> Result<Response<LanguageListResponse>, Status> {
        let voices = self.voices.voices().await.map_err(|e| status_from_error(&e))?;
        let mut language_codes: Vec<String> = voices.iter().flat_map(|v| v.languages.iter().cloned()).collect();
        language_codes.sort();
        language_codes.dedup();
        Ok(Response::new(LanguageListResponse {
            language_codes,
            supports_streaming: true,
            supports_voice_cloning: false,
        }))
    }

    async fn health_check(&self, _: Request<Empty>) -> Result<Response<HealthCheckResponse>, Status> {
        Ok(Response::new(health_response(&self.voices.health().await)))
    }

    async fn get_metrics(&self, _: Request<Empty>) -> Result<Response<MetricsResponse>, Status> {
        Ok(Response::new(self.metrics.snapshot()))
    }
}
