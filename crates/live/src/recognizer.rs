//! One stream of speech recognized as it arrives: audio in; speech starts and stops, interim
//! and final transcripts out, as [`LiveEvent`]s.
//!
//! Turns are found by the VAD and the endpointer ([`Turns::Vad`]) or given by the caller
//! ([`Turns::Manual`] and [`Recognizer::commit`]), as OpenAI's realtime API lets a client choose.
//! While an utterance is open it is re-decoded every `interim_every` seconds of audio (no more
//! often than `min_interim_gap` of wall time, so a client sending faster than real time loses
//! interim results, never final ones) and local agreement commits its stable prefix; a caller that
//! polls [`Recognizer::interim_done`] beside its input may have those decodes run aside, so that a
//! pause or the close is heard while one runs (which it then gives up). When it
//! closes it is decoded once more and given as final, keeping the committed prefix exactly.
//! Engines that stream natively (`SpeechToText::stream`) are instead fed each piece of audio
//! once: an interim costs the new audio only, the final the last chunk.
//! Utterances longer than `max_utterance_secs` are cut at the last committed word, so the
//! buffer, and the latency, stay bounded on streams of any length; in translating sessions, at
//! the last committed end of a clause once that closes `clause_secs` of speech.
//!
//! Invariants: every call consumes all the audio it is given (a decode failure never drops the
//! rest of a chunk); a failed final decode becomes an `Error` event for its utterance and leaves
//! nothing of that utterance behind (no committed words leak into the next one); positions only
//! move forward.
use crate::event::{LiveError, LiveEvent, Transcription};
use sokuji_audio::{FrameScorer, StreamResampler, vad::FRAME};
use sokuji_core::{
    Audio, Error, ErrorCode, Result, SAMPLE_RATE, SpeechToText, SttStream, TranscribeOptions, Transcript, Word,
    stream::{EndpointConfig, Endpointer, Hypothesis, LocalAgreement, VadEvent},
};
use std::{
    future::Future,
    pin::Pin,
    sync::Arc,
    time::{Duration, Instant},
};

/// Who decides where an utterance ends.
#[derive(Clone, Debug, PartialEq)]
pub enum Turns {
    /// The VAD and the endpointer ("server VAD").
    Vad(EndpointConfig),
    /// The caller, by committing what it has sent.
    Manual,
}

/// Audio a decode must have heard for the language it found to be kept for the utterance
/// ([`Recognizer::settled`]).
const KEEP_LANGUAGE_SECS: f64 = 2.0;
/// A language identified at least this likely is kept from the first decode on. Whisper base
/// on the first 1.2–1.7 s of the mixed benchmark's utterances: Vietnamese 0.94–0.99, English
/// (eSpeak) 0.21–0.54 (at 2.4 s: 0.65–0.80), the one wrong answer (Chinese) 0.60.
const SURE_LANGUAGE: f32 = 0.9;

/// A pause this long inside an utterance gets an interim decode at once (the endpointer closes
/// the utterance only after its longer silence, 0.64 s by default).
pub const PAUSE_SECS: f64 = 0.12;

/// What ends a clause in a transcript ([`RecognizerConfig::clause_secs`]); an ellipsis does not.
const CLAUSE_ENDS: &[char] = &['.', ',', ';', ':', '!', '?', '。', '、', '，', '！', '？', '；'];

#[derive(Clone, Debug)]
pub struct RecognizerConfig {
    pub turns: Turns,
    /// Decode interim results while an utterance is open.
    pub interim: bool,
    /// Seconds of new audio between interim decodes.
    pub interim_every: f64,
    /// Least wall time between interim decodes.
    pub min_interim_gap: Duration,
    pub max_utterance_secs: f64,
    /// An utterance at least this long is closed at a pause ([`PAUSE_SECS`]) whose decode ends
    /// with a clause's punctuation, where the engine decodes whole audio: that decode is its
    /// final one, and speech with short pauses is translated and spoken clause by clause while
    /// the speaker goes on, instead of all of it after the endpointer's longer silence (three
    /// English sentences 0.3 s apart: the first two translated 2.2 s after the second's end,
    /// against all three 4.1 s after the third's). Only sessions that decode pauses (translating
    /// ones) do; at least 3 s, so that a hesitation in a short sentence does not split it.
    /// Speech with no pause the VAD hears is cut after an interim decode, after the last
    /// committed word that ends a clause, once what that closes is this long:
    /// Whisper otherwise re-decodes the whole growing utterance each second (1.2–3.5 s a decode at
    /// 9–12 s of speech), and translates none of it before the speaker stops.
    pub clause_secs: f64,
    /// Audio kept before the VAD's speech start, so first syllables are not clipped.
    pub pre_roll_secs: f64,
    /// Audio kept after the speech end.
    pub post_roll_secs: f64,
    /// Longest wait for one decode (or one streamed answer): a hung engine behind gRPC would
    /// otherwise hold the session for its client's deadline, which is sized for hour-long files.
    pub decode_timeout: Duration,
}

impl Default for RecognizerConfig {
    fn default() -> Self {
        Self {
            turns: Turns::Vad(EndpointConfig::default()),
            interim: true,
            interim_every: 1.0,
            min_interim_gap: Duration::from_millis(500),
            max_utterance_secs: 20.0,
            clause_secs: 3.0,
            pre_roll_secs: 0.3,
            post_roll_secs: 0.2,
            decode_timeout: Duration::from_secs(20),
        }
    }
}

/// Whether `text` ends with a clause's punctuation ([`CLAUSE_ENDS`]), not an ellipsis.
fn ends_clause(text: &str) -> bool {
    let text = text.trim_end();
    text.ends_with(CLAUSE_ENDS) && !text.ends_with("..")
}

fn secs(samples: u64) -> f64 {
    samples as f64 / f64::from(SAMPLE_RATE)
}

fn samples(secs: f64) -> u64 {
    (secs.max(0.0) * f64::from(SAMPLE_RATE)) as u64
}

pub struct Recognizer {
    stt: Arc<dyn SpeechToText>,
    cfg: RecognizerConfig,
    options: TranscribeOptions,
    rate: Option<u32>,
    resampler: Option<StreamResampler>,
    vad: Box<dyn FrameScorer>,
    endpointer: Endpointer,
    /// Absolute sample where the endpointer's frame 0 is (it is renewed on commits and clears).
    endpointer_origin: u64,
    /// 16 kHz audio from absolute sample `buf_start` to the newest sample.
    buf: Vec<f32>,
    buf_start: u64,
    /// Samples scored by the VAD so far (absolute).
    scored: u64,
    /// Absolute sample where the open utterance starts, if one is open.
    utterance: Option<u64>,
    /// Absolute sample up to which audio belongs to closed utterances: a new one's pre-roll
    /// never reaches back into it (no word is heard twice).
    closed_to: u64,
    agreement: LocalAgreement,
    last_words: Vec<Word>,
    language: Option<String>,
    /// With no language given, the one the utterance's last decode found, not kept yet
    /// ([`Self::settled`]).
    found: Option<String>,
    last_interim_audio: u64,
    last_interim_wall: Option<Instant>,
    segment_id: u64,
    /// The open utterance read incrementally, when the engine streams natively.
    stream: Option<OpenStream>,
    /// Closed utterances' audio by segment id, kept for a second pass (speech translation) when
    /// asked for; taken by the session right after the final transcript.
    keep_final_audio: bool,
    final_audio: Vec<(u64, Arc<[f32]>)>,
    /// With `keep_final_audio`, the open utterance's audio at its last pause, for a second pass
    /// made ahead of its close.
    pause_audio: Option<PauseAudio>,
    /// Decode at once when the speaker has paused this many frames (an utterance is closed only
    /// after the endpointer's longer silence): the session translates that text meanwhile.
    pause_frames: Option<u32>,
    /// Told the segment id when the speaker pauses, before the pause's decode of the whole
    /// utterance, and `None` after it: the session stops (or does not start) work that would
    /// slow that decode.
    pausing: Option<tokio::sync::watch::Sender<Option<u64>>>,
    /// The decode made at the last pause (of the audio between the absolute samples it holds),
    /// for an engine that decodes whole audio: when the utterance then closes without more speech, it
    /// is the final decode already made.
    pause_decode: Option<(u64, u64, Transcript, f64)>,
    /// Interim decodes of engines that decode whole audio run aside ([`Self::interim_done`]
    /// hands their results out), so the audio after them is heard meanwhile: a pause then starts
    /// its decode at once instead of after the interim's, and the utterance's close is seen then.
    interims_aside: bool,
    aside: Option<AsideDecode>,
}

/// An interim decode of `from..upto` under way aside; dropping it cancels the engine's work.
struct AsideDecode {
    from: u64,
    upto: u64,
    started: Instant,
    decode: Pin<Box<dyn Future<Output = Result<Transcript>> + Send>>,
}

/// The audio between absolute samples `from` and `upto`, read at a pause of segment `segment`.
struct PauseAudio {
    segment: u64,
    from: u64,
    upto: u64,
    audio: Arc<[f32]>,
}

/// What a decode is for.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Read {
    /// An interim result while the speaker talks.
    Interim,
    /// The whole utterance so far, the speaker having paused.
    Pause,
    /// The closed utterance's final result.
    Final,
}

/// An engine's stream over the utterance that starts at absolute sample `from`, fed up to `fed`.
struct OpenStream {
    stream: Box<dyn SttStream>,
    from: u64,
    fed: u64,
}

impl Recognizer {
    /// `vad` scores 16 kHz audio frame by frame (`FRAME` samples a score).
    pub fn new(
        stt: Arc<dyn SpeechToText>,
        cfg: RecognizerConfig,
        mut options: TranscribeOptions,
        vad: Box<dyn FrameScorer>,
    ) -> Self {
        options.vad = Some(false);
        options.word_timestamps = true;
        options.fit_context = true;
        let language = options.language_hint().map(String::from);
        Self {
            endpointer: Endpointer::new(endpoint_config(&cfg.turns)),
            endpointer_origin: 0,
            stt,
            cfg,
            options,
            rate: None,
            resampler: None,
            vad,
            buf: Vec::new(),
            buf_start: 0,
            scored: 0,
            utterance: None,
            closed_to: 0,
            agreement: LocalAgreement::new(),
            last_words: Vec::new(),
            language,
            found: None,
            last_interim_audio: 0,
            last_interim_wall: None,
            segment_id: 0,
            stream: None,
            keep_final_audio: false,
            final_audio: Vec::new(),
            pause_audio: None,
            pause_frames: None,
            pausing: None,
            pause_decode: None,
            interims_aside: false,
            aside: None,
        }
    }

    /// Seconds of 16 kHz audio received so far.
    pub fn received_secs(&self) -> f64 {
        secs(self.end())
    }

    /// Absolute sample just past the newest one.
    fn end(&self) -> u64 {
        self.buf_start + self.buf.len() as u64
    }

    /// The language to recognize from now on; `None` or "auto" detects it per utterance.
    pub fn set_language(&mut self, language: Option<String>) {
        self.options.language = language;
        self.language = self.options.language_hint().map(String::from);
        self.found = None;
    }

    /// Decodes an interim result ([`Transcription::at_pause`]) once the speaker has paused
    /// [`PAUSE_SECS`] (`true`), so what will most likely be the final text is known that much sooner.
    pub fn set_pause_interim(&mut self, on: bool) {
        self.pause_frames = on.then(|| (PAUSE_SECS * f64::from(SAMPLE_RATE) / FRAME as f64).round().max(1.0) as u32);
    }

    /// Where to say that the speaker paused and the whole utterance is about to be decoded again
    /// (engines that do not stream only): the segment id, before the decode; `None` after it.
    pub fn set_pausing(&mut self, pausing: tokio::sync::watch::Sender<Option<u64>>) {
        self.pausing = Some(pausing);
    }

    /// Runs interim decodes of engines that decode whole audio aside: their results then come
    /// from [`Self::interim_done`], which the caller polls beside its input (the decode runs
    /// while it is polled).
    pub fn set_interims_aside(&mut self, on: bool) {
        self.interims_aside = on;
        self.aside = None;
    }

    /// The events of the interim decode running aside, once it is done; never ready while none
    /// runs. Cancel-safe: dropped before it is ready, the decode goes on.
    pub async fn interim_done(&mut self) -> Vec<LiveEvent> {
        let Some(aside) = self.aside.as_mut() else { return std::future::pending().await };
        let result = (&mut aside.decode).await;
        let Some(AsideDecode { from, upto, started, .. }) = self.aside.take() else { return Vec::new() };
        let decoded = result.map(|t| (self.settled(t, from, upto), started.elapsed().as_secs_f64() * 1000.0));
        self.interim_heard(from, upto, false, decoded)
    }

    /// Keeps each closed utterance's audio until [`Self::take_final_audio`] takes it.
    pub fn set_keep_final_audio(&mut self, keep: bool) {
        self.keep_final_audio = keep;
        self.final_audio.clear();
        self.pause_audio = None;
    }

    /// Keeps closed utterance `id`'s audio for [`Self::take_final_audio`].
    fn store_final_audio(&mut self, id: u64, audio: Arc<[f32]>) {
        // Untaken audio of earlier utterances (a final that failed) is not kept forever.
        self.final_audio.truncate(3);
        self.final_audio.push((id, audio));
    }

    /// The audio of closed utterance `segment_id`, if it was kept.
    pub fn take_final_audio(&mut self, segment_id: u64) -> Option<Arc<[f32]>> {
        let at = self.final_audio.iter().position(|(id, _)| *id == segment_id)?;
        Some(self.final_audio.swap_remove(at).1)
    }

    /// The audio of open utterance `segment_id` as it was at its last pause, if it was kept.
    pub fn pause_audio(&self, segment_id: u64) -> Option<Arc<[f32]>> {
        self.pause_audio.as_ref().filter(|p| p.segment == segment_id).map(|p| p.audio.clone())
    }

    /// Changes how turns are found, from the next utterance on (an open one stays open).
    pub fn set_turns(&mut self, turns: Turns) {
        self.cfg.turns = turns;
        self.renew_endpointer();
    }

    /// A fresh endpointer from the next frame on: speech still going on starts a new utterance.
    fn renew_endpointer(&mut self) {
        self.endpointer = Endpointer::new(endpoint_config(&self.cfg.turns));
        self.endpointer_origin = self.scored;
    }

    /// Feeds mono samples at `rate`; returns the events they produced. Only an unusable rate
    /// is an error, and it changes nothing.
    pub async fn push(&mut self, rate: u32, mono: &[f32]) -> Result<Vec<LiveEvent>> {
        let mut audio = Vec::new();
        if self.rate != Some(rate) {
            let fresh = StreamResampler::new(rate)?;
            if let Some(mut old) = self.resampler.replace(fresh) {
                audio = old.finish();
            }
            self.rate = Some(rate);
        }
        if let Some(r) = self.resampler.as_mut() {
            audio.extend(r.push(mono));
        }
        Ok(self.ingest(audio).await)
    }

    /// Closes the open utterance now and decodes it as final. With nothing to commit it is an
    /// error and changes nothing.
    pub async fn commit(&mut self) -> Result<Vec<LiveEvent>> {
        if self.utterance.is_none() {
            return Err(Error::invalid_request("nothing to commit: no audio since the last commit"));
        }
        self.renew_endpointer();
        let end = self.end();
        Ok(self.finalize(end).await)
    }

    /// Drops the open utterance's audio undecoded.
    pub fn clear(&mut self) {
        self.aside = None;
        self.pause_decode = None;
        self.pause_audio = None;
        if self.utterance.take().is_some() {
            self.next_segment_id();
        }
        self.closed_to = self.end();
        self.agreement = LocalAgreement::new();
        self.last_words.clear();
        self.forget_language();
        self.stream = None;
        self.renew_endpointer();
        self.trim();
    }

    /// Ends the stream: flushes the resampler and finalizes an open utterance.
    pub async fn finish(&mut self) -> Vec<LiveEvent> {
        let tail = self.resampler.as_mut().map(StreamResampler::finish).unwrap_or_default();
        let mut events = self.ingest(tail).await;
        let end = self.end();
        if let Some(VadEvent::SpeechEnd(_)) = self.endpointer.finish() {
            events.push(LiveEvent::SpeechStopped { segment_id: self.segment_id, at: secs(end) });
        }
        events.extend(self.finalize(end).await);
        events
    }

    async fn ingest(&mut self, audio: Vec<f32>) -> Vec<LiveEvent> {
        let first_new = self.end();
        let mut events = Vec::new();
        let mut paused = false;
        match self.cfg.turns {
            Turns::Vad(_) => {
                let scores = self.vad.push(&audio);
                self.buf.extend(audio);
                for score in scores {
                    let frame_end = self.scored + FRAME as u64;
                    match self.endpointer.push(score) {
                        Some(VadEvent::SpeechStart(f)) => {
                            let at = self.endpointer_origin + f * FRAME as u64;
                            let start = at
                                .saturating_sub(samples(self.cfg.pre_roll_secs))
                                .max(self.buf_start)
                                .max(self.closed_to);
                            // An utterance still open (after a change of turns) keeps its start.
                            if self.utterance.is_none() {
                                self.utterance = Some(start);
                                self.last_interim_audio = frame_end;
                            }
                            events.push(LiveEvent::SpeechStarted { segment_id: self.segment_id, at: secs(at) });
                        }
                        Some(VadEvent::SpeechEnd(f)) if self.utterance.is_some() => {
                            let at = self.endpointer_origin + f * FRAME as u64;
                            let end = (at + samples(self.cfg.post_roll_secs)).min(self.end());
                            events.push(LiveEvent::SpeechStopped { segment_id: self.segment_id, at: secs(at) });
                            events.extend(self.finalize(end).await);
                        }
                        _ => {}
                    }
                    self.scored = frame_end;
                    paused |= self.pause_frames.is_some_and(|n| self.endpointer.trailing_silence() == n);
                    if let Some(start) = self.utterance
                        && secs(frame_end.saturating_sub(start)) >= self.cfg.max_utterance_secs
                    {
                        events.extend(self.cut_long_utterance(frame_end).await);
                    }
                }
            }
            Turns::Manual => {
                self.buf.extend(audio);
                if self.utterance.is_none() && self.end() > first_new {
                    self.utterance = Some(first_new);
                    self.last_interim_audio = first_new;
                }
                let now = self.end();
                if let Some(start) = self.utterance
                    && secs(now.saturating_sub(start)) >= self.cfg.max_utterance_secs
                {
                    events.extend(self.cut_long_utterance(now).await);
                }
            }
        }
        // `paused` with the utterance still open: the pause may yet end it, not closed it yet.
        if paused
            && self.utterance.is_some()
            && self.stream.is_none()
            && let Some(p) = &self.pausing
        {
            p.send_replace(Some(self.segment_id));
        }
        if paused {
            // The pause's decode of the whole utterance supersedes it, and wants the cores.
            self.aside = None;
        }
        if self.utterance.is_some() && (paused || (self.cfg.interim && self.aside.is_none() && self.interim_due())) {
            events.extend(self.interim(paused).await);
        }
        // Only the VAD's turns pause.
        if paused && let Some(upto) = self.clause_end() {
            events.extend(self.close_at_pause(upto).await);
        }
        if let Some(p) = &self.pausing {
            // The pause's decode is done.
            p.send_if_modified(|segment| segment.take().is_some());
        }
        self.trim();
        events
    }

    /// Where the pause decoded last closes its utterance ([`RecognizerConfig::clause_secs`]), if
    /// it does. (An earlier pause's decode, kept when a later one's failed, was already found
    /// not to.)
    fn clause_end(&self) -> Option<u64> {
        let (from, upto, t, _) = self.pause_decode.as_ref()?;
        let ends = self.utterance == Some(*from)
            && secs(upto.saturating_sub(*from)) >= self.cfg.clause_secs
            && ends_clause(&t.text);
        ends.then_some(*upto)
    }

    /// Closes the open utterance at `upto`, where the pause just decoded ends, that decode being
    /// its final one; speech after it starts the next utterance, as after a commit.
    async fn close_at_pause(&mut self, upto: u64) -> Vec<LiveEvent> {
        let silence = u64::from(self.endpointer.trailing_silence()) * FRAME as u64;
        let mut events = vec![LiveEvent::SpeechStopped {
            segment_id: self.segment_id,
            at: secs(self.scored.saturating_sub(silence)),
        }];
        self.renew_endpointer();
        events.extend(self.finalize(upto).await);
        events
    }

    fn interim_due(&self) -> bool {
        secs(self.end().saturating_sub(self.last_interim_audio)) >= self.cfg.interim_every
            && self.last_interim_wall.is_none_or(|t| t.elapsed() >= self.cfg.min_interim_gap)
    }

    fn slice(&self, from: u64, to: u64) -> Vec<f32> {
        let a = from.saturating_sub(self.buf_start) as usize;
        let b = (to.saturating_sub(self.buf_start) as usize).min(self.buf.len());
        self.buf[a.min(b)..b].to_vec()
    }

    /// Decodes `from..to` (`read`: for what); times come back in stream seconds. Engines that
    /// stream natively are fed only the audio they have not read yet.
    async fn decode(&mut self, from: u64, to: u64, read: Read) -> Result<(Transcript, f64)> {
        // A stream under way is out of `self.stream` while it is read, so it goes with the call.
        bounded(self.cfg.decode_timeout, self.decode_within(from, to, read)).await
    }

    /// The options of a decode: the utterance's language, once known ([`Self::settled`]).
    fn decode_options(&self) -> TranscribeOptions {
        let mut options = self.options.clone();
        if self.language.is_some() {
            options.language = self.language.clone();
        }
        options
    }

    /// Whether the engine streams the utterance that starts at `from` (its stream, opened here
    /// when it has one, is then in `self.stream`).
    async fn streams(&mut self, from: u64, options: &TranscribeOptions) -> bool {
        if self.stream.as_ref().is_some_and(|s| s.from != from) {
            self.stream = None;
        }
        if self.stream.is_none()
            && let Some(stream) = self.stt.stream(options).await
        {
            self.stream = Some(OpenStream { stream, from, fed: from });
        }
        self.stream.is_some()
    }

    async fn decode_within(&mut self, from: u64, to: u64, read: Read) -> Result<(Transcript, f64)> {
        let options = self.decode_options();
        let started = Instant::now();
        self.streams(from, &options).await;
        let t = match self.stream.take() {
            Some(mut open) => {
                // An interim may have fed a little past where the endpointer then closed the
                // utterance: only the silence that ended it, which adds no words.
                let audio = self.slice(open.fed, to);
                open.fed = open.fed.max(to);
                if read == Read::Final {
                    open.stream.push(audio).await?;
                    open.stream.finish().await?
                } else {
                    // At a pause, the words the final would have now: a step-reading engine's
                    // last word otherwise waits for audio that may never come.
                    let words = match read {
                        Read::Pause => open.stream.push_at_pause(audio).await?,
                        _ => open.stream.push(audio).await?,
                    };
                    self.stream = Some(open);
                    interim_transcript(words, options.language_hint().unwrap_or_default())
                }
            }
            None => self.stt.transcribe(Audio::new(self.slice(from, to)), options).await?,
        };
        Ok((self.settled(t, from, to), started.elapsed().as_secs_f64() * 1000.0))
    }

    /// A decode of the audio between absolute samples `from` and `to`, in stream seconds. With no
    /// language given, the language a decode found is the utterance's from then on (later
    /// decodes reuse it, and a language's own streaming engine takes over) when it was
    /// identified as sure ([`SURE_LANGUAGE`]), or when two decodes in a row found it, the second
    /// of at least [`KEEP_LANGUAGE_SECS`]. An unsure first guess is not enough: Whisper base took
    /// the first 1.7 s of a Vietnamese sentence for Chinese (0.60; 2.7 s: Vietnamese), the whole
    /// of it was then decoded as Chinese into a loop that the guards dropped, and the utterance
    /// was lost.
    fn settled(&mut self, mut t: Transcript, from: u64, to: u64) -> Transcript {
        let offset = secs(from);
        t.segments = std::mem::take(&mut t.segments).into_iter().map(|s| s.shifted(offset)).collect();
        if self.language.is_none() && !t.language.is_empty() {
            let sure = t.language_probability.is_some_and(|p| p >= SURE_LANGUAGE);
            let agreed =
                self.found.as_ref() == Some(&t.language) && secs(to.saturating_sub(from)) >= KEEP_LANGUAGE_SECS;
            if sure || agreed {
                self.language = Some(t.language.clone());
            }
            self.found = Some(t.language.clone());
        }
        t
    }

    /// The next utterance's language is found afresh, unless one was given.
    fn forget_language(&mut self) {
        self.found = None;
        if self.options.language_hint().is_none() {
            self.language = None;
        }
    }

    /// Starts an interim decode of `from..to` aside, when asked to and the engine decodes whole
    /// audio; false when it should be decoded here.
    async fn decode_aside(&mut self, from: u64, to: u64) -> bool {
        if !self.interims_aside {
            return false;
        }
        let options = self.decode_options();
        if self.streams(from, &options).await {
            return false;
        }
        let (stt, audio, limit) = (self.stt.clone(), Audio::new(self.slice(from, to)), self.cfg.decode_timeout);
        let decode = async move { bounded(limit, stt.transcribe(audio, options)).await };
        self.aside = Some(AsideDecode { from, upto: to, started: Instant::now(), decode: Box::pin(decode) });
        true
    }

    async fn interim(&mut self, at_pause: bool) -> Vec<LiveEvent> {
        let Some(start) = self.utterance else {
            return Vec::new();
        };
        let now = self.end();
        self.last_interim_audio = now;
        self.last_interim_wall = Some(Instant::now());
        if !at_pause && self.decode_aside(start, now).await {
            return Vec::new();
        }
        let decoded = self.decode(start, now, if at_pause { Read::Pause } else { Read::Interim }).await;
        self.interim_heard(start, now, at_pause, decoded)
    }

    /// The events of an interim decode of `start..now`.
    fn interim_heard(
        &mut self,
        start: u64,
        now: u64,
        at_pause: bool,
        decoded: Result<(Transcript, f64)>,
    ) -> Vec<LiveEvent> {
        let (t, ms) = match decoded {
            Ok(r) => r,
            Err(e) => {
                // The final decode will say it if the engine stays down; an interim result is
                // only a preview, and its failure changes nothing.
                tracing::debug!(code = e.code.as_str(), "interim decode failed: {}", e.message);
                return Vec::new();
            }
        };
        tracing::debug!(segment = self.segment_id, at_pause, ms = ms as u64, "interim decoded");
        // A streaming engine's decode here was only a push; its final needs the stream finished.
        self.pause_decode = (at_pause && self.stream.is_none()).then(|| (start, now, t.clone(), ms));
        self.pause_audio = (at_pause && self.keep_final_audio).then(|| PauseAudio {
            segment: self.segment_id,
            from: start,
            upto: now,
            audio: self.slice(start, now).into(),
        });
        // The utterance's first decode that heard words: a whole-decoding engine's guess from
        // about a second of speech, often nonsense.
        let first_guess = self.last_words.is_empty();
        self.last_words = t.words().cloned().collect();
        let texts: Vec<String> = self.last_words.iter().map(|w| w.text.clone()).collect();
        let h = self.agreement.update(&texts);
        if h.committed.is_empty() && h.tentative.is_empty() {
            return Vec::new();
        }
        let interim = Transcription {
            segment_id: self.segment_id,
            is_final: false,
            text: h.text(),
            ahead: self.ahead(&h, first_guess),
            committed: h.committed_text(),
            stability: h.stability(),
            language: t.language,
            confidence: t.confidence,
            start: secs(start),
            end: secs(now),
            words: Vec::new(),
            stt_ms: ms,
            e2e_ms: None,
            producer: t.producer,
            at_pause,
        };
        let Some((n, cut)) = self.clause_cut(start, at_pause) else {
            return vec![LiveEvent::Transcription(interim)];
        };
        let mut events = self.close_committed(start, n, cut);
        // The words after the cut, as the next utterance's interim.
        let rest = Hypothesis { committed: h.committed[n..].to_vec(), tentative: h.tentative };
        if !rest.text().is_empty() {
            events.push(LiveEvent::Transcription(Transcription {
                segment_id: self.segment_id,
                text: rest.text(),
                ahead: rest.text(),
                committed: rest.committed_text(),
                stability: rest.stability(),
                start: secs(cut),
                ..interim
            }));
        }
        events
    }

    /// Where to cut an utterance that goes on without a pause ([`RecognizerConfig::clause_secs`])
    /// after an interim decode from `start`: after the last committed word that ends a clause in
    /// that decode too, with words after it there (so it was not only where the audio stopped),
    /// when what it closes is at least `clause_secs` long. The first `n` words and the sample
    /// where the cut falls (between that word and the next, when they leave a gap), if anywhere.
    fn clause_cut(&self, start: u64, at_pause: bool) -> Option<(usize, u64)> {
        // A pause's decode may close the whole utterance instead (`clause_end`); a streaming
        // engine's cost does not grow with the utterance.
        if at_pause || self.pause_frames.is_none() || self.stream.is_some() || self.utterance != Some(start) {
            return None;
        }
        let committed = self.agreement.committed();
        let i = (0..committed.len()).rev().find(|&i| {
            ends_clause(&committed[i]) && i + 1 < self.last_words.len() && ends_clause(&self.last_words[i].text)
        })?;
        let (word, next) = (&self.last_words[i], &self.last_words[i + 1]);
        let cut = samples(if next.start > word.end { (word.end + next.start) / 2.0 } else { word.end });
        (cut > start && secs(cut - start) >= self.cfg.clause_secs && cut < self.end()).then_some((i + 1, cut))
    }

    /// What of an interim to translate ahead ([`Transcription::ahead`]): from a streaming engine
    /// all but the last word; from one that decodes the whole utterance, all of it from its second
    /// decode on (Whisper's first guess from a second of speech is often nonsense, and its
    /// translation only takes the cores from the next decode; its second, from two seconds, is
    /// mostly the final's text on short sentences, and whether it agrees with the first says
    /// little: waiting for agreement left those translated only after the pause).
    fn ahead(&self, h: &Hypothesis, first_guess: bool) -> String {
        if self.stream.is_some() {
            all_but_last_word(&h.text())
        } else if first_guess {
            String::new()
        } else {
            h.text()
        }
    }

    /// Whether audio read from `from` to `upto` held all the speech of the utterance closed as
    /// `start..end`: the speech ended before that audio did. Past the speech's end (the
    /// utterance's end less the post-roll) there is only the silence that closed it, so audio that
    /// stopped short of the post-roll or ran a little further holds the same words.
    fn heard_all(&self, from: u64, upto: u64, start: u64, end: u64) -> bool {
        from == start && end <= upto + samples(self.cfg.post_roll_secs) && secs(upto.saturating_sub(end)) <= 0.5
    }

    /// Closes the open utterance at `end`: a `Committed` event, then its final transcript (empty
    /// when nothing was said) or the error that kept it from being decoded.
    async fn finalize(&mut self, end: u64) -> Vec<LiveEvent> {
        self.aside = None;
        let Some(start) = self.utterance.take() else {
            return Vec::new();
        };
        self.closed_to = self.closed_to.max(end);
        // The id is spent whatever happens: interim results may have used it.
        let id = self.next_segment_id();
        let mut events = vec![LiveEvent::Committed { segment_id: id, start: secs(start), end: secs(end) }];
        if self.keep_final_audio {
            // The very audio of the pause when it held all the speech: the session's second pass
            // over it (made at the pause) is then the final's.
            let audio = match self.pause_audio.take() {
                Some(p) if self.heard_all(p.from, p.upto, start, end) => p.audio,
                _ => self.slice(start, end).into(),
            };
            self.store_final_audio(id, audio);
        }
        // Nothing was said since the pause's decode: it is the final decode, already made while
        // the endpointer waited out the silence.
        let decoded = match self.pause_decode.take() {
            Some((from, upto, t, ms)) if self.heard_all(from, upto, start, end) => Ok((t, ms)),
            _ => self.decode(start, end, Read::Final).await,
        };
        self.stream = None;
        let mut agreement = std::mem::take(&mut self.agreement);
        self.last_words.clear();
        self.forget_language();
        match decoded {
            Ok((t, ms)) => {
                let words: Vec<Word> = t.words().cloned().collect();
                let texts: Vec<String> = words.iter().map(|w| w.text.clone()).collect();
                let final_words = agreement.finish(&texts);
                events.push(LiveEvent::Transcription(Transcription {
                    language: t.language,
                    confidence: t.confidence,
                    stt_ms: ms,
                    producer: t.producer,
                    ..final_transcription(id, &final_words, (start, end), words)
                }));
            }
            Err(e) => {
                tracing::warn!(code = e.code.as_str(), segment = id, "final decode failed: {}", e.message);
                events.push(LiveEvent::Error(LiveError::of_segment(id, e)));
            }
        }
        events
    }

    /// Emits the committed words of an over-long utterance as a final result and continues the
    /// utterance from the end of the last committed word.
    async fn cut_long_utterance(&mut self, now: u64) -> Vec<LiveEvent> {
        let Some(start) = self.utterance else {
            return Vec::new();
        };
        let n = self.agreement.committed().len();
        let cut = n.checked_sub(1).and_then(|i| self.last_words.get(i)).map(|w| samples(w.end));
        let Some(cut) = cut.filter(|c| *c > start && *c < now) else {
            // Nothing stable to cut at: finalize everything so far and start afresh.
            let events = self.finalize(now).await;
            self.utterance = Some(now);
            self.last_interim_audio = now;
            return events;
        };
        self.close_committed(start, n, cut)
    }

    /// Closes the open utterance's first `n` committed words (heard by the last decode, from
    /// `start`) as a final of their own, ending at `cut`; the utterance goes on from there.
    fn close_committed(&mut self, start: u64, n: usize, cut: u64) -> Vec<LiveEvent> {
        self.aside = None;
        let committed = self.agreement.committed()[..n].to_vec();
        let words: Vec<Word> = self.last_words[..n].to_vec();
        self.agreement.drain_committed(n);
        self.last_words.clear();
        self.utterance = Some(cut);
        self.closed_to = cut;
        let id = self.next_segment_id();
        if self.keep_final_audio {
            self.store_final_audio(id, self.slice(start, cut).into());
        }
        let confidence = words.iter().map(|w| w.probability).sum::<f32>() / words.len().max(1) as f32;
        vec![
            LiveEvent::Committed { segment_id: id, start: secs(start), end: secs(cut) },
            LiveEvent::Transcription(Transcription {
                language: self.language.clone().unwrap_or_default(),
                confidence,
                ..final_transcription(id, &committed, (start, cut), words)
            }),
        ]
    }

    fn next_segment_id(&mut self) -> u64 {
        self.segment_id += 1;
        self.segment_id - 1
    }

    /// Drops audio no open utterance needs, keeping the VAD's pre-roll.
    fn trim(&mut self) {
        let keep_from = match (self.utterance, &self.cfg.turns) {
            (Some(start), _) => start,
            (None, Turns::Vad(_)) => self.scored.saturating_sub(samples(self.cfg.pre_roll_secs)),
            (None, Turns::Manual) => self.end(),
        };
        let drop = keep_from.saturating_sub(self.buf_start).min(self.buf.len() as u64) as usize;
        if drop > 0 {
            self.buf.drain(..drop);
            self.buf_start += drop as u64;
        }
    }
}

/// `decode`'s answer, or a timeout error once `limit` has passed.
async fn bounded<T>(limit: Duration, decode: impl Future<Output = Result<T>>) -> Result<T> {
    tokio::time::timeout(limit, decode).await.unwrap_or_else(|_| {
        Err(Error::new(ErrorCode::Timeout, format!("speech-to-text did not answer within {limit:?}")))
    })
}

fn all_but_last_word(text: &str) -> String {
    let text = text.trim_end();
    text.rfind(char::is_whitespace).map_or("", |i| text[..i].trim_end()).to_string()
}

fn endpoint_config(turns: &Turns) -> EndpointConfig {
    match turns {
        Turns::Vad(c) => c.clone(),
        Turns::Manual => EndpointConfig::default(),
    }
}

/// Interim words of a stream as a transcript of one segment.
fn interim_transcript(words: Vec<Word>, language: &str) -> Transcript {
    let text = words.iter().map(|w| w.text.as_str()).collect::<Vec<_>>().join(" ");
    let confidence = words.iter().map(|w| w.probability).sum::<f32>() / words.len().max(1) as f32;
    let segment = sokuji_core::Segment {
        start: words.first().map_or(0.0, |w| w.start),
        end: words.last().map_or(0.0, |w| w.end),
        text: text.clone(),
        words,
        language: language.to_string(),
        ..Default::default()
    };
    Transcript { text, language: language.to_string(), confidence, segments: vec![segment], ..Default::default() }
}

/// A final result: committed whole, by definition. Language, confidence and timing are the
/// caller's to fill in.
fn final_transcription(
    segment_id: u64,
    words: &[String],
    (start, end): (u64, u64),
    detail: Vec<Word>,
) -> Transcription {
    let text = words.join(" ");
    Transcription {
        segment_id,
        is_final: true,
        committed: text.clone(),
        text,
        stability: 1.0,
        start: secs(start),
        end: secs(end),
        words: aligned(words, detail, secs(start)),
        ..Default::default()
    }
}

/// The final decode's words under the final's text, one for one: a committed word that the
/// final decode heard otherwise keeps its committed text at that decode's timing (by position,
/// as `LocalAgreement::finish` joins them), so a client's word list always spells the text.
/// Committed words past the decode's last one sit at its end.
fn aligned(words: &[String], mut detail: Vec<Word>, start: f64) -> Vec<Word> {
    detail.truncate(words.len());
    for (w, text) in detail.iter_mut().zip(words) {
        w.text.clone_from(text);
    }
    let at = detail.last().map_or(start, |w| w.end);
    detail.extend(words[detail.len()..].iter().map(|text| Word {
        text: text.clone(),
        start: at,
        end: at,
        probability: 0.0,
    }));
    detail
}
