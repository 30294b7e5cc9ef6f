//! The one typed configuration: defaults, overridden by environment variables (documented in
//! the README and printed by `sokuji config show`). Only the binary reads the environment.
use serde::Serialize;
use std::{env, path::PathBuf};

#[derive(Clone, Debug, Serialize)]
pub struct Config {
    /// Converted models (`SOKUJI_MODEL_DIR`, default `~/.cache/sokuji/models`).
    pub model_dir: PathBuf,
    /// Embedded stores (`SOKUJI_DATA_DIR`, default `~/.local/share/sokuji`).
    pub data_dir: PathBuf,
    /// Speech-to-text model name from the catalog, or a path to a ggml file (`SOKUJI_STT_MODEL`).
    pub stt_model: String,
    /// Threads per decode (`SOKUJI_STT_THREADS`, default: all cores).
    pub stt_threads: usize,
    /// Decodes at once (`SOKUJI_STT_CONCURRENCY`, default 1: on few cores parallel decodes only
    /// slow each other down).
    pub stt_concurrency: usize,
    /// Largest accepted upload in bytes (`SOKUJI_MAX_UPLOAD_BYTES`, default 200 MB).
    pub max_upload_bytes: usize,
    /// Remote STT service; when set the gateway uses it instead of a local engine (`SOKUJI_STT_URL`).
    pub stt_url: Option<String>,
    /// Remote text-normalization service (`SOKUJI_TEXT_URL`).
    pub text_url: Option<String>,
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

fn home() -> PathBuf {
    var("HOME").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("."))
}

impl Config {
    pub fn from_env() -> anyhow::Result<Self> {
        let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
        let cache = var("XDG_CACHE_HOME").map(PathBuf::from).unwrap_or_else(|| home().join(".cache"));
        let data = var("XDG_DATA_HOME").map(PathBuf::from).unwrap_or_else(|| home().join(".local/share"));
        Ok(Self {
            model_dir: var("SOKUJI_MODEL_DIR").map(PathBuf::from).unwrap_or_else(|| cache.join("sokuji/models")),
            data_dir: var("SOKUJI_DATA_DIR").map(PathBuf::from).unwrap_or_else(|| data.join("sokuji")),
            stt_model: var("SOKUJI_STT_MODEL").unwrap_or_else(|| "whisper-base".into()),
            stt_threads: parse("SOKUJI_STT_THREADS", cores)?,
            stt_concurrency: parse("SOKUJI_STT_CONCURRENCY", 1)?,
            max_upload_bytes: parse("SOKUJI_MAX_UPLOAD_BYTES", 200 * 1024 * 1024)?,
            stt_url: var("SOKUJI_STT_URL"),
            text_url: var("SOKUJI_TEXT_URL"),
            python: var("SOKUJI_PYTHON").unwrap_or_else(|| "python3".into()),
        })
    }

    /// The ggml file of the configured STT model: a catalog name in the model dir, or a path.
    pub fn stt_model_path(&self) -> PathBuf {
        match sokuji_models::find(&self.stt_model) {
            Some(spec) => sokuji_models::model_path(&self.model_dir, spec),
            None => PathBuf::from(&self.stt_model),
        }
    }
}
