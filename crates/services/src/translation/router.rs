//! Translation routed by language pair: a dedicated model (Marian, milliseconds a sentence) for
//! every pair it covers, directly or through English, and the general engine (the LLM or a
//! remote provider) for the rest. Every result is checked (`core::fidelity`): numbers, weekdays,
//! months and kept phrases must come through and nothing may be added; a lone wrong weekday or
//! month is put right in place, and any other failed check is tried once more on the general
//! engine with a hint saying what went wrong, and the better of the two answers is kept.
use sokuji_core::{
    Error, ErrorCode, Health, Partial, Result, TranslateRequest, Translation, Translator,
    fidelity::{self, Violation},
    translate::detect_language,
};
use std::sync::{
    Arc,
    atomic::{AtomicU64, Ordering},
};

pub struct TranslationRouter {
    dedicated: Option<Arc<dyn Translator>>,
    general: Option<Arc<dyn Translator>>,
    /// Results that failed a check, and of those, the ones a second attempt fixed.
    failed_checks: AtomicU64,
    repaired: AtomicU64,
}

impl TranslationRouter {
    pub fn new(dedicated: Option<Arc<dyn Translator>>, general: Option<Arc<dyn Translator>>) -> Self {
        Self { dedicated, general, failed_checks: AtomicU64::new(0), repaired: AtomicU64::new(0) }
    }

    /// The engine for a resolved pair: the dedicated one when it has a model for it.
    fn engine_for(&self, source: &str, target: &str) -> Result<(&Arc<dyn Translator>, bool)> {
        if let Some(d) = self.dedicated.as_ref().filter(|d| d.serves(source, target)) {
            return Ok((d, true));
        }
        self.general.as_ref().map(|g| (g, false)).ok_or_else(|| {
            Error::new(ErrorCode::UnsupportedLanguage, format!("no translation model for {source}-{target}"))
        })
    }

    /// The request with its source language resolved ("auto" detected here, so routing can use it).
    fn resolve(request: TranslateRequest) -> (TranslateRequest, bool) {
        if request.source != "auto" {
            return (request, false);
        }
        let source = detect_language(&request.text).to_string();
        (TranslateRequest { source, ..request }, true)
    }

    /// Checks `first`; on a violation, one more attempt on the general engine with hints.
    async fn checked(
        &self,
        request: &TranslateRequest,
        first: Result<Translation>,
        dedicated: bool,
    ) -> Result<Translation> {
        let first = match first {
            Ok(t) => t,
            // A dedicated model that fails (timeout, engine error) leaves the general engine.
            Err(e) if dedicated && self.general.is_some() => {
                tracing::warn!(
                    code = e.code.as_str(),
                    "dedicated translation failed, using the general engine: {}",
                    e.message
                );
                return self.retry(request, &[], None).await;
            }
            Err(e) => return Err(e),
        };
        let violations = fidelity::check(&request.text, &first.source, &first.text, &request.target, &request.keep);
        if violations.is_empty() {
            return Ok(first);
        }
        self.failed_checks.fetch_add(1, Ordering::Relaxed);
        let reasons: Vec<&str> = violations.iter().map(Violation::reason).collect();
        tracing::info!(?reasons, engine = %first.engine, "translation failed its checks");
        // The answer's time is the request's: both attempts, whichever answer stands.
        let mut spent = first.processing_ms;
        let mut best = mended(request, (violations, first));
        // The general engine decodes greedily: asking it again without a hint would repeat itself.
        let hinted = best.0.iter().any(|v| v.hint(&request.target).is_some());
        if !best.0.is_empty()
            && self.general.is_some()
            && (dedicated || hinted)
            && let Ok(second) = self.retry(request, &best.0, Some(best.1.text.clone())).await
        {
            spent += second.processing_ms;
            tracing::debug!(first = %best.1.text, second = %second.text, "translation retried with hints");
            let again = fidelity::check(&request.text, &second.source, &second.text, &request.target, &request.keep);
            let again = mended(request, (again, second));
            if again.0.len() < best.0.len() {
                best = again;
            }
        }
        // Still a reply appended: cut the answer back to the source's number of sentences.
        if best.0.contains(&Violation::Added)
            && let Some(cut) = fidelity::trim_added(&request.text, &best.1.text)
        {
            let again = fidelity::check(&request.text, &best.1.source, &cut, &request.target, &request.keep);
            if again.len() < best.0.len() {
                best = (again, Translation { text: cut, ..best.1 });
            }
        }
        self.repaired.fetch_add(u64::from(best.0.is_empty()), Ordering::Relaxed);
        Ok(Translation { processing_ms: spent, ..best.1 })
    }

    /// One more attempt on the general engine, with hints for `violations`; `first`, the answer
    /// that failed, drafts it: a retry mostly rewrites a phrase, and the rest is read, not written.
    async fn retry(
        &self,
        request: &TranslateRequest,
        violations: &[Violation],
        first: Option<String>,
    ) -> Result<Translation> {
        let general = self.general.as_ref().ok_or_else(|| Error::internal("no general translation engine"))?;
        let hints = violations.iter().filter_map(|v| v.hint(&request.target)).collect();
        // Afresh: a start made from a fragment may be what went wrong (a draft is only checked).
        let draft = first.or_else(|| request.draft.clone());
        general.translate(TranslateRequest { hints, start: None, draft, ..request.clone() }).await
    }
}

/// A checked answer with its one wrong weekday or month put right (`fidelity::mend_dates`), when
/// that leaves fewer violations: no second attempt is needed for the commonest slip.
fn mended(request: &TranslateRequest, (violations, t): (Vec<Violation>, Translation)) -> (Vec<Violation>, Translation) {
    let dates = |v: &Violation| matches!(v, Violation::Weekdays { .. } | Violation::Months { .. });
    let Some(text) = violations
        .iter()
        .any(dates)
        .then(|| fidelity::mend_dates(&request.text, &t.source, &t.text, &request.target))
        .flatten()
    else {
        return (violations, t);
    };
    let again = fidelity::check(&request.text, &t.source, &text, &request.target, &request.keep);
    if again.len() < violations.len() {
        tracing::debug!(from = %t.text, to = %text, "a weekday or month put right");
        (again, Translation { text, ..t })
    } else {
        (violations, t)
    }
}

#[async_trait::async_trait]
impl Translator for TranslationRouter {
    async fn translate(&self, request: TranslateRequest) -> Result<Translation> {
        let (request, detected) = Self::resolve(request);
        let (engine, dedicated) = self.engine_for(&request.source, &request.target)?;
        let first = engine.translate(request.clone()).await;
        let mut t = self.checked(&request, first, dedicated).await?;
        t.source_detected |= detected;
        Ok(t)
    }

    /// Partials come from the first attempt only; a checked retry's answer arrives as the result.
    async fn translate_partial(&self, request: TranslateRequest, partial: Partial) -> Result<Translation> {
        let (request, detected) = Self::resolve(request);
        let (engine, dedicated) = self.engine_for(&request.source, &request.target)?;
        let first = engine.translate_partial(request.clone(), partial).await;
        let mut t = self.checked(&request, first, dedicated).await?;
        t.source_detected |= detected;
        Ok(t)
    }

    /// To the engine that would translate the pair (a dedicated one does nothing); nothing for
    /// "auto", whose pair only the text says.
    async fn prepare(&self, request: TranslateRequest) -> Result<()> {
        if request.source == "auto" {
            return Ok(());
        }
        self.engine_for(&request.source, &request.target)?.0.prepare(request).await
    }

    /// The dedicated engine's share goes as one batch; the general engine's as another.
    async fn translate_batch(&self, requests: Vec<TranslateRequest>) -> Result<Vec<Translation>> {
        let resolved: Vec<(TranslateRequest, bool)> = requests.into_iter().map(Self::resolve).collect();
        let routed = resolved.iter().map(|(r, _)| self.engine_for(&r.source, &r.target)).collect::<Result<Vec<_>>>()?;
        let mut answers: Vec<Option<Result<Translation>>> = (0..resolved.len()).map(|_| None).collect();
        for dedicated in [true, false] {
            let idx: Vec<usize> = (0..resolved.len()).filter(|&i| routed[i].1 == dedicated).collect();
            let Some(&first) = idx.first() else { continue };
            let engine = routed[first].0;
            let batch = idx.iter().map(|&i| resolved[i].0.clone()).collect();
            match engine.translate_batch(batch).await {
                Ok(results) => idx.iter().zip(results).for_each(|(&i, r)| answers[i] = Some(Ok(r))),
                Err(e) => idx.iter().for_each(|&i| answers[i] = Some(Err(e.clone()))),
            }
        }
        let mut out = Vec::with_capacity(resolved.len());
        for (((request, detected), answer), (_, dedicated)) in resolved.iter().zip(answers).zip(routed) {
            let first = answer.unwrap_or_else(|| Err(Error::internal("translation batch lost a result")));
            let mut t = self.checked(request, first, dedicated).await?;
            t.source_detected |= detected;
            out.push(t);
        }
        Ok(out)
    }

    async fn languages(&self) -> Result<Vec<String>> {
        let mut langs = Vec::new();
        for e in self.dedicated.iter().chain(&self.general) {
            langs.extend(e.languages().await?);
        }
        langs.sort();
        langs.dedup();
        Ok(langs)
    }

    fn serves(&self, source: &str, target: &str) -> bool {
        self.dedicated.iter().chain(&self.general).any(|e| e.serves(source, target))
    }

    async fn models(&self) -> Vec<String> {
        let mut out = Vec::new();
        for e in self.dedicated.iter().chain(&self.general) {
            out.extend(e.models().await);
        }
        out
    }

    /// Healthy when the general engine is (it takes every pair); the dedicated one's pairs and
    /// the checks' counts in the details.
    async fn health(&self) -> Health {
        let mut h = match (&self.general, &self.dedicated) {
            (Some(g), _) => g.health().await,
            (None, Some(d)) => d.health().await,
            (None, None) => Health { healthy: false, status: "no translation engine".into(), ..Default::default() },
        };
        if let Some(d) = &self.dedicated {
            let dh = d.health().await;
            h.details.insert(
                "dedicated".into(),
                format!("{} ({})", dh.provider, dh.details.get("pairs").cloned().unwrap_or_default()),
            );
        }
        h.details.insert("failed_checks".into(), self.failed_checks.load(Ordering::Relaxed).to_string());
        h.details.insert("repaired".into(), self.repaired.load(Ordering::Relaxed).to_string());
        h
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    /// Answers from a table; records the requests it saw.
    struct Table {
        name: &'static str,
        pairs: Option<Vec<(&'static str, &'static str)>>,
        answers: Vec<(&'static str, &'static str)>,
        seen: Mutex<Vec<TranslateRequest>>,
    }

    impl Table {
        fn new(
            name: &'static str,
            pairs: Option<Vec<(&'static str, &'static str)>>,
            answers: Vec<(&'static str, &'static str)>,
        ) -> Arc<Self> {
            Arc::new(Self { name, pairs, answers, seen: Mutex::new(Vec::new()) })
        }
        fn seen(&self) -> Vec<TranslateRequest> {
            self.seen.lock().map(|s| s.clone()).unwrap_or_default()
        }
    }

    #[async_trait::async_trait]
    impl Translator for Table {
        async fn translate(&self, r: TranslateRequest) -> Result<Translation> {
            if let Ok(mut s) = self.seen.lock() {
                s.push(r.clone());
            }
            // With hints, the answer keyed by "<text>+hint"; without, by the text.
            let key = if r.hints.is_empty() { r.text.clone() } else { format!("{}+hint", r.text) };
            let text = self.answers.iter().find(|(k, _)| *k == key).map(|(_, v)| v.to_string());
            let text = text.ok_or_else(|| Error::new(ErrorCode::EngineFailed, "no answer"))?;
            Ok(Translation {
                original: r.text,
                text,
                source: r.source,
                target: r.target,
                engine: self.name.into(),
                processing_ms: 100.0,
                ..Default::default()
            })
        }
        /// Logged with the translations, its text marked.
        async fn prepare(&self, r: TranslateRequest) -> Result<()> {
            self.translate(TranslateRequest { text: format!("prepare {}", r.text), ..r }).await.map(|_| ())
        }
        async fn languages(&self) -> Result<Vec<String>> {
            Ok(vec!["en".into(), "pt".into(), "vi".into()])
        }
        async fn health(&self) -> Health {
            Health { healthy: true, provider: self.name.into(), ..Default::default() }
        }
        fn serves(&self, s: &str, t: &str) -> bool {
            self.pairs.as_ref().is_none_or(|p| p.contains(&(s, t)))
        }
    }

    fn req(text: &str, source: &str, target: &str) -> TranslateRequest {
        TranslateRequest { text: text.into(), source: source.into(), target: target.into(), ..Default::default() }
    }

    #[tokio::test]
    async fn pairs_go_to_their_engine() {
        let marian = Table::new("marian", Some(vec![("en", "pt")]), vec![("Good morning.", "Bom dia.")]);
        let llm = Table::new("llm", None, vec![("Good morning.", "Chào buổi sáng.")]);
        let router = TranslationRouter::new(Some(marian.clone()), Some(llm.clone()));
        let t = router.translate(req("Good morning.", "en", "pt")).await.expect("en-pt");
        assert_eq!((t.engine.as_str(), t.text.as_str()), ("marian", "Bom dia."));
        let t = router.translate(req("Good morning.", "auto", "vi")).await.expect("en-vi");
        assert_eq!((t.engine.as_str(), t.source.as_str(), t.source_detected), ("llm", "en", true));
        assert_eq!(llm.seen().len(), 1);
        // Only a dedicated engine: an uncovered pair is a clear error.
        let alone = TranslationRouter::new(Some(marian), None);
        let e = alone.translate(req("Good morning.", "en", "vi")).await.expect_err("no engine");
        assert_eq!(e.code, ErrorCode::UnsupportedLanguage);
    }

    /// A context is read ahead by the engine that will translate its pair (a dedicated model's
    /// is the trait's, which keeps nothing); "auto" says no pair yet, and a pair no engine takes
    /// is a clear error.
    #[tokio::test]
    async fn a_pairs_context_is_prepared_by_its_engine() {
        let marian = Table::new("marian", Some(vec![("en", "pt")]), vec![("prepare ", "")]);
        let llm = Table::new("llm", None, vec![("prepare ", "")]);
        let router = TranslationRouter::new(Some(marian.clone()), Some(llm.clone()));
        let ahead =
            |source: &str, target: &str| TranslateRequest { context: Some("Hi.".into()), ..req("", source, target) };
        router.prepare(ahead("en", "vi")).await.expect("en-vi");
        router.prepare(ahead("en", "pt")).await.expect("en-pt");
        router.prepare(ahead("auto", "vi")).await.expect("auto");
        let targets = |t: &Table| t.seen().iter().map(|r| (r.target.clone(), r.context.clone())).collect::<Vec<_>>();
        assert_eq!(targets(&llm), [("vi".to_string(), Some("Hi.".to_string()))]);
        assert_eq!(targets(&marian), [("pt".to_string(), Some("Hi.".to_string()))]);
        let alone = TranslationRouter::new(Some(marian), None);
        let e = alone.prepare(ahead("en", "vi")).await.expect_err("no engine");
        assert_eq!(e.code, ErrorCode::UnsupportedLanguage);
    }

    #[tokio::test]
    async fn a_missing_weekday_is_retried_with_a_hint() {
        let marian = Table::new("marian", Some(vec![("en", "pt")]), vec![("See you on Friday.", "Até logo.")]);
        let llm = Table::new("llm", None, vec![("See you on Friday.+hint", "Até sexta-feira.")]);
        let router = TranslationRouter::new(Some(marian), Some(llm.clone()));
        let t = router.translate(req("See you on Friday.", "en", "pt")).await.expect("translated");
        assert_eq!((t.engine.as_str(), t.text.as_str()), ("llm", "Até sexta-feira."));
        let hints = &llm.seen()[0].hints;
        assert!(hints.iter().any(|h| h.contains("sexta-feira")), "{hints:?}");
        assert_eq!(llm.seen()[0].draft.as_deref(), Some("Até logo."), "the failed answer drafts the retry");
        assert!(router.health().await.details.get("repaired").is_some_and(|r| r == "1"));
    }

    /// A lone wrong weekday is put right in the answer itself, with no second attempt; with
    /// another slip beside it, the retry is asked about that one only.
    #[tokio::test]
    async fn a_wrong_weekday_is_put_right_in_place() {
        let marian = Table::new(
            "marian",
            Some(vec![("en", "pt")]),
            vec![("See you on Friday.", "Até quinta-feira."), ("2 seats on Friday.", "3 lugares na quinta-feira.")],
        );
        let llm = Table::new("llm", None, vec![("2 seats on Friday.+hint", "2 lugares na quarta-feira.")]);
        let router = TranslationRouter::new(Some(marian), Some(llm.clone()));
        let t = router.translate(req("See you on Friday.", "en", "pt")).await.expect("translated");
        assert_eq!((t.engine.as_str(), t.text.as_str()), ("marian", "Até sexta-feira."));
        assert!(llm.seen().is_empty(), "no second attempt");
        let t = router.translate(req("2 seats on Friday.", "en", "pt")).await.expect("translated");
        assert_eq!((t.engine.as_str(), t.text.as_str()), ("llm", "2 lugares na sexta-feira."));
        let hints = &llm.seen()[0].hints;
        assert!(hints.len() == 1 && hints[0].contains('2'), "{hints:?}");
        let health = router.health().await;
        assert_eq!(
            (health.details.get("failed_checks"), health.details.get("repaired")),
            (Some(&"2".into()), Some(&"2".into()))
        );
    }

    #[tokio::test]
    async fn the_better_answer_is_kept() {
        // The retry is worse (adds a reply and loses the number): the first answer stands.
        let llm = Table::new(
            "llm",
            None,
            vec![
                ("Two tickets, 15 euros.", "Hai vé, 50 euro."),
                ("Two tickets, 15 euros.+hint", "Hai vé. Cảm ơn bạn! Tôi giúp gì?"),
            ],
        );
        let router = TranslationRouter::new(None, Some(llm.clone()));
        let t = router.translate(req("Two tickets, 15 euros.", "en", "vi")).await.expect("translated");
        assert_eq!(t.text, "Hai vé, 50 euro.");
        assert_eq!(llm.seen().len(), 2);
        // The first answer's, but the time of both attempts.
        assert_eq!(t.processing_ms, 200.0);
    }

    #[tokio::test]
    async fn an_appended_reply_is_cut_when_retrying_does_not_help() {
        let text = "Thank you very much for your help.";
        let reply = "ありがとうございます。どういたしまして？";
        let llm = Table::new("llm", None, vec![(text, reply), ("Thank you very much for your help.+hint", reply)]);
        let router = TranslationRouter::new(None, Some(llm));
        let t = router.translate(req(text, "en", "ja")).await.expect("translated");
        assert_eq!(t.text, "ありがとうございます。");
    }

    #[tokio::test]
    async fn no_hint_no_second_attempt() {
        // "two" written as a digit: nothing to say that would change a greedy decoder's answer.
        let llm = Table::new("llm", None, vec![("Two tickets.", "2 vé.")]);
        let router = TranslationRouter::new(None, Some(llm.clone()));
        let t = router.translate(req("Two tickets.", "en", "vi")).await.expect("translated");
        assert_eq!((t.text.as_str(), llm.seen().len()), ("2 vé.", 1));
    }

    #[tokio::test]
    async fn a_failing_dedicated_engine_falls_back() {
        let marian = Table::new("marian", Some(vec![("en", "pt")]), vec![]);
        let llm = Table::new("llm", None, vec![("Hello.", "Olá.")]);
        let router = TranslationRouter::new(Some(marian), Some(llm));
        let t = router.translate(req("Hello.", "en", "pt")).await.expect("fell back");
        assert_eq!(t.engine, "llm");
    }

    #[tokio::test]
    async fn batches_split_by_engine_and_keep_order() {
        let marian = Table::new("marian", Some(vec![("en", "pt")]), vec![("One.", "Um."), ("Three.", "Três.")]);
        let llm = Table::new("llm", None, vec![("Two.", "Hai.")]);
        let router = TranslationRouter::new(Some(marian), Some(llm));
        let out = router
            .translate_batch(vec![req("One.", "en", "pt"), req("Two.", "en", "vi"), req("Three.", "en", "pt")])
            .await
            .expect("batch");
        let got: Vec<(&str, &str)> = out.iter().map(|t| (t.engine.as_str(), t.text.as_str())).collect();
        assert_eq!(got, [("marian", "Um."), ("llm", "Hai."), ("marian", "Três.")]);
    }
}
