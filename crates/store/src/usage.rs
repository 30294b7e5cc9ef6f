//! What each key used, in the metadata database so that every gateway replica counts the same:
//! requests a minute and audio seconds a day (`usage_windows`), open live sessions
//! (`live_slots`, leased so that a replica killed mid-session frees its slots).
use crate::db::{Db, db_error, now_ms};
use sokuji_core::{
    Result,
    quota::{LimitState, Policy},
};
use sqlx::Row;
use std::time::Duration;

/// A live session's slot lapses this long after its last renewal.
const LIVE_LEASE_MS: i64 = 60_000;
/// Renewed this often while the session runs.
const LIVE_RENEW: Duration = Duration::from_secs(20);

impl Db {
    /// What `key` used since `since` (ms since the epoch): (kind, window start, amount), newest first.
    pub async fn usage(&self, key: &str, since: i64) -> Result<Vec<(String, i64, u64)>> {
        let rows = sqlx::query(
            "SELECT kind, window_start, amount FROM usage_windows WHERE key_id = $1 AND window_start >= $2 \
             ORDER BY window_start DESC, kind",
        )
        .bind(key)
        .bind(since)
        .fetch_all(&self.pool)
        .await
        .map_err(db_error)?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get("kind").map_err(db_error)?,
                    r.try_get("window_start").map_err(db_error)?,
                    count(r, "amount")?,
                ))
            })
            .collect()
    }

    /// Adds `amount` to what `key` used of `kind` in the window starting at `window_start` and
    /// returns the window's total: one statement, so concurrent requests on any replica never
    /// both see room that only one has.
    pub async fn count_use(&self, key: &str, kind: &str, window_start: i64, amount: u64) -> Result<u64> {
        // A quota no count reaches: the same statement always adds.
        Ok(self.take_use(key, kind, window_start, amount, i64::MAX as u64).await?.unwrap_or_else(|used| used))
    }

    /// Counts a request of `key` against its rate of `limit` a minute: where it stands, or
    /// `rate_limited` (the request still counted, as every refused one is).
    pub async fn admit_request(&self, key: &str, limit: u32) -> Result<LimitState> {
        let (now, policy) = (now_ms(), Policy::Requests);
        let used = self.count_use(key, policy.kind(), policy.window_start(now), 1).await?;
        LimitState::of(policy, u64::from(limit), used, now)
    }

    /// Takes `seconds` from `key`'s audio `quota` for today, or refuses (`rate_limited`, with
    /// what is left) without taking any: every place that meters audio, one rule.
    pub async fn take_audio(&self, key: &str, seconds: u64, quota: u32) -> Result<LimitState> {
        let (now, policy, quota) = (now_ms(), Policy::Audio, u64::from(quota));
        match self.take_use(key, policy.kind(), policy.window_start(now), seconds, quota).await? {
            Ok(used) => Ok(LimitState::at(policy, quota, used, now)),
            Err(used) => Err(LimitState::at(policy, quota, used, now).refusal()),
        }
    }

    /// Takes `amount` from `quota` in the window: added only if the window's total stays within
    /// the quota, in one statement, so concurrent requests on any replica never both take the
    /// last of it. `Ok(Err(used))`: refused, nothing taken, `used` already spent.
    pub async fn take_use(
        &self,
        key: &str,
        kind: &str,
        window_start: i64,
        amount: u64,
        quota: u64,
    ) -> Result<std::result::Result<u64, u64>> {
        if amount > quota {
            return Ok(Err(self.used(key, kind, window_start).await?));
        }
        let row = sqlx::query(
            "INSERT INTO usage_windows (key_id, kind, window_start, amount) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (key_id, kind, window_start) DO UPDATE SET amount = usage_windows.amount + $4 \
             WHERE usage_windows.amount + $4 <= $5 RETURNING amount",
        )
        .bind(key)
        .bind(kind)
        .bind(window_start)
        .bind(amount as i64)
        .bind(quota as i64)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_error)?;
        let Some(row) = row else { return Ok(Err(self.used(key, kind, window_start).await?)) };
        let total = count(&row, "amount")?;
        if total == amount {
            self.forget_before(key, kind, window_start).await?;
        }
        Ok(Ok(total))
    }

    /// A new window began: the key's windows of `kind` older than a day before it go.
    async fn forget_before(&self, key: &str, kind: &str, window_start: i64) -> Result<()> {
        sqlx::query("DELETE FROM usage_windows WHERE key_id = $1 AND kind = $2 AND window_start < $3")
            .bind(key)
            .bind(kind)
            .bind(window_start - 86_400_000)
            .execute(&self.pool)
            .await
            .map_err(db_error)?;
        Ok(())
    }

    async fn used(&self, key: &str, kind: &str, window_start: i64) -> Result<u64> {
        let row = sqlx::query("SELECT amount FROM usage_windows WHERE key_id = $1 AND kind = $2 AND window_start = $3")
            .bind(key)
            .bind(kind)
            .bind(window_start)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_error)?;
        Ok(match row {
            Some(r) => count(&r, "amount")?,
            None => 0,
        })
    }

    /// Claims one of `key`'s `limit` live-session slots: a free one, or one whose lease lapsed.
    /// Each slot is a row whose primary key admits one holder, so concurrent claims on any
    /// replica never exceed the limit. `None`: all are held.
    pub async fn claim_live(&self, key: &str, limit: u32) -> Result<Option<LiveLease>> {
        let holder = uuid::Uuid::new_v4().to_string();
        for slot in 0..i64::from(limit) {
            let now = now_ms();
            let claimed = sqlx::query(
                "INSERT INTO live_slots (key_id, slot, holder, expires_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (key_id, slot) DO UPDATE SET holder = $3, expires_at = $4 WHERE live_slots.expires_at < $5",
            )
            .bind(key)
            .bind(slot)
            .bind(&holder)
            .bind(now + LIVE_LEASE_MS)
            .bind(now)
            .execute(&self.pool)
            .await
            .map_err(db_error)?;
            if claimed.rows_affected() == 1 {
                return Ok(Some(LiveLease::hold(self.clone(), key.to_string(), slot, holder)));
            }
        }
        Ok(None)
    }

    /// How many of `key`'s live-session slots are held now.
    pub async fn live_held(&self, key: &str) -> Result<u64> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM live_slots WHERE key_id = $1 AND expires_at >= $2")
            .bind(key)
            .bind(now_ms())
            .fetch_one(&self.pool)
            .await
            .map_err(db_error)?;
        count(&row, "n")
    }
}

/// A count column (never negative).
fn count(row: &sqlx::any::AnyRow, column: &str) -> Result<u64> {
    Ok(row.try_get::<i64, _>(column).map_err(db_error)?.max(0) as u64)
}

/// A held live-session slot, renewed while it lives; dropping it frees the slot.
pub struct LiveLease {
    renew: tokio::task::JoinHandle<()>,
    release: Option<(Db, String, i64, String)>,
}

impl LiveLease {
    fn hold(db: Db, key: String, slot: i64, holder: String) -> Self {
        let (d, k, h) = (db.clone(), key.clone(), holder.clone());
        let renew = tokio::spawn(async move {
            loop {
                tokio::time::sleep(LIVE_RENEW).await;
                let renewed = sqlx::query(
                    "UPDATE live_slots SET expires_at = $1 WHERE key_id = $2 AND slot = $3 AND holder = $4",
                )
                .bind(now_ms() + LIVE_LEASE_MS)
                .bind(&k)
                .bind(slot)
                .bind(&h)
                .execute(&d.pool)
                .await;
                if let Err(e) = renewed {
                    tracing::warn!(key = %k, "live session slot not renewed: {e}");
                }
            }
        });
        Self { renew, release: Some((db, key, slot, holder)) }
    }
}

impl Drop for LiveLease {
    fn drop(&mut self) {
        self.renew.abort();
        let Some((db, key, slot, holder)) = self.release.take() else { return };
        // Freed now where a runtime runs; otherwise the lease lapses.
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(async move {
                let freed = sqlx::query("DELETE FROM live_slots WHERE key_id = $1 AND slot = $2 AND holder = $3")
                    .bind(&key)
                    .bind(slot)
                    .bind(&holder)
                    .execute(&db.pool)
                    .await;
                if let Err(e) = freed {
                    tracing::warn!(%key, "live session slot not freed (it lapses in a minute): {e}");
                }
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn db(dir: &tempfile::TempDir) -> Db {
        Db::open(&format!("sqlite://{}", dir.path().join("m.db").display())).await.expect("db")
    }

    /// Concurrent requests count exactly: the window's total is never lost between them.
    #[tokio::test]
    async fn use_is_counted_once_per_request_even_concurrently() {
        let dir = tempfile::tempdir().expect("tmp");
        let db = db(&dir).await;
        let counts = futures::future::join_all((0..20).map(|_| db.count_use("k", "requests", 60_000, 1))).await;
        let mut totals: Vec<u64> = counts.into_iter().map(|c| c.expect("count")).collect();
        totals.sort();
        assert_eq!(totals, (1..=20).collect::<Vec<u64>>(), "each request saw its own total");
        assert_eq!(db.count_use("k", "requests", 120_000, 1).await.expect("count"), 1, "a new window starts at 1");
    }

    /// Concurrent takes never pass the quota, and a refusal takes nothing.
    #[tokio::test]
    async fn quotas_hold_under_concurrent_takes() {
        let dir = tempfile::tempdir().expect("tmp");
        let db = db(&dir).await;
        let takes = futures::future::join_all((0..20).map(|_| db.take_use("k", "audio_seconds", 0, 7, 50))).await;
        let taken: Vec<u64> = takes.into_iter().filter_map(|t| t.expect("take").ok()).collect();
        assert_eq!(taken.len(), 7, "7 x 7 s fit in 50 s: {taken:?}");
        assert_eq!(db.take_use("k", "audio_seconds", 0, 2, 50).await.expect("take"), Err(49), "refused, nothing taken");
        assert_eq!(db.take_use("k", "audio_seconds", 0, 1, 50).await.expect("take"), Ok(50));
        assert_eq!(db.take_use("k", "audio_seconds", 86_400_000, 60, 50).await.expect("take"), Err(0), "more than all");
        assert_eq!(db.take_use("k", "audio_seconds", 86_400_000, 50, 50).await.expect("take"), Ok(50), "a new day");
    }

    /// A key's live sessions never exceed its slots, even claimed at once; an ended session
    /// frees its slot, and a lapsed lease (a replica killed mid-session) is taken over.
    #[tokio::test]
    async fn live_slots_admit_up_to_the_limit() {
        let dir = tempfile::tempdir().expect("tmp");
        let db = db(&dir).await;
        let claims = futures::future::join_all((0..6).map(|_| db.claim_live("k", 2))).await;
        let mut held: Vec<LiveLease> = claims.into_iter().filter_map(|c| c.expect("claim")).collect();
        assert_eq!(held.len(), 2);
        assert_eq!(db.live_held("k").await.expect("count"), 2);
        assert!(db.claim_live("other", 1).await.expect("claim").is_some(), "keys are counted apart");
        held.pop();
        for _ in 0..100 {
            if db.live_held("k").await.expect("count") == 1 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let again = db.claim_live("k", 2).await.expect("claim");
        assert!(again.is_some(), "the ended session's slot is free");
        assert!(db.claim_live("k", 2).await.expect("claim").is_none());
        sqlx::query("UPDATE live_slots SET expires_at = 0").execute(&db.pool).await.expect("lapse");
        assert!(db.claim_live("k", 2).await.expect("claim").is_some(), "a lapsed lease is taken over");
        drop((held, again));
    }
}
