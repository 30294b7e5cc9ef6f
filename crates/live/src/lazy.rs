//! A translator loaded on first use (or by a preload task), so a server starts serving at once
//! while a gigabyte of weights is read; requests that arrive during the load wait for it.
use sokuji_core::{Error, Health, Partial, Result, TranslateRequest, Translation, Translator};
use std::sync::Arc;
use tokio::sync::OnceCell;

type Loader = Box<dyn Fn() -> Result<Arc<dyn Translator>> + Send + Sync>;

#[derive(Clone)]
pub struct LazyTranslator(Arc<Inner>);

struct Inner {
    cell: OnceCell<Result<Arc<dyn Translator>, Error>>,
    load: Loader,
    what: String,
}

impl LazyTranslator {
    pub fn new(
        what: impl Into<String>,
        load: impl Fn() -> Result<Arc<dyn Translator>> + Send + Sync + 'static,
    ) -> Self {
        Self(Arc::new(Inner { cell: OnceCell::new(), load: Box::new(load), what: what.into() }))
    }

    /// The engine, loading it (off the async runtime) if nobody has yet. A failed load is kept:
    /// every request gets the same clear error instead of retrying a missing file forever.
    pub async fn get(&self) -> Result<Arc<dyn Translator>> {
        let this = self.0.clone();
        self.0
            .cell
            .get_or_init(|| async move {
                let what = this.what.clone();
                let loaded = tokio::task::spawn_blocking(move || (this.load)()).await;
                let r = loaded.unwrap_or_else(|e| Err(Error::internal(format!("loading {what} panicked: {e}"))));
                if let Err(e) = &r {
                    tracing::error!(engine = %what, "cannot load: {e}");
                }
                r
            })
            .await
            .clone()
    }

    /// Starts loading now, in the background.
    pub fn preload(&self) {
        let this = self.clone();
        tokio::spawn(async move {
            let _ = this.get().await;
        });
    }
}

#[async_trait::async_trait]
impl Translator for LazyTranslator {
    async fn translate(&self, request: TranslateRequest) -> Result<Translation> {
        self.get().await?.translate(request).await
    }

    async fn translate_batch(&self, requests: Vec<TranslateRequest>) -> Result<Vec<Translation>> {
        self.get().await?.translate_batch(requests).await
    }

    async fn translate_partial(&self, request: TranslateRequest, partial: Partial) -> Result<Translation> {
        self.get().await?.translate_partial(request, partial).await
    }

    async fn prepare(&self, request: TranslateRequest) -> Result<()> {
        self.get().await?.prepare(request).await
    }

    async fn languages(&self) -> Result<Vec<String>> {
        Ok(sokuji_core::translate::LANGUAGES.iter().map(|(c, _)| c.to_string()).collect())
    }

    async fn health(&self) -> Health {
        match self.0.cell.get() {
            Some(Ok(t)) => t.health().await,
            Some(Err(e)) => Health {
                healthy: false,
                status: e.message.clone(),
                provider: self.0.what.clone(),
                ..Default::default()
            },
            None => {
                Health { healthy: true, status: "loading".into(), provider: self.0.what.clone(), ..Default::default() }
            }
        }
    }
}
