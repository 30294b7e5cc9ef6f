//! Authentication and scopes on every HTTP route, as one layer: the route's scope comes from the
//! one table (`sokuji_core::auth::http_access`), the credential from `Authorization: Bearer`,
//! `X-API-Key` or `?api_key=` (browsers' WebSockets cannot set headers), the key from the
//! metadata database. Refused requests never reach a handler, so nothing changes and no audio of
//! a refused WebSocket is read. The principal travels on in the request's extensions.
use crate::{AppState, error::ApiError};
use axum::{
    extract::{MatchedPath, Request, State},
    http::{HeaderMap, HeaderName, HeaderValue, Uri},
    middleware::Next,
    response::{IntoResponse, Response},
};
use sokuji_core::{
    Error, ErrorCode, Result,
    auth::{Access, AuthMode, Authenticator, LiveSlot, Meter, Principal, Scope, http_access},
    quota::{LimitState, Policy},
};
use sokuji_store::Db;

/// How this server checks credentials.
#[derive(Clone, Default)]
pub struct Auth {
    pub mode: AuthMode,
    /// Where keys are kept; `None` where the server has no metadata database.
    pub keys: Option<Db>,
    /// Tokens: an identity provider's, and this server's browser tokens; `None` accepts none.
    pub tokens: Option<std::sync::Arc<crate::jwt::Tokens>>,
}

impl Auth {
    /// Whether a request without credentials is refused now (`auto`: once a key exists).
    pub async fn required(&self) -> Result<bool> {
        if self.mode == AuthMode::Off {
            return Ok(false);
        }
        let idp = self.tokens.as_ref().is_some_and(|t| t.idp_configured());
        let keys = match &self.keys {
            Some(db) if !idp => db.keys_exist().await?,
            _ => false,
        };
        Ok(self.mode.required(idp || keys))
    }

    /// The principal of a credential: an API key (`sk_…`) or a token (three dot-separated parts).
    pub async fn verify(&self, credential: &str) -> Result<Principal> {
        if credential.starts_with("sk_") {
            let db = self
                .keys
                .as_ref()
                .ok_or_else(|| Error::new(ErrorCode::Unauthenticated, "this server keeps no keys to check against"))?;
            return db.authenticate(credential).await;
        }
        match &self.tokens {
            Some(t) if credential.split('.').count() == 3 => t.verify(credential).await,
            _ => Err(Error::new(ErrorCode::Unauthenticated, "the credential is neither an API key nor a token")),
        }
    }
}

#[async_trait::async_trait]
impl Authenticator for Auth {
    async fn authenticate(&self, credential: Option<&str>, access: Option<Access>) -> Result<Principal> {
        if access == Some(Access::Public) || self.mode == AuthMode::Off {
            return Ok(Principal::anonymous());
        }
        // A valid credential is checked by the one lookup it needs; "are credentials required?"
        // (another query) is asked only of requests without one, or with a wrong one: where
        // nothing requires them, those pass as anonymous (OpenAI's SDKs always send some key).
        let verified = match credential {
            Some(c) => Some(self.verify(c).await),
            None => None,
        };
        let principal = match verified {
            Some(Ok(p)) => p,
            _ if !self.required().await? => return Ok(Principal::anonymous()),
            Some(Err(e)) => return Err(e),
            None => {
                return Err(Error::new(
                    ErrorCode::Unauthenticated,
                    "an API key is required: `Authorization: Bearer KEY`, `X-API-Key: KEY` or `?api_key=KEY`",
                ));
            }
        };
        // A route missing from the table is an administrator's.
        principal.check(access.unwrap_or(Access::Needs(Scope::Admin)))?;
        Ok(principal)
    }

    async fn admit(&self, principal: &Principal) -> Result<Option<LimitState>> {
        let (Some(limit), Some(db)) = (principal.limits.requests_per_minute, &self.keys) else { return Ok(None) };
        db.admit_request(&principal.id, limit).await.map(Some)
    }

    async fn meter_audio(&self, principal: &Principal, seconds: u64) -> Result<()> {
        let (Some(quota), Some(db)) = (principal.limits.audio_seconds_per_day, &self.keys) else { return Ok(()) };
        db.take_audio(&principal.id, seconds, quota).await.map(|_| ())
    }

    async fn open_live(&self, principal: &Principal) -> Result<LiveSlot> {
        let (Some(limit), Some(db)) = (principal.limits.live_sessions, &self.keys) else {
            return Ok(LiveSlot::default());
        };
        match db.claim_live(&principal.id, limit).await? {
            Some(lease) => Ok(LiveSlot(Some(Box::new(lease)))),
            None => Err(LimitState::at(Policy::Live, u64::from(limit), u64::from(limit), 0).refusal()),
        }
    }
}

/// The IETF `RateLimit-Policy` and `RateLimit` fields of a limit's state.
pub fn rate_headers(state: &LimitState) -> [(HeaderName, HeaderValue); 2] {
    let v = |s: String| HeaderValue::from_str(&s).unwrap_or(HeaderValue::from_static(""));
    let (policy, now) = state.fields();
    [(HeaderName::from_static("ratelimit-policy"), v(policy)), (HeaderName::from_static("ratelimit"), v(now))]
}

/// Who acted, as the audit log names it.
pub fn actor(who: Option<&Principal>) -> &str {
    who.map_or("anonymous", |p| p.id.as_str())
}

/// Appends to the audit log what `who` did (after it is done: a failed write is logged, never
/// undoes the act).
pub async fn audit(db: &Db, who: Option<&Principal>, action: &str, target: &str, detail: &str) {
    if let Err(e) = db.audit(actor(who), action, target, detail).await {
        tracing::error!(action, target, "audit log not written: {e}");
    }
}

/// The credential of a request: a bearer token or an `X-API-Key` (as gRPC reads them), or
/// `api_key` in the query.
pub fn credential<'a>(headers: &'a HeaderMap, query: Option<&'a str>) -> Option<&'a str> {
    sokuji_services::grpc_auth::credential(headers)
        .or_else(|| query?.split('&').find_map(|kv| kv.strip_prefix("api_key=")).filter(|k| !k.is_empty()))
}

/// The URI without its `api_key` parameter: handlers (and their strict query parsers) never see it.
fn without_key(uri: &Uri) -> Option<Uri> {
    let query = uri.query()?;
    if !query.split('&').any(|kv| kv.starts_with("api_key=")) {
        return None;
    }
    let rest: Vec<&str> = query.split('&').filter(|kv| !kv.starts_with("api_key=")).collect();
    let path_and_query =
        if rest.is_empty() { uri.path().to_string() } else { format!("{}?{}", uri.path(), rest.join("&")) };
    path_and_query.parse().ok()
}

/// A refusal before the request's body is read. On HTTP/1.1 the connection then closes (the
/// unread body would be taken for the next request): the answer says so, or a client that
/// reuses the connection fails its next request instead of getting an answer.
fn refused(req: &Request, e: Error) -> Response {
    let mut res = ApiError(e).into_response();
    let has_body = req.headers().contains_key(axum::http::header::CONTENT_LENGTH)
        || req.headers().contains_key(axum::http::header::TRANSFER_ENCODING);
    if has_body && req.version() == axum::http::Version::HTTP_11 {
        res.headers_mut().insert(axum::http::header::CONNECTION, HeaderValue::from_static("close"));
    }
    res
}

/// The layer's function (`axum::middleware::from_fn_with_state`).
pub async fn authenticate(
    State(s): State<AppState>,
    matched: Option<MatchedPath>,
    mut req: Request,
    next: Next,
) -> Response {
    let route = matched.as_ref().map_or(req.uri().path(), |m| m.as_str());
    let access = http_access(req.method().as_str(), route);
    let credential = credential(req.headers(), req.uri().query()).map(str::to_string);
    let principal = match s.auth.authenticate(credential.as_deref(), access).await {
        Ok(p) => p,
        Err(e) => return refused(&req, e),
    };
    // A key may always ask what it used, even past its rate. A refusal (its limit's headers
    // rendered with the error) reaches no handler: it used nothing but its count.
    let rate = if access == Some(Access::AnyKey) { Ok(None) } else { s.auth.admit(&principal).await };
    let rate = match rate {
        Ok(r) => r,
        Err(e) => return refused(&req, e),
    };
    if let Some(uri) = without_key(req.uri()) {
        *req.uri_mut() = uri;
    }
    // Handlers that meter audio or hold live sessions find the meter (only keys with such limits
    // need one).
    if let Some(meter) = Meter::of(&principal, || std::sync::Arc::new(s.auth.clone())) {
        req.extensions_mut().insert(meter);
    }
    req.extensions_mut().insert(principal);
    let mut res = next.run(req).await;
    // A handler's own limit (audio) speaks for itself; otherwise the request rate.
    if let Some(r) = rate
        && !res.headers().contains_key("ratelimit")
    {
        for (k, v) in rate_headers(&r) {
            res.headers_mut().insert(k, v);
        }
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_come_from_the_three_places() {
        let mut h = HeaderMap::new();
        assert_eq!(credential(&h, Some("a=1&api_key=k3")), Some("k3"));
        h.insert("x-api-key", "k2".parse().expect("value"));
        assert_eq!(credential(&h, Some("api_key=k3")), Some("k2"));
        h.insert("authorization", "Bearer k1".parse().expect("value"));
        assert_eq!(credential(&h, None), Some("k1"));
        let empty = HeaderMap::new();
        assert_eq!(credential(&empty, Some("api_key=")), None);
        assert_eq!(credential(&empty, None), None);
    }

    #[test]
    fn the_key_leaves_the_query() {
        let cases = [
            ("/s?q=a&api_key=k&limit=2", Some("/s?q=a&limit=2")),
            ("/s?api_key=k", Some("/s")),
            ("/s?q=a", None),
            ("/s", None),
        ];
        for (uri, want) in cases {
            let got = without_key(&uri.parse().expect("uri")).map(|u| u.to_string());
            assert_eq!(got.as_deref(), want, "{uri}");
        }
    }
}
