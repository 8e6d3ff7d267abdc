//! For tests (this crate's and the server's): a PostgreSQL schema of one's
//! own, and a TCP proxy that can be cut to play a database going down.
//!
//! Tests reach PostgreSQL at [`postgres_url`]: `SWITCHBOARD_TEST_POSTGRES`,
//! or `postgres://postgres@127.0.0.1:5432/test` (trust auth).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// The test database server.
pub fn postgres_url() -> String {
    std::env::var("SWITCHBOARD_TEST_POSTGRES").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// A schema created for one test and dropped when this is dropped, so that
/// runs (and tests running at once) never see each other's rows.
#[derive(Debug)]
pub struct PgSchema {
    pub name: String,
    base: String,
}

impl PgSchema {
    /// Creates a fresh schema; panics with what to do if PostgreSQL cannot be reached.
    pub async fn create() -> PgSchema {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let nanos =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().subsec_nanos();
        let name = format!("records_test_{}_{}_{nanos}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed));
        let base = postgres_url();
        execute(&base, &format!("CREATE SCHEMA {name}")).await;
        PgSchema { name, base }
    }

    /// A URL whose connections use this schema.
    pub fn url(&self) -> String {
        with_search_path(&self.base, &self.name)
    }

    /// The same, through another address (a proxy in front of the server).
    pub fn url_via(&self, addr: SocketAddr) -> String {
        let base = self.base.replacen(&host_port(&self.base), &addr.to_string(), 1);
        with_search_path(&base, &self.name)
    }
}

impl Drop for PgSchema {
    fn drop(&mut self) {
        let (base, sql) = (self.base.clone(), format!("DROP SCHEMA IF EXISTS {} CASCADE", self.name));
        // Drop cannot await: a thread of its own with a small runtime.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
            runtime.block_on(execute(&base, &sql));
        })
        .join();
    }
}

fn with_search_path(url: &str, schema: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}options=-c%20search_path%3D{schema}")
}

/// `HOST:PORT` of a `postgres://[user@]host:port/db` URL.
fn host_port(url: &str) -> String {
    let rest = url.split("://").nth(1).unwrap_or(url);
    let rest = rest.rsplit_once('@').map_or(rest, |(_, r)| r);
    rest.split(['/', '?']).next().unwrap_or(rest).to_owned()
}

async fn execute(url: &str, sql: &str) {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await.unwrap_or_else(|e| {
        panic!(
            "PostgreSQL is not reachable at {url} ({e}). The tests need it: start it (scripts/test.sh checks for it), \
             or set SWITCHBOARD_TEST_POSTGRES to another server"
        )
    });
    tokio::spawn(connection);
    client.batch_execute(sql).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
}

/// A TCP proxy to PostgreSQL that a test can cut (every connection
/// through it is closed, new ones are refused) and restore.
#[derive(Debug)]
pub struct CuttableProxy {
    pub addr: SocketAddr,
    up: Arc<AtomicBool>,
    cut: watch::Sender<u64>,
}

impl CuttableProxy {
    /// Listens on 127.0.0.1 (a free port) and forwards to `target`.
    pub async fn start(target: String) -> CuttableProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a free port");
        let addr = listener.local_addr().expect("bound");
        let up = Arc::new(AtomicBool::new(true));
        let (cut, cuts) = watch::channel(0u64);
        let accepting = up.clone();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                if !accepting.load(Ordering::SeqCst) {
                    drop(client);
                    continue;
                }
                tokio::spawn(forward(client, target.clone(), cuts.clone()));
            }
        });
        CuttableProxy { addr, up, cut }
    }

    /// The proxy in front of the test server's PostgreSQL.
    pub async fn to_postgres() -> CuttableProxy {
        CuttableProxy::start(host_port(&postgres_url())).await
    }

    /// Closes every connection and refuses new ones: the database looks down.
    pub fn cut(&self) {
        self.up.store(false, Ordering::SeqCst);
        self.cut.send_modify(|n| *n += 1);
    }

    /// Accepts connections again.
    pub fn restore(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}

async fn forward(mut client: TcpStream, target: String, mut cuts: watch::Receiver<u64>) {
    let Ok(mut server) = TcpStream::connect(&target).await else { return };
    cuts.borrow_and_update();
    tokio::select! {
        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
        _ = cuts.changed() => {}
    }
}
