//! Qdrant as the search index (feature `qdrant`), over its gRPC API with `qdrant-client`.
//! One collection; a point per passage with three vectors: `dense` (the embedding, cosine,
//! HNSW with filters applied inside the graph walk) and two sparse word vectors, `exact` and
//! `folded` (the words as written and diacritic-folded, by the same analyzer as the other
//! engines), weighted here with BM25's term-frequency part while Qdrant supplies the inverse
//! document frequency (`Modifier::Idf`): ranked keyword search without a second store.
//!
//! Writes are not transactional in Qdrant: `replace` upserts the new passages (point ids derive
//! from recording and index, so they overwrite) and then deletes the recording's points past
//! the new count; a crash between the two leaves extra tail passages until the index event is
//! redelivered and redone.
use crate::words::{self, Word};
use qdrant_client::{
    Qdrant, QdrantError,
    qdrant::{
        Condition, CreateCollectionBuilder, CreateFieldIndexCollectionBuilder, DeletePointsBuilder, Distance,
        FieldType, Filter, Modifier, NamedVectors, PointStruct, Query, QueryPointsBuilder, Range, ScoredPoint,
        SearchParamsBuilder, SparseVectorParamsBuilder, SparseVectorsConfigBuilder, UpsertPointsBuilder, Value,
        VectorParamsBuilder, VectorsConfigBuilder, point_id::PointIdOptions, vectors_config,
    },
};
use sokuji_core::{
    Error, ErrorCode, Health, Result,
    search::{Hit, Passage, SearchFilter, SearchIndex},
};
use std::{collections::HashMap, time::Duration};

const DENSE: &str = "dense";
const EXACT: &str = "exact";
const FOLDED: &str = "folded";
/// The collection used when the URL names none.
pub const DEFAULT_COLLECTION: &str = "sokuji_passages";
/// BM25 constants; the average passage length is fixed (a 30 s passage is 60–90 words) since
/// Qdrant does not keep it.
const K1: f32 = 1.2;
const B: f32 = 0.75;
const AVG_WORDS: f32 = 70.0;

fn failed(what: &str, e: QdrantError) -> Error {
    let code = match &e {
        QdrantError::ResponseError { status } | QdrantError::ResourceExhaustedError { status, .. } => {
            match status.code() {
                tonic::Code::Unavailable | tonic::Code::DeadlineExceeded | tonic::Code::ResourceExhausted => {
                    ErrorCode::EngineUnavailable
                }
                // The client reports a refused connection as an internal error.
                tonic::Code::Internal if status.message().starts_with("Failed to connect") => {
                    ErrorCode::EngineUnavailable
                }
                _ => ErrorCode::EngineFailed,
            }
        }
        _ => ErrorCode::EngineFailed,
    };
    Error::new(code, format!("search index (Qdrant, {what}): {e}"))
}

/// `qdrant://host:port[/collection]` (plain gRPC) or `qdrants://…` (TLS) -> the client's URL and
/// the collection.
pub fn parse_url(url: &str) -> Result<(String, String)> {
    let bad = || {
        Error::new(
            ErrorCode::InvalidRequest,
            format!(
                "Qdrant URL {url:?}: expected qdrant://host:port[/collection] or qdrants://… (the gRPC port, 6334)"
            ),
        )
    };
    let (scheme, rest) = if let Some(rest) = url.strip_prefix("qdrant://") {
        ("http", rest)
    } else if let Some(rest) = url.strip_prefix("qdrants://") {
        ("https", rest)
    } else {
        return Err(bad());
    };
    let (host, collection) = rest.split_once('/').unwrap_or((rest, ""));
    let collection = collection.trim_end_matches('/');
    if host.is_empty() || collection.contains('/') {
        return Err(bad());
    }
    let collection = if collection.is_empty() { DEFAULT_COLLECTION } else { collection };
    Ok((format!("{scheme}://{host}"), collection.to_string()))
}

/// A passage's point id: stable for (recording, index), so re-indexing overwrites in place.
/// FNV-1a over 64 bits: a collision among a million passages has odds of about 3 in 10^8.
fn point_id(recording_id: &str, idx: u32) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in recording_id.bytes().chain([0]).chain(idx.to_le_bytes()) {
        h ^= b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// A word's dimension in the sparse vectors (FNV-1a over 32 bits). Two words may share one:
/// keyword hits are checked against the passage's words before they are returned.
fn term(word: &str) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for b in word.bytes() {
        h ^= b as u32;
        h = h.wrapping_mul(0x0100_0193);
    }
    h
}

/// A passage's words as a sparse vector: each distinct word weighted by BM25's saturated term
/// frequency, sorted by dimension.
fn document_vector<'a>(words: impl Iterator<Item = &'a str>) -> Vec<(u32, f32)> {
    let mut counts: HashMap<u32, f32> = HashMap::new();
    let mut len = 0.0f32;
    for w in words {
        *counts.entry(term(w)).or_default() += 1.0;
        len += 1.0;
    }
    let norm = K1 * (1.0 - B + B * len / AVG_WORDS);
    let mut v: Vec<(u32, f32)> = counts.into_iter().map(|(t, tf)| (t, tf * (K1 + 1.0) / (tf + norm))).collect();
    v.sort_by_key(|(t, _)| *t);
    v
}

/// A query's words as a sparse vector: each distinct word once (Qdrant multiplies by its IDF).
fn query_vector<'a>(words: impl Iterator<Item = &'a str>) -> Vec<(u32, f32)> {
    let mut v: Vec<(u32, f32)> = words.map(|w| (term(w), 1.0)).collect();
    v.sort_by_key(|(t, _)| *t);
    v.dedup_by_key(|(t, _)| *t);
    v
}

fn filter(f: &SearchFilter) -> Option<Filter> {
    let mut must = Vec::new();
    // The default tenant's points carry no `tenant` (as every point indexed before tenants).
    match f.tenant.as_deref() {
        None => {}
        Some("") => must.push(Condition::is_empty("tenant")),
        Some(t) => must.push(Condition::matches("tenant", t.to_string())),
    }
    if let Some(l) = &f.language {
        must.push(Condition::matches("language", l.clone()));
    }
    if let Some(s) = &f.speaker {
        must.push(Condition::matches("speaker", s.clone()));
    }
    if let Some(t) = &f.tag {
        must.push(Condition::matches("tags", t.clone()));
    }
    if f.from.is_some() || f.to.is_some() {
        let range = Range { gte: f.from.map(|v| v as f64), lte: f.to.map(|v| v as f64), ..Default::default() };
        must.push(Condition::range("created_at", range));
    }
    (!must.is_empty()).then(|| Filter::must(must))
}

fn payload(p: &Passage) -> HashMap<String, Value> {
    let mut m: HashMap<String, Value> = HashMap::from([
        ("recording_id".to_string(), p.recording_id.clone().into()),
        ("idx".to_string(), (p.idx as i64).into()),
        ("start".to_string(), p.start.into()),
        ("end".to_string(), p.end.into()),
        ("text".to_string(), p.text.clone().into()),
        ("language".to_string(), p.language.clone().into()),
        ("tags".to_string(), p.tags.clone().into()),
        ("created_at".to_string(), p.created_at.into()),
    ]);
    if let Some(s) = &p.speaker {
        m.insert("speaker".into(), s.clone().into());
    }
    if !p.tenant.is_empty() {
        m.insert("tenant".into(), p.tenant.clone().into());
    }
    m
}

fn passage(payload: &HashMap<String, Value>) -> Result<Passage> {
    let bad = |field: &str| {
        Error::new(ErrorCode::EngineFailed, format!("search index (Qdrant): a point without a valid {field:?}"))
    };
    let text = |field: &str| payload.get(field).and_then(|v| v.as_str()).cloned().ok_or_else(|| bad(field));
    let int = |field: &str| payload.get(field).and_then(|v| v.as_integer()).ok_or_else(|| bad(field));
    let float = |field: &str| {
        payload
            .get(field)
            .and_then(|v| v.as_double().or_else(|| v.as_integer().map(|i| i as f64)))
            .ok_or_else(|| bad(field))
    };
    Ok(Passage {
        recording_id: text("recording_id")?,
        idx: u32::try_from(int("idx")?).map_err(|_| bad("idx"))?,
        start: float("start")?,
        end: float("end")?,
        text: text("text")?,
        speaker: payload.get("speaker").and_then(|v| v.as_str()).cloned(),
        language: text("language")?,
        tags: payload
            .get("tags")
            .and_then(|v| v.try_list_iter())
            .map(|l| l.filter_map(|t| t.as_str().cloned()).collect())
            .unwrap_or_default(),
        created_at: int("created_at")?,
        tenant: payload.get("tenant").and_then(|v| v.as_str()).cloned().unwrap_or_default(),
    })
}

/// Qdrant's point id as a u64 (this engine writes only numeric ids).
fn numeric_id(p: &ScoredPoint) -> Option<u64> {
    match p.id.as_ref()?.point_id_options.as_ref()? {
        PointIdOptions::Num(n) => Some(*n),
        PointIdOptions::Uuid(_) => None,
    }
}

#[derive(Clone)]
pub struct QdrantIndex {
    client: std::sync::Arc<Qdrant>,
    collection: String,
}

impl QdrantIndex {
    /// Connects (`qdrant://host:6334[/collection]`, an API key where the server wants one) and
    /// creates the collection and its payload indexes when missing; an existing collection must
    /// hold vectors of `dimensions`.
    pub async fn open(url: &str, api_key: Option<String>, dimensions: usize) -> Result<Self> {
        let (endpoint, collection) = parse_url(url)?;
        let client = Qdrant::from_url(&endpoint)
            .api_key(api_key)
            .timeout(Duration::from_secs(30))
            .connect_timeout(Duration::from_secs(5))
            .skip_compatibility_check()
            .build()
            .map_err(|e| failed("connect", e))?;
        client.health_check().await.map_err(|e| failed("connect", e))?;
        let index = Self { client: std::sync::Arc::new(client), collection };
        let exists = index.client.collection_exists(&index.collection).await.map_err(|e| failed("schema", e))?;
        if !exists && let Err(e) = index.create(dimensions).await {
            // Another process may have created it first.
            if !index.client.collection_exists(&index.collection).await.map_err(|e| failed("schema", e))? {
                return Err(e);
            }
        }
        let have = index.dimensions().await?;
        if have != Some(dimensions) {
            return Err(Error::new(
                ErrorCode::InvalidRequest,
                format!(
                    "Qdrant collection {:?} holds {} {DENSE:?} vectors, the embedding model makes {dimensions} \
                     dimensions: use another collection (qdrant://host:port/NAME)",
                    index.collection,
                    have.map_or("no".to_string(), |d| format!("{d}-dimension")),
                ),
            ));
        }
        Ok(index)
    }

    async fn create(&self, dimensions: usize) -> Result<()> {
        let mut dense = VectorsConfigBuilder::default();
        dense.add_named_vector_params(DENSE, VectorParamsBuilder::new(dimensions as u64, Distance::Cosine));
        let mut sparse = SparseVectorsConfigBuilder::default();
        for name in [EXACT, FOLDED] {
            sparse.add_named_vector_params(name, SparseVectorParamsBuilder::default().modifier(Modifier::Idf));
        }
        self.client
            .create_collection(
                CreateCollectionBuilder::new(&self.collection).vectors_config(dense).sparse_vectors_config(sparse),
            )
            .await
            .map_err(|e| failed("schema", e))?;
        for (field, kind) in [
            ("recording_id", FieldType::Keyword),
            ("language", FieldType::Keyword),
            ("speaker", FieldType::Keyword),
            ("tags", FieldType::Keyword),
            ("tenant", FieldType::Keyword),
            ("idx", FieldType::Integer),
            ("created_at", FieldType::Integer),
        ] {
            self.client
                .create_field_index(CreateFieldIndexCollectionBuilder::new(&self.collection, field, kind).wait(true))
                .await
                .map_err(|e| failed("schema", e))?;
        }
        Ok(())
    }

    /// The size of the collection's dense vectors.
    async fn dimensions(&self) -> Result<Option<usize>> {
        let info = self.client.collection_info(&self.collection).await.map_err(|e| failed("schema", e))?;
        let config = info.result.and_then(|r| r.config).and_then(|c| c.params).and_then(|p| p.vectors_config);
        Ok(match config.and_then(|c| c.config) {
            Some(vectors_config::Config::ParamsMap(m)) => m.map.get(DENSE).map(|p| p.size as usize),
            _ => None,
        })
    }

    fn hits(points: Vec<ScoredPoint>) -> Result<Vec<Hit>> {
        points.iter().map(|p| Ok(Hit { passage: passage(&p.payload)?, score: p.score, highlights: vec![] })).collect()
    }

    /// One sparse-vector query: each point with its numeric id.
    async fn sparse(
        &self,
        using: &str,
        vector: Vec<(u32, f32)>,
        f: &SearchFilter,
        limit: usize,
    ) -> Result<Vec<(u64, ScoredPoint)>> {
        let mut q = QueryPointsBuilder::new(&self.collection)
            .query(Query::new_nearest(vector.as_slice()))
            .using(using)
            .limit(limit as u64)
            .with_payload(true);
        if let Some(f) = filter(f) {
            q = q.filter(f);
        }
        let res = self.client.query(q).await.map_err(|e| failed("search", e))?;
        Ok(res.result.into_iter().filter_map(|p| numeric_id(&p).map(|id| (id, p))).collect())
    }
}

/// Whether a passage holds one of the query's words, folded (the sparse dimensions are hashes).
fn contains_any(text: &str, query: &[Word]) -> bool {
    words::words(text).iter().any(|(_, folded, _, _)| query.iter().any(|(_, qf, _, _)| qf == folded))
}

#[async_trait::async_trait]
impl SearchIndex for QdrantIndex {
    fn name(&self) -> &'static str {
        "qdrant"
    }

    async fn replace(&self, recording_id: &str, passages: Vec<(Passage, Vec<f32>)>) -> Result<()> {
        let count = passages.len();
        let points: Vec<PointStruct> = passages
            .into_iter()
            .map(|(p, v)| {
                let w = words::words(&p.text);
                let mut vectors = NamedVectors::default().add_vector(DENSE, v);
                // A passage without words (no speech, only noise) has no word vectors.
                if !w.is_empty() {
                    vectors = vectors
                        .add_vector(EXACT, document_vector(w.iter().map(|w| w.0.as_str())))
                        .add_vector(FOLDED, document_vector(w.iter().map(|w| w.1.as_str())));
                }
                PointStruct::new(
                    point_id(recording_id, p.idx),
                    vectors,
                    payload(&Passage { recording_id: recording_id.to_string(), ..p }),
                )
            })
            .collect();
        if !points.is_empty() {
            self.client
                .upsert_points_chunked(UpsertPointsBuilder::new(&self.collection, points).wait(true), 256)
                .await
                .map_err(|e| failed("replace", e))?;
        }
        // Then the passages past the new ones (all of them when there are none).
        let stale = Filter::must([
            Condition::matches("recording_id", recording_id.to_string()),
            Condition::range("idx", Range { gte: Some(count as f64), ..Default::default() }),
        ]);
        self.client
            .delete_points(DeletePointsBuilder::new(&self.collection).points(stale).wait(true))
            .await
            .map_err(|e| failed("replace", e))?;
        Ok(())
    }

    async fn health(&self) -> Health {
        match self.client.health_check().await {
            Ok(r) => {
                let mut h = Health::ready("qdrant");
                h.details.insert("version".into(), r.version);
                h.details.insert("collection".into(), self.collection.clone());
                h
            }
            Err(e) => Health::failing("qdrant", &failed("health", e)),
        }
    }

    async fn delete(&self, recording_id: &str) -> Result<()> {
        self.replace(recording_id, Vec::new()).await
    }

    async fn semantic(&self, vector: Vec<f32>, f: &SearchFilter, limit: usize) -> Result<Vec<Hit>> {
        let mut q = QueryPointsBuilder::new(&self.collection)
            .query(Query::new_nearest(vector))
            .using(DENSE)
            .limit(limit as u64)
            .with_payload(true)
            .params(SearchParamsBuilder::default().hnsw_ef(crate::SEARCH_EF as u64));
        if let Some(f) = filter(f) {
            q = q.filter(f);
        }
        let res = self.client.query(q).await.map_err(|e| failed("search", e))?;
        Self::hits(res.result)
    }

    async fn keyword(&self, query: &str, f: &SearchFilter, limit: usize) -> Result<Vec<Hit>> {
        let terms = words::words(query);
        if terms.is_empty() || limit == 0 {
            return Ok(Vec::new());
        }
        // Candidates by folded words, re-ranked with words as written counting double (as the
        // other engines rank); a passage matching as written always matches folded too.
        let wide = limit.max(20) * 3;
        let (folded, exact) = tokio::try_join!(
            self.sparse(FOLDED, query_vector(terms.iter().map(|w| w.1.as_str())), f, wide),
            self.sparse(EXACT, query_vector(terms.iter().map(|w| w.0.as_str())), f, wide),
        )?;
        let exact: HashMap<u64, f32> = exact.into_iter().map(|(id, p)| (id, p.score)).collect();
        let mut hits = Vec::with_capacity(folded.len());
        for (id, p) in folded {
            let passage = passage(&p.payload)?;
            if !contains_any(&passage.text, &terms) {
                continue;
            }
            let score = p.score + 2.0 * exact.get(&id).copied().unwrap_or(0.0);
            let highlights = words::highlights(&passage.text, &terms);
            hits.push(Hit { passage, score, highlights });
        }
        hits.sort_by(|a, b| {
            b.score
                .total_cmp(&a.score)
                .then_with(|| a.passage.recording_id.cmp(&b.passage.recording_id))
                .then(a.passage.idx.cmp(&b.passage.idx))
        });
        hits.truncate(limit);
        Ok(hits)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert_eq!(
            parse_url("qdrant://127.0.0.1:6334").ok(),
            Some(("http://127.0.0.1:6334".into(), DEFAULT_COLLECTION.into()))
        );
        assert_eq!(
            parse_url("qdrants://q.example:6334/talks/").ok(),
            Some(("https://q.example:6334".into(), "talks".into()))
        );
        for bad in ["http://127.0.0.1:6334", "qdrant://", "qdrant://h:1/a/b"] {
            assert_eq!(parse_url(bad).map_err(|e| e.code), Err(ErrorCode::InvalidRequest), "{bad}");
        }
    }

    #[test]
    fn bm25_weights_saturate_and_shorter_passages_weigh_more() {
        let short = document_vector(["hợp", "đồng", "hợp"].into_iter());
        let tf = |v: &[(u32, f32)], w: &str| v.iter().find(|(t, _)| *t == term(w)).map(|(_, x)| *x);
        let (twice, once) = (tf(&short, "hợp").unwrap_or(0.0), tf(&short, "đồng").unwrap_or(0.0));
        assert!(twice > once && twice < 2.0 * once, "saturating: {twice} vs {once}");
        let long: Vec<&str> = std::iter::repeat_n("x", 200).chain(["đồng"]).collect();
        assert!(tf(&document_vector(long.into_iter()), "đồng").unwrap_or(1.0) < once);
        assert!(short.windows(2).all(|w| w[0].0 < w[1].0), "sorted, distinct");
        assert_eq!(query_vector(["a", "b", "a"].into_iter()).len(), 2);
    }

    #[test]
    fn ids_are_stable_and_distinct() {
        assert_eq!(point_id("rec", 3), point_id("rec", 3));
        assert_ne!(point_id("rec", 3), point_id("rec", 4));
        assert_ne!(point_id("rec1", 0), point_id("rec", 1));
    }

    #[test]
    fn payload_round_trip() {
        let p = Passage {
            recording_id: "r".into(),
            idx: 2,
            start: 1.5,
            end: 30.0,
            text: "Hợp đồng".into(),
            speaker: None,
            language: "vi".into(),
            tags: vec!["law".into()],
            created_at: 1_700_000_000_000,
            tenant: String::new(),
        };
        assert_eq!(passage(&payload(&p)).ok(), Some(p.clone()));
        let acme = Passage { tenant: "acme".into(), ..p };
        assert_eq!(passage(&payload(&acme)).ok(), Some(acme));
        assert!(passage(&HashMap::new()).is_err());
    }
}
