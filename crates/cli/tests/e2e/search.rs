//! Search over the archive, end to end on real speech: the six Vietnamese recordings and six
//! English ones (synthesized) are uploaded, transcribed, normalized, cut into passages,
//! embedded and indexed by `sokuji serve`; then semantic queries phrased differently from the
//! transcript (in Vietnamese and English), keyword queries with and without diacritics, and
//! filtered queries must return the right recording with a time range holding the words.
use crate::common::*;
use crate::pg;
use serde_json::Value;
use std::time::{Duration, Instant};

async fn search(http: &reqwest::Client, base: &str, query: &[(&str, &str)]) -> Vec<Value> {
    let r = http.get(format!("{base}/api/v1/search")).query(query).send().await.expect("search");
    assert_eq!(r.status(), 200, "{query:?}");
    let v: Value = r.json().await.expect("json");
    v["hits"].as_array().cloned().unwrap_or_default()
}

/// Polls until every recording has been indexed (deadline 300 s).
async fn wait_indexed(http: &reqwest::Client, base: &str, ids: &[String]) {
    let deadline = Instant::now() + Duration::from_secs(300);
    for id in ids {
        loop {
            let (_, v) = get_json(http, format!("{base}/api/v1/recordings/{id}")).await;
            let indexed = v["stages"]
                .as_array()
                .is_some_and(|s| s.iter().any(|st| st["stage"] == "index" && st["status"] == "completed"));
            if indexed {
                break;
            }
            assert!(Instant::now() < deadline, "not indexed: {v}");
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    }
}

#[tokio::test]
async fn archive_search_by_meaning_and_by_words() {
    let server = Server::start(&["--grpc-listen", "off"], &[("TTS_PROVIDER", "none")]).wait_ready();
    let base = server.url();
    let http = reqwest::Client::new();
    let mut ids = std::collections::HashMap::new();
    for (set, language) in [("vieneu", "vi"), ("en", "en")] {
        for (wav, _) in speech_set(set) {
            let name = wav.file_stem().and_then(|s| s.to_str()).expect("name").to_string();
            let speaker = if name == "binh" {
                "Bình"
            } else if language == "en" {
                "Joe"
            } else {
                "Lan"
            };
            let tag = if name == "doan" { "parenting" } else { "misc" };
            let url = format!(
                "{base}/api/v1/recordings?language={language}&speaker={speaker}&tags={tag}&filename={name}.wav"
            );
            let r = http.post(url).body(std::fs::read(&wav).expect("wav")).send().await.expect("upload");
            assert_eq!(r.status(), 202);
            let id = r.json::<Value>().await.expect("json")["id"].as_str().expect("id").to_string();
            ids.insert(name, id);
        }
    }
    let all: Vec<String> = ids.values().cloned().collect();
    wait_indexed(&http, &base, &all).await;
    let id = |name: &str| ids[name].clone();
    let top = |hits: &[Value]| hits.first().and_then(|h| h["recording_id"].as_str()).unwrap_or("").to_string();

    // Meaning, phrased differently, in Vietnamese and English.
    for (q, want) in [
        ("cách người Do Thái dạy con", "doan"),
        ("how Jewish parents raise their children", "doan"),
        ("lemon juice drink", "06"),
        ("a bowl of rice", "05"),
    ] {
        let hits = search(&http, &base, &[("q", q), ("mode", "semantic")]).await;
        assert_eq!(top(&hits), id(want), "{q}: {hits:?}");
        let (start, end) = (hits[0]["start"].as_f64().unwrap_or(-1.0), hits[0]["end"].as_f64().unwrap_or(-1.0));
        assert!((0.0..1.0).contains(&start) && end > 2.0, "{q}: the passage spans the speech: {start}–{end}");
    }

    // Words, with and without diacritics; highlights mark them in the passage.
    for q in ["đứa trẻ", "dua tre"] {
        let hits = search(&http, &base, &[("q", q), ("mode", "keyword")]).await;
        assert_eq!(top(&hits), id("doan"), "{q}: {hits:?}");
        let text: Vec<char> = hits[0]["text"].as_str().unwrap_or("").chars().collect();
        let marked: Vec<String> = hits[0]["highlights"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|h| Some(text.get(h[0].as_u64()? as usize..h[1].as_u64()? as usize)?.iter().collect()))
            .collect();
        assert!(marked.iter().any(|w| w.to_lowercase() == "trẻ"), "{q}: {marked:?} in {:?}", hits[0]["text"]);
    }
    // Hybrid (the default) puts the passage with both meaning and words first.
    let hits = search(&http, &base, &[("q", "nuôi con")]).await;
    assert_eq!(top(&hits), id("doan"), "{hits:?}");

    // Filters.
    let hits = search(&http, &base, &[("q", "children"), ("speaker", "Bình"), ("mode", "semantic")]).await;
    assert!(!hits.is_empty() && hits.iter().all(|h| h["recording_id"] == id("binh").as_str()), "{hits:?}");
    let hits = search(&http, &base, &[("q", "food"), ("language", "en"), ("mode", "semantic")]).await;
    assert!(!hits.is_empty() && hits.iter().all(|h| h["language"] == "en"), "{hits:?}");
    let hits = search(&http, &base, &[("q", "con"), ("tag", "parenting")]).await;
    assert!(hits.iter().all(|h| h["recording_id"] == id("doan").as_str()), "{hits:?}");

    // The CLI prints the hit with its times.
    let out = std::process::Command::new(bin())
        .args(["search", "how Jewish parents raise their children", "--mode", "semantic", "--server", &base])
        .output()
        .expect("sokuji search");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let first = stdout.lines().next().unwrap_or("");
    assert!(first.starts_with(&id("doan")) && first.contains("0:0"), "{stdout}");

    // Bad requests are clear; the page is served.
    for q in ["", "?q=x&mode=fuzzy", "?q=x&limit=0", "?q=x&limit=1000", "?q=x&colour=red", "?q=%20"] {
        let (status, v) = get_json(&http, format!("{base}/api/v1/search{q}")).await;
        assert_eq!((status, v["error"]["code"].as_str()), (400, Some("invalid_request")), "{q}: {v}");
    }
    let page = http.get(format!("{base}/search")).send().await.expect("page").text().await.expect("html");
    assert!(page.contains("Search the archive") && page.contains("/api/v1/search"));

    // Deleting a recording takes its passages out of the index.
    let r = http.delete(format!("{base}/api/v1/recordings/{}", id("doan"))).send().await.expect("delete");
    assert_eq!(r.status(), 204);
    let hits = search(&http, &base, &[("q", "đứa trẻ"), ("mode", "keyword")]).await;
    assert!(hits.iter().all(|h| h["recording_id"] != id("doan").as_str()), "{hits:?}");
}

/// Split: a gateway and a worker process (ASR, NLP-Post and indexing) on PostgreSQL, which
/// holds the metadata, the queue and the search index (pgvector): what one indexes, the other
/// finds.
#[tokio::test]
async fn search_on_postgres_across_processes() {
    let pg = pg::Postgres::start();
    let objects = tempfile::tempdir().expect("objects");
    let url = pg.url();
    let env = [
        ("TTS_PROVIDER", "none"),
        ("SOKUJI_METADATA_URL", url.as_str()),
        ("SOKUJI_SEARCH_URL", url.as_str()),
        ("SOKUJI_OBJECTS_URL", objects.path().to_str().expect("utf-8")),
    ];
    let gateway = Server::start(&["gateway"], &env).wait_ready();
    let _worker = Server::start(&["worker", "--stages", "asr,nlp,index"], &env);
    let base = gateway.url();
    let http = reqwest::Client::new();
    let mut ids = std::collections::HashMap::new();
    for (wav, _) in speech_set("vieneu").into_iter().take(3) {
        let name = wav.file_stem().and_then(|s| s.to_str()).expect("name").to_string();
        let url = format!("{base}/api/v1/recordings?language=vi&speaker=Lan&filename={name}.wav");
        let r = http.post(url).body(std::fs::read(&wav).expect("wav")).send().await.expect("upload");
        assert_eq!(r.status(), 202);
        ids.insert(name, r.json::<Value>().await.expect("json")["id"].as_str().expect("id").to_string());
    }
    let all: Vec<String> = ids.values().cloned().collect();
    wait_indexed(&http, &base, &all).await;
    let hits = search(&http, &base, &[("q", "how Jewish parents raise their children"), ("mode", "semantic")]).await;
    assert_eq!(hits.first().and_then(|h| h["recording_id"].as_str()), Some(ids["doan"].as_str()), "{hits:?}");
    let hits = search(&http, &base, &[("q", "dua tre"), ("mode", "keyword")]).await;
    assert_eq!(hits.first().and_then(|h| h["recording_id"].as_str()), Some(ids["doan"].as_str()), "{hits:?}");
    assert!(hits[0]["highlights"].as_array().is_some_and(|h| !h.is_empty()), "{hits:?}");
}

/// An index that lost its passages (a new engine, a removed directory) is filled again from the
/// archive's transcripts by `sokuji reindex`, without transcribing anything again; `/health`
/// reports the embedder and the index.
#[tokio::test]
async fn reindex_fills_an_empty_index() {
    let data = tempfile::tempdir().expect("data dir");
    let env = [("TTS_PROVIDER", "none"), ("SOKUJI_DATA_DIR", data.path().to_str().expect("utf-8"))];
    let http = reqwest::Client::new();
    let (wav, _) =
        speech_set("vieneu").into_iter().find(|(w, _)| w.file_stem().is_some_and(|s| s == "doan")).expect("doan.wav");
    let id = {
        let server = Server::start(&["--grpc-listen", "off"], &env).wait_ready();
        let base = server.url();
        let r = http
            .post(format!("{base}/api/v1/recordings?language=vi&filename=doan.wav"))
            .body(std::fs::read(&wav).expect("wav"))
            .send()
            .await
            .expect("upload");
        assert_eq!(r.status(), 202);
        let id = r.json::<Value>().await.expect("json")["id"].as_str().expect("id").to_string();
        wait_indexed(&http, &base, std::slice::from_ref(&id)).await;
        id
    };
    std::fs::remove_dir_all(data.path().join("index")).expect("remove the index");
    let server = Server::start(&["--grpc-listen", "off"], &env).wait_ready();
    let base = server.url();
    let (_, health) = get_json(&http, format!("{base}/health")).await;
    assert_eq!(
        (health["services"]["embedding"].as_str(), health["services"]["search"].as_str()),
        (Some("ready"), Some("ready")),
        "{health}"
    );
    assert!(search(&http, &base, &[("q", "dua tre"), ("mode", "keyword")]).await.is_empty());
    let (status, v) = post_json(&http, format!("{base}/api/v1/recordings/no-such-id/reindex"), Value::Null).await;
    assert_eq!((status, v["error"]["code"].as_str()), (404, Some("not_found")), "{v}");

    let out = std::process::Command::new(bin()).args(["reindex", "--server", &base]).output().expect("sokuji reindex");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("1 recording"), "{out:?}");
    wait_indexed(&http, &base, std::slice::from_ref(&id)).await;
    let hits = search(&http, &base, &[("q", "dua tre"), ("mode", "keyword")]).await;
    assert_eq!(hits.first().and_then(|h| h["recording_id"].as_str()), Some(id.as_str()), "{hits:?}");
    let (_, rec) = get_json(&http, format!("{base}/api/v1/recordings/{id}")).await;
    let asr = rec["stages"].as_array().and_then(|s| s.iter().find(|st| st["stage"] == "asr")).cloned();
    assert_eq!(asr.map(|a| a["attempts"].clone()), Some(Value::from(1)), "transcribed once: {rec}");
}
