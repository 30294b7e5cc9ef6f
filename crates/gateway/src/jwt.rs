//! JSON Web Tokens, two kinds. Tokens of an identity provider: HS256 with a shared secret, or
//! RS256/ES256 (and the rest of their families) with keys from a JWKS URL, cached and fetched again
//! when a token names an unknown `kid`. And Sokuji's own short-lived browser tokens, signed with
//! this server's secret and exchanged for a key (`POST /api/v1/auth/token`), so a web page never
//! holds a long-lived key. `iss`, `aud`, `exp` and `nbf` are checked; `alg: none` never parses;
//! a key is used only with its own algorithm (an RSA public key is never an HMAC secret).
use jsonwebtoken::{
    Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, decode_header,
    jwk::{AlgorithmParameters, EllipticCurve, Jwk, JwkSet},
};
use serde::{Deserialize, Serialize};
use sokuji_core::{
    Error, ErrorCode, Result,
    auth::{Principal, Scope, check_tenant},
    quota::Limits,
};
use std::time::{Duration, Instant};
use tokio::sync::RwLock;

/// The issuer and audience of Sokuji's own browser tokens.
pub const OWN_ISSUER: &str = "sokuji";
pub const BROWSER_AUDIENCE: &str = "sokuji-browser";
/// Longest life of a browser token.
pub const MAX_TOKEN_SECS: u64 = 900;
/// Clock skew tolerated on `exp` and `nbf`.
const LEEWAY_SECS: u64 = 30;
/// A JWKS is fetched again on an unknown `kid` at most this often (a flood of forged kids
/// cannot turn the server into a load generator against the identity provider).
const JWKS_REFETCH: Duration = Duration::from_secs(10);

/// An identity provider's settings (`SOKUJI_JWT_*`).
#[derive(Clone, Debug, Default)]
pub struct JwtSettings {
    /// HS256 shared secret.
    pub secret: Option<String>,
    pub jwks_url: Option<String>,
    pub issuer: String,
    pub audience: String,
    /// The claim naming the tenant (default `tenant`).
    pub tenant_claim: String,
}

fn refused(why: impl std::fmt::Display) -> Error {
    Error::new(ErrorCode::Unauthenticated, format!("the token is not valid: {why}"))
}

/// Scopes as identity providers write them: `scope` (space-separated), `scp` (a list or a
/// string) or `roles`. Names this server does not know (`openid`, …) are ignored.
#[derive(Debug, Default, Deserialize)]
struct Claims {
    sub: Option<String>,
    #[serde(default)]
    scope: Option<String>,
    #[serde(default)]
    scp: Option<StringOrList>,
    #[serde(default)]
    roles: Option<StringOrList>,
    #[serde(flatten)]
    rest: serde_json::Map<String, serde_json::Value>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum StringOrList {
    One(String),
    Many(Vec<String>),
}

impl StringOrList {
    fn names(&self) -> Vec<&str> {
        match self {
            Self::One(s) => s.split_whitespace().collect(),
            Self::Many(v) => v.iter().map(String::as_str).collect(),
        }
    }
}

impl Claims {
    /// The token's principal; a tenant claim that is not a tenant's name refuses the token.
    fn principal(&self, id_prefix: &str, tenant_claim: &str) -> Result<Principal> {
        let mut names: Vec<&str> = self.scope.as_deref().map(|s| s.split_whitespace().collect()).unwrap_or_default();
        names.extend(self.scp.as_ref().map(StringOrList::names).unwrap_or_default());
        names.extend(self.roles.as_ref().map(StringOrList::names).unwrap_or_default());
        let mut scopes: Vec<Scope> = names.into_iter().filter_map(Scope::parse).collect();
        scopes.sort();
        scopes.dedup();
        let sub = self.sub.clone().unwrap_or_default();
        let tenant = match self.rest.get(tenant_claim) {
            None | Some(serde_json::Value::Null) => None,
            Some(serde_json::Value::String(t)) if check_tenant(t).is_ok() => Some(t.clone()),
            Some(other) => return Err(refused(format!("the {tenant_claim:?} claim {other} is not a tenant's name"))),
        };
        Ok(Principal { id: format!("{id_prefix}{sub}"), name: sub, scopes, tenant, limits: Limits::default() })
    }
}

/// What a browser token says (`scope` space-separated, as OAuth writes it).
#[derive(Debug, Serialize, Deserialize)]
struct BrowserClaims {
    iss: String,
    aud: String,
    sub: String,
    scope: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    tenant: Option<String>,
    /// The key's limits, which the token spends.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    rate: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    audio: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    live: Option<u32>,
    iat: u64,
    nbf: u64,
    exp: u64,
}

impl BrowserClaims {
    /// The key the token stands for: its id, tenant and rate (a token spends its key's budget).
    fn principal(&self) -> Principal {
        let mut scopes: Vec<Scope> = self.scope.split_whitespace().filter_map(Scope::parse).collect();
        scopes.sort();
        Principal {
            id: self.sub.clone(),
            name: "token".into(),
            scopes,
            tenant: self.tenant.clone(),
            limits: Limits {
                requests_per_minute: self.rate,
                audio_seconds_per_day: self.audio,
                live_sessions: self.live,
            },
        }
    }
}

fn now_secs() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

fn validation(alg: Algorithm, issuer: &str, audience: &str) -> Validation {
    let mut v = Validation::new(alg);
    v.set_issuer(&[issuer]);
    v.set_audience(&[audience]);
    v.leeway = LEEWAY_SECS;
    v.validate_nbf = true;
    v.set_required_spec_claims(&["exp", "iss", "aud"]);
    v
}

/// The algorithm a JWKS key is for: its own `alg`, or its type's usual one. Never the token's say.
fn key_algorithm(jwk: &Jwk) -> Option<Algorithm> {
    if let Some(alg) = jwk.common.key_algorithm {
        return Algorithm::try_from(alg).ok();
    }
    match &jwk.algorithm {
        AlgorithmParameters::RSA(_) => Some(Algorithm::RS256),
        AlgorithmParameters::EllipticCurve(ec) => match ec.curve {
            EllipticCurve::P256 => Some(Algorithm::ES256),
            EllipticCurve::P384 => Some(Algorithm::ES384),
            _ => None,
        },
        AlgorithmParameters::OctetKeyPair(_) => Some(Algorithm::EdDSA),
        // A symmetric key in a public key set is nobody's to trust.
        _ => None,
    }
}

struct KeyCache {
    set: JwkSet,
    fetched: Option<Instant>,
}

/// Verifies tokens and issues browser tokens.
pub struct Tokens {
    idp: Option<JwtSettings>,
    /// This server's signing secret for browser tokens (`SOKUJI_TOKEN_SECRET`; random per process
    /// when unset, so replicas behind one balancer need it set).
    own: Vec<u8>,
    keys: RwLock<KeyCache>,
    http: reqwest::Client,
    refetch: Duration,
}

impl Tokens {
    pub fn new(idp: Option<JwtSettings>, own_secret: Option<String>) -> Result<Self> {
        let own = match own_secret.filter(|s| !s.is_empty()) {
            Some(s) if s.len() < 32 => {
                return Err(Error::invalid_request("SOKUJI_TOKEN_SECRET must be at least 32 characters"));
            }
            Some(s) => s.into_bytes(),
            None => {
                let mut b = vec![0u8; 32];
                getrandom::fill(&mut b).map_err(|e| Error::internal(format!("no randomness: {e}")))?;
                b
            }
        };
        if let Some(s) = &idp {
            if s.secret.is_none() && s.jwks_url.is_none() {
                return Err(Error::invalid_request("JWT needs SOKUJI_JWT_SECRET or SOKUJI_JWKS_URL"));
            }
            if s.issuer.is_empty() || s.audience.is_empty() {
                return Err(Error::invalid_request(
                    "JWT needs SOKUJI_JWT_ISSUER and SOKUJI_JWT_AUDIENCE: both are checked",
                ));
            }
        }
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| Error::internal(format!("http client: {e}")))?;
        let keys = RwLock::new(KeyCache { set: JwkSet { keys: Vec::new() }, fetched: None });
        Ok(Self { idp, own, keys, http, refetch: JWKS_REFETCH })
    }

    /// The least time between two fetches of the JWKS (tests shorten it).
    pub fn with_jwks_refetch(mut self, every: Duration) -> Self {
        self.refetch = every;
        self
    }

    /// Whether an identity provider's tokens are accepted (authentication `auto` turns on).
    pub fn idp_configured(&self) -> bool {
        self.idp.is_some()
    }

    /// A browser token for `principal`, limited to `scopes` (a subset of its own) and `secs`.
    pub fn issue(&self, principal: &Principal, scopes: &[Scope], secs: u64) -> Result<(String, u64)> {
        if let Some(extra) = scopes.iter().find(|s| !principal.scopes.contains(s)) {
            return Err(Error::new(
                ErrorCode::Forbidden,
                format!("the key lacks the {:?} scope it would grant", extra.as_str()),
            ));
        }
        let secs = secs.clamp(1, MAX_TOKEN_SECS);
        let now = now_secs();
        let claims = BrowserClaims {
            iss: OWN_ISSUER.into(),
            aud: BROWSER_AUDIENCE.into(),
            sub: principal.id.clone(),
            scope: Scope::join(scopes, " "),
            tenant: principal.tenant.clone(),
            rate: principal.limits.requests_per_minute,
            audio: principal.limits.audio_seconds_per_day,
            live: principal.limits.live_sessions,
            iat: now,
            nbf: now,
            exp: now + secs,
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &EncodingKey::from_secret(&self.own))
            .map_err(|e| Error::internal(format!("cannot sign a token: {e}")))?;
        Ok((token, secs))
    }

    /// The principal of a token, or `unauthenticated` saying what was wrong.
    pub async fn verify(&self, token: &str) -> Result<Principal> {
        let header = decode_header(token).map_err(refused)?;
        match header.alg {
            Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512 => {
                // Sokuji's own first; then the identity provider's shared secret.
                let own = decode::<BrowserClaims>(
                    token,
                    &DecodingKey::from_secret(&self.own),
                    &validation(Algorithm::HS256, OWN_ISSUER, BROWSER_AUDIENCE),
                );
                let own_err = match own {
                    Ok(t) => return Ok(t.claims.principal()),
                    Err(e) => e,
                };
                let Some(idp) = &self.idp else { return Err(refused(own_err)) };
                let Some(secret) = &idp.secret else { return Err(refused("HMAC tokens are not accepted here")) };
                let v = validation(header.alg, &idp.issuer, &idp.audience);
                let t = decode::<Claims>(token, &DecodingKey::from_secret(secret.as_bytes()), &v).map_err(refused)?;
                t.claims.principal("jwt:", &idp.tenant_claim)
            }
            alg => {
                let Some(idp) = self.idp.as_ref().filter(|i| i.jwks_url.is_some()) else {
                    return Err(refused(format!("{alg:?} tokens are not accepted here")));
                };
                let jwk = self.key(header.kid.as_deref()).await?;
                let key_alg = key_algorithm(&jwk).ok_or_else(|| refused("the signing key has no usable algorithm"))?;
                if key_alg != alg {
                    return Err(refused(format!("the token says {alg:?}, its key is for {key_alg:?}")));
                }
                let key = DecodingKey::from_jwk(&jwk).map_err(refused)?;
                let t = decode::<Claims>(token, &key, &validation(alg, &idp.issuer, &idp.audience)).map_err(refused)?;
                t.claims.principal("jwt:", &idp.tenant_claim)
            }
        }
    }

    /// The JWKS key a token names, fetching the set again when the kid is unknown.
    async fn key(&self, kid: Option<&str>) -> Result<Jwk> {
        let find = |set: &JwkSet| match kid {
            Some(k) => set.find(k).cloned(),
            // No kid: only a set of one key is unambiguous.
            None => (set.keys.len() == 1).then(|| set.keys[0].clone()),
        };
        {
            let cache = self.keys.read().await;
            if let Some(k) = find(&cache.set) {
                return Ok(k);
            }
            if cache.fetched.is_some_and(|t| t.elapsed() < self.refetch) {
                return Err(refused("unknown signing key"));
            }
        }
        let mut cache = self.keys.write().await;
        if cache.fetched.is_none_or(|t| t.elapsed() >= self.refetch) {
            cache.set = self.fetch().await?;
            cache.fetched = Some(Instant::now());
        }
        find(&cache.set).ok_or_else(|| refused("unknown signing key"))
    }

    async fn fetch(&self) -> Result<JwkSet> {
        let url = self.idp.as_ref().and_then(|i| i.jwks_url.clone()).unwrap_or_default();
        let unavailable = |e: String| Error::new(ErrorCode::EngineUnavailable, format!("JWKS {url}: {e}"));
        let res = self.http.get(&url).send().await.map_err(|e| unavailable(e.to_string()))?;
        if !res.status().is_success() {
            return Err(unavailable(format!("status {}", res.status())));
        }
        res.json::<JwkSet>().await.map_err(|e| unavailable(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;
    use serde_json::json;
    use std::sync::{Arc, Mutex};

    const SECRET: &str = "an identity provider's shared secret";

    fn idp(secret: Option<&str>, jwks: Option<String>) -> JwtSettings {
        JwtSettings {
            secret: secret.map(String::from),
            jwks_url: jwks,
            issuer: "https://idp.example".into(),
            audience: "sokuji".into(),
            tenant_claim: "org".into(),
        }
    }

    fn sign(alg: Algorithm, kid: Option<&str>, claims: serde_json::Value, key: &EncodingKey) -> String {
        let mut h = Header::new(alg);
        h.kid = kid.map(String::from);
        jsonwebtoken::encode(&h, &claims, key).expect("sign")
    }

    fn claims(extra: serde_json::Value) -> serde_json::Value {
        let now = now_secs();
        let mut c =
            json!({"iss": "https://idp.example", "aud": "sokuji", "sub": "lan", "exp": now + 60, "nbf": now - 1});
        if let (Some(c), Some(e)) = (c.as_object_mut(), extra.as_object()) {
            c.extend(e.clone());
        }
        c
    }

    fn code(r: Result<Principal>) -> std::result::Result<Principal, ErrorCode> {
        r.map_err(|e| e.code)
    }

    #[tokio::test]
    async fn an_identity_providers_hmac_tokens_are_checked_whole() {
        let t = Tokens::new(Some(idp(Some(SECRET), None)), None).expect("tokens");
        let key = EncodingKey::from_secret(SECRET.as_bytes());
        let ok = sign(
            Algorithm::HS256,
            None,
            claims(json!({"scp": ["stt", "openid"], "roles": "live", "org": "acme"})),
            &key,
        );
        let p = t.verify(&ok).await.expect("valid");
        assert_eq!(
            (p.scopes, p.tenant.as_deref(), p.id.as_str()),
            (vec![Scope::Stt, Scope::Live], Some("acme"), "jwt:lan")
        );
        let now = now_secs();
        let bad = [
            ("expired", claims(json!({"exp": now - 120}))),
            ("not yet valid", claims(json!({"nbf": now + 120}))),
            ("another audience", claims(json!({"aud": "someone-else"}))),
            ("another issuer", claims(json!({"iss": "https://evil.example"}))),
            ("a tenant that is a path", claims(json!({"org": "../other"}))),
            ("a tenant that is not a name", claims(json!({"org": ["a", "b"]}))),
        ];
        for (what, c) in bad {
            assert_eq!(
                code(t.verify(&sign(Algorithm::HS256, None, c, &key)).await).err(),
                Some(ErrorCode::Unauthenticated),
                "{what}"
            );
        }
        let forged = sign(Algorithm::HS256, None, claims(json!({})), &EncodingKey::from_secret(b"guessed"));
        assert!(t.verify(&forged).await.is_err(), "wrong secret");
        let mut tampered = ok.clone();
        tampered.replace_range(ok.len() - 3.., "AAA");
        assert!(t.verify(&tampered).await.is_err(), "tampered signature");
        // alg: none, as an attacker writes it.
        let b64 = |v: serde_json::Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
        let none = format!("{}.{}.", b64(json!({"alg": "none", "typ": "JWT"})), b64(claims(json!({"scope": "admin"}))));
        assert_eq!(code(t.verify(&none).await).err(), Some(ErrorCode::Unauthenticated));
    }

    #[tokio::test]
    async fn browser_tokens_carry_a_subset_of_their_keys_scopes_for_minutes() {
        let t = Tokens::new(None, None).expect("tokens");
        let key = Principal {
            id: "abc".into(),
            name: "app".into(),
            scopes: vec![Scope::Live, Scope::Search],
            tenant: Some("acme".into()),
            limits: Limits { requests_per_minute: Some(30), audio_seconds_per_day: Some(600), live_sessions: Some(1) },
        };
        let (token, secs) = t.issue(&key, &[Scope::Live], 3600).expect("issue");
        assert_eq!(secs, MAX_TOKEN_SECS, "capped");
        let p = t.verify(&token).await.expect("valid");
        // The key's own id and rate: a token spends its key's budget.
        assert_eq!((p.scopes, p.tenant.as_deref(), p.id.as_str()), (vec![Scope::Live], Some("acme"), "abc"));
        assert_eq!((p.name.as_str(), p.limits), ("token", key.limits));
        assert_eq!(t.issue(&key, &[Scope::Admin], 60).map_err(|e| e.code).err(), Some(ErrorCode::Forbidden));
        // Another server's tokens (another secret) are not this one's.
        let other = Tokens::new(None, Some("x".repeat(40))).expect("tokens");
        assert!(other.verify(&token).await.is_err());
        let expired = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &BrowserClaims {
                iss: OWN_ISSUER.into(),
                aud: BROWSER_AUDIENCE.into(),
                sub: "abc".into(),
                scope: "live".into(),
                tenant: None,
                rate: None,
                audio: None,
                live: None,
                iat: 0,
                nbf: 0,
                exp: 1,
            },
            &EncodingKey::from_secret(&t.own),
        )
        .expect("sign");
        assert!(t.verify(&expired).await.is_err());
        assert!(Tokens::new(None, Some("short".into())).is_err(), "a weak secret is refused");
    }

    /// A JWKS on loopback whose keys the test changes.
    async fn jwks_server(set: Arc<Mutex<serde_json::Value>>) -> String {
        let app = axum::Router::new().route(
            "/jwks",
            axum::routing::get(move || {
                let set = set.clone();
                async move { axum::Json(set.lock().expect("lock").clone()) }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move { axum::serve(listener, app).await });
        format!("http://{addr}/jwks")
    }

    fn rsa_key(kid: &str) -> (EncodingKey, serde_json::Value, Vec<u8>) {
        use rsa::{pkcs1::EncodeRsaPrivateKey, pkcs1::EncodeRsaPublicKey, traits::PublicKeyParts};
        let private = rsa::RsaPrivateKey::new(&mut rand::thread_rng(), 2048).expect("keygen");
        let b64 = |b: Vec<u8>| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
        let jwk = json!({"kty": "RSA", "kid": kid, "alg": "RS256", "use": "sig",
            "n": b64(private.n().to_bytes_be()), "e": b64(private.e().to_bytes_be())});
        let public_der = private.to_public_key().to_pkcs1_der().expect("der").as_bytes().to_vec();
        (EncodingKey::from_rsa_der(private.to_pkcs1_der().expect("der").as_bytes()), jwk, public_der)
    }

    #[tokio::test]
    async fn jwks_keys_verify_rotate_and_never_become_hmac_secrets() {
        let (k1, jwk1, public1) = rsa_key("k1");
        let (k2, jwk2, _) = rsa_key("k2");
        let set = Arc::new(Mutex::new(json!({"keys": [jwk1.clone()]})));
        let url = jwks_server(set.clone()).await;
        let t = Tokens::new(Some(idp(None, Some(url))), None).expect("tokens").with_jwks_refetch(Duration::ZERO);
        let p = t
            .verify(&sign(Algorithm::RS256, Some("k1"), claims(json!({"scope": "search stt"})), &k1))
            .await
            .expect("valid");
        assert_eq!(p.scopes, vec![Scope::Stt, Scope::Search]);
        // The provider rotates: a token with the new kid makes the server fetch the set again.
        let rotated = sign(Algorithm::RS256, Some("k2"), claims(json!({"scope": "stt"})), &k2);
        assert!(t.verify(&rotated).await.is_err(), "k2 is not published yet");
        set.lock().expect("lock")["keys"] = json!([jwk1, jwk2]);
        assert!(t.verify(&rotated).await.is_ok(), "fetched again on the unknown kid");
        // Algorithm confusion: the RSA public key used as an HMAC secret.
        let confused =
            sign(Algorithm::HS256, Some("k1"), claims(json!({"scope": "admin"})), &EncodingKey::from_secret(&public1));
        assert_eq!(code(t.verify(&confused).await).err(), Some(ErrorCode::Unauthenticated));
        // A kid the provider never published.
        assert!(t.verify(&sign(Algorithm::RS256, Some("k9"), claims(json!({})), &k1)).await.is_err());
    }
}
