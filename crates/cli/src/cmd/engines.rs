//! Builds the engines the configuration asks for: local when linked and not pointed elsewhere,
//! a gRPC client when a service URL is set.
use crate::config::Config;
use sokuji_core::{SpeechToText, TextNormalizer};
use std::sync::Arc;

/// The speech-to-text engine. Must be called inside the Tokio runtime (clients spawn tasks).
pub fn stt(cfg: &Config) -> anyhow::Result<Arc<dyn SpeechToText>> {
    if let Some(url) = &cfg.stt_url {
        tracing::info!(%url, "using remote speech-to-text service");
        return Ok(Arc::new(sokuji_services::RemoteStt::connect_lazy(url)?));
    }
    local_stt(cfg)
}

#[cfg(feature = "stt-whisper")]
pub fn local_stt(cfg: &Config) -> anyhow::Result<Arc<dyn SpeechToText>> {
    let engine = sokuji_whisper::WhisperEngine::load(&sokuji_whisper::WhisperConfig {
        model_path: cfg.stt_model_path(),
        threads: cfg.stt_threads,
        max_concurrent: cfg.stt_concurrency,
    })?;
    Ok(Arc::new(engine))
}

#[cfg(not(feature = "stt-whisper"))]
pub fn local_stt(_cfg: &Config) -> anyhow::Result<Arc<dyn SpeechToText>> {
    anyhow::bail!("this build links no speech-to-text engine (feature stt-whisper); set SOKUJI_STT_URL")
}

/// The text normalizer: remote when `SOKUJI_TEXT_URL` is set, else the pure local one.
pub fn text(cfg: &Config) -> anyhow::Result<Arc<dyn TextNormalizer>> {
    if let Some(url) = &cfg.text_url {
        tracing::info!(%url, "using remote text service");
        return Ok(Arc::new(sokuji_services::RemoteText::connect_lazy(url)?));
    }
    Ok(Arc::new(sokuji_services::VietnameseNormalizer))
}
