//! DeepL's `POST /v2/translate` (JSON body, `DeepL-Auth-Key` header), batches in one call.
use crate::http::{client, send_error, status_error};
use serde::Deserialize;
use serde_json::json;
use sokuji_core::{
    Error, ErrorCode, Health, Result, TranslateRequest, Translation, Translator,
    translate::{LANGUAGES, validate},
};
use std::time::{Duration, Instant};

const PROVIDER: &str = "DeepL";

pub struct DeeplTranslator {
    http: reqwest::Client,
    base: String,
    key: String,
}

#[derive(Deserialize)]
struct Response {
    translations: Vec<Item>,
}

#[derive(Deserialize)]
struct Item {
    #[serde(default)]
    detected_source_language: String,
    text: String,
}

/// DeepL's target codes: English and Portuguese need a variant; the rest are upper-cased.
fn target_code(lang: &str) -> String {
    match lang {
        "en" => "EN-US".into(),
        "pt" => "PT-BR".into(),
        "zh" => "ZH-HANS".into(),
        other => other.to_uppercase(),
    }
}

impl DeeplTranslator {
    /// `base` defaults to DeepL's free endpoint for ":fx" keys and the paid one otherwise.
    pub fn new(key: &str, base: Option<&str>, timeout: Duration) -> Result<Self> {
        let default = if key.ends_with(":fx") { "https://api-free.deepl.com" } else { "https://api.deepl.com" };
        let base = base.unwrap_or(default).trim_end_matches('/').to_string();
        Ok(Self { http: client(timeout)?, base, key: key.into() })
    }

    async fn call(&self, texts: Vec<String>, first: &TranslateRequest) -> Result<Vec<Item>> {
        let mut body = json!({ "text": texts, "target_lang": target_code(&first.target) });
        if first.source != "auto" {
            body["source_lang"] = first.source.to_uppercase().into();
        }
        if let Some(ctx) = &first.context {
            body["context"] = ctx.clone().into();
        }
        let res = self
            .http
            .post(format!("{}/v2/translate", self.base))
            .header("Authorization", format!("DeepL-Auth-Key {}", self.key))
            .json(&body)
            .send()
            .await
            .map_err(|e| send_error(PROVIDER, &e))?;
        let status = res.status();
        let text = res.text().await.map_err(|e| send_error(PROVIDER, &e))?;
        if status.as_u16() == 400 && text.contains("lang") {
            return Err(Error::new(ErrorCode::UnsupportedLanguage, format!("DeepL: {text}")));
        }
        if !status.is_success() {
            return Err(status_error(PROVIDER, status, &text));
        }
        let parsed: Response = serde_json::from_str(&text)
            .map_err(|e| Error::new(ErrorCode::EngineFailed, format!("DeepL sent an unreadable answer: {e}")))?;
        if parsed.translations.len() != texts.len() {
            return Err(Error::new(ErrorCode::EngineFailed, "DeepL returned a different number of texts"));
        }
        Ok(parsed.translations)
    }

    fn result(&self, req: TranslateRequest, item: Item, started: Instant) -> Translation {
        let detected = req.source == "auto";
        Translation {
            original: req.text,
            text: item.text,
            source: if detected { item.detected_source_language.to_lowercase() } else { req.source },
            target: req.target,
            source_detected: detected,
            engine: "deepl".into(),
            model: "deepl".into(),
            processing_ms: started.elapsed().as_secs_f64() * 1000.0,
        }
    }
}

#[async_trait::async_trait]
impl Translator for DeeplTranslator {
    async fn translate(&self, request: TranslateRequest) -> Result<Translation> {
        let started = Instant::now();
        validate(&request, 100_000)?;
        let item = self.call(vec![request.text.clone()], &request).await?.into_iter().next();
        let item = item.ok_or_else(|| Error::new(ErrorCode::EngineFailed, "DeepL returned no translation"))?;
        Ok(self.result(request, item, started))
    }

    /// One call for texts that share languages and context.
    async fn translate_batch(&self, requests: Vec<TranslateRequest>) -> Result<Vec<Translation>> {
        let started = Instant::now();
        let Some(first) = requests.first().cloned() else { return Ok(Vec::new()) };
        let same =
            |r: &TranslateRequest| r.source == first.source && r.target == first.target && r.context == first.context;
        if !requests.iter().all(same) {
            let mut out = Vec::with_capacity(requests.len());
            for r in requests {
                out.push(self.translate(r).await?);
            }
            return Ok(out);
        }
        for r in &requests {
            validate(r, 100_000)?;
        }
        let items = self.call(requests.iter().map(|r| r.text.clone()).collect(), &first).await?;
        Ok(requests.into_iter().zip(items).map(|(r, i)| self.result(r, i, started)).collect())
    }

    async fn languages(&self) -> Result<Vec<String>> {
        Ok(LANGUAGES.iter().map(|(c, _)| c.to_string()).collect())
    }

    async fn health(&self) -> Health {
        let res = self
            .http
            .get(format!("{}/v2/usage", self.base))
            .header("Authorization", format!("DeepL-Auth-Key {}", self.key))
            .send()
            .await;
        let (healthy, status) = match res {
            Ok(r) if r.status().is_success() => (true, "ok".to_string()),
            Ok(r) => (false, format!("answered {}", r.status())),
            Err(e) => (false, send_error(PROVIDER, &e).message),
        };
        Health { healthy, status, provider: "deepl".into(), details: [("url".to_string(), self.base.clone())].into() }
    }
}
