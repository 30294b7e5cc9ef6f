//! The embedded durable event queue, in the metadata database: every event is a row, and each of
//! its subscriptions gets a delivery row with a lease. A worker that dies (kill -9) loses its
//! lease and the delivery goes to another; a handler that fails is redelivered with exponential
//! backoff; after `max_deliveries` the delivery is dead-lettered with its reason. Acks commit in
//! the handler's own transaction, and only while the lease is still held, so a redelivered
//! event's effects are applied exactly once.
use crate::db::{Backend, Db, db_error, now_ms};
use sokuji_core::{
    Error, ErrorCode, Result,
    archive::events::{Event, subscribers},
};
use sokuji_proto::envelope::{decode_event, encode_event};
use sqlx::{Any, AnyConnection, Row, Transaction};
use std::time::Duration;

/// One delivery of an event to a subscription, leased by one worker.
#[derive(Clone, Debug)]
pub struct Delivery {
    pub event: Event,
    pub subscription: String,
    /// 1 for the first delivery.
    pub attempt: u32,
    pub(crate) handle: Handle,
}

/// How a delivery is settled: a lease on its row here, or a JetStream message.
#[derive(Clone, Debug)]
pub(crate) enum Handle {
    Leased {
        owner: String,
    },
    #[cfg(feature = "nats")]
    Nats(std::sync::Arc<async_nats::jetstream::Message>),
}

/// A dead-lettered delivery.
#[derive(Clone, Debug)]
pub struct DeadLetter {
    pub event: Event,
    pub subscription: String,
    pub attempts: u32,
    pub reason: String,
}

#[derive(Clone, Debug)]
pub struct QueuePolicy {
    pub max_deliveries: u32,
    /// Backoff after the first failure; doubles with each attempt, capped at 10 minutes.
    pub backoff: Duration,
    /// How long a lease lasts without being extended.
    pub lease: Duration,
}

impl QueuePolicy {
    /// The wait before the next delivery after `attempt` failed ones.
    pub fn backoff_after(&self, attempt: u32) -> Duration {
        let factor = 1u32 << attempt.saturating_sub(1).min(16);
        (self.backoff * factor).min(Duration::from_secs(600))
    }
}

impl Default for QueuePolicy {
    fn default() -> Self {
        Self { max_deliveries: 5, backoff: Duration::from_secs(2), lease: Duration::from_secs(30) }
    }
}

/// Writes an event inside the caller's transaction: with one delivery per subscription for the
/// embedded queue, or (`outbox`) marked for the NATS relay, which publishes it after commit.
pub(crate) async fn publish(conn: &mut AnyConnection, e: &Event, outbox: bool) -> Result<()> {
    sqlx::query(
        "INSERT INTO events (id, type, source, subject, time, envelope, relayed) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&e.id)
    .bind(&e.event_type)
    .bind(&e.source)
    .bind(&e.subject)
    .bind(e.time)
    .bind(encode_event(e))
    .bind(if outbox { 0i64 } else { 1 })
    .execute(&mut *conn)
    .await
    .map_err(db_error)?;
    if outbox {
        return Ok(());
    }
    for sub in subscribers(&e.event_type) {
        sqlx::query(
            "INSERT INTO deliveries (event_id, subscription, state, attempts, available_at) VALUES ($1, $2, 'ready', 0, $3)",
        )
        .bind(&e.id)
        .bind(sub)
        .bind(e.time)
        .execute(&mut *conn)
        .await
        .map_err(db_error)?;
    }
    Ok(())
}

pub(crate) fn event_from_row(r: &sqlx::any::AnyRow) -> Result<Event> {
    let envelope: Vec<u8> = r.try_get("envelope").map_err(db_error)?;
    decode_event(&envelope)
}

impl Db {
    /// Leases the oldest ready delivery of `subscription` (or one whose lease ran out).
    /// Deliveries past `max_deliveries` (their workers kept dying) are dead-lettered on the way.
    pub async fn lease(&self, subscription: &str, owner: &str, policy: &QueuePolicy) -> Result<Option<Delivery>> {
        loop {
            let now = now_ms();
            let skip_locked = if self.backend == Backend::Postgres { " FOR UPDATE SKIP LOCKED" } else { "" };
            // The outer conditions repeat the inner ones: a concurrent worker that leased the
            // same row first makes this update match nothing.
            let sql = format!(
                "UPDATE deliveries SET state = 'leased', lease_owner = $1, lease_until = $2, attempts = attempts + 1 \
                 WHERE subscription = $3 \
                   AND ((state = 'ready' AND available_at <= $4) OR (state = 'leased' AND lease_until < $4)) \
                   AND event_id = (SELECT event_id FROM deliveries WHERE subscription = $3 \
                     AND ((state = 'ready' AND available_at <= $4) OR (state = 'leased' AND lease_until < $4)) \
                     ORDER BY available_at LIMIT 1{skip_locked}) \
                 RETURNING event_id, attempts"
            );
            let row = sqlx::query(&sql)
                .bind(owner)
                .bind(now + policy.lease.as_millis() as i64)
                .bind(subscription)
                .bind(now)
                .fetch_optional(&self.pool)
                .await
                .map_err(db_error)?;
            let Some(row) = row else { return Ok(None) };
            let event_id: String = row.try_get("event_id").map_err(db_error)?;
            let attempts: i64 = row.try_get("attempts").map_err(db_error)?;
            let event = sqlx::query("SELECT * FROM events WHERE id = $1")
                .bind(&event_id)
                .fetch_one(&self.pool)
                .await
                .map_err(db_error)?;
            let delivery = Delivery {
                event: event_from_row(&event)?,
                subscription: subscription.into(),
                attempt: attempts as u32,
                handle: Handle::Leased { owner: owner.into() },
            };
            if delivery.attempt > policy.max_deliveries {
                let reason =
                    format!("delivered {} times without an outcome (the worker died each time)", policy.max_deliveries);
                self.dead_letter(&delivery, &reason).await?;
                self.stage_died(&delivery, &reason).await;
                continue;
            }
            return Ok(Some(delivery));
        }
    }

    /// Extends a lease still held; false when it was lost.
    #[cfg_attr(not(feature = "nats"), allow(irrefutable_let_patterns))]
    pub async fn extend(&self, d: &Delivery, policy: &QueuePolicy) -> Result<bool> {
        let Handle::Leased { owner } = &d.handle else { return Ok(false) };
        let r = sqlx::query(
            "UPDATE deliveries SET lease_until = $1 WHERE event_id = $2 AND subscription = $3 AND state = 'leased' AND lease_owner = $4",
        )
        .bind(now_ms() + policy.lease.as_millis() as i64)
        .bind(&d.event.id)
        .bind(&d.subscription)
        .bind(owner)
        .execute(&self.pool)
        .await
        .map_err(db_error)?;
        Ok(r.rows_affected() == 1)
    }

    /// Acknowledges inside the handler's transaction. Embedded: only while the lease is held.
    /// NATS: records the event as processed for the subscription (the JetStream ack follows the
    /// commit); a second record fails on the key. Either way an error means the effects belong
    /// to someone else: the caller rolls back, with `Cancelled`.
    pub async fn ack(&self, tx: &mut Transaction<'_, Any>, d: &Delivery) -> Result<()> {
        let lost = || Error::new(ErrorCode::Cancelled, "the delivery's lease was lost");
        match &d.handle {
            Handle::Leased { owner } => {
                let r = sqlx::query(
                    "UPDATE deliveries SET state = 'done', lease_owner = NULL, lease_until = NULL, last_error = NULL \
                     WHERE event_id = $1 AND subscription = $2 AND state = 'leased' AND lease_owner = $3",
                )
                .bind(&d.event.id)
                .bind(&d.subscription)
                .bind(owner)
                .execute(&mut **tx)
                .await
                .map_err(db_error)?;
                if r.rows_affected() != 1 {
                    return Err(lost());
                }
            }
            #[cfg(feature = "nats")]
            Handle::Nats(_) => {
                sqlx::query(
                    "INSERT INTO deliveries (event_id, subscription, state, attempts, available_at) VALUES ($1, $2, 'done', $3, $4)",
                )
                .bind(&d.event.id)
                .bind(&d.subscription)
                .bind(d.attempt as i64)
                .bind(now_ms())
                .execute(&mut **tx)
                .await
                .map_err(|e| match e {
                    sqlx::Error::Database(ref db) if db.is_unique_violation() => {
                        Error::new(ErrorCode::Cancelled, "already processed by another worker")
                    }
                    e => db_error(e),
                })?;
            }
        }
        Ok(())
    }

    /// Whether `subscription` has processed the event (NATS redelivers after a crash between
    /// the commit and the ack).
    #[cfg(feature = "nats")]
    pub(crate) async fn processed(&self, event_id: &str, subscription: &str) -> Result<bool> {
        let row =
            sqlx::query("SELECT 1 AS one FROM deliveries WHERE event_id = $1 AND subscription = $2 AND state = 'done'")
                .bind(event_id)
                .bind(subscription)
                .fetch_optional(&self.pool)
                .await
                .map_err(db_error)?;
        Ok(row.is_some())
    }

    /// A failed attempt: redelivered after backoff, or dead-lettered after the last one.
    /// Returns true when it was dead-lettered.
    #[cfg_attr(not(feature = "nats"), allow(irrefutable_let_patterns))]
    pub async fn nak(&self, d: &Delivery, error: &str, policy: &QueuePolicy) -> Result<bool> {
        let Handle::Leased { owner } = &d.handle else { return Err(Error::internal("not an embedded delivery")) };
        if d.attempt >= policy.max_deliveries {
            self.dead_letter(d, error).await?;
            return Ok(true);
        }
        let backoff = policy.backoff_after(d.attempt);
        sqlx::query(
            "UPDATE deliveries SET state = 'ready', available_at = $1, lease_owner = NULL, lease_until = NULL, last_error = $2 \
             WHERE event_id = $3 AND subscription = $4 AND lease_owner = $5",
        )
        .bind(now_ms() + backoff.as_millis() as i64)
        .bind(error)
        .bind(&d.event.id)
        .bind(&d.subscription)
        .bind(owner)
        .execute(&self.pool)
        .await
        .map_err(db_error)?;
        Ok(false)
    }

    async fn dead_letter(&self, d: &Delivery, reason: &str) -> Result<()> {
        tracing::warn!(event = %d.event.id, subscription = %d.subscription, subject = %d.event.subject, "dead-lettered: {reason}");
        sqlx::query(
            "UPDATE deliveries SET state = 'dead', lease_owner = NULL, lease_until = NULL, last_error = $1 \
             WHERE event_id = $2 AND subscription = $3",
        )
        .bind(reason)
        .bind(&d.event.id)
        .bind(&d.subscription)
        .execute(&self.pool)
        .await
        .map_err(db_error)?;
        Ok(())
    }

    pub async fn dead_letters(&self) -> Result<Vec<DeadLetter>> {
        let rows = sqlx::query(
            "SELECT e.*, d.subscription, d.attempts, d.last_error FROM deliveries d JOIN events e ON e.id = d.event_id \
             WHERE d.state = 'dead' ORDER BY e.time",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(db_error)?;
        rows.iter()
            .map(|r| {
                Ok(DeadLetter {
                    event: event_from_row(r)?,
                    subscription: r.try_get("subscription").map_err(db_error)?,
                    attempts: r.try_get::<i64, _>("attempts").map_err(db_error)? as u32,
                    reason: r.try_get::<Option<String>, _>("last_error").map_err(db_error)?.unwrap_or_default(),
                })
            })
            .collect()
    }

    /// Puts dead letters back in their queues with fresh attempts (all of them, or one event's),
    /// their stages pending again.
    pub async fn replay(&self, event_id: Option<&str>) -> Result<u64> {
        let replayed = sqlx::query(
            "UPDATE deliveries SET state = 'ready', attempts = 0, available_at = $1, last_error = NULL \
             WHERE state = 'dead' AND ($2 = '' OR event_id = $2) \
             RETURNING (SELECT subject FROM events WHERE events.id = deliveries.event_id) AS recording, subscription",
        )
        .bind(now_ms())
        .bind(event_id.unwrap_or(""))
        .fetch_all(&self.pool)
        .await
        .map_err(db_error)?;
        for row in &replayed {
            let (recording, subscription): (String, String) =
                (row.try_get("recording").map_err(db_error)?, row.try_get("subscription").map_err(db_error)?);
            self.revive(&recording, &subscription).await;
        }
        Ok(replayed.len() as u64)
    }

    /// Drops dead letters for good (all, or one event's).
    pub async fn purge(&self, event_id: Option<&str>) -> Result<u64> {
        let r = sqlx::query("DELETE FROM deliveries WHERE state = 'dead' AND ($1 = '' OR event_id = $1)")
            .bind(event_id.unwrap_or(""))
            .execute(&self.pool)
            .await
            .map_err(db_error)?;
        Ok(r.rows_affected())
    }
}
