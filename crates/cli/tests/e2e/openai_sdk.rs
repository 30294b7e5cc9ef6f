//! The official OpenAI Python SDK (installed by `make testdata`) against the real server:
//! transcription, translation, speech and the model list.
use crate::common::*;
use sokuji_core::wer::word_error_rate;
use std::process::Command;

#[test]
fn official_python_sdk_works_unchanged() {
    let python = testdata().join("venv/bin/python");
    assert!(python.is_file(), "no SDK venv at {}: run `make testdata`", python.display());
    let server = Server::start(&["--grpc-listen", "off"], &[]).wait_ready();
    let set = speech_set("vieneu");
    let (speech, reference) = set.iter().find(|(p, _)| p.ends_with("doan.wav")).expect("doan");
    let (ly, _) = set.iter().find(|(p, _)| p.ends_with("ly.wav")).expect("ly");
    let script = crate_dir().join("tests/sdk/openai_client.py");
    let out = Command::new(python)
        .arg(script)
        .arg(format!("{}/v1", server.url()))
        .arg(speech)
        .arg(ly)
        .output()
        .expect("run the SDK");
    assert!(out.status.success(), "SDK call failed: {}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON from the script");
    let text = v["text"].as_str().expect("text");
    // Vietnamese goes to the Conformer (Whisper base: ~30% WER on these recordings).
    assert!(word_error_rate(reference, text) < 0.12, "{text}");
    assert_eq!(v["language"], "vi");
    assert_eq!(v["producer"]["engine"], "conformer-ctc", "{v}");
    assert_eq!(v["whisper_producer"]["engine"], "whisper.cpp", "{v}");
    assert!(v["words"].as_array().is_some_and(|w| w.len() >= 10), "{v}");
    assert!(v["segments"].as_u64().is_some_and(|n| n >= 1));
    assert!(word_error_rate(reference, v["plain"].as_str().expect("plain")) < 0.12);
    assert_translation_of_ly(v["translated"].as_str().expect("translated"));
    // Speech: OpenAI's "alloy" is the default English voice; Whisper hears it back.
    assert_eq!(v["speech_riff"], "RIFF");
    assert!(v["speech_bytes"].as_u64().is_some_and(|n| n > 44 + 22050), "{v}");
    // Piper samples its noise afresh on every run, so the sentence is spoken a little differently
    // each time and Whisper base now and then mishears a word of it ("But juicable lemons makes
    // fine punch.", "the juice of alumnus makes fine punch."): two of its three key words will do.
    let heard = v["heard"].as_str().expect("heard").to_lowercase();
    assert!(["lemons", "fine", "punch"].iter().filter(|w| heard.contains(*w)).count() >= 2, "{heard}");
    for id in ["tts-1", "whisper-1", "vi-conformer", "whisper-base"] {
        assert!(v["models"].as_array().is_some_and(|m| m.iter().any(|m| m == id)), "{id}: {v}");
    }
}
