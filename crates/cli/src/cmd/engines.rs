//! Builds the engines the configuration asks for: local when linked and not pointed elsewhere,
//! a gRPC client when a service URL is set.
use crate::config::Config;
use sokuji_core::{Embedder, SpeechToText, Synthesizer, TextNormalizer, Translator, guard::Rejections};
use sokuji_mt_remote::{DeeplTranslator, OpenAiChatTranslator};
use std::{sync::Arc, time::Duration};

/// The speech-to-text engine; a local one counts what it refuses as non-speech in
/// `rejections`. Must be called inside the Tokio runtime (clients spawn tasks).
pub async fn stt(cfg: &Config, rejections: &Arc<Rejections>) -> anyhow::Result<Arc<dyn SpeechToText>> {
    if let Some(url) = &cfg.stt_url {
        tracing::info!(%url, "using remote speech-to-text service");
        return Ok(Arc::new(sokuji_services::RemoteStt::connect_lazy(url, Duration::from_secs(600))?));
    }
    let [stt, _] = local_stt(cfg, rejections).await?;
    Ok(stt)
}

/// The speech-to-text engine and, for the archive's workers, a second lane on the same loaded
/// models: an admission of its own, so an hour-long recording never holds the live sessions'
/// turn (they still share the CPU), with the weights in memory once.
pub async fn stt_and_archive_lane(
    cfg: &Config,
    rejections: &Arc<Rejections>,
) -> anyhow::Result<[Arc<dyn SpeechToText>; 2]> {
    if cfg.stt_url.is_some() {
        let stt = stt(cfg, rejections).await?;
        return Ok([stt.clone(), stt]);
    }
    local_stt(cfg, rejections).await
}

/// Whisper for every language, Vietnamese routed to the Conformer unless `SOKUJI_STT_VI=whisper`
/// or its model is not there (then Whisper reads Vietnamese too, and the log says how to fix it:
/// an English-only user needs no Vietnamese model). Two lanes: see [`stt_and_archive_lane`].
pub async fn local_stt(cfg: &Config, rejections: &Arc<Rejections>) -> anyhow::Result<[Arc<dyn SpeechToText>; 2]> {
    let [general, general_archive] = whisper(cfg, rejections)?;
    let (mut routes, mut archive_routes) = (Vec::new(), Vec::new());
    if cfg.stt_vi == crate::config::SttVi::Conformer {
        let (model, vocab) = cfg.stt_vi_paths();
        if model.is_file() && vocab.is_file() {
            let [vi, vi_archive] = vietnamese(cfg, rejections)?;
            routes.push(("vi".to_string(), vi));
            archive_routes.push(("vi".to_string(), vi_archive));
        } else {
            tracing::warn!(
                "no Vietnamese Conformer at {}: Whisper transcribes Vietnamese (`sokuji models fetch vi-conformer onnxruntime` fetches it; SOKUJI_STT_VI=whisper says this is meant)",
                model.display()
            );
        }
    }
    Ok([
        Arc::new(sokuji_services::SttRouter::new(general, routes).await),
        Arc::new(sokuji_services::SttRouter::new(general_archive, archive_routes).await),
    ])
}

#[cfg(feature = "stt-whisper")]
fn whisper(cfg: &Config, rejections: &Arc<Rejections>) -> anyhow::Result<[Arc<dyn SpeechToText>; 2]> {
    let engine = sokuji_whisper::WhisperEngine::load(&sokuji_whisper::WhisperConfig {
        model_path: cfg.stt_model_path(),
        threads: cfg.stt_threads,
        max_concurrent: cfg.stt_concurrency,
        rejections: rejections.clone(),
    })?;
    let archive = engine.lane("whisper-archive", cfg.stt_concurrency);
    Ok([Arc::new(engine), Arc::new(archive)])
}

#[cfg(not(feature = "stt-whisper"))]
fn whisper(_cfg: &Config, _rejections: &Arc<Rejections>) -> anyhow::Result<[Arc<dyn SpeechToText>; 2]> {
    anyhow::bail!("this build links no speech-to-text engine (feature stt-whisper); set SOKUJI_STT_URL")
}

#[cfg(feature = "stt-conformer")]
fn vietnamese(cfg: &Config, rejections: &Arc<Rejections>) -> anyhow::Result<[Arc<dyn SpeechToText>; 2]> {
    let (model_path, vocab_path) = cfg.stt_vi_paths();
    let engine = sokuji_conformer::ConformerEngine::load(&sokuji_conformer::ConformerConfig {
        model_path,
        vocab_path,
        runtime_lib: cfg.onnxruntime.clone(),
        threads: cfg.stt_threads,
        spin: cfg.onnx_spin,
        max_concurrent: cfg.stt_concurrency,
        rejections: rejections.clone(),
    })
    .map_err(|e| anyhow::anyhow!("{e} (or set SOKUJI_STT_VI=whisper)"))?;
    let archive = engine.lane("conformer-archive", cfg.stt_concurrency);
    Ok([Arc::new(engine), Arc::new(archive)])
}

#[cfg(not(feature = "stt-conformer"))]
fn vietnamese(_cfg: &Config, _rejections: &Arc<Rejections>) -> anyhow::Result<[Arc<dyn SpeechToText>; 2]> {
    anyhow::bail!("this build links no Vietnamese Conformer (feature stt-conformer); set SOKUJI_STT_VI=whisper")
}

/// The text normalizer: remote when `SOKUJI_TEXT_URL` is set, else the pure local one.
pub fn text(cfg: &Config) -> anyhow::Result<Arc<dyn TextNormalizer>> {
    if let Some(url) = &cfg.text_url {
        tracing::info!(%url, "using remote text service");
        return Ok(Arc::new(sokuji_services::RemoteText::connect_lazy(url, Duration::from_secs(30))?));
    }
    Ok(Arc::new(sokuji_services::VietnameseNormalizer))
}

/// The translator the configuration asks for; `None` when translation is switched off.
pub fn translator(cfg: &Config) -> anyhow::Result<Option<Arc<dyn Translator>>> {
    let timeout = Duration::from_secs(cfg.translation_timeout_secs);
    if let Some(url) = &cfg.translation_url {
        tracing::info!(%url, "using remote translation service");
        return Ok(Some(Arc::new(sokuji_services::RemoteTranslator::connect_lazy(url, timeout)?)));
    }
    Ok(match cfg.translation_provider.as_str() {
        "none" => None,
        "local" => Some(Arc::new(sokuji_services::TranslationRouter::new(
            dedicated_translator(cfg, timeout)?,
            Some(local_translator(cfg, timeout)?),
        ))),
        "openai" => {
            let base = cfg.openai_base_url.as_deref().ok_or_else(|| {
                anyhow::anyhow!(
                    "TRANSLATION_PROVIDER=openai needs SOKUJI_OPENAI_BASE_URL (e.g. http://127.0.0.1:8080/v1)"
                )
            })?;
            Some(Arc::new(OpenAiChatTranslator::new(base, &cfg.openai_model, cfg.openai_api_key.clone(), timeout)?))
        }
        "deepl" => {
            let key = cfg
                .deepl_api_key
                .as_deref()
                .ok_or_else(|| anyhow::anyhow!("TRANSLATION_PROVIDER=deepl needs DEEPL_API_KEY"))?;
            Some(Arc::new(DeeplTranslator::new(key, cfg.deepl_url.as_deref(), timeout)?))
        }
        other => anyhow::bail!("TRANSLATION_PROVIDER={other:?}: use local, openai, deepl or none"),
    })
}

/// The dedicated models installed under `<model dir>/marian/`; `None` when there are none.
#[cfg(feature = "mt-marian")]
fn dedicated_translator(cfg: &Config, timeout: Duration) -> anyhow::Result<Option<Arc<dyn Translator>>> {
    let files = sokuji_marian::installed(&cfg.model_dir);
    if files.is_empty() {
        return Ok(None);
    }
    let ids: Vec<String> = files.iter().map(|f| f.pair.id()).collect();
    let marian = sokuji_marian::MarianTranslator::load(files, timeout).map_err(|e| anyhow::anyhow!(e))?;
    tracing::info!(pairs = %ids.join(", "), "dedicated translation models loaded");
    Ok(Some(Arc::new(marian)))
}

#[cfg(not(feature = "mt-marian"))]
fn dedicated_translator(_cfg: &Config, _timeout: Duration) -> anyhow::Result<Option<Arc<dyn Translator>>> {
    Ok(None)
}

#[cfg(feature = "mt-candle")]
fn local_translator(cfg: &Config, timeout: Duration) -> anyhow::Result<Arc<dyn Translator>> {
    let path = cfg.translation_model_path();
    if !path.is_file() {
        anyhow::bail!(
            "translation model {} is missing: run `sokuji models fetch {}` (or set TRANSLATION_PROVIDER)",
            path.display(),
            cfg.translation_model
        );
    }
    let config = sokuji_llm::TranslatorConfig { timeout, ..sokuji_llm::TranslatorConfig::new(path) };
    let lazy = sokuji_live::LazyTranslator::new("candle-gguf", move || {
        sokuji_llm::LlmTranslator::load(config.clone())
            .map(|t| Arc::new(t) as Arc<dyn Translator>)
            .map_err(|e| sokuji_core::Error::new(sokuji_core::ErrorCode::ModelNotFound, e.to_string()))
    });
    lazy.preload();
    Ok(Arc::new(lazy))
}

#[cfg(not(feature = "mt-candle"))]
fn local_translator(_cfg: &Config, _timeout: Duration) -> anyhow::Result<Arc<dyn Translator>> {
    anyhow::bail!(
        "this build links no local translation engine (feature mt-candle); set TRANSLATION_PROVIDER or SOKUJI_TRANSLATION_URL"
    )
}

/// The synthesizer the configuration asks for; `None` when speech output is switched off.
pub async fn tts(cfg: &Config) -> anyhow::Result<Option<Arc<dyn Synthesizer>>> {
    if let Some(url) = &cfg.tts_url {
        tracing::info!(%url, "using remote TTS service");
        return Ok(Some(Arc::new(sokuji_services::RemoteTts::connect_lazy(url, Duration::from_secs(120))?)));
    }
    match cfg.tts_provider.as_str() {
        "none" => Ok(None),
        "local" | "espeak" => Ok(Some(Arc::new(local_voices(cfg, cfg.tts_provider == "local").await?))),
        other => anyhow::bail!("TTS_PROVIDER={other:?}: use local, espeak or none"),
    }
}

/// Piper voices first (they win the defaults for their languages), then eSpeak NG's.
#[cfg(feature = "tts-local")]
async fn local_voices(cfg: &Config, piper: bool) -> anyhow::Result<sokuji_live::VoiceSet> {
    let mut engines: Vec<Arc<dyn Synthesizer>> = Vec::new();
    // The configured voices, then every voice downloaded from Piper's hub (`models fetch piper-…`),
    // which thereby becomes its language's default.
    let mut paths: Vec<(String, std::path::PathBuf)> =
        cfg.piper_voices.iter().map(|n| (n.clone(), crate::config::catalog_path(&cfg.model_dir, n))).collect();
    let hub = sokuji_models::hub::piper::installed(&cfg.model_dir);
    paths.extend(hub.into_iter().map(|p| (p.display().to_string(), p)));
    if piper && !paths.is_empty() {
        let mut voices = Vec::new();
        for (name, path) in &paths {
            match sokuji_piper::PiperVoice::load(path, &cfg.onnxruntime, cfg.tts_threads, cfg.onnx_spin) {
                Ok(v) => voices.push(v),
                // eSpeak NG still speaks every language: start, say what is missing and how to fix it.
                Err(e) => tracing::warn!("Piper voice {name} not loaded ({e}); run `sokuji models fetch`"),
            }
        }
        if !voices.is_empty() {
            engines.push(Arc::new(sokuji_piper::PiperSynthesizer::new(voices)));
        }
    }
    engines.push(Arc::new(sokuji_espeak::EspeakSynthesizer::new()?));
    Ok(sokuji_live::VoiceSet::new(engines).await?)
}

#[cfg(not(feature = "tts-local"))]
async fn local_voices(_cfg: &Config, _piper: bool) -> anyhow::Result<sokuji_live::VoiceSet> {
    anyhow::bail!("this build links no local voices (feature tts-local); set SOKUJI_TTS_URL")
}

/// The text embedder; `None` when `SOKUJI_EMBEDDING_MODEL=none`.
pub async fn embedder(cfg: &Config) -> anyhow::Result<Option<Arc<dyn Embedder>>> {
    if let Some(url) = &cfg.embedding_url {
        tracing::info!(%url, "using remote embedding service");
        let remote = sokuji_services::RemoteEmbedder::connect(url, Duration::from_secs(60)).await?;
        return Ok(Some(Arc::new(remote)));
    }
    match cfg.embedding_model.as_str() {
        "none" => Ok(None),
        _ => local_embedder(cfg).map(Some),
    }
}

#[cfg(feature = "embed-e5")]
pub fn local_embedder(cfg: &Config) -> anyhow::Result<Arc<dyn Embedder>> {
    let path = crate::config::catalog_path(&cfg.model_dir, &cfg.embedding_model);
    Ok(Arc::new(sokuji_embed::E5Embedder::load(&path, &cfg.embedding_model)?))
}

#[cfg(not(feature = "embed-e5"))]
pub fn local_embedder(_cfg: &Config) -> anyhow::Result<Arc<dyn Embedder>> {
    anyhow::bail!("this build links no embedding engine (feature embed-e5); set SOKUJI_EMBEDDING_URL")
}
