//! ClickHouse's HTTP interface, as the store uses it: every statement a `POST` (a `GET` is read-only), the
//! credentials in `X-ClickHouse-User`/`X-ClickHouse-Key` (never in a URL, an error or a log), the database in
//! `X-ClickHouse-Database`, `wait_end_of_query=1` so an error never follows a `200 OK`, and retries with
//! jittered exponential backoff on what a later try can fix. Insert bodies go gzip-compressed unless the
//! store's `compress` is off.
//!
//! The client is reqwest's async one on a private current-thread runtime: the store's trait is blocking, and
//! reqwest's `blocking` feature would change the crate's features for the whole workspace.

use std::io::Write;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use flate2::write::GzEncoder;
use reqwest::{StatusCode, Url};

use super::ClickHouseOptions;
use crate::error::StoreError;

/// How a failed request is tried again: `tries` in all, waiting `base_delay × factor^n`, each wait moved by
/// up to `± jitter` of itself (tracker-exporter's `BACKOFF_*` settings).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Retry {
    /// Tries in all, at least 1.
    pub tries: u32,
    /// The first wait.
    pub base_delay: Duration,
    /// What each wait is multiplied by.
    pub factor: f64,
    /// The share of a wait it may be moved by at random (0 to 1).
    pub jitter: f64,
}

impl Default for Retry {
    fn default() -> Self {
        Self {
            tries: 5,
            base_delay: Duration::from_millis(500),
            factor: 2.0,
            jitter: 0.5,
        }
    }
}

impl Retry {
    /// The wait before try `n + 1` (after `n` failed tries, `n` ≥ 1).
    pub fn delay(&self, n: u32) -> Duration {
        let exp = self.factor.max(1.0).powi(n.saturating_sub(1) as i32);
        let base = self.base_delay.as_secs_f64() * exp;
        let jitter = self.jitter.clamp(0.0, 1.0);
        // A cheap random number in [0, 1): the clock's nanoseconds, mixed.
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let r = f64::from(nanos.wrapping_mul(2_654_435_761) % 1_000_000) / 1_000_000.0;
        Duration::from_secs_f64((base * (1.0 + jitter * (2.0 * r - 1.0))).clamp(0.0, 300.0))
    }
}

/// Exception codes of a ClickHouse answering 500 that a later try may not get: too many queries or parts
/// for now, a timeout, a network or Keeper hiccup, a replica in read-only mode, an insert of unknown
/// outcome (retried with the same deduplication token, so it lands once).
const TRANSIENT_CODES: &[u32] = &[
    159, // TIMEOUT_EXCEEDED
    202, // TOO_MANY_SIMULTANEOUS_QUERIES
    209, // SOCKET_TIMEOUT
    210, // NETWORK_ERROR
    242, // TABLE_IS_READ_ONLY
    252, // TOO_MANY_PARTS
    319, // UNKNOWN_STATUS_OF_INSERT
    999, // KEEPER_EXCEPTION
];

/// An HTTP client of one ClickHouse server and database.
pub(super) struct Http {
    http: reqwest::Client,
    runtime: tokio::runtime::Runtime,
    /// The server's URL, without credentials or query.
    base: Url,
    database: String,
    user: String,
    password: Option<String>,
    retry: Retry,
    /// Whether insert bodies go gzip-compressed.
    compress: bool,
    /// Whether every statement goes as a `GET`, which a ClickHouse server runs read-only (`readonly=2`).
    read_only: bool,
}

/// Why a request failed.
pub(super) enum Failure {
    /// ClickHouse answered with an exception: its code and text (`Code: N. DB::Exception: …`).
    Server { code: u32, message: String },
    /// No answer: the server is not there, the connection broke, the request timed out.
    Transport(String),
}

impl Failure {
    pub(super) fn text(&self) -> &str {
        match self {
            Self::Server { message, .. } => message,
            Self::Transport(m) => m,
        }
    }
}

impl Http {
    /// A client of the server at `base` (checked: no credentials, query or fragment), as `options` say.
    /// With `ca_file`, an `https://` server's certificate must chain to its certificates and to nothing else,
    /// as the PostgreSQL store's; without, to the system's roots.
    pub(super) fn new(base: Url, options: &ClickHouseOptions) -> Result<Self, String> {
        let mut builder = reqwest::Client::builder()
            .timeout(options.timeout)
            .connect_timeout(Duration::from_secs(10))
            .user_agent(concat!("flowlake/", env!("CARGO_PKG_VERSION")));
        if let Some(file) = &options.ca_file {
            let certs = crate::tls::ca_certificates(file)?
                .iter()
                .map(|c| reqwest::Certificate::from_der(c))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| format!("store.ca_file {}: {e}", file.display()))?;
            builder = builder.tls_certs_only(certs);
        }
        let http = builder.build().map_err(|e| e.to_string())?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Self {
            http,
            runtime,
            base,
            database: options.database.clone(),
            user: options.user.clone(),
            password: options.password.clone(),
            retry: options.retry,
            compress: options.compress,
            read_only: false,
        })
    }

    /// From now on sends every statement as a `GET`, which ClickHouse runs read-only: what a read-only or
    /// sandboxed store runs cannot write, whatever the user may.
    pub(super) fn set_read_only(&mut self) {
        self.read_only = true;
    }

    /// The database statements run in.
    pub(super) fn database(&self) -> &str {
        &self.database
    }

    /// Runs `sql` (the query text in the body) in the store's database; the answer's body.
    pub(super) fn run(&self, sql: &str, context: &str) -> Result<Vec<u8>, StoreError> {
        self.send(sql, None, &[], true, context)
    }

    /// Runs `sql` with `settings` (URL parameters); in the store's database unless `in_database` is false
    /// (creating it).
    pub(super) fn send(
        &self,
        sql: &str,
        data: Option<&[u8]>,
        settings: &[(&str, String)],
        in_database: bool,
        context: &str,
    ) -> Result<Vec<u8>, StoreError> {
        self.try_send(sql, data, settings, in_database)
            .map_err(|f| StoreError::Sql {
                context: context.to_string(),
                message: self.message(&f),
            })
    }

    /// `f`'s text; for no answer, with the server it came from and what that means for the sync: each step
    /// of a load is idempotent and the page's cursor is saved after its rows, so the next sync loads the page
    /// again.
    fn message(&self, f: &Failure) -> String {
        match f {
            Failure::Server { .. } => f.text().to_string(),
            Failure::Transport(text) => format!(
                "{text}: no answer from the ClickHouse server at {} after {} tries (is it running there?); \
                 the page's cursor was not saved, so the next sync loads it again",
                self.base.as_str().trim_end_matches('/'),
                self.retry.tries
            ),
        }
    }

    /// As [`Http::send`], with the failure as it came. With `data`, `sql` goes in the URL and `data` is the
    /// body (an `INSERT … FORMAT RowBinary`'s rows); without, `sql` is the body.
    pub(super) fn try_send(
        &self,
        sql: &str,
        data: Option<&[u8]>,
        settings: &[(&str, String)],
        in_database: bool,
    ) -> Result<Vec<u8>, Failure> {
        let mut out = Vec::new();
        let mut sink = |chunk: &[u8]| {
            out.extend_from_slice(chunk);
            Ok(())
        };
        match self.with_retries(sql, data, settings, in_database, &mut sink) {
            Ok(()) => Ok(out),
            Err(Attempt::Failed(f, _)) => Err(f),
            Err(Attempt::Sink(e)) => Err(Failure::Transport(e.to_string())),
        }
    }

    /// Runs `sql` (a query in the store's database) and hands each line of the answer to `f` as it arrives,
    /// so a long answer is never held whole here. Tried again only while nothing was handed over.
    pub(super) fn each_line(
        &self,
        sql: &str,
        settings: &[(&str, String)],
        context: &str,
        f: &mut dyn FnMut(&[u8]) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let mut pending: Vec<u8> = Vec::new();
        let mut sink = |chunk: &[u8]| {
            pending.extend_from_slice(chunk);
            let mut start = 0;
            while let Some(end) = pending[start..].iter().position(|b| *b == b'\n') {
                f(&pending[start..start + end])?;
                start += end + 1;
            }
            pending.drain(..start);
            Ok(())
        };
        let result = self.with_retries(sql, None, settings, true, &mut sink);
        let failed = |f: Failure| StoreError::Sql {
            context: context.to_string(),
            message: self.message(&f),
        };
        match result {
            Ok(()) if pending.iter().all(u8::is_ascii_whitespace) => Ok(()),
            Ok(()) => f(&pending),
            Err(Attempt::Failed(e, _)) => Err(failed(e)),
            Err(Attempt::Sink(e)) => Err(e),
        }
    }

    /// Sends the request, trying again with backoff while the failure is transient and nothing of the
    /// answer went to `sink`.
    fn with_retries(
        &self,
        sql: &str,
        data: Option<&[u8]>,
        settings: &[(&str, String)],
        in_database: bool,
        sink: &mut dyn FnMut(&[u8]) -> Result<(), StoreError>,
    ) -> Result<(), Attempt> {
        if self.read_only && data.is_some() {
            // A body of rows needs a POST, which ClickHouse would run with the user's rights.
            let message = "the store is open read-only (readonly): nothing is inserted".to_string();
            return Err(Attempt::Failed(
                Failure::Server { code: 164, message },
                false,
            ));
        }
        let mut url = self.base.clone();
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("wait_end_of_query", "1");
            if data.is_some() || self.read_only {
                q.append_pair("query", sql);
            }
            for (k, v) in settings {
                q.append_pair(k, v);
            }
        }
        let gzip = self.compress && data.is_some();
        let body: Vec<u8> = match data {
            Some(d) if gzip => gzipped(d).map_err(|e| {
                // Not sent, so not the server's failure: code 0, and no "no answer" text.
                let message = format!("compressing the rows to send: {e}");
                Attempt::Failed(Failure::Server { code: 0, message }, false)
            })?,
            Some(d) => d.to_vec(),
            None if self.read_only => Vec::new(),
            None => sql.as_bytes().to_vec(),
        };
        let mut tried = 0;
        loop {
            tried += 1;
            match self.once(&url, body.clone(), gzip, in_database, sink) {
                Err(Attempt::Failed(failure, true)) if tried < self.retry.tries.max(1) => {
                    let wait = self.retry.delay(tried);
                    tracing::warn!(
                        try_ = tried,
                        wait_ms = wait.as_millis() as u64,
                        error = %failure.text(),
                        "ClickHouse request failed; trying again"
                    );
                    std::thread::sleep(wait);
                }
                other => return other,
            }
        }
    }

    /// One request (its body gzip-compressed if `gzip`), its answer streamed to `sink`; or the failure and
    /// whether a later try may succeed (not once part of the answer went to `sink`).
    fn once(
        &self,
        url: &Url,
        body: Vec<u8>,
        gzip: bool,
        in_database: bool,
        sink: &mut dyn FnMut(&[u8]) -> Result<(), StoreError>,
    ) -> Result<(), Attempt> {
        let request = match self.read_only && body.is_empty() {
            true => self.http.get(url.clone()),
            false => self.http.post(url.clone()).body(body),
        };
        let mut request = request.header("X-ClickHouse-User", &self.user);
        if let Some(p) = &self.password {
            request = request.header("X-ClickHouse-Key", p);
        }
        if in_database {
            request = request.header("X-ClickHouse-Database", &self.database);
        }
        if gzip {
            request = request.header(reqwest::header::CONTENT_ENCODING, "gzip");
        }
        let failed = |(f, transient): (Failure, bool)| Attempt::Failed(f, transient);
        self.runtime.block_on(async {
            let mut response = request.send().await.map_err(|e| failed(transport(&e)))?;
            let status = response.status();
            if status.is_success() {
                let mut delivered = false;
                while let Some(chunk) = response
                    .chunk()
                    .await
                    .map_err(|e| failed((transport(&e).0, !delivered)))?
                {
                    delivered = true;
                    sink(&chunk).map_err(Attempt::Sink)?;
                }
                return Ok(());
            }
            let code = response
                .headers()
                .get("X-ClickHouse-Exception-Code")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<u32>().ok());
            let bytes = response.bytes().await.map_err(|e| failed(transport(&e)))?;
            let message = String::from_utf8_lossy(&bytes).trim_end().to_string();
            let message = if message.is_empty() {
                format!("HTTP {status}")
            } else {
                message
            };
            let code = code.or_else(|| exception_code(&message)).unwrap_or(0);
            let transient = matches!(
                status,
                StatusCode::BAD_GATEWAY
                    | StatusCode::SERVICE_UNAVAILABLE
                    | StatusCode::GATEWAY_TIMEOUT
            ) || TRANSIENT_CODES.contains(&code);
            Err(Attempt::Failed(
                Failure::Server { code, message },
                transient,
            ))
        })
    }
}

/// How one request ended when it did not succeed.
enum Attempt {
    /// The server refused it or did not answer; whether a later try may succeed.
    Failed(Failure, bool),
    /// What the answer was handed to failed.
    Sink(StoreError),
}

/// A request that got no answer; worth another try unless the server's certificate was refused (no later try
/// trusts it more). Its text names no URL (reqwest's would).
fn transport(e: &reqwest::Error) -> (Failure, bool) {
    let what = if e.is_connect() {
        "cannot connect"
    } else if e.is_timeout() {
        "timed out"
    } else {
        "the request failed"
    };
    let mut cause = String::new();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        cause = s.to_string();
        source = s.source();
    }
    let text = match cause.is_empty() {
        true => what.to_string(),
        false => format!("{what}: {cause}"),
    };
    let untrusted = untrusted_certificate(&text);
    (Failure::Transport(text), !untrusted)
}

/// Whether a transport failure's text is rustls refusing the server's certificate.
pub(super) fn untrusted_certificate(text: &str) -> bool {
    text.contains("invalid peer certificate")
}

/// `data` gzip-compressed at the fastest level: on a loader feeding a server, CPU is scarcer than bandwidth,
/// and level 1 already shrinks RowBinary of similar rows several times.
fn gzipped(data: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut encoder = GzEncoder::new(
        Vec::with_capacity(data.len() / 4),
        flate2::Compression::fast(),
    );
    encoder.write_all(data)?;
    encoder.finish()
}

/// `N` of a `Code: N. DB::Exception: …` text.
fn exception_code(message: &str) -> Option<u32> {
    message
        .strip_prefix("Code: ")?
        .split('.')
        .next()?
        .trim()
        .parse()
        .ok()
}

/// `s` as a ClickHouse string literal.
pub(super) fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '\0' => out.push_str("\\0"),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_grow_by_the_factor_within_the_jitter() {
        let r = Retry {
            tries: 4,
            base_delay: Duration::from_millis(100),
            factor: 2.0,
            jitter: 0.25,
        };
        for (n, middle) in [(1, 100.0), (2, 200.0), (3, 400.0)] {
            let d = r.delay(n).as_secs_f64() * 1000.0;
            assert!(
                d >= middle * 0.75 - 1.0 && d <= middle * 1.25 + 1.0,
                "{n}: {d}"
            );
        }
    }

    /// A server on loopback answering each request with the next of `answers` (status, exception code,
    /// body); the number of requests it got.
    fn serve(
        answers: Vec<(u16, Option<u32>, &'static str)>,
    ) -> (Url, std::thread::JoinHandle<usize>) {
        use std::io::{BufRead, BufReader, Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = Url::parse(&format!("http://{}", listener.local_addr().unwrap())).unwrap();
        let handle = std::thread::spawn(move || {
            let mut served = 0;
            for (status, code, body) in answers {
                let (stream, _) = listener.accept().unwrap();
                let mut reader = BufReader::new(stream);
                let mut length = 0;
                loop {
                    let mut line = String::new();
                    reader.read_line(&mut line).unwrap();
                    if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                        length = v.trim().parse().unwrap();
                    }
                    if line == "\r\n" {
                        break;
                    }
                }
                let mut request = vec![0; length];
                reader.read_exact(&mut request).unwrap();
                let code = code.map_or_else(String::new, |c| {
                    format!("X-ClickHouse-Exception-Code: {c}\r\n")
                });
                write!(
                    reader.get_mut(),
                    "HTTP/1.1 {status} X\r\n{code}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                )
                .unwrap();
                served += 1;
            }
            served
        });
        (url, handle)
    }

    fn client(url: Url) -> Http {
        let retry = Retry {
            tries: 3,
            base_delay: Duration::from_millis(1),
            factor: 2.0,
            jitter: 0.5,
        };
        let options = ClickHouseOptions {
            user: "u".into(),
            password: Some("pw".into()),
            retry,
            timeout: Duration::from_secs(5),
            ..ClickHouseOptions::new(url.as_str(), "db")
        };
        Http::new(url, &options).unwrap()
    }

    #[test]
    fn an_unavailable_server_is_tried_again_and_a_bad_query_is_not() {
        let (url, server) = serve(vec![
            (503, None, "busy"),
            (
                500,
                Some(202),
                "Code: 202. DB::Exception: Too many simultaneous queries.",
            ),
            (200, None, "1\n"),
        ]);
        let http = client(url);
        assert_eq!(
            http.try_send("SELECT 1", None, &[], true).ok(),
            Some(b"1\n".to_vec())
        );
        assert_eq!(server.join().unwrap(), 3);

        let (url, server) = serve(vec![(
            404,
            Some(60),
            "Code: 60. DB::Exception: Unknown table x.",
        )]);
        let http = client(url);
        match http.try_send("SELECT * FROM x", None, &[], true) {
            Err(Failure::Server { code, message }) => {
                assert_eq!(code, 60);
                assert!(message.starts_with("Code: 60. DB::Exception"), "{message}");
            }
            _ => panic!("a bad query fails"),
        }
        assert_eq!(server.join().unwrap(), 1, "tried once");
    }

    #[test]
    fn literals_escape_quotes_and_backslashes() {
        assert_eq!(quote(r"it's a \ test"), r"'it\'s a \\ test'");
    }

    #[test]
    fn the_code_of_an_exception_text_is_read() {
        assert_eq!(
            exception_code("Code: 81. DB::Exception: Database x does not exist."),
            Some(81)
        );
        assert_eq!(exception_code("HTTP 502"), None);
    }
}
