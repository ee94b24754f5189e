//! Real servers on loopback for the tests of the state back-ends and stores: `redis-server` (Debian package)
//! and `python3 -m moto.server` (PyPI `moto[server]`), each started on a free port and killed when dropped,
//! PostgreSQL (Debian's `postgresql`, [`postgres`]) and ClickHouse (chDB behind `harness/clickhouse_http.py`,
//! [`clickhouse`]; `scripts/install-chdb.sh` installs it). `scripts/install-test-servers.sh` installs them.

mod clickhouse;
mod postgres;

pub use clickhouse::{
    clickhouse_database, ClickHouseDatabase, OwnClickHouse, PASSWORD as CLICKHOUSE_PASSWORD,
    USER as CLICKHOUSE_USER,
};
pub use postgres::{
    postgres_database, OwnPostgres, PostgresDatabase, PASSWORD as POSTGRES_PASSWORD,
};

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The bucket [`moto`] creates.
pub const BUCKET: &str = "flowlake-state";

/// A server process, killed when dropped.
pub struct Server {
    child: Child,
    /// Its loopback port.
    pub port: u16,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port nothing listens on now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// Starts `program` with `args` and waits (30 s at most) until it listens on `port`.
fn start(program: &str, args: &[String], port: u16, install_hint: &str) -> Server {
    let child = Command::new(program)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {program} ({e}); {install_hint}"));
    let server = Server { child, port };
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "{program} did not listen on {port} within 30 s"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    server
}

/// A Redis server without persistence.
pub fn redis() -> Server {
    let port = free_port();
    start(
        "redis-server",
        &[
            "--port".into(),
            port.to_string(),
            "--bind".into(),
            "127.0.0.1".into(),
            "--save".into(),
            String::new(),
            "--appendonly".into(),
            "no".into(),
        ],
        port,
        "install Debian's redis-server package (scripts/install-test-servers.sh does)",
    )
}

/// A moto S3 server with the bucket [`BUCKET`].
pub fn moto() -> Server {
    let port = free_port();
    let server = start(
        "python3",
        &[
            "-m".into(),
            "moto.server".into(),
            "-H".into(),
            "127.0.0.1".into(),
            "-p".into(),
            port.to_string(),
        ],
        port,
        "install it with `pip install 'moto[server]'` (scripts/install-test-servers.sh does)",
    );
    let created = moto_request(port, "PUT", &format!("/{BUCKET}"), "");
    assert!(created.contains("200"), "creating the bucket: {created}");
    server
}

/// A plain HTTP request to moto (which does not check signatures): the status line of its answer.
pub fn moto_request(port: u16, method: &str, path: &str, body: &str) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect to moto");
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .expect("send");
    let mut reply = String::new();
    s.read_to_string(&mut reply).expect("read");
    reply.lines().next().unwrap_or_default().to_string()
}
