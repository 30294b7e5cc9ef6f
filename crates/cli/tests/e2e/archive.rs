//! The speech archive on its embedded defaults (SQLite, local files, the queue in the database)
//! through the real server: uploads (multipart and raw), deduplication, bad input that changes
//! nothing, the ASR and NLP-Post workers on real Vietnamese speech, transcripts in every format,
//! audio by range, a poison recording dead-lettered with its reason, deletion.
use crate::common::*;
use crate::{nats, pg, seaweed};
use futures::StreamExt;
use serde_json::Value;
use sokuji_core::wer::word_error_rate;
use std::time::{Duration, Instant};

/// Polls a recording until its status is `want` (deadline 180 s; a failure ends it early); a miss
/// names the dead letters too.
pub async fn wait_status(http: &reqwest::Client, base: &str, id: &str, want: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        let (_, v) = get_json(http, format!("{base}/api/v1/recordings/{id}")).await;
        if v["status"] == want {
            return v;
        }
        if Instant::now() > deadline || (v["status"] == "failed" && want != "failed") {
            let (_, dlq) = get_json(http, format!("{base}/api/v1/dlq")).await;
            panic!("{id} is {}, not {want}: {v}; dead letters: {dlq}", v["status"]);
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

#[tokio::test]
async fn recordings_are_stored_transcribed_normalized_and_served() {
    let env = [("TTS_PROVIDER", "none"), ("SOKUJI_MAX_DELIVERIES", "2"), ("SOKUJI_RETRY_BACKOFF_MS", "100")];
    let server = Server::start(&["--grpc-listen", "off"], &env).wait_ready();
    let base = server.url();
    let http = reqwest::Client::new();
    let set = speech_set("vieneu");
    let (binh, binh_ref) = set.iter().find(|(p, _)| p.ends_with("binh.wav")).cloned().expect("binh");
    let (ly, ly_ref) = set.iter().find(|(p, _)| p.ends_with("ly.wav")).cloned().expect("ly");
    let binh_bytes = std::fs::read(&binh).expect("wav");

    // Multipart, metadata after the file.
    let form = reqwest::multipart::Form::new()
        .part("file", reqwest::multipart::Part::bytes(binh_bytes.clone()).file_name("binh.wav"))
        .text("language", "vi")
        .text("speaker", "Bình'); DROP TABLE recordings;--")
        .text("tags", "news, 50%_off")
        .text("attributes", r#"{"channel":"vtv1"}"#);
    let r = http.post(format!("{base}/api/v1/recordings")).multipart(form).send().await.expect("upload");
    assert_eq!(r.status(), 202);
    let first: Value = r.json().await.expect("json");
    let id = first["id"].as_str().expect("id").to_string();
    assert_eq!(first["duplicate"], false);

    // The same bytes as a raw body: the same recording.
    let r = http
        .post(format!("{base}/api/v1/recordings?filename=again.wav"))
        .body(binh_bytes.clone())
        .send()
        .await
        .expect("raw");
    assert_eq!(r.status(), 202);
    let again: Value = r.json().await.expect("json");
    assert_eq!((again["id"].as_str(), again["duplicate"].as_bool()), (Some(id.as_str()), Some(true)));

    // A raw upload whose name tries to climb out of the store.
    let r = http
        .post(format!("{base}/api/v1/recordings?language=vi&filename=../../etc/ly.wav"))
        .body(std::fs::read(&ly).expect("wav"))
        .send()
        .await
        .expect("raw");
    assert_eq!(r.status(), 202);
    let ly_id = r.json::<Value>().await.expect("json")["id"].as_str().expect("id").to_string();

    // Accepted bytes that are not audio: they fail in speech-to-text.
    let r = http
        .post(format!("{base}/api/v1/recordings?filename=poison.wav"))
        .body(vec![7u8; 5000])
        .send()
        .await
        .expect("raw");
    assert_eq!(r.status(), 202);
    let poison = r.json::<Value>().await.expect("json")["id"].as_str().expect("id").to_string();

    // Bad input: clear errors, nothing stored.
    for (query, body, code) in [
        ("", Vec::new(), "invalid_audio"),
        ("?language=klingon", vec![1u8; 100], "unsupported_language"),
        ("?colour=red", vec![1u8; 100], "invalid_request"),
        ("?attributes=%5B1%5D", vec![1u8; 100], "invalid_request"),
    ] {
        let r = http.post(format!("{base}/api/v1/recordings{query}")).body(body).send().await.expect("post");
        let status = r.status().as_u16();
        let v: Value = r.json().await.expect("json");
        assert_eq!((status, v["error"]["code"].as_str()), (400, Some(code)), "{query}: {v}");
    }
    let (_, listed) = get_json(&http, format!("{base}/api/v1/recordings")).await;
    assert_eq!(listed["total"], 3, "{listed}");

    // Both recordings flow through ASR and NLP-Post.
    let shown = wait_status(&http, &base, &id, "completed").await;
    assert_eq!(shown["filename"], "binh.wav");
    assert_eq!(shown["speaker"], "Bình'); DROP TABLE recordings;--");
    assert!(shown["stages"].as_array().is_some_and(|s| s.iter().all(|st| st["status"] == "completed")), "{shown}");
    let shown_ly = wait_status(&http, &base, &ly_id, "completed").await;
    assert_eq!(shown_ly["filename"], "ly.wav");

    let (status, t) = get_json(&http, format!("{base}/api/v1/recordings/{id}/transcript")).await;
    assert_eq!(status, 200, "{t}");
    let text = t["text"].as_str().expect("text");
    // Vietnamese goes to the Conformer, and the transcript says so (Whisper base: ~30% WER).
    assert!(word_error_rate(&binh_ref, text) < 0.15, "{text}");
    assert_eq!(
        (t["language"].as_str(), t["engine"].as_str(), t["model"].as_str()),
        (Some("vi"), Some("conformer-ctc"), Some("vi-conformer"))
    );
    let segments = t["segments"].as_array().expect("segments");
    assert!(segments.iter().all(|s| s["normalized"].is_string() && s["end"].as_f64() > s["start"].as_f64()));
    let words = segments[0]["words"].as_array().expect("words");
    assert!(words.len() >= 3 && words.iter().all(|w| w["probability"].as_f64().is_some()), "{t}");
    // The normalized text's tokens carry the times of the words they came from.
    for s in segments {
        let tokens = s["normalized"].as_str().unwrap_or_default().split_whitespace().count();
        let timed = s["normalized_words"].as_array().map_or(0, Vec::len);
        assert_eq!(tokens, timed, "{s}");
    }
    let (_, t_ly) = get_json(&http, format!("{base}/api/v1/recordings/{ly_id}/transcript?normalized=true")).await;
    assert!(word_error_rate(&ly_ref, t_ly["text"].as_str().unwrap_or("")) < 0.5, "{t_ly}");
    let srt = http.get(format!("{base}/api/v1/recordings/{id}/transcript?format=srt")).send().await.expect("srt");
    assert!(srt.text().await.expect("text").contains(" --> "));

    // Audio by range.
    let r = http
        .get(format!("{base}/api/v1/recordings/{id}/audio"))
        .header("range", "bytes=0-43")
        .send()
        .await
        .expect("audio");
    assert_eq!(r.status(), 206);
    assert_eq!(
        r.headers().get("content-range").and_then(|v| v.to_str().ok()),
        Some(format!("bytes 0-43/{}", binh_bytes.len()).as_str())
    );
    let head = r.bytes().await.expect("bytes");
    assert_eq!(head.as_ref(), &binh_bytes[..44]);

    // Filters.
    let count = |q: &'static str| {
        let (http, base) = (http.clone(), base.clone());
        async move { get_json(&http, format!("{base}/api/v1/recordings?{q}")).await.1["total"].as_u64() }
    };
    assert_eq!(count("tag=50%25_off").await, Some(1));
    assert_eq!(count("tag=50").await, Some(0));
    assert_eq!(count("language=vi").await, Some(2));
    assert_eq!(count("status=completed").await, Some(2));

    // The poison recording ends failed, its reason in the dead-letter queue and in its stage.
    let failed = wait_status(&http, &base, &poison, "failed").await;
    let asr = failed["stages"].as_array().and_then(|s| s.iter().find(|st| st["stage"] == "asr")).cloned().expect("asr");
    assert_eq!((asr["status"].as_str(), asr["attempts"].as_u64()), (Some("failed"), Some(2)), "{failed}");
    assert!(asr["last_error"].as_str().is_some_and(|e| !e.is_empty()));
    assert_eq!(count("status=failed").await, Some(1));

    // The terminal: dead letters listed, ingestion that skips what is stored, purge.
    let cli = |args: &[&str]| {
        let out = std::process::Command::new(bin()).args(args).args(["--server", &base]).output().expect("run sokuji");
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).to_string()
    };
    assert!(cli(&["dlq", "ls"]).contains(&poison));
    let dir = tempfile::tempdir().expect("dir");
    std::fs::create_dir(dir.path().join("more")).expect("mkdir");
    std::fs::write(dir.path().join("binh.wav"), &binh_bytes).expect("copy");
    let (ngoc, _) = set.iter().find(|(p, _)| p.ends_with("ngoc.wav")).cloned().expect("ngoc");
    std::fs::copy(&ngoc, dir.path().join("more/ngoc.wav")).expect("copy");
    std::fs::write(dir.path().join("notes.txt"), "not audio").expect("write");
    let out = cli(&["ingest", dir.path().to_str().expect("utf-8"), "--language", "vi", "--speaker", "Ngọc"]);
    assert!(out.contains("1 uploaded, 1 already stored, 0 failed"), "{out}");
    assert!(cli(&["recordings", "ls", "--speaker", "Ngọc"]).contains("ngoc.wav"));
    assert!(cli(&["dlq", "purge"]).contains("1 purged"));
    assert_eq!(get_json(&http, format!("{base}/api/v1/dlq")).await.1["total"], 0);

    // Deletion removes it all.
    let r = http.delete(format!("{base}/api/v1/recordings/{id}")).send().await.expect("delete");
    assert_eq!(r.status(), 204);
    assert_eq!(get_json(&http, format!("{base}/api/v1/recordings/{id}")).await.0, 404);
    assert_eq!(get_json(&http, format!("{base}/api/v1/recordings/{id}/audio")).await.0, 404);
    assert_eq!(count("").await, Some(3));
}

#[tokio::test]
async fn a_worker_killed_mid_transcription_loses_nothing_and_doubles_nothing() {
    let data = tempfile::tempdir().expect("data");
    let data_dir = data.path().to_str().expect("utf-8");
    kill_a_worker(&[("SOKUJI_DATA_DIR", data_dir)]).await;
}

/// The same on the scale-out engines: NATS JetStream for events, PostgreSQL for metadata, S3
/// (SeaweedFS) for audio.
#[tokio::test]
async fn on_nats_postgres_and_s3_too() {
    let pg = pg::Postgres::start();
    let s3 = seaweed::SeaweedFs::start();
    let nats = nats::Nats::start();
    let (pg_url, endpoint, nats_url) = (pg.url(), s3.endpoint(), nats.url());
    kill_a_worker(&[
        ("SOKUJI_EVENTS_URL", nats_url.as_str()),
        ("SOKUJI_METADATA_URL", pg_url.as_str()),
        ("SOKUJI_OBJECTS_URL", "s3://sokuji/archive"),
        ("AWS_ENDPOINT_URL", endpoint.as_str()),
        ("AWS_ACCESS_KEY_ID", seaweed::KEY),
        ("AWS_SECRET_ACCESS_KEY", seaweed::SECRET),
        ("AWS_REGION", "us-east-1"),
    ])
    .await;
}

/// Uploads the six recordings through a gateway, kills -9 the worker process mid-transcription,
/// starts another, and checks every recording completed once, with its own words.
async fn kill_a_worker(stores: &[(&str, &str)]) {
    let mut env = vec![("TTS_PROVIDER", "none"), ("SOKUJI_LEASE_SECS", "3")];
    env.extend_from_slice(stores);
    let env = env.as_slice();
    // The API alone, and the workers in their own process on the same archive.
    let gateway = Server::start(&["gateway"], env).wait_ready();
    let worker = Server::start(&["worker"], env);
    let base = gateway.url();
    let http = reqwest::Client::new();
    // Six recordings of ~25 s each (the six clips, each in another order): long enough that the
    // worker is still busy when the first has completed.
    let set = speech_set("vieneu");
    let clips: Vec<Vec<f32>> = set.iter().map(|(p, _)| load_16k(p)).collect();
    let pause = vec![0.0f32; 9_600];
    let mut ids = Vec::new();
    for r in 0..set.len() {
        let order: Vec<usize> = (0..set.len()).map(|i| (r + i) % set.len()).collect();
        let audio: Vec<f32> = order.iter().flat_map(|&i| clips[i].iter().chain(&pause).copied()).collect();
        let reference: Vec<&str> = order.iter().map(|&i| set[i].1.as_str()).collect();
        let r = http
            .post(format!("{base}/api/v1/recordings?language=vi&filename=x.wav"))
            .body(wav_bytes(&audio))
            .send()
            .await
            .expect("upload");
        assert_eq!(r.status(), 202);
        ids.push((r.json::<Value>().await.expect("json")["id"].as_str().expect("id").to_string(), reference.join(" ")));
    }
    // Kill -9 as soon as the worker has finished its first recording.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    loop {
        let (_, done) = get_json(&http, format!("{base}/api/v1/recordings?status=completed")).await;
        if done["total"].as_u64() >= Some(1) {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "nothing completed: {done}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(worker.is_running(), "the worker started");
    std::process::Command::new("kill").args(["-9", &worker.pid().to_string()]).status().expect("kill");
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!worker.is_running());
    let (_, done) = get_json(&http, format!("{base}/api/v1/recordings?status=completed")).await;
    assert!(done["total"].as_u64() < Some(ids.len() as u64), "the kill came before the work was done: {done}");
    let _worker = Server::start(&["worker"], env);
    for (id, reference) in &ids {
        wait_status(&http, &base, id, "completed").await;
        let (_, t) = get_json(&http, format!("{base}/api/v1/recordings/{id}/transcript")).await;
        let segments = t["segments"].as_array().expect("segments");
        // Exactly once: segment ids 0..n in order, no copies, and the words are the recording's.
        let idx: Vec<u64> = segments.iter().filter_map(|s| s["id"].as_u64()).collect();
        assert_eq!(idx, (0..segments.len() as u64).collect::<Vec<_>>(), "{t}");
        let text = t["text"].as_str().unwrap_or("");
        assert!(word_error_rate(reference, text) < 0.15, "{id}: {text}");
    }
    let (_, dlq) = get_json(&http, format!("{base}/api/v1/dlq")).await;
    assert_eq!(dlq["total"], 0, "{dlq}");
}

/// NATS and then PostgreSQL restart while recordings are uploaded: with NATS down uploads are
/// still accepted (their events wait in the database's outbox), with PostgreSQL down they are
/// refused with 503 + Retry-After and nothing is kept; once both are back every accepted
/// recording completes, once.
#[tokio::test]
async fn restarts_of_nats_and_postgres_during_ingestion_lose_nothing() {
    let pg = pg::Postgres::start();
    let mut nats = nats::Nats::start();
    let objects = tempfile::tempdir().expect("objects");
    let (pg_url, nats_url) = (pg.url(), nats.url());
    let env = [
        ("TTS_PROVIDER", "none"),
        ("SOKUJI_LEASE_SECS", "3"),
        ("SOKUJI_RETRY_BACKOFF_MS", "500"),
        ("SOKUJI_EVENTS_URL", nats_url.as_str()),
        ("SOKUJI_METADATA_URL", pg_url.as_str()),
        ("SOKUJI_OBJECTS_URL", objects.path().to_str().expect("utf-8")),
    ];
    let gateway = Server::start(&["gateway"], &env).wait_ready();
    let _worker = Server::start(&["worker"], &env);
    let base = gateway.url();
    let http = reqwest::Client::builder().timeout(Duration::from_secs(60)).build().expect("client");
    let set = speech_set("vieneu");
    let upload = |wav: &std::path::PathBuf| {
        http.post(format!("{base}/api/v1/recordings?language=vi&filename=x.wav"))
            .body(std::fs::read(wav).expect("wav"))
            .send()
    };
    let accept = |r: reqwest::Response, reference: &String| {
        let reference = reference.clone();
        async move {
            assert_eq!(r.status(), 202);
            let id = r.json::<Value>().await.expect("json")["id"].as_str().expect("id").to_string();
            (id, reference)
        }
    };
    let mut accepted = vec![accept(upload(&set[0].0).await.expect("upload"), &set[0].1).await];
    // NATS goes away: uploads are still accepted.
    nats.stop();
    for (wav, reference) in &set[1..3] {
        accepted.push(accept(upload(wav).await.expect("upload"), reference).await);
    }
    nats.resume();
    // PostgreSQL goes away: a clear, retryable refusal; nothing is listed for it afterwards.
    pg.stop();
    let refused = upload(&set[3].0).await.expect("an answer, not a dropped connection");
    assert_eq!(refused.status(), 503);
    assert!(refused.headers().contains_key("retry-after"), "{:?}", refused.headers());
    let body: Value = refused.json().await.expect("json");
    assert_eq!(body["error"]["code"], "engine_unavailable", "{body}");
    pg.resume();
    // The client retries as told; the rest follow.
    for (wav, reference) in &set[3..] {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let r = upload(wav).await.expect("upload");
            if r.status() == 202 {
                accepted.push(accept(r, reference).await);
                break;
            }
            assert_eq!(r.status(), 503, "only retryable refusals");
            assert!(Instant::now() < deadline, "PostgreSQL did not come back");
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }
    for (id, reference) in &accepted {
        wait_status(&http, &base, id, "completed").await;
        let (_, t) = get_json(&http, format!("{base}/api/v1/recordings/{id}/transcript")).await;
        let segments = t["segments"].as_array().expect("segments");
        let idx: Vec<u64> = segments.iter().filter_map(|s| s["id"].as_u64()).collect();
        assert_eq!(idx, (0..segments.len() as u64).collect::<Vec<_>>(), "{t}");
        assert!(word_error_rate(reference, t["text"].as_str().unwrap_or("")) < 0.5, "{id}: {t}");
    }
    let (_, all) = get_json(&http, format!("{base}/api/v1/recordings?limit=100")).await;
    assert_eq!(all["total"], set.len(), "one recording per file, none lost, none doubled: {all}");
    let (_, dlq) = get_json(&http, format!("{base}/api/v1/dlq")).await;
    assert_eq!(dlq["total"], 0, "{dlq}");
}

/// A recording longer than the ASR window (10 s here, 10 minutes by default) is decoded as a
/// stream and transcribed window by window: each of the six utterances, laid end to end with a
/// second of silence between them, is found at its own time with its own words.
#[tokio::test]
async fn a_long_recording_is_transcribed_window_by_window() {
    let env = [("TTS_PROVIDER", "none"), ("SOKUJI_ASR_WINDOW_SECS", "10")];
    let server = Server::start(&["--grpc-listen", "off"], &env).wait_ready();
    let base = server.url();
    let http = reqwest::Client::new();
    let mut audio = Vec::new();
    let mut spans = Vec::new();
    for (wav, reference) in speech_set("vieneu") {
        let start = audio.len() as f64 / 16_000.0;
        audio.extend(load_16k(&wav));
        spans.push((start, audio.len() as f64 / 16_000.0, reference));
        audio.extend(vec![0.0; 16_000]);
    }
    let total = audio.len() as f64 / 16_000.0;
    assert!(total > 25.0, "three windows at least: {total} s");
    let r = http
        .post(format!("{base}/api/v1/recordings?language=vi&filename=long.wav"))
        .body(wav_bytes(&audio))
        .send()
        .await
        .expect("upload");
    assert_eq!(r.status(), 202);
    let id = r.json::<Value>().await.expect("json")["id"].as_str().expect("id").to_string();
    wait_status(&http, &base, &id, "completed").await;
    let (_, t) = get_json(&http, format!("{base}/api/v1/recordings/{id}/transcript")).await;
    assert!((t["duration"].as_f64().unwrap_or(0.0) - total).abs() < 0.1, "{t}");
    let segments = t["segments"].as_array().expect("segments");
    let idx: Vec<u64> = segments.iter().filter_map(|s| s["id"].as_u64()).collect();
    assert_eq!(idx, (0..segments.len() as u64).collect::<Vec<_>>(), "ids renumbered across windows");
    let words: Vec<(f64, f64, String)> = segments
        .iter()
        .flat_map(|s| s["words"].as_array().cloned().unwrap_or_default())
        .map(|w| {
            let (a, b) = (w["start"].as_f64().unwrap_or(-1.0), w["end"].as_f64().unwrap_or(-1.0));
            (a, b, w["text"].as_str().unwrap_or("").to_string())
        })
        .collect();
    assert!(words.windows(2).all(|p| p[0].0 <= p[1].0 + 0.05), "word times run forward");
    for (start, end, reference) in &spans {
        let heard: Vec<&str> = words
            .iter()
            .filter(|(a, b, _)| (a + b) / 2.0 >= start - 0.5 && (a + b) / 2.0 <= end + 0.5)
            .map(|(_, _, w)| w.as_str())
            .collect();
        let heard = heard.join(" ");
        assert!(word_error_rate(reference, &heard) < 0.5, "{start:.1}–{end:.1} s: {heard:?} vs {reference:?}");
    }
}

/// An upload runs as long as its bytes keep coming, past the request timeout (2 s here, 600 s
/// by default); one that stalls longer than the idle limit is dropped and nothing of it kept.
#[tokio::test]
async fn slow_uploads_finish_and_stalled_ones_leave_nothing() {
    let objects = tempfile::tempdir().expect("objects");
    let env = [
        ("TTS_PROVIDER", "none"),
        ("SOKUJI_REQUEST_TIMEOUT_SECS", "2"),
        ("SOKUJI_UPLOAD_IDLE_SECS", "1"),
        ("SOKUJI_OBJECTS_URL", objects.path().to_str().expect("utf-8")),
    ];
    let gateway = Server::start(&["gateway"], &env).wait_ready();
    let base = gateway.url();
    let http = reqwest::Client::new();
    let set = speech_set("vieneu");
    let (wav, other) = (std::fs::read(&set[0].0).expect("wav"), std::fs::read(&set[1].0).expect("wav"));
    // Eight pieces 0.5 s apart (or one 3 s pause before the last).
    let paced = |wav: &[u8], pause_ms: Vec<u64>| {
        let pieces: Vec<Vec<u8>> = wav.chunks(wav.len().div_ceil(8)).map(<[u8]>::to_vec).collect();
        let stream = futures::stream::iter(pieces.into_iter().zip(pause_ms)).then(|(piece, ms)| async move {
            tokio::time::sleep(Duration::from_millis(ms)).await;
            Ok::<_, std::io::Error>(piece)
        });
        reqwest::Body::wrap_stream(stream)
    };
    let url = format!("{base}/api/v1/recordings?language=vi&filename=slow.wav");
    let started = Instant::now();
    let r = http.post(&url).body(paced(&wav, vec![500; 8])).send().await.expect("upload");
    assert!(started.elapsed() > Duration::from_secs(3), "the upload was slow");
    assert_eq!(r.status(), 202, "{:?}", r.text().await);
    let (_, list) = get_json(&http, format!("{base}/api/v1/recordings")).await;
    assert_eq!((list["total"].as_u64(), list["items"][0]["size_bytes"].as_u64()), (Some(1), Some(wav.len() as u64)));
    let mut stalled = vec![0; 7];
    stalled.push(3000);
    let r = http.post(&url).body(paced(&other, stalled)).send().await;
    if let Ok(r) = r {
        assert!(r.status().is_client_error(), "a stalled upload is refused: {}", r.status());
    }
    let (_, list) = get_json(&http, format!("{base}/api/v1/recordings")).await;
    assert_eq!(list["total"], 1, "{list}");
    let staged = std::fs::read_dir(objects.path().join("uploads")).map(|d| d.count()).unwrap_or(0);
    assert_eq!(staged, 0, "the stalled upload's partial object is removed");
}

/// Live capture into the archive: streamed speech is transcribed as it comes, and on `end` it
/// is stored with that transcript and goes on through NLP-Post.
#[tokio::test]
async fn live_capture_becomes_a_recording() {
    use futures::SinkExt;
    use tokio_tungstenite::tungstenite::Message;
    let server = Server::start(&["--grpc-listen", "off"], &[("TTS_PROVIDER", "none")]).wait_ready();
    let base = server.url();
    let http = reqwest::Client::new();
    let (binh, reference) = speech_set("vieneu").into_iter().find(|(p, _)| p.ends_with("binh.wav")).expect("binh");
    let mut audio = load_16k(&binh);
    audio.extend(vec![0.0; 16_000]);
    let url = format!("ws://127.0.0.1:{}/api/v1/ws/asr", server.port);
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await.expect("connect");
    let config =
        serde_json::json!({"type": "config", "language": "vi", "record": true, "speaker": "Lan", "tags": ["live"]});
    ws.send(Message::Text(config.to_string().into())).await.expect("config");
    for piece in audio.chunks(1600) {
        ws.send(Message::Binary(int16_bytes(piece).into())).await.expect("audio");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    ws.send(Message::Text(r#"{"type":"end"}"#.into())).await.expect("end");
    let mut msgs: Vec<Value> = Vec::new();
    while let Ok(Some(Ok(m))) = tokio::time::timeout(Duration::from_secs(60), ws.next()).await {
        match m {
            Message::Text(t) => msgs.push(serde_json::from_str(&t).expect("json")),
            Message::Close(_) => break,
            _ => {}
        }
    }
    let finals: Vec<&str> = msgs
        .iter()
        .filter(|m| m["type"] == "transcription" && m["is_final"] == true)
        .filter_map(|m| m["text"].as_str())
        .collect();
    let heard = finals.join(" ");
    assert!(word_error_rate(&reference, &heard) < 0.4, "{heard}");
    let rec = msgs.iter().find(|m| m["type"] == "recording").expect("a recording message");
    let id = rec["id"].as_str().expect("id");
    let shown = wait_status(&http, &base, id, "completed").await;
    assert_eq!((shown["speaker"].as_str(), shown["source"].as_str()), (Some("Lan"), Some("live")), "{shown}");
    let (_, t) = get_json(&http, format!("{base}/api/v1/recordings/{id}/transcript")).await;
    assert_eq!(t["text"].as_str(), Some(heard.trim()), "the transcript is the one made live");
    assert!(t["segments"][0]["words"].as_array().is_some_and(|w| !w.is_empty()));
    let wav = http
        .get(format!("{base}/api/v1/recordings/{id}/audio"))
        .send()
        .await
        .expect("audio")
        .bytes()
        .await
        .expect("bytes");
    assert!(wav.starts_with(b"RIFF"));
    assert_eq!(wav.len(), 44 + audio.len() * 2, "every sample sent is stored");
}
