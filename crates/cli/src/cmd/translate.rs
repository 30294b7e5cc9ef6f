//! `sokuji translate`: text from arguments, or stdin line by line.
use crate::{cmd::engines, config::Config};
use sokuji_core::TranslateRequest;
use std::io::{BufRead, Write};

#[derive(clap::Args)]
pub struct Args {
    /// Source language (ISO 639-1) or "auto".
    #[arg(long, default_value = "auto")]
    from: String,
    /// Target language (ISO 639-1).
    #[arg(long)]
    to: String,
    /// Phrases to keep verbatim (repeatable).
    #[arg(long = "keep")]
    keep: Vec<String>,
    /// Text to translate; without it, each line of stdin is translated with the previous lines as context.
    text: Vec<String>,
}

pub fn run(cfg: Config, args: Args) -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    rt.block_on(async move {
        let translator = engines::translator(&cfg)?.ok_or_else(|| anyhow::anyhow!("TRANSLATION_PROVIDER=none"))?;
        let req = |text: String, context: Option<String>| TranslateRequest {
            text,
            source: args.from.clone(),
            target: args.to.clone(),
            context,
            keep: args.keep.clone(),
            ..Default::default()
        };
        if !args.text.is_empty() {
            println!("{}", translator.translate(req(args.text.join(" "), None)).await?.text);
            return Ok(());
        }
        let mut previous: Vec<String> = Vec::new();
        for line in std::io::stdin().lock().lines() {
            let line = line?;
            if line.trim().is_empty() {
                println!();
                continue;
            }
            // The last two lines as dialogue context: enough for pronouns, cheap in tokens.
            let context = (!previous.is_empty()).then(|| previous.join("\n"));
            let t = translator.translate(req(line.clone(), context)).await?;
            println!("{}", t.text);
            std::io::stdout().flush()?;
            previous.push(line);
            if previous.len() > 2 {
                previous.remove(0);
            }
        }
        Ok(())
    })
}
