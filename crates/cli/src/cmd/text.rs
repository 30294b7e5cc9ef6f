//! `sokuji text itn|tn|tone`: one line in, one line out, flushed per line, for pipes.
use sokuji_text::{Mode, ToneStyle, normalize_line};
use std::io::{BufRead, Write};

#[derive(clap::Subcommand)]
pub enum Command {
    /// Inverse normalization: spoken to written ("hai mươi tư" -> "24").
    Itn(Args),
    /// Normalization: written to spoken ("12kg" -> "mười hai ki lô gam").
    Tn(Args),
    /// Unicode and tone-mark repair only ("lựơng" -> "lượng").
    Tone {
        #[command(flatten)]
        args: Args,
        /// Put tones the 1980s way ("hoà", "thuỷ") instead of the classic one ("hòa", "thủy").
        #[arg(long)]
        modern: bool,
    },
}

#[derive(clap::Args)]
pub struct Args {
    /// Language of the text; Vietnamese is the only one so far.
    #[arg(long, default_value = "vi", value_parser = ["vi"])]
    lang: String,
}

pub fn run(c: Command) -> anyhow::Result<()> {
    let (mode, style) = match c {
        Command::Itn(_) => (Mode::Itn, ToneStyle::Classic),
        Command::Tn(_) => (Mode::Tn, ToneStyle::Classic),
        Command::Tone { modern, .. } => (Mode::Tone, if modern { ToneStyle::Modern } else { ToneStyle::Classic }),
    };
    let stdin = std::io::stdin();
    let mut input = stdin.lock();
    let mut out = std::io::stdout().lock();
    let mut buf = Vec::new();
    let mut n = 0usize;
    loop {
        buf.clear();
        if input.read_until(b'\n', &mut buf)? == 0 {
            return Ok(());
        }
        n += 1;
        let had_newline = buf.last() == Some(&b'\n');
        let bytes = buf.strip_suffix(b"\n").unwrap_or(&buf);
        let bytes = bytes.strip_suffix(b"\r").unwrap_or(bytes);
        let line = std::str::from_utf8(bytes)
            .map_err(|e| anyhow::anyhow!("invalid_request: line {n} is not valid UTF-8 ({e})"))?;
        out.write_all(normalize_line(line, mode, style).as_bytes())?;
        if had_newline {
            out.write_all(b"\n")?;
        }
        out.flush()?;
    }
}
