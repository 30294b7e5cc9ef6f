//! `ConformerEngine`: the model, its vocabulary and the `SpeechToText` impl.
use crate::{
    ctc,
    features::{FeatureBank, Frame, features},
    model::{Chunk, Model, StreamState, real_outputs, steps},
    stream::ConformerStream,
    vocab::Vocabulary,
};
use sokuji_admission::{Admission, Ticket};
use sokuji_audio::{
    gate,
    vad::{detect_speech, group_regions},
};
use sokuji_core::{
    Audio, Error, ErrorCode, Health, Producer, Result, Segment, SpeechToText, SttModel, SttStream, Task,
    TranscribeOptions, Transcript, Word,
    guard::{Rejection, Rejections},
    readable,
    stream::EndpointConfig,
};
use std::{path::PathBuf, sync::Arc};

pub const ENGINE: &str = "conformer-ctc";
const LANGUAGE: &str = "vi";

/// How to run the engine. The binary fills this from config; nothing here reads the environment.
#[derive(Clone, Debug)]
pub struct ConformerConfig {
    /// The ONNX model.
    pub model_path: PathBuf,
    /// Its vocabulary (`piece id` lines).
    pub vocab_path: PathBuf,
    /// ONNX Runtime's shared library.
    pub runtime_lib: PathBuf,
    pub threads: usize,
    /// ONNX Runtime's threads spin between runs (`sokuji_onnx::session`).
    pub spin: bool,
    /// Requests decoded at once; more wait their turn.
    pub max_concurrent: usize,
    /// Where audio and text refused as non-speech are counted.
    pub rejections: Arc<Rejections>,
}

/// A cheap handle to a loaded model; clones share it, and its admission.
#[derive(Clone)]
pub struct ConformerEngine {
    inner: Arc<Inner>,
    /// Who may decode now: one per handle (see [`ConformerEngine::lane`]).
    admission: Admission,
}

pub(crate) struct Inner {
    pub(crate) model: Model,
    pub(crate) vocab: Vocabulary,
    pub(crate) bank: Arc<FeatureBank>,
    rejections: Arc<Rejections>,
    producer: Producer,
    threads: usize,
}

/// Windows decoded side by side in one batch.
const MAX_BATCH: usize = 4;
/// Longest stretch of speech decoded as one stream (the model has no limit; shorter windows
/// make batches and progress reports).
const MAX_WINDOW_SECS: f64 = 30.0;

impl ConformerEngine {
    /// Loads the model and vocabulary; missing files are `model_not_found`.
    pub fn load(cfg: &ConformerConfig) -> Result<Self> {
        for p in [&cfg.model_path, &cfg.vocab_path] {
            if !p.is_file() {
                return Err(Error::new(
                    ErrorCode::ModelNotFound,
                    format!("no Vietnamese Conformer file at {} (run `sokuji models fetch vi-conformer`)", p.display()),
                ));
            }
        }
        let raw = std::fs::read_to_string(&cfg.vocab_path)
            .map_err(|e| Error::new(ErrorCode::ModelNotFound, format!("{}: {e}", cfg.vocab_path.display())))?;
        let vocab = Vocabulary::parse(&raw)?;
        let model = Model::load(&cfg.model_path, &cfg.runtime_lib, cfg.threads, cfg.spin)?;
        if model.classes() > vocab.len() {
            return Err(Error::new(
                ErrorCode::ModelNotFound,
                format!("the model outputs {} classes, the vocabulary has {}", model.classes(), vocab.len()),
            ));
        }
        let name = cfg.model_path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        tracing::info!(model = %name, threads = cfg.threads, "Vietnamese Conformer loaded");
        let inner = Inner {
            model,
            vocab,
            bank: Arc::new(FeatureBank::new()),
            rejections: cfg.rejections.clone(),
            producer: Producer::new(ENGINE, name),
            threads: cfg.threads.max(1),
        };
        Ok(Self { inner: Arc::new(inner), admission: Admission::new("conformer", cfg.max_concurrent) })
    }

    /// Another handle on the same model with an admission of its own, named `name`: work of
    /// one kind (an archive's recordings) never holds another's turn (live streams).
    pub fn lane(&self, name: &str, max_concurrent: usize) -> Self {
        Self { inner: self.inner.clone(), admission: Admission::new(name, max_concurrent) }
    }
}

/// A window of the audio decoded as one stream.
struct Window {
    offset: f64,
    frames: Vec<Frame>,
}

impl Inner {
    fn check_options(&self, o: &TranscribeOptions) -> Result<()> {
        if let Some(l) = o.language_hint()
            && !l.eq_ignore_ascii_case(LANGUAGE)
        {
            return Err(Error::new(
                ErrorCode::UnsupportedLanguage,
                format!("the Vietnamese Conformer transcribes only \"vi\", not {l:?}"),
            ));
        }
        if o.task == Task::Translate {
            return Err(Error::invalid_request("the Vietnamese Conformer transcribes; it does not translate"));
        }
        Ok(())
    }

    /// The blocking part: VAD, the energy gate, features, batched decoding, words, sentences.
    fn run(&self, audio: &Audio, o: &TranscribeOptions, ticket: &Ticket) -> Result<Transcript> {
        let duration = audio.duration_secs();
        let regions = if o.vad == Some(false) {
            vec![(0.0, duration)]
        } else {
            detect_speech(audio.samples(), &EndpointConfig::default(), 0.25)
        };
        let windows: Vec<(f64, f64)> = group_regions(&regions, MAX_WINDOW_SECS)
            .into_iter()
            .filter(|(a, b)| self.gate(audio.slice_secs(*a, *b).samples()).is_none())
            .collect();
        let mut decoded = Vec::new();
        for batch in windows.chunks(MAX_BATCH) {
            ticket.check()?;
            if let Some(p) = &o.progress {
                (p.0)((batch[0].0 / duration.max(1e-9)).clamp(0.0, 1.0) as f32);
            }
            let batch: Vec<Window> = batch
                .iter()
                .map(|(a, b)| Window { offset: *a, frames: features(&self.bank, audio.slice_secs(*a, *b).samples()) })
                .collect();
            decoded.extend(self.decode(&batch, ticket)?);
        }
        if let Some(p) = &o.progress {
            (p.0)(1.0);
        }
        Ok(self.transcript(decoded, duration, o.word_timestamps))
    }

    /// The words of each decoded window as a transcript: sentences at pauses, sentences the
    /// model is unsure of dropped as noise.
    pub(crate) fn transcript(&self, windows: Vec<Vec<Word>>, duration: f64, word_timestamps: bool) -> Transcript {
        let confidence = mean(windows.iter().flatten().map(|w| w.probability));
        let segments = windows
            .into_iter()
            .filter(|w| !w.is_empty())
            .flat_map(readable::sentences)
            .filter_map(|s| {
                let p = mean(s.iter().map(|w| w.probability));
                // Noise read as speech comes out as a few unsure pieces.
                if p < LOW_CONFIDENCE {
                    self.rejections.count(Rejection::LowConfidence);
                    tracing::debug!(text = %readable::text(&s), p, "sentence dropped");
                    return None;
                }
                Some(Segment {
                    id: 0,
                    start: s.first()?.start,
                    end: s.last()?.end,
                    text: readable::text(&s),
                    words: if word_timestamps { s } else { Vec::new() },
                    no_speech_probability: 0.0,
                    language: LANGUAGE.into(),
                })
            })
            .collect();
        Transcript::assemble(segments, confidence, duration, Some(LANGUAGE.into()), self.producer.clone())
    }

    /// `None` when `samples` may hold speech; otherwise counts why not and says so.
    pub(crate) fn gate(&self, samples: &[f32]) -> Option<Rejection> {
        let verdict = gate::judge(samples);
        if let Some(reason) = verdict {
            self.rejections.count(reason);
        }
        verdict
    }

    /// Decodes the windows side by side, a batch step at a time; each window's words.
    fn decode(&self, windows: &[Window], ticket: &Ticket) -> Result<Vec<Vec<Word>>> {
        let classes = self.model.classes();
        let mut states: Vec<StreamState> = windows.iter().map(|_| StreamState::default()).collect();
        let mut paths: Vec<Vec<ctc::Best>> = windows.iter().map(|_| Vec::new()).collect();
        let plans: Vec<Vec<(usize, usize)>> = windows.iter().map(|w| steps(w.frames.len()).collect()).collect();
        let longest = plans.iter().map(Vec::len).max().unwrap_or(0);
        for step in 0..longest {
            ticket.check()?;
            let mut chunks = Vec::new();
            let mut owners = Vec::new();
            for (i, ((state, plan), w)) in states.iter_mut().zip(&plans).zip(windows).enumerate() {
                let Some(&(start, real)) = plan.get(step) else { continue };
                chunks.push(Chunk { frames: &w.frames[start..start + real], state });
                owners.push((i, real));
            }
            let rows = self.model.step(&mut chunks)?;
            for (row, (i, real)) in rows.iter().zip(owners) {
                paths[i].extend(ctc::best_path(&row[..real_outputs(real) * classes], classes));
            }
        }
        Ok(paths.iter().zip(windows).map(|(p, w)| ctc::words(p, &self.vocab, w.offset)).collect())
    }
}

/// A sentence whose words the model is on average less sure of than this is taken for noise.
const LOW_CONFIDENCE: f32 = 0.35;

fn mean(xs: impl Iterator<Item = f32>) -> f32 {
    let (sum, n) = xs.fold((0.0, 0usize), |(s, n), x| (s + x, n + 1));
    if n == 0 { 0.0 } else { sum / n as f32 }
}

#[async_trait::async_trait]
impl SpeechToText for ConformerEngine {
    async fn transcribe(&self, audio: Audio, options: TranscribeOptions) -> Result<Transcript> {
        self.inner.check_options(&options)?;
        let engine = Arc::clone(&self.inner);
        self.admission.run(None, move |ticket| engine.run(&audio, &options, ticket)).await
    }

    async fn languages(&self) -> Result<Vec<String>> {
        Ok(vec![LANGUAGE.into()])
    }

    async fn health(&self) -> Health {
        let mut h = Health::ready(ENGINE);
        h.details.insert("model".into(), self.inner.producer.model.clone());
        h.details.insert("threads".into(), self.inner.threads.to_string());
        h.details.insert("available_slots".into(), self.admission.available().to_string());
        h
    }

    async fn models(&self) -> Vec<SttModel> {
        vec![SttModel { id: self.inner.producer.model.clone(), engine: ENGINE.into() }]
    }

    async fn stream(&self, options: &TranscribeOptions) -> Option<Box<dyn SttStream>> {
        self.inner.check_options(options).ok()?;
        Some(Box::new(ConformerStream::new(self.inner.clone(), self.admission.clone(), options.word_timestamps)))
    }
}
