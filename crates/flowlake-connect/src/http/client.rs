//! The request loop: limiter, concurrency bound, send, classify, wait or back off, record.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use rand::rngs::SmallRng;
use rand::{RngExt, SeedableRng};
use tokio::sync::Semaphore;

use super::rate_limit::{classify, wait_before_next, Verdict};
use super::record::{Recorder, Replay};
use super::{
    redact_url, HttpConfig, HttpError, HttpObserver, Request, RequestStats, Response, Tape,
    Validators,
};

/// Rate-limit waits one request may go through before giving up.
const MAX_RATE_LIMIT_WAITS: u32 = 20;

/// An async client for one API. Cheap to clone; clones share limits, validators and counters.
#[derive(Clone)]
pub struct HttpClient {
    inner: Arc<Inner>,
}

struct Inner {
    config: HttpConfig,
    http: reqwest::Client,
    limiter: Option<DefaultDirectRateLimiter>,
    permits: Semaphore,
    validators: Mutex<Validators>,
    stats: Mutex<BTreeMap<String, RequestStats>>,
    paused_until: Mutex<Option<Instant>>,
    recorder: Option<Recorder>,
    replay: Option<Replay>,
    observer: Arc<dyn HttpObserver>,
}

impl std::fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpClient")
            .field("base_url", &redact_url(&self.inner.config.base_url))
            .finish_non_exhaustive()
    }
}

/// Outcome of one attempt: a response, or a transient failure worth retrying.
type Attempt = Result<Response, String>;

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// The API's own message: the JSON `message` (GitHub, GitLab), `errorMessages` (Jira), or the body's start.
fn api_message(body: &str) -> String {
    if let Ok(v) = serde_json::from_str::<serde_json::Value>(body) {
        if let Some(m) = v.get("message").and_then(|m| m.as_str()) {
            return m.to_string();
        }
        if let Some(m) = v.get("errorMessages").and_then(|m| m.as_array()) {
            return m
                .iter()
                .filter_map(|x| x.as_str())
                .collect::<Vec<_>>()
                .join("; ");
        }
    }
    body.chars().take(200).collect()
}

impl HttpClient {
    /// A client for `config`; waits are reported to `observer`.
    pub fn new(config: HttpConfig, observer: Arc<dyn HttpObserver>) -> Result<Self, HttpError> {
        let build_err = |e: &dyn std::fmt::Display| HttpError::Request {
            url: redact_url(&config.base_url),
            message: e.to_string(),
        };
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(Duration::from_secs(10))
            .user_agent(concat!("flowlake/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| build_err(&e))?;
        let limiter = config
            .requests_per_second
            .filter(|r| *r > 0.0)
            .and_then(|r| Quota::with_period(Duration::from_secs_f64(1.0 / r)))
            .map(RateLimiter::direct);
        let (recorder, replay) = match &config.tape {
            Tape::Off => (None, None),
            Tape::Record(dir) => (Some(Recorder::new(dir)?), None),
            Tape::Replay(dir) => (None, Some(Replay::load(dir)?)),
            Tape::ReplayLines(text) => (None, Some(Replay::from_lines("embedded tape", text)?)),
        };
        Ok(Self {
            inner: Arc::new(Inner {
                permits: Semaphore::new(config.max_concurrency.max(1)),
                config,
                http,
                limiter,
                validators: Mutex::new(Validators::default()),
                stats: Mutex::new(BTreeMap::new()),
                paused_until: Mutex::new(None),
                recorder,
                replay,
                observer,
            }),
        })
    }

    /// `url` joined to the base URL unless it is absolute already.
    pub fn absolute(&self, url: &str) -> String {
        if url.starts_with("http://") || url.starts_with("https://") {
            url.to_string()
        } else {
            format!(
                "{}/{}",
                self.inner.config.base_url.trim_end_matches('/'),
                url.trim_start_matches('/')
            )
        }
    }

    /// Requests per label so far.
    pub fn stats(&self) -> BTreeMap<String, RequestStats> {
        self.inner
            .stats
            .lock()
            .map(|s| s.clone())
            .unwrap_or_default()
    }

    /// Validators seen so far (to keep between runs).
    pub fn validators(&self) -> Validators {
        self.inner
            .validators
            .lock()
            .map(|v| v.clone())
            .unwrap_or_default()
    }

    /// Validators from an earlier run.
    pub fn set_validators(&self, validators: Validators) {
        if let Ok(mut v) = self.inner.validators.lock() {
            *v = validators;
        }
    }

    fn count(&self, label: &str, f: impl FnOnce(&mut RequestStats)) {
        if let Ok(mut s) = self.inner.stats.lock() {
            f(s.entry(label.to_string()).or_default());
        }
    }

    /// Waits out a rate-limit budget an earlier answer said is spent (`remaining: 0`) before sending a
    /// request of `label`: counted like any other rate-limit wait, and refused like one when it is longer
    /// than `max_rate_limit_wait`.
    async fn wait_for_pause(&self, label: &str, shown: &str) -> Result<(), HttpError> {
        let until = self.inner.paused_until.lock().ok().and_then(|p| *p);
        let Some(wait) = until.and_then(|u| u.checked_duration_since(Instant::now())) else {
            return Ok(());
        };
        self.wait_for_limit(
            label,
            shown,
            wait,
            "rate limit budget spent; waiting for the reset",
        )
        .await
    }

    /// One rate-limit wait: refused when longer than `max_rate_limit_wait`, else counted, reported and slept.
    async fn wait_for_limit(
        &self,
        label: &str,
        shown: &str,
        wait: Duration,
        reason: &'static str,
    ) -> Result<(), HttpError> {
        let seconds = wait.as_secs_f64().ceil() as u64;
        if wait > self.inner.config.max_rate_limit_wait {
            return Err(HttpError::RateLimited {
                url: shown.to_string(),
                wait_seconds: seconds,
                max_seconds: self.inner.config.max_rate_limit_wait.as_secs(),
            });
        }
        self.count(label, |s| {
            s.rate_limit_waits += 1;
            s.rate_limit_wait_seconds += seconds;
        });
        tracing::warn!(url = %shown, seconds = wait.as_secs_f64(), "{reason}; waiting");
        self.inner.observer.waiting(reason, wait);
        tokio::time::sleep(wait).await;
        Ok(())
    }

    fn backoff(&self, attempt: u32) -> Duration {
        let c = &self.inner.config;
        let exp = c
            .backoff_base
            .saturating_mul(2u32.saturating_pow(attempt.saturating_sub(1)));
        let capped = exp.min(c.backoff_max);
        let seed = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos().into());
        capped.mul_f64(SmallRng::seed_from_u64(seed).random_range(0.5..=1.0))
    }

    /// Sends `request`, waiting out rate limits and retrying transient failures; returns the first final
    /// response (2xx or 304) or the error that ended it.
    pub async fn send(&self, mut request: Request) -> Result<Response, HttpError> {
        request.url = self.absolute(&request.url);
        let shown = redact_url(&request.url);
        let (mut attempts, mut waits) = (0u32, 0u32);
        loop {
            self.wait_for_pause(&request.label, &shown).await?;
            if let Some(l) = &self.inner.limiter {
                l.until_ready().await;
            }
            let attempt = {
                let _permit =
                    self.inner
                        .permits
                        .acquire()
                        .await
                        .map_err(|e| HttpError::Request {
                            url: shown.clone(),
                            message: e.to_string(),
                        })?;
                self.count(&request.label, |s| s.requests += 1);
                match &self.inner.replay {
                    Some(replay) => Ok(replay.answer(&request)?),
                    None => self.exchange(&request).await?,
                }
            };
            let failure = match attempt {
                Err(transient) => transient,
                Ok(response) => {
                    if let Some(rec) = &self.inner.recorder {
                        rec.save(&request, &response)?;
                    }
                    let now = unix_now();
                    match classify(response.status, &response.headers, &response.body, now) {
                        Verdict::Done => match self.accept(&request, response, now) {
                            Ok(r) => return Ok(r),
                            Err(transient) => transient,
                        },
                        Verdict::Wait(wait, reason) => {
                            waits += 1;
                            if waits > MAX_RATE_LIMIT_WAITS {
                                return Err(HttpError::Exhausted {
                                    url: shown,
                                    attempts: attempts + waits,
                                    last: reason.into(),
                                });
                            }
                            self.wait_for_limit(&request.label, &shown, wait, reason)
                                .await?;
                            continue;
                        }
                        Verdict::Retry(why) => why,
                        Verdict::Fail => {
                            return Err(HttpError::Status {
                                method: request.method.clone(),
                                url: shown,
                                status: response.status,
                                message: api_message(&response.body),
                            })
                        }
                    }
                }
            };
            attempts += 1;
            if attempts >= self.inner.config.max_attempts.max(1) {
                return Err(HttpError::Exhausted {
                    url: shown,
                    attempts,
                    last: failure,
                });
            }
            let pause = self.backoff(attempts);
            tracing::debug!(url = %shown, attempt = attempts, error = %failure, ms = pause.as_millis() as u64, "retrying");
            self.count(&request.label, |s| s.retries += 1);
            tokio::time::sleep(pause).await;
        }
    }

    /// A final response: checks the body is whole, keeps validators and any reset to wait for.
    fn accept(&self, request: &Request, response: Response, now: i64) -> Attempt {
        if response.not_modified() {
            self.count(&request.label, |s| s.not_modified += 1);
            return Ok(response);
        }
        let is_json = response
            .header("content-type")
            .is_some_and(|t| t.contains("json"));
        if is_json && serde_json::from_str::<serde::de::IgnoredAny>(&response.body).is_err() {
            return Err("truncated or malformed JSON body".into());
        }
        if request.method == "GET" {
            let etag = response.header("etag").map(str::to_string);
            let modified = response.header("last-modified").map(str::to_string);
            if etag.is_some() || modified.is_some() {
                if let Ok(mut v) = self.inner.validators.lock() {
                    v.by_url.insert(redact_url(&request.url), (etag, modified));
                }
            }
        }
        if let Some(wait) = wait_before_next(&response.headers, now) {
            if let Ok(mut p) = self.inner.paused_until.lock() {
                *p = Some(Instant::now() + wait);
            }
        }
        Ok(response)
    }

    /// One round trip. Transport failures that may pass are `Ok(Err(..))`; a request that cannot be built is
    /// an error.
    async fn exchange(&self, request: &Request) -> Result<Attempt, HttpError> {
        let c = &self.inner.config;
        let method = reqwest::Method::from_bytes(request.method.as_bytes()).map_err(|e| {
            HttpError::Request {
                url: redact_url(&request.url),
                message: e.to_string(),
            }
        })?;
        let mut builder = self.inner.http.request(method, &request.url);
        for (k, v) in &c.headers {
            builder = builder.header(k, v);
        }
        if let Some(token) = &c.token {
            builder = builder.header(
                reqwest::header::AUTHORIZATION,
                format!("{} {}", c.auth_scheme, token.expose()),
            );
        }
        if request.conditional {
            let known = self
                .inner
                .validators
                .lock()
                .ok()
                .and_then(|v| v.by_url.get(&redact_url(&request.url)).cloned());
            if let Some((etag, modified)) = known {
                if let Some(e) = etag {
                    builder = builder.header(reqwest::header::IF_NONE_MATCH, e);
                }
                if let Some(m) = modified {
                    builder = builder.header(reqwest::header::IF_MODIFIED_SINCE, m);
                }
            }
        }
        if let Some(body) = &request.body {
            builder = builder
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body.clone());
        }
        let sent = match builder.send().await {
            Ok(r) => r,
            Err(e) if e.is_builder() => {
                return Err(HttpError::Request {
                    url: redact_url(&request.url),
                    message: e.to_string(),
                })
            }
            Err(e) => return Ok(Err(transport_failure("request failed", e))),
        };
        let status = sent.status().as_u16();
        let final_url = sent.url().to_string();
        let headers = joined_headers(sent.headers());
        let body = match sent.text().await {
            Ok(b) => b,
            Err(e) => return Ok(Err(transport_failure("reading the body failed", e))),
        };
        Ok(Ok(Response {
            status,
            redirected_from: (final_url != request.url).then(|| request.url.clone()),
            url: final_url,
            headers,
            body,
        }))
    }
}

/// A transport failure in words that say what happened: reqwest's own message (`error sending request`)
/// names no cause, which is at the end of its source chain (`tcp connect error: Connection refused`,
/// `dns error: failed to lookup address information`, `operation timed out`), so the chain is appended.
fn transport_failure(what: &str, e: reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else {
        what
    };
    let e = e.without_url();
    let mut parts: Vec<String> = vec![e.to_string()];
    let mut cause = std::error::Error::source(&e);
    while let Some(c) = cause {
        let text = c.to_string();
        // hyper-util wraps causes in `client error (Connect)`, which says nothing the next link does not.
        if !text.starts_with("client error (") && !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        cause = c.source();
    }
    format!("{kind}: {}", parts.join(": "))
}

/// Response headers by lower-case name. A header sent several times (Yandex Tracker sends `Link: <…>;
/// rel="first"` and `Link: <…>; rel="next"` as two headers) keeps every value, joined by `, ` as HTTP allows
/// for list-valued fields (RFC 9110 §5.3), instead of only the last one.
fn joined_headers(headers: &reqwest::header::HeaderMap) -> BTreeMap<String, String> {
    let mut out: BTreeMap<String, String> = BTreeMap::new();
    for (name, value) in headers {
        let Ok(value) = value.to_str() else { continue };
        out.entry(name.as_str().to_ascii_lowercase())
            .and_modify(|v| {
                v.push_str(", ");
                v.push_str(value);
            })
            .or_insert_with(|| value.to_string());
    }
    out
}

/// The client at the synchronous engine's edge: its own single-threaded runtime, blocking calls.
pub struct BlockingClient {
    runtime: tokio::runtime::Runtime,
    client: HttpClient,
}

impl std::fmt::Debug for BlockingClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.client.fmt(f)
    }
}

impl BlockingClient {
    /// A blocking client for `config`.
    pub fn new(config: HttpConfig, observer: Arc<dyn HttpObserver>) -> Result<Self, HttpError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| HttpError::Request {
                url: redact_url(&config.base_url),
                message: format!("starting the I/O runtime: {e}"),
            })?;
        Ok(Self {
            runtime,
            client: HttpClient::new(config, observer)?,
        })
    }

    /// The async client inside.
    pub fn client(&self) -> &HttpClient {
        &self.client
    }

    /// Sends one request.
    pub fn send(&self, request: Request) -> Result<Response, HttpError> {
        self.runtime.block_on(self.client.send(request))
    }

    /// Sends many requests concurrently (up to `max_concurrency` in flight); results in request order.
    pub fn send_all(&self, requests: Vec<Request>) -> Vec<Result<Response, HttpError>> {
        self.runtime.block_on(async {
            let mut set = tokio::task::JoinSet::new();
            let n = requests.len();
            for (i, r) in requests.into_iter().enumerate() {
                let c = self.client.clone();
                set.spawn(async move { (i, c.send(r).await) });
            }
            let mut out: Vec<Option<Result<Response, HttpError>>> = (0..n).map(|_| None).collect();
            while let Some(joined) = set.join_next().await {
                if let Ok((i, r)) = joined {
                    out[i] = Some(r);
                }
            }
            out.into_iter()
                .map(|r| {
                    r.unwrap_or_else(|| {
                        Err(HttpError::Request {
                            url: String::new(),
                            message: "request task failed".into(),
                        })
                    })
                })
                .collect()
        })
    }
}
