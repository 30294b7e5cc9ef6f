//! One streaming recognition session: PCM chunks in, interim and final results out.
//!
//! Audio is resampled to 16 kHz and scored by the VAD frame by frame; the endpointer cuts it into
//! utterances. While an utterance is open, it is re-decoded every `interim_every` seconds of
//! audio (no more often than `min_interim_gap` of wall time, so a client sending faster than real
//! time loses interim results, never final ones) and local agreement commits the stable prefix.
//! At the utterance's end it is decoded once more and emitted as final, keeping the committed
//! prefix exactly. Utterances longer than `max_utterance_secs` are cut at the last committed word,
//! so the buffer, and the latency, stay bounded on streams of any length.
use sokuji_audio::{PcmSpec, StreamResampler, VoiceDetector, vad::FRAME};
use sokuji_core::{
    Result, SAMPLE_RATE, SpeechToText, TranscribeOptions, Word,
    stream::{EndpointConfig, Endpointer, LocalAgreement, VadEvent},
};
use std::{
    sync::Arc,
    time::{Duration, Instant},
};

#[derive(Clone, Debug)]
pub struct StreamConfig {
    pub endpoint: EndpointConfig,
    /// Seconds of new audio between interim decodes.
    pub interim_every: f64,
    /// Least wall time between interim decodes.
    pub min_interim_gap: Duration,
    pub max_utterance_secs: f64,
    /// Audio kept before the VAD's speech start, so first syllables are not clipped.
    pub pre_roll_secs: f64,
    /// Audio kept after the speech end.
    pub post_roll_secs: f64,
}

impl Default for StreamConfig {
    fn default() -> Self {
        Self {
            endpoint: EndpointConfig::default(),
            interim_every: 1.0,
            min_interim_gap: Duration::from_millis(500),
            max_utterance_secs: 20.0,
            pre_roll_secs: 0.3,
            post_roll_secs: 0.2,
        }
    }
}

/// A result of the stream. Times are seconds from the start of the stream.
#[derive(Clone, Debug, PartialEq)]
pub struct StreamEvent {
    pub segment_id: u64,
    pub is_final: bool,
    pub text: String,
    pub committed: String,
    pub stability: f32,
    pub language: String,
    pub confidence: f32,
    pub start: f64,
    pub end: f64,
    pub words: Vec<Word>,
    pub processing_ms: f64,
}

pub struct StreamSession {
    stt: Arc<dyn SpeechToText>,
    cfg: StreamConfig,
    options: TranscribeOptions,
    spec: Option<PcmSpec>,
    resampler: Option<StreamResampler>,
    vad: VoiceDetector,
    endpointer: Endpointer,
    /// 16 kHz audio from absolute sample `buf_start` to the newest sample.
    buf: Vec<f32>,
    buf_start: u64,
    /// Samples scored by the VAD so far (absolute).
    scored: u64,
    /// Absolute sample where the open utterance starts, if one is open.
    utterance: Option<u64>,
    agreement: LocalAgreement,
    last_words: Vec<Word>,
    language: Option<String>,
    last_interim_audio: u64,
    last_interim_wall: Option<Instant>,
    segment_id: u64,
}

fn secs(samples: u64) -> f64 {
    samples as f64 / f64::from(SAMPLE_RATE)
}

/// A final result: committed whole, by definition. Language, confidence and timing are the
/// caller's to fill in.
fn final_event(segment_id: u64, words: &[String], (start, end): (u64, u64), detail: Vec<Word>) -> StreamEvent {
    let text = words.join(" ");
    StreamEvent {
        segment_id,
        is_final: true,
        committed: text.clone(),
        text,
        stability: 1.0,
        language: String::new(),
        confidence: 0.0,
        start: secs(start),
        end: secs(end),
        words: detail,
        processing_ms: 0.0,
    }
}

fn samples(secs: f64) -> u64 {
    (secs.max(0.0) * f64::from(SAMPLE_RATE)) as u64
}

impl StreamSession {
    pub fn new(stt: Arc<dyn SpeechToText>, cfg: StreamConfig, mut options: TranscribeOptions) -> Self {
        options.vad = Some(false);
        options.word_timestamps = true;
        options.fit_context = true;
        let language = options.language_hint().map(String::from);
        Self {
            endpointer: Endpointer::new(cfg.endpoint.clone()),
            stt,
            cfg,
            options,
            spec: None,
            resampler: None,
            vad: VoiceDetector::default(),
            buf: Vec::new(),
            buf_start: 0,
            scored: 0,
            utterance: None,
            agreement: LocalAgreement::new(),
            last_words: Vec::new(),
            language,
            last_interim_audio: 0,
            last_interim_wall: None,
            segment_id: 0,
        }
    }

    /// Seconds of 16 kHz audio received so far.
    pub fn received_secs(&self) -> f64 {
        secs(self.buf_start + self.buf.len() as u64)
    }

    /// Feeds one chunk of PCM; returns the results it produced. A bad chunk is an error and
    /// leaves the session as it was.
    pub async fn push(&mut self, spec: PcmSpec, data: &[u8]) -> Result<Vec<StreamEvent>> {
        let mono = spec.to_mono(data)?;
        let mut audio = Vec::new();
        if self.spec.map(|s| s.sample_rate) != Some(spec.sample_rate) {
            let fresh = StreamResampler::new(spec.sample_rate)?;
            if let Some(mut old) = self.resampler.replace(fresh) {
                audio = old.finish();
            }
        }
        self.spec = Some(spec);
        if let Some(r) = self.resampler.as_mut() {
            audio.extend(r.push(&mono));
        }
        self.ingest(audio).await
    }

    /// Pushes 16 kHz mono samples directly (already converted by the caller).
    pub async fn push_samples(&mut self, audio: Vec<f32>) -> Result<Vec<StreamEvent>> {
        self.ingest(audio).await
    }

    /// Ends the stream: flushes the resampler and finalizes an open utterance.
    pub async fn finish(&mut self) -> Result<Vec<StreamEvent>> {
        let tail = self.resampler.as_mut().map(StreamResampler::finish).unwrap_or_default();
        let mut events = self.ingest(tail).await?;
        if let Some(VadEvent::SpeechEnd(_)) = self.endpointer.finish() {
            let end = self.buf_start + self.buf.len() as u64;
            events.extend(self.finalize(end).await?);
        }
        Ok(events)
    }

    async fn ingest(&mut self, audio: Vec<f32>) -> Result<Vec<StreamEvent>> {
        let scores = self.vad.push(&audio);
        self.buf.extend(audio);
        let mut events = Vec::new();
        for score in scores {
            let frame_end = self.scored + FRAME as u64;
            match self.endpointer.push(score) {
                Some(VadEvent::SpeechStart(f)) => {
                    let start = (f * FRAME as u64).saturating_sub(samples(self.cfg.pre_roll_secs));
                    self.utterance = Some(start.max(self.buf_start));
                    self.last_interim_audio = frame_end;
                }
                Some(VadEvent::SpeechEnd(f)) => {
                    let end = (f * FRAME as u64 + samples(self.cfg.post_roll_secs))
                        .min(self.buf_start + self.buf.len() as u64);
                    events.extend(self.finalize(end).await?);
                }
                None => {}
            }
            self.scored = frame_end;
            if let Some(start) = self.utterance
                && secs(frame_end - start) >= self.cfg.max_utterance_secs
            {
                events.extend(self.cut_long_utterance(frame_end).await?);
            }
        }
        if self.utterance.is_some() && self.interim_due() {
            events.extend(self.interim().await?);
        }
        self.trim();
        Ok(events)
    }

    fn interim_due(&self) -> bool {
        let now = self.buf_start + self.buf.len() as u64;
        secs(now.saturating_sub(self.last_interim_audio)) >= self.cfg.interim_every
            && self.last_interim_wall.is_none_or(|t| t.elapsed() >= self.cfg.min_interim_gap)
    }

    fn slice(&self, from: u64, to: u64) -> Vec<f32> {
        let a = from.saturating_sub(self.buf_start) as usize;
        let b = (to.saturating_sub(self.buf_start) as usize).min(self.buf.len());
        self.buf[a.min(b)..b].to_vec()
    }

    async fn decode(&mut self, from: u64, to: u64) -> Result<(sokuji_core::Transcript, f64)> {
        let mut options = self.options.clone();
        if self.language.is_some() {
            options.language = self.language.clone();
        }
        let started = Instant::now();
        let mut t = self.stt.transcribe(sokuji_core::Audio::new(self.slice(from, to)), options).await?;
        let offset = secs(from);
        for s in &mut t.segments {
            s.start += offset;
            s.end += offset;
            for w in &mut s.words {
                w.start += offset;
                w.end += offset;
            }
        }
        if self.language.is_none() && !t.language.is_empty() {
            // Detected once per utterance; reused by its later decodes.
            self.language = Some(t.language.clone());
        }
        Ok((t, started.elapsed().as_secs_f64() * 1000.0))
    }

    async fn interim(&mut self) -> Result<Vec<StreamEvent>> {
        let Some(start) = self.utterance else {
            return Ok(Vec::new());
        };
        let now = self.buf_start + self.buf.len() as u64;
        self.last_interim_audio = now;
        self.last_interim_wall = Some(Instant::now());
        let (t, ms) = self.decode(start, now).await?;
        self.last_words = t.words().cloned().collect();
        let texts: Vec<String> = self.last_words.iter().map(|w| w.text.clone()).collect();
        let h = self.agreement.update(&texts);
        if h.committed.is_empty() && h.tentative.is_empty() {
            return Ok(Vec::new());
        }
        Ok(vec![StreamEvent {
            segment_id: self.segment_id,
            is_final: false,
            text: h.text(),
            committed: h.committed_text(),
            stability: h.stability(),
            language: t.language,
            confidence: t.confidence,
            start: secs(start),
            end: secs(now),
            words: Vec::new(),
            processing_ms: ms,
        }])
    }

    async fn finalize(&mut self, end: u64) -> Result<Vec<StreamEvent>> {
        let Some(start) = self.utterance.take() else {
            return Ok(Vec::new());
        };
        let (t, ms) = self.decode(start, end).await?;
        let words: Vec<Word> = t.words().cloned().collect();
        let texts: Vec<String> = words.iter().map(|w| w.text.clone()).collect();
        let final_words = self.agreement.finish(&texts);
        self.last_words.clear();
        if self.options.language_hint().is_none() {
            self.language = None;
        }
        // The id is spent even when nothing is said: interim results may have used it.
        let id = self.next_segment_id();
        if final_words.is_empty() {
            return Ok(Vec::new());
        }
        Ok(vec![StreamEvent {
            language: t.language,
            confidence: t.confidence,
            processing_ms: ms,
            ..final_event(id, &final_words, (start, end), words)
        }])
    }

    /// Emits the committed words of an over-long utterance as a final result and continues the
    /// utterance from the end of the last committed word.
    async fn cut_long_utterance(&mut self, now: u64) -> Result<Vec<StreamEvent>> {
        let Some(start) = self.utterance else {
            return Ok(Vec::new());
        };
        let committed = self.agreement.committed().to_vec();
        let cut = committed.len().checked_sub(1).and_then(|i| self.last_words.get(i)).map(|w| samples(w.end));
        let Some(cut) = cut.filter(|c| *c > start && *c < now) else {
            // Nothing stable to cut at: finalize everything so far and start afresh.
            let events = self.finalize(now).await?;
            self.utterance = Some(now);
            return Ok(events);
        };
        let words: Vec<Word> = self.last_words[..committed.len()].to_vec();
        self.agreement.drain_committed(committed.len());
        self.last_words.clear();
        self.utterance = Some(cut);
        let id = self.next_segment_id();
        let confidence = words.iter().map(|w| w.probability).sum::<f32>() / words.len().max(1) as f32;
        Ok(vec![StreamEvent {
            language: self.language.clone().unwrap_or_default(),
            confidence,
            ..final_event(id, &committed, (start, cut), words)
        }])
    }

    fn next_segment_id(&mut self) -> u64 {
        self.segment_id += 1;
        self.segment_id - 1
    }

    /// Drops audio no open utterance needs, keeping the pre-roll.
    fn trim(&mut self) {
        let keep_from = match self.utterance {
            Some(start) => start,
            None => self.scored.saturating_sub(samples(self.cfg.pre_roll_secs)),
        };
        let drop = keep_from.saturating_sub(self.buf_start).min(self.buf.len() as u64) as usize;
        if drop > 0 {
            self.buf.drain(..drop);
            self.buf_start += drop as u64;
        }
    }
}
