//! `sokuji speak` and `sokuji voices`.
use crate::{cmd::engines, config::Config};
use sokuji_audio::{OutputFormat, encode};
use sokuji_core::SynthesizeRequest;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// Voice id (`sokuji voices`); default: the default voice for --language.
    #[arg(long, default_value = "default")]
    voice: String,
    /// Language whose default voice speaks (ISO 639-1).
    #[arg(long)]
    language: Option<String>,
    /// Rate multiplier (0.25..4).
    #[arg(long)]
    speed: Option<f32>,
    /// Output file; its extension picks the format (wav, flac, pcm).
    #[arg(short, long, default_value = "speech.wav")]
    output: PathBuf,
    /// Text to say; stdin when absent.
    text: Vec<String>,
}

pub fn run(cfg: Config, args: Args) -> anyhow::Result<()> {
    let text = if args.text.is_empty() { std::io::read_to_string(std::io::stdin())? } else { args.text.join(" ") };
    let format = OutputFormat::parse(args.output.extension().and_then(|e| e.to_str()).unwrap_or("wav"))?;
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    rt.block_on(async move {
        let tts = engines::tts(&cfg).await?.ok_or_else(|| anyhow::anyhow!("TTS_PROVIDER=none"))?;
        let req =
            SynthesizeRequest { text, voice: args.voice, language: args.language, speed: args.speed, pitch: None };
        let speech = tts.synthesize(req).await?;
        std::fs::write(&args.output, encode(&speech.samples, speech.sample_rate, format)?)
            .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", args.output.display()))?;
        eprintln!(
            "{}: {:.1} s of speech by {} at {} Hz",
            args.output.display(),
            speech.duration_ms() / 1000.0,
            speech.voice,
            speech.sample_rate
        );
        Ok(())
    })
}

#[derive(clap::Args)]
pub struct VoicesArgs {
    /// Only voices that speak this language (prefix match: "vi" matches "vi-vn-x-south").
    #[arg(long)]
    language: Option<String>,
    /// JSON instead of a table.
    #[arg(long)]
    json: bool,
}

pub fn voices(cfg: Config, args: VoicesArgs) -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    rt.block_on(async move {
        let tts = engines::tts(&cfg).await?.ok_or_else(|| anyhow::anyhow!("TTS_PROVIDER=none"))?;
        let mut voices = tts.voices().await?;
        if let Some(l) = &args.language {
            voices.retain(|v| v.languages.iter().any(|x| x.starts_with(l.as_str())));
        }
        let default_for = |v: &sokuji_core::Voice| v.metadata.get(sokuji_live::voices::DEFAULT_FOR).cloned();
        if args.json {
            let list: Vec<_> = voices
                .iter()
                .map(|v| serde_json::json!({"id": v.id, "name": v.name, "language": v.language, "engine": v.engine, "sample_rate": v.sample_rate, "default_for": default_for(v)}))
                .collect();
            println!("{}", serde_json::to_string_pretty(&list)?);
        } else {
            // First what speaks each translation language, then every voice.
            println!("Speaks translations (the voice a request without one gets):");
            let mut robotic = false;
            for (code, name) in sokuji_core::translate::LANGUAGES {
                let speaks = |v: &&sokuji_core::Voice| default_for(v).is_some_and(|d| d.split(',').any(|l| l == *code));
                let Some(v) = voices.iter().find(speaks) else { continue };
                robotic |= v.engine == "espeak";
                println!("  {code:<4} {name:<12} {:<28} {}", v.id, v.engine);
            }
            if robotic {
                println!("  (espeak: no neural voice installed for the language; `sokuji models fetch piper-<voice>` adds one)");
            }
            println!();
            for v in &voices {
                let mark = if default_for(v).is_some() { "*" } else { " " };
                println!("{mark} {:<28} {:<8} {:<16} {}", v.id, v.engine, v.language, v.name);
            }
        }
        Ok(())
    })
}
