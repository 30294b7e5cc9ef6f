//! Who may do what: the scopes, the one table mapping every HTTP route and gRPC service to the
//! scope it needs, and the authentication mode. Checking credentials is the store's and the
//! servers' (hashes, headers); the decisions are pure functions here.
use crate::{
    Error, ErrorCode, Result,
    quota::{LimitState, Limits},
};

/// What a credential may do. A key or token carries a set of these.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    Stt,
    Translate,
    Tts,
    Live,
    Search,
    ArchiveRead,
    ArchiveWrite,
    /// Deletion, dead letters, reindexing.
    ArchiveAdmin,
    Datasets,
    Training,
    /// Prometheus metrics (a scraper's key needs nothing else).
    Metrics,
    /// Keys and the other scopes' administration.
    Admin,
}

pub const ALL_SCOPES: &[Scope] = &[
    Scope::Stt,
    Scope::Translate,
    Scope::Tts,
    Scope::Live,
    Scope::Search,
    Scope::ArchiveRead,
    Scope::ArchiveWrite,
    Scope::ArchiveAdmin,
    Scope::Datasets,
    Scope::Training,
    Scope::Metrics,
    Scope::Admin,
];

impl Scope {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Stt => "stt",
            Self::Translate => "translate",
            Self::Tts => "tts",
            Self::Live => "live",
            Self::Search => "search",
            Self::ArchiveRead => "archive:read",
            Self::ArchiveWrite => "archive:write",
            Self::ArchiveAdmin => "archive:admin",
            Self::Datasets => "datasets",
            Self::Training => "training",
            Self::Metrics => "metrics",
            Self::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        ALL_SCOPES.iter().copied().find(|x| x.as_str() == s)
    }

    /// Names joined by `sep` (`,` in storage and listings, ` ` in OAuth's `scope` claim).
    pub fn join(scopes: &[Scope], sep: &str) -> String {
        scopes.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(sep)
    }

    /// A comma- or space-separated list; "all" (or "*") is every scope. Unknown names are an error
    /// naming them, so a typo never grants less (or more) than meant silently.
    pub fn parse_list(s: &str) -> Result<Vec<Scope>> {
        let mut out = Vec::new();
        for name in s.split([',', ' ']).map(str::trim).filter(|n| !n.is_empty()) {
            if name == "all" || name == "*" {
                out.extend_from_slice(ALL_SCOPES);
                continue;
            }
            let scope = Self::parse(name).ok_or_else(|| {
                let known: Vec<&str> = ALL_SCOPES.iter().map(|s| s.as_str()).collect();
                Error::invalid_request(format!("unknown scope {name:?}: use {} or all", known.join(", ")))
            })?;
            out.push(scope);
        }
        out.sort();
        out.dedup();
        if out.is_empty() {
            return Err(Error::invalid_request("no scopes given"));
        }
        Ok(out)
    }
}

/// What a route or RPC needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Health, the API's own description, the pages (which hold no data until they call the API).
    Public,
    /// Any valid credential, whatever its scopes (a key's own usage).
    AnyKey,
    Needs(Scope),
}

/// The scope of an HTTP route: `method` and the route's pattern as the router matched it
/// (`/api/v1/recordings/{id}`). `None` for a route not in the table: refused unless public.
pub fn http_access(method: &str, route: &str) -> Option<Access> {
    use Access::{AnyKey, Needs, Public};
    use Scope::*;
    let get = method == "GET" || method == "HEAD";
    Some(match route {
        "/health" | "/" | "/search" | "/archive" | "/api/v1/info" | "/openapi.json" => Public,
        // Any key may ask for a token of its own scopes: the handler checks the key.
        "/api/v1/auth/token" => Public,
        "/api/v1/usage" => AnyKey,
        r if r == "/docs" || r.starts_with("/docs/") => Public,
        "/metrics" => Needs(Metrics),
        "/api/v1/stt/transcribe" | "/api/v1/stt/languages" | "/v1/audio/transcriptions" | "/v1/audio/translations" => {
            Needs(Stt)
        }
        "/v1/models" => Needs(Stt),
        "/api/v1/translation/translate" | "/api/v1/translation/languages" | "/api/v1/text/normalize" => {
            Needs(Translate)
        }
        "/api/v1/tts/synthesize" | "/api/v1/tts/voices" | "/v1/audio/speech" => Needs(Tts),
        "/api/v1/pipeline/translate-text" | "/api/v1/pipeline/translate-audio" => Needs(Translate),
        "/api/v1/ws/translate" | "/api/v1/ws/asr" | "/v1/realtime" | "/v1/realtime/translations" => Needs(Live),
        "/v1/embeddings" | "/api/v1/search" => Needs(Search),
        "/api/v1/recordings" if get => Needs(ArchiveRead),
        "/api/v1/recordings" => Needs(ArchiveWrite),
        "/api/v1/recordings/{id}" if get => Needs(ArchiveRead),
        "/api/v1/recordings/{id}" => Needs(ArchiveAdmin),
        "/api/v1/recordings/{id}/transcript" | "/api/v1/recordings/{id}/audio" => Needs(ArchiveRead),
        "/api/v1/recordings/{id}/reprocess" => Needs(ArchiveWrite),
        "/api/v1/recordings/{id}/reindex" | "/api/v1/search/reindex" | "/api/v1/dlq" | "/api/v1/dlq/replay" => {
            Needs(ArchiveAdmin)
        }
        "/api/v1/keys" | "/api/v1/keys/{id}" | "/api/v1/audit" => Needs(Admin),
        _ => return None,
    })
}

/// The scope of a gRPC call, by its path (`/package.Service/Method`): health (the standard
/// service and each contract's own `HealthCheck`) and reflection are public; every other call
/// needs its service's capability.
pub fn grpc_access(path: &str) -> Option<Access> {
    use Access::{Needs, Public};
    let (service, method) = path.trim_start_matches('/').split_once('/').unwrap_or_default();
    if method == "HealthCheck" {
        return Some(Public);
    }
    Some(match service {
        "grpc.health.v1.Health" => Public,
        s if s.starts_with("grpc.reflection.") => Public,
        s if s.ends_with(".STTService") => Needs(Scope::Stt),
        s if s.ends_with(".TranslationService") || s.ends_with(".TextService") => Needs(Scope::Translate),
        s if s.ends_with(".TTSService") => Needs(Scope::Tts),
        s if s.ends_with(".EmbeddingService") => Needs(Scope::Search),
        s if s.ends_with(".LiveTranslationService") => Needs(Scope::Live),
        _ => return None,
    })
}

/// Whether credentials are required (`SOKUJI_AUTH`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum AuthMode {
    /// Required as soon as a key exists: zero set-up until the first key.
    #[default]
    Auto,
    On,
    /// Never required: an operator's deliberate choice.
    Off,
}

impl AuthMode {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Auto => "auto",
            Self::On => "on",
            Self::Off => "off",
        }
    }

    pub fn parse(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "" | "auto" => Ok(Self::Auto),
            "on" | "true" | "1" => Ok(Self::On),
            "off" | "false" | "0" => Ok(Self::Off),
            other => Err(Error::invalid_request(format!("SOKUJI_AUTH={other:?}: use auto, on or off"))),
        }
    }

    /// Whether a request without credentials is refused, given whether any key is active.
    pub fn required(self, keys_exist: bool) -> bool {
        match self {
            Self::Auto => keys_exist,
            Self::On => true,
            Self::Off => false,
        }
    }
}

/// Checks a request's credential against what it needs: one implementation (keys in the
/// metadata database) behind HTTP and gRPC alike.
#[async_trait::async_trait]
pub trait Authenticator: Send + Sync {
    /// Who is asking, allowed to do `access` (`None`: a route missing from the table, an
    /// administrator's); `unauthenticated` or `forbidden` otherwise.
    async fn authenticate(&self, credential: Option<&str>, access: Option<Access>) -> Result<Principal>;

    /// Counts a request of `principal` against its rate: where it stands, or `rate_limited`.
    async fn admit(&self, _principal: &Principal) -> Result<Option<LimitState>> {
        Ok(None)
    }

    /// Takes `seconds` of audio from the principal's day before the work is done; refuses
    /// (`rate_limited`, taking nothing) what would pass its allowance.
    async fn meter_audio(&self, _principal: &Principal, _seconds: u64) -> Result<()> {
        Ok(())
    }

    /// Holds one of the principal's concurrent live sessions until the slot is dropped; refuses
    /// (`rate_limited`) when all are taken.
    async fn open_live(&self, _principal: &Principal) -> Result<LiveSlot> {
        Ok(LiveSlot::default())
    }
}

/// A held live-session slot: dropping it frees the slot (on every replica).
#[derive(Default)]
pub struct LiveSlot(pub Option<Box<dyn Send + Sync>>);

/// What a request's handler meters against: its principal and the authenticator that counts.
/// Both servers put it in the request's extensions, so one handler serves HTTP and gRPC alike.
#[derive(Clone)]
pub struct Meter {
    pub principal: Principal,
    pub auth: std::sync::Arc<dyn Authenticator>,
}

impl Meter {
    /// A meter for `principal` where its limits need one (see [`Limits::metered`]).
    pub fn of(principal: &Principal, auth: impl FnOnce() -> std::sync::Arc<dyn Authenticator>) -> Option<Self> {
        principal.limits.metered().then(|| Self { principal: principal.clone(), auth: auth() })
    }

    /// Meters `seconds` of audio (see [`Authenticator::meter_audio`]).
    pub async fn audio(&self, seconds: f64) -> Result<()> {
        match (self.principal.limits.audio_seconds_per_day, crate::quota::metered_seconds(seconds)) {
            (None, _) | (_, 0) => Ok(()),
            (Some(_), secs) => self.auth.meter_audio(&self.principal, secs).await,
        }
    }

    pub async fn live(&self) -> Result<LiveSlot> {
        match self.principal.limits.live_sessions {
            None => Ok(LiveSlot::default()),
            Some(_) => self.auth.open_live(&self.principal).await,
        }
    }
}

/// Meters `seconds` of audio when a request carries a meter (servers without credentials
/// configured put none).
pub async fn meter_audio(meter: Option<&Meter>, seconds: f64) -> Result<()> {
    match meter {
        Some(m) => m.audio(seconds).await,
        None => Ok(()),
    }
}

/// Holds one of the caller's live sessions when the request carries a meter.
pub async fn open_live(meter: Option<&Meter>) -> Result<LiveSlot> {
    match meter {
        Some(m) => m.live().await,
        None => Ok(LiveSlot::default()),
    }
}

/// Refuses a tenant name that is not 1 to 100 ASCII letters, digits, '-', '_' or '.', starting
/// with a letter or digit: names reach object paths and index terms, so keys and tokens alike
/// are held to this.
pub fn check_tenant(t: &str) -> Result<()> {
    let ok = (1..=100).contains(&t.len())
        && t.starts_with(|c: char| c.is_ascii_alphanumeric())
        && t.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
    if ok {
        Ok(())
    } else {
        Err(Error::invalid_request(format!(
            "tenant {t:?}: use 1 to 100 letters, digits, '-', '_' or '.', starting with a letter or digit"
        )))
    }
}

/// Who a request comes from, once its credential is checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Principal {
    /// The key's id (its visible prefix), or "anonymous" where no credential is required.
    pub id: String,
    pub name: String,
    pub scopes: Vec<Scope>,
    /// The tenant whose archive it sees; `None`: the default tenant's, or every tenant's for an
    /// administrator (see [`Principal::visibility`]).
    pub tenant: Option<String>,
    pub limits: Limits,
}

/// Whose archive a request sees. Every query of the store and the search indexes takes one, so
/// a handler cannot forget it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Visibility {
    /// Every tenant's: an administrator without a tenant, or a server without authentication.
    All,
    /// One tenant's ("": the default tenant, where data of principals without a tenant goes).
    Tenant(String),
}

/// The least a filter can see: the default tenant.
impl Default for Visibility {
    fn default() -> Self {
        Self::Tenant(String::new())
    }
}

impl Visibility {
    /// The tenant a filter keeps (`None`: all).
    pub fn tenant(&self) -> Option<&str> {
        match self {
            Self::All => None,
            Self::Tenant(t) => Some(t),
        }
    }
}

impl Principal {
    /// Everything allowed: a server whose authentication is off (or not yet on).
    pub fn anonymous() -> Self {
        Self {
            id: "anonymous".into(),
            name: "anonymous".into(),
            scopes: ALL_SCOPES.to_vec(),
            tenant: None,
            limits: Limits::default(),
        }
    }

    /// Refuses, naming the scope, what this principal may not do.
    pub fn check(&self, access: Access) -> Result<()> {
        match access {
            Access::Public | Access::AnyKey => Ok(()),
            Access::Needs(s) if self.scopes.contains(&s) => Ok(()),
            Access::Needs(s) => Err(Error::new(
                ErrorCode::Forbidden,
                format!("key {} lacks the {:?} scope this needs", self.id, s.as_str()),
            )),
        }
    }

    /// A tenant's key or token sees its tenant; without a tenant, `admin` sees every tenant and
    /// anything else the default tenant.
    pub fn visibility(&self) -> Visibility {
        match &self.tenant {
            Some(t) => Visibility::Tenant(t.clone()),
            None if self.scopes.contains(&Scope::Admin) => Visibility::All,
            None => Visibility::Tenant(String::new()),
        }
    }

    /// The tenant that what this principal stores belongs to ("": the default one).
    pub fn home_tenant(&self) -> &str {
        self.tenant.as_deref().unwrap_or_default()
    }
}

/// The visibility of a request's principal; none (a server without authentication) sees all.
pub fn visibility(who: Option<&Principal>) -> Visibility {
    who.map_or(Visibility::All, Principal::visibility)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_lists_parse_or_name_the_unknown() {
        assert_eq!(Scope::parse_list("stt, translate").ok(), Some(vec![Scope::Stt, Scope::Translate]));
        assert_eq!(Scope::parse_list("archive:read archive:read").ok(), Some(vec![Scope::ArchiveRead]));
        assert_eq!(Scope::parse_list("all").map(|v| v.len()).ok(), Some(ALL_SCOPES.len()));
        for bad in ["", "stt,sst", "ADMIN", "archive"] {
            assert!(Scope::parse_list(bad).is_err(), "{bad:?}");
        }
        for s in ALL_SCOPES {
            assert_eq!(Scope::parse(s.as_str()), Some(*s));
        }
    }

    #[test]
    fn routes_need_their_capability() {
        use Access::{Needs, Public};
        let cases = [
            ("GET", "/health", Some(Public)),
            ("GET", "/docs/index.css", Some(Public)),
            ("GET", "/metrics", Some(Needs(Scope::Metrics))),
            ("POST", "/api/v1/stt/transcribe", Some(Needs(Scope::Stt))),
            ("POST", "/v1/audio/speech", Some(Needs(Scope::Tts))),
            ("GET", "/api/v1/ws/translate", Some(Needs(Scope::Live))),
            ("GET", "/api/v1/recordings", Some(Needs(Scope::ArchiveRead))),
            ("POST", "/api/v1/recordings", Some(Needs(Scope::ArchiveWrite))),
            ("DELETE", "/api/v1/recordings/{id}", Some(Needs(Scope::ArchiveAdmin))),
            ("DELETE", "/api/v1/dlq", Some(Needs(Scope::ArchiveAdmin))),
            ("POST", "/api/v1/keys", Some(Needs(Scope::Admin))),
            ("GET", "/api/v1/secret", None),
        ];
        for (m, r, want) in cases {
            assert_eq!(http_access(m, r), want, "{m} {r}");
        }
    }

    #[test]
    fn rpcs_need_their_capability() {
        let cases = [
            ("/grpc.health.v1.Health/Check", Some(Access::Public)),
            ("/grpc.reflection.v1.ServerReflection/ServerReflectionInfo", Some(Access::Public)),
            ("/sokuji.stt.STTService/Transcribe", Some(Access::Needs(Scope::Stt))),
            ("/sokuji.stt.STTService/HealthCheck", Some(Access::Public)),
            ("/sokuji.tts.TTSService/Synthesize", Some(Access::Needs(Scope::Tts))),
            ("/sokuji.translation.TranslationService/TranslateBatch", Some(Access::Needs(Scope::Translate))),
            ("/sokuji.text.TextService/Normalize", Some(Access::Needs(Scope::Translate))),
            ("/sokuji.embedding.EmbeddingService/Embed", Some(Access::Needs(Scope::Search))),
            ("/sokuji.live.LiveTranslationService/Translate", Some(Access::Needs(Scope::Live))),
            ("/x.Other/Do", None),
        ];
        for (p, want) in cases {
            assert_eq!(grpc_access(p), want, "{p}");
        }
    }

    #[test]
    fn modes_require_credentials_as_configured() {
        assert!(!AuthMode::Auto.required(false) && AuthMode::Auto.required(true));
        assert!(AuthMode::On.required(false) && !AuthMode::Off.required(true));
        assert_eq!(AuthMode::parse("OFF").ok(), Some(AuthMode::Off));
        assert!(AuthMode::parse("maybe").is_err());
        let p = Principal {
            id: "k1".into(),
            name: "n".into(),
            scopes: vec![Scope::Stt],
            tenant: None,
            limits: Limits::default(),
        };
        assert!(p.check(Access::Needs(Scope::Stt)).is_ok());
        assert_eq!(p.check(Access::Needs(Scope::Admin)).map_err(|e| e.code), Err(ErrorCode::Forbidden));
    }

    #[test]
    fn tenant_names() {
        for ok in ["acme", "a", "team-1.eu_west", &"x".repeat(100)] {
            assert!(check_tenant(ok).is_ok(), "{ok}");
        }
        for bad in ["", ".", "..", "-a", "a/b", "a b", "ä", "../x", &"x".repeat(101)] {
            assert!(check_tenant(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn principals_see_their_tenant() {
        let key = |tenant: Option<&str>, scopes: &[Scope]| Principal {
            id: "k".into(),
            name: "n".into(),
            scopes: scopes.to_vec(),
            tenant: tenant.map(String::from),
            limits: Limits::default(),
        };
        let cases = [
            (key(Some("acme"), &[Scope::ArchiveRead]), Visibility::Tenant("acme".into()), "acme"),
            (key(Some("acme"), ALL_SCOPES), Visibility::Tenant("acme".into()), "acme"),
            (key(None, &[Scope::ArchiveRead, Scope::ArchiveAdmin]), Visibility::Tenant(String::new()), ""),
            (key(None, &[Scope::Admin]), Visibility::All, ""),
            (Principal::anonymous(), Visibility::All, ""),
        ];
        for (p, want, home) in cases {
            assert_eq!((p.visibility(), p.home_tenant()), (want, home), "{p:?}");
        }
        assert_eq!(visibility(None), Visibility::All);
        assert_eq!(Visibility::Tenant("acme".into()).tenant(), Some("acme"));
        assert_eq!(Visibility::Tenant(String::new()).tenant(), Some(""));
        assert_eq!(Visibility::All.tenant(), None);
    }
}
