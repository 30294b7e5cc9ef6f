//! `SpeechToText` over gRPC: the gateway or pipeline holds this exactly as it would hold a
//! local engine, streams included (`StreamUtterance`).
use crate::remote::Guarded;
use sokuji_core::{
    Audio, Error, ErrorCode, Health, Result, SpeechToText, SttStream, TranscribeOptions, Transcript, Word,
};
use sokuji_proto::{
    common::{AudioChunk, Empty},
    convert::{error_from_status, options_to_request},
    stt::{TranscribeRequest, UtteranceRequest, UtteranceResponse, stt_service_client::SttServiceClient},
};
use std::{
    collections::HashMap,
    sync::{Arc, Mutex, PoisonError},
    time::{Duration, Instant},
};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Code, Streaming};

/// How long a service's "no stream for these options" holds before it is asked again.
const REFUSAL_HOLDS: Duration = Duration::from_secs(60);

#[derive(Clone)]
pub struct RemoteStt {
    client: SttServiceClient<Guarded>,
    url: String,
    deadline: Duration,
    /// When the service last refused a stream, by what chooses its engine: a live session asks
    /// for one before each decode, and an engine that re-decodes whole audio always refuses.
    refused: Arc<Mutex<HashMap<String, Instant>>>,
}

impl RemoteStt {
    /// Connects lazily: the service may start after its caller.
    /// Every call gets `deadline`; see `remote::channel`.
    pub fn connect_lazy(url: &str, deadline: Duration) -> Result<Self> {
        let client = SttServiceClient::new(crate::remote::channel(url, "STT", deadline)?)
            .max_decoding_message_size(64 << 20)
            .max_encoding_message_size(1 << 30);
        Ok(Self { client, url: url.to_string(), deadline, refused: Arc::default() })
    }

    fn refusal_key(options: &TranscribeOptions) -> String {
        format!("{:?}/{:?}/{:?}", options.language, options.model, options.task)
    }

    fn refused_lately(&self, key: &str) -> bool {
        let refused = self.refused.lock().unwrap_or_else(PoisonError::into_inner);
        refused.get(key).is_some_and(|at| at.elapsed() < REFUSAL_HOLDS)
    }

    /// Opens `StreamUtterance`; `Ok(None)` when the service's engine does not stream.
    async fn open(&self, options: &TranscribeOptions) -> Result<Option<RemoteSttStream>, tonic::Status> {
        let (requests, rx) = mpsc::channel(4);
        let first = UtteranceRequest {
            language: options.language.clone(),
            options: Some(options_to_request(options)),
            ..Default::default()
        };
        // The receiver is alive until the call below takes it.
        let _ = requests.send(first).await;
        let mut responses = self.client.clone().stream_utterance(ReceiverStream::new(rx)).await?.into_inner();
        let streaming = responses.message().await?.is_some_and(|r| r.streaming);
        Ok(streaming.then(|| RemoteSttStream { requests, responses, samples: 0, deadline: self.deadline }))
    }
}

#[async_trait::async_trait]
impl SpeechToText for RemoteStt {
    async fn transcribe(&self, audio: Audio, options: TranscribeOptions) -> Result<Transcript> {
        let req = TranscribeRequest {
            audio: Some(AudioChunk {
                data: float32_bytes(audio.samples()),
                sample_rate: sokuji_core::SAMPLE_RATE as i32,
                timestamp: 0.0,
                channels: 1,
                format: "float32".into(),
                language: None,
                task: None,
                interim_results: None,
            }),
            language: options.language.clone(),
            options: Some(options_to_request(&options)),
        };
        let res = crate::remote::idempotent(|| {
            let (mut c, r) = (self.client.clone(), req.clone());
            async move { c.transcribe(r).await }
        })
        .await
        .map_err(|s| error_from_status(&s))?;
        let mut t: Transcript = res.into_inner().into();
        t.duration = audio.duration_secs();
        Ok(t)
    }

    async fn languages(&self) -> Result<Vec<String>> {
        let res = self.client.clone().get_supported_languages(Empty {}).await.map_err(|s| error_from_status(&s))?;
        Ok(res.into_inner().language_codes)
    }

    async fn health(&self) -> Health {
        crate::remote::health(self.client.clone().health_check(Empty {}).await, &self.url)
    }

    /// The service's engine stream when it has one. A service that cannot be reached gets no
    /// stream here: the caller's `transcribe` then says why.
    async fn stream(&self, options: &TranscribeOptions) -> Option<Box<dyn SttStream>> {
        let key = Self::refusal_key(options);
        if self.refused_lately(&key) {
            return None;
        }
        match tokio::time::timeout(self.deadline, self.open(options)).await {
            Ok(Ok(Some(stream))) => return Some(Box::new(stream)),
            // A service from before `StreamUtterance` has none either.
            Ok(Ok(None)) => {}
            Ok(Err(s)) if s.code() == Code::Unimplemented => {}
            Ok(Err(s)) => {
                tracing::debug!(url = %self.url, "no speech-to-text stream: {}", s.message());
                return None;
            }
            Err(_) => return None,
        }
        self.refused.lock().unwrap_or_else(PoisonError::into_inner).insert(key, Instant::now());
        None
    }
}

fn float32_bytes(samples: &[f32]) -> Vec<u8> {
    samples.iter().flat_map(|s| s.to_le_bytes()).collect()
}

/// One utterance streamed to the service: each push is answered before the next is sent.
struct RemoteSttStream {
    requests: mpsc::Sender<UtteranceRequest>,
    responses: Streaming<UtteranceResponse>,
    samples: usize,
    deadline: Duration,
}

impl RemoteSttStream {
    async fn call(&mut self, samples: &[f32], finish: bool, at_pause: bool) -> Result<UtteranceResponse> {
        self.samples += samples.len();
        let req = UtteranceRequest { samples: float32_bytes(samples), finish, at_pause, ..Default::default() };
        // A call the service ended has its reason in the responses.
        let _ = self.requests.send(req).await;
        match tokio::time::timeout(self.deadline, self.responses.message()).await {
            Ok(Ok(Some(r))) => Ok(r),
            Ok(Err(s)) => Err(error_from_status(&s)),
            Ok(Ok(None)) => Err(Error::new(
                ErrorCode::EngineFailed,
                "the speech-to-text service ended the stream without an answer",
            )),
            Err(_) => Err(Error::new(
                ErrorCode::Timeout,
                format!("the speech-to-text stream did not answer within {:?}", self.deadline),
            )),
        }
    }
}

#[async_trait::async_trait]
impl SttStream for RemoteSttStream {
    async fn push(&mut self, samples: Vec<f32>) -> Result<Vec<Word>> {
        Ok(self.call(&samples, false, false).await?.words.into_iter().map(Into::into).collect())
    }

    async fn push_at_pause(&mut self, samples: Vec<f32>) -> Result<Vec<Word>> {
        Ok(self.call(&samples, false, true).await?.words.into_iter().map(Into::into).collect())
    }

    async fn finish(mut self: Box<Self>) -> Result<Transcript> {
        let r = self.call(&[], true, false).await?;
        let result = r.transcript.ok_or_else(|| {
            Error::new(ErrorCode::EngineFailed, "the speech-to-text service finished the stream without a transcript")
        })?;
        let mut t: Transcript = result.into();
        t.duration = self.samples as f64 / f64::from(sokuji_core::SAMPLE_RATE);
        Ok(t)
    }
}
