//! The SQLite backend: one connection, used from blocking threads (SQLite
//! is a library call that blocks; it must not run on the async workers).
//!
//! The file is in WAL mode with `synchronous = FULL`: a batch is on disk
//! when its transaction returns, and readers never wait for a writer's
//! fsync. `path` may also be a `file:` URI (`mode=memory` for a database
//! that lives as long as the process).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, OpenFlags};

use crate::sql::{for_sqlite, Op, Value};
use crate::StoreError;

#[derive(Debug)]
pub struct Sqlite {
    path: String,
    /// Opened on first use, and again after an error that may have broken it.
    conn: Mutex<Option<Connection>>,
}

impl Sqlite {
    pub fn new(path: String) -> Arc<Sqlite> {
        Arc::new(Sqlite { path, conn: Mutex::new(None) })
    }

    /// Runs `f` on the connection (opening it if needed) on a blocking thread.
    pub async fn with<T: Send + 'static>(
        self: &Arc<Self>,
        f: impl FnOnce(&mut Connection) -> Result<T, rusqlite::Error> + Send + 'static,
    ) -> Result<T, StoreError> {
        let this = self.clone();
        tokio::task::spawn_blocking(move || this.with_blocking(f))
            .await
            .map_err(|e| StoreError::Unavailable(format!("the SQLite task failed: {e}")))?
    }

    fn with_blocking<T>(&self, f: impl FnOnce(&mut Connection) -> Result<T, rusqlite::Error>) -> Result<T, StoreError> {
        let mut guard = self.conn.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if guard.is_none() {
            *guard = Some(self.open().map_err(|e| from_error(&self.path, e))?);
        }
        let conn = guard.as_mut().expect("opened above");
        let result = f(conn).map_err(|e| from_error(&self.path, e));
        if matches!(result, Err(StoreError::Unavailable(_))) {
            // A disk error may leave the handle in a bad state: open afresh next time.
            *guard = None;
        }
        result
    }

    fn open(&self) -> Result<Connection, rusqlite::Error> {
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_URI
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(&self.path, flags)?;
        conn.busy_timeout(Duration::from_secs(5))?;
        // `journal_mode` answers with the mode set (`memory` for an in-memory database).
        conn.query_row("PRAGMA journal_mode = WAL", [], |_| Ok(()))?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        Ok(conn)
    }
}

/// Runs `ops` in one transaction; the rows each statement changed.
pub fn run(conn: &mut Connection, ops: &[Op]) -> Result<Vec<u64>, rusqlite::Error> {
    let tx = conn.transaction()?;
    let mut changed = Vec::with_capacity(ops.len());
    for op in ops {
        match op {
            Op::Statement(sql, params) => {
                let mut statement = tx.prepare_cached(&for_sqlite(sql))?;
                let n = statement.execute(rusqlite::params_from_iter(params.iter().map(to_sql)))?;
                changed.push(n as u64);
            }
            Op::Script(sql) => {
                tx.execute_batch(sql)?;
                changed.push(0);
            }
        }
    }
    tx.commit()?;
    Ok(changed)
}

/// Runs a query; every row as plain values.
pub fn query(conn: &mut Connection, sql: &str, params: &[Value]) -> Result<Vec<Vec<Value>>, rusqlite::Error> {
    let mut statement = conn.prepare_cached(&for_sqlite(sql))?;
    let columns = statement.column_count();
    let rows = statement.query_map(rusqlite::params_from_iter(params.iter().map(to_sql)), |row| {
        (0..columns).map(|i| row.get::<_, SqlValue>(i).map(from_sql)).collect::<Result<Vec<_>, _>>()
    })?;
    rows.collect()
}

fn to_sql(value: &Value) -> SqlValue {
    match value {
        Value::Null => SqlValue::Null,
        Value::Int(i) => SqlValue::Integer(*i),
        Value::Text(s) => SqlValue::Text(s.clone()),
    }
}

fn from_sql(value: SqlValue) -> Value {
    match value {
        SqlValue::Integer(i) => Value::Int(i),
        SqlValue::Text(s) => Value::Text(s),
        SqlValue::Real(f) => Value::Int(f as i64),
        SqlValue::Null | SqlValue::Blob(_) => Value::Null,
    }
}

/// Constraint and type errors are the data's fault (retrying cannot help); the rest is the database's.
fn from_error(path: &str, e: rusqlite::Error) -> StoreError {
    use rusqlite::ErrorCode::{ConstraintViolation, TooBig, TypeMismatch};
    match e.sqlite_error_code() {
        Some(ConstraintViolation | TooBig | TypeMismatch) => StoreError::Rejected(e.to_string()),
        _ => StoreError::Unavailable(format!("SQLite {path}: {e}")),
    }
}
