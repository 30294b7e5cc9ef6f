//! NATS JetStream as the event bus. Events go to `sokuji.events.<type>` in the stream
//! `SOKUJI_EVENTS` (file storage, deduplicated on the event id); each subscription is a durable
//! pull consumer that any number of worker replicas share (JetStream's form of a queue group),
//! with explicit acks, in-progress pings while working, nak with exponential backoff, and after
//! the last attempt a copy on `sokuji.dlq.<subscription>` (stream `SOKUJI_DLQ`) with the reason
//! in its headers. Effects are made idempotent by the database: the handler's transaction
//! records the event as processed, so a redelivery (a crash between commit and ack) is settled
//! without running again.
use crate::{
    Db,
    bus::EventBus,
    db::db_error,
    queue::{DeadLetter, Delivery, Handle, QueuePolicy},
};
use async_nats::{
    HeaderMap,
    jetstream::{self, AckKind, consumer::PullConsumer, stream},
};
use async_trait::async_trait;
use futures::StreamExt;
use sokuji_core::{
    Error, ErrorCode, Result,
    archive::events::{SUBSCRIPTIONS, consumed_by},
};
use sokuji_proto::envelope::decode_event;
use sqlx::Row;
use std::{collections::HashMap, sync::Arc, time::Duration};
use tokio::sync::watch;

const EVENTS_STREAM: &str = "SOKUJI_EVENTS";
const DLQ_STREAM: &str = "SOKUJI_DLQ";
const REASON: &str = "Sokuji-Reason";
const SUBSCRIPTION: &str = "Sokuji-Subscription";
const ATTEMPTS: &str = "Sokuji-Attempts";
/// How long a worker's fetch waits for a message before reporting none.
const FETCH_WAIT: Duration = Duration::from_millis(500);

fn event_subject(event_type: &str) -> String {
    format!("sokuji.events.{event_type}")
}

fn unavailable(what: &str, e: impl std::fmt::Display) -> Error {
    Error::new(ErrorCode::EngineUnavailable, format!("NATS {what}: {e}"))
}

pub struct Nats {
    js: jetstream::Context,
    db: Db,
    policy: QueuePolicy,
    consumers: HashMap<&'static str, PullConsumer>,
}

impl Nats {
    /// Connects and declares the streams and durable consumers (idempotent; every process
    /// does it). An unreachable server at start-up is an error; later outages are ridden out
    /// by the client's reconnects.
    pub async fn connect(url: &str, db: Db, policy: QueuePolicy) -> Result<Self> {
        let client = async_nats::ConnectOptions::new()
            .name("sokuji")
            .connection_timeout(Duration::from_secs(5))
            .connect(url)
            .await
            .map_err(|e| unavailable(&format!("at {url}"), e))?;
        let js = jetstream::new(client);
        let events = js
            .get_or_create_stream(stream::Config {
                name: EVENTS_STREAM.into(),
                subjects: vec!["sokuji.events.>".into()],
                storage: stream::StorageType::File,
                max_age: Duration::from_secs(30 * 24 * 3600),
                duplicate_window: Duration::from_secs(120),
                ..Default::default()
            })
            .await
            .map_err(|e| unavailable("events stream", e))?;
        js.get_or_create_stream(stream::Config {
            name: DLQ_STREAM.into(),
            subjects: vec!["sokuji.dlq.>".into()],
            storage: stream::StorageType::File,
            ..Default::default()
        })
        .await
        .map_err(|e| unavailable("dead-letter stream", e))?;
        let mut consumers = HashMap::new();
        for (subscription, event_type) in SUBSCRIPTIONS {
            let consumer = events
                .get_or_create_consumer(
                    subscription,
                    jetstream::consumer::pull::Config {
                        durable_name: Some(subscription.to_string()),
                        filter_subject: event_subject(event_type),
                        ack_policy: jetstream::consumer::AckPolicy::Explicit,
                        ack_wait: policy.lease,
                        // Unlimited here: the worker counts deliveries and dead-letters itself,
                        // with the reason.
                        max_deliver: -1,
                        ..Default::default()
                    },
                )
                .await
                .map_err(|e| unavailable(&format!("consumer {subscription}"), e))?;
            consumers.insert(*subscription, consumer);
        }
        Ok(Self { js, db, policy, consumers })
    }

    /// Publishes the outbox (events committed with `relayed = 0`) in commit order, until `stop`.
    pub fn spawn_relay(&self, mut stop: watch::Receiver<bool>) {
        let (js, db) = (self.js.clone(), self.db.clone());
        tokio::spawn(async move {
            let mut failing = false;
            while !*stop.borrow() {
                let wait = match relay_once(&js, &db).await {
                    Ok(n) => {
                        if std::mem::take(&mut failing) {
                            tracing::info!("event relay: publishing again");
                        }
                        if n > 0 {
                            continue;
                        }
                        Duration::from_millis(100)
                    }
                    Err(e) => {
                        if !std::mem::replace(&mut failing, true) {
                            tracing::warn!("event relay: {e}; events wait in the outbox");
                        }
                        Duration::from_secs(1)
                    }
                };
                let _ = tokio::time::timeout(wait, stop.changed()).await;
            }
        });
    }

    async fn dead_letter(&self, d: &Delivery, msg: &jetstream::Message, reason: &str) -> Result<()> {
        tracing::warn!(event = %d.event.id, subscription = %d.subscription, subject = %d.event.subject, "dead-lettered: {reason}");
        let mut headers = HeaderMap::new();
        // Header values are one line.
        headers.insert(REASON, reason.replace(['\r', '\n'], " ").as_str());
        headers.insert(SUBSCRIPTION, d.subscription.as_str());
        headers.insert(ATTEMPTS, d.attempt.to_string().as_str());
        headers.insert("Nats-Msg-Id", format!("{}:{}:dead:{}", d.event.id, d.subscription, d.attempt).as_str());
        self.js
            .publish_with_headers(format!("sokuji.dlq.{}", d.subscription), headers, msg.payload.clone())
            .await
            .map_err(|e| unavailable("dead-letter publish", e))?
            .await
            .map_err(|e| unavailable("dead-letter publish", e))?;
        msg.double_ack_with(AckKind::Term).await.map_err(|e| unavailable("term", e))
    }

    /// The dead-letter stream's messages with their sequence numbers.
    async fn dlq(&self) -> Result<Vec<(u64, DeadLetter, bytes::Bytes)>> {
        let mut stream = self.js.get_stream(DLQ_STREAM).await.map_err(|e| unavailable("dead-letter stream", e))?;
        let state = stream.info().await.map_err(|e| unavailable("dead-letter stream", e))?.state.clone();
        let mut out = Vec::new();
        if state.messages == 0 {
            return Ok(out);
        }
        for seq in state.first_sequence..=state.last_sequence {
            // Deleted sequences (replayed or purged) leave gaps.
            let Ok(m) = stream.get_raw_message(seq).await else { continue };
            let header = |k: &str| m.headers.get(k).map(|v| v.as_str().to_string()).unwrap_or_default();
            match decode_event(&m.payload) {
                Ok(event) => out.push((
                    seq,
                    DeadLetter {
                        event,
                        subscription: header(SUBSCRIPTION),
                        attempts: header(ATTEMPTS).parse().unwrap_or(0),
                        reason: header(REASON),
                    },
                    m.payload.clone(),
                )),
                Err(e) => tracing::warn!(seq, "dead letter not readable by this version: {e}"),
            }
        }
        Ok(out)
    }

    async fn delete_dead(&self, seq: u64) -> Result<()> {
        let stream = self.js.get_stream(DLQ_STREAM).await.map_err(|e| unavailable("dead-letter stream", e))?;
        stream.delete_message(seq).await.map_err(|e| unavailable("dead-letter delete", e))?;
        Ok(())
    }
}

fn nats_message(d: &Delivery) -> Result<&jetstream::Message> {
    match &d.handle {
        Handle::Nats(m) => Ok(m),
        Handle::Leased { .. } => Err(Error::internal("not a NATS delivery")),
    }
}

#[async_trait]
impl EventBus for Nats {
    async fn next(&self, subscription: &str, _worker: &str) -> Result<Option<Delivery>> {
        let consumer = consumed_by(subscription)
            .and(self.consumers.get(subscription))
            .ok_or_else(|| Error::invalid_request(format!("no subscription {subscription:?}")))?;
        let mut batch = consumer
            .fetch()
            .max_messages(1)
            .expires(FETCH_WAIT)
            .messages()
            .await
            .map_err(|e| unavailable("fetch", e))?;
        let Some(msg) = batch.next().await.transpose().map_err(|e| unavailable("fetch", e))? else {
            return Ok(None);
        };
        let attempt = msg.info().map(|i| i.delivered.max(1) as u32).unwrap_or(1);
        let event = match decode_event(&msg.payload) {
            Ok(e) => e,
            Err(e) => {
                // Not ours to guess at: keep it out of the way, loudly.
                tracing::error!("unreadable event on {}: {e}; terminated", msg.subject);
                msg.ack_with(AckKind::Term).await.map_err(|e| unavailable("term", e))?;
                return Ok(None);
            }
        };
        let d = Delivery { event, subscription: subscription.into(), attempt, handle: Handle::Nats(Arc::new(msg)) };
        let msg = nats_message(&d)?;
        // A redelivery after a commit is recognised here and settled without running again.
        // When the database cannot say (it is away, or slower than a third of the ack wait),
        // the delivery goes to the worker all the same: its retries hold it until the database
        // is back, and the handler's transaction refuses a second completion. Left unanswered
        // here, each check would spend one of the event's deliveries.
        let check = self.db.processed(&d.event.id, subscription);
        match tokio::time::timeout(self.policy.lease / 3, check).await {
            Ok(Ok(true)) => {
                msg.double_ack().await.map_err(|e| unavailable("ack", e))?;
                return Ok(None);
            }
            Ok(Ok(false)) => {}
            Ok(Err(e)) if e.code != ErrorCode::EngineUnavailable => return Err(e),
            Ok(Err(_)) | Err(_) => {
                tracing::warn!(event = %d.event.id, subscription, "the database did not say whether the event was processed; handing it to the worker");
                let _ = msg.ack_with(AckKind::Progress).await;
                return Ok(Some(d));
            }
        }
        if attempt > self.policy.max_deliveries {
            let reason = format!(
                "delivered {} times without an outcome (the worker died each time)",
                self.policy.max_deliveries
            );
            self.dead_letter(&d, msg, &reason).await?;
            self.db.stage_died(&d, &reason).await;
            return Ok(None);
        }
        Ok(Some(d))
    }

    async fn extend(&self, d: &Delivery) -> Result<bool> {
        Ok(nats_message(d)?.ack_with(AckKind::Progress).await.is_ok())
    }

    async fn settle(&self, d: &Delivery) -> Result<()> {
        nats_message(d)?.double_ack().await.map_err(|e| unavailable("ack", e))
    }

    async fn nak(&self, d: &Delivery, error: &str) -> Result<bool> {
        let msg = nats_message(d)?;
        if d.attempt >= self.policy.max_deliveries {
            self.dead_letter(d, msg, error).await?;
            return Ok(true);
        }
        let backoff = self.policy.backoff_after(d.attempt);
        msg.ack_with(AckKind::Nak(Some(backoff))).await.map_err(|e| unavailable("nak", e))?;
        Ok(false)
    }

    async fn dead_letters(&self) -> Result<Vec<DeadLetter>> {
        Ok(self.dlq().await?.into_iter().map(|(_, d, _)| d).collect())
    }

    async fn replay(&self, event_id: Option<&str>) -> Result<u64> {
        let mut n = 0;
        for (seq, dead, payload) in self.dlq().await? {
            if event_id.is_some_and(|id| id != dead.event.id) {
                continue;
            }
            let mut headers = HeaderMap::new();
            headers.insert("Nats-Msg-Id", format!("{}:replay:{seq}", dead.event.id).as_str());
            self.js
                .publish_with_headers(event_subject(&dead.event.event_type), headers, payload)
                .await
                .map_err(|e| unavailable("replay", e))?
                .await
                .map_err(|e| unavailable("replay", e))?;
            self.delete_dead(seq).await?;
            self.db.revive(&dead.event.subject, &dead.subscription).await;
            n += 1;
        }
        Ok(n)
    }

    async fn purge(&self, event_id: Option<&str>) -> Result<u64> {
        let mut n = 0;
        for (seq, dead, _) in self.dlq().await? {
            if event_id.is_none_or(|id| id == dead.event.id) {
                self.delete_dead(seq).await?;
                n += 1;
            }
        }
        Ok(n)
    }
}

/// Publishes up to a batch of outbox events; each is marked relayed once JetStream has it.
async fn relay_once(js: &jetstream::Context, db: &Db) -> Result<usize> {
    let rows = sqlx::query("SELECT id, type, envelope FROM events WHERE relayed = 0 ORDER BY time LIMIT 256")
        .fetch_all(&db.pool)
        .await
        .map_err(db_error)?;
    for r in &rows {
        let id: String = r.try_get("id").map_err(db_error)?;
        let event_type: String = r.try_get("type").map_err(db_error)?;
        let envelope: Vec<u8> = r.try_get("envelope").map_err(db_error)?;
        let mut headers = HeaderMap::new();
        headers.insert("Nats-Msg-Id", id.as_str());
        js.publish_with_headers(event_subject(&event_type), headers, envelope.into())
            .await
            .map_err(|e| unavailable("publish", e))?
            .await
            .map_err(|e| unavailable("publish", e))?;
        sqlx::query("UPDATE events SET relayed = 1 WHERE id = $1")
            .bind(&id)
            .execute(&db.pool)
            .await
            .map_err(db_error)?;
    }
    Ok(rows.len())
}
