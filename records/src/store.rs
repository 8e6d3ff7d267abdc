//! [`Store`]: the records database, SQLite or PostgreSQL behind one API.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::postgres::{self, Postgres};
use crate::query::{self, ChatDetail, ChatQuery, ChatSummary};
use crate::record::{Record, TicketEventRow, TicketRow};
use crate::schema::{self, VERSION_TABLE};
use crate::sql::{self, Op, Value};
use crate::sqlite::{self, Sqlite};
use crate::tickets;

/// Why the store could not do something.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    /// The database cannot be reached or written (down, disk full, a
    /// timeout): worth retrying.
    #[error("the records database is unavailable: {0}")]
    Unavailable(String),
    /// The database refused the data itself (a constraint, a value out of
    /// range): retrying the same rows cannot help.
    #[error("the records database refused the data: {0}")]
    Rejected(String),
    /// Written by a newer release: this one must not write into a schema it does not know.
    #[error("the records database has schema version {found}, newer than this build's {known}: run the release that migrated it")]
    SchemaTooNew { found: i64, known: i64 },
}

impl StoreError {
    /// Worth trying again later (as opposed to data the database refuses).
    pub fn is_transient(&self) -> bool {
        !matches!(self, StoreError::Rejected(_))
    }
}

/// Where records go, from `records.url`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// A SQLite file (or a `file:` URI).
    Sqlite(String),
    /// A `postgres://` URL.
    Postgres(String),
}

impl Target {
    /// `""`: SQLite at `default_sqlite`; `postgres://...` or `postgresql://...`;
    /// `sqlite:PATH`. Anything else is refused with what is accepted.
    pub fn parse(url: &str, default_sqlite: &str) -> Result<Target, String> {
        if url.is_empty() {
            return Ok(Target::Sqlite(default_sqlite.to_owned()));
        }
        if let Some(path) = url.strip_prefix("sqlite:") {
            if path.is_empty() {
                return Err("`sqlite:` needs a path, e.g. sqlite:/var/lib/switchboard/records.sqlite3".into());
            }
            return Ok(Target::Sqlite(path.to_owned()));
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            postgres::parse_url(url).map_err(|e| format!("is not a PostgreSQL URL: {e}"))?;
            return Ok(Target::Postgres(url.to_owned()));
        }
        Err("must be empty (SQLite in data_dir), postgres://HOST:PORT/DATABASE, or sqlite:PATH".into())
    }

    /// Says where, without a password.
    pub fn describe(&self) -> String {
        match self {
            Target::Sqlite(path) => format!("sqlite:{path}"),
            Target::Postgres(url) => match url.split_once('@') {
                Some((scheme_and_user, rest)) => {
                    let scheme = scheme_and_user.split("://").next().unwrap_or("postgres");
                    format!("{scheme}://***@{rest}")
                }
                None => url.clone(),
            },
        }
    }
}

#[derive(Clone, Debug)]
enum Backend {
    Sqlite(Arc<Sqlite>),
    Postgres(Arc<Postgres>),
}

/// The records database. Cheap to clone (one connection, shared). The
/// schema is brought up to date before the first use, and again after a
/// failed attempt.
#[derive(Clone, Debug)]
pub struct Store {
    target: Target,
    origin: Arc<str>,
    backend: Backend,
    /// Whether the schema is up to date; held while migrating, so the writer
    /// and a lookup arriving together migrate once.
    migrated: Arc<tokio::sync::Mutex<bool>>,
}

impl Store {
    /// Connects lazily: nothing is opened until the first call, so a
    /// database that is down at start-up delays records, never the server.
    /// `origin` tells this live state's session ids from another's.
    pub fn new(target: &Target, origin: &str) -> Result<Store, StoreError> {
        let backend = match target {
            Target::Sqlite(path) => Backend::Sqlite(Sqlite::new(path.clone())),
            Target::Postgres(url) => {
                Backend::Postgres(Arc::new(Postgres::new(postgres::parse_url(url).map_err(StoreError::Rejected)?)))
            }
        };
        Ok(Store { target: target.clone(), origin: Arc::from(origin), backend, migrated: Arc::default() })
    }

    pub fn target(&self) -> &Target {
        &self.target
    }

    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// Runs the migrations this database has not run yet; the schema version it is at.
    pub async fn migrate(&self) -> Result<i64, StoreError> {
        let mut migrated = self.migrated.lock().await;
        let version = self.migrate_now().await?;
        *migrated = true;
        Ok(version)
    }

    async fn migrate_now(&self) -> Result<i64, StoreError> {
        self.run(vec![Op::Script(VERSION_TABLE)]).await?;
        let current = self.schema_version().await?;
        for m in schema::pending(current)? {
            let mut ops = Vec::new();
            if let Backend::Postgres(_) = self.backend {
                // Nodes starting together: one migrates, the others wait and then find it done.
                ops.push(Op::statement("SELECT pg_advisory_xact_lock(7356021)", Vec::new()));
            }
            let params = vec![Value::Int(m.version), Value::text(m.description), Value::Int(now_ms())];
            ops.extend([Op::Script(m.sql), Op::statement(sql::INSERT_VERSION, params)]);
            self.run(ops).await?;
            tracing::info!(version = m.version, description = m.description, "records: schema migrated");
        }
        Ok(schema::latest())
    }

    /// The highest migration this database ran (0: none).
    pub async fn schema_version(&self) -> Result<i64, StoreError> {
        let rows = self.query(sql::SELECT_VERSION.to_owned(), Vec::new()).await?;
        Ok(rows.first().and_then(|r| r.first()).and_then(Value::as_int).unwrap_or(0))
    }

    /// Writes `records` in one transaction: all of them or none.
    pub async fn write(&self, records: &[Record]) -> Result<(), StoreError> {
        self.ready().await?;
        let ops: Vec<Op> = records.iter().flat_map(|r| sql::ops_for(&self.origin, r)).collect();
        self.run(ops).await.map(drop)
    }

    /// Deletes what closed or happened before `cutoff` (ms since the epoch); the rows deleted.
    pub async fn delete_before(&self, cutoff: i64) -> Result<u64, StoreError> {
        self.ready().await?;
        Ok(self.run(sql::retention_ops(cutoff)).await?.iter().sum())
    }

    /// Closed chats matching `q`, newest first.
    pub async fn find_chats(&self, q: &ChatQuery) -> Result<Vec<ChatSummary>, StoreError> {
        self.ready().await?;
        let (sql, params) = query::find_sql(q);
        let mut chats = Vec::new();
        for mut row in self.query(sql, params).await? {
            if let Some(summary) = query::summary_from(&mut row) {
                chats.push(self.with_agents_and_flags(summary).await?);
            }
        }
        Ok(chats)
    }

    /// One closed chat with its transcript: the newest under `session`, or the one of `origin`.
    pub async fn chat(&self, session: u64, origin: Option<&str>) -> Result<Option<ChatDetail>, StoreError> {
        self.ready().await?;
        let (sql, params) = query::detail_sql(session, origin);
        let Some(mut row) = self.query(sql, params).await?.into_iter().next() else { return Ok(None) };
        let (transcript, notes) = query::texts_from(&mut row);
        let Some(summary) = query::summary_from(&mut row) else { return Ok(None) };
        let flag_details = self.flags(&summary).await?;
        let summary = self.with_agents_and_flags(summary).await?;
        Ok(Some(ChatDetail {
            summary,
            transcript: decode_json(transcript),
            handoff_notes: decode_json(notes),
            flag_details,
        }))
    }

    /// A done ticket of this store's origin, with its messages and notes.
    pub async fn ticket(&self, ticket: u64) -> Result<Option<TicketRow>, StoreError> {
        self.ready().await?;
        let key = vec![Value::text(&self.origin), Value::Int(ticket as i64)];
        Ok(self.query(tickets::TICKET_SQL.to_owned(), key).await?.into_iter().next().and_then(tickets::ticket_from))
    }

    /// What happened to a ticket of this store's origin, in order.
    pub async fn ticket_events(&self, ticket: u64) -> Result<Vec<TicketEventRow>, StoreError> {
        self.ready().await?;
        let key = vec![Value::text(&self.origin), Value::Int(ticket as i64)];
        Ok(self.query(tickets::EVENTS_SQL.to_owned(), key).await?.into_iter().filter_map(tickets::event_from).collect())
    }

    async fn with_agents_and_flags(&self, mut summary: ChatSummary) -> Result<ChatSummary, StoreError> {
        let key = vec![Value::text(&summary.origin), Value::Int(summary.session as i64)];
        let agents = self.query(query::AGENTS_SQL.to_owned(), key).await?;
        summary.agents = agents.into_iter().filter_map(|r| r.into_iter().next()?.into_text()).collect();
        summary.flags = self.flags(&summary).await?.into_iter().map(|f| f.kind).collect();
        Ok(summary)
    }

    async fn flags(&self, summary: &ChatSummary) -> Result<Vec<query::FlagDetail>, StoreError> {
        let key = vec![Value::text(&summary.origin), Value::Int(summary.session as i64)];
        Ok(self.query(query::FLAGS_SQL.to_owned(), key).await?.into_iter().filter_map(query::flag_from).collect())
    }

    pub(crate) async fn ready(&self) -> Result<(), StoreError> {
        let mut migrated = self.migrated.lock().await;
        if !*migrated {
            self.migrate_now().await?;
            *migrated = true;
        }
        Ok(())
    }

    pub(crate) async fn run(&self, ops: Vec<Op>) -> Result<Vec<u64>, StoreError> {
        match &self.backend {
            Backend::Sqlite(db) => db.with(move |conn| sqlite::run(conn, &ops)).await,
            Backend::Postgres(db) => db.run(&ops).await,
        }
    }

    pub(crate) async fn query(&self, sql: String, params: Vec<Value>) -> Result<Vec<Vec<Value>>, StoreError> {
        match &self.backend {
            Backend::Sqlite(db) => db.with(move |conn| sqlite::query(conn, &sql, &params)).await,
            Backend::Postgres(db) => db.query(&sql, &params).await,
        }
    }
}

/// A JSON column; empty if missing or damaged (the rest of the chat or ticket is still worth showing).
pub(crate) fn decode_json<T: serde::de::DeserializeOwned + Default>(text: Option<String>) -> T {
    text.and_then(|t| serde_json::from_str(&t).ok()).unwrap_or_default()
}

/// Now, in milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_sorted_and_passwords_are_not_shown() {
        assert_eq!(Target::parse("", "/d/records.sqlite3").unwrap(), Target::Sqlite("/d/records.sqlite3".into()));
        assert_eq!(Target::parse("sqlite:/x.db", "d").unwrap(), Target::Sqlite("/x.db".into()));
        let pg = Target::parse("postgres://u:secret@127.0.0.1:5432/test", "d").unwrap();
        assert!(matches!(pg, Target::Postgres(_)));
        assert!(!pg.describe().contains("secret"), "{}", pg.describe());
        assert!(Target::parse("mysql://x", "d").unwrap_err().contains("postgres://"));
        assert!(Target::parse("sqlite:", "d").is_err());
        assert!(Target::parse("postgres://127.0.0.1:notaport/test", "d").is_err());
    }
}
