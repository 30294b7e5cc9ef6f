//! Admission of CPU-bound work onto blocking threads: one mechanism for every engine (speech
//! recognition, translation, embeddings, voices) and for CPU work that would otherwise block
//! the async runtime (decoding and resampling uploads, FLAC encoding).
//!
//! Three rules, each a defect when broken:
//! - The permit lives inside the blocking work. A caller that gives up (client gone, timeout)
//!   drops its future, but the work it started holds its slot until it really stops, so a limit
//!   of N means at most N runs at once, never N plus the abandoned ones.
//! - Time spent queueing counts against the deadline: a request that waited its whole budget
//!   for a slot fails with `timeout` instead of starting late.
//! - Work whose caller is gone is not started, and running work can see it ([`Ticket`]) and
//!   stop early: whisper.cpp through its abort callback, the LLM between tokens, the embedder
//!   between batches.
//!
//! Never: hold a permit across an `.await` in the caller, or run blocking work on the runtime.
use sokuji_core::{Error, ErrorCode, Result};
use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::Instant,
};
use tokio::sync::Semaphore;

/// A named pool of slots for one kind of blocking work. Clones share the slots.
#[derive(Clone)]
pub struct Admission {
    inner: Arc<Inner>,
}

struct Inner {
    name: String,
    permits: Arc<Semaphore>,
    limit: usize,
    stats: Stats,
}

/// What a pool has done, for health and metrics.
#[derive(Default)]
struct Stats {
    /// Work started on a blocking thread.
    started: AtomicU64,
    /// Work not started because its caller was gone by the time a thread was free.
    skipped: AtomicU64,
    /// Work that stopped early because its caller left or its deadline passed.
    aborted: AtomicU64,
    /// Requests that waited their whole deadline for a slot.
    timed_out: AtomicU64,
}

/// Counters of a pool at one moment.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Snapshot {
    pub limit: usize,
    /// Slots held now (running work, abandoned or not).
    pub busy: usize,
    pub started: u64,
    pub skipped: u64,
    pub aborted: u64,
    pub timed_out: u64,
}

/// What running work may ask of its caller: is anyone still waiting for me, and until when?
/// Cheap to check (an atomic load and, with a deadline, a clock read).
#[derive(Clone, Debug)]
pub struct Ticket {
    gone: Arc<AtomicBool>,
    deadline: Option<Instant>,
}

impl Ticket {
    /// A ticket nobody cancels, for work run outside any request (warm-ups, tools, tests).
    pub fn unbounded() -> Self {
        Self { gone: Arc::new(AtomicBool::new(false)), deadline: None }
    }

    /// A ticket that only a deadline ends.
    pub fn until(deadline: Instant) -> Self {
        Self { gone: Arc::new(AtomicBool::new(false)), deadline: Some(deadline) }
    }

    /// True once the caller has gone or the deadline has passed: the work should stop.
    pub fn is_cancelled(&self) -> bool {
        self.gone.load(Ordering::Relaxed) || self.deadline.is_some_and(|d| Instant::now() >= d)
    }

    /// Why the work should stop, if it should: `cancelled` when the caller left, `timeout`
    /// when the deadline passed.
    pub fn check(&self) -> Result<()> {
        if self.gone.load(Ordering::Relaxed) {
            return Err(Error::new(ErrorCode::Cancelled, "the caller went away"));
        }
        if self.deadline.is_some_and(|d| Instant::now() >= d) {
            return Err(Error::new(ErrorCode::Timeout, "the deadline passed"));
        }
        Ok(())
    }

    pub fn deadline(&self) -> Option<Instant> {
        self.deadline
    }
}

/// Marks the ticket's caller gone when the caller's future is dropped before the work ended.
struct GoneOnDrop(Arc<AtomicBool>);

impl Drop for GoneOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

impl Admission {
    /// A pool of `limit` slots (at least one), named in errors, logs and metrics.
    pub fn new(name: impl Into<String>, limit: usize) -> Self {
        let limit = limit.max(1);
        let inner =
            Inner { name: name.into(), permits: Arc::new(Semaphore::new(limit)), limit, stats: Stats::default() };
        Self { inner: Arc::new(inner) }
    }

    /// A pool with a slot per core, for short CPU work of requests.
    pub fn per_core(name: impl Into<String>) -> Self {
        Self::new(name, std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2))
    }

    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// Free slots now.
    pub fn available(&self) -> usize {
        self.inner.permits.available_permits()
    }

    pub fn snapshot(&self) -> Snapshot {
        let s = &self.inner.stats;
        Snapshot {
            limit: self.inner.limit,
            busy: self.inner.limit.saturating_sub(self.available()),
            started: s.started.load(Ordering::Relaxed),
            skipped: s.skipped.load(Ordering::Relaxed),
            aborted: s.aborted.load(Ordering::Relaxed),
            timed_out: s.timed_out.load(Ordering::Relaxed),
        }
    }

    /// Runs `work` on a blocking thread once a slot is free, and waits for its result.
    ///
    /// Dropping the returned future marks the ticket cancelled: work not yet started never
    /// starts, running work sees `ticket.is_cancelled()` and may stop; either way its slot is
    /// held until it has really ended. With a `deadline`, waiting for a slot counts against it.
    pub async fn run<T, F>(&self, deadline: Option<Instant>, work: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Ticket) -> Result<T> + Send + 'static,
    {
        let ticket = Ticket { gone: Arc::new(AtomicBool::new(false)), deadline };
        let _gone = GoneOnDrop(ticket.gone.clone());
        let permits = self.inner.permits.clone();
        let permit = match deadline {
            Some(d) => match tokio::time::timeout_at(d.into(), permits.acquire_owned()).await {
                Ok(p) => p,
                Err(_) => {
                    self.inner.stats.timed_out.fetch_add(1, Ordering::Relaxed);
                    return Err(Error::new(
                        ErrorCode::Timeout,
                        format!("{}: no free slot before the deadline ({} busy)", self.inner.name, self.inner.limit),
                    ));
                }
            },
            None => permits.acquire_owned().await,
        }
        .map_err(|_| Error::new(ErrorCode::EngineUnavailable, format!("{} is shutting down", self.inner.name)))?;
        let inner = self.inner.clone();
        let handle = tokio::task::spawn_blocking(move || {
            // Released when this closure returns, whatever became of the caller.
            let _permit = permit;
            if let Err(e) = ticket.check() {
                inner.stats.skipped.fetch_add(1, Ordering::Relaxed);
                tracing::debug!(pool = %inner.name, "work not started: {}", e.message);
                return Err(e);
            }
            inner.stats.started.fetch_add(1, Ordering::Relaxed);
            let result = work(&ticket);
            if result.is_err() && ticket.is_cancelled() {
                inner.stats.aborted.fetch_add(1, Ordering::Relaxed);
            }
            result
        });
        handle.await.map_err(|e| Error::internal(format!("{} work failed: {e}", self.inner.name)))?
    }
}

#[cfg(test)]
mod tests;
