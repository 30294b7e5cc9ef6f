//! `Translator` over a local GGUF model.
use crate::{
    detect_language,
    model::{GenerateError, LoadError, Model},
};
use sokuji_core::{
    Error, ErrorCode, Health, Result, TranslateRequest, Translation, Translator, prompt,
    translate::{LANGUAGES, validate},
};
use std::{
    path::PathBuf,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

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
    /// The model holds its KV cache: one generation at a time.
    model: Arc<Mutex<Model>>,
    name: String,
    config: TranslatorConfig,
}

impl LlmTranslator {
    pub fn load(config: TranslatorConfig) -> Result<Self, LoadError> {
        let model = Model::load(&config.model_path)?;
        let name = model.name().to_string();
        tracing::info!(model = %name, path = %config.model_path.display(), "translation model loaded");
        Ok(Self { model: Arc::new(Mutex::new(model)), name, config })
    }
}

#[async_trait::async_trait]
impl Translator for LlmTranslator {
    async fn translate(&self, request: TranslateRequest) -> Result<Translation> {
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
            model: self.name.clone(),
            processing_ms: 0.0,
        };
        if source == request.target {
            out.text = request.text.trim().to_string();
            return Ok(out);
        }
        let deadline = started + self.config.timeout;
        let model = self.model.clone();
        let generation = tokio::task::spawn_blocking(move || {
            let chat = prompt::chat(&request, &source);
            let mut model = model.lock().map_err(|_| Error::new(ErrorCode::EngineFailed, "translation model poisoned"))?;
            let max_new = 3 * model.count_tokens(&request.text) + 32;
            model.generate(&chat, max_new, Some(deadline)).map_err(|e| match e {
                GenerateError::Deadline(_) => Error::new(ErrorCode::Timeout, format!("translation {e}")),
                GenerateError::TooLong(..) => Error::invalid_request(e.to_string()),
                GenerateError::Engine(m) => Error::new(ErrorCode::EngineFailed, m),
            })
        })
        .await
        .map_err(|e| Error::internal(format!("translation task failed: {e}")))??;
        out.text = prompt::clean(&generation.text, &out.original, &out.target);
        out.processing_ms = started.elapsed().as_secs_f64() * 1000.0;
        tracing::debug!(
            prompt_tokens = generation.prompt_tokens,
            generated = generation.generated_tokens,
            prompt_ms = generation.prompt_ms,
            generate_ms = generation.generate_ms,
            "translated"
        );
        Ok(out)
    }

    async fn languages(&self) -> Result<Vec<String>> {
        Ok(LANGUAGES.iter().map(|(c, _)| c.to_string()).collect())
    }

    async fn health(&self) -> Health {
        let healthy = !self.model.is_poisoned();
        Health {
            healthy,
            status: if healthy { "ok" } else { "model poisoned" }.into(),
            provider: "candle-gguf".into(),
            details: [("model".to_string(), self.name.clone())].into(),
        }
    }
}
