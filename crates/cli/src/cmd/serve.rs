//! `sokuji serve`: all in one process, or one service alone.
use crate::{cmd::engines, config::Config};
use sokuji_core::{auth::AuthMode, guard::Rejections};
use sokuji_gateway::auth::Auth;
use sokuji_live::LiveEngines;
use sokuji_pipeline::Stage;
use sokuji_services::grpc::{GrpcLimits, Services, serve};
use std::{future::Future, pin::Pin, sync::Arc};
use tokio::net::TcpListener;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Service {
    /// Gateway (HTTP) and every engine in one process; the STT gRPC service beside it.
    All,
    /// The speech-to-text gRPC service alone.
    Stt,
    /// The text-normalization gRPC service alone.
    Text,
    /// The translation gRPC service alone.
    Translation,
    /// The text-to-speech gRPC service alone.
    Tts,
    /// The text-embedding gRPC service alone.
    Embedding,
    /// The HTTP gateway alone, using the services at SOKUJI_*_URL.
    Gateway,
    /// Archive workers alone (`--stages asr,nlp`), on the archive's database and objects.
    Worker,
}

#[derive(clap::Args)]
pub struct Args {
    #[arg(value_enum, default_value = "all")]
    service: Service,
    /// Address to listen on (HTTP for all/gateway, gRPC for a single service).
    #[arg(long)]
    listen: Option<String>,
    /// Where the gRPC services listen too: for `all` the engines' services and the live session
    /// service (default 127.0.0.1:50051, "off" to disable); for `gateway`, the live session
    /// service, only when given.
    #[arg(long)]
    grpc_listen: Option<String>,
    /// For `all`: run each engine as a supervised child process on loopback (restarted when it dies).
    #[arg(long)]
    isolate: bool,
    /// For `worker`: the archive stages to run, comma-separated (asr, nlp).
    #[arg(long, default_value = "asr,nlp")]
    stages: String,
    /// For `all` and `worker`: workers per stage.
    #[arg(long, default_value_t = 1)]
    workers: usize,
}

type Shutdown = Pin<Box<dyn Future<Output = ()> + Send>>;

/// Completes on Ctrl-C or SIGTERM.
fn shutdown_signal() -> Shutdown {
    Box::pin(async {
        let ctrl_c = tokio::signal::ctrl_c();
        #[cfg(unix)]
        {
            let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => return std::future::pending().await,
            };
            tokio::select! { _ = ctrl_c => {}, _ = term.recv() => {} }
        }
        #[cfg(not(unix))]
        let _ = ctrl_c.await;
        tracing::info!("shutting down");
    })
}

/// The archive's stores: the metadata database (migrated) and the object store.
/// The event bus (its NATS relay runs until `stop`) comes with them.
async fn archive(
    cfg: &Config,
    stop: tokio::sync::watch::Receiver<bool>,
) -> anyhow::Result<sokuji_gateway::routes::recordings::Archive> {
    let db = sokuji_store::Db::open(&cfg.metadata_url).await?;
    let (db, bus) = sokuji_store::bus::open(&cfg.events_url, db, queue_policy(cfg), stop).await?;
    let objects = sokuji_store::Objects::open(&cfg.objects_url)?;
    Ok(sokuji_gateway::routes::recordings::Archive {
        db,
        objects,
        bus,
        max_bytes: cfg.max_recording_bytes,
        upload_idle: std::time::Duration::from_secs(cfg.upload_idle_secs.max(1)),
        live_record_max: cfg.live_record_max_bytes,
        search: None,
    })
}

/// The search index and the embedder that feeds it: the embedded index (only where the
/// archive's own database is given: it lives in one process), PostgreSQL with pgvector or
/// Qdrant (anywhere).
async fn search_index(
    cfg: &Config,
    embedder: &Option<Arc<dyn sokuji_core::Embedder>>,
    embedded_here: Option<&sokuji_store::Db>,
) -> anyhow::Result<Option<sokuji_pipeline::Search>> {
    let Some(embedder) = embedder.clone() else { return Ok(None) };
    let index: Arc<dyn sokuji_core::search::SearchIndex> = match (cfg.search_url.as_str(), embedded_here) {
        ("embedded", Some(db)) => {
            let index = sokuji_index::EmbeddedIndex::open(&cfg.data_dir.join("index"))?;
            if index.rebuilt() {
                // An index of an older schema was emptied: every recording is indexed again.
                let queued = db.reindex(None, &sokuji_core::auth::Visibility::All).await?;
                tracing::warn!(queued, "search index rebuilt for a new schema: recordings queued for indexing");
            }
            Arc::new(index)
        }
        ("embedded", None) => return Ok(None),
        (url, _) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
            Arc::new(sokuji_index::PgVectorIndex::open(url, embedder.dimensions()).await?)
        }
        #[cfg(feature = "search-qdrant")]
        (url, _) if url.starts_with("qdrant://") || url.starts_with("qdrants://") => {
            Arc::new(sokuji_index::QdrantIndex::open(url, cfg.qdrant_api_key.clone(), embedder.dimensions()).await?)
        }
        (other, _) => anyhow::bail!(
            "SOKUJI_SEARCH_URL={other:?}: use embedded, postgres://… or qdrant://host:6334[/collection] \
             (Qdrant needs the default `search-qdrant` feature)"
        ),
    };
    tracing::info!(index = index.name(), model = embedder.model(), "search index ready");
    Ok(Some(sokuji_pipeline::Search { embedder, index }))
}

fn queue_policy(cfg: &Config) -> sokuji_store::QueuePolicy {
    sokuji_store::QueuePolicy {
        max_deliveries: cfg.max_deliveries.max(1),
        backoff: std::time::Duration::from_millis(cfg.retry_backoff_ms),
        lease: std::time::Duration::from_secs(cfg.lease_secs.max(1)),
    }
}

fn parse_stages(s: &str) -> anyhow::Result<Vec<Stage>> {
    let stages = s.split(',').filter(|p| !p.trim().is_empty()).map(Stage::parse).collect::<Result<Vec<_>, _>>()?;
    anyhow::ensure!(!stages.is_empty(), "--stages names no stage");
    Ok(stages)
}

fn archive_workers(
    cfg: &Config,
    a: &sokuji_gateway::routes::recordings::Archive,
    stt: Arc<dyn sokuji_core::SpeechToText>,
    text: Arc<dyn sokuji_core::TextNormalizer>,
) -> sokuji_pipeline::Workers {
    sokuji_pipeline::Workers {
        db: a.db.clone(),
        objects: a.objects.clone(),
        stt,
        text,
        bus: a.bus.clone(),
        heartbeat: queue_policy(cfg).lease / 3,
        window_secs: cfg.asr_window_secs.max(10) as f64,
        search: None,
    }
}

fn spawn_workers(
    w: &sokuji_pipeline::Workers,
    stages: &[Stage],
    per_stage: usize,
    stop: &tokio::sync::watch::Receiver<bool>,
) -> Vec<tokio::task::JoinHandle<()>> {
    let mut handles = Vec::new();
    for stage in stages {
        for _ in 0..per_stage.max(1) {
            handles.push(tokio::spawn(w.clone().run(*stage, stop.clone())));
        }
    }
    handles
}

/// `MODEL` as a catalog model of `kind` or an existing file; otherwise what the catalog has.
fn known_model(cfg: &Config, model: &str, kind: sokuji_models::Kind) -> anyhow::Result<String> {
    if sokuji_models::find(model).is_some_and(|m| m.kind == kind) || std::path::Path::new(model).is_file() {
        return Ok(model.to_string());
    }
    let have: Vec<&str> = sokuji_models::CATALOG.iter().filter(|m| m.kind == kind).map(|m| m.name).collect();
    anyhow::bail!(
        "MODEL={model:?} is neither a catalog model of this kind ({}) nor a file; `sokuji models fetch NAME` \
         installs one, or give the path of a model file (models are kept in {})",
        have.join(", "),
        cfg.model_dir.display()
    )
}

/// Serving beyond this machine needs authentication, or the operator's deliberate
/// `SOKUJI_AUTH=off`: an open port on a network is never a default.
async fn exposed_only_with_auth(addr: std::net::SocketAddr, auth: &Auth, what: &str) -> anyhow::Result<()> {
    if addr.ip().is_loopback() || auth.mode == AuthMode::Off || auth.required().await? {
        return Ok(());
    }
    anyhow::bail!(
        "{what} would listen on {addr}, beyond this machine, with no authentication: create a key first \
         (`sokuji keys create --name admin --scopes all`; then every request needs one), or set SOKUJI_AUTH=off to \
         serve without authentication deliberately"
    )
}

/// Who may call this process's services: keys in `keys` (the metadata database, shared with the
/// gateway through SOKUJI_METADATA_URL) and tokens.
fn auth_with(cfg: &Config, keys: Option<sokuji_store::Db>) -> anyhow::Result<Auth> {
    Ok(Auth { mode: cfg.auth, keys, tokens: Some(Arc::new(cfg.tokens()?)) })
}

/// One gRPC service run alone: bound and checked for exposure before `make` loads its engine,
/// then served with the keys of the metadata database (unless authentication is off).
async fn serve_alone<F>(cfg: &Config, addr: &str, what: &str, make: F) -> anyhow::Result<()>
where
    F: AsyncFnOnce() -> anyhow::Result<Services>,
{
    let listener = bind(addr).await?;
    let keys = match cfg.auth {
        AuthMode::Off => None,
        _ => Some(sokuji_store::Db::open(&cfg.metadata_url).await?),
    };
    let auth = auth_with(cfg, keys)?;
    exposed_only_with_auth(listener.local_addr()?, &auth, what).await?;
    let services = Services { auth: Some(Arc::new(auth)), ..make().await? };
    tracing::info!(addr = %listener.local_addr()?, "{what} listening");
    serve(listener, services, GrpcLimits::default(), shutdown_signal()).await?;
    Ok(())
}

async fn bind(addr: &str) -> anyhow::Result<TcpListener> {
    let addr = sokuji_services::grpc::parse_addr(addr).map_err(anyhow::Error::msg)?;
    TcpListener::bind(addr).await.map_err(|e| anyhow::anyhow!("cannot listen on {addr}: {e}"))
}

pub fn run(mut cfg: Config, args: Args) -> anyhow::Result<()> {
    crate::cmd::supervise::exit_with_parent();
    cfg.check_providers()?;
    // `MODEL` names the model of the one service run alone, and `MODEL_SIZE` the Whisper size, as
    // in the original system.
    if let Some(size) = cfg.model_size.clone().filter(|_| matches!(args.service, Service::Stt | Service::All)) {
        let names: Vec<&str> = sokuji_models::CATALOG.iter().map(|m| m.name).collect();
        cfg.stt_model = crate::original::whisper_size(&size, &names)?;
    }
    if let Some(model) = cfg.model.clone() {
        match args.service {
            Service::Stt => cfg.stt_model = known_model(&cfg, &model, sokuji_models::Kind::SpeechToText)?,
            Service::Translation => {
                cfg.translation_model = known_model(&cfg, &model, sokuji_models::Kind::Translation)?
            }
            _ => {}
        }
    }
    // Where to listen without `--listen`: the original's `PORT` (every interface), else each
    // service's own default.
    let listen_at = match (&args.listen, &cfg.port) {
        (Some(l), _) => Some(l.clone()),
        (None, Some(p)) => Some(crate::original::listen_on_port(p)?),
        (None, None) => None,
    };
    let listen = move |default: &str| listen_at.clone().unwrap_or_else(|| default.to_string());
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    rt.block_on(async move {
        match args.service {
            Service::Stt => {
                serve_alone(&cfg, &listen("127.0.0.1:50051"), "the stt gRPC service", async || {
                    let [stt, _] = engines::local_stt(&cfg, &Arc::default()).await?;
                    Ok(Services { stt: Some(stt), ..Default::default() })
                })
                .await?;
            }
            Service::Text => {
                serve_alone(&cfg, &listen("127.0.0.1:50056"), "the text gRPC service", async || {
                    Ok(Services { text: Some(Arc::new(sokuji_services::VietnameseNormalizer)), ..Default::default() })
                })
                .await?;
            }
            Service::Translation => {
                serve_alone(&cfg, &listen("127.0.0.1:50052"), "the translation gRPC service", async || {
                    let translator = engines::translator(&cfg)?
                        .ok_or_else(|| anyhow::anyhow!("TRANSLATION_PROVIDER=none: nothing to serve"))?;
                    Ok(Services { translation: Some(translator), ..Default::default() })
                })
                .await?;
            }
            Service::Tts => {
                serve_alone(&cfg, &listen("127.0.0.1:50053"), "the tts gRPC service", async || {
                    let tts = engines::tts(&cfg)
                        .await?
                        .ok_or_else(|| anyhow::anyhow!("TTS_PROVIDER=none: nothing to serve"))?;
                    Ok(Services { tts: Some(tts), ..Default::default() })
                })
                .await?;
            }
            Service::Embedding => {
                serve_alone(&cfg, &listen("127.0.0.1:50055"), "the embedding gRPC service", async || {
                    let embedding = engines::embedder(&cfg)
                        .await?
                        .ok_or_else(|| anyhow::anyhow!("SOKUJI_EMBEDDING_MODEL=none: nothing to serve"))?;
                    Ok(Services { embedding: Some(embedding), ..Default::default() })
                })
                .await?;
            }
            Service::Worker => {
                let stages = parse_stages(&args.stages)?;
                let (tx, rx) = tokio::sync::watch::channel(false);
                let archive = archive(&cfg, rx.clone()).await?;
                let stt = engines::stt(&cfg, &Arc::default()).await?;
                let mut workers = archive_workers(&cfg, &archive, stt, engines::text(&cfg)?);
                if stages.contains(&Stage::Index) {
                    anyhow::ensure!(
                        cfg.search_url != "embedded",
                        "the index stage runs apart only with a shared index (SOKUJI_SEARCH_URL=postgres://… or \
                         qdrant://…); the embedded index lives in `sokuji serve`"
                    );
                    workers.search = search_index(&cfg, &engines::embedder(&cfg).await?, None).await?;
                }
                let handles = spawn_workers(&workers, &stages, args.workers, &rx);
                shutdown_signal().await;
                let _ = tx.send(true);
                for h in handles {
                    let _ = h.await;
                }
            }
            Service::All | Service::Gateway => {
                let listener = bind(&listen("127.0.0.1:8000")).await?;
                let (tx, rx) = tokio::sync::watch::channel(false);
                // The archive's database keeps the keys; checked before any model loads, so a
                // refusal comes at once.
                let mut archive = archive(&cfg, rx.clone()).await?;
                let auth = auth_with(&cfg, Some(archive.db.clone()))?;
                exposed_only_with_auth(listener.local_addr()?, &auth, "the gateway").await?;
                let metrics = sokuji_gateway::metrics::Metrics::new();
                if args.isolate {
                    crate::cmd::supervise::isolate(&mut cfg, &metrics, rx.clone())?;
                }
                let rejections = Arc::new(Rejections::default());
                let [stt, archive_stt] = engines::stt_and_archive_lane(&cfg, &rejections).await?;
                let text = engines::text(&cfg)?;
                let translator = engines::translator(&cfg)?;
                let tts = engines::tts(&cfg).await?;
                let embedder = engines::embedder(&cfg).await?;
                let grpc = match (args.service, args.grpc_listen.as_deref()) {
                    (_, Some("off")) | (Service::Gateway, None) => None,
                    (_, addr) => Some(bind(addr.unwrap_or("127.0.0.1:50051")).await?),
                };
                if let Some(grpc) = grpc {
                    exposed_only_with_auth(grpc.local_addr()?, &auth, "the gRPC services").await?;
                    tracing::info!(addr = %grpc.local_addr()?, "gRPC services listening");
                    let mut rx = rx.clone();
                    // Services already remote are not served again here.
                    let services = Services {
                        stt: cfg.stt_url.is_none().then(|| stt.clone()),
                        text: cfg.text_url.is_none().then(|| text.clone()),
                        translation: translator.clone().filter(|_| cfg.translation_url.is_none()),
                        tts: tts.clone().filter(|_| cfg.tts_url.is_none()),
                        embedding: embedder.clone().filter(|_| cfg.embedding_url.is_none()),
                        live: Some(LiveEngines::new(stt.clone(), translator.clone(), tts.clone())),
                        auth: Some(Arc::new(auth.clone())),
                    };
                    tokio::spawn(async move {
                        let stop = async move {
                            let _ = rx.wait_for(|v| *v).await;
                        };
                        if let Err(e) = serve(grpc, services, GrpcLimits::default(), stop).await {
                            tracing::error!("gRPC services stopped: {e}");
                        }
                    });
                }
                // Uploads a killed process left half-written (never an accepted recording's bytes).
                let (objects, idle) = (archive.objects.clone(), archive.upload_idle);
                tokio::spawn(async move {
                    match objects.clean_orphans(idle * 2).await {
                        Ok(0) => {}
                        Ok(n) => tracing::info!("removed {n} abandoned upload(s)"),
                        Err(e) => tracing::warn!("abandoned uploads not cleaned: {e}"),
                    }
                });
                if args.service == Service::Gateway {
                    // A gateway apart searches an index other processes write (PostgreSQL).
                    archive.search = search_index(&cfg, &embedder, None).await?.map(|s| s.index);
                }
                if args.service == Service::All {
                    let search = search_index(&cfg, &embedder, Some(&archive.db)).await?;
                    archive.search = search.as_ref().map(|s| s.index.clone());
                    let mut workers = archive_workers(&cfg, &archive, archive_stt, text.clone());
                    let stages: &[Stage] = if search.is_some() {
                        &[Stage::Asr, Stage::Nlp, Stage::Index]
                    } else {
                        &[Stage::Asr, Stage::Nlp]
                    };
                    workers.search = search;
                    spawn_workers(&workers, stages, args.workers, &rx);
                }
                let mut model_names: Vec<String> = stt.models().await.into_iter().map(|m| m.id).collect();
                if model_names.is_empty() {
                    model_names.push(cfg.stt_model.clone());
                }
                if let Some(t) = &translator {
                    model_names.extend(t.models().await);
                }
                model_names.push(cfg.translation_model.clone());
                model_names.extend(embedder.as_ref().map(|e| e.model().to_string()));
                let app = sokuji_gateway::app(sokuji_gateway::AppState {
                    stt,
                    text,
                    translator,
                    tts,
                    embedder,
                    max_upload_bytes: cfg.max_upload_bytes,
                    model_names,
                    metrics,
                    live_send_timeout: std::time::Duration::from_secs(cfg.live_send_timeout_secs.max(1)),
                    request_timeout: std::time::Duration::from_secs(cfg.request_timeout_secs.max(1)),
                    archive: Some(archive),
                    vad: sokuji_live::pipeline::earshot(),
                    rejections,
                    cpu: sokuji_admission::Admission::per_core("requests"),
                    cors: cfg.cors.clone(),
                    auth,
                });
                tracing::info!(addr = %listener.local_addr()?, "gateway listening");
                axum::serve(listener, app)
                    .with_graceful_shutdown(async move {
                        shutdown_signal().await;
                        let _ = tx.send(true);
                    })
                    .await?;
            }
        }
        Ok(())
    })
}
