//! The Whisper engine in-process, on real speech: a caller that gives up frees nothing until
//! its decode has really stopped (and it stops at once), a lane over the same weights has slots
//! of its own, and a reused decoder state decodes the same audio to the same text whatever it
//! decoded before; a live decode that goes round in a loop is stopped; and a live recognizer on
//! it cuts fast speech after its clauses.
use crate::common::*;
use sokuji_core::{
    Audio, SpeechToText, Task, TranscribeOptions,
    guard::{Rejection, Rejections},
    wer::word_error_rate,
};
use std::{sync::Arc, time::Duration};

fn engine(max_concurrent: usize) -> sokuji_whisper::WhisperEngine {
    counting_engine(max_concurrent, Arc::default())
}

fn counting_engine(max_concurrent: usize, rejections: Arc<Rejections>) -> sokuji_whisper::WhisperEngine {
    sokuji_whisper::WhisperEngine::load(&sokuji_whisper::WhisperConfig {
        model_path: model_dir().join(whisper_base_file()),
        threads: 2,
        max_concurrent,
        rejections,
    })
    .expect("model")
}

fn recording(name: &str) -> (Vec<f32>, String) {
    let (wav, text) = speech_set("vieneu").into_iter().find(|(p, _)| p.ends_with(format!("{name}.wav"))).expect("wav");
    (load_16k(&wav), text)
}

async fn detail(e: &sokuji_whisper::WhisperEngine, key: &str) -> String {
    e.health().await.details.get(key).cloned().unwrap_or_default()
}

/// A minute of speech (decoding it takes many seconds on this machine) sent to `e`, once its
/// decode has started.
async fn start_a_minute_long_decode(
    e: &sokuji_whisper::WhisperEngine,
    o: &TranscribeOptions,
) -> tokio::task::JoinHandle<sokuji_core::Result<sokuji_core::Transcript>> {
    let minute: Vec<f32> = (0..3)
        .flat_map(|_| ["binh", "ly", "doan", "ngoc", "tuyen", "vinh"].into_iter().flat_map(|n| recording(n).0))
        .collect();
    let long = {
        let (e, o) = (e.clone(), o.clone());
        tokio::spawn(async move { e.transcribe(Audio::new(minute), o).await })
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while detail(e, "decodes_started").await != "1" {
        assert!(std::time::Instant::now() < deadline, "the long decode never started");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    long
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_caller_that_gives_up_stops_its_decode_and_holds_its_slot_until_then() {
    let e = engine(1);
    let o = TranscribeOptions { language: Some("vi".into()), vad: Some(false), ..Default::default() };
    let long = start_a_minute_long_decode(&e, &o).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    // The client goes away (a dropped HTTP request, a timeout): its future is dropped.
    long.abort();
    let (ly, reference) = recording("ly");
    let t = e.transcribe(Audio::new(ly), o).await.expect("the next caller is served");
    assert!(word_error_rate(&reference, &t.text) < 0.4, "{}", t.text);
    // One slot, one decoder state: the abandoned decode never ran beside the next one.
    assert_eq!(detail(&e, "decoder_states").await, "1", "a second state means two decodes at once");
    assert_eq!(detail(&e, "decodes_aborted").await, "1", "whisper.cpp stopped the abandoned decode");
    assert_eq!(detail(&e, "available_slots").await, "1");
}

/// A lane (the archive's) has slots of its own over the same weights: it decodes while the main
/// lane's only slot is held by a long decode.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lane_decodes_while_the_main_lanes_slot_is_held() {
    let e = engine(1);
    let lane = e.lane("whisper-archive", 1);
    let o = TranscribeOptions { language: Some("vi".into()), vad: Some(false), ..Default::default() };
    let long = start_a_minute_long_decode(&e, &o).await;
    let (ly, reference) = recording("ly");
    let t = lane.transcribe(Audio::new(ly), o).await.expect("the lane is served");
    assert!(word_error_rate(&reference, &t.text) < 0.4, "{}", t.text);
    assert!(!long.is_finished(), "the lane's decode waited for the main lane's");
    assert_eq!((detail(&e, "available_slots").await, detail(&lane, "available_slots").await), ("0".into(), "1".into()));
    assert_eq!(detail(&lane, "decoder_states").await, "2", "one model, its states counted once for both lanes");
    long.abort();
}

#[tokio::test]
async fn a_reused_decoder_state_gives_the_same_text_for_the_same_audio() {
    let e = engine(1);
    let live =
        TranscribeOptions { language: Some("vi".into()), vad: Some(false), fit_context: true, ..Default::default() };
    let (binh, _) = recording("binh");
    let (ly, _) = recording("ly");
    let (doan, _) = recording("doan");
    let long: Vec<f32> = [binh.clone(), ly, doan].concat();
    let text =
        async |samples: &[f32]| e.transcribe(Audio::new(samples.to_vec()), live.clone()).await.expect("decode").text;
    let first = text(&long).await;
    // Decodes of other lengths in between (interim results of a live session do exactly this).
    for other in [&binh[..16_000 * 2], &long[..16_000 * 9], &binh[..]] {
        let _ = text(other).await;
        assert_eq!(text(&long).await, first, "after a decode of {} s", other.len() / 16_000);
    }
}

/// Whisper base translating the first 3–3.8 s of two Vietnamese recordings into English loops
/// (one phrase over and over): a live decode (`fit_context`) stops there and gives no text,
/// where it ran to whisper.cpp's token limit (2.1–4.9 s each on 2 cores, measured) and the
/// guards dropped its text (a loop seen but not aborted would still end that way, counted as a
/// `Repetition`). A window that does not loop still gives its text.
#[tokio::test]
async fn a_live_decode_that_goes_round_in_a_loop_is_stopped() {
    let rejections: Arc<Rejections> = Arc::default();
    let e = counting_engine(1, rejections.clone());
    let live = TranscribeOptions {
        language: Some("vi".into()),
        task: Task::Translate,
        vad: Some(false),
        fit_context: true,
        ..Default::default()
    };
    let mut stopped = 0;
    for (name, secs) in [("doan", 3.0), ("doan", 3.5), ("tuyen", 3.0), ("tuyen", 3.5), ("ly", 2.5)] {
        let before = rejections.get(Rejection::Loop);
        let speech = voiced(&recording(name).0).to_vec();
        let window = speech[..((secs * 16_000.0) as usize).min(speech.len())].to_vec();
        let t = e.transcribe(Audio::new(window), live.clone()).await.expect("decode");
        if rejections.get(Rejection::Loop) > before {
            stopped += 1;
            assert!(t.text.is_empty(), "{name} to {secs} s was stopped but gave {:?}", t.text);
        } else {
            assert!(!t.text.is_empty(), "{name} to {secs} s gave nothing");
        }
    }
    assert!(stopped >= 1, "no loop was stopped");
    assert_eq!(rejections.get(Rejection::Repetition), 0, "a loop ran on to the token limit");
}

/// The finals of a live recognizer on Whisper fed English `audio` as a translating session
/// decodes it (pauses, and interims every second of audio, here inline so that the machine's
/// speed changes nothing).
async fn live_finals(audio: &[f32]) -> Vec<sokuji_live::Transcription> {
    let cfg = sokuji_live::RecognizerConfig { min_interim_gap: Duration::ZERO, ..Default::default() };
    let options = TranscribeOptions { language: Some("en".into()), ..Default::default() };
    let vad = Box::new(sokuji_audio::vad::VoiceDetector::default());
    let mut r = sokuji_live::Recognizer::new(Arc::new(engine(1)), cfg, options, vad);
    r.set_pause_interim(true);
    let mut events = Vec::new();
    for piece in audio.chunks(1_600) {
        events.extend(r.push(16_000, piece).await.expect("16 kHz"));
    }
    events.extend(r.finish().await);
    events
        .into_iter()
        .filter_map(|e| match e {
            sokuji_live::LiveEvent::Transcription(t) if t.is_final => Some(t),
            _ => None,
        })
        .collect()
}

/// Fast speech with no pause the VAD hears (five sentences 60 ms apart) is cut after committed
/// clauses while the speaker goes on, every piece but the last at least 3 s long, the pieces
/// covering the speech end to end (no audio left out or heard twice).
#[tokio::test]
async fn fast_speech_is_cut_after_its_clauses_while_it_goes_on() {
    let (mut audio, mut reference) = (vec![0.0; 8_000], Vec::new());
    for (path, text) in speech_set("en").into_iter().take(5) {
        audio.extend(voiced(&load_16k(&path)));
        audio.extend(vec![0.0; 960]);
        reference.push(text);
    }
    let spoken = audio.len() as f64 / 16_000.0;
    audio.extend(vec![0.0; 24_000]);
    let finals = live_finals(&audio).await;
    let heard: Vec<&str> = finals.iter().map(|t| t.text.as_str()).collect();
    assert!(finals.len() >= 2, "never cut: {heard:?}");
    assert!(finals[0].end < spoken - 2.0, "the first cut at {} s of {spoken}: {heard:?}", finals[0].end);
    for (t, next) in finals.iter().zip(&finals[1..]) {
        assert!(t.end - t.start >= 3.0 && (next.start - t.end).abs() < 1e-6, "{t:?} then {next:?}");
    }
    let wer = word_error_rate(&reference.join(" "), &heard.join(" "));
    assert!(wer < 0.4, "WER {wer}: {heard:?}");
}
