//! The STT service on the wire with fake engines: an engine's stream reaches a caller in
//! another process (`StreamUtterance`) with the same words, and a live session there feeds each
//! sample once.
use crate::{RemoteStt, grpc};
use sokuji_core::{Audio, Health, Result, SpeechToText, SttStream, TranscribeOptions, Transcript};
use sokuji_live::{LiveEvent, Recognizer, RecognizerConfig};
use sokuji_proto::stt::{UtteranceRequest, stt_service_client::SttServiceClient};
use sokuji_testkit::{Lag, LevelStt, LoudnessVad, StreamingStt, silence, speech};
use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

/// Serves `stt` on a loopback port until the test's runtime ends; its URL.
async fn serve(stt: Arc<dyn SpeechToText>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let services = grpc::Services { stt: Some(stt), ..Default::default() };
    tokio::spawn(grpc::serve(listener, services, grpc::GrpcLimits::default(), std::future::pending()));
    url
}

fn english() -> TranscribeOptions {
    TranscribeOptions { language: Some("en".into()), ..Default::default() }
}

#[tokio::test]
async fn an_engine_stream_reads_over_the_wire_as_in_process() {
    let engine = Arc::new(StreamingStt::default());
    let remote = RemoteStt::connect_lazy(&serve(engine.clone()).await, Duration::from_secs(10)).expect("client");
    let audio = [speech(0.6, 0.3), speech(0.4, 0.5)].concat();
    let (mut local, mut wire) =
        (engine.stream(&english()).await.expect("local"), remote.stream(&english()).await.expect("remote"));
    for piece in audio.chunks(2_000) {
        let (a, b) =
            (local.push(piece.to_vec()).await.expect("local push"), wire.push(piece.to_vec()).await.expect("push"));
        assert_eq!(a, b);
    }
    let (a, b) = (local.finish().await.expect("local finish"), wire.finish().await.expect("finish"));
    assert_eq!((a.text.as_str(), a.words().count()), ("w3 w3 w3 w5 w5", 5));
    assert_eq!((&b.text, &b.language, &b.segments), (&a.text, &a.language, &a.segments));
    assert!((b.duration - 1.0).abs() < 1e-9, "{}", b.duration);
    assert_eq!(engine.fed.load(Ordering::SeqCst), 2 * audio.len(), "each sample fed once per stream");
    assert_eq!(engine.transcribes.load(Ordering::SeqCst), 0);
}

/// A pause's push reaches the engine as one over the wire: the words the utterance would have if
/// it ended there, where a plain push still lacks the last one.
#[tokio::test]
async fn a_push_at_a_pause_reads_ahead_over_the_wire() {
    let engine = Arc::new(StreamingStt { lag: Lag::UntilPause, ..Default::default() });
    let remote = RemoteStt::connect_lazy(&serve(engine).await, Duration::from_secs(10)).expect("client");
    let mut wire = remote.stream(&english()).await.expect("remote");
    assert_eq!(wire.push(speech(0.4, 0.4)).await.expect("push").len(), 1);
    assert_eq!(wire.push_at_pause(speech(0.4, 0.4)).await.expect("push at a pause").len(), 4);
    assert_eq!(wire.push(Vec::new()).await.expect("push").len(), 3, "the stream goes on");
}

/// `LevelStt` that counts the streams it is asked for (and has none).
#[derive(Default)]
struct AskedStt(AtomicUsize);

#[async_trait::async_trait]
impl SpeechToText for AskedStt {
    async fn transcribe(&self, audio: Audio, options: TranscribeOptions) -> Result<Transcript> {
        LevelStt.transcribe(audio, options).await
    }
    async fn languages(&self) -> Result<Vec<String>> {
        LevelStt.languages().await
    }
    async fn health(&self) -> Health {
        LevelStt.health().await
    }
    async fn stream(&self, _: &TranscribeOptions) -> Option<Box<dyn SttStream>> {
        self.0.fetch_add(1, Ordering::SeqCst);
        None
    }
}

#[tokio::test]
async fn an_engine_without_a_stream_is_asked_once_per_options() {
    let engine = Arc::new(AskedStt::default());
    let remote = RemoteStt::connect_lazy(&serve(engine.clone()).await, Duration::from_secs(10)).expect("client");
    for _ in 0..3 {
        assert!(remote.stream(&english()).await.is_none());
    }
    assert_eq!(engine.0.load(Ordering::SeqCst), 1, "a refusal holds a while");
    assert!(remote.stream(&TranscribeOptions { language: Some("vi".into()), ..Default::default() }).await.is_none());
    assert_eq!(engine.0.load(Ordering::SeqCst), 2, "other options ask again");
    // Nor does an unreachable service have one (and the caller's transcribe says why).
    let gone = RemoteStt::connect_lazy("http://127.0.0.1:9", Duration::from_secs(10)).expect("client");
    assert!(gone.stream(&english()).await.is_none());
}

#[tokio::test]
async fn a_bad_request_ends_its_stream_and_the_service_serves_on() {
    let url = serve(Arc::new(StreamingStt::default())).await;
    let mut client = SttServiceClient::connect(url.clone()).await.expect("connect");
    let first = UtteranceRequest { language: Some("en".into()), ..Default::default() };
    let cases = [
        // Audio that is not whole float32 samples.
        UtteranceRequest { samples: vec![0; 3], ..Default::default() },
        // Options again, after the first request.
        UtteranceRequest { language: Some("vi".into()), ..Default::default() },
    ];
    for bad in cases {
        let requests = tokio_stream::iter([first.clone(), bad.clone()]);
        let mut responses = client.stream_utterance(requests).await.expect("opened").into_inner();
        assert!(responses.message().await.expect("first").is_some_and(|r| r.streaming));
        let e = responses.message().await.expect_err("refused");
        assert_eq!(e.code(), tonic::Code::InvalidArgument, "{bad:?}: {e:?}");
    }
    // Audio in the first request is refused too.
    let with_audio = UtteranceRequest { samples: vec![0; 8], ..first.clone() };
    let e = client.stream_utterance(tokio_stream::iter([with_audio])).await.expect_err("refused");
    assert_eq!(e.code(), tonic::Code::InvalidArgument);
    let remote = RemoteStt::connect_lazy(&url, Duration::from_secs(10)).expect("client");
    let mut stream = remote.stream(&english()).await.expect("still serving");
    assert_eq!(stream.push(speech(0.4, 0.4)).await.expect("push").len(), 2);
}

/// A live session in another process than its recognizer (the split server's gateway): the
/// engine's stream is fed each sample once, no utterance is decoded whole, and the finals are
/// those of an in-process session.
#[tokio::test]
async fn a_remote_live_session_streams() {
    let audio = [silence(0.5), speech(2.6, 0.3), silence(1.0), speech(1.8, 0.6), silence(1.0)].concat();
    let cfg = RecognizerConfig { min_interim_gap: Duration::ZERO, ..Default::default() };
    let finals = |events: Vec<LiveEvent>| -> Vec<String> {
        events
            .into_iter()
            .filter_map(|e| match e {
                LiveEvent::Transcription(t) if t.is_final => Some(t.text),
                _ => None,
            })
            .collect()
    };
    let mut texts = Vec::new();
    let engine = Arc::new(StreamingStt::default());
    let remote: Arc<dyn SpeechToText> =
        Arc::new(RemoteStt::connect_lazy(&serve(engine.clone()).await, Duration::from_secs(10)).expect("client"));
    for stt in [engine.clone() as Arc<dyn SpeechToText>, remote] {
        let mut r = Recognizer::new(stt, cfg.clone(), english(), Box::new(LoudnessVad::default()));
        let mut events = Vec::new();
        for c in audio.chunks(1_600) {
            events.extend(r.push(16_000, c).await.expect("push"));
        }
        events.extend(r.finish().await);
        assert!(events.iter().any(|e| matches!(e, LiveEvent::Transcription(t) if !t.is_final)), "interims too");
        texts.push(finals(events));
    }
    assert_eq!(texts[0].len(), 2, "{texts:?}");
    assert_eq!(texts[0], texts[1]);
    assert_eq!(engine.transcribes.load(Ordering::SeqCst), 0, "nothing decoded whole");
    let fed = engine.fed.load(Ordering::SeqCst);
    assert!(fed <= 2 * audio.len(), "fed {fed} samples for two sessions of {}", audio.len());
}
