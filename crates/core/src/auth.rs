//! Who may do what: the scopes, the one table mapping every HTTP route and gRPC service to the
//! scope it needs, and the authentication mode. Checking credentials is the store's and the
//! servers' (hashes, headers); the decisions are pure functions here.
use crate::{Error, ErrorCode, Result};

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
        "/health" | "/" | "/search" | "/api/v1/info" | "/openapi.json" => Public,
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
    async fn admit(&self, _principal: &Principal) -> Result<Option<RateState>> {
        Ok(None)
    }
}

/// Who a request comes from, once its credential is checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Principal {
    /// The key's id (its visible prefix), or "anonymous" where no credential is required.
    pub id: String,
    pub name: String,
    pub scopes: Vec<Scope>,
    pub tenant: Option<String>,
    /// Requests a minute this principal may make (`None`: unlimited).
    pub rate_per_minute: Option<u32>,
}

/// Where a principal stands against its rate in the current minute.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateState {
    pub limit: u32,
    pub remaining: u32,
    /// Seconds until the window resets.
    pub reset_secs: u32,
}

impl RateState {
    /// The window of `now_ms` (calendar minutes, the same on every replica) and where `used`
    /// requests in it leave a principal with `limit`; `Err` (rate_limited, saying when to come
    /// back) past the limit.
    pub fn of(limit: u32, used: u64, now_ms: i64) -> Result<Self> {
        let reset_secs = Self::reset_secs(now_ms);
        if used > u64::from(limit) {
            return Err(Error::new(
                ErrorCode::RateLimited,
                format!("more than {limit} requests this minute: retry in {reset_secs} s"),
            ));
        }
        Ok(Self { limit, remaining: limit - used as u32, reset_secs })
    }

    /// Seconds from `now_ms` to the next window.
    pub fn reset_secs(now_ms: i64) -> u32 {
        (60 - now_ms.rem_euclid(60_000) / 1000) as u32
    }

    /// The start of `now_ms`'s window.
    pub fn window(now_ms: i64) -> i64 {
        now_ms - now_ms.rem_euclid(60_000)
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
            rate_per_minute: None,
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
    fn rates_count_calendar_minutes() {
        let minute = 28_883_333 * 60_000;
        let at = minute + 12_345; // 12.345 s into a minute
        assert_eq!(RateState::window(at), minute);
        assert_eq!(RateState::of(10, 1, at).map(|s| s.reset_secs).ok(), Some(48));
        let s = RateState::of(10, 3, at).expect("under");
        assert_eq!((s.limit, s.remaining), (10, 7));
        assert_eq!(RateState::of(10, 10, at).map(|s| s.remaining).ok(), Some(0));
        let e = RateState::of(10, 11, at).expect_err("over");
        assert_eq!(e.code, ErrorCode::RateLimited);
        assert!(e.message.contains("retry in"), "{e}");
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
            rate_per_minute: None,
        };
        assert!(p.check(Access::Needs(Scope::Stt)).is_ok());
        assert_eq!(p.check(Access::Needs(Scope::Admin)).map_err(|e| e.code), Err(ErrorCode::Forbidden));
    }
}
