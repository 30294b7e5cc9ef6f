//! Recall@10 and query latency of an index on synthetic unit vectors (384 dimensions,
//! clustered like sentence embeddings are): build time, then 200 queries compared with exact
//! search. Used by bench/search.sh: `cargo run --release -p sokuji-index --example recall -- N
//! [postgres://…|qdrant://…]` (the embedded index, or pgvector or Qdrant at that URL).
use sokuji_core::search::{Passage, SearchFilter, SearchIndex};
use sokuji_index::{EmbeddedIndex, PgVectorIndex, QdrantIndex};
use std::time::Instant;

/// xorshift64*: reproducible vectors without a dependency.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> f32 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        ((self.0.wrapping_mul(0x2545F4914F6CDD1D) >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
    }
}

fn unit(v: Vec<f32>) -> Vec<f32> {
    let n = v.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-12);
    v.into_iter().map(|x| x / n).collect()
}

#[tokio::main]
async fn main() {
    let n: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(100_000);
    const D: usize = 384;
    let mut rng = Rng(0x9E3779B97F4A7C15);
    let centers: Vec<Vec<f32>> = (0..256).map(|_| unit((0..D).map(|_| rng.next()).collect())).collect();
    let point = |rng: &mut Rng| {
        let c = &centers[(rng.next().abs() * 255.0) as usize];
        // Noise about as long as the centre: neighbours within a cluster are near, but not
        // trivially so (much more noise makes 384-d points all equidistant, a test of nothing).
        unit(c.iter().map(|x| x + 0.09 * rng.next()).collect())
    };
    let vectors: Vec<Vec<f32>> = (0..n).map(|_| point(&mut rng)).collect();
    let dir = tempfile::tempdir().expect("dir");
    let (name, index): (&str, Box<dyn SearchIndex>) = match std::env::args().nth(2) {
        Some(url) if url.starts_with("qdrant") => (
            "Qdrant (HNSW, m 16, ef_construct 100, hnsw_ef 100)",
            Box::new(QdrantIndex::open(&url, std::env::var("SOKUJI_QDRANT_API_KEY").ok(), D).await.expect("qdrant")),
        ),
        Some(url) => (
            "pgvector (HNSW, m 16, ef_construction 64, ef_search 100)",
            Box::new(PgVectorIndex::open(&url, D).await.expect("pg")),
        ),
        None => (
            "embedded (tantivy + hnsw_rs, m 16, ef_construction 200)",
            Box::new(EmbeddedIndex::open(dir.path()).expect("open")),
        ),
    };
    let started = Instant::now();
    // One recording per 100 passages, as an archive would have.
    for (r, chunk) in vectors.chunks(100).enumerate() {
        let passages = chunk
            .iter()
            .enumerate()
            .map(|(i, v)| {
                let p = Passage {
                    recording_id: format!("r{r}"),
                    idx: i as u32,
                    start: 0.0,
                    end: 30.0,
                    text: format!("passage {r} {i}"),
                    speaker: None,
                    language: "vi".into(),
                    tags: vec![],
                    created_at: 0,
                    tenant: String::new(),
                };
                (p, v.clone())
            })
            .collect();
        index.replace(&format!("r{r}"), passages).await.expect("replace");
    }
    let build = started.elapsed().as_secs_f64();
    let mut latencies = Vec::new();
    let mut found = 0usize;
    let queries = 200;
    for _ in 0..queries {
        let q = point(&mut rng);
        let mut exact: Vec<(f32, usize)> =
            vectors.iter().enumerate().map(|(i, v)| (v.iter().zip(&q).map(|(a, b)| a * b).sum::<f32>(), i)).collect();
        exact.sort_by(|a, b| b.0.total_cmp(&a.0));
        let truth: Vec<String> = exact[..10].iter().map(|(_, i)| format!("r{}:{}", i / 100, i % 100)).collect();
        let t = Instant::now();
        let hits = index.semantic(q, &SearchFilter::default(), 10).await.expect("search");
        latencies.push(t.elapsed().as_secs_f64() * 1000.0);
        found +=
            hits.iter().filter(|h| truth.contains(&format!("{}:{}", h.passage.recording_id, h.passage.idx))).count();
    }
    latencies.sort_by(f64::total_cmp);
    let p = |q: f64| latencies[((latencies.len() as f64 - 1.0) * q) as usize];
    println!(
        "| {name} | {n} | {build:.1} | {:.3} | {:.2} | {:.2} |",
        found as f64 / (queries * 10) as f64,
        p(0.5),
        p(0.99)
    );
}
