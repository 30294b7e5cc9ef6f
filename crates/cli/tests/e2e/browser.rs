//! Headless Chromium (Debian `chromium`, driven by `playwright-core`) with a fake microphone
//! playing a real Vietnamese recording: the live page's captions and translations must appear,
//! and what the browser's own MediaRecorder makes (WebM Opus) must be heard.
use crate::common::*;
use sokuji_core::wer::word_error_rate;

#[test]
fn live_page_shows_captions_and_translations_from_the_microphone() {
    let server = Server::start(&["--grpc-listen", "off"], &[("TRANSLATION_PROVIDER", "local")]).wait_ready();
    let (wav, reference) = speech_set("vieneu").into_iter().find(|(p, _)| p.ends_with("binh.wav")).expect("binh");
    let url = format!("{}/", server.url());
    let v = page_run("live_page.cjs", &[&url, &wav.display().to_string(), "vi", "en"]);
    assert!(v["errors"].as_array().is_some_and(|e| e.is_empty()), "page errors: {v}");
    let finals: Vec<&str> = v["finals"].as_array().expect("finals").iter().filter_map(|f| f.as_str()).collect();
    let wer = word_error_rate(&reference, &finals.join(" "));
    assert!(wer < 0.45, "captions {finals:?} WER {wer}");
    let translations: Vec<&str> =
        v["translations"].as_array().expect("translations").iter().filter_map(|t| t.as_str()).collect();
    assert_translation_of_binh(&translations.join(" "));
    assert!(v["audio"].as_u64().is_some_and(|n| n >= 1), "translated speech reached the page: {v}");
    assert!(v["status"].as_str().is_some_and(|s| s.starts_with("Closed (1000")), "{v}");
}

/// Chromium's own MediaRecorder (WebM with Opus) from a fake microphone: its pieces streamed to
/// the live socket as they are recorded, and the whole recording uploaded to the OpenAI endpoint.
#[test]
fn media_recorder_webm_is_heard_live_and_uploaded() {
    let server = Server::start(&["--grpc-listen", "off"], &[("TTS_PROVIDER", "none")]).wait_ready();
    let (wav, reference) = speech_set("vieneu").into_iter().find(|(p, _)| p.ends_with("doan.wav")).expect("doan");
    let seconds = load_16k(&wav).len() as f64 / 16_000.0;
    let (url, secs) = (format!("{}/", server.url()), format!("{seconds:.1}"));
    let v = page_run("media_recorder.cjs", &[&url, &wav.display().to_string(), &secs, "vi"]);
    assert!(v["errors"].as_array().is_some_and(|e| e.is_empty()), "page errors: {v}");
    assert!(v["mime"].as_str().is_some_and(|m| m.starts_with("audio/webm")), "{}", v["mime"]);
    assert!(v["pieces"].as_u64().is_some_and(|n| n >= 4), "MediaRecorder sent pieces: {}", v["pieces"]);
    let messages = v["messages"].as_array().expect("messages");
    let errors: Vec<_> = messages.iter().filter(|m| m["type"] == "error").collect();
    assert!(errors.is_empty(), "{errors:?}");
    let finals: Vec<&str> = messages
        .iter()
        .filter(|m| m["type"] == "transcription" && m["is_final"] == true)
        .filter_map(|m| m["text"].as_str())
        .collect();
    let wer = word_error_rate(&reference, &finals.join(" "));
    assert!(wer < 0.35, "live WER {wer}: {finals:?}");
    assert_eq!(v["closeCode"], 1000);
    assert_eq!(v["uploadStatus"], 200, "{}", v["upload"]);
    let uploaded = v["upload"]["text"].as_str().expect("text");
    let wer = word_error_rate(&reference, uploaded);
    assert!(wer < 0.35, "upload WER {wer}: {uploaded}");
}

/// The archive page shows a transcript in its written form ("19" where the recognizer heard
/// "mười chín"), the raw reading one tick away, the searched words marked, and a click on a
/// written token plays from the first spoken word it came from.
#[tokio::test]
async fn archive_page_shows_the_written_transcript_and_plays_from_a_word() {
    let server = Server::start(&["--grpc-listen", "off"], &[("TTS_PROVIDER", "none")]).wait_ready();
    let base = server.url();
    let http = reqwest::Client::new();
    let (vinh, _) = speech_set("vieneu").into_iter().find(|(p, _)| p.ends_with("vinh.wav")).expect("vinh");
    let r = http
        .post(format!("{base}/api/v1/recordings?language=vi&filename=vinh.wav"))
        .body(std::fs::read(&vinh).expect("wav"))
        .send()
        .await
        .expect("upload");
    assert_eq!(r.status(), 202);
    let id = r.json::<serde_json::Value>().await.expect("json")["id"].as_str().expect("id").to_string();
    crate::archive::wait_status(&http, &base, &id, "completed").await;
    let (_, t) = get_json(&http, format!("{base}/api/v1/recordings/{id}/transcript")).await;
    let words: Vec<&serde_json::Value> = t["segments"]
        .as_array()
        .expect("segments")
        .iter()
        .flat_map(|s| s["words"].as_array().into_iter().flatten())
        .collect();
    let bare = |w: &str| w.trim_matches(|c: char| !c.is_alphanumeric()).to_lowercase();
    let said = |w: &serde_json::Value| bare(w["text"].as_str().unwrap_or_default());
    let at = words
        .windows(2)
        .position(|w| said(w[0]) == "mười" && said(w[1]) == "chín")
        .unwrap_or_else(|| panic!("mười chín heard: {t}"));
    let spoken_start = words[at]["start"].as_f64().expect("start");

    let v = page_run("archive_page.cjs", &[&format!("{base}/archive#id={id}&t=1&q=19"), "19"]);
    assert!(v["errors"].as_array().is_some_and(|e| e.is_empty()), "page errors: {v}");
    let texts = |key: &str| -> Vec<String> { v[key].as_array().expect(key).iter().map(said).collect() };
    let (written, raw) = (texts("written"), texts("raw"));
    assert!(written.iter().any(|w| w == "19") && !written.iter().any(|w| w == "mười"), "written: {written:?}");
    assert!(raw.windows(2).any(|w| w[0] == "mười" && w[1] == "chín") && !raw.iter().any(|w| w == "19"), "raw: {raw:?}");
    let marked: Vec<String> =
        v["marked"].as_array().expect("marked").iter().filter_map(|m| m.as_str().map(bare)).collect();
    assert_eq!(marked, ["19"]);
    assert_eq!(v["rawShown"], true);
    assert!(
        v["listed"].as_array().is_some_and(|l| l.iter().any(|x| x.as_str().is_some_and(|s| s.contains("vinh.wav")))),
        "{v}"
    );
    let clicked = v["clickedStart"].as_f64().expect("clickedStart");
    assert!(
        (clicked - spoken_start).abs() < 1e-3,
        "the written 19 starts where mười was heard: {clicked} vs {spoken_start}"
    );
    let player = v["playerAt"].as_f64().expect("playerAt");
    assert!(
        player >= clicked - 0.05 && player < clicked + 1.5,
        "the player went to {player}, the word starts at {clicked}"
    );
}
