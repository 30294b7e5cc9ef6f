//! The event bus between the archive's stages, one trait with two engines: the embedded queue
//! in the metadata database (default; nothing to run) and NATS JetStream (by URL; workers in
//! other processes and machines share durable consumers). Either way the events are written
//! in the transaction that commits what they announce: the embedded queue delivers from there,
//! NATS receives them from that outbox through a relay.
#[cfg(feature = "nats")]
mod nats;

use crate::{
    Db,
    queue::{DeadLetter, Delivery, QueuePolicy},
};
use async_trait::async_trait;
use sokuji_core::{Error, Result};
use std::sync::Arc;
use tokio::sync::watch;

/// Deliveries for the workers and the dead-letter queue for operators.
#[async_trait]
pub trait EventBus: Send + Sync {
    /// The next delivery of `subscription` for `worker`, or none when there is nothing to do.
    async fn next(&self, subscription: &str, worker: &str) -> Result<Option<Delivery>>;
    /// Keeps a delivery in hand while its work goes on; false when it was lost.
    async fn extend(&self, d: &Delivery) -> Result<bool>;
    /// Settles a delivery whose effects are committed (by this worker or, after a
    /// redelivery, by another).
    async fn settle(&self, d: &Delivery) -> Result<()>;
    /// A failed attempt: redelivered after a backoff, or dead-lettered after the last one
    /// (true).
    async fn nak(&self, d: &Delivery, error: &str) -> Result<bool>;
    async fn dead_letters(&self) -> Result<Vec<DeadLetter>>;
    /// Puts dead letters (all, or one event's) back in their queues with fresh attempts.
    async fn replay(&self, event_id: Option<&str>) -> Result<u64>;
    /// Drops dead letters for good (all, or one event's).
    async fn purge(&self, event_id: Option<&str>) -> Result<u64>;
}

/// Opens the bus named by `url` ("" or "embedded": the metadata database; `nats://…`), and
/// returns the database set to publish through it. A NATS bus starts its outbox relay, which
/// runs until `stop`.
pub async fn open(
    url: &str,
    db: Db,
    policy: QueuePolicy,
    stop: watch::Receiver<bool>,
) -> Result<(Db, Arc<dyn EventBus>)> {
    match url.trim() {
        "" | "embedded" => Ok((db.clone(), Arc::new(Embedded { db, policy }))),
        #[cfg(feature = "nats")]
        u if u.starts_with("nats://") || u.starts_with("tls://") => {
            let db = db.with_outbox();
            let bus = nats::Nats::connect(u, db.clone(), policy).await?;
            bus.spawn_relay(stop);
            Ok((db, Arc::new(bus)))
        }
        other => {
            let _ = stop;
            Err(Error::invalid_request(format!(
                "events URL {other:?}: use \"embedded\" or nats://HOST:PORT (built with the nats feature)"
            )))
        }
    }
}

/// The embedded queue: leases on delivery rows.
pub struct Embedded {
    db: Db,
    policy: QueuePolicy,
}

#[async_trait]
impl EventBus for Embedded {
    async fn next(&self, subscription: &str, worker: &str) -> Result<Option<Delivery>> {
        self.db.lease(subscription, worker, &self.policy).await
    }

    async fn extend(&self, d: &Delivery) -> Result<bool> {
        self.db.extend(d, &self.policy).await
    }

    /// The ack was part of the handler's transaction.
    async fn settle(&self, _: &Delivery) -> Result<()> {
        Ok(())
    }

    async fn nak(&self, d: &Delivery, error: &str) -> Result<bool> {
        self.db.nak(d, error, &self.policy).await
    }

    async fn dead_letters(&self) -> Result<Vec<DeadLetter>> {
        self.db.dead_letters().await
    }

    async fn replay(&self, event_id: Option<&str>) -> Result<u64> {
        self.db.replay(event_id).await
    }

    async fn purge(&self, event_id: Option<&str>) -> Result<u64> {
        self.db.purge(event_id).await
    }
}
