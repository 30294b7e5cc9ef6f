//! The archive's state. Objects (audio) live in an object store; metadata, transcripts and the
//! durable event queue live together in one database, so that a row and the event announcing it
//! commit in one transaction. Embedded defaults (a directory, SQLite) need no set-up; S3 and
//! PostgreSQL are chosen by URL.
pub mod audit;
pub mod bus;
mod db;
pub mod event;
pub mod keys;
pub mod objects;
pub mod queue;
pub mod recordings;
pub mod transitions;
pub mod usage;

pub use audit::AuditEntry;
pub use bus::EventBus;
pub use db::{Backend, Db, now_ms};
pub use keys::{KeyInfo, NewKey};
pub use objects::{Objects, Staged};
pub use queue::{DeadLetter, Delivery, QueuePolicy};
pub use recordings::{Inserted, ListFilter, StageState, StoredSegment, StoredTranscript};
pub use sokuji_core::archive::events::{Event, EventData};
pub use usage::LiveLease;
