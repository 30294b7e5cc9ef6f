//! The translation service on the wire with a fake engine.
use crate::{RemoteTranslator, grpc};
use sokuji_core::{Error, ErrorCode, Health, Result, TranslateRequest, Translation, Translator};
use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

/// Records what it is asked to prepare; refuses Japanese.
#[derive(Default)]
struct Preparing(Mutex<Vec<TranslateRequest>>);

#[async_trait::async_trait]
impl Translator for Preparing {
    async fn translate(&self, r: TranslateRequest) -> Result<Translation> {
        Ok(Translation { text: r.text, ..Default::default() })
    }
    async fn prepare(&self, r: TranslateRequest) -> Result<()> {
        if r.target == "ja" {
            return Err(Error::new(ErrorCode::UnsupportedLanguage, "no ja here"));
        }
        self.0.lock().map_err(|_| Error::internal("poisoned"))?.push(r);
        Ok(())
    }
    async fn languages(&self) -> Result<Vec<String>> {
        Ok(vec!["en".into(), "vi".into()])
    }
    async fn health(&self) -> Health {
        Health::ready("preparing")
    }
}

/// A context read ahead over the wire reaches the engine with what shapes the prompt (pair,
/// context, terms to keep), and the engine's refusal comes back with its code.
#[tokio::test]
async fn a_context_is_prepared_over_the_wire() {
    let engine = Arc::new(Preparing::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let services = grpc::Services { translation: Some(engine.clone()), ..Default::default() };
    tokio::spawn(grpc::serve(listener, services, grpc::GrpcLimits::default(), std::future::pending()));
    let remote = RemoteTranslator::connect_lazy(&url, Duration::from_secs(10)).expect("client");
    let ahead = TranslateRequest {
        source: "en".into(),
        target: "vi".into(),
        context: Some("Good morning.\nTwo tickets, please.".into()),
        keep: vec!["Sokuji".into()],
        ..Default::default()
    };
    remote.prepare(ahead.clone()).await.expect("prepared");
    let seen = engine.0.lock().map(|s| s.clone()).unwrap_or_default();
    assert_eq!(seen, std::slice::from_ref(&ahead));
    let e = remote.prepare(TranslateRequest { target: "ja".into(), ..ahead }).await.expect_err("refused");
    assert_eq!(e.code, ErrorCode::UnsupportedLanguage);
}
