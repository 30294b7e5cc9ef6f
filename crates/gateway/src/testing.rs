//! A gateway on fake engines (sokuji-testkit) and a real SQLite + local-files archive, for the
//! crate's tests.
use crate::{AppState, metrics::Metrics, routes::recordings::Archive};
use sokuji_testkit::{FixedTranslator, LevelStt, LoudnessVad, ToneTts};
use std::{path::Path, sync::Arc, time::Duration};

pub async fn state(dir: &Path, send_timeout: Duration) -> AppState {
    let db = sokuji_store::Db::open(&format!("sqlite://{}", dir.join("meta.db").display())).await.expect("db");
    let (_stop_tx, stop) = tokio::sync::watch::channel(false);
    let (db, bus) = sokuji_store::bus::open("embedded", db, Default::default(), stop).await.expect("bus");
    let objects = sokuji_store::Objects::open(&dir.join("objects").display().to_string()).expect("objects");
    let archive = Archive {
        db: db.clone(),
        objects,
        bus,
        max_bytes: 1 << 30,
        upload_idle: Duration::from_secs(10),
        live_record_max: 1 << 26,
        search: None,
    };
    AppState {
        stt: Arc::new(LevelStt),
        text: Arc::new(sokuji_services::VietnameseNormalizer),
        translator: Some(Arc::new(FixedTranslator::default())),
        tts: Some(Arc::new(ToneTts::default())),
        embedder: None,
        max_upload_bytes: 1 << 20,
        model_names: vec!["level".into()],
        metrics: Metrics::new(),
        live_send_timeout: send_timeout,
        request_timeout: Duration::from_secs(30),
        archive: Some(archive),
        vad: Arc::new(|| Box::new(LoudnessVad::default())),
        rejections: Arc::default(),
        cpu: sokuji_admission::Admission::new("test", 2),
        cors: Default::default(),
        auth: crate::auth::Auth {
            mode: Default::default(),
            keys: Some(db),
            tokens: Some(Arc::new(crate::jwt::Tokens::new(None, None).expect("tokens"))),
        },
    }
}
