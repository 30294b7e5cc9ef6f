//! The archive's workers. Each stage takes deliveries of its subscription from the event bus
//! (the embedded queue or NATS JetStream), keeps them in hand while it works, and completes
//! (results + next event + processed mark in one transaction, then the bus ack) or naks
//! (redelivery with backoff; dead letter after the last attempt). Any number of workers, in this
//! process or others, share a subscription.
use sokuji_core::ErrorCode;
mod windows;

use sokuji_core::{
    Audio, EmbedKind, Embedder, Error, NormalizeMode, Result, SpeechToText, TextNormalizer, TranscribeOptions,
    archive::RecordingStatus,
    quota::metered_seconds,
    search::{PassageMeta, SearchIndex, cut_passages},
};
use sokuji_store::{Db, Delivery, EventBus, Objects};
use std::{sync::Arc, time::Duration};
use tokio::sync::watch;
use tracing::Instrument;

/// How long a delivery is retried in place while what it needs is unavailable.
const TRANSIENT_RETRY: Duration = Duration::from_secs(600);

/// A stage of the archive pipeline.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// Speech-to-text with word times and language detection.
    Asr,
    /// Vietnamese inverse text normalization and tone-mark repair; other languages pass through.
    Nlp,
    /// Passages embedded and written to the search index.
    Index,
}

impl Stage {
    pub fn name(self) -> &'static str {
        match self {
            Self::Asr => "asr",
            Self::Nlp => "nlp",
            Self::Index => "index",
        }
    }

    pub fn parse(s: &str) -> Result<Self> {
        match s.trim() {
            "asr" => Ok(Self::Asr),
            "nlp" => Ok(Self::Nlp),
            "index" => Ok(Self::Index),
            other => Err(Error::invalid_request(format!("unknown stage {other:?}: use asr, nlp or index"))),
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
    pub bus: Arc<dyn EventBus>,
    /// How often a delivery in hand is kept alive (a third of the lease).
    pub heartbeat: Duration,
    /// Longest stretch of a recording transcribed at once, in seconds: longer recordings are
    /// decoded as a stream and transcribed window by window.
    pub window_secs: f64,
    /// What the index stage needs; `None` where this process runs no search.
    pub search: Option<Search>,
}

/// The embedder and the index the index stage writes to.
#[derive(Clone)]
pub struct Search {
    pub embedder: Arc<dyn Embedder>,
    pub index: Arc<dyn SearchIndex>,
}

/// The workers serve every tenant: each recording's tenant travels with its rows and passages.
const ALL: sokuji_core::auth::Visibility = sokuji_core::auth::Visibility::All;
/// Passages: at most this long, overlapping by this much (seconds).
const PASSAGE_SECS: f64 = 30.0;
const PASSAGE_OVERLAP_SECS: f64 = 10.0;

impl Workers {
    /// Runs one worker of `stage` until `stop` turns true; the delivery in hand is finished first.
    pub async fn run(self, stage: Stage, mut stop: watch::Receiver<bool>) {
        let owner = format!("{}-{}-{}", stage.name(), std::process::id(), uuid::Uuid::new_v4());
        tracing::info!(stage = stage.name(), %owner, "archive worker started");
        while !*stop.borrow() {
            match self.bus.next(stage.name(), &owner).await {
                Ok(Some(d)) => self.handle(stage, d, stop.clone()).await,
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
    async fn handle(&self, stage: Stage, d: Delivery, stop: watch::Receiver<bool>) {
        let span = tracing::info_span!("archive", stage = stage.name(), recording = %d.event.subject, attempt = d.attempt, trace = %d.event.trace_id());
        self.handle_in_span(stage, d, stop).instrument(span).await
    }

    async fn handle_in_span(&self, stage: Stage, d: Delivery, mut stop: watch::Receiver<bool>) {
        let id = d.event.subject.clone();
        // An engine, the database or the object store being away is not the recording's fault:
        // retried here (backoff 1 s doubling to 30 s, for up to 10 minutes or until shutdown)
        // instead of spending the delivery's attempts, so an outage does not dead-letter good
        // recordings.
        let work = async {
            let (mut wait, deadline) = (Duration::from_secs(1), tokio::time::Instant::now() + TRANSIENT_RETRY);
            loop {
                let r = match stage {
                    Stage::Asr => self.asr(&d).await,
                    Stage::Nlp => self.nlp(&d).await,
                    Stage::Index => self.index(&d).await,
                };
                match r {
                    Err(e)
                        if e.code == ErrorCode::EngineUnavailable && tokio::time::Instant::now() + wait < deadline =>
                    {
                        tracing::warn!("{e}; retrying in {wait:?}");
                        if tokio::time::timeout(wait, stop.wait_for(|s| *s)).await.is_ok() {
                            break Err(e);
                        }
                        wait = (wait * 2).min(Duration::from_secs(30));
                    }
                    r => break r,
                }
            }
        };
        tokio::pin!(work);
        let mut beat = tokio::time::interval(self.heartbeat);
        beat.tick().await;
        let result = loop {
            tokio::select! {
                r = &mut work => break r,
                _ = beat.tick() => {
                    if !matches!(self.bus.extend(&d).await, Ok(true)) {
                        tracing::warn!("lease lost; another worker has the delivery");
                    }
                }
            }
        };
        match result {
            Ok(()) => {
                tracing::info!("stage completed");
                self.settle(&d).await
            }
            // The uploader's audio quota is spent: failed now (retrying cannot help before the
            // day turns), the reason on the stage; reprocessing starts it again.
            Err(e) if e.code == ErrorCode::RateLimited => {
                tracing::info!("stage refused: {e}");
                self.settle(&d).await;
                if let Err(e) = self.db.stage_failed(&id, stage.name(), &e.to_string(), true).await {
                    tracing::warn!("could not record the failure: {e}");
                }
            }
            // Another worker's results stand (a redelivery overtook this one), or the recording
            // was deleted meanwhile: nothing left to do.
            Err(e) if e.code == ErrorCode::Cancelled || e.code == ErrorCode::NotFound => {
                tracing::info!("settled without effect: {e}");
                self.settle(&d).await
            }
            Err(e) => {
                let message = e.to_string();
                let dead = self.bus.nak(&d, &message).await.unwrap_or(false);
                tracing::warn!(dead, "stage failed: {message}");
                if let Err(e) = self.db.stage_failed(&id, stage.name(), &message, dead).await {
                    tracing::warn!("could not record the failure: {e}");
                }
            }
        }
    }

    /// A settle that fails leaves the delivery to be redelivered, and then recognised as done.
    async fn settle(&self, d: &Delivery) {
        if let Err(e) = self.bus.settle(d).await {
            tracing::warn!("could not acknowledge (it will be redelivered and skipped): {e}");
        }
    }

    /// Speech-to-text of a stored recording of any length: the object is streamed to a local
    /// file, decoded as a stream on a blocking thread and transcribed a window at a time.
    async fn asr(&self, d: &Delivery) -> Result<()> {
        let rec = self.db.recording(&d.event.subject, &ALL).await?;
        let file = tokio::task::spawn_blocking(tempfile::NamedTempFile::new)
            .await
            .map_err(|e| Error::internal(format!("temporary file task failed: {e}")))?
            .map_err(|e| Error::internal(format!("temporary file: {e}")))?;
        self.objects.download(&rec.object_key, file.path()).await?;
        let ext = std::path::Path::new(&rec.filename).extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
        // One window waits while another is transcribed: memory holds two at most.
        let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<f32>>(1);
        let (path, window_secs) = (file.path().to_path_buf(), self.window_secs);
        let decoder = tokio::task::spawn_blocking(move || {
            let mut windows = windows::Windower::new(window_secs);
            let gone = || Error::new(sokuji_core::ErrorCode::Cancelled, "transcription stopped");
            sokuji_audio::decode::decode_file_streaming(&path, ext.as_deref(), &mut |chunk| {
                windows.push(&chunk).into_iter().try_for_each(|w| tx.blocking_send(w).map_err(|_| gone()))
            })?;
            windows.finish().map_or(Ok(()), |w| tx.blocking_send(w).map_err(|_| gone()))
        });
        let mut joined = windows::Joined::default();
        let mut language = rec.meta.language.clone();
        let quota = match &rec.owner {
            Some(owner) => self.db.key(owner).await?.and_then(|k| k.limits.audio_seconds_per_day).map(|q| (owner, q)),
            None => None,
        };
        while let Some(window) = rx.recv().await {
            let secs = window.len() as f64 / 16_000.0;
            // Each window is taken from the uploader's day before it is transcribed.
            if let Some((owner, quota)) = quota {
                self.db.take_audio(owner, metered_seconds(secs), quota).await.map_err(|e| match e.code {
                    ErrorCode::RateLimited => Error::new(
                        e.code,
                        format!("{} (the uploading key's quota: reprocess the recording then)", e.message),
                    ),
                    _ => e,
                })?;
            }
            let options = TranscribeOptions { language: language.clone(), word_timestamps: true, ..Default::default() };
            let part = self.stt.transcribe(Audio::new(window), options).await?;
            // Later windows keep the language the first one was detected in.
            if language.is_none() && !part.language.is_empty() {
                language = Some(part.language.clone());
            }
            joined.add(part, secs);
        }
        decoder.await.map_err(|e| Error::internal(format!("decoder task failed: {e}")))??;
        drop(file);
        let transcript = joined.finish();
        self.db.complete_asr(d, &rec, &transcript).await
    }

    async fn nlp(&self, d: &Delivery) -> Result<()> {
        let id = &d.event.subject;
        let rec = self.db.recording(id, &ALL).await?;
        if rec.status == RecordingStatus::Ingested {
            return Err(Error::internal("no transcript yet (reprocessing started meanwhile)"));
        }
        let t = self.db.transcript(id, &ALL).await?.ok_or_else(|| Error::internal("the transcript is missing"))?;
        let texts: Vec<String> = t.segments.iter().map(|s| s.segment.text.clone()).collect();
        let normalized =
            if t.language == "vi" { self.text.normalize(texts, NormalizeMode::Itn, "vi", false).await? } else { texts };
        self.db.complete_nlp(d, id, &normalized).await
    }

    /// Cuts the (normalized) transcript into passages, embeds them and replaces the
    /// recording's passages in the index.
    async fn index(&self, d: &Delivery) -> Result<()> {
        let search = self
            .search
            .as_ref()
            .ok_or_else(|| Error::new(sokuji_core::ErrorCode::EngineUnavailable, "this worker runs no search index"))?;
        let id = &d.event.subject;
        let rec = self.db.recording(id, &ALL).await?;
        let t = self.db.transcript(id, &ALL).await?.ok_or_else(|| Error::internal("the transcript is missing"))?;
        let segments: Vec<(f64, f64, &str)> = t
            .segments
            .iter()
            .map(|s| (s.segment.start, s.segment.end, s.normalized.as_deref().unwrap_or(&s.segment.text)))
            .collect();
        let meta = PassageMeta {
            recording_id: id.clone(),
            speaker: rec.meta.speaker.clone(),
            language: t.language.clone(),
            tags: rec.meta.tags.clone(),
            created_at: rec.created_at,
            tenant: rec.tenant.clone(),
        };
        let passages = cut_passages(&segments, PASSAGE_SECS, PASSAGE_OVERLAP_SECS, &meta);
        let texts = passages.iter().map(|p| p.text.clone()).collect();
        let vectors = search.embedder.embed(texts, EmbedKind::Passage).await?.vectors;
        let n = passages.len() as u32;
        search.index.replace(id, passages.into_iter().zip(vectors).collect()).await?;
        let done = self.db.complete_index(d, id, n).await;
        // Deleted while it was being indexed (its delete may have cleared the index before the
        // write above): its passages must not outlive it.
        if done.is_err() && self.db.recording(id, &ALL).await.is_err_and(|e| e.code == sokuji_core::ErrorCode::NotFound)
        {
            search.index.delete(id).await?;
        }
        done
    }
}

#[cfg(test)]
mod tests;
