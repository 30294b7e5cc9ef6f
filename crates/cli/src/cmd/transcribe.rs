//! `sokuji transcribe FILE...`: decode, transcribe with a progress bar, print.
use crate::{cmd::engines, config::Config};
use indicatif::{ProgressBar, ProgressStyle};
use sokuji_core::{ProgressFn, Task, TranscribeOptions, Transcript, subtitle};
use std::{path::PathBuf, sync::Arc};

#[derive(Clone, Copy, Debug, PartialEq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
    Srt,
    Vtt,
}

#[derive(clap::Args)]
pub struct Args {
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Spoken language (ISO 639-1), or "auto" to detect each utterance's.
    #[arg(long, short, default_value = "auto")]
    language: String,
    #[arg(long, short, value_enum, default_value = "text")]
    format: Format,
    /// Word timings in JSON output.
    #[arg(long)]
    words: bool,
    /// Translate the speech to English instead of transcribing it.
    #[arg(long)]
    translate: bool,
    /// Decode the whole audio without voice activity detection.
    #[arg(long)]
    no_vad: bool,
    /// Text that primes the decoder: names, spellings, hot words.
    #[arg(long)]
    prompt: Option<String>,
    /// The model or engine to use (`vi-conformer`, `whisper-base`, `conformer-ctc`,
    /// `whisper.cpp`) instead of routing by language.
    #[arg(long, short)]
    model: Option<String>,
}

fn render(t: &Transcript, f: Format) -> anyhow::Result<String> {
    Ok(match f {
        Format::Text => format!("{}\n", t.text),
        Format::Json => format!("{}\n", serde_json::to_string(&sokuji_api::rest::transcript::Transcript::from(t))?),
        Format::Srt => subtitle::to_srt(t),
        Format::Vtt => subtitle::to_vtt(t),
    })
}

pub fn run(cfg: Config, args: Args) -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    rt.block_on(async move {
        let stt = engines::stt(&cfg, &Default::default()).await?;
        let many = args.files.len() > 1;
        for path in &args.files {
            let bar = ProgressBar::new(1000);
            bar.set_style(ProgressStyle::with_template("{msg:>12} [{bar:30}] {percent:>3}% {elapsed}/{duration}")?);
            bar.set_message("decoding");
            let (p, b) = (path.clone(), bar.clone());
            let audio = tokio::task::spawn_blocking(move || {
                sokuji_audio::decode_file(&p, &mut |f| b.set_position((f * 1000.0) as u64))
            })
            .await??;
            bar.set_message("transcribing");
            bar.set_position(0);
            let b = bar.clone();
            let options = TranscribeOptions {
                language: Some(args.language.clone()),
                task: if args.translate { Task::Translate } else { Task::Transcribe },
                word_timestamps: args.words,
                initial_prompt: args.prompt.clone(),
                vad: Some(!args.no_vad),
                model: args.model.clone(),
                progress: Some(ProgressFn(Arc::new(move |f| b.set_position((f * 1000.0) as u64)))),
                ..Default::default()
            };
            let t = stt.transcribe(audio, options).await.map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
            bar.finish_and_clear();
            if many && args.format == Format::Text {
                println!("# {}", path.display());
            }
            print!("{}", render(&t, args.format)?);
        }
        Ok(())
    })
}
