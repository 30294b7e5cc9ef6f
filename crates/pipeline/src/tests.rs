//! The workers' retry policy on fake engines, the embedded queue and SQLite: an engine away is
//! waited for without spending the recording's deliveries; an engine that fails dead-letters the
//! stage after the last attempt, with the reason on the recording.
use super::*;
use sokuji_core::{
    archive::{Recording, RecordingMeta},
    auth::Visibility,
};
use sokuji_store::{Inserted, QueuePolicy};
use sokuji_testkit::{FlakyStt, LevelStt, silence, speech};

/// NLP-Post that changes nothing.
struct Unchanged;

#[async_trait::async_trait]
impl TextNormalizer for Unchanged {
    async fn normalize(&self, texts: Vec<String>, _: NormalizeMode, _: &str, _: bool) -> Result<Vec<String>> {
        Ok(texts)
    }
}

struct Archive {
    db: Db,
    objects: Objects,
    bus: Arc<dyn EventBus>,
    _dir: tempfile::TempDir,
    _stop: watch::Sender<bool>,
}

async fn archive(max_deliveries: u32) -> Archive {
    let dir = tempfile::tempdir().expect("dir");
    let db = Db::open(&format!("sqlite://{}", dir.path().join("meta.db").display())).await.expect("db");
    let objects = Objects::open(dir.path().join("objects").to_str().expect("utf-8")).expect("objects");
    let policy = QueuePolicy { max_deliveries, backoff: Duration::from_millis(10), lease: Duration::from_secs(3) };
    let (stop, rx) = watch::channel(false);
    let (db, bus) = sokuji_store::bus::open("embedded", db, policy, rx).await.expect("bus");
    Archive { db, objects, bus, _dir: dir, _stop: stop }
}

/// Stores a second of tone (three words to `LevelStt`) as an English recording.
async fn upload(a: &Archive) -> String {
    let mut audio = speech(0.6, 0.3);
    audio.extend(silence(0.4));
    let wav = bytes::Bytes::from(sokuji_audio::wav::encode_wav(&audio, 16_000));
    let staged = a.objects.stage(futures::stream::iter([Ok::<_, std::io::Error>(wav)]), 1 << 20).await.expect("stage");
    let rec = Recording {
        id: "rec-1".into(),
        sha256: staged.sha256.clone(),
        object_key: a.objects.commit(&staged, "").await.expect("commit"),
        filename: "a.wav".into(),
        size_bytes: staged.size,
        status: RecordingStatus::Ingested,
        meta: RecordingMeta { language: Some("en".into()), ..Default::default() },
        created_at: 1,
        updated_at: 1,
        tenant: String::new(),
        owner: None,
    };
    let Inserted::New(rec) = a.db.insert_recording(&rec, None).await.expect("insert") else { panic!("new") };
    rec.id
}

/// Runs the ASR and NLP workers on `stt` until recording `id` is completed or failed.
async fn work(a: &Archive, stt: Arc<dyn SpeechToText>, id: &str) -> Recording {
    let workers = Workers {
        db: a.db.clone(),
        objects: a.objects.clone(),
        stt,
        text: Arc::new(Unchanged),
        bus: a.bus.clone(),
        heartbeat: Duration::from_secs(1),
        window_secs: 600.0,
        search: None,
    };
    let (stop, rx) = watch::channel(false);
    let tasks = [Stage::Asr, Stage::Nlp].map(|s| tokio::spawn(workers.clone().run(s, rx.clone())));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let rec = loop {
        let rec = a.db.recording(id, &Visibility::All).await.expect("recording");
        if matches!(rec.status, RecordingStatus::Completed | RecordingStatus::Failed) {
            break rec;
        }
        assert!(tokio::time::Instant::now() < deadline, "still {:?}", rec.status);
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let _ = stop.send(true);
    for t in tasks {
        t.await.expect("worker");
    }
    rec
}

#[tokio::test]
async fn an_engine_away_spends_no_deliveries() {
    // One delivery only: an attempt spent on the outage would dead-letter the recording.
    let a = archive(1).await;
    let id = upload(&a).await;
    let stt = Arc::new(FlakyStt::new(LevelStt, ErrorCode::EngineUnavailable, |call, _| call < 2));
    let rec = work(&a, stt.clone(), &id).await;
    assert_eq!(rec.status, RecordingStatus::Completed);
    assert_eq!((stt.calls(), stt.failures()), (3, 2));
    let stages = a.db.stages(&id, &Visibility::All).await.expect("stages");
    let asr = stages.iter().find(|s| s.stage == "asr").expect("asr");
    assert_eq!((asr.status.as_str(), asr.attempts, asr.last_error.as_deref()), ("completed", 1, None), "{stages:?}");
    let t = a.db.transcript(&id, &Visibility::All).await.expect("read").expect("transcript");
    assert_eq!(t.segments.iter().map(|s| s.segment.text.as_str()).collect::<Vec<_>>(), ["w3 w3 w3"]);
    assert!(a.bus.dead_letters().await.expect("dlq").is_empty());
}

#[tokio::test]
async fn an_engine_that_fails_dead_letters_the_stage_with_its_reason() {
    let a = archive(2).await;
    let id = upload(&a).await;
    let stt = Arc::new(FlakyStt::new(LevelStt, ErrorCode::EngineFailed, |_, _| true));
    let rec = work(&a, stt.clone(), &id).await;
    assert_eq!(rec.status, RecordingStatus::Failed);
    assert_eq!(stt.calls(), 2, "one call per delivery");
    let stages = a.db.stages(&id, &Visibility::All).await.expect("stages");
    let asr = stages.iter().find(|s| s.stage == "asr").expect("asr");
    assert_eq!((asr.status.as_str(), asr.attempts), ("failed", 2), "{stages:?}");
    assert!(asr.last_error.as_deref().is_some_and(|e| e.contains("scripted failure of call 1")), "{stages:?}");
    let dead = a.bus.dead_letters().await.expect("dlq");
    assert_eq!((dead.len(), dead[0].subscription.as_str(), dead[0].attempts), (1, "asr", 2), "{dead:?}");
    assert!(dead[0].reason.contains("scripted failure of call 1"), "{dead:?}");
}
