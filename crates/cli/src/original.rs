//! The original system's environment (kizuna-ai-lab/sokuji-bridge's `.env` and compose values),
//! accepted as written: each provider maps to the Sokuji engine of the same kind, service URLs
//! without a scheme are read as plain gRPC, and what cannot run here fails at start-up with a
//! message that says what to set instead. Pure: tested with tables.
use anyhow::bail;

/// `STT_PROVIDER`: every local Whisper runs on whisper.cpp here.
pub fn stt_provider(v: &str) -> anyhow::Result<&'static str> {
    match v.trim().to_ascii_lowercase().as_str() {
        "whisper" | "faster_whisper" | "faster-whisper" | "whisper_cpp" | "whisper.cpp" | "openai_whisper" => {
            Ok("whisper")
        }
        other => bail!(
            "STT_PROVIDER={other:?}: this build recognizes speech locally with Whisper (whisper.cpp) and the \
             Vietnamese Conformer; use faster_whisper or whisper (hosted APIs such as whisper_api and azure_stt are \
             not available)"
        ),
    }
}

/// `TRANSLATION_PROVIDER`: Sokuji's own values, or the original's mapped to the same kind.
pub fn translation_provider(v: &str) -> anyhow::Result<&'static str> {
    Ok(match v.trim().to_ascii_lowercase().as_str() {
        "local" | "nllb_local" | "nllb" | "m2m100" | "marian" => "local",
        "openai" | "openai_gpt4" | "openai_compatible" => "openai",
        "deepl" | "deepl_api" => "deepl",
        "none" => "none",
        other => bail!(
            "TRANSLATION_PROVIDER={other:?}: use local (nllb_local), openai (openai_gpt4, any OpenAI-compatible \
             endpoint), deepl (deepl_api) or none"
        ),
    })
}

/// `TTS_PROVIDER`: local neural voices are Piper's here.
pub fn tts_provider(v: &str) -> anyhow::Result<&'static str> {
    Ok(match v.trim().to_ascii_lowercase().as_str() {
        "local" | "piper" => "local",
        "espeak" | "espeak_ng" | "espeak-ng" => "espeak",
        "none" => "none",
        other => bail!(
            "TTS_PROVIDER={other:?}: use local (piper: Piper voices, eSpeak NG for the other languages), espeak or \
             none (xtts, kokoro and hosted voices such as elevenlabs are not available)"
        ),
    })
}

/// `DEVICE`: a GPU is asked for but this build computes on the CPU; the warning to give, if any.
pub fn device(v: &str) -> anyhow::Result<Option<String>> {
    match v.trim().to_ascii_lowercase().as_str() {
        "cpu" | "auto" => Ok(None),
        "cuda" | "gpu" | "mps" => Ok(Some(format!(
            "DEVICE={v}: this build has no GPU engine; running on the CPU (expect CPU speeds: bench/README.md)"
        ))),
        other => bail!("DEVICE={other:?}: use cpu (or cuda, which runs on the CPU in this build)"),
    }
}

/// `STT_SERVICE_URL` and friends: `host:port` (the original's form) or a URL.
pub fn service_url(v: &str) -> String {
    let v = v.trim();
    if v.contains("://") { v.to_string() } else { format!("http://{v}") }
}

/// `LOG_LEVEL` (Python's names) as a tracing filter.
pub fn log_filter(v: &str) -> Option<&'static str> {
    Some(match v.trim().to_ascii_uppercase().as_str() {
        "TRACE" => "trace",
        "DEBUG" => "debug,whisper_rs=warn",
        "INFO" => "info,whisper_rs=warn",
        "WARNING" | "WARN" => "warn",
        "ERROR" | "CRITICAL" | "FATAL" => "error",
        _ => return None,
    })
}

/// `PORT`: the port to listen on, on every interface as the original's containers do.
pub fn listen_on_port(v: &str) -> anyhow::Result<String> {
    match v.trim().parse::<u16>() {
        Ok(p) if p > 0 => Ok(format!("0.0.0.0:{p}")),
        _ => bail!("PORT={v:?} is not a port number"),
    }
}

/// `MODEL_SIZE` (the STT service's Whisper size) as a catalog model, or what is available.
pub fn whisper_size(size: &str, catalog: &[&str]) -> anyhow::Result<String> {
    let size = size.trim().to_ascii_lowercase();
    let name = format!("whisper-{size}");
    if catalog.contains(&name.as_str()) {
        return Ok(name);
    }
    let have: Vec<&str> = catalog.iter().copied().filter(|n| n.starts_with("whisper-")).collect();
    bail!(
        "MODEL_SIZE={size}: no Whisper {size} in the model catalog (it has {}); set MODEL_SIZE to one of those, or \
         point SOKUJI_STT_MODEL at a whisper.cpp ggml file (e.g. /models/ggml-{size}.bin)",
        have.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_originals_providers_map_to_engines_of_the_same_kind() {
        for (v, want) in [("faster_whisper", Some("whisper")), ("whisper", Some("whisper")), ("whisper_api", None)] {
            assert_eq!(stt_provider(v).ok(), want, "{v}");
        }
        for (v, want) in [
            ("nllb_local", Some("local")),
            ("local", Some("local")),
            ("deepl_api", Some("deepl")),
            ("openai_gpt4", Some("openai")),
            ("none", Some("none")),
            ("google_translate", None),
        ] {
            assert_eq!(translation_provider(v).ok(), want, "{v}");
        }
        for (v, want) in [("piper", Some("local")), ("espeak", Some("espeak")), ("elevenlabs", None)] {
            assert_eq!(tts_provider(v).ok(), want, "{v}");
        }
        let e = stt_provider("azure_stt").expect_err("hosted");
        assert!(e.to_string().contains("faster_whisper"), "the message says what to use: {e}");
    }

    #[test]
    fn devices_urls_levels_and_ports() {
        assert_eq!(device("cpu").expect("cpu"), None);
        assert!(device("cuda").expect("runs on the CPU").is_some_and(|w| w.contains("CPU")));
        assert!(device("tpu").is_err());
        assert_eq!(service_url("stt-service:50051"), "http://stt-service:50051");
        assert_eq!(service_url("https://stt.example:443"), "https://stt.example:443");
        assert_eq!(log_filter("INFO"), Some("info,whisper_rs=warn"));
        assert_eq!(log_filter("warning"), Some("warn"));
        assert_eq!(log_filter("loud"), None);
        assert_eq!(listen_on_port("50053").expect("port"), "0.0.0.0:50053");
        assert!(listen_on_port("http").is_err());
    }

    #[test]
    fn model_sizes_pick_a_catalog_model_or_list_them() {
        let catalog = ["whisper-base", "whisper-tiny.en", "qwen2.5-1.5b"];
        assert_eq!(whisper_size("base", &catalog).expect("base"), "whisper-base");
        let e = whisper_size("medium", &catalog).expect_err("not here").to_string();
        assert!(e.contains("whisper-base, whisper-tiny.en") && e.contains("SOKUJI_STT_MODEL"), "{e}");
    }
}
