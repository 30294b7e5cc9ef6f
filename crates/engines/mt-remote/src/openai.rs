//! Any OpenAI-compatible `POST {base}/chat/completions` (vLLM, llama.cpp's server, Ollama,
//! OpenAI itself), prompted exactly like the local model.
use crate::http::{client, send_error, status_error};
use serde::Deserialize;
use serde_json::json;
use sokuji_core::{
    Error, ErrorCode, Health, Result, TranslateRequest, Translation, Translator,
    prompt::{chat, clean},
    translate::{LANGUAGES, validate},
};
use std::time::{Duration, Instant};

pub struct OpenAiChatTranslator {
    http: reqwest::Client,
    /// Base URL including the version path, e.g. `http://127.0.0.1:8000/v1`.
    base: String,
    model: String,
    api_key: Option<String>,
}

#[derive(Deserialize)]
struct ChatResponse {
    choices: Vec<Choice>,
}

#[derive(Deserialize)]
struct Choice {
    message: Message,
}

#[derive(Deserialize)]
struct Message {
    content: Option<String>,
}

const PROVIDER: &str = "OpenAI-compatible endpoint";

impl OpenAiChatTranslator {
    pub fn new(base: &str, model: &str, api_key: Option<String>, timeout: Duration) -> Result<Self> {
        Ok(Self { http: client(timeout)?, base: base.trim_end_matches('/').into(), model: model.into(), api_key })
    }
}

#[async_trait::async_trait]
impl Translator for OpenAiChatTranslator {
    async fn translate(&self, request: TranslateRequest) -> Result<Translation> {
        let started = Instant::now();
        validate(&request, 20_000)?;
        let detected = request.source == "auto";
        let source = if detected { "auto".to_string() } else { request.source.clone() };
        let c = chat(&request, &source);
        let body = json!({
            "model": self.model,
            "messages": [
                {"role": "system", "content": c.system},
                {"role": "user", "content": c.user},
            ],
            "temperature": 0,
            "stream": false,
        });
        let mut req = self.http.post(format!("{}/chat/completions", self.base)).json(&body);
        if let Some(key) = &self.api_key {
            req = req.bearer_auth(key);
        }
        let res = req.send().await.map_err(|e| send_error(PROVIDER, &e))?;
        let status = res.status();
        let text = res.text().await.map_err(|e| send_error(PROVIDER, &e))?;
        if !status.is_success() {
            return Err(status_error(PROVIDER, status, &text));
        }
        let parsed: ChatResponse = serde_json::from_str(&text)
            .map_err(|e| Error::new(ErrorCode::EngineFailed, format!("{PROVIDER} sent an unreadable answer: {e}")))?;
        let answer = parsed.choices.into_iter().next().and_then(|c| c.message.content).unwrap_or_default();
        Ok(Translation {
            text: clean(&answer, &request.text, &request.target),
            original: request.text,
            source,
            target: request.target,
            source_detected: false,
            engine: "openai".into(),
            model: self.model.clone(),
            processing_ms: started.elapsed().as_secs_f64() * 1000.0,
        })
    }

    async fn languages(&self) -> Result<Vec<String>> {
        Ok(LANGUAGES.iter().map(|(c, _)| c.to_string()).collect())
    }

    async fn health(&self) -> Health {
        let mut req = self.http.get(format!("{}/models", self.base));
        if let Some(key) = &self.api_key {
            req = req.bearer_auth(key);
        }
        let (healthy, status) = match req.send().await {
            Ok(r) if r.status().is_success() => (true, "ok".to_string()),
            Ok(r) => (false, format!("answered {}", r.status())),
            Err(e) => (false, send_error(PROVIDER, &e).message),
        };
        Health {
            healthy,
            status,
            provider: "openai-chat".into(),
            details: [("url".to_string(), self.base.clone()), ("model".to_string(), self.model.clone())].into(),
        }
    }
}
