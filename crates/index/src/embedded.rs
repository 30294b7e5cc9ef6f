//! The embedded index: tantivy (durable: passages, their analyzed text and vectors) plus an
//! in-memory HNSW graph over the vectors, rebuilt from tantivy when opened.
use crate::{
    SEARCH_EF,
    schema::{self, Fields},
    words,
};
use hnsw_rs::prelude::{DistCosine, Hnsw};
use sokuji_core::{
    Error, ErrorCode, Health, Result,
    search::{Hit, Passage, SearchFilter, SearchIndex},
};
use std::{
    collections::HashMap,
    ops::Bound,
    path::Path,
    sync::{Arc, Mutex, RwLock},
};
use tantivy::{
    Index, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument, TantivyError, Term,
    collector::{Count, DocSetCollector, TopDocs},
    directory::{MmapDirectory, error::LockError},
    query::{BooleanQuery, Occur, Query, QueryParser, RangeQuery, TermQuery},
    schema::{IndexRecordOption, Value},
};

fn failed(what: &str, e: impl std::fmt::Display) -> Error {
    Error::new(ErrorCode::EngineFailed, format!("search index ({what}): {e}"))
}

/// The one writer of the index in `dir`; where another process holds it (a second server on the
/// same data directory), an error that says so.
fn writer(index: &Index, dir: &Path) -> Result<IndexWriter> {
    index.writer(50_000_000).map_err(|e| match e {
        TantivyError::LockFailure(LockError::LockBusy, _) => Error::new(
            ErrorCode::EngineUnavailable,
            format!(
                "the search index in {} is in use by another process (another `sokuji serve` with this \
                 data directory?): stop it, or give this server its own SOKUJI_DATA_DIR",
                dir.display()
            ),
        ),
        e => failed("writer", e),
    })
}

/// The vectors' graph: HNSW ids are assigned in insertion order; a replaced or deleted
/// passage's id leaves `keys` and is skipped by searches (hnsw_rs cannot remove points).
struct Graph {
    hnsw: Hnsw<'static, f32, DistCosine>,
    next: usize,
    keys: HashMap<usize, String>,
    by_recording: HashMap<String, Vec<usize>>,
}

impl Graph {
    fn new(expected: usize) -> Self {
        Self {
            hnsw: Hnsw::new(16, expected.max(10_000), 16, 200, DistCosine {}),
            next: 0,
            keys: HashMap::new(),
            by_recording: HashMap::new(),
        }
    }

    fn forget(&mut self, recording_id: &str) {
        for id in self.by_recording.remove(recording_id).unwrap_or_default() {
            self.keys.remove(&id);
        }
    }

    /// Adds passages (recording, key, vector), inserted into the graph in parallel.
    fn add<'a>(&mut self, items: impl IntoIterator<Item = (&'a str, String, &'a Vec<f32>)>) {
        let mut batch = Vec::new();
        for (recording_id, key, vector) in items {
            let id = self.next;
            self.next += 1;
            self.keys.insert(id, key);
            self.by_recording.entry(recording_id.to_string()).or_default().push(id);
            batch.push((vector, id));
        }
        self.hnsw.parallel_insert(&batch);
    }
}

#[derive(Clone)]
pub struct EmbeddedIndex {
    inner: Arc<Inner>,
    /// The directory held an index of an older schema, now emptied: its recordings need
    /// indexing again (`rebuilt()`).
    rebuilt: bool,
}

struct Inner {
    index: Index,
    reader: IndexReader,
    writer: Mutex<IndexWriter>,
    f: Fields,
    graph: RwLock<Graph>,
}

/// Filtered semantic searches keeping at most this many passages score them all.
const EXACT_SCAN_MAX: usize = 10_000;
/// Unfiltered semantic searches over at most this many passages score them all: as cheap as the
/// graph walk there, and exact (a walk over a graph of three passages once missed the nearest).
const EXACT_SCAN_SMALL: usize = 1_000;

fn key(recording_id: &str, idx: u32) -> String {
    format!("{recording_id}:{idx}")
}

impl EmbeddedIndex {
    /// Opens (or creates) the index in `dir` and rebuilds the vector graph from it.
    pub fn open(dir: &Path) -> Result<Self> {
        std::fs::create_dir_all(dir).map_err(|e| failed("create directory", e))?;
        let (schema, f) = schema::schema();
        let open = || MmapDirectory::open(dir).map_err(|e| failed("open", e));
        // An index written before a field was added cannot take the new schema: it is emptied
        // and its recordings indexed again from the database (the caller queues them).
        let outdated = Index::open(open()?).ok().filter(|old| old.schema() != schema);
        let rebuilt = outdated.is_some();
        if let Some(old) = outdated {
            // Never emptied under another process that writes it.
            drop(writer(&old, dir)?);
            drop(old);
            tracing::warn!(dir = %dir.display(), "search index of an older schema: emptied, to be indexed again");
            std::fs::remove_dir_all(dir).map_err(|e| failed("empty", e))?;
            std::fs::create_dir_all(dir).map_err(|e| failed("create directory", e))?;
        }
        let index = Index::open_or_create(open()?, schema).map_err(|e| failed("open", e))?;
        schema::register_analyzers(&index);
        let writer = writer(&index, dir)?;
        let reader =
            index.reader_builder().reload_policy(ReloadPolicy::Manual).try_into().map_err(|e| failed("reader", e))?;
        let searcher = reader.searcher();
        let mut graph = Graph::new(searcher.num_docs() as usize);
        // Rebuilt in batches inserted in parallel (a start-up cost that grows with the index).
        let mut batch: Vec<(String, String, Vec<f32>)> = Vec::new();
        let flush = |graph: &mut Graph, batch: &mut Vec<(String, String, Vec<f32>)>| {
            graph.add(batch.iter().map(|(r, k, v)| (r.as_str(), k.clone(), v)));
            batch.clear();
        };
        for segment in searcher.segment_readers() {
            let store = segment.get_store_reader(64).map_err(|e| failed("store", e))?;
            for doc_id in segment.doc_ids_alive() {
                let doc: TantivyDocument = store.get(doc_id).map_err(|e| failed("read", e))?;
                let recording = doc.get_first(f.recording).and_then(|v| v.as_str()).unwrap_or_default().to_string();
                let k = doc.get_first(f.key).and_then(|v| v.as_str()).unwrap_or_default().to_string();
                let vector = doc.get_first(f.vector).and_then(|v| v.as_bytes()).map(floats).unwrap_or_default();
                if !vector.is_empty() {
                    batch.push((recording, k, vector));
                }
                if batch.len() == 4096 {
                    flush(&mut graph, &mut batch);
                }
            }
        }
        flush(&mut graph, &mut batch);
        tracing::info!(passages = graph.keys.len(), dir = %dir.display(), "search index opened");
        let inner = Inner { index, reader, writer: Mutex::new(writer), f, graph: RwLock::new(graph) };
        Ok(Self { inner: Arc::new(inner), rebuilt })
    }

    /// Whether `open` emptied an index of an older schema (its recordings need indexing again).
    pub fn rebuilt(&self) -> bool {
        self.rebuilt
    }

    /// Index work off the async threads.
    async fn blocking<T: Send + 'static>(&self, work: impl FnOnce(&Inner) -> Result<T> + Send + 'static) -> Result<T> {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || work(&inner)).await.map_err(|e| failed("task", e))?
    }
}

fn floats(b: &[u8]) -> Vec<f32> {
    b.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect()
}

impl Inner {
    fn passage(&self, doc: &TantivyDocument) -> Passage {
        let f = &self.f;
        let s = |field| doc.get_first(field).and_then(|v| v.as_str()).unwrap_or_default().to_string();
        let n = |field| doc.get_first(field).and_then(|v| v.as_f64()).unwrap_or_default();
        Passage {
            recording_id: s(f.recording),
            idx: doc.get_first(f.idx).and_then(|v| v.as_u64()).unwrap_or_default() as u32,
            start: n(f.start),
            end: n(f.end),
            text: s(f.text),
            speaker: Some(s(f.speaker)).filter(|v| !v.is_empty()),
            language: s(f.language),
            tags: doc.get_all(f.tag).filter_map(|v| v.as_str()).map(str::to_string).collect(),
            created_at: doc.get_first(f.created_at).and_then(|v| v.as_i64()).unwrap_or_default(),
            tenant: s(f.tenant).strip_prefix("t:").unwrap_or_default().to_string(),
        }
    }

    fn commit(&self, w: &mut IndexWriter) -> Result<()> {
        w.commit().map_err(|e| failed("commit", e))?;
        self.reader.reload().map_err(|e| failed("reload", e))
    }

    /// Nearest passages among those a filter keeps, scored one by one, when it keeps at most
    /// `max`: exact, where a graph walk would find mostly passages the filter drops (and return
    /// fewer than there are). `None` when the filter keeps more.
    fn exact_scan(&self, vector: &[f32], filter: &SearchFilter, limit: usize, max: usize) -> Result<Option<Vec<Hit>>> {
        let clauses = self.filter_clauses(filter);
        let searcher = self.reader.searcher();
        // No clause matches nothing in a boolean query: no filter is every passage, counted
        // without a search (this runs before every unfiltered search, however large the index).
        let (q, kept): (Box<dyn Query>, usize) = if clauses.is_empty() {
            (Box::new(tantivy::query::AllQuery), usize::try_from(searcher.num_docs()).unwrap_or(usize::MAX))
        } else {
            let q = BooleanQuery::new(clauses);
            let kept = searcher.search(&q, &Count).map_err(|e| failed("search", e))?;
            (Box::new(q), kept)
        };
        if kept > max {
            return Ok(None);
        }
        let norm = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-12);
        let qn = norm(vector);
        let read = |addr| searcher.doc::<TantivyDocument>(addr).map_err(|e| failed("read", e));
        let mut scored = Vec::new();
        for addr in searcher.search(&q, &DocSetCollector).map_err(|e| failed("search", e))? {
            let doc = read(addr)?;
            let v = doc.get_first(self.f.vector).and_then(|v| v.as_bytes()).map(floats).unwrap_or_default();
            if v.len() == vector.len() {
                let dot: f32 = v.iter().zip(vector).map(|(a, b)| a * b).sum();
                scored.push((dot / (norm(&v) * qn), addr));
            }
        }
        scored.sort_by(|a, b| b.0.total_cmp(&a.0));
        scored.truncate(limit);
        let hits = scored
            .into_iter()
            .map(|(score, addr)| Ok(Hit { passage: self.passage(&read(addr)?), score, highlights: vec![] }));
        Ok(Some(hits.collect::<Result<_>>()?))
    }

    fn filter_clauses(&self, filter: &SearchFilter) -> Vec<(Occur, Box<dyn Query>)> {
        let f = &self.f;
        let term = |field, v: &str| -> (Occur, Box<dyn Query>) {
            (Occur::Must, Box::new(TermQuery::new(Term::from_field_text(field, v), IndexRecordOption::Basic)))
        };
        let mut out = Vec::new();
        if let Some(t) = &filter.tenant {
            out.push(term(f.tenant, &schema::tenant_term(t)));
        }
        if let Some(l) = &filter.language {
            out.push(term(f.language, l));
        }
        if let Some(s) = &filter.speaker {
            out.push(term(f.speaker, s));
        }
        if let Some(t) = &filter.tag {
            out.push(term(f.tag, t));
        }
        if filter.from.is_some() || filter.to.is_some() {
            let bound =
                |v: Option<i64>| v.map_or(Bound::Unbounded, |v| Bound::Included(Term::from_field_i64(f.created_at, v)));
            out.push((Occur::Must, Box::new(RangeQuery::new(bound(filter.from), bound(filter.to)))));
        }
        out
    }
}

#[async_trait::async_trait]
impl SearchIndex for EmbeddedIndex {
    fn name(&self) -> &'static str {
        "embedded"
    }

    async fn replace(&self, recording_id: &str, passages: Vec<(Passage, Vec<f32>)>) -> Result<()> {
        let recording_id = recording_id.to_string();
        self.blocking(move |inner| {
            let f = inner.f;
            let mut w = inner.writer.lock().map_err(|_| failed("writer", "poisoned"))?;
            w.delete_term(Term::from_field_text(f.recording, &recording_id));
            for (p, v) in &passages {
                let mut doc = TantivyDocument::default();
                doc.add_text(f.key, key(&recording_id, p.idx));
                doc.add_text(f.recording, &recording_id);
                doc.add_u64(f.idx, u64::from(p.idx));
                doc.add_f64(f.start, p.start);
                doc.add_f64(f.end, p.end);
                doc.add_text(f.text, &p.text);
                doc.add_text(f.folded, &p.text);
                doc.add_text(f.speaker, p.speaker.as_deref().unwrap_or(""));
                doc.add_text(f.language, &p.language);
                for t in &p.tags {
                    doc.add_text(f.tag, t);
                }
                doc.add_i64(f.created_at, p.created_at);
                doc.add_text(f.tenant, schema::tenant_term(&p.tenant));
                doc.add_bytes(f.vector, &v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>());
                w.add_document(doc).map_err(|e| failed("add", e))?;
            }
            inner.commit(&mut w)?;
            // The graph follows the commit, under the writer's lock (so replaces stay in order).
            let mut g = inner.graph.write().map_err(|_| failed("graph", "poisoned"))?;
            g.forget(&recording_id);
            g.add(passages.iter().map(|(p, v)| (recording_id.as_str(), key(&recording_id, p.idx), v)));
            Ok(())
        })
        .await
    }

    /// Ready, with the passages in the graph and the replaced ones it still carries (hnsw_rs
    /// cannot remove points; they go at the next start).
    async fn health(&self) -> Health {
        let mut h = Health::ready("embedded (tantivy + hnsw_rs)");
        if let Ok(g) = self.inner.graph.read() {
            h.details.insert("passages".into(), g.keys.len().to_string());
            h.details.insert("replaced_points".into(), (g.next - g.keys.len()).to_string());
        }
        h
    }

    async fn delete(&self, recording_id: &str) -> Result<()> {
        self.replace(recording_id, Vec::new()).await
    }

    async fn semantic(&self, vector: Vec<f32>, filter: &SearchFilter, limit: usize) -> Result<Vec<Hit>> {
        let filter = filter.clone();
        self.blocking(move |inner| {
            let filtered = filter != SearchFilter::default();
            let max = if filtered { EXACT_SCAN_MAX } else { EXACT_SCAN_SMALL };
            if let Some(hits) = inner.exact_scan(&vector, &filter, limit, max)? {
                return Ok(hits);
            }
            // A filter that keeps many passages applies after the graph search: ask for more.
            let want = if filtered { limit * 10 + 50 } else { limit + 10 };
            let found: Vec<(String, f32)> = {
                let g = inner.graph.read().map_err(|_| failed("graph", "poisoned"))?;
                let live = |id: &usize| g.keys.contains_key(id);
                g.hnsw
                    .search_filter(&vector, want, want.max(SEARCH_EF), Some(&live))
                    .into_iter()
                    .filter_map(|n| g.keys.get(&n.d_id).map(|k| (k.clone(), 1.0 - n.distance)))
                    .collect()
            };
            let searcher = inner.reader.searcher();
            let mut hits = Vec::new();
            for (k, score) in found {
                let q = TermQuery::new(Term::from_field_text(inner.f.key, &k), IndexRecordOption::Basic);
                let top =
                    searcher.search(&q, &TopDocs::with_limit(1).order_by_score()).map_err(|e| failed("read", e))?;
                let Some((_, addr)) = top.first() else { continue };
                let doc: TantivyDocument = searcher.doc(*addr).map_err(|e| failed("read", e))?;
                let passage = inner.passage(&doc);
                if filter.matches(&passage) {
                    hits.push(Hit { passage, score, highlights: Vec::new() });
                }
                if hits.len() == limit {
                    break;
                }
            }
            Ok(hits)
        })
        .await
    }

    async fn keyword(&self, query: &str, filter: &SearchFilter, limit: usize) -> Result<Vec<Hit>> {
        let (query, filter) = (query.to_string(), filter.clone());
        self.blocking(move |inner| {
            let f = inner.f;
            let mut parser = QueryParser::for_index(&inner.index, vec![f.text, f.folded]);
            // Words as written rank above the same words without their diacritics.
            parser.set_field_boost(f.text, 2.0);
            let (parsed, _) = parser.parse_query_lenient(&query);
            let mut clauses = vec![(Occur::Must, parsed)];
            clauses.extend(inner.filter_clauses(&filter));
            let q = BooleanQuery::new(clauses);
            let searcher = inner.reader.searcher();
            let top = searcher
                .search(&q, &TopDocs::with_limit(limit.max(1)).order_by_score())
                .map_err(|e| failed("search", e))?;
            let terms = words::words(&query);
            let mut hits = Vec::new();
            for (score, addr) in top {
                let doc: TantivyDocument = searcher.doc(addr).map_err(|e| failed("read", e))?;
                let passage = inner.passage(&doc);
                let highlights = words::highlights(&passage.text, &terms);
                hits.push(Hit { passage, score, highlights });
            }
            Ok(hits)
        })
        .await
    }
}
