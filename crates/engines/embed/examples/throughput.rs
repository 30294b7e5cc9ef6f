//! Embedding throughput (passages/s) on real Vietnamese sentences, one text per call and 32
//! per call. Used by bench/search.sh: `cargo run --release -p sokuji-embed --example throughput
//! -- MODEL_FILE SENTENCES_FILE`.
use sokuji_core::EmbedKind;
use sokuji_embed::E5Embedder;
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (model, sentences) = (args.get(1).expect("model file"), args.get(2).expect("sentences file"));
    let m = E5Embedder::load(std::path::Path::new(model), "e5-small").expect("model");
    let text = std::fs::read_to_string(sentences).expect("sentences");
    let lines: Vec<String> = text.lines().filter(|l| !l.trim().is_empty()).map(str::to_string).collect();
    // About 30 s of speech per passage: four sentences.
    let passages: Vec<String> = (0..128)
        .map(|i| (0..4).map(|j| lines[(i * 4 + j) % lines.len()].as_str()).collect::<Vec<_>>().join(" "))
        .collect();
    let tokens: usize = passages.iter().map(|p| m.tokens(p, EmbedKind::Passage).len() + 2).sum();
    m.embed_blocking(&passages[..4], EmbedKind::Passage).expect("warm-up");
    for batch in [1usize, 32] {
        let t = Instant::now();
        for chunk in passages.chunks(batch) {
            m.embed_blocking(chunk, EmbedKind::Passage).expect("embed");
        }
        let secs = t.elapsed().as_secs_f64();
        println!(
            "| e5-small (candle, f32 from Q4_0) | {batch} | {} | {:.0} | {:.1} |",
            passages.len(),
            tokens as f64 / passages.len() as f64,
            passages.len() as f64 / secs
        );
    }
}
