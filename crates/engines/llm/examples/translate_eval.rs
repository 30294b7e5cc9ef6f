//! Translates each `FROM<TAB>TO<TAB>TEXT[<TAB>HINT]` line of stdin with one loaded model and prints
//! the answer with its token counts and times: prompt tuning and bench/translation.sh use it. A
//! hint is what the guards' retry adds to the prompt (`fidelity::Violation::hint`).
use sokuji_llm::{Model, translate_with};
use std::io::BufRead;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args().nth(1).ok_or("usage: translate_eval MODEL.gguf < cases.tsv")?;
    let mut model = Model::load(path.as_ref())?;
    for line in std::io::stdin().lock().lines() {
        let line = line?;
        let mut f = line.splitn(4, '\t');
        let (Some(from), Some(to), Some(text)) = (f.next(), f.next(), f.next()) else { continue };
        let hints = f.next().map(|h| vec![h.to_string()]).unwrap_or_default();
        let req = sokuji_core::TranslateRequest {
            text: text.into(),
            source: from.into(),
            target: to.into(),
            hints,
            ..Default::default()
        };
        let g = translate_with(&mut model, &req, from, &sokuji_admission::Ticket::unbounded(), &mut |_| {})?;
        println!(
            "{from}>{to}\t{:.0}\t{}\t{:.0}\t{}\t{}\t{}\t{}",
            g.prompt_ms,
            g.prompt_tokens - g.cached_tokens,
            g.generate_ms,
            g.generated_tokens,
            g.text,
            if g.retried { "retried" } else { "" },
            g.cached_tokens
        );
    }
    Ok(())
}
