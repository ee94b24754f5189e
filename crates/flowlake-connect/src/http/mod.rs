//! The HTTP engine every API connector shares: authentication, retries with backoff and jitter, rate-limit
//! waits, a client-side request rate, bounded concurrency, conditional requests, pagination styles, and
//! recording and replay of exchanges.
//!
//! It is async inside (reqwest on a Tokio runtime) and blocking at its edge ([`BlockingClient`]), because
//! sources are called page by page from the synchronous engine; fan-out (many repositories, nested pages)
//! goes through [`BlockingClient::send_all`], which runs requests concurrently up to the configured bound.

mod client;
mod encode;
mod pager;
mod pagination;
mod rate_limit;
mod record;
mod settings;

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

pub use client::{BlockingClient, HttpClient};
pub use encode::encode_component;
pub use flowlake_core::redact_url;
pub use pager::{item_key, PageGuard, Pager, Stuck, StuckPaging};
pub use pagination::{next_link, Pagination};
pub use rate_limit::{classify, Verdict};
pub use record::{Exchange, Recorder, Replay};
pub(crate) use settings::api_config;
pub use settings::{ApiKeys, ApiSettings};

/// A credential: never printed, logged or recorded.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secret(String);

impl Secret {
    /// Wraps a credential.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The value, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// A token from `file` when set (trimmed; an empty file is an error), else from the environment variable
/// `env`; `None` when neither holds one. Errors name the config key.
pub fn read_token(file: Option<&std::path::Path>, env: &str) -> Result<Option<String>, String> {
    if let Some(path) = file {
        let t = std::fs::read_to_string(path)
            .map_err(|e| format!("token_file: {}: {e}", path.display()))?;
        let t = t.trim();
        if t.is_empty() {
            return Err(format!("token_file: {} is empty", path.display()));
        }
        return Ok(Some(t.to_string()));
    }
    Ok(std::env::var(env)
        .ok()
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty()))
}

/// Recording or replaying exchanges.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Tape {
    /// Talk to the server only.
    #[default]
    Off,
    /// Talk to the server and save every exchange (secrets redacted) into the directory.
    Record(std::path::PathBuf),
    /// Serve saved exchanges from the directory; never touch the network.
    Replay(std::path::PathBuf),
    /// Serve exchanges given as JSON Lines (a tape shipped inside the binary, for demos); never touch the
    /// network.
    ReplayLines(String),
}

/// How a client talks to one API.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// Base URL that relative paths join (GitHub: `https://api.github.com`; Enterprise Server:
    /// `https://HOST/api/v3`).
    pub base_url: String,
    /// The token, sent as `Authorization: <auth_scheme> <token>`.
    pub token: Option<Secret>,
    /// `Bearer` (default) or `token`, `OAuth`, …
    pub auth_scheme: String,
    /// Headers every request carries (`Accept`, API version).
    pub headers: Vec<(String, String)>,
    /// Attempts per request for 5xx, timeouts, dropped connections and truncated bodies. Default 5.
    pub max_attempts: u32,
    /// First backoff; doubled per attempt, with jitter. Default 500 ms.
    pub backoff_base: Duration,
    /// Longest backoff. Default 30 s.
    pub backoff_max: Duration,
    /// Longest rate-limit wait accepted before failing (a reset an hour away). Default 1 h.
    pub max_rate_limit_wait: Duration,
    /// Client-side request rate limit, requests per second. Default none.
    pub requests_per_second: Option<f64>,
    /// Requests in flight at once. Default 4.
    pub max_concurrency: usize,
    /// Timeout of one request, body included. Default 60 s.
    pub timeout: Duration,
    /// Recording or replay.
    pub tape: Tape,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            base_url: String::new(),
            token: None,
            auth_scheme: "Bearer".into(),
            headers: Vec::new(),
            max_attempts: 5,
            backoff_base: Duration::from_millis(500),
            backoff_max: Duration::from_secs(30),
            max_rate_limit_wait: Duration::from_secs(3600),
            requests_per_second: None,
            max_concurrency: 4,
            timeout: Duration::from_secs(60),
            tape: Tape::Off,
        }
    }
}

/// One request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// `GET` or `POST`.
    pub method: String,
    /// Absolute URL, or a path joined to the base URL.
    pub url: String,
    /// JSON body (GraphQL).
    pub body: Option<String>,
    /// Stream the request counts under in the run's report.
    pub label: String,
    /// Send `If-None-Match`/`If-Modified-Since` from the validators seen for this URL.
    pub conditional: bool,
}

impl Request {
    /// A GET of `url`, counted under `label`.
    pub fn get(label: &str, url: impl Into<String>) -> Self {
        Self {
            method: "GET".into(),
            url: url.into(),
            body: None,
            label: label.into(),
            conditional: false,
        }
    }

    /// A POST of a JSON body.
    pub fn post_json(label: &str, url: impl Into<String>, body: String) -> Self {
        Self {
            method: "POST".into(),
            body: Some(body),
            ..Self::get(label, url)
        }
    }

    /// The same request, conditional on the validators seen before.
    pub fn conditional(mut self) -> Self {
        self.conditional = true;
        self
    }
}

/// A response, body read whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// Status code.
    pub status: u16,
    /// The URL finally answered (after redirects).
    pub url: String,
    /// The URL asked for, when a redirect moved it (a transferred issue, a renamed repository).
    pub redirected_from: Option<String>,
    /// Headers, names lower-cased.
    pub headers: BTreeMap<String, String>,
    /// Body bytes as text.
    pub body: String,
}

impl Response {
    /// A header, by lower-case name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }

    /// `304 Not Modified`: the resource has not changed since the validators were taken.
    pub fn not_modified(&self) -> bool {
        self.status == 304
    }

    /// The body as JSON.
    pub fn json<T: serde::de::DeserializeOwned>(&self) -> Result<T, HttpError> {
        serde_json::from_str(&self.body).map_err(|e| HttpError::Body {
            url: redact_url(&self.url),
            message: e.to_string(),
        })
    }
}

/// What a request failed with, after retries and waits.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    /// A status that retrying cannot fix (401, 404, 422, …), with the API's message.
    #[error("{method} {url}: HTTP {status}: {message}")]
    Status {
        /// Method.
        method: String,
        /// URL without secrets.
        url: String,
        /// Status code.
        status: u16,
        /// The API's own message (its JSON `message`), or the start of the body.
        message: String,
    },
    /// Every attempt failed with a transient error.
    #[error(
        "{url}: gave up after {attempts} {}: {last}",
        if *attempts == 1 { "attempt" } else { "attempts" }
    )]
    Exhausted {
        /// URL without secrets.
        url: String,
        /// Attempts made.
        attempts: u32,
        /// The last failure.
        last: String,
    },
    /// The rate limit resets later than the longest wait configured.
    #[error(
        "{url}: rate limited for {wait_seconds} s, longer than max_rate_limit_wait_seconds = {max_seconds}; \
         try again later or raise it"
    )]
    RateLimited {
        /// URL without secrets.
        url: String,
        /// Seconds until the limit resets.
        wait_seconds: u64,
        /// The longest wait configured.
        max_seconds: u64,
    },
    /// A body that is not the JSON expected.
    #[error("{url}: unexpected response body: {message}")]
    Body {
        /// URL without secrets.
        url: String,
        /// What is wrong.
        message: String,
    },
    /// A request that could not be built or sent at all.
    #[error("{url}: {message}")]
    Request {
        /// URL without secrets.
        url: String,
        /// Why.
        message: String,
    },
    /// Recording or replay failed.
    #[error("tape {path}: {message}")]
    Tape {
        /// The file or directory.
        path: String,
        /// Why.
        message: String,
    },
}

/// Requests made under one label during a run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestStats {
    /// Requests sent, retries included.
    pub requests: u64,
    /// Of which answered `304 Not Modified`.
    pub not_modified: u64,
    /// Retries after transient failures.
    pub retries: u64,
    /// Waits for rate limits.
    pub rate_limit_waits: u64,
    /// Seconds spent waiting for rate limits.
    pub rate_limit_wait_seconds: u64,
}

/// Validators seen per URL, for conditional requests. Serializable so a source can keep them between runs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Validators {
    /// URL → (ETag, Last-Modified).
    pub by_url: BTreeMap<String, (Option<String>, Option<String>)>,
}

/// Told about waits, so progress bars can show them.
pub trait HttpObserver: Send + Sync {
    /// The client is about to wait `for_` because of `reason`.
    fn waiting(&self, reason: &str, for_: Duration);
}

/// An observer that only logs.
#[derive(Debug, Default)]
pub struct LogObserver;

impl HttpObserver for LogObserver {
    fn waiting(&self, reason: &str, for_: Duration) {
        tracing::info!(seconds = for_.as_secs_f64(), "{reason}");
    }
}
