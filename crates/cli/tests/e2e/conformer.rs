//! The Vietnamese Conformer in-process, on real speech: the model read as a stream (pieces of
//! 100 ms, as a live session feeds it) gives the batch decode's text, word for word, and every
//! recording's words come with times and confidences.
use crate::common::*;
use sokuji_core::{Audio, SpeechToText, TranscribeOptions, wer::word_error_rate};
use std::sync::Arc;

fn engine() -> sokuji_conformer::ConformerEngine {
    sokuji_conformer::ConformerEngine::load(&sokuji_conformer::ConformerConfig {
        model_path: model_dir().join("vi-conformer.onnx"),
        vocab_path: model_dir().join("vi-conformer.vocab.txt"),
        runtime_lib: model_dir().join("libonnxruntime.so.1.31.1"),
        threads: 2,
        spin: false,
        max_concurrent: 1,
        rejections: Arc::default(),
    })
    .expect("model: run `sokuji models fetch vi-conformer onnxruntime`")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streaming_reads_what_batch_reads() {
    let e = engine();
    let options = TranscribeOptions {
        language: Some("vi".into()),
        vad: Some(false),
        word_timestamps: true,
        ..Default::default()
    };
    for (wav, reference) in speech_set("vieneu") {
        let audio = load_16k(&wav);
        let batch = e.transcribe(Audio::new(audio.clone()), options.clone()).await.expect("batch");
        let mut stream = e.stream(&options).await.expect("the Conformer streams");
        let mut interim = Vec::new();
        for piece in audio.chunks(1_600) {
            interim = stream.push(piece.to_vec()).await.expect("push");
        }
        let streamed = stream.finish().await.expect("finish");
        assert_eq!(streamed.text, batch.text, "{}", wav.display());
        assert_eq!(streamed.producer, batch.producer);
        // The interim words before the last chunk, written as the final writes them, are a
        // prefix of the final's (the last one may still grow, or lose its full stop).
        let last: Vec<&str> = streamed.words().map(|w| w.text.as_str()).collect();
        let interim: Vec<&str> = interim.iter().map(|w| w.text.as_str()).collect();
        assert!(last.starts_with(&interim[..interim.len().saturating_sub(1)]), "{interim:?} vs {last:?}");
        assert!(word_error_rate(&reference, &batch.text) < 0.4, "{}: {}", wav.display(), batch.text);
        for w in batch.words() {
            assert!(w.start < w.end && w.end <= batch.duration + 0.05, "{w:?}");
            assert!((0.0..=1.0).contains(&w.probability), "{w:?}");
        }
    }
}

/// At a pause the stream gives the words the final will have: its last step's worth of audio
/// read too, on a copy of its state (a plain push leaves the last word waiting on some
/// recordings), and the stream then finishes as if nothing had been read ahead.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pause_reads_the_words_the_final_will_have() {
    let e = engine();
    let options = TranscribeOptions { language: Some("vi".into()), vad: Some(false), ..Default::default() };
    let words = |text: &str| -> Vec<String> {
        text.split_whitespace().map(|w| w.trim_matches(|c: char| !c.is_alphanumeric()).to_lowercase()).collect()
    };
    let said = |ws: &[sokuji_core::Word]| words(&ws.iter().map(|w| w.text.as_str()).collect::<Vec<_>>().join(" "));
    let mut lagged = 0;
    for (wav, _) in speech_set("vieneu") {
        let audio = load_16k(&wav);
        let batch = e.transcribe(Audio::new(audio.clone()), options.clone()).await.expect("batch");
        let (mut plain, mut paused) = (
            e.stream(&options).await.expect("the Conformer streams"),
            e.stream(&options).await.expect("the Conformer streams"),
        );
        let (mut interim, mut at_pause) = (Vec::new(), Vec::new());
        for piece in audio.chunks(1_600) {
            interim = plain.push(piece.to_vec()).await.expect("push");
            at_pause = paused.push_at_pause(piece.to_vec()).await.expect("push at a pause");
        }
        let fin = paused.finish().await.expect("finish");
        assert_eq!(fin.text, batch.text, "{}: reading ahead changed the stream", wav.display());
        assert_eq!(said(&at_pause), words(&fin.text), "{}", wav.display());
        lagged += usize::from(said(&interim) != words(&fin.text));
    }
    assert!(lagged > 0, "no recording's plain push lacked a final word: the test shows nothing");
}
