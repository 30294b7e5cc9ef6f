//! The three stages of a live session and the bounded channels between them.
//!
//! Ordering: each stage handles its items in order, so per-session order holds end to end.
//! Backpressure: every channel is bounded. Interim work (interim transcripts and their
//! translations) is offered with `try_send` and dropped when a stage is behind; final work is
//! awaited, so a slow client slows the session down instead of growing memory or losing finals.
//! A failing translation or TTS call becomes an `Error` event and the session goes on.
use crate::{
    config::{LiveConfig, check_source, check_target},
    event::{LiveError, LiveEvent, LiveInput, LiveUpdate, Spoken, Transcription, Translated},
    recognizer::{Recognizer, RecognizerConfig},
    recorder::Recorder,
};
use sokuji_audio::{FrameScorer, VoiceDetector};
use sokuji_core::{
    Audio, Error, ErrorCode, SpeechToText, SynthesizeRequest, Synthesizer, Task, TranscribeOptions, TranslateRequest,
    Translator, tts::split_sentences,
};
use std::{collections::VecDeque, sync::Arc, time::Duration};
// tokio's clock: the same as std's, except under a paused test runtime, where latencies are then
// measured in the test's virtual time.
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;
use tracing::Instrument;

/// Makes a fresh voice-activity scorer for each session.
pub type VadFactory = Arc<dyn Fn() -> Box<dyn FrameScorer> + Send + Sync>;

/// The engines a session uses; translation and speech may be absent (switched off).
#[derive(Clone)]
pub struct LiveEngines {
    pub stt: Arc<dyn SpeechToText>,
    pub translator: Option<Arc<dyn Translator>>,
    pub tts: Option<Arc<dyn Synthesizer>>,
    pub vad: VadFactory,
    /// Where the caller's heard audio is metered (`None`: not metered).
    pub meter: Option<sokuji_core::auth::Meter>,
}

impl LiveEngines {
    /// The engines with earshot as the voice-activity detector.
    pub fn new(
        stt: Arc<dyn SpeechToText>,
        translator: Option<Arc<dyn Translator>>,
        tts: Option<Arc<dyn Synthesizer>>,
    ) -> Self {
        Self { stt, translator, tts, vad: earshot(), meter: None }
    }
}

/// earshot's detector for every session (pure Rust, 16 ms frames).
pub fn earshot() -> VadFactory {
    Arc::new(|| Box::new(VoiceDetector::default()))
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

/// A job for the translation stage, with the settings current when its utterance closed.
struct MtJob {
    segment_id: u64,
    text: String,
    /// The utterance's speech, for a speech translation (finals and pauses of such sessions only).
    audio: Option<Arc<[f32]>>,
    language: String,
    target: String,
    voice: String,
    keep: Vec<String>,
    is_final: bool,
    /// The whole text of an interim decoded at a pause: translated ahead, and taken as the final
    /// translation when the final transcript has the same words.
    speculative: bool,
    ended_at: Option<Instant>,
}

/// A job for the speech stage.
struct TtsJob {
    segment_id: u64,
    text: String,
    language: String,
    voice: String,
    ended_at: Option<Instant>,
    /// A translation made at a pause, before its utterance closed: its first piece is
    /// synthesized and held, and spoken only by a final job of the same text.
    ahead: bool,
}

impl TtsJob {
    /// Whether a held synthesis of `self` speaks `other`'s text as asked.
    fn same_speech(&self, other: &TtsJob) -> bool {
        self.segment_id == other.segment_id
            && self.text == other.text
            && self.language == other.language
            && self.voice == other.voice
    }
}

const INPUT_DEPTH: usize = 32;
const STAGE_DEPTH: usize = 8;
const OUTPUT_DEPTH: usize = 64;

/// Starts a session's stages; returns where to send input and where events come out. The
/// session ends when the input sender is dropped or `End` is sent, after every stage drains.
/// The stages run in the caller's tracing span (the session's), so their logs carry its id.
pub fn start(engines: LiveEngines, cfg: LiveConfig) -> (mpsc::Sender<LiveInput>, mpsc::Receiver<LiveEvent>) {
    let (in_tx, mut in_rx) = mpsc::channel::<LiveInput>(INPUT_DEPTH);
    // Each input is stamped as it enters the session, not when the STT stage gets to it (a
    // decode in progress would make the utterance's clock start late).
    let (stamped_tx, stamped_rx) = mpsc::channel(INPUT_DEPTH);
    tokio::spawn(async move {
        while let Some(m) = in_rx.recv().await {
            if stamped_tx.send((Instant::now(), m)).await.is_err() {
                break;
            }
        }
    });
    let (out_tx, out_rx) = mpsc::channel(OUTPUT_DEPTH);
    let (mt_tx, mt_rx) = mpsc::channel(STAGE_DEPTH);
    let (pausing_tx, pausing_rx) = watch::channel(None);
    let (tts_tx, tts_rx) = mpsc::channel(STAGE_DEPTH);
    let span = tracing::Span::current();
    tracing::info!(source = %cfg.source, target = ?cfg.target, voice = %cfg.voice, "live session started");
    let speak = engines.tts.is_some();
    let stages = [
        tokio::spawn(
            stt_stage(engines.clone(), cfg.clone(), stamped_rx, out_tx.clone(), (mt_tx, pausing_tx))
                .instrument(span.clone()),
        ),
        tokio::spawn(
            mt_stage(engines.clone(), cfg.clone(), (mt_rx, pausing_rx), out_tx.clone(), speak.then_some(tts_tx))
                .instrument(span.clone()),
        ),
        tokio::spawn(tts_stage(engines.tts, cfg.call_timeout, tts_rx, out_tx).instrument(span.clone())),
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
    /// Audio up to `stream_secs` had arrived by `at`.
    fn record(&mut self, stream_secs: f64, at: Instant) {
        self.0.push_back((stream_secs, at));
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

/// The STT stage's view of the session: what can change mid-session.
struct Current {
    target: Option<String>,
    /// Finals into English come from the recognizer's translate task (see `LiveConfig`).
    speech_translation: bool,
    voice: String,
    keep: Vec<String>,
    translate_interim: bool,
    last_interim_mt: String,
}

impl Current {
    fn apply(&mut self, u: &LiveUpdate, recognizer: &mut Recognizer) -> Result<(), Error> {
        if let Some(s) = &u.source {
            check_source(s)?;
        }
        if let Some(t) = u.target.as_deref().filter(|t| !t.is_empty()) {
            check_target(t)?;
        }
        if let Some(s) = &u.source {
            recognizer.set_language((s != "auto").then(|| s.clone()));
        }
        if let Some(t) = &u.target {
            self.target = (!t.is_empty()).then(|| t.clone());
            recognizer.set_pause_interim(self.target.is_some());
        }
        if let Some(v) = &u.voice {
            self.voice = v.clone();
        }
        if let Some(k) = &u.keep {
            self.keep = k.clone();
        }
        if let Some(turns) = &u.turns {
            recognizer.set_turns(turns.clone());
        }
        Ok(())
    }
}

/// Audio heard: teed to the recording, pushed to the recognizer, its arrival noted.
async fn hear(
    rate: u32,
    mono: &[f32],
    recognizer: &mut Recognizer,
    recorder: Option<&mut Recorder>,
    arrivals: &mut Arrivals,
    arrived: Instant,
) -> Vec<LiveEvent> {
    if mono.is_empty() {
        return Vec::new();
    }
    let mut events = Vec::new();
    // The recording tees from this one decode of the client's bytes.
    if let Some(full) = recorder.and_then(|r| r.push(rate, mono)) {
        events.push(LiveEvent::error(full));
    }
    match recognizer.push(rate, mono).await {
        Ok(heard) => events.extend(heard),
        Err(e) => events.push(LiveEvent::error(e)),
    }
    arrivals.record(recognizer.received_secs(), arrived);
    events
}

/// A session's container stream, decoded off the async runtime (see `sokuji_audio::MediaStream`).
#[derive(Default)]
struct MediaInput(Option<sokuji_audio::MediaStream>);

impl MediaInput {
    /// The 16 kHz samples a piece completes.
    async fn push(&mut self, piece: Vec<u8>) -> Result<Vec<f32>, Error> {
        let mut stream = match self.0.take() {
            Some(s) => s,
            None => sokuji_audio::MediaStream::new(None)?,
        };
        let (stream, heard) = tokio::task::spawn_blocking(move || {
            let heard = stream.push(piece);
            (stream, heard)
        })
        .await
        .map_err(|e| Error::internal(format!("the audio decoder failed: {e}")))?;
        self.0 = Some(stream);
        heard
    }

    /// The stream's last samples, when the session had one.
    async fn finish(&mut self) -> Result<Vec<f32>, Error> {
        let Some(stream) = self.0.take() else { return Ok(Vec::new()) };
        tokio::task::spawn_blocking(move || stream.finish())
            .await
            .map_err(|e| Error::internal(format!("the audio decoder failed: {e}")))?
    }
}

async fn stt_stage(
    engines: LiveEngines,
    cfg: LiveConfig,
    mut input: mpsc::Receiver<(Instant, LiveInput)>,
    out: mpsc::Sender<LiveEvent>,
    (mt, pausing): (mpsc::Sender<MtJob>, watch::Sender<Option<u64>>),
) {
    let options = TranscribeOptions { language: cfg.source_hint(), task: cfg.task, ..Default::default() };
    let recognizer_cfg = RecognizerConfig { decode_timeout: cfg.call_timeout, ..cfg.recognizer.clone() };
    let mut recognizer = Recognizer::new(engines.stt.clone(), recognizer_cfg, options, (engines.vad)());
    recognizer.set_pausing(pausing);
    recognizer.set_keep_final_audio(cfg.speech_translation);
    recognizer.set_pause_interim(cfg.target.is_some());
    recognizer.set_interims_aside(true);
    let mut recorder = cfg.record.map(Recorder::new);
    let mut arrivals = Arrivals::default();
    let mut media = MediaInput::default();
    let mut allowance = crate::allowance::Allowance::new(engines.meter.clone());
    let mut current = Current {
        target: cfg.target.clone(),
        speech_translation: cfg.speech_translation,
        voice: cfg.voice.clone(),
        keep: cfg.keep.clone(),
        translate_interim: cfg.translate_interim,
        last_interim_mt: String::new(),
    };
    loop {
        // An interim decode runs aside while audio goes on arriving (see `Recognizer`).
        let (arrived, msg) = tokio::select! {
            biased;
            decoded = recognizer.interim_done() => {
                if !pass_on(decoded, &mut recognizer, recorder.as_mut(), &mut current, &arrivals, &out, &mt).await {
                    return;
                }
                continue;
            }
            msg = input.recv() => match msg {
                Some(m) => m,
                None => return,
            },
        };
        let mut done = false;
        let events = match msg {
            LiveInput::Pcm { spec, data } => match spec.to_mono(&data) {
                Ok(mono) => {
                    let secs = mono.len() as f64 / f64::from(spec.sample_rate.max(1));
                    if let Err(e) = allowance.cover(secs).await {
                        // The caller's audio for the day is used: the session ends here.
                        let _ = emit(&out, LiveEvent::error(e)).await;
                        return;
                    }
                    hear(spec.sample_rate, &mono, &mut recognizer, recorder.as_mut(), &mut arrivals, arrived).await
                }
                // A bad chunk is reported; the session goes on with the next one.
                Err(e) => vec![LiveEvent::error(e)],
            },
            LiveInput::Media(piece) => match media.push(piece).await {
                Ok(mono) => {
                    if let Err(e) = allowance.cover(mono.len() as f64 / 16_000.0).await {
                        let _ = emit(&out, LiveEvent::error(e)).await;
                        return;
                    }
                    hear(16_000, &mono, &mut recognizer, recorder.as_mut(), &mut arrivals, arrived).await
                }
                Err(e) => vec![LiveEvent::error(e)],
            },
            LiveInput::Commit => recognizer.commit().await.unwrap_or_else(|e| vec![LiveEvent::error(e)]),
            LiveInput::Clear => {
                recognizer.clear();
                vec![LiveEvent::Cleared]
            }
            LiveInput::Update(u) => match current.apply(&u, &mut recognizer) {
                Ok(()) => Vec::new(),
                Err(e) => vec![LiveEvent::error(e)],
            },
            LiveInput::End => {
                done = true;
                let mut events = match media.finish().await {
                    Ok(tail) => hear(16_000, &tail, &mut recognizer, recorder.as_mut(), &mut arrivals, arrived).await,
                    Err(e) => vec![LiveEvent::error(e)],
                };
                events.extend(recognizer.finish().await);
                events
            }
        };
        if !pass_on(events, &mut recognizer, recorder.as_mut(), &mut current, &arrivals, &out, &mt).await {
            return;
        }
        if done {
            if let Some(rec) = recorder.take().and_then(Recorder::finish) {
                let _ = out.send(LiveEvent::Recorded(rec)).await;
            }
            return;
        }
    }
}

/// Sends the recognizer's events on: each transcript (with the audio a second pass needs) to the
/// recording and to translation, everything to the client. False when the client is gone.
async fn pass_on(
    events: Vec<LiveEvent>,
    recognizer: &mut Recognizer,
    mut recorder: Option<&mut Recorder>,
    current: &mut Current,
    arrivals: &Arrivals,
    out: &mpsc::Sender<LiveEvent>,
    mt: &mpsc::Sender<MtJob>,
) -> bool {
    for e in events {
        if let LiveEvent::Error(err) = &e {
            tracing::info!(code = err.code.as_str(), "{}", err.message);
        }
        let forwarded = match e {
            LiveEvent::Transcription(t) => {
                if let Some(r) = recorder.as_mut() {
                    r.add(&t);
                }
                let audio = if t.is_final {
                    recognizer.take_final_audio(t.segment_id)
                } else if t.at_pause {
                    recognizer.pause_audio(t.segment_id)
                } else {
                    None
                };
                forward_transcript(t, audio, current, arrivals, out, mt).await
            }
            other => emit(out, other).await,
        };
        if !forwarded {
            return false;
        }
    }
    true
}

/// Sends one transcript on, and its text to translation. False when the client is gone.
async fn forward_transcript(
    mut t: Transcription,
    audio: Option<Arc<[f32]>>,
    current: &mut Current,
    arrivals: &Arrivals,
    out: &mpsc::Sender<LiveEvent>,
    mt: &mpsc::Sender<MtJob>,
) -> bool {
    let ended_at = t.is_final.then(|| arrivals.at(t.end)).flatten();
    t.e2e_ms = ms_since(ended_at);
    let job = |text: &str, is_final, target: &str| MtJob {
        segment_id: t.segment_id,
        text: text.to_string(),
        audio: audio.clone(),
        language: t.language.clone(),
        target: target.to_string(),
        voice: current.voice.clone(),
        keep: current.keep.clone(),
        is_final,
        speculative: false,
        ended_at,
    };
    let next = match current.target.as_deref() {
        None => None,
        Some(target) if t.is_final => {
            current.last_interim_mt.clear();
            (!t.text.trim().is_empty()).then(|| job(&t.text, true, target))
        }
        // The speaker paused: translate all of it now (from its speech, when the final's English
        // will come from there); the final transcript usually says the same.
        Some(target) if t.at_pause && !t.text.trim().is_empty() => {
            Some(MtJob { speculative: true, ..job(&t.text, false, target) })
        }
        // What of an interim will most likely stay: shown translated while the speaker talks, and
        // where the utterance's later translations start, so at its end only its last words are
        // left to write. Not when the English comes from the speech: the translator would only
        // take the cores from the recognizer.
        Some(target)
            if current.translate_interim
                && !(current.speech_translation && target == "en")
                && !t.ahead.trim().is_empty()
                && t.ahead != current.last_interim_mt =>
        {
            current.last_interim_mt = t.ahead.clone();
            Some(job(&t.ahead, false, target))
        }
        Some(_) => None,
    };
    if !emit(out, LiveEvent::Transcription(t)).await {
        return false;
    }
    match next {
        Some(j) if j.is_final => mt.send(j).await.is_ok(),
        Some(j) => {
            let _ = mt.try_send(j);
            true
        }
        None => true,
    }
}

async fn mt_stage(
    engines: LiveEngines,
    cfg: LiveConfig,
    (mut jobs, mut pausing): (mpsc::Receiver<MtJob>, watch::Receiver<Option<u64>>),
    out: mpsc::Sender<LiveEvent>,
    tts: Option<mpsc::Sender<TtsJob>>,
) {
    let translator = engines.translator;
    // The last final source sentences, as context for the next.
    let mut context: VecDeque<String> = VecDeque::new();
    let mut pending: VecDeque<MtJob> = VecDeque::new();
    // A speculative translation finished before its utterance closed.
    let mut ready: Option<Ready> = None;
    // The open utterance's interim texts translated, or as much as was written of one a later job
    // stopped, newest last: a later text with the same words takes a whole one as it is; others
    // continue the longest one their text begins with (unless whole sentences are asked for) and
    // give the translator the closest as a draft.
    let mut ahead: Vec<Ahead> = Vec::new();
    while let Some(mut job) = next_job(&mut jobs, &mut pending).await {
        let source = if job.language.is_empty() { cfg.source.clone() } else { job.language.clone() };
        let started = Instant::now();
        // A translation that may be spoken streams: once its job is final (from the start, or a
        // speculative one promoted), each clause goes to speech as soon as the engine has written it.
        let speaker = |job: &MtJob| tts.as_ref().filter(|_| job.is_final && !job.voice.is_empty());
        // An interim one streams too: what it has written is kept when a later job stops it.
        let interim = !job.is_final && !job.speculative;
        let streams = interim || tts.is_some();
        let mut early = EarlySpeech::default();
        let mut from_speech = false;
        let kept =
            ready.take().filter(|r| job.is_final && r.answers(&job)).map(|r| r.result).or_else(|| {
                done_ahead(&ahead, &job).map(|a| (a.translation.clone(), a.engine.clone(), a.model.clone()))
            });
        // The cheapest answer first: none needed, one already made, the speech's own English (one
        // decode), and only then the translator.
        let translated = if source == job.target {
            Ok((job.text.clone(), String::new(), String::new()))
        } else if let Some(done) = kept {
            Ok(done)
        } else if let Some(english) = match &job.audio {
            Some(audio) if job.target == "en" => {
                speech_translation(&engines.stt, audio, &source, cfg.call_timeout, job.segment_id).await
            }
            _ => None,
        } {
            from_speech = true;
            Ok(english)
        } else if let Some(t) = &translator {
            // Only pauses from now on count; an interim's translation does not start while its
            // utterance's pause is being decoded (the pause's own text comes right after).
            let decoding_pause = *pausing.borrow_and_update() == Some(job.segment_id);
            if interim && decoding_pause {
                continue;
            }
            let start = (!cfg.whole_sentences).then(|| start_for(&ahead, &job)).flatten();
            let req = TranslateRequest {
                text: job.text.clone(),
                source: source.clone(),
                target: job.target.clone(),
                context: joined(&context),
                keep: job.keep.clone(),
                // The translation it starts from would draft only the word the start drops.
                draft: draft(&ahead, &job).filter(|d| start.as_ref() != Some(d)),
                start,
                ..Default::default()
            };
            let (tx, mut partials) = mpsc::unbounded_channel::<String>();
            let work = async {
                if streams {
                    t.translate_partial(req, Arc::new(move |p: &str| drop(tx.send(p.to_string())))).await
                } else {
                    t.translate(req).await
                }
            };
            let work = tokio::time::timeout(cfg.call_timeout, work);
            tokio::pin!(work);
            let mut written = String::new();
            let done = loop {
                let partial = tokio::select! {
                    r = &mut work => break Some(r),
                    Some(p) = partials.recv() => p,
                    // The speaker paused and the recognizer decodes the whole utterance again:
                    // an interim's translation stops so that the decode has the cores, and what it
                    // wrote drafts the pause's translation.
                    Ok(()) = pausing.changed(), if interim => {
                        if *pausing.borrow_and_update() != Some(job.segment_id) {
                            continue;
                        }
                        keep_stopped(&mut ahead, &job, interim, written, started);
                        break None;
                    }
                    // Interim work never holds up a final: a final that arrives meanwhile stops it,
                    // unless this is the same utterance's speculative job with the final's words,
                    // which then is the final translation. A speculative job (the whole text at a
                    // pause) stops an interim's translation the same way; what the stopped one
                    // had written is where the next translations of its utterance may start.
                    Some(next) = jobs.recv(), if !job.is_final => {
                        if next.is_final && job.speculative && next.segment_id == job.segment_id && same_words(&next.text, &job.text) {
                            job = next;
                        } else {
                            let stop = next.is_final || (next.speculative && !job.speculative);
                            pending.push_back(next);
                            if stop {
                                keep_stopped(&mut ahead, &job, interim, written, started);
                                break None;
                            }
                        }
                        continue;
                    }
                };
                written.clone_from(&partial);
                if let Some(tts) = speaker(&job) {
                    for clause in early.clauses(&partial) {
                        if tts.send(tts_job(&job, clause)).await.is_err() {
                            return;
                        }
                    }
                }
            };
            match done {
                None => continue,
                Some(Ok(r)) => r.map(|t| (t.text, t.engine, t.model)),
                Some(Err(_)) => Err(Error::new(ErrorCode::Timeout, "translation took too long")),
            }
        } else {
            Err(Error::new(ErrorCode::EngineUnavailable, "translation is switched off"))
        };
        let (text, engine, model) = match translated {
            Ok(t) => t,
            Err(e) if job.is_final => {
                tracing::warn!(code = e.code.as_str(), segment = job.segment_id, "translation failed: {}", e.message);
                let e = Error::new(e.code, format!("translation: {}", e.message));
                if !emit(&out, LiveEvent::Error(LiveError::of_segment(job.segment_id, e))).await {
                    return;
                }
                continue;
            }
            Err(_) => continue,
        };
        tracing::debug!(
            segment = job.segment_id,
            kind = if job.is_final { "final" } else if job.speculative { "pause" } else { "interim" },
            ms = started.elapsed().as_millis() as u64,
            %text,
            "translated"
        );
        if interim {
            keep_ahead(
                &mut ahead,
                Ahead { whole: true, engine: engine.clone(), model: model.clone(), ..Ahead::part(&job, text.clone()) },
            );
        }
        if job.speculative {
            // Done before its utterance closed: kept for the final, not shown, and its first
            // piece synthesized meanwhile (the endpointer waits out the silence before the final).
            // Not waited for: it is worth nothing until the final asks for it, and nothing at all
            // when the speaker has already said more (a later text of its utterance that does not
            // only repeat its first words is queued): it would only take the cores from that
            // text's translation.
            queue_arrived(&mut jobs, &mut pending);
            let said_more = pending.iter().any(|n| n.segment_id == job.segment_id && says_more(&n.text, &job.text));
            if let Some(tts) = tts.as_ref().filter(|_| !job.voice.is_empty() && !said_more) {
                let _ = tts.try_send(TtsJob { ahead: true, ..tts_job(&job, text.clone()) });
            }
            ready = Some(Ready {
                segment: job.segment_id,
                text: job.text.clone(),
                speech: job.audio.clone().filter(|_| from_speech),
                result: (text, engine, model),
            });
            continue;
        }
        let event = LiveEvent::Translation(Translated {
            segment_id: job.segment_id,
            text: text.clone(),
            source_text: job.text.clone(),
            source_language: source.clone(),
            target_language: job.target.clone(),
            is_final: job.is_final,
            engine,
            model,
            mt_ms: started.elapsed().as_secs_f64() * 1000.0,
            e2e_ms: ms_since(job.ended_at),
        });
        if !emit(&out, event).await {
            return;
        }
        if job.is_final {
            push_context(&mut context, job.text.clone());
            if let Some(tts) = speaker(&job) {
                let rest = early.rest(&text);
                if !rest.is_empty() && tts.send(tts_job(&job, rest.to_string())).await.is_err() {
                    return;
                }
            }
            // The next sentence's translations will begin with this context: the translator reads
            // it now, while the speaker talks, not when that sentence is final. Not when the
            // speech itself gave the English: the next will most likely come from there too.
            if let Some(t) = translator.as_ref().filter(|_| !from_speech && source != job.target) {
                let next = TranslateRequest {
                    source,
                    target: job.target.clone(),
                    context: joined(&context),
                    keep: job.keep.clone(),
                    ..Default::default()
                };
                let (t, timeout) = (t.clone(), cfg.call_timeout);
                tokio::spawn(async move {
                    match tokio::time::timeout(timeout, t.prepare(next)).await {
                        Ok(Ok(())) => {}
                        Ok(Err(e)) => tracing::debug!(code = e.code.as_str(), "context not read ahead: {}", e.message),
                        Err(_) => tracing::debug!("context not read ahead in time"),
                    }
                });
            }
        }
    }
}

/// A translation made at a pause and done before its utterance closed.
struct Ready {
    segment: u64,
    /// The transcript it translated.
    text: String,
    /// The audio it was made from, when it came from the speech (Whisper's translate task).
    speech: Option<Arc<[f32]>>,
    /// (text, engine, model)
    result: (String, String, String),
}

impl Ready {
    /// Whether it is the translation of `job`: of the same words, or of the very audio of the
    /// final (the recognizer gives the pause's audio again when it held all the speech; a
    /// streaming recognizer's transcript at the pause may still lack the last word).
    fn answers(&self, job: &MtJob) -> bool {
        let same_speech = matches!((&self.speech, &job.audio), (Some(a), Some(b)) if Arc::ptr_eq(a, b));
        self.segment == job.segment_id && (same_words(&self.text, &job.text) || same_speech)
    }
}

/// An interim text of the open utterance, translated while the speaker talked.
struct Ahead {
    segment: u64,
    /// The language it is in (a session may change its target mid-utterance).
    target: String,
    text: String,
    translation: String,
    /// Finished, not stopped part way: a later text with the same words takes it as it is.
    whole: bool,
    engine: String,
    model: String,
}

impl Ahead {
    /// Whether it is of `job`'s utterance, in its language.
    fn of(&self, job: &MtJob) -> bool {
        self.segment == job.segment_id && self.target == job.target
    }

    /// As much as a stopped job had written.
    fn part(job: &MtJob, written: String) -> Self {
        Self {
            segment: job.segment_id,
            target: job.target.clone(),
            text: job.text.clone(),
            translation: written,
            whole: false,
            engine: String::new(),
            model: String::new(),
        }
    }
}

/// Notes an interim translation of an utterance, forgetting those of earlier utterances and all
/// but the last few.
fn keep_ahead(ahead: &mut Vec<Ahead>, entry: Ahead) {
    ahead.retain(|a| a.segment == entry.segment);
    ahead.push(entry);
    if ahead.len() > 4 {
        ahead.remove(0);
    }
}

/// A translation stopped part way (started at `started`): what an interim one had written is
/// kept to build on.
fn keep_stopped(ahead: &mut Vec<Ahead>, job: &MtJob, interim: bool, written: String, started: Instant) {
    tracing::debug!(segment = job.segment_id, ms = started.elapsed().as_millis() as u64, %written, "translation stopped");
    if interim && !written.trim().is_empty() {
        keep_ahead(ahead, Ahead::part(job, written));
    }
}

/// Where `job`'s translation starts: the longest translation of its utterance whose source its
/// text begins with.
fn start_for(ahead: &[Ahead], job: &MtJob) -> Option<String> {
    let text = words(&job.text);
    let begins = |a: &&Ahead| {
        let prefix = words(&a.text);
        !prefix.is_empty() && text.starts_with(&prefix)
    };
    let longest = ahead.iter().filter(|a| a.of(job)).filter(begins).max_by_key(|a| words(&a.translation).len());
    longest.map(|a| a.translation.clone())
}

/// A finished translation of `job`'s words, made while the speaker talked.
fn done_ahead<'a>(ahead: &'a [Ahead], job: &MtJob) -> Option<&'a Ahead> {
    ahead.iter().rev().find(|a| a.whole && a.of(job) && same_words(&a.text, &job.text))
}

/// The draft for translating `job`: the translation of its utterance's interim text that
/// begins with most of its words (the newest of equals), when one shares a word at all.
fn draft(ahead: &[Ahead], job: &MtJob) -> Option<String> {
    let text = words(&job.text);
    let shared = |a: &Ahead| words(&a.text).iter().zip(&text).take_while(|(x, y)| x == y).count();
    let (n, best) = ahead.iter().filter(|a| a.of(job)).map(|a| (shared(a), a)).max_by_key(|(n, _)| *n)?;
    (n > 0).then(|| best.translation.clone())
}

/// An utterance's speech turned into English by the recognizer's translate task (Whisper):
/// (text, engine, model), or `None` when it cannot (the text translator takes over).
async fn speech_translation(
    stt: &Arc<dyn SpeechToText>,
    audio: &Arc<[f32]>,
    source: &str,
    call_timeout: Duration,
    segment: u64,
) -> Option<(String, String, String)> {
    // Decoded as the recognizer decodes the utterance: it is one endpointed utterance, so no VAD
    // and an encoder sized to it (a full 30 s window made this decode ~1 s slower on 2 cores).
    let options = TranscribeOptions {
        task: Task::Translate,
        language: Some(source.to_string()),
        vad: Some(false),
        fit_context: true,
        ..Default::default()
    };
    match tokio::time::timeout(call_timeout, stt.transcribe(Audio::new(audio.clone()), options)).await {
        Ok(Ok(t)) if !t.text.trim().is_empty() => {
            Some((t.text.trim().to_string(), t.producer.engine, t.producer.model))
        }
        Ok(Ok(_)) => None,
        Ok(Err(e)) => {
            tracing::info!(
                code = e.code.as_str(),
                segment,
                "speech translation failed, translating the text: {}",
                e.message
            );
            None
        }
        Err(_) => {
            tracing::info!(segment, "speech translation took too long, translating the text");
            None
        }
    }
}

/// A transcript's words, case and punctuation aside.
fn words(s: &str) -> Vec<String> {
    s.split_whitespace()
        .map(|w| w.trim_matches(|c: char| !c.is_alphanumeric()).to_lowercase())
        .filter(|w| !w.is_empty())
        .collect()
}

/// Whether two transcripts have the same words.
fn same_words(a: &str, b: &str) -> bool {
    words(a) == words(b)
}

/// Whether transcript `later` has words that `earlier` lacks (one that only repeats its first
/// words, as a streaming recognizer's interim without its last word does, says nothing more).
fn says_more(later: &str, earlier: &str) -> bool {
    !words(earlier).starts_with(&words(later))
}

fn tts_job(job: &MtJob, text: String) -> TtsJob {
    TtsJob {
        segment_id: job.segment_id,
        text,
        language: job.target.clone(),
        voice: job.voice.clone(),
        ended_at: job.ended_at,
        ahead: false,
    }
}

/// Shortest clause spoken ahead of the rest of its translation.
const EARLY_CLAUSE_CHARS: usize = 12;

/// What of a translation still being written has gone to speech.
#[derive(Default)]
pub(crate) struct EarlySpeech {
    /// The partial text already spoken (a prefix of every later partial, normally).
    spoken: String,
    clauses: usize,
}

impl EarlySpeech {
    /// The clauses of `partial` completed since the last call.
    pub(crate) fn clauses(&mut self, partial: &str) -> Vec<String> {
        let mut out = Vec::new();
        // A partial that does not extend what was spoken (the engine started over): wait for the result.
        let Some(mut rest) = partial.strip_prefix(self.spoken.as_str()) else { return out };
        while let Some(end) = sokuji_core::tts::clause_end(rest, EARLY_CLAUSE_CHARS) {
            out.push(rest[..end].trim().to_string());
            rest = &rest[end..];
        }
        let taken = partial.len() - rest.len();
        self.spoken = partial[..taken].to_string();
        self.clauses += out.len();
        out
    }

    /// What of the final translation remains to be spoken: after the spoken prefix, or when the
    /// final text differs (a checked retry rewrote it), after as many clauses as were spoken.
    pub(crate) fn rest<'a>(&self, text: &'a str) -> &'a str {
        if let Some(rest) = text.strip_prefix(self.spoken.as_str()) {
            return rest.trim();
        }
        let mut rest = text;
        for _ in 0..self.clauses {
            match sokuji_core::tts::clause_end(rest, EARLY_CLAUSE_CHARS) {
                Some(end) => rest = &rest[end..],
                None => return "",
            }
        }
        rest.trim()
    }
}

/// A text to speak in the pieces it is synthesized in, so that its first audio leaves before the
/// rest is made: sentence by sentence, and the first sentence's first clause on its own when the
/// rest of the sentence is a clause's length too (Piper makes a clause's audio in a fraction of a
/// sentence's time; a translation the LLM streams had its clauses sent as written already).
pub(crate) fn speech_pieces(text: &str) -> Vec<String> {
    let mut pieces = split_sentences(text, 400);
    let Some(first) = pieces.first() else { return pieces };
    if let Some(end) = sokuji_core::tts::clause_end(first, EARLY_CLAUSE_CHARS)
        && first[end..].trim().chars().count() >= EARLY_CLAUSE_CHARS
    {
        let (clause, rest) = (first[..end].trim().to_string(), first[end..].trim().to_string());
        pieces.splice(0..1, [clause, rest]);
    }
    pieces
}

/// The context as a request carries it: the sentences, one a line.
fn joined(context: &VecDeque<String>) -> Option<String> {
    (!context.is_empty()).then(|| context.iter().cloned().collect::<Vec<_>>().join("\n"))
}

/// Adds a final source sentence to the context of the next translations. The context grows to
/// three sentences and then starts again from the last one, rather than sliding: a context that
/// only grows leaves the start of the next prompt identical to the last one's, which the LLM
/// resumes from instead of reading again.
pub(crate) fn push_context(context: &mut VecDeque<String>, sentence: String) {
    if context.len() >= 3 {
        context.drain(..context.len() - 1);
    }
    context.push_back(sentence);
}

/// Moves the jobs that have arrived into `pending`, in order.
fn queue_arrived(jobs: &mut mpsc::Receiver<MtJob>, pending: &mut VecDeque<MtJob>) {
    while let Ok(j) = jobs.try_recv() {
        pending.push_back(j);
    }
}

/// The next job worth doing: finals in order; an interim job only when nothing newer waits (a
/// stale interim translation would only delay the final behind it).
async fn next_job(jobs: &mut mpsc::Receiver<MtJob>, pending: &mut VecDeque<MtJob>) -> Option<MtJob> {
    if pending.is_empty() {
        pending.push_back(jobs.recv().await?);
    }
    queue_arrived(jobs, pending);
    while let Some(job) = pending.pop_front() {
        if job.is_final || pending.is_empty() {
            return Some(job);
        }
    }
    None
}

async fn tts_stage(
    tts: Option<Arc<dyn Synthesizer>>,
    call_timeout: Duration,
    mut jobs: mpsc::Receiver<TtsJob>,
    out: mpsc::Sender<LiveEvent>,
) {
    let Some(tts) = tts else { return };
    // A pause's translation, its first piece synthesized: (job, piece, speech, ms).
    let mut held: Option<(TtsJob, String, sokuji_core::Speech, f64)> = None;
    while let Some(job) = jobs.recv().await {
        let synthesize = |text: String| {
            let req = SynthesizeRequest {
                text,
                voice: job.voice.clone(),
                language: Some(job.language.clone()),
                speed: None,
                pitch: None,
            };
            tokio::time::timeout(call_timeout, tts.synthesize(req))
        };
        if job.ahead {
            held = None;
            if let Some(first) = speech_pieces(&job.text).into_iter().next() {
                let started = Instant::now();
                // A failure here is the final job's to report, when it asks again.
                if let Ok(Ok(speech)) = synthesize(first.clone()).await {
                    held = Some((job, first, speech, started.elapsed().as_secs_f64() * 1000.0));
                }
            }
            continue;
        }
        let mut made_ahead = held.take().filter(|(h, ..)| h.same_speech(&job));
        for sentence in speech_pieces(&job.text) {
            let started = Instant::now();
            let spoken = |speech: sokuji_core::Speech, sentence: String, tts_ms: f64| {
                LiveEvent::Audio(Spoken {
                    segment_id: job.segment_id,
                    samples: speech.samples,
                    sample_rate: speech.sample_rate,
                    text: sentence,
                    tts_ms,
                    e2e_ms: ms_since(job.ended_at),
                })
            };
            if let Some((_, piece, speech, ms)) = made_ahead.take().filter(|(_, piece, ..)| *piece == sentence) {
                if !emit(&out, spoken(speech, piece, ms)).await {
                    return;
                }
                continue;
            }
            let event = match synthesize(sentence.clone()).await {
                Ok(Ok(speech)) => spoken(speech, sentence, started.elapsed().as_secs_f64() * 1000.0),
                Ok(Err(e)) => {
                    tracing::warn!(code = e.code.as_str(), segment = job.segment_id, "speech failed: {}", e.message);
                    let e = Error::new(e.code, format!("speech: {}", e.message));
                    LiveEvent::Error(LiveError::of_segment(job.segment_id, e))
                }
                Err(_) => {
                    tracing::warn!(segment = job.segment_id, "speech took too long");
                    let e = Error::new(ErrorCode::Timeout, "speech took too long");
                    LiveEvent::Error(LiveError::of_segment(job.segment_id, e))
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
        MtJob {
            segment_id: 0,
            text: text.into(),
            audio: None,
            language: "vi".into(),
            target: "en".into(),
            voice: String::new(),
            keep: Vec::new(),
            is_final,
            speculative: false,
            ended_at: None,
        }
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
    fn starts_and_drafts_come_from_the_interims_translated() {
        let ahead = |segment, target: &str, text: &str, translation: &str| Ahead {
            segment,
            target: target.into(),
            text: text.into(),
            translation: translation.into(),
            whole: !translation.ends_with('…'),
            engine: String::new(),
            model: String::new(),
        };
        let kept = [
            ahead(0, "en", "tôi muốn", "I want"),
            ahead(0, "en", "tôi muốn mua hai", "I want to buy two"),
            ahead(0, "en", "tôi cần mua", "I need to buy"),
            ahead(0, "ja", "tôi muốn mua hai vé", "二枚買いたい"),
            ahead(1, "en", "tôi muốn mua hai vé", "I want to buy two tickets"),
        ];
        let cases = [
            ("tôi muốn mua hai vé đi Hà Nội", Some("I want to buy two")),
            ("Tôi muốn, mua", Some("I want to buy two")),
            // Equals: the newest.
            ("tôi đi", Some("I need to buy")),
            ("chúng tôi muốn", None),
        ];
        for (text, want) in cases {
            assert_eq!(draft(&kept, &job(text, true)).as_deref(), want, "{text}");
        }
        let started = |text| start_for(&kept, &job(text, true));
        assert_eq!(started("tôi muốn mua hai vé đi Hà Nội").as_deref(), Some("I want to buy two"));
        assert_eq!(started("tôi cần mua vé").as_deref(), Some("I need to buy"));
        assert_eq!(started("tôi muốn đi").as_deref(), Some("I want"));
        assert_eq!(started("chúng tôi muốn"), None);
        // The same words, finished and in the same language, are taken as they are; a stopped
        // translation's part only drafts.
        let kept =
            [ahead(0, "en", "tôi muốn mua hai", "I want to buy two"), ahead(0, "en", "tôi muốn mua", "I want to …")];
        let taken = |text| done_ahead(&kept, &job(text, true)).map(|a| a.translation.as_str());
        assert_eq!(taken("Tôi muốn mua hai."), Some("I want to buy two"));
        assert_eq!(taken("tôi muốn mua"), None);
        assert_eq!(draft(&kept, &job("tôi muốn mua", true)).as_deref(), Some("I want to …"));
        assert_eq!(
            done_ahead(&kept, &MtJob { target: "ja".into(), ..job("tôi muốn mua hai", true) }).map(|a| a.segment),
            None
        );
    }

    #[test]
    fn a_later_transcript_says_more_only_with_words_the_earlier_lacks() {
        for (later, earlier, more) in [
            ("tôi muốn mua hai vé", "tôi muốn mua", true),
            ("tôi muốn mua", "tôi muốn mua hai vé", false),
            ("Tôi muốn mua hai vé.", "tôi muốn mua hai vé", false),
            ("tôi cần mua", "tôi muốn mua hai vé", true),
            ("", "tôi muốn", false),
        ] {
            assert_eq!(says_more(later, earlier), more, "{later:?} after {earlier:?}");
        }
    }

    #[test]
    fn arrivals_map_stream_time_to_wall_time() {
        let mut a = Arrivals::default();
        assert!(a.at(1.0).is_none());
        a.record(0.5, Instant::now());
        let t1 = a.at(0.2).expect("first");
        a.record(1.0, Instant::now());
        assert_eq!(a.at(0.4), Some(t1));
        assert!(a.at(0.9).is_some_and(|t| t >= t1));
        // Past the newest chunk: the newest arrival.
        assert_eq!(a.at(5.0), a.0.back().map(|(_, t)| *t));
    }
}
