//! `GET /metrics` in Prometheus text format: live sessions, per-stage latency histograms,
//! errors by code, and audio the recognizer refused as non-speech by reason. The gateway records
//! them as events pass through it, and reads the engines' plain counters when scraped, so
//! engines stay free of any metrics library.
use axum::{extract::State, http::header, response::IntoResponse};
use prometheus::{Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, Opts, Registry, TextEncoder};
use sokuji_core::guard::Rejections;

#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    pub active_sessions: IntGauge,
    /// Seconds, by stage: stt, mt, tts (engine time) and e2e_transcript, e2e_translation,
    /// e2e_audio (from the end of the utterance).
    pub stage_seconds: HistogramVec,
    pub errors: IntCounterVec,
    pub sessions: IntCounterVec,
    /// Restarts of supervised engine processes (`serve --isolate`), by engine.
    pub engine_restarts: IntCounterVec,
    /// Mirrors `core::guard::Rejections` at each scrape.
    rejections: IntCounterVec,
    scrape: std::sync::Arc<std::sync::Mutex<()>>,
}

impl Metrics {
    pub fn new() -> Self {
        let registry = Registry::new();
        let active_sessions = IntGauge::new("sokuji_live_sessions_active", "Live translation sessions open now")
            .expect("valid metric definition");
        let buckets = vec![0.05, 0.1, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 8.0, 13.0, 20.0];
        let stage_seconds = HistogramVec::new(
            HistogramOpts::new("sokuji_stage_duration_seconds", "Time per pipeline stage").buckets(buckets),
            &["stage"],
        )
        .expect("valid metric definition");
        let errors = IntCounterVec::new(Opts::new("sokuji_errors_total", "Errors sent to clients, by code"), &["code"])
            .expect("valid metric definition");
        let sessions =
            IntCounterVec::new(Opts::new("sokuji_live_sessions_total", "Live sessions, by how they ended"), &["end"])
                .expect("valid metric definition");
        let engine_restarts = IntCounterVec::new(
            Opts::new("sokuji_engine_restarts_total", "Engine child processes restarted"),
            &["engine"],
        )
        .expect("valid metric definition");
        let rejections = IntCounterVec::new(
            Opts::new(
                "sokuji_stt_rejections_total",
                "Audio not decoded, or decoded text dropped, as non-speech (hallucination guard), by reason",
            ),
            &["reason"],
        )
        .expect("valid metric definition");
        for c in [
            Box::new(engine_restarts.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(rejections.clone()),
            Box::new(active_sessions.clone()),
            Box::new(stage_seconds.clone()),
            Box::new(errors.clone()),
            Box::new(sessions.clone()),
        ] {
            let _ = registry.register(c);
        }
        Self {
            registry,
            active_sessions,
            stage_seconds,
            errors,
            sessions,
            engine_restarts,
            rejections,
            scrape: Default::default(),
        }
    }

    pub fn observe_ms(&self, stage: &str, ms: Option<f64>) {
        if let Some(ms) = ms {
            self.stage_seconds.with_label_values(&[stage]).observe(ms / 1000.0);
        }
    }

    fn render(&self, rejections: &Rejections) -> String {
        // One scrape at a time: the mirrored counters are reset and refilled.
        let _scrape = self.scrape.lock().unwrap_or_else(|e| e.into_inner());
        for (reason, n) in rejections.snapshot() {
            let c = self.rejections.with_label_values(&[reason.as_str()]);
            c.reset();
            c.inc_by(n);
        }
        let mut buf = Vec::new();
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut buf);
        String::from_utf8(buf).unwrap_or_default()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

pub fn router() -> utoipa_axum::router::OpenApiRouter<crate::AppState> {
    utoipa_axum::router::OpenApiRouter::new().routes(utoipa_axum::routes!(metrics))
}

/// Prometheus text exposition.
#[utoipa::path(get, path = "/metrics", tag = "service", responses((status = 200, description = "Done", content((String = "text/plain")))))]
async fn metrics(State(s): State<crate::AppState>) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], s.metrics.render(&s.rejections))
}
