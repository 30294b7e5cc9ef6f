//! API keys in the metadata database. A key is `sk_<id>_<secret>`: the id is its visible,
//! stored prefix (shown in listings and logs); the secret is 32 random bytes, and only the key's
//! SHA-256 is kept, compared in constant time. Keys are random, not chosen by people, so a fast
//! hash is the right one (nothing to brute-force from a dictionary).
use crate::db::{Db, db_error, now_ms};
use sha2::{Digest, Sha256};
use sokuji_core::{
    Error, ErrorCode, Result,
    auth::{Principal, Scope},
    quota::Limits,
};
use sqlx::Row;
use subtle::ConstantTimeEq;

/// A stored key, without its secret.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyInfo {
    pub id: String,
    pub name: String,
    pub scopes: Vec<Scope>,
    pub tenant: Option<String>,
    pub limits: Limits,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
}

/// What to create.
#[derive(Clone, Debug, Default)]
pub struct NewKey {
    pub name: String,
    pub scopes: Vec<Scope>,
    pub tenant: Option<String>,
    pub limits: Limits,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn hash(key: &str) -> String {
    hex(&Sha256::digest(key.as_bytes()))
}

fn random_hex(n: usize) -> Result<String> {
    let mut buf = vec![0u8; n];
    getrandom::fill(&mut buf).map_err(|e| Error::internal(format!("no randomness for a key: {e}")))?;
    Ok(hex(&buf))
}

/// The id of a presented key, if it has a key's shape.
fn id_of(key: &str) -> Option<&str> {
    let rest = key.strip_prefix("sk_")?;
    let (id, secret) = rest.split_once('_')?;
    (id.len() == 12 && secret.len() == 64 && id.bytes().chain(secret.bytes()).all(|b| b.is_ascii_hexdigit()))
        .then_some(id)
}

fn unauthenticated(why: &str) -> Error {
    Error::new(ErrorCode::Unauthenticated, why.to_string())
}

fn count(r: &sqlx::any::AnyRow, column: &str) -> Result<Option<u32>> {
    Ok(r.try_get::<Option<i64>, _>(column).map_err(db_error)?.map(|n| n.clamp(0, u32::MAX as i64) as u32))
}

fn info(r: &sqlx::any::AnyRow) -> Result<KeyInfo> {
    let scopes: String = r.try_get("scopes").map_err(db_error)?;
    Ok(KeyInfo {
        id: r.try_get("id").map_err(db_error)?,
        name: r.try_get("name").map_err(db_error)?,
        // A scope this build does not know is dropped, never widened.
        scopes: scopes.split(',').filter_map(Scope::parse).collect(),
        tenant: r.try_get("tenant").map_err(db_error)?,
        limits: Limits {
            requests_per_minute: count(r, "rate_per_minute")?,
            audio_seconds_per_day: count(r, "audio_seconds_per_day")?,
            live_sessions: count(r, "live_sessions")?,
        },
        created_at: r.try_get("created_at").map_err(db_error)?,
        revoked_at: r.try_get("revoked_at").map_err(db_error)?,
    })
}

impl Db {
    /// Creates a key and returns it whole: the only time its secret is seen. `actor` (who asked)
    /// goes to the audit log.
    pub async fn create_key(&self, new: &NewKey, actor: &str) -> Result<(String, KeyInfo)> {
        let name = new.name.trim();
        if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
            return Err(Error::invalid_request("a key needs a name of 1 to 100 printable characters"));
        }
        let l = new.limits;
        if [l.requests_per_minute, l.audio_seconds_per_day, l.live_sessions].contains(&Some(0)) {
            return Err(Error::invalid_request("a limit of 0 allows nothing: revoke the key instead"));
        }
        if new.scopes.is_empty() {
            return Err(Error::invalid_request("a key needs at least one scope"));
        }
        if let Some(t) = &new.tenant {
            sokuji_core::auth::check_tenant(t)?;
        }
        let id = random_hex(6)?;
        let key = format!("sk_{id}_{}", random_hex(32)?);
        let now = now_ms();
        sqlx::query(
            "INSERT INTO api_keys (id, name, hash, scopes, tenant, created_at, revoked_at, rate_per_minute, \
             audio_seconds_per_day, live_sessions) VALUES ($1, $2, $3, $4, $5, $6, NULL, $7, $8, $9)",
        )
        .bind(&id)
        .bind(name)
        .bind(hash(&key))
        .bind(Scope::join(&new.scopes, ","))
        .bind(new.tenant.clone())
        .bind(now)
        .bind(l.requests_per_minute.map(i64::from))
        .bind(l.audio_seconds_per_day.map(i64::from))
        .bind(l.live_sessions.map(i64::from))
        .execute(&self.pool)
        .await
        .map_err(db_error)?;
        let info = KeyInfo {
            id,
            name: name.to_string(),
            scopes: new.scopes.clone(),
            tenant: new.tenant.clone(),
            limits: l,
            created_at: now,
            revoked_at: None,
        };
        let detail = format!("name={} scopes={}", info.name, Scope::join(&info.scopes, ","));
        self.audit(actor, "key.create", &info.id, &detail).await?;
        Ok((key, info))
    }

    /// Every key, newest first, revoked ones too.
    pub async fn keys(&self) -> Result<Vec<KeyInfo>> {
        let rows = sqlx::query("SELECT * FROM api_keys ORDER BY created_at DESC, id")
            .fetch_all(&self.pool)
            .await
            .map_err(db_error)?;
        rows.iter().map(info).collect()
    }

    /// Revokes a key at once (its next request is refused); revoking twice is a no-op. `actor`
    /// goes to the audit log.
    pub async fn revoke_key(&self, id: &str, actor: &str) -> Result<KeyInfo> {
        sqlx::query("UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
            .bind(now_ms())
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(db_error)?;
        let key = self.key(id).await?.ok_or_else(|| Error::new(ErrorCode::NotFound, format!("no key {id:?}")))?;
        self.audit(actor, "key.revoke", &key.id, &key.name).await?;
        Ok(key)
    }

    /// A key by its id, revoked or not (a recording's uploader, whose quota its transcription spends).
    pub async fn key(&self, id: &str) -> Result<Option<KeyInfo>> {
        self.key_row(id).await?.as_ref().map(info).transpose()
    }

    async fn key_row(&self, id: &str) -> Result<Option<sqlx::any::AnyRow>> {
        sqlx::query("SELECT * FROM api_keys WHERE id = $1").bind(id).fetch_optional(&self.pool).await.map_err(db_error)
    }

    /// Whether any key is active (authentication `auto` turns on with the first).
    pub async fn keys_exist(&self) -> Result<bool> {
        let row = sqlx::query("SELECT id FROM api_keys WHERE revoked_at IS NULL LIMIT 1")
            .fetch_optional(&self.pool)
            .await
            .map_err(db_error)?;
        Ok(row.is_some())
    }

    /// The principal of a presented key, or `unauthenticated` (malformed, unknown, revoked: the
    /// same answer, so a prober learns nothing).
    pub async fn authenticate(&self, key: &str) -> Result<Principal> {
        let refused = || unauthenticated("the API key is not valid");
        let id = id_of(key).ok_or_else(refused)?;
        let row = self.key_row(id).await?.ok_or_else(refused)?;
        let stored: String = row.try_get("hash").map_err(db_error)?;
        if !bool::from(stored.as_bytes().ct_eq(hash(key).as_bytes())) {
            return Err(refused());
        }
        let k = info(&row)?;
        if k.revoked_at.is_some() {
            return Err(refused());
        }
        Ok(Principal { id: k.id, name: k.name, scopes: k.scopes, tenant: k.tenant, limits: k.limits })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn db(dir: &tempfile::TempDir) -> Db {
        Db::open(&format!("sqlite://{}", dir.path().join("m.db").display())).await.expect("db")
    }

    #[tokio::test]
    async fn a_key_authenticates_until_revoked() {
        let dir = tempfile::tempdir().expect("tmp");
        let db = db(&dir).await;
        assert!(!db.keys_exist().await.expect("query"));
        let new = NewKey {
            name: "ci".into(),
            scopes: vec![Scope::Stt, Scope::Search],
            tenant: Some("acme".into()),
            limits: Limits {
                requests_per_minute: Some(100),
                audio_seconds_per_day: Some(3600),
                live_sessions: Some(2),
            },
        };
        let (key, info) = db.create_key(&new, "test").await.expect("create");
        assert!(key.starts_with(&format!("sk_{}_", info.id)) && key.len() == 3 + 12 + 1 + 64, "{key}");
        assert!(db.keys_exist().await.expect("query"));
        let p = db.authenticate(&key).await.expect("valid");
        assert_eq!(
            (p.scopes, p.tenant.as_deref(), p.limits),
            (vec![Scope::Stt, Scope::Search], Some("acme"), new.limits)
        );
        // Only the hash is stored.
        let raw = std::fs::read(dir.path().join("m.db")).expect("file");
        assert!(!raw.windows(64).any(|w| w == &key.as_bytes()[16..]), "the secret is not in the database");
        // Wrong secret with the right id, wrong shapes: the same refusal.
        let forged = format!("{}{}", &key[..16], "0".repeat(64));
        for bad in [forged.as_str(), "sk_nothing", "", "Bearer x", &key[..key.len() - 1]] {
            assert_eq!(db.authenticate(bad).await.map_err(|e| e.code), Err(ErrorCode::Unauthenticated), "{bad}");
        }
        let revoked = db.revoke_key(&info.id, "test").await.expect("revoke");
        assert!(revoked.revoked_at.is_some());
        assert_eq!(db.authenticate(&key).await.map_err(|e| e.code), Err(ErrorCode::Unauthenticated));
        assert!(!db.keys_exist().await.expect("query"));
        assert_eq!(db.revoke_key("nope", "test").await.map_err(|e| e.code), Err(ErrorCode::NotFound));
        assert_eq!(db.keys().await.expect("list").len(), 1);
    }

    #[tokio::test]
    async fn bad_keys_are_refused_before_anything_is_stored() {
        let dir = tempfile::tempdir().expect("tmp");
        let db = db(&dir).await;
        let cases = [
            NewKey { name: "".into(), scopes: vec![Scope::Stt], ..Default::default() },
            NewKey { name: "x".into(), scopes: vec![], ..Default::default() },
            NewKey { name: "x".into(), scopes: vec![Scope::Stt], tenant: Some("a b".into()), ..Default::default() },
            NewKey { name: "a\u{7}".into(), scopes: vec![Scope::Stt], ..Default::default() },
            NewKey {
                name: "x".into(),
                scopes: vec![Scope::Stt],
                limits: Limits { requests_per_minute: Some(0), ..Default::default() },
                ..Default::default()
            },
            NewKey {
                name: "x".into(),
                scopes: vec![Scope::Stt],
                limits: Limits { live_sessions: Some(0), ..Default::default() },
                ..Default::default()
            },
        ];
        for c in cases {
            assert_eq!(
                db.create_key(&c, "test").await.map_err(|e| e.code).err(),
                Some(ErrorCode::InvalidRequest),
                "{c:?}"
            );
        }
        assert!(db.keys().await.expect("list").is_empty());
    }
}
