//! `MarianTranslator`: every installed direction loaded once, requests routed to a direct model
//! or pivoted through English, sentences of a batch decoded together.
use crate::{Pair, PairFiles};
use fxtranslate::{
    engine::Engine,
    segment::{BasicSegmenter, Segmenter, reassemble},
    shortlist::Shortlist,
};
use sokuji_core::{
    Error, ErrorCode, Health, Result, TranslateRequest, Translation, Translator,
    translate::{detect_language, validate},
};
use std::{
    collections::BTreeMap,
    sync::{Arc, mpsc},
    time::{Duration, Instant},
};
use tokio::sync::oneshot;

pub const ENGINE: &str = "fxtranslate";
/// Firefox Translations publishes every model to or from English.
const HUB: &str = "en";

/// The models a request runs through, in order: one direction, or two through English.
#[derive(Clone, Debug, PartialEq)]
pub enum Route {
    Direct(Pair),
    Pivot(Pair, Pair),
}

impl Route {
    /// The directions run, in order.
    fn legs(&self) -> Vec<Pair> {
        match self {
            Self::Direct(p) => vec![p.clone()],
            Self::Pivot(a, b) => vec![a.clone(), b.clone()],
        }
    }

    /// `marian-en-pt`, or `marian-vi-en+marian-en-pt` for a pivot.
    pub fn model_name(&self) -> String {
        self.legs().iter().map(|p| format!("marian-{}", p.id())).collect::<Vec<_>>().join("+")
    }
}

/// A cheap handle to the loaded models; clones share them.
///
/// `fxtranslate`'s engines are `Sync` but not `Send` (their packed int8 weights must be freed on
/// the thread that made them), so one worker thread loads, owns and runs them; requests reach it
/// through a channel. A sentence costs milliseconds, so one thread keeps up with a live session
/// and leaves the other cores to speech recognition.
#[derive(Clone)]
pub struct MarianTranslator {
    jobs: mpsc::Sender<Job>,
    pairs: Arc<Vec<Pair>>,
    max_chars: usize,
    timeout: Duration,
}

/// Texts to run through `legs` in order.
struct Job {
    legs: Vec<Pair>,
    texts: Vec<String>,
    deadline: Instant,
    reply: oneshot::Sender<Result<Vec<String>>>,
}

impl MarianTranslator {
    /// Loads every direction in `files` on the worker thread. A direction that does not load is
    /// an error naming it: a corrupt model must not silently send its pair to a slower engine.
    pub fn load(files: Vec<PairFiles>, timeout: Duration) -> std::result::Result<Self, String> {
        let pairs = files.iter().map(|f| f.pair.clone()).collect();
        let (jobs, queue) = mpsc::channel::<Job>();
        let (loaded, load_result) = mpsc::sync_channel(1);
        std::thread::Builder::new()
            .name("marian".into())
            .spawn(move || match load_all(&files) {
                Ok(engines) => {
                    let _ = loaded.send(Ok(()));
                    serve(&engines, queue);
                }
                Err(e) => {
                    let _ = loaded.send(Err(e));
                }
            })
            .map_err(|e| format!("cannot start the translation thread: {e}"))?;
        load_result.recv().map_err(|_| "the translation thread died while loading".to_string())??;
        Ok(Self { jobs, pairs: Arc::new(pairs), max_chars: 2000, timeout })
    }

    /// The directions loaded.
    pub fn pairs(&self) -> Vec<Pair> {
        self.pairs.to_vec()
    }

    /// How `source` → `target` would be translated here; `None` when no model or pivot covers it.
    pub fn route(&self, source: &str, target: &str) -> Option<Route> {
        route(&self.pairs, source, target)
    }

    async fn run(&self, legs: Vec<Pair>, texts: Vec<String>) -> Result<Vec<String>> {
        let (reply, answer) = oneshot::channel();
        let deadline = Instant::now() + self.timeout;
        self.jobs
            .send(Job { legs, texts, deadline, reply })
            .map_err(|_| Error::new(ErrorCode::EngineFailed, "the translation thread has stopped"))?;
        answer.await.map_err(|_| Error::new(ErrorCode::EngineFailed, "the translation thread dropped a request"))?
    }
}

fn load_all(files: &[PairFiles]) -> std::result::Result<BTreeMap<Pair, Engine>, String> {
    let mut engines = BTreeMap::new();
    for f in files {
        let started = Instant::now();
        // Memory-mapped: the weights stay file-backed pages, shared with the page cache.
        let mut engine = Engine::load_mmapped(&f.model, &f.src_vocab, &f.trg_vocab)
            .map_err(|e| format!("translation model {} ({}): {e}", f.pair.id(), f.model.display()))?;
        if let Some(lex) = &f.shortlist {
            let list =
                Shortlist::load(lex).map_err(|e| format!("shortlist of {} ({}): {e}", f.pair.id(), lex.display()))?;
            engine = engine.with_shortlist(list);
        }
        tracing::info!(pair = %f.pair.id(), ms = started.elapsed().as_millis() as u64, "translation model loaded");
        engines.insert(f.pair.clone(), engine);
    }
    Ok(engines)
}

/// The worker's loop: until every handle is gone. A job whose caller left or whose deadline
/// passed while it queued is skipped.
fn serve(engines: &BTreeMap<Pair, Engine>, queue: mpsc::Receiver<Job>) {
    for job in queue {
        if job.reply.is_closed() {
            continue;
        }
        let result = if Instant::now() > job.deadline {
            Err(Error::new(ErrorCode::Timeout, "translation waited past its deadline"))
        } else {
            // A panic in the engine fails this request only; the thread goes on serving.
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                job.legs.iter().try_fold(job.texts, |texts, pair| run_pair(engines, pair, &texts))
            }))
            .unwrap_or_else(|_| Err(Error::new(ErrorCode::EngineFailed, "the translation engine failed on this text")))
        };
        let _ = job.reply.send(result);
    }
}

/// A direct model when there is one, else a pivot through English when both legs are there.
pub fn route(pairs: &[Pair], source: &str, target: &str) -> Option<Route> {
    let has = |s: &str, t: &str| pairs.iter().any(|p| p.source == s && p.target == t);
    if has(source, target) {
        return Some(Route::Direct(Pair::new(source, target)));
    }
    (source != HUB && target != HUB && has(source, HUB) && has(HUB, target))
        .then(|| Route::Pivot(Pair::new(source, HUB), Pair::new(HUB, target)))
}

/// Translates `texts` through one direction: every sentence of every text in one batch, then
/// each text reassembled with its own spacing. Marian models read one sentence at a time (a
/// 128-token window), so a paragraph is never fed whole.
fn run_pair(engines: &BTreeMap<Pair, Engine>, pair: &Pair, texts: &[String]) -> Result<Vec<String>> {
    let engine = engines
        .get(pair)
        .ok_or_else(|| Error::new(ErrorCode::ModelNotFound, format!("no translation model for {}", pair.id())))?;
    let spans: Vec<_> = texts.iter().map(|t| BasicSegmenter.sentences(t)).collect();
    let sentences: Vec<&str> = texts.iter().zip(&spans).flat_map(|(t, s)| s.iter().map(move |s| s.of(t))).collect();
    let mut translated = engine.translate_batch(&sentences).into_iter();
    Ok(texts
        .iter()
        .zip(&spans)
        .map(|(text, spans)| {
            let outputs: Vec<String> = translated.by_ref().take(spans.len()).collect();
            reassemble(text, spans, &outputs)
        })
        .collect())
}

#[async_trait::async_trait]
impl Translator for MarianTranslator {
    async fn translate(&self, request: TranslateRequest) -> Result<Translation> {
        let mut out = self.translate_batch(vec![request]).await?;
        out.pop().ok_or_else(|| Error::internal("translation batch came back empty"))
    }

    /// Requests are grouped by route; each group's sentences are decoded as one batch.
    async fn translate_batch(&self, requests: Vec<TranslateRequest>) -> Result<Vec<Translation>> {
        let started = Instant::now();
        let mut results = Vec::with_capacity(requests.len());
        let mut groups: BTreeMap<(String, String), Vec<usize>> = BTreeMap::new();
        for (i, r) in requests.iter().enumerate() {
            validate(r, self.max_chars)?;
            let detected = r.source == "auto";
            let source = if detected { detect_language(&r.text).to_string() } else { r.source.clone() };
            results.push(Translation {
                original: r.text.clone(),
                text: r.text.trim().to_string(),
                source: source.clone(),
                target: r.target.clone(),
                source_detected: detected,
                engine: ENGINE.into(),
                model: String::new(),
                processing_ms: 0.0,
            });
            if source != r.target {
                groups.entry((source, r.target.clone())).or_default().push(i);
            }
        }
        for ((source, target), members) in groups {
            let route = self.route(&source, &target).ok_or_else(|| {
                Error::new(
                    ErrorCode::UnsupportedLanguage,
                    format!("no translation model for {source}-{target} (installed: {})", installed_ids(self)),
                )
            })?;
            let texts: Vec<String> = members.iter().map(|&i| requests[i].text.clone()).collect();
            let translated = self.run(route.legs(), texts).await?;
            for (i, text) in members.into_iter().zip(translated) {
                results[i].text = text.trim().to_string();
                results[i].model = route.model_name();
            }
        }
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        for r in &mut results {
            r.processing_ms = ms;
        }
        Ok(results)
    }

    /// Languages reachable from some other language, directly or through English.
    async fn languages(&self) -> Result<Vec<String>> {
        let mut langs: Vec<String> = self.pairs.iter().flat_map(|p| [p.source.clone(), p.target.clone()]).collect();
        langs.sort();
        langs.dedup();
        Ok(langs)
    }

    fn serves(&self, source: &str, target: &str) -> bool {
        self.route(source, target).is_some()
    }

    async fn models(&self) -> Vec<String> {
        self.pairs.iter().map(|p| format!("marian-{}", p.id())).collect()
    }

    async fn health(&self) -> Health {
        Health {
            healthy: true,
            status: "ok".into(),
            provider: ENGINE.into(),
            details: [("pairs".to_string(), installed_ids(self))].into(),
        }
    }
}

fn installed_ids(t: &MarianTranslator) -> String {
    let ids: Vec<String> = t.pairs().iter().map(Pair::id).collect();
    if ids.is_empty() { "none".into() } else { ids.join(", ") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_direct_then_through_english() {
        let pairs: Vec<Pair> = ["en-pt", "pt-en", "vi-en", "en-ja"].iter().filter_map(|p| Pair::parse(p)).collect();
        let r = |s, t| route(&pairs, s, t);
        assert_eq!(r("en", "pt"), Some(Route::Direct(Pair::new("en", "pt"))));
        assert_eq!(r("vi", "ja"), Some(Route::Pivot(Pair::new("vi", "en"), Pair::new("en", "ja"))));
        assert_eq!(r("pt", "ja"), Some(Route::Pivot(Pair::new("pt", "en"), Pair::new("en", "ja"))));
        // No en→vi model: nothing reaches Vietnamese.
        assert_eq!(r("pt", "vi"), None);
        assert_eq!(r("en", "vi"), None);
        assert_eq!(r("ja", "en"), None);
        assert_eq!(r("vi", "ja").map(|r| r.model_name()).as_deref(), Some("marian-vi-en+marian-en-ja"));
    }
}
