//! `WhisperEngine`: the model, a pool of decoding states, and the `SpeechToText` impl.
use crate::decode::{self, Window};
use sokuji_admission::{Admission, Ticket};
use sokuji_audio::{
    gate,
    vad::{detect_speech, group_regions},
};
use sokuji_core::{
    Audio, Error, ErrorCode, Health, Identified, Producer, Result, SpeechToText, SttModel, Task, TranscribeOptions,
    Transcript, guard::Rejections, stream::EndpointConfig,
};
use std::{
    path::PathBuf,
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
};
use whisper_rs::{WhisperContext, WhisperContextParameters, WhisperState};

/// How to run the engine. The binary fills this from config; nothing here reads the environment.
#[derive(Clone, Debug)]
pub struct WhisperConfig {
    pub model_path: PathBuf,
    /// Threads per decode.
    pub threads: usize,
    /// Decodes that may run at once; more wait their turn.
    pub max_concurrent: usize,
    /// Where audio and segments refused as non-speech are counted.
    pub rejections: Arc<Rejections>,
}

/// A cheap handle to a loaded model; clones share it, and its admission.
#[derive(Clone)]
pub struct WhisperEngine {
    inner: Arc<Inner>,
    /// Who may decode now: one per handle, so work of one kind (an archive's hour-long
    /// recording) never holds another's turn (live sessions) while both share the weights.
    admission: Admission,
}

struct Inner {
    ctx: WhisperContext,
    /// Idle decoder states; a decode takes one and gives it back (never more than the
    /// admission limit exist, since only admitted work takes one).
    states: Mutex<Vec<WhisperState>>,
    /// The state language identification uses (`decode::identification_state`).
    identifier: Mutex<Option<WhisperState>>,
    /// Decoder states created so far (health detail: it stays at most the admission limits).
    states_created: AtomicUsize,
    rejections: Arc<Rejections>,
    threads: usize,
    multilingual: bool,
    model_name: String,
}

pub const ENGINE: &str = "whisper.cpp";

/// Longest stretch handed to whisper in one window (its context is 30 s).
const MAX_WINDOW_SECS: f64 = 28.0;
/// Shortest stretch of speech after a window's last segment that is decoded again.
const MIN_REDECODE_SECS: f64 = 1.5;

/// The model a ggml file holds, named as its file is without "ggml-" and the weights' type
/// (whisper.cpp's "-q8_0", "-q5_1", …): `ggml-whisper-base-q8_0.bin` is `whisper-base`, the
/// name requests and routes use whatever the file's precision.
fn model_name(stem: &str) -> String {
    let name = stem.trim_start_matches("ggml-");
    let quantized = |t: &str| {
        t.strip_prefix('q').is_some_and(|r| {
            let (bits, kind) = r.split_once('_').unwrap_or((r, "0"));
            !bits.is_empty()
                && bits.bytes().all(|b| b.is_ascii_digit())
                && !kind.is_empty()
                && kind.bytes().all(|b| b.is_ascii_alphanumeric())
        })
    };
    match name.rsplit_once('-') {
        Some((model, t)) if quantized(t) && !model.is_empty() => model.to_string(),
        _ => name.to_string(),
    }
}

impl WhisperEngine {
    /// Loads the model; a missing or unreadable file is `model_not_found`.
    pub fn load(cfg: &WhisperConfig) -> Result<Self> {
        if !cfg.model_path.is_file() {
            return Err(Error::new(
                ErrorCode::ModelNotFound,
                format!("no Whisper model at {} (run `sokuji models fetch`)", cfg.model_path.display()),
            ));
        }
        whisper_rs::install_logging_hooks();
        let path = cfg.model_path.to_string_lossy().to_string();
        // Flash attention: whisper.cpp's own CLI default, about a quarter faster on CPU here.
        let params = WhisperContextParameters { flash_attn: true, ..Default::default() };
        let ctx = WhisperContext::new_with_params(&path, params)
            .map_err(|e| Error::new(ErrorCode::ModelNotFound, format!("cannot load {path}: {e}")))?;
        let multilingual = ctx.is_multilingual();
        let model_name =
            cfg.model_path.file_stem().map_or_else(|| "whisper".into(), |s| model_name(&s.to_string_lossy()));
        tracing::info!(model = %model_name, multilingual, threads = cfg.threads, "whisper model loaded");
        let inner = Inner {
            ctx,
            states: Mutex::new(Vec::new()),
            identifier: Mutex::new(None),
            states_created: AtomicUsize::new(0),
            rejections: cfg.rejections.clone(),
            threads: cfg.threads.max(1),
            multilingual,
            model_name,
        };
        Ok(Self { inner: Arc::new(inner), admission: Admission::new("whisper", cfg.max_concurrent) })
    }

    /// Another handle on the same weights with an admission of its own, named `name`.
    pub fn lane(&self, name: &str, max_concurrent: usize) -> Self {
        Self { inner: self.inner.clone(), admission: Admission::new(name, max_concurrent) }
    }

    pub fn model_name(&self) -> &str {
        &self.inner.model_name
    }
}

impl Inner {
    fn producer(&self) -> Producer {
        Producer::new(ENGINE, self.model_name.clone())
    }

    fn take_state(&self) -> Result<WhisperState> {
        if let Some(s) = self.states.lock().ok().and_then(|mut v| v.pop()) {
            return Ok(s);
        }
        let s = self
            .ctx
            .create_state()
            .map_err(|e| Error::new(ErrorCode::EngineFailed, format!("cannot create whisper state: {e}")))?;
        self.states_created.fetch_add(1, Ordering::Relaxed);
        Ok(s)
    }

    fn put_state(&self, s: WhisperState) {
        if let Ok(mut v) = self.states.lock() {
            v.push(s);
        }
    }

    fn check_options(&self, o: &TranscribeOptions) -> Result<Option<String>> {
        let lang = o.language_hint().map(str::to_ascii_lowercase);
        if let Some(l) = &lang {
            if whisper_rs::get_lang_id(l).is_none() {
                return Err(Error::new(ErrorCode::UnsupportedLanguage, format!("unknown language code {l:?}")));
            }
            if !self.multilingual && l != "en" {
                return Err(Error::new(
                    ErrorCode::UnsupportedLanguage,
                    format!("model {} is English-only; it cannot transcribe {l:?}", self.model_name),
                ));
            }
        }
        if !self.multilingual && o.task == Task::Translate {
            return Err(Error::invalid_request(format!(
                "model {} is English-only; it cannot translate",
                self.model_name
            )));
        }
        Ok(lang)
    }

    /// The blocking part: VAD, the energy gate, windowing, decoding. Stops early, with the
    /// ticket's error, once the caller has gone.
    fn run(
        &self,
        audio: &Audio,
        o: &TranscribeOptions,
        language: Option<String>,
        ticket: &Ticket,
    ) -> Result<Transcript> {
        let samples = audio.samples();
        let duration = audio.duration_secs();
        let regions = if o.vad == Some(false) {
            vec![(0.0, duration)]
        } else {
            detect_speech(samples, &EndpointConfig::default(), 0.25)
        };
        // Windows with no speech in them are not decoded at all: nothing to hallucinate from.
        let windows: Vec<(f64, f64)> = group_regions(&regions, MAX_WINDOW_SECS)
            .into_iter()
            .filter(|(a, b)| match gate::judge(audio.slice_secs(*a, *b).samples()) {
                Some(reason) => {
                    self.rejections.count(reason);
                    tracing::debug!(start = a, end = b, reason = reason.as_str(), "window not decoded");
                    false
                }
                None => true,
            })
            .collect();
        let report = |t: f64| {
            if let Some(p) = &o.progress {
                (p.0)((t / duration.max(1e-9)).clamp(0.0, 1.0) as f32);
            }
        };
        let mut state = self.take_state()?;
        let decode = |state: &mut WhisperState, w: &Window| {
            decode::window(state, &self.ctx, w, o, language.as_deref(), self.threads, ticket, &self.rejections)
        };
        let decoded: Result<Vec<_>> = windows
            .into_iter()
            .map(|(start, end)| {
                report(start);
                let w = Window { audio: audio.slice_secs(start, end), offset: start };
                let mut d = decode(&mut state, &w)?;
                // Whisper may end a window early and skip the speech after (seen: the second
                // of two sentences, dropped whole). Speech regions reaching well past the last
                // segment are decoded again from there on their own, unless the window gave
                // nothing at all (noise, most likely: once is enough). Not for live windows
                // (`fit_context`): they hold one endpointed utterance, a second decode would
                // cost latency, and every extra decode of noise is a chance to hallucinate.
                let covered = d.iter().map(|x| x.segment.end).fold(f64::NEG_INFINITY, f64::max);
                let rest: Vec<(f64, f64)> = regions
                    .iter()
                    .filter(|(a, b)| *a >= start && *b <= end)
                    .map(|(a, b)| (a.max(covered), *b))
                    .filter(|(a, b)| b - a >= MIN_REDECODE_SECS)
                    .collect();
                if !d.is_empty() && !o.fit_context {
                    for (a, b) in rest {
                        let w = Window { audio: audio.slice_secs(a, b), offset: a };
                        d.extend(decode(&mut state, &w)?);
                    }
                }
                Ok(d)
            })
            .collect();
        // The state goes back to the pool whether or not a window failed or was aborted: each
        // decode starts from a clean slate (its caches are rewritten up to its own context,
        // and `decode::fitted_audio_ctx` keeps it from reading past that).
        self.put_state(state);
        let segments = decoded?.into_iter().flatten().collect();
        report(duration);
        Ok(decode::assemble(segments, duration, language, self.producer()))
    }
}

#[async_trait::async_trait]
impl SpeechToText for WhisperEngine {
    async fn transcribe(&self, audio: Audio, options: TranscribeOptions) -> Result<Transcript> {
        let language = self.inner.check_options(&options)?;
        let engine = Arc::clone(&self.inner);
        self.admission.run(None, move |ticket| engine.run(&audio, &options, language, ticket)).await
    }

    async fn languages(&self) -> Result<Vec<String>> {
        if !self.inner.multilingual {
            return Ok(vec!["en".into()]);
        }
        Ok((0..=whisper_rs::get_lang_max_id()).filter_map(|i| whisper_rs::get_lang_str(i).map(String::from)).collect())
    }

    async fn health(&self) -> Health {
        let mut details = std::collections::BTreeMap::new();
        details.insert("model".into(), self.inner.model_name.clone());
        details.insert("threads".into(), self.inner.threads.to_string());
        details.insert("available_slots".into(), self.admission.available().to_string());
        details.insert("decoder_states".into(), self.inner.states_created.load(Ordering::Relaxed).to_string());
        let a = self.admission.snapshot();
        details.insert("decodes_started".into(), a.started.to_string());
        details.insert("decodes_aborted".into(), (a.aborted + a.skipped).to_string());
        Health { healthy: true, status: "ready".into(), provider: ENGINE.into(), details }
    }

    async fn identify_language(&self, audio: Audio) -> Result<Option<Identified>> {
        if !self.inner.multilingual {
            return Ok(None);
        }
        let engine = Arc::clone(&self.inner);
        let identified = self
            .admission
            .run(None, move |ticket| {
                ticket.check()?;
                let mut slot = engine.identifier.lock().map_err(|_| Error::internal("identifier poisoned"))?;
                let state = match slot.as_mut() {
                    Some(s) => s,
                    None => slot.insert(decode::identification_state(&engine.ctx, engine.threads, ticket)?),
                };
                decode::identify(state, &audio, engine.threads)
            })
            .await?;
        Ok(Some(identified).filter(|i| !i.language.is_empty()))
    }

    async fn models(&self) -> Vec<SttModel> {
        vec![SttModel { id: self.inner.model_name.clone(), engine: ENGINE.into() }]
    }
}

#[cfg(test)]
mod tests {
    use super::model_name;

    #[test]
    fn a_files_precision_is_not_part_of_its_models_name() {
        for (stem, name) in [
            ("ggml-whisper-base-q8_0", "whisper-base"),
            ("ggml-whisper-base", "whisper-base"),
            ("ggml-base-q5_1", "base"),
            ("ggml-large-v3-turbo-q5_0", "large-v3-turbo"),
            ("ggml-small.en-q8_0", "small.en"),
            ("ggml-whisper-tiny.en", "whisper-tiny.en"),
            ("ggml-large-v3", "large-v3"),
            ("ggml-medium-q4_k", "medium"),
            ("my-model-quick", "my-model-quick"),
            ("q8_0", "q8_0"),
        ] {
            assert_eq!(model_name(stem), name, "{stem}");
        }
    }
}
