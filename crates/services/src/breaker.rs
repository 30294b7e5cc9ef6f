//! A deadline and a circuit breaker as one tower layer under every gRPC client, so a dead or
//! hung service fails fast instead of holding each caller for a full deadline.
//!
//! Closed: calls pass; `threshold` failures in a row (transport errors, UNAVAILABLE, deadline
//! exceeded, the deadline passing) open the circuit. Open: calls fail at once with
//! `engine_unavailable` until `cooldown` has passed. Then one call goes through as a probe (the
//! others still fail fast): success closes the circuit, failure opens it again. A call its
//! caller abandons after waiting `slow` counts as a failure too: callers with shorter deadlines
//! of their own (a live session's) must be able to open the circuit.
use sokuji_core::{Error, ErrorCode};
use sokuji_proto::convert::status_from_error;
use std::{
    future::Future,
    pin::Pin,
    sync::{Arc, Mutex},
    task::{Context, Poll},
    time::{Duration, Instant},
};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// When a circuit opens and for how long; the deadline of each call.
#[derive(Clone, Debug)]
pub struct Policy {
    pub deadline: Duration,
    pub threshold: u32,
    pub cooldown: Duration,
    pub slow: Duration,
}

impl Policy {
    pub fn with_deadline(deadline: Duration) -> Self {
        Self { deadline, threshold: 3, cooldown: Duration::from_secs(5), slow: Duration::from_secs(5) }
    }
}

#[derive(Debug)]
enum State {
    Closed {
        failures: u32,
    },
    Open {
        until: Instant,
    },
    /// A probe is in flight.
    HalfOpen,
}

struct Shared {
    what: String,
    policy: Policy,
    state: Mutex<State>,
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // The state is a plain value: a panic elsewhere cannot leave it half-written.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether a call may go through; if not, how long the circuit stays open.
    fn admit(&self) -> Result<(), Duration> {
        let mut state = self.lock();
        match *state {
            State::Closed { .. } => Ok(()),
            State::Open { until } => {
                let now = Instant::now();
                if now >= until {
                    *state = State::HalfOpen;
                    Ok(())
                } else {
                    Err(until - now)
                }
            }
            State::HalfOpen => Err(Duration::ZERO),
        }
    }

    fn record(&self, ok: bool) {
        let mut state = self.lock();
        let next = match (&*state, ok) {
            (_, true) => State::Closed { failures: 0 },
            (State::Closed { failures }, false) if failures + 1 < self.policy.threshold => {
                State::Closed { failures: failures + 1 }
            }
            (previous, false) => {
                if !matches!(previous, State::Open { .. }) {
                    tracing::warn!(service = %self.what, cooldown = ?self.policy.cooldown, "circuit open: failing fast");
                }
                State::Open { until: Instant::now() + self.policy.cooldown }
            }
        };
        if matches!(*state, State::HalfOpen | State::Open { .. }) && matches!(next, State::Closed { .. }) {
            tracing::info!(service = %self.what, "circuit closed: the service answers again");
        }
        *state = next;
    }

    /// A call dropped before it finished: a failure when its caller waited `slow` for it;
    /// otherwise it says nothing about the peer (and if it was the probe, the next call probes).
    fn abandon(&self, started: Instant) {
        if started.elapsed() >= self.policy.slow {
            tracing::debug!(service = %self.what, "a caller gave up on a slow call");
            self.record(false);
            return;
        }
        let mut state = self.lock();
        if matches!(*state, State::HalfOpen) {
            *state = State::Open { until: Instant::now() };
        }
    }
}

/// Layer form, for `tower::ServiceBuilder`.
#[derive(Clone)]
pub struct CircuitBreakerLayer {
    shared: Arc<Shared>,
}

impl CircuitBreakerLayer {
    /// `what` names the service in errors and logs.
    pub fn new(what: &str, policy: Policy) -> Self {
        let shared = Shared { what: what.into(), policy, state: Mutex::new(State::Closed { failures: 0 }) };
        Self { shared: Arc::new(shared) }
    }
}

impl<S> tower::Layer<S> for CircuitBreakerLayer {
    type Service = CircuitBreaker<S>;

    fn layer(&self, inner: S) -> CircuitBreaker<S> {
        CircuitBreaker { inner, shared: Arc::clone(&self.shared) }
    }
}

/// Clones share one circuit (one per remote service).
#[derive(Clone)]
pub struct CircuitBreaker<S> {
    inner: S,
    shared: Arc<Shared>,
}

/// Whether a response says the service is not answering: UNAVAILABLE or DEADLINE_EXCEEDED in
/// the headers (trailers-only responses), or an HTTP error from something in between.
fn unavailable<B>(res: &http::Response<B>) -> bool {
    let code = res.headers().get("grpc-status").and_then(|v| v.to_str().ok());
    !res.status().is_success() || matches!(code, Some("14" | "4"))
}

/// Reports a call dropped before its outcome was recorded.
struct InFlight {
    shared: Option<Arc<Shared>>,
    started: Instant,
}

impl Drop for InFlight {
    fn drop(&mut self) {
        if let Some(s) = self.shared.take() {
            s.abandon(self.started);
        }
    }
}

impl<S, B, RB> tower::Service<http::Request<B>> for CircuitBreaker<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<RB>>,
    S::Error: Into<BoxError>,
    S::Future: Send + 'static,
    RB: Send + 'static,
{
    type Response = http::Response<RB>;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<http::Response<RB>, BoxError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, req: http::Request<B>) -> Self::Future {
        let shared = Arc::clone(&self.shared);
        if let Err(wait) = shared.admit() {
            let e = Error::new(
                ErrorCode::EngineUnavailable,
                format!(
                    "{} is not answering (circuit open after {} failures in a row); next try in {:.1} s",
                    shared.what,
                    shared.policy.threshold,
                    wait.as_secs_f64()
                ),
            );
            return Box::pin(std::future::ready(Err(Box::new(status_from_error(&e)) as BoxError)));
        }
        let call = self.inner.call(req);
        Box::pin(async move {
            let mut in_flight = InFlight { shared: Some(Arc::clone(&shared)), started: Instant::now() };
            let result = match tokio::time::timeout(shared.policy.deadline, call).await {
                Ok(Ok(res)) => {
                    shared.record(!unavailable(&res));
                    Ok(res)
                }
                Ok(Err(e)) => {
                    shared.record(false);
                    Err(e.into())
                }
                Err(_) => {
                    shared.record(false);
                    let e = Error::new(
                        ErrorCode::Timeout,
                        format!("{} did not answer within {:?}", shared.what, shared.policy.deadline),
                    );
                    Err(Box::new(status_from_error(&e)) as BoxError)
                }
            };
            in_flight.shared = None;
            result
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sokuji_proto::convert::error_from_status;
    use std::sync::atomic::{AtomicU8, AtomicU32, Ordering};
    use tower::{Layer, Service, ServiceExt, util::BoxCloneService};

    type Peer = CircuitBreaker<BoxCloneService<http::Request<()>, http::Response<()>, BoxError>>;

    /// A peer whose behaviour the test switches: 0 answers, 1 refuses, 2 hangs.
    fn peer(mode: Arc<AtomicU8>, calls: Arc<AtomicU32>) -> Peer {
        let policy = Policy {
            deadline: Duration::from_millis(100),
            threshold: 3,
            cooldown: Duration::from_millis(200),
            slow: Duration::from_millis(50),
        };
        let inner = tower::service_fn(move |_req: http::Request<()>| {
            let (mode, calls) = (Arc::clone(&mode), Arc::clone(&calls));
            async move {
                calls.fetch_add(1, Ordering::SeqCst);
                match mode.load(Ordering::SeqCst) {
                    0 => Ok(http::Response::new(())),
                    1 => Err::<_, BoxError>("connection refused".into()),
                    _ => std::future::pending().await,
                }
            }
        });
        CircuitBreakerLayer::new("test service", policy).layer(BoxCloneService::new(inner))
    }

    async fn call(svc: &mut Peer) -> Result<(), ErrorCode> {
        match svc.ready().await.expect("ready").call(http::Request::new(())).await {
            Ok(_) => Ok(()),
            Err(e) => {
                Err(e.downcast_ref::<tonic::Status>().map(|s| error_from_status(s).code).unwrap_or(ErrorCode::Internal))
            }
        }
    }

    #[tokio::test]
    async fn opens_after_failures_fails_fast_and_recovers_through_one_probe() {
        let (mode, calls) = (Arc::new(AtomicU8::new(1)), Arc::new(AtomicU32::new(0)));
        let mut svc = peer(Arc::clone(&mode), Arc::clone(&calls));
        for _ in 0..3 {
            assert_eq!(call(&mut svc).await, Err(ErrorCode::Internal), "the peer's own error passes through");
        }
        assert_eq!(calls.load(Ordering::SeqCst), 3);
        // Open: refused without reaching the peer.
        assert_eq!(call(&mut svc).await, Err(ErrorCode::EngineUnavailable));
        assert_eq!(calls.load(Ordering::SeqCst), 3);
        // After the cooldown the peer is back; one probe closes the circuit.
        mode.store(0, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(250)).await;
        assert_eq!(call(&mut svc).await, Ok(()));
        assert_eq!(call(&mut svc).await, Ok(()));
        assert_eq!(calls.load(Ordering::SeqCst), 5);
    }

    #[tokio::test]
    async fn a_hung_peer_times_out_then_fails_fast_and_a_failed_probe_reopens() {
        let (mode, calls) = (Arc::new(AtomicU8::new(2)), Arc::new(AtomicU32::new(0)));
        let mut svc = peer(Arc::clone(&mode), Arc::clone(&calls));
        for _ in 0..3 {
            assert_eq!(call(&mut svc).await, Err(ErrorCode::Timeout));
        }
        let started = Instant::now();
        assert_eq!(call(&mut svc).await, Err(ErrorCode::EngineUnavailable));
        assert!(started.elapsed() < Duration::from_millis(100), "failed fast");
        tokio::time::sleep(Duration::from_millis(250)).await;
        // The probe hangs too: open again, and the next call is refused at once.
        assert_eq!(call(&mut svc).await, Err(ErrorCode::Timeout));
        assert_eq!(call(&mut svc).await, Err(ErrorCode::EngineUnavailable));
        assert_eq!(calls.load(Ordering::SeqCst), 4);
    }

    #[tokio::test]
    async fn an_abandoned_probe_lets_the_next_call_probe() {
        let (mode, calls) = (Arc::new(AtomicU8::new(1)), Arc::new(AtomicU32::new(0)));
        let mut svc = peer(Arc::clone(&mode), Arc::clone(&calls));
        for _ in 0..3 {
            let _ = call(&mut svc).await;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
        mode.store(2, Ordering::SeqCst);
        // The caller gives up on the probe quickly: no verdict, the next call probes.
        let _ = tokio::time::timeout(Duration::from_millis(10), call(&mut svc)).await;
        mode.store(0, Ordering::SeqCst);
        assert_eq!(call(&mut svc).await, Ok(()));
    }

    #[tokio::test]
    async fn callers_giving_up_on_slow_calls_open_the_circuit() {
        let (mode, calls) = (Arc::new(AtomicU8::new(2)), Arc::new(AtomicU32::new(0)));
        let mut svc = peer(Arc::clone(&mode), Arc::clone(&calls));
        // A caller with its own 70 ms deadline, shorter than the layer's 100 ms.
        for _ in 0..3 {
            assert!(tokio::time::timeout(Duration::from_millis(70), call(&mut svc)).await.is_err());
        }
        assert_eq!(call(&mut svc).await, Err(ErrorCode::EngineUnavailable));
    }
}
