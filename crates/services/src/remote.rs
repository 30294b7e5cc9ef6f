//! What every gRPC client shares: a lazily connected channel and health that reports an
//! unreachable peer instead of failing.
use crate::breaker::{CircuitBreaker, CircuitBreakerLayer, Policy};
use sokuji_core::{Error, ErrorCode, Health, Result};
use sokuji_proto::{common::HealthCheckResponse, convert::error_from_status};
use std::time::Duration;
use tonic::transport::{Channel, Endpoint};
use tower::Layer;

/// A client channel with a deadline on every call and a circuit breaker in front.
pub type Guarded = CircuitBreaker<Channel>;

/// Connects lazily: a service may start after its caller, and reconnects by itself. Every call
/// gets `deadline`; a service that keeps failing is failed fast (see `breaker`).
pub fn channel(url: &str, what: &str, deadline: Duration) -> Result<Guarded> {
    let endpoint = Endpoint::from_shared(url.to_string())
        .map_err(|e| Error::invalid_request(format!("bad {what} url {url:?}: {e}")))?
        .connect_timeout(Duration::from_secs(5))
        .tcp_nodelay(true);
    Ok(CircuitBreakerLayer::new(what, Policy::with_deadline(deadline)).layer(endpoint.connect_lazy()))
}

/// A peer's health, or why it could not be asked.
pub fn health(result: Result<tonic::Response<HealthCheckResponse>, tonic::Status>, url: &str) -> Health {
    match result {
        Ok(r) => sokuji_proto::convert::health_from_response(r.into_inner()),
        Err(s) => {
            let e = error_from_status(&s);
            let status = if e.code == ErrorCode::EngineUnavailable { "unreachable" } else { "error" };
            let details = [("url".to_string(), url.to_string()), ("error".to_string(), e.to_string())].into();
            Health { healthy: false, status: status.into(), provider: "grpc".into(), details }
        }
    }
}
