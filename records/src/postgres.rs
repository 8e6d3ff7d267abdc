//! The PostgreSQL backend: one `tokio-postgres` connection, made on first
//! use and again after it breaks. A batch's statements are prepared once per
//! connection and sent pipelined (all of them before the first answer), so
//! a batch costs a few round trips, not one per row.

use std::collections::HashMap;
use std::error::Error;
use std::str::FromStr;
use std::time::Duration;

use bytes::BytesMut;
use futures_util::future::try_join_all;
use tokio::sync::Mutex;
use tokio_postgres::types::{to_sql_checked, IsNull, ToSql, Type};
use tokio_postgres::{Client, Config, NoTls, Statement};
use tracing::debug;

use crate::sql::{Op, Value};
use crate::StoreError;

/// Longer than any healthy batch: past it the connection is taken as dead (a
/// network that drops packets never says so).
const OP_TIMEOUT: Duration = Duration::from_secs(30);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

pub struct Postgres {
    config: Config,
    conn: Mutex<Option<Conn>>,
}

impl std::fmt::Debug for Postgres {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The config may hold a password.
        f.debug_struct("Postgres").field("hosts", &self.config.get_hosts().len()).finish_non_exhaustive()
    }
}

struct Conn {
    client: Client,
    statements: HashMap<String, Statement>,
}

/// Checks a `postgres://` URL without connecting.
pub fn parse_url(url: &str) -> Result<Config, String> {
    let mut config = Config::from_str(url).map_err(|e| e.to_string())?;
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(CONNECT_TIMEOUT);
    }
    Ok(config)
}

impl Postgres {
    pub fn new(config: Config) -> Postgres {
        Postgres { config, conn: Mutex::new(None) }
    }

    /// Runs `ops` in one transaction; the rows each statement changed.
    pub async fn run(&self, ops: &[Op]) -> Result<Vec<u64>, StoreError> {
        let mut guard = self.conn.lock().await;
        let result = tokio::time::timeout(OP_TIMEOUT, async {
            let conn = self.connected(&mut guard).await?;
            run_on(conn, ops).await
        })
        .await;
        settle(&mut guard, result)
    }

    /// Runs a query; every row as plain values.
    pub async fn query(&self, sql: &str, params: &[Value]) -> Result<Vec<Vec<Value>>, StoreError> {
        let mut guard = self.conn.lock().await;
        let result = tokio::time::timeout(OP_TIMEOUT, async {
            let conn = self.connected(&mut guard).await?;
            let statement = prepared(conn, sql).await?;
            let refs: Vec<&(dyn ToSql + Sync)> = params.iter().map(|p| p as &(dyn ToSql + Sync)).collect();
            let rows = conn.client.query(&statement, &refs).await?;
            rows.iter().map(row_values).collect::<Result<Vec<_>, _>>()
        })
        .await;
        settle(&mut guard, result)
    }

    async fn connected<'a>(&self, slot: &'a mut Option<Conn>) -> Result<&'a mut Conn, tokio_postgres::Error> {
        if slot.as_ref().is_some_and(|c| c.client.is_closed()) {
            *slot = None;
        }
        if slot.is_none() {
            let (client, connection) = self.config.connect(NoTls).await?;
            tokio::spawn(async move {
                if let Err(e) = connection.await {
                    debug!(error = %e, "records: the PostgreSQL connection ended");
                }
            });
            *slot = Some(Conn { client, statements: HashMap::new() });
        }
        Ok(slot.as_mut().expect("connected above"))
    }
}

async fn run_on(conn: &mut Conn, ops: &[Op]) -> Result<Vec<u64>, tokio_postgres::Error> {
    for op in ops {
        if let Op::Statement(sql, _) = op {
            prepared(conn, sql).await?;
        }
    }
    let tx = conn.client.transaction().await?;
    let transaction = &tx;
    let mut changed = Vec::with_capacity(ops.len());
    // Scripts (migrations) run alone, in order; statements go out pipelined between them.
    let mut start = 0;
    while start < ops.len() {
        let end = ops[start..].iter().position(|op| matches!(op, Op::Script(_))).map_or(ops.len(), |i| start + i);
        let sends = ops[start..end].iter().map(|op| {
            let Op::Statement(sql, params) = op else { unreachable!("scripts split out above") };
            let statement = &conn.statements[sql.as_str()];
            let refs: Vec<&(dyn ToSql + Sync)> = params.iter().map(|p| p as &(dyn ToSql + Sync)).collect();
            async move { transaction.execute(statement, &refs).await }
        });
        changed.extend(try_join_all(sends).await?);
        if let Some(Op::Script(sql)) = ops.get(end) {
            tx.batch_execute(sql).await?;
            changed.push(0);
        }
        start = end + 1;
    }
    tx.commit().await?;
    Ok(changed)
}

async fn prepared(conn: &mut Conn, sql: &str) -> Result<Statement, tokio_postgres::Error> {
    if let Some(statement) = conn.statements.get(sql) {
        return Ok(statement.clone());
    }
    let statement = conn.client.prepare(sql).await?;
    conn.statements.insert(sql.to_owned(), statement.clone());
    Ok(statement)
}

/// Maps the outcome; a connection that failed or timed out is dropped, to be made again.
fn settle<T>(
    slot: &mut Option<Conn>,
    result: Result<Result<T, tokio_postgres::Error>, tokio::time::error::Elapsed>,
) -> Result<T, StoreError> {
    let error = match result {
        Ok(Ok(value)) => return Ok(value),
        Ok(Err(e)) => from_error(e),
        Err(_) => StoreError::Unavailable(format!("PostgreSQL did not answer within {OP_TIMEOUT:?}")),
    };
    if matches!(error, StoreError::Unavailable(_)) {
        *slot = None;
    }
    Err(error)
}

/// Data exceptions (class 22) and constraint violations (23) are the data's
/// fault: retrying cannot help. Everything else is the database's.
fn from_error(e: tokio_postgres::Error) -> StoreError {
    match e.code().map(|c| c.code()) {
        Some(code) if code.starts_with("22") || code.starts_with("23") => StoreError::Rejected(e.to_string()),
        _ => StoreError::Unavailable(format!("PostgreSQL: {}", describe(&e))),
    }
}

/// The error with its causes (tokio-postgres puts the useful part, e.g. "connection refused", in the source).
fn describe(e: &dyn Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

fn row_values(row: &tokio_postgres::Row) -> Result<Vec<Value>, tokio_postgres::Error> {
    (0..row.len())
        .map(|i| {
            Ok(match *row.columns()[i].type_() {
                Type::INT8 => row.try_get::<_, Option<i64>>(i)?.map_or(Value::Null, Value::Int),
                Type::INT4 => row.try_get::<_, Option<i32>>(i)?.map_or(Value::Null, |v| Value::Int(v.into())),
                _ => row.try_get::<_, Option<String>>(i)?.map_or(Value::Null, Value::Text),
            })
        })
        .collect()
}

impl ToSql for Value {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, Box<dyn Error + Sync + Send>> {
        match self {
            Value::Null => Ok(IsNull::Yes),
            Value::Int(i) if *ty == Type::INT4 => i32::try_from(*i)?.to_sql(ty, out),
            Value::Int(i) => i.to_sql(ty, out),
            Value::Text(s) => s.to_sql(ty, out),
        }
    }

    fn accepts(ty: &Type) -> bool {
        matches!(*ty, Type::INT8 | Type::INT4 | Type::TEXT | Type::VARCHAR)
    }

    to_sql_checked!();
}
