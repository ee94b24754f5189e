//! A ClickHouse server for the tests of one process, and a fresh database name per test.
//!
//! The server is `harness/clickhouse_http.py` (ClickHouse's HTTP interface over the real engine of chDB;
//! `scripts/install-chdb.sh` installs it, `harness/CLICKHOUSE.md` says what it emulates). It takes about half
//! a second to start and serializes queries, so a test binary starts one on its first call, under a watcher
//! shell that stops it within a second of the test process exiting (statics are never dropped), and each
//! call gets its own database name. Clients authenticate as [`USER`] with [`PASSWORD`], so a wrong password
//! is refused as on a real server.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The user every test connects as.
pub const USER: &str = "flowlake";
/// Its password.
pub const PASSWORD: &str = "flowlake-test-password";

/// One test's database on the process's server (created by the store on its first read-write open).
#[derive(Debug, Clone)]
pub struct ClickHouseDatabase {
    /// Loopback port of the server's HTTP interface.
    pub port: u16,
    /// The database's name.
    pub name: String,
}

impl ClickHouseDatabase {
    /// `http://127.0.0.1:PORT`: the store's URL (the database and credentials are given apart).
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Runs `sql` as [`USER`] in this database; the answer's body. Panics on an error.
    pub fn query(&self, sql: &str) -> String {
        let (status, body) = post(self.port, Some(&self.name), sql);
        assert!(status == 200, "ClickHouse `{sql}`: {body}");
        body
    }

    /// How many request bodies for this database the harness got, by `Content-Encoding` (`identity` for
    /// none): its `GET /_harness/encodings`, a JSON object such as `{"gzip": 3, "identity": 12}`.
    pub fn request_encodings(&self) -> serde_json::Map<String, serde_json::Value> {
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).expect("connect to ClickHouse");
        write!(
            s,
            "GET /_harness/encodings?database={} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nConnection: close\r\n\r\n",
            self.name, self.port
        )
        .expect("send");
        let mut reply = String::new();
        s.read_to_string(&mut reply).expect("read");
        let body = reply.split_once("\r\n\r\n").map_or("", |(_, b)| b);
        serde_json::from_str(body).expect("the harness's encodings are a JSON object")
    }

    /// Runs `sql` as [`USER`] in this database; the answer's body, or `None` if ClickHouse refused it (a
    /// table not created yet).
    pub fn try_query(&self, sql: &str) -> Option<String> {
        let (status, body) = post(self.port, Some(&self.name), sql);
        (status == 200).then_some(body)
    }
}

struct Server {
    port: u16,
    /// The watcher shell; it outlives the tests (statics are not dropped) and ends with the process.
    _watcher: std::process::Child,
}

static SERVER: OnceLock<Server> = OnceLock::new();
static NEXT: AtomicU32 = AtomicU32::new(0);

/// A new database name on this process's ClickHouse server (started on the first call).
pub fn clickhouse_database() -> ClickHouseDatabase {
    let server = SERVER.get_or_init(start);
    ClickHouseDatabase {
        port: server.port,
        name: format!(
            "test_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ),
    }
}

fn start() -> Server {
    let harness = concat!(env!("CARGO_MANIFEST_DIR"), "/harness/clickhouse_http.py");
    let dir = std::env::temp_dir().join(format!("flowlake-ch-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a directory for the test ClickHouse");
    let log = dir.join("out");
    let s = |p: &std::path::Path| p.display().to_string();
    // The watcher: starts the harness, then stops it (SIGTERM, which it handles) and removes its directory
    // once the test process (the shell's parent) is gone.
    let watcher = format!(
        "python3 {harness} --port 0 --host 127.0.0.1 --user {USER} --password {PASSWORD} --data-dir {data} \
         >{log} 2>{err} & ch=$!; while kill -0 $PPID 2>/dev/null && kill -0 $ch 2>/dev/null; do sleep 0.5; done; \
         kill -TERM $ch 2>/dev/null; wait $ch; rm -rf {dir}",
        data = s(&dir.join("data")),
        log = s(&log),
        err = s(&dir.join("err")),
        dir = s(&dir)
    );
    let watcher = Command::new("sh")
        .args(["-c", &watcher])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the ClickHouse harness");
    let deadline = Instant::now() + Duration::from_secs(60);
    let port = loop {
        let out = std::fs::read_to_string(&log).unwrap_or_default();
        if let Some(port) = out
            .lines()
            .find_map(|l| l.strip_prefix("READY http://127.0.0.1:"))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|p| p.parse::<u16>().ok())
        {
            break port;
        }
        assert!(
            Instant::now() < deadline,
            "the ClickHouse harness was not ready within 60 s (is chDB installed? scripts/install-chdb.sh): {}",
            std::fs::read_to_string(dir.join("err")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    Server {
        port,
        _watcher: watcher,
    }
}

/// A plain HTTP `POST` of `sql` to the server as [`USER`]: the status and body of its answer.
fn post(port: u16, database: Option<&str>, sql: &str) -> (u16, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect to ClickHouse");
    let database = database.map_or_else(String::new, |d| format!("X-ClickHouse-Database: {d}\r\n"));
    write!(
        s,
        "POST / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nX-ClickHouse-User: {USER}\r\nX-ClickHouse-Key: {PASSWORD}\r\n\
         {database}Content-Length: {}\r\nConnection: close\r\n\r\n{sql}",
        sql.len()
    )
    .expect("send");
    let mut reply = String::new();
    s.read_to_string(&mut reply).expect("read");
    let status = reply
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = reply
        .split_once("\r\n\r\n")
        .map_or(String::new(), |(_, b)| b.to_string());
    (status, body)
}

/// A ClickHouse harness of one test's own, which it may kill and start again on the same port and data (what
/// "the server went away mid-load" needs; the process's shared one must stay up for the other tests). Killed
/// and removed when dropped.
pub struct OwnClickHouse {
    dir: std::path::PathBuf,
    /// Loopback port of its HTTP interface.
    pub port: u16,
    child: Option<std::process::Child>,
    /// Whether it serves HTTPS, with a certificate for `127.0.0.1` signed by [`OwnClickHouse::ca_file`].
    tls: bool,
}

impl OwnClickHouse {
    /// A new harness with an empty data directory, started.
    pub fn start() -> Self {
        Self::start_with(false)
    }

    /// A new harness serving HTTPS (the interface of port 8443) with a certificate for `127.0.0.1` signed by
    /// a CA of its own ([`OwnClickHouse::ca_file`]), made with `openssl` as the PostgreSQL server's.
    pub fn start_tls() -> Self {
        Self::start_with(true)
    }

    /// The CA certificate (PEM) an HTTPS harness's certificate chains to.
    pub fn ca_file(&self) -> std::path::PathBuf {
        self.dir.join("ca.crt")
    }

    /// `http://127.0.0.1:PORT`, or `https://…` for an HTTPS harness.
    pub fn url(&self) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://127.0.0.1:{}", self.port)
    }

    fn start_with(tls: bool) -> Self {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("flowlake-ch-{}-own-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("a directory for the test ClickHouse");
        if tls {
            super::postgres::certificates(&dir);
        }
        let mut server = Self {
            dir,
            port: super::free_port(),
            child: None,
            tls,
        };
        server.restart();
        server
    }

    /// A database name on it (the store creates the database).
    pub fn database(&self, name: &str) -> ClickHouseDatabase {
        ClickHouseDatabase {
            port: self.port,
            name: name.into(),
        }
    }

    /// Kills the harness at once (SIGKILL), as a crash would: requests in flight get no answer.
    pub fn crash(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the harness (again) on its port and data directory, waiting until it answers.
    pub fn restart(&mut self) {
        self.crash();
        let harness = concat!(env!("CARGO_MANIFEST_DIR"), "/harness/clickhouse_http.py");
        let out = std::fs::File::create(self.dir.join("out")).expect("the harness's output file");
        let mut command = Command::new("python3");
        command
            .arg(harness)
            .args(["--port", &self.port.to_string(), "--host", "127.0.0.1"])
            .args(["--user", USER, "--password", PASSWORD, "--data-dir"])
            .arg(self.dir.join("data"));
        if self.tls {
            command
                .arg("--tls-cert")
                .arg(self.dir.join("server.crt"))
                .arg("--tls-key")
                .arg(self.dir.join("server.key"));
        }
        let child = command
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(Stdio::null())
            .spawn()
            .expect("start the ClickHouse harness");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(60);
        while !std::fs::read_to_string(self.dir.join("out"))
            .unwrap_or_default()
            .starts_with("READY")
        {
            assert!(
                Instant::now() < deadline,
                "the ClickHouse harness did not restart within 60 s"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for OwnClickHouse {
    fn drop(&mut self) {
        self.crash();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
