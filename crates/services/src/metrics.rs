//! Request counters behind `GetMetrics`.
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::Instant;

#[derive(Default)]
pub struct Metrics {
    requests: AtomicI64,
    errors: AtomicI64,
    /// Total duration in microseconds.
    total_us: AtomicU64,
}

impl Metrics {
    pub fn observe<T, E>(&self, started: Instant, result: &Result<T, E>) {
        self.requests.fetch_add(1, Ordering::Relaxed);
        if result.is_err() {
            self.errors.fetch_add(1, Ordering::Relaxed);
        }
        self.total_us.fetch_add(started.elapsed().as_micros() as u64, Ordering::Relaxed);
    }

    pub fn snapshot(&self) -> sokuji_proto::common::MetricsResponse {
        let requests = self.requests.load(Ordering::Relaxed);
        let total_ms = self.total_us.load(Ordering::Relaxed) as f64 / 1000.0;
        sokuji_proto::common::MetricsResponse {
            total_requests: requests,
            total_errors: self.errors.load(Ordering::Relaxed),
            avg_duration_ms: if requests > 0 { total_ms / requests as f64 } else { 0.0 },
            total_duration_ms: total_ms,
            additional: Default::default(),
        }
    }
}
