//! The three stages of a live session and the bounded channels between them.
//!
//! Ordering: each stage handles its items in order, so per-session order holds end to end.
//! Backpressure: every channel is bounded. Interim work (interim transcripts and their
//! translations) is offered with `try_send` and dropped when a stage is behind; final work is
//! awaited, so a slow client slows the session down instead of growing memory or losing finals.
//! A failing translation or TTS call becomes an `Error` event and the session goes on.
use crate::stream::session::{StreamConfig, StreamEvent, StreamSession};
use sokuji_audio::PcmSpec;
use sokuji_core::{
    ErrorCode, SpeechToText, SynthesizeRequest, Synthesizer, TranscribeOptions, TranslateRequest, Translator,
    translate::language_name, tts::split_sentences,
};
use std::{
    collections::VecDeque,
    sync::Arc,
    time::{Duration, Instant},
};
use tokio::sync::mpsc;
use tracing::Instrument;

/// The engines a session uses; translation and speech may be absent (switched off).
#[derive(Clone)]
pub struct LiveEngines {
    pub stt: Arc<dyn SpeechToText>,
    pub translator: Option<Arc<dyn Translator>>,
    pub tts: Option<Arc<dyn Synthesizer>>,
}

#[derive(Clone, Debug)]
pub struct LiveConfig {
    /// ISO 639-1 or "auto".
    pub source: String,
    pub target: String,
    /// Voice id, "default" for the target language's default voice, or "" for no speech.
    pub voice: String,
    pub stream: StreamConfig,
    /// Translate the committed prefix of interim results too (dropped when behind).
    pub translate_interim: bool,
    /// Deadline of each translation and synthesis call.
    pub call_timeout: Duration,
}

impl LiveConfig {
    pub fn new(source: &str, target: &str, voice: &str) -> Self {
        Self {
            source: source.into(),
            target: target.into(),
            voice: voice.into(),
            stream: StreamConfig::default(),
            translate_interim: true,
            call_timeout: Duration::from_secs(20),
        }
    }

    /// Refuses languages no stage can handle, before anything starts.
    pub fn validate(&self) -> sokuji_core::Result<()> {
        for (what, lang) in [("source_language", &self.source), ("target_language", &self.target)] {
            if !(lang == "auto" && what == "source_language") && language_name(lang).is_none() {
                return Err(sokuji_core::Error::new(
                    ErrorCode::UnsupportedLanguage,
                    format!("{what} {lang:?} is not supported"),
                ));
            }
        }
        Ok(())
    }
}

/// A short random id for a session: it tags every log line of the session (a tracing span) and
/// is given to the client, so a user's report can be matched to the server's logs.
pub fn session_id() -> String {
    use std::hash::{BuildHasher, Hasher};
    // RandomState is seeded from the OS per process and advanced per instance: unique enough
    // for correlating logs, with no extra dependency.
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0));
    format!("{:012x}", h.finish() >> 16)
}

/// What a client sends.
pub enum LiveInput {
    Pcm {
        spec: PcmSpec,
        data: Vec<u8>,
    },
    /// Flush: finalize the open utterance, finish every stage, then end.
    End,
}

/// What a session sends back. `e2e_ms` is measured from the moment the audio that ended the
/// utterance arrived.
#[derive(Clone, Debug, PartialEq)]
pub enum LiveEvent {
    Transcription {
        segment_id: u64,
        text: String,
        committed: String,
        language: String,
        is_final: bool,
        confidence: f32,
        start: f64,
        end: f64,
        /// Word times and probabilities (finals; interim results may carry them too).
        words: Vec<sokuji_core::Word>,
        stt_ms: f64,
        e2e_ms: Option<f64>,
    },
    Translation {
        segment_id: u64,
        text: String,
        source_text: String,
        source_language: String,
        target_language: String,
        is_final: bool,
        mt_ms: f64,
        e2e_ms: Option<f64>,
    },
    Audio {
        segment_id: u64,
        /// Mono f32 samples; the front end encodes them.
        samples: Vec<f32>,
        sample_rate: u32,
        text: String,
        tts_ms: f64,
        e2e_ms: Option<f64>,
    },
    Error {
        code: ErrorCode,
        message: String,
    },
}

impl LiveEvent {
    /// Interim events may be dropped when the client is behind; final ones never are.
    pub fn is_interim(&self) -> bool {
        matches!(self, Self::Transcription { is_final: false, .. } | Self::Translation { is_final: false, .. })
    }
}

/// A job for the translation stage.
struct MtJob {
    segment_id: u64,
    text: String,
    language: String,
    is_final: bool,
    ended_at: Option<Instant>,
}

/// A job for the speech stage.
struct TtsJob {
    segment_id: u64,
    text: String,
    ended_at: Option<Instant>,
}

const INPUT_DEPTH: usize = 32;
const STAGE_DEPTH: usize = 8;
const OUTPUT_DEPTH: usize = 64;

/// Starts a session's stages; returns where to send audio and where events come out. The
/// session ends when the input sender is dropped or `End` is sent, after every stage drains.
/// The stages run in the caller's tracing span (the session's), so their logs carry its id.
pub fn start(engines: LiveEngines, cfg: LiveConfig) -> (mpsc::Sender<LiveInput>, mpsc::Receiver<LiveEvent>) {
    let (in_tx, in_rx) = mpsc::channel(INPUT_DEPTH);
    let (out_tx, out_rx) = mpsc::channel(OUTPUT_DEPTH);
    let (mt_tx, mt_rx) = mpsc::channel(STAGE_DEPTH);
    let (tts_tx, tts_rx) = mpsc::channel(STAGE_DEPTH);
    let speak = engines.tts.is_some() && !cfg.voice.is_empty();
    let span = tracing::Span::current();
    tracing::info!(source = %cfg.source, target = %cfg.target, voice = %cfg.voice, "live session started");
    let stages = [
        tokio::spawn(
            stt_stage(engines.stt.clone(), cfg.clone(), in_rx, out_tx.clone(), mt_tx).instrument(span.clone()),
        ),
        tokio::spawn(
            mt_stage(engines.translator.clone(), cfg.clone(), mt_rx, out_tx.clone(), speak.then_some(tts_tx))
                .instrument(span.clone()),
        ),
        tokio::spawn(tts_stage(engines.tts, cfg, tts_rx, out_tx).instrument(span.clone())),
    ];
    tokio::spawn(
        async move {
            for stage in stages {
                let _ = stage.await;
            }
            tracing::info!("live session ended");
        }
        .instrument(span),
    );
    (in_tx, out_rx)
}

async fn emit(out: &mpsc::Sender<LiveEvent>, e: LiveEvent) -> bool {
    if e.is_interim() {
        !matches!(out.try_send(e), Err(mpsc::error::TrySendError::Closed(_)))
    } else {
        out.send(e).await.is_ok()
    }
}

fn ms_since(t: Option<Instant>) -> Option<f64> {
    t.map(|t| t.elapsed().as_secs_f64() * 1000.0)
}

/// Wall-clock arrival of stream positions, to time stages from the end of an utterance.
#[derive(Default)]
struct Arrivals(VecDeque<(f64, Instant)>);

impl Arrivals {
    fn record(&mut self, stream_secs: f64) {
        self.0.push_back((stream_secs, Instant::now()));
        // A minute of history is plenty: utterances are cut at 20 s.
        while self.0.len() > 1 && self.0.front().is_some_and(|(s, _)| stream_secs - s > 60.0) {
            self.0.pop_front();
        }
    }

    /// When the chunk holding stream time `secs` arrived.
    fn at(&self, secs: f64) -> Option<Instant> {
        self.0.iter().find(|(s, _)| *s >= secs).or(self.0.back()).map(|(_, t)| *t)
    }
}

async fn stt_stage(
    stt: Arc<dyn SpeechToText>,
    cfg: LiveConfig,
    mut input: mpsc::Receiver<LiveInput>,
    out: mpsc::Sender<LiveEvent>,
    mt: mpsc::Sender<MtJob>,
) {
    let options =
        TranscribeOptions { language: (cfg.source != "auto").then(|| cfg.source.clone()), ..Default::default() };
    let mut session = StreamSession::new(stt, cfg.stream.clone(), options);
    let mut arrivals = Arrivals::default();
    let mut last_interim_mt = String::new();
    while let Some(msg) = input.recv().await {
        let (events, done) = match msg {
            LiveInput::Pcm { spec, data } => {
                let r = session.push(spec, &data).await;
                arrivals.record(session.received_secs());
                (r, false)
            }
            LiveInput::End => (session.finish().await, true),
        };
        match events {
            Ok(events) => {
                for e in events {
                    if !forward_transcript(&e, &cfg, &arrivals, &out, &mt, &mut last_interim_mt).await {
                        return;
                    }
                }
            }
            Err(e) => {
                // A bad chunk is reported; the session goes on with the next one.
                tracing::info!(code = e.code.as_str(), "audio refused: {}", e.message);
                if !emit(&out, LiveEvent::Error { code: e.code, message: e.message }).await {
                    return;
                }
            }
        }
        if done {
            return;
        }
    }
}

/// Sends one STT event on, and its text to translation. False when the client is gone.
async fn forward_transcript(
    e: &StreamEvent,
    cfg: &LiveConfig,
    arrivals: &Arrivals,
    out: &mpsc::Sender<LiveEvent>,
    mt: &mpsc::Sender<MtJob>,
    last_interim_mt: &mut String,
) -> bool {
    let ended_at = e.is_final.then(|| arrivals.at(e.end)).flatten();
    let event = LiveEvent::Transcription {
        segment_id: e.segment_id,
        text: e.text.clone(),
        committed: e.committed.clone(),
        language: e.language.clone(),
        is_final: e.is_final,
        confidence: e.confidence,
        start: e.start,
        end: e.end,
        words: e.words.clone(),
        stt_ms: e.processing_ms,
        e2e_ms: ms_since(ended_at),
    };
    if !emit(out, event).await {
        return false;
    }
    if e.is_final {
        last_interim_mt.clear();
        if !e.text.trim().is_empty() {
            let job = MtJob {
                segment_id: e.segment_id,
                text: e.text.clone(),
                language: e.language.clone(),
                is_final: true,
                ended_at,
            };
            return mt.send(job).await.is_ok();
        }
    } else if cfg.translate_interim && !e.committed.trim().is_empty() && e.committed != *last_interim_mt {
        // Only the committed prefix: it never changes, so its translation is worth showing early.
        *last_interim_mt = e.committed.clone();
        let job = MtJob {
            segment_id: e.segment_id,
            text: e.committed.clone(),
            language: e.language.clone(),
            is_final: false,
            ended_at: None,
        };
        let _ = mt.try_send(job);
    }
    true
}

async fn mt_stage(
    translator: Option<Arc<dyn Translator>>,
    cfg: LiveConfig,
    mut jobs: mpsc::Receiver<MtJob>,
    out: mpsc::Sender<LiveEvent>,
    tts: Option<mpsc::Sender<TtsJob>>,
) {
    // The last final source sentences, as context for the next.
    let mut context: VecDeque<String> = VecDeque::new();
    let mut pending: VecDeque<MtJob> = VecDeque::new();
    while let Some(job) = next_job(&mut jobs, &mut pending).await {
        let source = if job.language.is_empty() { cfg.source.clone() } else { job.language.clone() };
        let started = Instant::now();
        let translated = if source == cfg.target {
            Ok(job.text.clone())
        } else if let Some(t) = &translator {
            let req = TranslateRequest {
                text: job.text.clone(),
                source: source.clone(),
                target: cfg.target.clone(),
                context: (!context.is_empty()).then(|| context.iter().cloned().collect::<Vec<_>>().join("\n")),
                keep: Vec::new(),
            };
            match tokio::time::timeout(cfg.call_timeout, t.translate(req)).await {
                Ok(r) => r.map(|t| t.text),
                Err(_) => Err(sokuji_core::Error::new(ErrorCode::Timeout, "translation took too long")),
            }
        } else {
            Err(sokuji_core::Error::new(ErrorCode::EngineUnavailable, "translation is switched off"))
        };
        let text = match translated {
            Ok(text) => text,
            Err(e) if job.is_final => {
                tracing::warn!(code = e.code.as_str(), segment = job.segment_id, "translation failed: {}", e.message);
                if !emit(&out, LiveEvent::Error { code: e.code, message: format!("translation: {}", e.message) }).await
                {
                    return;
                }
                continue;
            }
            Err(_) => continue,
        };
        let event = LiveEvent::Translation {
            segment_id: job.segment_id,
            text: text.clone(),
            source_text: job.text.clone(),
            source_language: source,
            target_language: cfg.target.clone(),
            is_final: job.is_final,
            mt_ms: started.elapsed().as_secs_f64() * 1000.0,
            e2e_ms: ms_since(job.ended_at),
        };
        if !emit(&out, event).await {
            return;
        }
        if job.is_final {
            context.push_back(job.text);
            if context.len() > 2 {
                context.pop_front();
            }
            if let Some(tts) = &tts
                && tts.send(TtsJob { segment_id: job.segment_id, text, ended_at: job.ended_at }).await.is_err()
            {
                return;
            }
        }
    }
}

/// The next job worth doing: finals in order; an interim job only when nothing newer waits (a
/// stale interim translation would only delay the final behind it).
async fn next_job(jobs: &mut mpsc::Receiver<MtJob>, pending: &mut VecDeque<MtJob>) -> Option<MtJob> {
    if pending.is_empty() {
        pending.push_back(jobs.recv().await?);
    }
    while let Ok(j) = jobs.try_recv() {
        pending.push_back(j);
    }
    while let Some(job) = pending.pop_front() {
        if job.is_final || pending.is_empty() {
            return Some(job);
        }
    }
    None
}

async fn tts_stage(
    tts: Option<Arc<dyn Synthesizer>>,
    cfg: LiveConfig,
    mut jobs: mpsc::Receiver<TtsJob>,
    out: mpsc::Sender<LiveEvent>,
) {
    let Some(tts) = tts else { return };
    while let Some(job) = jobs.recv().await {
        // Sentence by sentence: the first sentence's audio leaves before the rest is made.
        for sentence in split_sentences(&job.text, 400) {
            let started = Instant::now();
            let req = SynthesizeRequest {
                text: sentence.clone(),
                voice: cfg.voice.clone(),
                language: Some(cfg.target.clone()),
                speed: None,
                pitch: None,
            };
            let event = match tokio::time::timeout(cfg.call_timeout, tts.synthesize(req)).await {
                Ok(Ok(speech)) => LiveEvent::Audio {
                    segment_id: job.segment_id,
                    samples: speech.samples,
                    sample_rate: speech.sample_rate,
                    text: sentence,
                    tts_ms: started.elapsed().as_secs_f64() * 1000.0,
                    e2e_ms: ms_since(job.ended_at),
                },
                Ok(Err(e)) => {
                    tracing::warn!(code = e.code.as_str(), segment = job.segment_id, "speech failed: {}", e.message);
                    LiveEvent::Error { code: e.code, message: format!("speech: {}", e.message) }
                }
                Err(_) => {
                    tracing::warn!(segment = job.segment_id, "speech took too long");
                    LiveEvent::Error { code: ErrorCode::Timeout, message: "speech took too long".into() }
                }
            };
            if !emit(&out, event).await {
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(text: &str, is_final: bool) -> MtJob {
        MtJob { segment_id: 0, text: text.into(), language: "vi".into(), is_final, ended_at: None }
    }

    #[tokio::test]
    async fn stale_interim_jobs_are_skipped_finals_never() {
        let (tx, mut rx) = mpsc::channel(8);
        let mut pending = VecDeque::new();
        for (t, f) in [("a", false), ("a b", false), ("a b c", true), ("d", false), ("d e", false)] {
            tx.send(job(t, f)).await.expect("send");
        }
        drop(tx);
        let mut got = Vec::new();
        while let Some(j) = next_job(&mut rx, &mut pending).await {
            got.push((j.text, j.is_final));
        }
        assert_eq!(got, [("a b c".to_string(), true), ("d e".to_string(), false)]);
    }

    #[test]
    fn arrivals_map_stream_time_to_wall_time() {
        let mut a = Arrivals::default();
        assert!(a.at(1.0).is_none());
        a.record(0.5);
        let t1 = a.at(0.2).expect("first");
        a.record(1.0);
        assert_eq!(a.at(0.4), Some(t1));
        assert!(a.at(0.9).is_some_and(|t| t >= t1));
        // Past the newest chunk: the newest arrival.
        assert_eq!(a.at(5.0), a.0.back().map(|(_, t)| *t));
    }
}
