//! Probe: does a decoder state reused across different encoder contexts (fit_context) give the
//! same text as a fresh one? Decodes slices of a file in a given order and prints each result.
use sokuji_core::{Audio, SpeechToText, TranscribeOptions};
use std::sync::Arc;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let model = &args[1];
    let wav = &args[2];
    let engine = sokuji_whisper::WhisperEngine::load(&sokuji_whisper::WhisperConfig {
        model_path: model.into(),
        threads: 2,
        max_concurrent: 1,
        rejections: Arc::default(),
    })
    .expect("model");
    let audio = sokuji_audio::decode_bytes(std::fs::read(wav).expect("wav"), Some("wav")).expect("decode");
    let all = audio.samples().to_vec();
    let o = TranscribeOptions {
        language: Some("vi".into()),
        vad: Some(false),
        fit_context: true,
        word_timestamps: true,
        ..Default::default()
    };
    for spec in &args[3..] {
        let (a, b) = spec.split_once('-').expect("a-b seconds");
        let (a, b): (f64, f64) = (a.parse().expect("a"), b.parse().expect("b"));
        let slice = all[(a * 16000.0) as usize..((b * 16000.0) as usize).min(all.len())].to_vec();
        let t = engine.transcribe(Audio::new(slice), o.clone()).await.expect("transcribe");
        println!("{spec}\t{:.2}\t{}", t.confidence, t.text);
    }
}
