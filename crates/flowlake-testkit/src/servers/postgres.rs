//! A PostgreSQL server for the tests of one process, and a fresh database on it per test.
//!
//! `initdb` into a temporary directory and `postgres` on a free loopback port cost about two seconds, so a
//! test binary starts one server on its first call and every call gets its own empty database. The server
//! outlives the tests' statics, so it is started under a watcher shell that stops it (and removes its
//! directory) within a second of the test process exiting. As root, the server runs as the `postgres` user
//! (`initdb` refuses root). Clients authenticate with a password (`scram-sha-256`) over TCP, so a wrong
//! password is refused as on a real server. The server offers TLS with a certificate for `127.0.0.1` from a
//! CA of its own ([`PostgresDatabase::ca_file`]); the URLs below say `sslmode=disable` except
//! [`PostgresDatabase::tls_url`].

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use super::free_port;

/// The superuser every test database belongs to.
pub const USER: &str = "flowlake";
/// Its password.
pub const PASSWORD: &str = "flowlake-test-password";

/// One test's database on the process's server.
#[derive(Debug, Clone)]
pub struct PostgresDatabase {
    /// Loopback port of the server.
    pub port: u16,
    /// The database's name.
    pub name: String,
}

impl PostgresDatabase {
    /// `postgres://flowlake@127.0.0.1:PORT/NAME?sslmode=disable`, without the password (give it as the
    /// store's password).
    pub fn url_without_password(&self) -> String {
        format!(
            "postgres://{USER}@127.0.0.1:{}/{}?sslmode=disable",
            self.port, self.name
        )
    }

    /// The URL with the password in it.
    pub fn url(&self) -> String {
        format!(
            "postgres://{USER}:{PASSWORD}@127.0.0.1:{}/{}?sslmode=disable",
            self.port, self.name
        )
    }

    /// The URL asking for TLS (`sslmode=require`), without the password.
    pub fn tls_url(&self) -> String {
        format!(
            "postgres://{USER}@127.0.0.1:{}/{}?sslmode=require",
            self.port, self.name
        )
    }

    /// The CA certificate (PEM) that signed the server's: what a TLS client must trust.
    pub fn ca_file(&self) -> PathBuf {
        server_dir().join("ca.crt")
    }

    /// Runs `sql` with `psql` as the superuser on this database; its standard output (unaligned, no header).
    pub fn psql(&self, sql: &str) -> String {
        psql(self.port, &self.name, sql)
    }
}

struct Server {
    port: u16,
    /// The watcher shell; it outlives the tests (statics are not dropped) and ends with the process.
    _watcher: std::process::Child,
}

static SERVER: OnceLock<Server> = OnceLock::new();
static NEXT: AtomicU32 = AtomicU32::new(0);

/// A new empty database on this process's PostgreSQL server (started on the first call).
pub fn postgres_database() -> PostgresDatabase {
    let server = SERVER.get_or_init(start);
    let name = format!(
        "test_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    psql(server.port, "postgres", &format!("CREATE DATABASE {name}"));
    PostgresDatabase {
        port: server.port,
        name,
    }
}

/// The directory of the newest installed PostgreSQL's programs (Debian keeps them off `PATH`).
fn bin_dir() -> PathBuf {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let v = e.file_name().to_string_lossy().parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").exists().then_some((v, bin))
        })
        .collect();
    versions.sort();
    versions
        .pop()
        .map(|(_, bin)| bin)
        .expect("PostgreSQL is not installed: install Debian's postgresql package (scripts/install-test-servers.sh does)")
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// `program args…`, as the `postgres` user when this process is root.
fn as_server_user(program: PathBuf, args: &[String]) -> Command {
    if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(program).args(args);
        c
    } else {
        let mut c = Command::new(program);
        c.args(args);
        c
    }
}

/// The server's directory (data, socket, certificate, log).
fn server_dir() -> PathBuf {
    std::env::temp_dir().join(format!("flowlake-pg-{}", std::process::id()))
}

/// A CA (`ca.crt`) and a certificate it signed for `127.0.0.1` (`server.crt`, `server.key`) in `dir`, with
/// `openssl`: a self-signed certificate cannot serve as both (rustls refuses a CA as the server's own).
pub(super) fn certificates(dir: &std::path::Path) {
    let run = |args: &[&str]| {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .expect("openssl (Debian's openssl package) makes the test server's certificates");
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    std::fs::write(
        dir.join("server.ext"),
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n",
    )
    .expect("the certificate's extensions");
    run(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "2",
        "-subj",
        "/CN=flowlake test CA",
    ]
    .iter()
    .copied()
    .chain(["-keyout", "ca.key", "-out", "ca.crt"])
    .collect::<Vec<_>>());
    run(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=127.0.0.1",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
    ]);
    run(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.crt",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        "server.ext",
        "-out",
        "server.crt",
    ]);
}

/// A new cluster in `dir` (emptied first): certificates, `initdb` with [`USER`] and [`PASSWORD`], owned by the
/// server's user. Its data directory.
fn init_cluster(dir: &std::path::Path) -> PathBuf {
    let bin = bin_dir();
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).expect("a directory for the test PostgreSQL");
    let pwfile = dir.join("pw");
    std::fs::write(&pwfile, PASSWORD).expect("the password file");
    let data = dir.join("data");
    certificates(dir);
    if is_root() {
        let status = Command::new("chown")
            .args(["-R", "postgres:postgres"])
            .arg(dir)
            .status()
            .expect("chown");
        assert!(status.success(), "chown of {}", dir.display());
    }
    let s = |p: &std::path::Path| p.display().to_string();
    let out = as_server_user(
        bin.join("initdb"),
        &[
            "-D".into(),
            s(&data),
            "-U".into(),
            USER.into(),
            format!("--pwfile={}", s(&pwfile)),
            "--auth-host=scram-sha-256".into(),
            "--auth-local=trust".into(),
            "--encoding=UTF8".into(),
            "--locale=C".into(),
            "--no-sync".into(),
        ],
    )
    .output()
    .expect("initdb");
    assert!(
        out.status.success(),
        "initdb failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    data
}

/// The server's options: loopback `port`, its socket in `dir`, TLS, and no flushing to disk (tests). With
/// `commits_survive_a_crash`, a commit still waits for its WAL to reach the operating system, so a server
/// killed (not the machine) keeps every commit it acknowledged, as a real one does; without, commits return
/// before that, which is faster and what tests that never crash the server use.
fn server_options(dir: &std::path::Path, port: u16, commits_survive_a_crash: bool) -> String {
    let s = |p: &std::path::Path| p.display().to_string();
    let synchronous_commit = match commits_survive_a_crash {
        true => "on",
        false => "off",
    };
    format!(
        "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit={synchronous_commit} \
         -c full_page_writes=off -c max_connections=200 -c ssl=on -c ssl_cert_file={} -c ssl_key_file={}",
        s(dir),
        s(&dir.join("server.crt")),
        s(&dir.join("server.key"))
    )
}

fn start() -> Server {
    let bin = bin_dir();
    let dir = server_dir();
    let data = init_cluster(&dir);
    let s = |p: &std::path::Path| p.display().to_string();
    let port = free_port();
    let postgres = format!(
        "{} -D {} {}",
        s(&bin.join("postgres")),
        s(&data),
        server_options(&dir, port, false)
    );
    let run = match is_root() {
        true => format!("runuser -u postgres -- {postgres}"),
        false => postgres,
    };
    // The watcher: starts the server, then stops it and removes its directory once the test process
    // (the shell's parent) is gone. The postmaster is signalled by the pid it wrote: `runuser`, the
    // shell's child as root, does not pass a signal on.
    let watcher = format!(
        "{run} >{log} 2>&1 & pg=$!; while kill -0 $PPID 2>/dev/null && kill -0 $pg 2>/dev/null; do sleep 0.5; done; \
         kill -INT $(head -n1 {pid}) 2>/dev/null; wait $pg; rm -rf {dir}",
        log = s(&dir.join("log")),
        pid = s(&data.join("postmaster.pid")),
        dir = s(&dir)
    );
    let watcher = Command::new("sh")
        .args(["-c", &watcher])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start postgres");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let ready = Command::new(bin.join("pg_isready"))
            .args(["-h", "127.0.0.1", "-p", &port.to_string(), "-q"])
            .status()
            .is_ok_and(|s| s.success());
        if ready {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "postgres did not accept connections on {port} within 60 s: {}",
            std::fs::read_to_string(dir.join("log")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    Server {
        port,
        _watcher: watcher,
    }
}

/// Runs `sql` with `psql` on `database`; its output, unaligned without a header. Panics on an error.
fn psql(port: u16, database: &str, sql: &str) -> String {
    let out = Command::new(bin_dir().join("psql"))
        .args([
            "-X",
            "-q",
            "-A",
            "-t",
            "-v",
            "ON_ERROR_STOP=1",
            "-h",
            "127.0.0.1",
            "-p",
            &port.to_string(),
            "-U",
            USER,
            "-d",
            database,
            "-c",
            sql,
        ])
        .env("PGPASSWORD", PASSWORD)
        .output()
        .expect("psql");
    assert!(
        out.status.success(),
        "psql `{sql}`: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A PostgreSQL server of one test's own, which it may crash and start again (what "the server went away
/// mid-load" needs; the process's shared server must stay up for the other tests). Its one database is
/// `flowlake`. Stopped and removed when dropped.
pub struct OwnPostgres {
    dir: PathBuf,
    data: PathBuf,
    /// Loopback port.
    pub port: u16,
}

impl OwnPostgres {
    /// A new cluster, started, with an empty database `flowlake`.
    pub fn start() -> Self {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("flowlake-pg-{}-own-{n}", std::process::id()));
        let data = init_cluster(&dir);
        let server = Self {
            dir,
            data,
            port: free_port(),
        };
        server.restart();
        psql(server.port, "postgres", "CREATE DATABASE flowlake");
        server
    }

    /// The database, as [`postgres_database`] gives one.
    pub fn database(&self) -> PostgresDatabase {
        PostgresDatabase {
            port: self.port,
            name: "flowlake".into(),
        }
    }

    fn pg_ctl(&self, args: &[&str]) {
        let mut all: Vec<String> = vec!["-D".into(), self.data.display().to_string()];
        all.extend(args.iter().map(|a| a.to_string()));
        let out = as_server_user(bin_dir().join("pg_ctl"), &all)
            .output()
            .expect("pg_ctl");
        assert!(
            out.status.success(),
            "pg_ctl {args:?}: {}{}",
            String::from_utf8_lossy(&out.stderr),
            std::fs::read_to_string(self.dir.join("log")).unwrap_or_default()
        );
    }

    /// Stops the server at once, as a crash would (`pg_ctl stop -m immediate`: no checkpoint, connections
    /// cut).
    pub fn crash(&self) {
        self.pg_ctl(&["stop", "-m", "immediate"]);
    }

    /// Starts the server (again) on its port, waiting until it accepts connections.
    pub fn restart(&self) {
        let log = self.dir.join("log").display().to_string();
        let options = server_options(&self.dir, self.port, true);
        self.pg_ctl(&["-l", &log, "-w", "-o", &options, "start"]);
    }
}

impl Drop for OwnPostgres {
    fn drop(&mut self) {
        let data = self.data.display().to_string();
        let _ = as_server_user(
            bin_dir().join("pg_ctl"),
            &[
                "-D".into(),
                data,
                "stop".into(),
                "-m".into(),
                "immediate".into(),
            ],
        )
        .output();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
