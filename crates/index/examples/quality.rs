//! Search quality on real text: pairs of an English sentence and its Vietnamese translation
//! (the Vietnamese message catalogues of Debian's own packages, extracted by bench/search.sh).
//! The Vietnamese sides are indexed as passages; each English side is a query whose one right
//! answer is its translation. Reports hit@1, hit@10 and MRR@10 of exact search over the e5
//! vectors (the model's quality), and of each index with its recall@10 against exact search
//! (the index's quality on real vectors rather than synthetic ones).
//!
//! `cargo run --release -p sokuji-index --example quality -- MODEL_FILE PAIRS_TSV [postgres://…]`
use sokuji_core::{
    EmbedKind,
    search::{Passage, SearchFilter, SearchIndex},
};
use sokuji_embed::E5Embedder;
use sokuji_index::{EmbeddedIndex, PgVectorIndex};
use std::time::Instant;

fn embed(m: &E5Embedder, texts: &[String], kind: EmbedKind) -> Vec<Vec<f32>> {
    texts.chunks(32).flat_map(|c| m.embed_blocking(c, kind).expect("embed").vectors).collect()
}

/// Ranks (0-based) of the right answer in each query's top 10, and the top 10s themselves.
struct Run {
    ranks: Vec<Option<usize>>,
    tops: Vec<Vec<usize>>,
}

impl Run {
    fn row(&self, name: &str, exact: Option<&Run>, passages: usize) {
        let n = self.ranks.len() as f64;
        let hit = |k: usize| self.ranks.iter().filter(|r| r.is_some_and(|r| r < k)).count() as f64 / n;
        let mrr = self.ranks.iter().map(|r| r.map_or(0.0, |r| 1.0 / (r as f64 + 1.0))).sum::<f64>() / n;
        let recall = exact.map_or("1.000 (itself)".to_string(), |e| {
            let found: usize =
                self.tops.iter().zip(&e.tops).map(|(a, b)| a.iter().filter(|i| b.contains(i)).count()).sum();
            format!("{:.3}", found as f64 / (e.tops.iter().map(Vec::len).sum::<usize>().max(1)) as f64)
        });
        println!(
            "| {name} | {passages} | {} | {:.3} | {:.3} | {mrr:.3} | {recall} |",
            self.ranks.len(),
            hit(1),
            hit(10)
        );
    }
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (model, pairs) = (args.get(1).expect("model file"), args.get(2).expect("pairs file"));
    let m = E5Embedder::load(std::path::Path::new(model), "e5-small").expect("model");
    let text = std::fs::read_to_string(pairs).expect("pairs");
    let (queries, passages): (Vec<String>, Vec<String>) =
        text.lines().filter_map(|l| l.split_once('\t')).map(|(en, vi)| (en.to_string(), vi.to_string())).unzip();
    let t = Instant::now();
    let pv = embed(&m, &passages, EmbedKind::Passage);
    let qv = embed(&m, &queries, EmbedKind::Query);
    eprintln!("embedded {} passages and {} queries in {:.0} s", pv.len(), qv.len(), t.elapsed().as_secs_f64());

    let exact = Run {
        ranks: Vec::new(),
        tops: qv
            .iter()
            .map(|q| {
                let mut s: Vec<(f32, usize)> =
                    pv.iter().enumerate().map(|(i, p)| (p.iter().zip(q).map(|(a, b)| a * b).sum(), i)).collect();
                s.sort_by(|a, b| b.0.total_cmp(&a.0));
                s.into_iter().take(10).map(|(_, i)| i).collect()
            })
            .collect(),
    };
    let ranks =
        |tops: &[Vec<usize>]| tops.iter().enumerate().map(|(q, top)| top.iter().position(|&i| i == q)).collect();
    let exact = Run { ranks: ranks(&exact.tops), ..exact };
    exact.row("exact search (e5-small vectors)", None, pv.len());

    let dir = tempfile::tempdir().expect("dir");
    let mut engines: Vec<(&str, Box<dyn SearchIndex>)> =
        vec![("embedded (hnsw_rs)", Box::new(EmbeddedIndex::open(dir.path()).expect("open")))];
    if let Some(url) = args.get(3) {
        engines.push(("pgvector", Box::new(PgVectorIndex::open(url, 384).await.expect("pg"))));
    }
    for (name, index) in engines {
        for (r, chunk) in pv.chunks(100).enumerate() {
            let items = chunk
                .iter()
                .enumerate()
                .map(|(i, v)| {
                    let n = r * 100 + i;
                    let p = Passage {
                        recording_id: format!("r{r}"),
                        idx: i as u32,
                        start: 0.0,
                        end: 30.0,
                        text: passages[n].clone(),
                        speaker: None,
                        language: "vi".into(),
                        tags: vec![],
                        created_at: 0,
                        tenant: String::new(),
                    };
                    (p, v.clone())
                })
                .collect();
            index.replace(&format!("r{r}"), items).await.expect("index");
        }
        let mut tops = Vec::new();
        for q in &qv {
            let hits = index.semantic(q.clone(), &SearchFilter::default(), 10).await.expect("search");
            tops.push(
                hits.iter()
                    .filter_map(|h| {
                        Some(h.passage.recording_id[1..].parse::<usize>().ok()? * 100 + h.passage.idx as usize)
                    })
                    .collect(),
            );
        }
        let run = Run { ranks: ranks(&tops), tops };
        run.row(name, Some(&exact), pv.len());
    }
}
