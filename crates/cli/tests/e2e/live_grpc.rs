//! Live translation over `sokuji.live.LiveTranslationService` (one bidirectional gRPC stream)
//! against the real server and models, and the session id that tags every log line of a session.
use crate::common::*;
use sokuji_core::wer::word_error_rate;
use sokuji_proto::{
    common::AudioChunk,
    live::{
        LiveConfig, LiveEvent, LiveRequest, live_event::Event, live_request::Message,
        live_translation_service_client::LiveTranslationServiceClient,
    },
};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;

type Client = LiveTranslationServiceClient<tonic::transport::Channel>;

fn config(source: &str, target: &str) -> LiveRequest {
    let c = LiveConfig {
        source_language: source.into(),
        target_language: target.into(),
        audio_format: "pcm".into(),
        ..Default::default()
    };
    LiveRequest { message: Some(Message::Config(c)) }
}

fn audio(pcm: Vec<u8>, sample_rate: i32) -> LiveRequest {
    let chunk = AudioChunk { data: pcm, sample_rate, channels: 1, format: "int16".into(), ..Default::default() };
    LiveRequest { message: Some(Message::Audio(chunk)) }
}

/// Runs one session: `first` messages, then the speech at 4x real time in 100 ms chunks, then a
/// half-close. Returns the session id from the response headers and every event.
async fn session(client: &mut Client, first: Vec<LiveRequest>, samples: &[f32]) -> (String, Vec<LiveEvent>) {
    let (tx, rx) = mpsc::channel(16);
    let samples = samples.to_vec();
    tokio::spawn(async move {
        for m in first {
            let _ = tx.send(m).await;
        }
        for piece in samples.chunks(1600) {
            if tx.send(audio(int16_bytes(piece), 16_000)).await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    });
    let response = client.translate(ReceiverStream::new(rx)).await.expect("session accepted");
    let id = response.metadata().get("x-sokuji-session-id").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    let mut events = Vec::new();
    let mut stream = response.into_inner();
    loop {
        match tokio::time::timeout(Duration::from_secs(120), stream.message()).await.expect("events in time") {
            Ok(Some(e)) => events.push(e),
            Ok(None) => break,
            Err(s) => panic!("stream failed: {s}"),
        }
    }
    (id, events)
}

#[tokio::test]
async fn vietnamese_speech_over_one_grpc_stream() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = dir.path().join("server.log");
    let grpc = free_port();
    let grpc_addr = format!("127.0.0.1:{grpc}");
    let _server =
        Server::start_logged(&["--grpc-listen", &grpc_addr], &[("TRANSLATION_PROVIDER", "local")], &log).wait_ready();
    let mut client = LiveTranslationServiceClient::new(grpc_channel(grpc).await);

    let (path, reference) = speech_set("vieneu").into_iter().find(|(p, _)| p.ends_with("binh.wav")).expect("binh");
    let mut speech = load_16k(&path);
    speech.extend(vec![0.0; 16_000]);
    // A chunk with an impossible rate in the middle: an error event, and the session goes on.
    let first = vec![config("vi", "en"), audio(vec![0; 3200], 0)];
    let (id, events) = session(&mut client, first, &speech).await;
    assert_eq!(id.len(), 12, "session id in the response headers: {id:?}");

    let errors: Vec<_> = events
        .iter()
        .filter_map(|e| match &e.event {
            Some(Event::Error(x)) => Some(x),
            _ => None,
        })
        .collect();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].code, "invalid_audio");

    let finals: Vec<_> = events
        .iter()
        .filter_map(|e| match &e.event {
            Some(Event::Transcription(t)) if t.is_final => Some((e, t)),
            _ => None,
        })
        .collect();
    let heard: Vec<&str> = finals.iter().map(|(_, t)| t.text.as_str()).collect();
    let wer = word_error_rate(&reference, &heard.join(" "));
    assert!(wer < 0.15, "WER {wer}: {heard:?}");
    assert!(finals.iter().all(|(e, t)| t.language == "vi" && e.e2e_ms.is_some() && t.processing_time_ms > 0.0));
    assert!(finals.iter().all(|(_, t)| t.engine == "conformer-ctc"), "{finals:?}");

    let translations: Vec<_> = events
        .iter()
        .filter_map(|e| match &e.event {
            Some(Event::Translation(t)) if t.is_final => Some((e, t.result.clone().expect("result"))),
            _ => None,
        })
        .collect();
    assert_eq!(translations.len(), heard.iter().filter(|t| !t.trim().is_empty()).count());
    assert_translation_of_binh(
        &translations.iter().map(|(_, t)| t.translated_text.as_str()).collect::<Vec<_>>().join(" "),
    );
    for (e, t) in &translations {
        assert!(!t.translated_text.is_empty() && t.translated_text.is_ascii(), "not English: {t:?}");
        assert_eq!((t.source_language.as_str(), t.target_language.as_str()), ("vi", "en"));
        assert!(e.e2e_ms.is_some() && t.processing_time_ms > 0.0);
    }

    let speech_out: Vec<_> = events
        .iter()
        .filter_map(|e| match &e.event {
            Some(Event::Audio(a)) => Some((e, a)),
            _ => None,
        })
        .collect();
    assert!(!speech_out.is_empty(), "translated speech");
    for (e, a) in &speech_out {
        // Raw s16le as asked: about duration_ms of 22.05 kHz samples.
        assert_eq!((a.format.as_str(), a.sample_rate), ("pcm", 22050));
        let expected = a.duration_ms / 1000.0 * 22050.0 * 2.0;
        assert!(
            (a.audio_data.len() as f64 - expected).abs() < 4.0,
            "{} bytes for {} ms",
            a.audio_data.len(),
            a.duration_ms
        );
        assert!(a.audio_data.len() > 10_000 && e.e2e_ms.is_some());
    }
    // Per utterance: final transcript, then translation, then speech.
    let pos = |seg: u64, want: fn(&Event) -> bool| {
        events.iter().position(|e| e.segment_id == seg && e.event.as_ref().is_some_and(want))
    };
    for (e, _) in &translations {
        let f = pos(e.segment_id, |x| matches!(x, Event::Transcription(t) if t.is_final));
        let t = pos(e.segment_id, |x| matches!(x, Event::Translation(t) if t.is_final));
        assert!(f < t, "transcript before translation");
        if let Some(a) = pos(e.segment_id, |x| matches!(x, Event::Audio(_))) {
            assert!(t < Some(a), "translation before speech");
        }
    }

    // Refused sessions: no config first, an unknown language, an unknown audio format.
    let refused = |first: Vec<LiveRequest>| {
        let mut client = client.clone();
        async move {
            let (tx, rx) = mpsc::channel(4);
            for m in first {
                tx.send(m).await.expect("queue");
            }
            drop(tx);
            client.translate(ReceiverStream::new(rx)).await.expect_err("refused")
        }
    };
    let s = refused(vec![audio(vec![0; 3200], 16_000)]).await;
    assert_eq!(s.code(), tonic::Code::InvalidArgument);
    assert!(s.message().contains("config"), "{}", s.message());
    let s = refused(vec![config("vi", "xx")]).await;
    assert_eq!(s.code(), tonic::Code::InvalidArgument);
    assert!(s.message().contains("target_language"), "{}", s.message());
    let mut mp3 = config("vi", "en");
    if let Some(Message::Config(c)) = &mut mp3.message {
        c.audio_format = "mp3".into();
    }
    assert!(refused(vec![mp3]).await.message().contains("mp3"));

    // The server's log: every line of the session carries its id, from start to end.
    let wait_for_end = std::time::Instant::now();
    let text = loop {
        let text = std::fs::read_to_string(&log).expect("log");
        if text.contains("live session ended") || wait_for_end.elapsed() > Duration::from_secs(10) {
            break text;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let tagged = format!("session={id}");
    for what in ["live session started", "audio refused", "live session ended"] {
        let lines: Vec<&str> = text.lines().filter(|l| l.contains(what)).collect();
        assert!(!lines.is_empty(), "no {what:?} line in:\n{text}");
        assert!(lines.iter().all(|l| l.contains(&tagged)), "{what:?} lines without {tagged}: {lines:?}");
    }
}
