//! The fast tier of the live core: fake engines (sokuji-testkit), real session code.
mod pipeline;
mod recognizer;

use crate::{LiveEvent, RecognizerConfig, Transcription, Turns};
use sokuji_core::stream::EndpointConfig;
use std::time::Duration;

/// Interim decodes every 0.4 s of audio, never held back by wall time, so runs are
/// deterministic; utterances end after 0.32 s of silence.
fn quick() -> RecognizerConfig {
    RecognizerConfig {
        turns: Turns::Vad(EndpointConfig { min_silence_frames: 20, ..EndpointConfig::default() }),
        interim_every: 0.4,
        min_interim_gap: Duration::ZERO,
        ..RecognizerConfig::default()
    }
}

fn finals(events: &[LiveEvent]) -> Vec<&Transcription> {
    transcriptions(events, true)
}

fn interims(events: &[LiveEvent]) -> Vec<&Transcription> {
    transcriptions(events, false)
}

fn transcriptions(events: &[LiveEvent], is_final: bool) -> Vec<&Transcription> {
    events
        .iter()
        .filter_map(|e| match e {
            LiveEvent::Transcription(t) if t.is_final == is_final => Some(t),
            _ => None,
        })
        .collect()
}

/// The distinct words of a text, in order of first appearance ("w3 w3 w6" -> ["w3", "w6"]).
fn kinds(text: &str) -> Vec<&str> {
    let mut out: Vec<&str> = Vec::new();
    for w in text.split_whitespace() {
        if !out.contains(&w) {
            out.push(w);
        }
    }
    out
}
