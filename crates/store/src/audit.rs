//! The audit log: who created or revoked a key, deleted a recording, purged or replayed dead
//! letters, and when. Written in the metadata database beside what it records.
use crate::db::{Db, db_error, now_ms};
use sokuji_core::Result;
use sqlx::Row;

/// What the log says of one act.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditEntry {
    pub id: i64,
    /// Milliseconds since the Unix epoch.
    pub at: i64,
    /// The key or token id, `cli:<user>` for the command line, or `anonymous`.
    pub actor: String,
    /// `key.create`, `key.revoke`, `recording.delete`, `dlq.purge`, `dlq.replay`.
    pub action: String,
    pub target: String,
    pub detail: String,
}

impl Db {
    /// Appends an entry.
    pub async fn audit(&self, actor: &str, action: &str, target: &str, detail: &str) -> Result<()> {
        sqlx::query("INSERT INTO audit_log (at, actor, action, target, detail) VALUES ($1, $2, $3, $4, $5)")
            .bind(now_ms())
            .bind(actor)
            .bind(action)
            .bind(target)
            .bind(detail)
            .execute(&self.pool)
            .await
            .map_err(db_error)?;
        Ok(())
    }

    /// The newest `limit` entries, newest first.
    pub async fn audit_log(&self, limit: u32) -> Result<Vec<AuditEntry>> {
        let rows = sqlx::query("SELECT * FROM audit_log ORDER BY id DESC LIMIT $1")
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(db_error)?;
        rows.iter()
            .map(|r| {
                Ok(AuditEntry {
                    id: r.try_get("id").map_err(db_error)?,
                    at: r.try_get("at").map_err(db_error)?,
                    actor: r.try_get("actor").map_err(db_error)?,
                    action: r.try_get("action").map_err(db_error)?,
                    target: r.try_get("target").map_err(db_error)?,
                    detail: r.try_get("detail").map_err(db_error)?,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn entries_come_back_newest_first() {
        let dir = tempfile::tempdir().expect("tmp");
        let db = crate::Db::open(&format!("sqlite://{}", dir.path().join("m.db").display())).await.expect("db");
        db.audit("cli:lan", "key.create", "abc123", "scopes=stt").await.expect("write");
        db.audit("abc123", "recording.delete", "rec-1", "").await.expect("write");
        let log = db.audit_log(10).await.expect("read");
        let acts: Vec<_> = log.iter().map(|e| (e.actor.as_str(), e.action.as_str(), e.target.as_str())).collect();
        assert_eq!(acts, [("abc123", "recording.delete", "rec-1"), ("cli:lan", "key.create", "abc123")]);
        assert_eq!(db.audit_log(1).await.expect("read").len(), 1);
    }
}
