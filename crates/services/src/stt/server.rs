//! `sokuji.stt.STTService` over any `SpeechToText`. `TranscribeStream` is a transcription-only
//! live session (sokuji-live), the same session the WebSockets run; `StreamUtterance` is one
//! engine stream (`SpeechToText::stream`) on the wire, for a live session in another process.
use crate::{live::feed, metrics::Metrics};
use sokuji_admission::Admission;
use sokuji_audio::PcmSpec;
use sokuji_core::{Audio, Error, SAMPLE_RATE, SpeechToText, Task, auth::meter_audio};
use sokuji_live::{LiveConfig, LiveEngines, LiveEvent};
use sokuji_proto::{
    common::{AudioChunk, Empty, HealthCheckResponse, MetricsResponse, TranscriptionResult},
    convert::{final_result, health_response, options_from_request, status_from_error},
    stt::{
        LanguageListResponse, TranscribeRequest, UtteranceRequest, UtteranceResponse, stt_service_server::SttService,
    },
};
use std::{pin::Pin, sync::Arc, time::Instant};
use tokio_stream::{Stream, StreamExt, wrappers::ReceiverStream};
use tonic::{Request, Response, Status, Streaming};

pub struct SttServer {
    stt: Arc<dyn SpeechToText>,
    engines: LiveEngines,
    metrics: Arc<Metrics>,
    /// Decoding and resampling a whole request's audio is CPU work: off the async runtime.
    audio: Admission,
}

impl SttServer {
    pub fn new(stt: Arc<dyn SpeechToText>) -> Self {
        Self {
            engines: LiveEngines::new(stt.clone(), None, None),
            stt,
            metrics: Arc::default(),
            audio: Admission::per_core("stt-audio"),
        }
    }
}

pub(crate) fn chunk_spec(c: &AudioChunk) -> Result<PcmSpec, Error> {
    PcmSpec::new(&c.format, i64::from(c.sample_rate), i64::from(c.channels))
}

/// A streaming session's settings, from its first chunk.
fn stream_config(first: &AudioChunk) -> Result<LiveConfig, Error> {
    let mut cfg = LiveConfig::transcribe(first.language.as_deref().unwrap_or("auto"));
    // Interim results only for a client that asks: the original's gateway would translate and
    // speak each one as a final.
    cfg.recognizer.interim = first.interim_results.unwrap_or(false);
    if first.task.as_deref() == Some("translate") {
        cfg.task = Task::Translate;
    }
    cfg.validate()?;
    Ok(cfg)
}

type ResultStream = Pin<Box<dyn Stream<Item = Result<TranscriptionResult, Status>> + Send>>;
type UtteranceStream = Pin<Box<dyn Stream<Item = Result<UtteranceResponse, Status>> + Send>>;

/// The samples of a `StreamUtterance` request after the first.
fn utterance_samples(req: &UtteranceRequest) -> Result<Vec<f32>, Error> {
    if req.options.is_some() || req.language.is_some() {
        return Err(Error::invalid_request("options and language go in the first request only"));
    }
    PcmSpec::new("float32", i64::from(SAMPLE_RATE), 1)?.to_mono(&req.samples)
}

#[tonic::async_trait]
impl SttService for SttServer {
    async fn transcribe(&self, request: Request<TranscribeRequest>) -> Result<Response<TranscriptionResult>, Status> {
        let started = Instant::now();
        let meter = crate::grpc_auth::meter(&request);
        let result = async {
            let req = request.into_inner();
            let chunk = req.audio.ok_or_else(|| Error::invalid_audio("the request has no audio"))?;
            if chunk.data.is_empty() {
                return Err(Error::invalid_audio("the audio is empty (0 bytes)"));
            }
            let spec = chunk_spec(&chunk)?;
            let samples = self
                .audio
                .run(None, move |_| sokuji_audio::resample::to_16k(&spec.to_mono(&chunk.data)?, spec.sample_rate))
                .await?;
            meter_audio(meter.as_ref(), samples.len() as f64 / 16_000.0).await?;
            let options = options_from_request(req.language, req.options)?;
            let t = self.stt.transcribe(Audio::new(samples), options).await?;
            Ok(final_result(&t, chunk.timestamp, started.elapsed().as_secs_f64() * 1000.0))
        }
        .await;
        self.metrics.observe(started, &result);
        result.map(Response::new).map_err(|e| status_from_error(&e))
    }

    type TranscribeStreamStream = ResultStream;

    /// Final results of a transcription-only live session, and interim ones when the first chunk
    /// asks (`interim_results`). A chunk that is not
    /// valid PCM, or a failed decode, ends the stream with its status (the seed contract has no
    /// error messages).
    async fn transcribe_stream(
        &self,
        request: Request<Streaming<AudioChunk>>,
    ) -> Result<Response<ResultStream>, Status> {
        let meter = crate::grpc_auth::meter(&request);
        let slot = crate::grpc_auth::live_slot(meter.as_ref()).await?;
        let mut inbound = request.into_inner();
        let started = Instant::now();
        let Some(first) = inbound.message().await? else {
            return Ok(Response::new(Box::pin(tokio_stream::empty())));
        };
        let cfg = stream_config(&first).map_err(|e| status_from_error(&e))?;
        let (input, events) = sokuji_live::start(LiveEngines { meter, ..self.engines.clone() }, cfg);
        let chunks = tokio_stream::once(Ok(first)).chain(inbound).map(|c| c.map(Ok));
        // A refused chunk ends the stream like any other error.
        let mut events = ReceiverStream::new(feed(chunks, input)).merge(ReceiverStream::new(events));
        let metrics = Arc::clone(&self.metrics);
        let out = async_stream::try_stream! {
            // The session's slot is held while its results stream.
            let _slot = slot;
            while let Some(e) = events.next().await {
                match e {
                    LiveEvent::Transcription(t) if !t.text.trim().is_empty() => yield TranscriptionResult::from(&t),
                    LiveEvent::Error(e) => Err(status_from_error(&Error::new(e.code, e.message)))?,
                    _ => {}
                }
            }
            metrics.observe::<(), ()>(started, &Ok(()));
        };
        Ok(Response::new(Box::pin(out)))
    }

    type StreamUtteranceStream = UtteranceStream;

    async fn stream_utterance(
        &self,
        request: Request<Streaming<UtteranceRequest>>,
    ) -> Result<Response<UtteranceStream>, Status> {
        let started = Instant::now();
        let meter = crate::grpc_auth::meter(&request);
        let mut inbound = request.into_inner();
        let Some(first) = inbound.message().await? else {
            return Ok(Response::new(Box::pin(tokio_stream::empty())));
        };
        if !first.samples.is_empty() || first.finish {
            let e = Error::invalid_request("the first request carries the options and no audio");
            return Err(status_from_error(&e));
        }
        let options = options_from_request(first.language, first.options).map_err(|e| status_from_error(&e))?;
        let stream = self.stt.stream(&options).await;
        let metrics = Arc::clone(&self.metrics);
        let out = async_stream::try_stream! {
            yield UtteranceResponse { streaming: stream.is_some(), ..Default::default() };
            let Some(mut stream) = stream else { return };
            let status = |e: Error| status_from_error(&e);
            while let Some(req) = inbound.message().await? {
                let samples = utterance_samples(&req).map_err(status)?;
                meter_audio(meter.as_ref(), samples.len() as f64 / f64::from(SAMPLE_RATE)).await.map_err(status)?;
                if !req.finish {
                    let words = if req.at_pause { stream.push_at_pause(samples).await } else { stream.push(samples).await };
                    let words = words.map_err(status)?;
                    yield UtteranceResponse { words: words.iter().map(Into::into).collect(), ..Default::default() };
                    continue;
                }
                if !samples.is_empty() {
                    stream.push(samples).await.map_err(status)?;
                }
                let t = stream.finish().await.map_err(status)?;
                let ms = started.elapsed().as_secs_f64() * 1000.0;
                metrics.observe::<(), ()>(started, &Ok(()));
                yield UtteranceResponse { transcript: Some(final_result(&t, 0.0, ms)), ..Default::default() };
                break;
            }
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
