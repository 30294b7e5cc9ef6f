//! `Translator` over a local GGUF model.
use crate::model::{GenerateError, Generation, LoadError, Model};
use sokuji_admission::{Admission, Ticket};
use sokuji_core::{
    Error, ErrorCode, Health, Partial, Result, TranslateRequest, Translation, Translator, prompt,
    translate::{LANGUAGES, detect_language, validate, validate_languages},
};
use std::{
    path::PathBuf,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

/// The engine name results and health carry.
pub const PROVIDER: &str = "candle-gguf";

#[derive(Clone, Debug)]
pub struct TranslatorConfig {
    pub model_path: PathBuf,
    /// Longest text one request may carry, in characters.
    pub max_chars: usize,
    /// Per request, queueing for the model included.
    pub timeout: Duration,
}

impl TranslatorConfig {
    pub fn new(model_path: PathBuf) -> Self {
        Self { model_path, max_chars: 2000, timeout: Duration::from_secs(60) }
    }
}

pub struct LlmTranslator {
    /// The model holds its KV cache: one generation at a time (the admission pool has one
    /// slot; the lock is never contended, it only hands out `&mut`).
    model: Arc<Mutex<Model>>,
    admission: Admission,
    name: String,
    config: TranslatorConfig,
    /// Generations stopped before their end because their caller went away or ran out of time.
    stopped: Arc<AtomicU64>,
    /// Translations waiting for the model: a read ahead (`prepare`) gives way to them.
    waiting: Arc<AtomicUsize>,
}

/// Counts a translation as waiting for the model until it starts or is given up.
struct Waiting(Arc<AtomicUsize>);

impl Waiting {
    fn new(count: &Arc<AtomicUsize>) -> Self {
        count.fetch_add(1, Ordering::Relaxed);
        Self(count.clone())
    }
}

impl Drop for Waiting {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

impl LlmTranslator {
    pub fn load(config: TranslatorConfig) -> Result<Self, LoadError> {
        let mut model = Model::load(&config.model_path)?;
        let name = model.name().to_string();
        // The first forward pass costs several times a normal one (weights paged in, thread
        // pool started): pay it here, not in the first user's request.
        let warm =
            TranslateRequest { text: "Hello.".into(), source: "en".into(), target: "vi".into(), ..Default::default() };
        let _ = model.generate(&prompt::chat(&warm, "en"), 1, &Ticket::unbounded(), &mut |_| false);
        tracing::info!(model = %name, path = %config.model_path.display(), "translation model loaded");
        Ok(Self {
            model: Arc::new(Mutex::new(model)),
            admission: Admission::new("translation", 1),
            name,
            config,
            stopped: Arc::default(),
            waiting: Arc::default(),
        })
    }
}

#[async_trait::async_trait]
impl Translator for LlmTranslator {
    async fn translate(&self, request: TranslateRequest) -> Result<Translation> {
        self.translate_partial(request, std::sync::Arc::new(|_: &str| {})).await
    }

    async fn translate_partial(&self, request: TranslateRequest, partial: Partial) -> Result<Translation> {
        let started = Instant::now();
        validate(&request, self.config.max_chars)?;
        let detected = request.source == "auto";
        let source = if detected { detect_language(&request.text).to_string() } else { request.source.clone() };
        let mut out = Translation {
            original: request.text.clone(),
            text: String::new(),
            source: source.clone(),
            target: request.target.clone(),
            source_detected: detected,
            engine: PROVIDER.into(),
            model: self.name.clone(),
            processing_ms: 0.0,
        };
        if source == request.target {
            out.text = request.text.trim().to_string();
            return Ok(out);
        }
        // Queueing for the model counts against the request's time; a request whose caller has
        // gone stops at its next token and frees the model for the next one.
        let deadline = started + self.config.timeout;
        let (model, stopped) = (self.model.clone(), self.stopped.clone());
        let waiting = Waiting::new(&self.waiting);
        let generation = self
            .admission
            .run(Some(deadline), move |ticket| {
                drop(waiting);
                let mut model =
                    model.lock().map_err(|_| Error::new(ErrorCode::EngineFailed, "translation model poisoned"))?;
                let mut on_text = |raw: &str| {
                    let text = prompt::partial_answer(raw, &request.text, &request.target);
                    if !text.is_empty() {
                        partial(&text);
                    }
                };
                translate_with(&mut model, &request, &source, ticket, &mut on_text).map_err(|e| match e {
                    GenerateError::Stopped(err, n) => {
                        stopped.fetch_add(1, Ordering::Relaxed);
                        Error::new(err.code, format!("translation: {} after {n} tokens", err.message))
                    }
                    GenerateError::TooLong(..) => Error::invalid_request(e.to_string()),
                    GenerateError::Engine(m) => Error::new(ErrorCode::EngineFailed, m),
                })
            })
            .await?;
        out.text = generation.text.clone();
        out.processing_ms = started.elapsed().as_secs_f64() * 1000.0;
        tracing::debug!(
            prompt_tokens = generation.prompt_tokens,
            cached_tokens = generation.cached_tokens,
            generated = generation.generated_tokens,
            drafted = generation.drafted_tokens,
            prompt_ms = generation.prompt_ms,
            generate_ms = generation.generate_ms,
            retried = generation.retried,
            "translated"
        );
        Ok(out)
    }

    /// Reads the request's chat up to its text (`prompt::chat_ahead`) into the model's kept
    /// states, once the model is free; stops between layers as soon as a translation waits for
    /// the model, keeping what it read. "auto" names no source yet: nothing is read for it.
    async fn prepare(&self, request: TranslateRequest) -> Result<()> {
        validate_languages(&request)?;
        if request.source == "auto" || request.source == request.target {
            return Ok(());
        }
        let chat = prompt::chat_ahead(&request, &request.source);
        let (model, waiting) = (self.model.clone(), self.waiting.clone());
        let started = Instant::now();
        let (read, whole) = self
            .admission
            .run(Some(started + self.config.timeout), move |ticket| {
                let mut model =
                    model.lock().map_err(|_| Error::new(ErrorCode::EngineFailed, "translation model poisoned"))?;
                let stop = || ticket.is_cancelled() || waiting.load(Ordering::Relaxed) > 0;
                model.read_ahead(&chat, &stop).map_err(|e| match e {
                    GenerateError::TooLong(..) => Error::invalid_request(format!("prepare: {e}")),
                    other => Error::new(ErrorCode::EngineFailed, other.to_string()),
                })
            })
            .await?;
        tracing::debug!(read, whole, ms = started.elapsed().as_secs_f64() * 1000.0, "read ahead");
        Ok(())
    }

    async fn languages(&self) -> Result<Vec<String>> {
        Ok(LANGUAGES.iter().map(|(c, _)| c.to_string()).collect())
    }

    async fn health(&self) -> Health {
        let healthy = !self.model.is_poisoned();
        Health {
            healthy,
            status: if healthy { "ok" } else { "model poisoned" }.into(),
            provider: PROVIDER.into(),
            details: [
                ("model".to_string(), self.name.clone()),
                ("stopped_early".to_string(), self.stopped.load(Ordering::Relaxed).to_string()),
            ]
            .into(),
        }
    }
}

/// One translation on a loaded model: the plain prompt, and when its answer is not in the target
/// language (an order in the text was obeyed, typically), once more with a worked example of an
/// order being translated. `text` is cleaned; `on_text` sees the raw answer as it is written (the
/// second attempt's too).
pub fn translate_with(
    model: &mut Model,
    request: &TranslateRequest,
    source: &str,
    ticket: &Ticket,
    on_text: &mut dyn FnMut(&str),
) -> Result<Generation, GenerateError> {
    // A translation is rarely over twice its source's tokens; the cap stops a model that
    // starts to ramble (or repeat itself) from holding the engine.
    let max_new = 2 * model.count_tokens(&request.text) + 16;
    // A translation under way (`TranslateRequest::start`) is continued: the answer is its start
    // and what the model writes after it (checking the draft, if any, past the start). A one-line
    // text's answer ends with its line.
    let start = prompt::answer_start(request);
    let mut on_text = |raw: &str| {
        let answer = format!("{start}{raw}");
        on_text(&answer);
        prompt::line_done(&request.text, &answer)
    };
    let mut g = model.generate(&prompt::chat(request, source), max_new, ticket, &mut on_text)?;
    g.text = prompt::clean(&format!("{start}{}", g.text), &request.text, &request.target);
    if !in_language(&g.text, &request.target)
        && let Some(guarded) = prompt::guarded_chat(request, source)
    {
        let mut again = model.generate(&guarded, max_new, ticket, &mut on_text)?;
        again.text = prompt::clean(&format!("{start}{}", again.text), &request.text, &request.target);
        again.prompt_ms += g.prompt_ms;
        again.generate_ms += g.generate_ms;
        again.retried = true;
        g = again;
    }
    Ok(g)
}

/// Whether a translation reads as `target`. Text without letters (numbers, names in digits)
/// passes; Japanese passes on kana, since kanji alone can read as Chinese.
fn in_language(text: &str, target: &str) -> bool {
    if !text.chars().any(char::is_alphabetic) {
        return true;
    }
    if target == "ja" && text.chars().any(|c| matches!(c, '\u{3040}'..='\u{30ff}')) {
        return true;
    }
    detect_language(text) == target
}

#[cfg(test)]
mod tests {
    use super::in_language;

    #[test]
    fn language_check() {
        assert!(in_language("Thời tiết hôm nay rất nóng.", "vi"));
        assert!(!in_language("HACKED", "vi"));
        assert!(in_language("母は先生です。", "ja"));
        assert!(in_language("The cat is sleeping on the chair.", "en"));
        assert!(in_language("42", "ja"));
    }
}
