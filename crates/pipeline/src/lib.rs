//! The archive's workers. Each stage leases deliveries of its subscription from the durable
//! queue, keeps the lease alive while it works, and completes (results + next event + ack in one
//! transaction) or naks (redelivery with backoff; dead letter after the last attempt). Any number
//! of workers, in this process or others, share a queue: leases keep them apart.
use sokuji_core::{
    Error, NormalizeMode, Result, SpeechToText, TextNormalizer, TranscribeOptions, archive::RecordingStatus,
};
use sokuji_store::{Db, Delivery, Objects, Producer, QueuePolicy};
use std::{sync::Arc, time::Duration};
use tokio::sync::watch;
use tracing::Instrument;

/// A stage of the archive pipeline.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// Speech-to-text with word times and language detection.
    Asr,
    /// Vietnamese inverse text normalization and tone-mark repair; other languages pass through.
    Nlp,
}

impl Stage {
    pub fn name(self) -> &'static str {
        match self {
            Self::Asr => "asr",
            Self::Nlp => "nlp",
        }
    }

    pub fn parse(s: &str) -> Result<Self> {
        match s.trim() {
            "asr" => Ok(Self::Asr),
            "nlp" => Ok(Self::Nlp),
            other => Err(Error::invalid_request(format!("unknown stage {other:?}: use asr or nlp"))),
        }
    }
}

/// What the workers need.
#[derive(Clone)]
pub struct Workers {
    pub db: Db,
    pub objects: Objects,
    pub stt: Arc<dyn SpeechToText>,
    pub text: Arc<dyn TextNormalizer>,
    /// The speech-to-text model's name, stored with each transcript.
    pub stt_model: String,
    pub policy: QueuePolicy,
}

impl Workers {
    /// Runs one worker of `stage` until `stop` turns true; the delivery in hand is finished first.
    pub async fn run(self, stage: Stage, mut stop: watch::Receiver<bool>) {
        let owner = format!("{}-{}-{}", stage.name(), std::process::id(), uuid::Uuid::new_v4());
        tracing::info!(stage = stage.name(), %owner, "archive worker started");
        while !*stop.borrow() {
            match self.db.lease(stage.name(), &owner, &self.policy).await {
                Ok(Some(d)) => self.handle(stage, d).await,
                Ok(None) => {
                    let _ = tokio::time::timeout(Duration::from_millis(250), stop.changed()).await;
                }
                Err(e) => {
                    tracing::warn!(stage = stage.name(), "queue unavailable: {e}");
                    let _ = tokio::time::timeout(Duration::from_secs(1), stop.changed()).await;
                }
            }
        }
    }

    /// Works on one delivery, extending its lease meanwhile; a failure is nak'd. Every log line
    /// carries the stage, the recording and the attempt.
    async fn handle(&self, stage: Stage, d: Delivery) {
        let span =
            tracing::info_span!("archive", stage = stage.name(), recording = %d.event.subject, attempt = d.attempt);
        self.handle_in_span(stage, d).instrument(span).await
    }

    async fn handle_in_span(&self, stage: Stage, d: Delivery) {
        let id = d.event.subject.clone();
        let work = async {
            match stage {
                Stage::Asr => self.asr(&d).await,
                Stage::Nlp => self.nlp(&d).await,
            }
        };
        tokio::pin!(work);
        let mut beat = tokio::time::interval(self.policy.lease / 3);
        beat.tick().await;
        let result = loop {
            tokio::select! {
                r = &mut work => break r,
                _ = beat.tick() => {
                    if !matches!(self.db.extend(&d, &self.policy).await, Ok(true)) {
                        tracing::warn!("lease lost; another worker has the delivery");
                    }
                }
            }
        };
        match result {
            Ok(()) => tracing::info!("stage completed"),
            Err(e) => {
                let message = e.to_string();
                let dead = self.db.nak(&d, &message, &self.policy).await.unwrap_or(false);
                tracing::warn!(dead, "stage failed: {message}");
                if let Err(e) = self.db.stage_failed(&id, stage.name(), &message, dead).await {
                    tracing::warn!("could not record the failure: {e}");
                }
            }
        }
    }

    async fn asr(&self, d: &Delivery) -> Result<()> {
        let rec = self.db.recording(&d.event.subject).await?;
        let bytes = self.objects.get(&rec.object_key).await?;
        let ext = std::path::Path::new(&rec.filename).extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
        let audio = tokio::task::spawn_blocking(move || sokuji_audio::decode_bytes(bytes.to_vec(), ext.as_deref()))
            .await
            .map_err(|e| Error::internal(format!("decoder task failed: {e}")))??;
        let options =
            TranscribeOptions { language: rec.meta.language.clone(), word_timestamps: true, ..Default::default() };
        let transcript = self.stt.transcribe(audio, options).await?;
        let by = Producer { engine: "whisper.cpp", model: &self.stt_model };
        self.db.complete_asr(d, &rec, &transcript, by).await
    }

    async fn nlp(&self, d: &Delivery) -> Result<()> {
        let id = &d.event.subject;
        let rec = self.db.recording(id).await?;
        if rec.status == RecordingStatus::Ingested {
            return Err(Error::internal("no transcript yet (reprocessing started meanwhile)"));
        }
        let t = self.db.transcript(id).await?.ok_or_else(|| Error::internal("the transcript is missing"))?;
        let texts: Vec<String> = t.segments.iter().map(|s| s.segment.text.clone()).collect();
        let normalized =
            if t.language == "vi" { self.text.normalize(texts, NormalizeMode::Itn, "vi", false).await? } else { texts };
        self.db.complete_nlp(d, id, &normalized).await
    }
}
