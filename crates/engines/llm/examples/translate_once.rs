//! Loads a GGUF model and translates one sentence, printing token counts and speeds: the quick
//! check behind bench/translation.sh.
use sokuji_core::prompt;
use sokuji_llm::Model;
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, path, from, to, text] = args.as_slice() else {
        return Err("usage: translate_once MODEL.gguf FROM TO TEXT".into());
    };
    let t = Instant::now();
    let mut model = Model::load(path.as_ref())?;
    eprintln!("load {:.0} ms", t.elapsed().as_secs_f64() * 1000.0);
    let req = sokuji_core::TranslateRequest { text: text.clone(), source: from.clone(), target: to.clone(), ..Default::default() };
    for _ in 0..2 {
        let g = model.generate(&prompt::chat(&req, from), 256, None)?;
        println!("{}", prompt::clean(&g.text, text, to));
        eprintln!(
            "prompt {} tok {:.0} ms ({:.1} tok/s), generated {} tok {:.0} ms ({:.1} tok/s)",
            g.prompt_tokens,
            g.prompt_ms,
            g.prompt_tokens as f64 / g.prompt_ms * 1000.0,
            g.generated_tokens,
            g.generate_ms,
            g.generated_tokens as f64 / g.generate_ms * 1000.0
        );
    }
    Ok(())
}
