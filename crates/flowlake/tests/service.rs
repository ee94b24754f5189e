//! `flowlake run` as an operator runs it: started on a config with jobs, scraped, a job run over the API,
//! SIGTERM mid-page, and restarted with nothing lost or doubled; `--once` for cron triggers; a failed run
//! reported to Sentry; a store that goes away and comes back; a second daemon kept out by the state lock;
//! and the errors a bad schedule, a doubled job name or a taken port give.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::{count, fails, ok};
use flowlake_testkit::sentry::SentryIngest;
use flowlake_testkit::servers::{postgres_database, redis, OwnPostgres, POSTGRES_PASSWORD};

const TOKEN: &str = "test-token-1";

/// `flowlake init`'s config with the server on a port the system picks, one token, and `jobs` instead of
/// the template's.
fn configure(dir: &Path, jobs: &str) {
    ok(dir, &["init", "--force"], &[]);
    let path = dir.join("flowlake.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let start = text.find("[service]\n").expect("a [service] section");
    let end = start + text[start..].find("\n# Sources").expect("the sources part") + 1;
    let service = format!(
        "[service]\nlisten = \"127.0.0.1:0\"\ntokens = [\"{TOKEN}\"]\ngrace_period_seconds = 60\n\n{jobs}\n"
    );
    std::fs::write(
        &path,
        format!("{}{service}{}", &text[..start], &text[end..]),
    )
    .unwrap();
}

/// A started `flowlake run`, its stderr lines sent to `lines`.
struct Daemon {
    child: Child,
    lines: mpsc::Receiver<String>,
    log: Vec<String>,
}

impl Daemon {
    fn start(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_flowlake"))
            .arg("run")
            .args(args)
            .current_dir(dir)
            .envs(env.iter().copied())
            .env_remove("RUST_LOG")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Self {
            child,
            lines,
            log: Vec::new(),
        }
    }

    /// Waits for a stderr line containing `what` (up to 60 s), and returns it.
    fn wait_for(&mut self, what: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.log.push(line.clone());
                    if line.contains(what) {
                        return line;
                    }
                }
                Err(_) => panic!("no `{what}` within 60 s; stderr:\n{}", self.log.join("\n")),
            }
        }
    }

    /// The address it listens on, from its `listening on http://…` line.
    fn address(&mut self) -> String {
        let line = self.wait_for("listening on http://");
        line.rsplit("http://").next().unwrap().trim().to_string()
    }

    fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .args([&format!("-{name}"), &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Waits (up to `within`) for the process to end; its exit status and the rest of its stderr.
    fn wait(mut self, within: Duration) -> (std::process::ExitStatus, String) {
        let deadline = Instant::now() + within;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                self.log.extend(self.lines.try_iter());
                // The reader thread may still be draining the pipe.
                std::thread::sleep(Duration::from_millis(100));
                self.log.extend(self.lines.try_iter());
                return (status, self.log.join("\n"));
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!(
                    "still running after {within:?}; stderr:\n{}",
                    self.log.join("\n")
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// One HTTP/1.1 request to `address`; the status and the body.
fn http(address: &str, method: &str, path: &str, token: Option<&str>) -> (u16, String) {
    let mut stream = TcpStream::connect(address).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let auth = token.map_or(String::new(), |t| format!("Authorization: Bearer {t}\r\n"));
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {address}\r\n{auth}Content-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let status = response
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP response: {response}"));
    let body = response
        .split_once("\r\n\r\n")
        .map_or("", |(_, b)| b)
        .to_string();
    (status, body)
}

fn jobs(address: &str) -> serde_json::Value {
    let (status, body) = http(address, "GET", "/api/v1/jobs", Some(TOKEN));
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).unwrap()
}

const ISSUES: u64 = 20_000;

const SIZE: &[(&str, &str)] = &[
    ("FLOWLAKE_SOURCES__0__ISSUES", "20000"),
    ("FLOWLAKE_SOURCES__0__PAGE_SIZE", "100"),
];

#[test]
fn a_daemon_serves_its_jobs_and_metrics_and_a_sigterm_mid_sync_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    configure(
        dir.path(),
        "[[jobs]]\nname = \"sync\"\nschedule = \"@every 1h\"\non_start = true\n\n\
         [[jobs]]\nname = \"rebuild\"\nkind = \"rebuild\"\nschedule = \"0 3 * * *\"\n",
    );
    // -vv: the debug lines say when a page commits.
    let mut daemon = Daemon::start(dir.path(), &["-vv"], SIZE);
    let address = daemon.address();

    assert_eq!(
        http(&address, "GET", "/healthz", None),
        (200, r#"{"status":"ok"}"#.into())
    );
    let (status, body) = http(&address, "GET", "/api/v1/jobs", None);
    assert_eq!(status, 401, "{body}");
    let (status, body) = http(&address, "GET", "/api/v1/jobs", Some("not-the-token"));
    assert_eq!(status, 401, "{body}");

    // The sync runs on start; the rebuild waits for 03:00 and cannot run beside it (one DuckDB writer).
    let deadline = Instant::now() + Duration::from_secs(60);
    while jobs(&address)["jobs"][0]["running_since"].is_null() {
        assert!(Instant::now() < deadline, "the sync did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    let listed = jobs(&address);
    assert_eq!(listed["jobs"][1]["name"], "rebuild");
    assert_eq!(listed["jobs"][1]["schedule"], "0 3 * * * (UTC)");
    assert!(listed["jobs"][1]["next_run"]
        .as_str()
        .unwrap()
        .contains("T03:00:00"));
    // A job running is not started twice.
    let (status, body) = http(&address, "POST", "/api/v1/jobs/sync/run", Some(TOKEN));
    assert_eq!(status, 409, "{body}");
    let (status, body) = http(&address, "POST", "/api/v1/jobs/nosuch/run", Some(TOKEN));
    assert_eq!(status, 404, "{body}");
    let (status, scrape) = http(&address, "GET", "/metrics", None);
    assert_eq!(status, 200);
    assert!(
        scrape.contains("flowlake_job_running{job=\"sync\"} 1"),
        "{scrape}"
    );

    // Mid-page: the run ends after the page it is on commits, and the process exits 0.
    daemon.wait_for("page committed");
    daemon.signal("TERM");
    let (status, log) = daemon.wait(Duration::from_secs(60));
    assert!(status.success(), "{status}; stderr:\n{log}");
    assert!(
        log.contains("stopping as asked, after a committed page"),
        "{log}"
    );
    let loaded = count(dir.path(), "work_items");
    assert!(loaded > 0 && loaded < ISSUES, "stopped mid-way: {loaded}");

    // The next run goes on from the last committed page: nothing lost, nothing twice.
    let daemon = Daemon::start(dir.path(), &["--once"], SIZE);
    let (status, log) = daemon.wait(Duration::from_secs(120));
    assert!(status.success(), "{log}");
    assert_eq!(count(dir.path(), "work_items"), ISSUES);
    let check = ok(dir.path(), &["store", "check"], &[]);
    assert!(check.contains("consistent"), "{check}");
}

#[test]
fn a_second_signal_stops_at_once_and_the_store_stays_consistent() {
    let dir = tempfile::tempdir().unwrap();
    configure(
        dir.path(),
        "[[jobs]]\nname = \"sync\"\nschedule = \"@every 1h\"\non_start = true\n",
    );
    // Pages of 5000 take a while to make: the second signal comes while the first waits for one.
    let big_pages = [
        ("FLOWLAKE_SOURCES__0__ISSUES", "20000"),
        ("FLOWLAKE_SOURCES__0__PAGE_SIZE", "5000"),
    ];
    let mut daemon = Daemon::start(dir.path(), &["-vv"], &big_pages);
    daemon.wait_for("page committed");
    daemon.signal("TERM");
    daemon.wait_for("stopping: no new jobs");
    daemon.signal("TERM");
    let (status, log) = daemon.wait(Duration::from_secs(30));
    assert_eq!(status.code(), Some(130), "{log}");
    assert!(log.contains("second signal: stopping at once"), "{log}");
    let check = ok(dir.path(), &["store", "check"], &[]);
    assert!(check.contains("consistent"), "{check}");
    let daemon = Daemon::start(dir.path(), &["--once"], SIZE);
    let (status, log) = daemon.wait(Duration::from_secs(120));
    assert!(status.success(), "{log}");
    assert_eq!(count(dir.path(), "work_items"), ISSUES);
}

#[test]
fn a_job_runs_on_request_and_the_report_is_served_as_the_cli_prints_it() {
    let dir = tempfile::tempdir().unwrap();
    configure(
        dir.path(),
        "[[jobs]]\nname = \"sync\"\nschedule = \"0 5 1 1 *\"\n",
    );
    let agent = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    agent
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let port = agent.local_addr().unwrap().port().to_string();
    let statsd = [
        ("FLOWLAKE_SERVICE__STATSD_HOST", "127.0.0.1"),
        ("FLOWLAKE_SERVICE__STATSD_PORT", port.as_str()),
        ("FLOWLAKE_SERVICE__STATSD_TAGS", "[\"env:test\"]"),
    ];
    let mut daemon = Daemon::start(dir.path(), &[], &statsd);
    let address = daemon.address();
    // No run yet: the store does not exist, so the service is up but not ready.
    let (status, body) = http(&address, "GET", "/readyz", None);
    assert_eq!(status, 503, "{body}");
    let (status, body) = http(&address, "POST", "/api/v1/jobs/sync/run", Some(TOKEN));
    assert_eq!(
        (status, body.as_str()),
        (202, r#"{"job":"sync","status":"queued"}"#)
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    while jobs(&address)["jobs"][0]["last_success"].is_null() {
        assert!(
            Instant::now() < deadline,
            "the sync did not end: {}",
            jobs(&address)
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(http(&address, "GET", "/readyz", None).0, 200);
    // The run was pushed to the StatsD agent too.
    let mut pushed = Vec::new();
    let mut buf = [0u8; 1024];
    while let Ok(n) = agent.recv(&mut buf) {
        pushed.push(String::from_utf8_lossy(&buf[..n]).into_owned());
        if pushed
            .iter()
            .any(|l| l.starts_with("flowlake_clickhouse_inserted_rows:"))
        {
            break;
        }
    }
    for line in [
        "flowlake_etl_upload_status:1|g|#env:test,job:sync",
        "flowlake_issues_total_processed_count:2000|c|#env:test,job:sync,source:demo",
    ] {
        assert!(pushed.iter().any(|l| l == line), "{line} not in {pushed:?}");
    }
    assert!(
        pushed
            .iter()
            .any(|l| l.starts_with("flowlake_etl_duration_seconds:")
                && l.ends_with("|ms|#env:test,job:sync")),
        "{pushed:?}"
    );
    let (status, scrape) = http(&address, "GET", "/metrics", None);
    assert_eq!(status, 200);
    for line in [
        "flowlake_job_runs_total{job=\"sync\",outcome=\"success\"} 1",
        "flowlake_sync_records_total{source=\"demo\"} 2000",
        "flowlake_job_duration_seconds_count{job=\"sync\"} 1",
    ] {
        assert!(
            scrape.lines().any(|l| l == line),
            "{line} not in:\n{scrape}"
        );
    }
    let query = "?to=2026-06-30&project=CORE&as_of=2030-01-01T00:00:00Z";
    let (status, served) = http(
        &address,
        "GET",
        &format!("/api/v1/metrics{query}"),
        Some(TOKEN),
    );
    assert_eq!(status, 200, "{served}");
    let (status, body) = http(
        &address,
        "GET",
        "/api/v1/metrics?project=nosuch",
        Some(TOKEN),
    );
    assert_eq!(status, 400);
    assert!(body.contains("known projects"), "{body}");
    daemon.signal("INT");
    let (status, log) = daemon.wait(Duration::from_secs(60));
    assert!(status.success(), "{status}: {log}");
    let printed = ok(
        dir.path(),
        &[
            "metrics",
            "--to",
            "2026-06-30",
            "--project",
            "CORE",
            "--as-of",
            "2030-01-01T00:00:00Z",
            "-f",
            "json",
        ],
        &[],
    );
    assert_eq!(served.trim(), printed.trim());
}

#[test]
fn once_runs_each_job_and_fails_when_one_did() {
    let dir = tempfile::tempdir().unwrap();
    configure(
        dir.path(),
        "[[jobs]]\nname = \"sync\"\nschedule = \"@every 1h\"\n",
    );
    let out = ok(dir.path(), &["run", "--once"], &[]);
    assert!(out.is_empty(), "{out}");
    assert_eq!(count(dir.path(), "work_items"), 2000);
    // A store the job cannot open: the job fails, and --once says which and why.
    let err = fails(
        dir.path(),
        &["run", "--once"],
        &[("FLOWLAKE_STORE__PATH", "no/such/dir/x.duckdb")],
    );
    assert!(err.contains("job `sync`:"), "{err}");
    let err = fails(dir.path(), &["run", "--once", "--job", "other"], &[]);
    assert!(
        err.contains("no job named `other` in the config (jobs: sync)"),
        "{err}"
    );
}

/// The value of tag `name` of a Sentry event (tags are an object, or a list of pairs in older SDKs).
fn tag<'a>(event: &'a serde_json::Value, name: &str) -> Option<&'a str> {
    match &event["tags"] {
        serde_json::Value::Object(tags) => tags.get(name).and_then(|v| v.as_str()),
        serde_json::Value::Array(pairs) => pairs
            .iter()
            .find(|p| p[0] == name)
            .and_then(|p| p[1].as_str()),
        _ => None,
    }
}

#[test]
fn a_failed_run_is_reported_to_sentry_with_its_job_and_source_and_no_secret() {
    let ingest = SentryIngest::start();
    let dir = tempfile::tempdir().unwrap();
    configure(
        dir.path(),
        "[[jobs]]\nname = \"sync\"\nschedule = \"@every 1h\"\n",
    );
    let dsn = ingest.dsn();
    let err = fails(
        dir.path(),
        &["run", "--once"],
        &[
            ("FLOWLAKE_SERVICE__SENTRY_DSN", dsn.as_str()),
            ("FLOWLAKE_SERVICE__SENTRY_ENVIRONMENT", "staging"),
            ("FLOWLAKE_FAIL_AFTER_PAGES", "1"),
        ],
    );
    assert!(err.contains("injected failure after page 1"), "{err}");
    // `--once` waits for the report to leave before it exits.
    let events = ingest.events(1, Duration::from_secs(2));
    assert_eq!(events.len(), 1, "{:?}", ingest.bodies());
    let event = &events[0];
    // Sentry's protocol: a missing level is `error` (the SDK leaves its default out).
    assert_eq!(event["level"].as_str().unwrap_or("error"), "error");
    assert_eq!(event["environment"], "staging");
    let message = event["message"]
        .as_str()
        .or_else(|| event["message"]["formatted"].as_str())
        .or_else(|| event["logentry"]["message"].as_str())
        .unwrap_or_default();
    assert!(
        message.starts_with("job `sync` failed: source `demo`:")
            && message.contains("injected failure after page 1"),
        "{event}"
    );
    assert_eq!(tag(event, "job"), Some("sync"), "{event}");
    assert_eq!(tag(event, "source"), Some("demo"), "{event}");
    assert_eq!(tag(event, "job_kind"), Some("sync"), "{event}");
    assert!(tag(event, "run").is_some_and(|r| !r.is_empty()), "{event}");
    assert_eq!(
        event["fingerprint"],
        serde_json::json!(["flowlake-job", "sync", "demo"])
    );
    for body in ingest.bodies() {
        assert!(!body.contains(TOKEN), "the API token was sent: {body}");
    }
    // A DSN that is not one is a clear error that does not repeat it.
    let err = fails(
        dir.path(),
        &["run", "--once"],
        &[("FLOWLAKE_SERVICE__SENTRY_DSN", "sentry-key-zzz")],
    );
    assert!(
        err.contains("service.sentry_dsn: not a Sentry DSN"),
        "{err}"
    );
    assert!(!err.contains("zzz"), "{err}");
}

/// Waits up to 60 s for `check` to hold of the jobs list, panicking with `what` and the list.
fn until_jobs(address: &str, what: &str, check: impl Fn(&serde_json::Value) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let listed = jobs(address);
        if check(&listed) {
            return;
        }
        assert!(Instant::now() < deadline, "{what}: {listed}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn a_store_that_goes_away_makes_readyz_fail_and_jobs_retry_until_it_is_back() {
    let server = OwnPostgres::start();
    let db = server.database();
    let dir = tempfile::tempdir().unwrap();
    configure(
        dir.path(),
        "[[jobs]]\nname = \"sync\"\nschedule = \"@every 2s\"\non_start = true\n",
    );
    let url = db.url_without_password();
    let env = [
        ("FLOWLAKE_STORE__KIND", "postgres"),
        ("FLOWLAKE_STORE__URL", url.as_str()),
        ("FLOWLAKE_STORE__PASSWORD", POSTGRES_PASSWORD),
        ("FLOWLAKE_SERVICE__RETRY_BASE_DELAY_SECONDS", "1"),
        ("FLOWLAKE_SERVICE__RETRY_MAX_DELAY_SECONDS", "1"),
        ("FLOWLAKE_SOURCES__0__ISSUES", "300"),
    ];
    let mut daemon = Daemon::start(dir.path(), &[], &env);
    let address = daemon.address();
    until_jobs(&address, "the first sync did not succeed", |j| {
        !j["jobs"][0]["last_success"].is_null()
    });
    assert_eq!(http(&address, "GET", "/readyz", None).0, 200);

    server.crash();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (status, body) = http(&address, "GET", "/readyz", None);
        if status == 503 {
            assert!(body.contains(&format!("127.0.0.1:{}", db.port)), "{body}");
            break;
        }
        assert!(Instant::now() < deadline, "/readyz still {status}: {body}");
        std::thread::sleep(Duration::from_millis(100));
    }
    until_jobs(&address, "no failed run while the store was away", |j| {
        j["jobs"][0]["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("cannot open store"))
    });
    let failed_at = jobs(&address)["jobs"][0]["last_run"].clone();
    // The process stays up, and a failed run is retried, not given up on.
    until_jobs(&address, "the failed run was not retried", |j| {
        j["jobs"][0]["last_run"] != failed_at
    });
    assert_eq!(http(&address, "GET", "/healthz", None).0, 200);

    server.restart();
    until_jobs(&address, "no success after the store came back", |j| {
        j["jobs"][0]["last_error"].is_null()
    });
    assert_eq!(http(&address, "GET", "/readyz", None).0, 200);
    daemon.signal("TERM");
    let (status, log) = daemon.wait(Duration::from_secs(60));
    assert!(status.success(), "{status}: {log}");
    let items = db.psql("select count(*) from flowlake.work_items");
    assert_eq!(items.trim(), "300");
}

#[test]
fn a_second_daemon_on_the_same_state_is_kept_out_by_its_lock() {
    let redis = redis();
    let db = postgres_database();
    let dir = tempfile::tempdir().unwrap();
    configure(
        dir.path(),
        "[[jobs]]\nname = \"sync\"\nschedule = \"@every 1h\"\non_start = true\n",
    );
    let (store_url, state_url) = (
        db.url_without_password(),
        format!("redis://127.0.0.1:{}/0", redis.port),
    );
    let mut env = vec![
        ("FLOWLAKE_STORE__KIND", "postgres"),
        ("FLOWLAKE_STORE__URL", store_url.as_str()),
        ("FLOWLAKE_STORE__PASSWORD", POSTGRES_PASSWORD),
        ("FLOWLAKE_STATE__BACKEND", "redis"),
        ("FLOWLAKE_STATE__URL", state_url.as_str()),
    ];
    env.extend_from_slice(SIZE);
    let mut first = Daemon::start(dir.path(), &["-vv"], &env);
    let address = first.address();
    first.wait_for("page committed");
    // The second one's job fails on the lock the first holds, naming the holder; nothing is loaded twice.
    // (The first has about 199 pages of 100 to go, seconds of work, when the second starts, which reaches
    // the lock within a fraction of a second.)
    let err = fails(dir.path(), &["run", "--once"], &env);
    assert!(
        err.contains("job `sync`: source `demo`") && err.contains("being synced by another run"),
        "{err}"
    );
    until_jobs(&address, "the first daemon's sync did not end", |j| {
        !j["jobs"][0]["last_success"].is_null()
    });
    first.signal("TERM");
    let (status, log) = first.wait(Duration::from_secs(60));
    assert!(status.success(), "{status}: {log}");
    let items = db.psql("select count(*) from flowlake.work_items");
    assert_eq!(items.trim(), ISSUES.to_string());
}

#[test]
fn json_log_lines_of_a_run_carry_its_job_run_and_source() {
    let dir = tempfile::tempdir().unwrap();
    configure(
        dir.path(),
        "[[jobs]]\nname = \"sync\"\nschedule = \"@every 1h\"\n",
    );
    let out = common::flowlake(
        dir.path(),
        &["--log-format", "json", "-vv", "run", "--once"],
        &[],
    );
    assert!(out.status.success(), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let mut in_source = 0;
    for line in stderr.lines() {
        let entry: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        let spans = entry["spans"].as_array().cloned().unwrap_or_default();
        let field = |name: &str| {
            spans
                .iter()
                .find_map(|s| s[name].as_str().map(str::to_string))
        };
        if entry["fields"]["message"] == "daemon started" {
            continue;
        }
        assert_eq!(field("job").as_deref(), Some("sync"), "{line}");
        assert!(field("run").is_some(), "{line}");
        let target = entry["target"].as_str().unwrap_or_default();
        if !target.starts_with("flowlake_service") {
            assert_eq!(field("source").as_deref(), Some("demo"), "{line}");
            in_source += 1;
        }
    }
    assert!(in_source > 3, "{stderr}");
}

#[test]
fn a_bad_schedule_a_doubled_name_and_a_taken_port_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    configure(
        dir.path(),
        "[[jobs]]\nname = \"sync\"\nschedule = \"*/5 * *\"\n",
    );
    let err = fails(dir.path(), &["run"], &[]);
    assert!(err.contains("flowlake.toml:"), "{err}");
    assert!(
        err.contains("jobs[0].schedule: job `sync`: `*/5 * *` is neither `@every <duration>` nor a cron expression"),
        "{err}"
    );

    configure(
        dir.path(),
        "[[jobs]]\nname = \"sync\"\nschedule = \"@every 1h\"\n\n[[jobs]]\nname = \"sync\"\nschedule = \"@daily\"\n",
    );
    let err = fails(dir.path(), &["run"], &[]);
    assert!(
        err.contains("jobs[1].name: `sync` is used by two jobs"),
        "{err}"
    );

    configure(
        dir.path(),
        "[[jobs]]\nname = \"sync\"\nschedule = \"@every 1h\"\n",
    );
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().to_string();
    let err = fails(dir.path(), &["run"], &[("FLOWLAKE_SERVICE__LISTEN", &port)]);
    assert!(
        err.contains(&format!("service.listen {port}: cannot listen there")),
        "{err}"
    );
}
