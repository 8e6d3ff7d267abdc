//! The records store: what happened, kept for later. Closed chats (with
//! their transcripts, handoff notes, conduct flags, rating and times), the
//! router's events, done tickets and their history, in a SQL database: a SQLite file in the `data_dir` by
//! default, PostgreSQL when several nodes share one.
//!
//! - [`Store`]: one schema for both, brought up to date at start by
//!   versioned migrations ([`schema`]); writes in batches, one transaction
//!   each; the supervisors' lookups ([`ChatQuery`]); retention.
//! - [`writer`]: the bounded queue the router hands records to without
//!   waiting, the task that drains it in batches, and the [`backlog`] (a
//!   spill file) where records wait while the database is down.
//! - [`Record`]: rows as plain data. The server turns router events into
//!   them; this crate knows nothing of routing.
//!
//! Every record is idempotent (events are keyed by the input that caused
//! them, chats by session id), so a replay after a restart or a spill file
//! read twice writes nothing twice.
//!
//! # Why `rusqlite` and `tokio-postgres` (and not `sqlx`)
//!
//! The store needs two things from a driver: run a list of statements in a
//! transaction, and run a query. `rusqlite` (SQLite bundled, so no system
//! library) is the plain blocking API SQLite is, run on a blocking thread;
//! `tokio-postgres` is async and pipelines a batch's statements over one
//! connection, which is what makes PostgreSQL batches cheap. `sqlx` would
//! give one API over both, but its `Any` driver rewrites neither
//! placeholders nor types, its migrator wants its macros (or files at run
//! time), and it brings a much larger build (its runtime, pools, TLS and
//! macro crates) to a two-core machine. The SQL here is written once, in
//! the subset both databases accept (`$N` placeholders become SQLite's
//! `?N`, the same numbered parameters); the same tests run against both
//! (`tests/store.rs`).

pub mod backlog;
pub mod complaint_subjects;
pub mod performance;
mod postgres;
pub mod presence;
pub mod quality;
pub mod query;
pub mod record;
pub mod schema;
pub mod shifts;
mod sql;
mod sqlite;
mod store;
pub mod testing;
mod tickets;
pub mod writer;

pub use backlog::{Backlog, Spool};
pub use presence::{signed_in_during, StateChange};
pub use quality::{ComplaintRow, Review, SpotCheckRow};
pub use query::{ChatDetail, ChatQuery, ChatSummary, FlagDetail, MAX_LIMIT};
pub use record::{
    ChatRow, EventRow, FlagRow, NoteLine, RatingRow, Record, RecordKind, TicketEventRow, TicketRow, TranscriptFile,
    TranscriptLine,
};
pub use shifts::{LeaveRow, ShiftRow, Span};
pub use store::{now_ms, Store, StoreError, Target};
pub use writer::{DropReason, Operation, RecordSender, WriterMetrics, WriterOptions};
