//! What every gRPC client shares: a lazily connected channel and health that reports an
//! unreachable peer instead of failing.
use crate::breaker::{CircuitBreaker, CircuitBreakerLayer, Policy};
use http::HeaderValue;
use sokuji_core::{Error, Health, Result};
use sokuji_proto::{
    common::HealthCheckResponse,
    convert::{ERROR_CODE_KEY, error_from_status},
};
use std::time::Duration;
use tonic::transport::{Channel, Endpoint};
use tower::Layer;
use tower_http::set_header::{SetRequestHeader, SetRequestHeaderLayer};

/// A client channel with a deadline on every call, a circuit breaker in front, and this
/// process's service credential on every call when it has one.
pub type Guarded = CircuitBreaker<SetRequestHeader<Channel, Option<HeaderValue>>>;

/// The credential Sokuji's own clients present to its gRPC services (`SOKUJI_SERVICE_KEY`, an
/// API key with the scopes the calls need), so a split deployment stays closed.
fn service_credential() -> Option<HeaderValue> {
    let key = std::env::var("SOKUJI_SERVICE_KEY").ok().filter(|k| !k.trim().is_empty())?;
    let mut value = HeaderValue::from_str(&format!("Bearer {}", key.trim())).ok()?;
    value.set_sensitive(true);
    Some(value)
}

/// Connects lazily: a service may start after its caller, and reconnects by itself. Every call
/// gets `deadline`; a service that keeps failing is failed fast (see `breaker`).
pub fn channel(url: &str, what: &str, deadline: Duration) -> Result<Guarded> {
    let endpoint = Endpoint::from_shared(url.to_string())
        .map_err(|e| Error::invalid_request(format!("bad {what} url {url:?}: {e}")))?
        .connect_timeout(Duration::from_secs(5))
        .tcp_nodelay(true);
    let authed = SetRequestHeaderLayer::if_not_present(http::header::AUTHORIZATION, service_credential())
        .layer(endpoint.connect_lazy());
    Ok(CircuitBreakerLayer::new(what, Policy::with_deadline(deadline)).layer(authed))
}

/// Calls a unary RPC, and once more after 100 ms when the first attempt never reached a server
/// (refused or reset: UNAVAILABLE without a Sokuji error code, so neither a server's answer nor
/// an open circuit). For idempotent calls only; every unary call of these services is one.
pub async fn idempotent<T, F, Fut>(mut call: F) -> Result<T, tonic::Status>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, tonic::Status>>,
{
    match call().await {
        Err(s) if s.code() == tonic::Code::Unavailable && s.metadata().get(ERROR_CODE_KEY).is_none() => {
            tokio::time::sleep(Duration::from_millis(100)).await;
            call().await
        }
        r => r,
    }
}

/// A peer's health, or why it could not be asked.
pub fn health(result: Result<tonic::Response<HealthCheckResponse>, tonic::Status>, url: &str) -> Health {
    match result {
        Ok(r) => sokuji_proto::convert::health_from_response(r.into_inner()),
        Err(s) => {
            let mut h = Health::failing("grpc", &error_from_status(&s));
            h.details.insert("url".into(), url.to_string());
            h
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sokuji_core::ErrorCode;
    use std::sync::atomic::{AtomicU32, Ordering};

    async fn attempts(first: tonic::Status) -> u32 {
        let n = AtomicU32::new(0);
        let _ = idempotent(|| {
            let i = n.fetch_add(1, Ordering::SeqCst);
            let r = if i == 0 { Err(first.clone()) } else { Ok(()) };
            async move { r }
        })
        .await;
        n.load(Ordering::SeqCst)
    }

    #[tokio::test]
    async fn only_calls_that_never_reached_a_server_are_retried() {
        assert_eq!(attempts(tonic::Status::unavailable("connection refused")).await, 2);
        // A server's own answer, or the circuit breaker's: no retry.
        let answered = sokuji_proto::convert::status_from_error(&Error::new(ErrorCode::EngineUnavailable, "loading"));
        assert_eq!(attempts(answered).await, 1);
        assert_eq!(attempts(tonic::Status::invalid_argument("bad")).await, 1);
        assert_eq!(attempts(tonic::Status::deadline_exceeded("slow")).await, 1);
    }
}
