//! Credentials on every gRPC service, as a tower layer on the server: the call's scope comes
//! from the one table (`sokuji_core::auth::grpc_access`), the credential from the
//! `authorization: Bearer KEY` (or `x-api-key`) metadata, and the check from the same
//! `Authenticator` as HTTP. A refused call ends with UNAUTHENTICATED or PERMISSION_DENIED and
//! its Sokuji error code before any message of it is read.
use sokuji_core::auth::{Authenticator, grpc_access};
use sokuji_proto::convert::status_from_error;
use std::{
    future::Future,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
};

/// The layer; `None` serves every call (no credentials configured here).
#[derive(Clone)]
pub struct GrpcAuthLayer(pub Option<Arc<dyn Authenticator>>);

impl<S> tower::Layer<S> for GrpcAuthLayer {
    type Service = GrpcAuth<S>;

    fn layer(&self, inner: S) -> Self::Service {
        GrpcAuth { inner, auth: self.0.clone() }
    }
}

#[derive(Clone)]
pub struct GrpcAuth<S> {
    inner: S,
    auth: Option<Arc<dyn Authenticator>>,
}

/// The credential of a call's metadata.
fn credential(headers: &http::HeaderMap) -> Option<String> {
    let get = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim);
    get("authorization")
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .or_else(|| get("x-api-key"))
        .filter(|k| !k.is_empty())
        .map(str::to_string)
}

impl<S, B> tower::Service<http::Request<B>> for GrpcAuth<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<tonic::body::Body>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    B: Send + 'static,
{
    type Response = http::Response<tonic::body::Body>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: http::Request<B>) -> Self::Future {
        // The service that was polled ready serves this call; a clone waits for the next.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let Some(auth) = self.auth.clone() else { return Box::pin(inner.call(req)) };
        Box::pin(async move {
            let access = grpc_access(req.uri().path());
            let admitted = match auth.authenticate(credential(req.headers()).as_deref(), access).await {
                Ok(p) => auth.admit(&p).await,
                Err(e) => Err(e),
            };
            match admitted {
                Ok(_) => inner.call(req).await,
                Err(e) => Ok(status_from_error(&e).into_http()),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every method of every service in the contracts has its scope in the one table.
    #[test]
    fn every_rpc_has_a_scope() {
        use prost::Message;
        let set = prost_types::FileDescriptorSet::decode(sokuji_proto::FILE_DESCRIPTOR_SET).expect("descriptors");
        let mut checked = 0;
        for file in &set.file {
            for service in &file.service {
                for method in &service.method {
                    let path = format!("/{}.{}/{}", file.package(), service.name(), method.name());
                    assert!(grpc_access(&path).is_some(), "{path} is missing from the scope table");
                    checked += 1;
                }
            }
        }
        assert!(checked >= 20, "{checked} methods");
    }

    #[test]
    fn credentials_come_from_the_metadata() {
        let mut h = http::HeaderMap::new();
        assert_eq!(credential(&h), None);
        h.insert("x-api-key", "k2".parse().expect("value"));
        assert_eq!(credential(&h).as_deref(), Some("k2"));
        h.insert("authorization", "Bearer k1".parse().expect("value"));
        assert_eq!(credential(&h).as_deref(), Some("k1"));
    }
}
