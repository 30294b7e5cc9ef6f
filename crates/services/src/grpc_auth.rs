//! Credentials on every gRPC service, as a tower layer on the server: the call's scope comes
//! from the one table (`sokuji_core::auth::grpc_access`), the credential from the
//! `authorization: Bearer KEY` (or `x-api-key`) metadata, and the check from the same
//! `Authenticator` as HTTP. A refused call ends with UNAUTHENTICATED or PERMISSION_DENIED and
//! its Sokuji error code before any message of it is read.
use sokuji_core::auth::{Authenticator, LiveSlot, Meter, grpc_access};
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

/// The credential of a call's metadata (or an HTTP request's headers): `authorization: Bearer
/// KEY`, else `x-api-key`.
pub fn credential(headers: &http::HeaderMap) -> Option<&str> {
    let get = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim).filter(|v| !v.is_empty());
    get("authorization")
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .or_else(|| get("x-api-key"))
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

    fn call(&mut self, mut req: http::Request<B>) -> Self::Future {
        // The service that was polled ready serves this call; a clone waits for the next.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let Some(auth) = self.auth.clone() else { return Box::pin(inner.call(req)) };
        Box::pin(async move {
            let access = grpc_access(req.uri().path());
            let admitted = match auth.authenticate(credential(req.headers()), access).await {
                Ok(p) => auth.admit(&p).await.map(|_| p),
                Err(e) => Err(e),
            };
            match admitted {
                Ok(principal) => {
                    // The servers meter audio and hold live sessions through it (tonic hands
                    // the extensions on to the call).
                    if let Some(meter) = Meter::of(&principal, || auth.clone()) {
                        req.extensions_mut().insert(meter);
                    }
                    inner.call(req).await
                }
                Err(e) => Ok(status_from_error(&e).into_http()),
            }
        })
    }
}

/// The meter a call carries (a key with audio or session limits, on a server that checks keys).
pub fn meter<T>(req: &tonic::Request<T>) -> Option<Meter> {
    req.extensions().get::<Meter>().cloned()
}

/// Holds one of the caller's live sessions for a streaming call, or refuses it.
pub async fn live_slot(meter: Option<&Meter>) -> Result<LiveSlot, tonic::Status> {
    sokuji_core::auth::open_live(meter).await.map_err(|e| status_from_error(&e))
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

    use sokuji_core::auth::Principal;

    /// Keys as the table sees them: "stt-key" holds `stt` only; anything else is refused.
    struct Keys;

    #[async_trait::async_trait]
    impl Authenticator for Keys {
        async fn authenticate(
            &self,
            credential: Option<&str>,
            access: Option<sokuji_core::auth::Access>,
        ) -> sokuji_core::Result<Principal> {
            use sokuji_core::{Error, ErrorCode, auth::Access};
            if access == Some(Access::Public) {
                return Ok(Principal::anonymous());
            }
            let principal = match credential {
                Some("stt-key") => Principal { scopes: vec![sokuji_core::auth::Scope::Stt], ..Principal::anonymous() },
                _ => return Err(Error::new(ErrorCode::Unauthenticated, "no valid key")),
            };
            principal.check(access.unwrap_or(Access::Needs(sokuji_core::auth::Scope::Admin)))?;
            Ok(principal)
        }
    }

    /// Every RPC of the contracts through the layer, as a prober calls it: without a credential
    /// and with a key of another scope. Refused with the right status before the service sees
    /// the call; health and reflection stay open, and an `stt` key reaches the STT methods only.
    #[tokio::test]
    async fn every_rpc_refuses_the_wrong_credential() {
        use prost::Message;
        use tower::{Layer, ServiceExt};
        let reached = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counter = reached.clone();
        let inner = tower::service_fn(move |_req: http::Request<()>| {
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            async { Ok::<_, std::convert::Infallible>(http::Response::new(tonic::body::Body::empty())) }
        });
        let service = GrpcAuthLayer(Some(Arc::new(Keys))).layer(inner);
        let call = |path: &str, key: Option<&str>| {
            let mut req = http::Request::builder().uri(format!("http://x{path}"));
            if let Some(k) = key {
                req = req.header("authorization", format!("Bearer {k}"));
            }
            let req = req.body(()).expect("request");
            let service = service.clone();
            async move {
                let res = service.oneshot(req).await.expect("infallible");
                res.headers().get("grpc-status").and_then(|v| v.to_str().ok()).map(String::from)
            }
        };
        let set = prost_types::FileDescriptorSet::decode(sokuji_proto::FILE_DESCRIPTOR_SET).expect("descriptors");
        let (mut open, mut stt) = (0, 0);
        for file in &set.file {
            for service in &file.service {
                for method in &service.method {
                    let path = format!("/{}.{}/{}", file.package(), service.name(), method.name());
                    let public = grpc_access(&path) == Some(sokuji_core::auth::Access::Public);
                    let before = reached.load(std::sync::atomic::Ordering::SeqCst);
                    let anonymous = call(&path, None).await;
                    let with_stt = call(&path, Some("stt-key")).await;
                    let passed = reached.load(std::sync::atomic::Ordering::SeqCst) - before;
                    if public {
                        assert_eq!((anonymous, with_stt, passed), (None, None, 2), "{path} is public");
                        open += 1;
                        continue;
                    }
                    assert_eq!(anonymous.as_deref(), Some("16"), "{path}: UNAUTHENTICATED without a key");
                    if grpc_access(&path) == Some(sokuji_core::auth::Access::Needs(sokuji_core::auth::Scope::Stt)) {
                        assert_eq!((with_stt, passed), (None, 1), "{path}: the stt key reaches it");
                        stt += 1;
                    } else {
                        assert_eq!(with_stt.as_deref(), Some("7"), "{path}: PERMISSION_DENIED for another scope");
                        assert_eq!(passed, 0, "{path}: refused before the service");
                    }
                }
            }
        }
        assert!(open >= 5 && stt >= 3, "{open} public, {stt} stt methods");
    }

    #[test]
    fn credentials_come_from_the_metadata() {
        let mut h = http::HeaderMap::new();
        assert_eq!(credential(&h), None);
        h.insert("x-api-key", "k2".parse().expect("value"));
        assert_eq!(credential(&h), Some("k2"));
        h.insert("authorization", "Bearer k1".parse().expect("value"));
        assert_eq!(credential(&h), Some("k1"));
    }
}
