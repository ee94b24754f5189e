//! `flowlake run` and `flowlake serve`: the `[service]` section (the HTTP server, how many jobs at once, the
//! grace period, retries) and the `[[jobs]]` list (what runs when).

use std::collections::HashSet;
use std::path::PathBuf;
use std::time::Duration;

use chrono::NaiveDate;
use chrono_tz::Tz;
use flowlake_core::KeyDocs;
use serde::{Deserialize, Serialize};

use super::unfit::Unfit;
use crate::schedule::Schedule;

/// The long-running service: its HTTP server and how it runs jobs.
#[derive(Clone, PartialEq, Serialize, Deserialize, KeyDocs)]
#[serde(deny_unknown_fields, default)]
pub struct ServiceConfig {
    /// The address the HTTP server listens on. Default `127.0.0.1:8080`: this machine only; put a proxy
    /// with TLS in front, or `0.0.0.0:8080` inside a container.
    pub listen: String,
    /// API tokens: a request to any route but `/healthz` and `/readyz` needs `Authorization: Bearer
    /// <token>` with one of them. Set them with `FLOWLAKE_SERVICE__TOKENS='["…"]'` or `token_file` rather
    /// than in the file. With none, those routes answer 401 to everyone.
    pub tokens: Vec<String>,
    /// A file with one API token per line (blank lines and `#` comments skipped), e.g. a mounted secret;
    /// its tokens are accepted beside `tokens`.
    pub token_file: Option<PathBuf>,
    /// Whether `/metrics` (the Prometheus scrape) needs a token too. Default false: scrapers on the
    /// network you listen on may read job counts and durations.
    pub metrics_need_token: bool,
    /// How many jobs may run at once. Default 1. A DuckDB store has one writer, so its jobs run one at a
    /// time whatever this says; PostgreSQL and ClickHouse take several.
    pub max_concurrent_jobs: usize,
    /// Seconds a SIGTERM or SIGINT waits for running jobs to commit the page they are on and stop; a
    /// second signal stops at once. Default 60.
    pub grace_period_seconds: u64,
    /// Seconds before the first retry of a failed job; each later retry waits twice as long, up to
    /// `retry_max_delay_seconds`, unless its schedule comes first. Default 30.
    pub retry_base_delay_seconds: u64,
    /// The longest wait between retries of a failing job, in seconds. Default 1800.
    pub retry_max_delay_seconds: u64,
    /// Seconds one HTTP request may take before it is answered 503. Default 30.
    pub request_timeout_seconds: u64,
    /// The largest request body accepted, in bytes. Default 65536.
    pub max_request_bytes: usize,
    /// Seconds a metrics report answers again the same query unchanged, unless a job run ended since (it
    /// may have changed the store); 0 makes each one afresh. A report without `as_of` ages open items to
    /// when it was made, so it is at most this old. Default 60.
    pub report_cache_seconds: u64,
    /// A StatsD / DogStatsD agent to push each job's figures to (UDP), e.g. `localhost`. Default: none.
    pub statsd_host: Option<String>,
    /// The agent's UDP port. Default 8125.
    pub statsd_port: u16,
    /// Put before every StatsD name with `_`. Default `flowlake`; `tracker_exporter` gives the names
    /// tracker-exporter sends, for its dashboards.
    pub statsd_prefix: String,
    /// Tags added to every StatsD metric, `key:value` each, e.g. `["env:prod"]`.
    pub statsd_tags: Vec<String>,
    /// A Sentry project's DSN (`https://<key>@o0.ingest.sentry.io/<project id>`): each failed job run is
    /// sent there as an event tagged with the job, its kind, the failed sources and the run id. Set it with
    /// `FLOWLAKE_SERVICE__SENTRY_DSN` rather than in the file. Default: none.
    pub sentry_dsn: Option<String>,
    /// The `environment` of the Sentry events, e.g. `production`. Default: Sentry's (`production`, or
    /// `SENTRY_ENVIRONMENT`).
    pub sentry_environment: Option<String>,
}

impl Default for ServiceConfig {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".into(),
            tokens: Vec::new(),
            token_file: None,
            metrics_need_token: false,
            max_concurrent_jobs: 1,
            grace_period_seconds: 60,
            retry_base_delay_seconds: 30,
            retry_max_delay_seconds: 1800,
            request_timeout_seconds: 30,
            max_request_bytes: 65536,
            report_cache_seconds: 60,
            statsd_host: None,
            statsd_port: 8125,
            statsd_prefix: "flowlake".into(),
            statsd_tags: Vec::new(),
            sentry_dsn: None,
            sentry_environment: None,
        }
    }
}

impl std::fmt::Debug for ServiceConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceConfig")
            .field("listen", &self.listen)
            .field("tokens", &format_args!("<{} set>", self.tokens.len()))
            .field("token_file", &self.token_file)
            .field("metrics_need_token", &self.metrics_need_token)
            .field("max_concurrent_jobs", &self.max_concurrent_jobs)
            .field("grace_period_seconds", &self.grace_period_seconds)
            .field("retry_base_delay_seconds", &self.retry_base_delay_seconds)
            .field("retry_max_delay_seconds", &self.retry_max_delay_seconds)
            .field("request_timeout_seconds", &self.request_timeout_seconds)
            .field("max_request_bytes", &self.max_request_bytes)
            .field("report_cache_seconds", &self.report_cache_seconds)
            .field("statsd_host", &self.statsd_host)
            .field("statsd_port", &self.statsd_port)
            .field("statsd_prefix", &self.statsd_prefix)
            .field("statsd_tags", &self.statsd_tags)
            .field("sentry_dsn", &self.sentry_dsn.as_ref().map(|_| "<set>"))
            .field("sentry_environment", &self.sentry_environment)
            .finish()
    }
}

impl ServiceConfig {
    /// Every accepted API token: `tokens` and the lines of `token_file`.
    pub fn api_tokens(&self) -> Result<Vec<String>, String> {
        let mut tokens: Vec<String> = self
            .tokens
            .iter()
            .filter(|t| !t.is_empty())
            .cloned()
            .collect();
        if let Some(file) = &self.token_file {
            let text = std::fs::read_to_string(file)
                .map_err(|e| format!("service.token_file {}: {e}", file.display()))?;
            tokens.extend(
                text.lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty() && !l.starts_with('#'))
                    .map(str::to_string),
            );
        }
        Ok(tokens)
    }

    /// The grace period of a stop.
    pub fn grace_period(&self) -> Duration {
        Duration::from_secs(self.grace_period_seconds)
    }

    pub(super) fn validate(&self) -> Result<(), Unfit> {
        let host_and_port = self
            .listen
            .rsplit_once(':')
            .is_some_and(|(host, port)| !host.is_empty() && port.parse::<u16>().is_ok());
        if self.listen.parse::<std::net::SocketAddr>().is_err() && !host_and_port {
            return Err(Unfit::new(
                "service.listen",
                format!(
                    "`{}` is not an address and port, e.g. `127.0.0.1:8080` or `localhost:8080`",
                    self.listen
                ),
            ));
        }
        if self.max_concurrent_jobs == 0 {
            return Err(Unfit::new(
                "service.max_concurrent_jobs",
                "0 would run nothing; at least 1",
            ));
        }
        for (key, v) in [
            (
                "service.retry_base_delay_seconds",
                self.retry_base_delay_seconds,
            ),
            (
                "service.request_timeout_seconds",
                self.request_timeout_seconds,
            ),
        ] {
            if v == 0 {
                return Err(Unfit::new(key, "must be at least 1"));
            }
        }
        if let Some(bad) = self
            .statsd_tags
            .iter()
            .position(|t| t.is_empty() || t.contains(['|', ',', '#']))
        {
            return Err(Unfit::new(
                format!("service.statsd_tags[{bad}]"),
                format!(
                    "`{}`: a tag is `key:value`, without `|`, `,` or `#`",
                    self.statsd_tags[bad]
                ),
            ));
        }
        if self.retry_max_delay_seconds < self.retry_base_delay_seconds {
            return Err(Unfit::new(
                "service.retry_max_delay_seconds",
                format!(
                    "{} is below retry_base_delay_seconds ({})",
                    self.retry_max_delay_seconds, self.retry_base_delay_seconds
                ),
            ));
        }
        Ok(())
    }
}

/// What a job does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobKind {
    /// `flowlake sync` of its sources.
    Sync,
    /// `flowlake backfill` of its sources over `from` … today.
    Backfill,
    /// `flowlake rebuild`: every table recomputed from the raw landing table.
    Rebuild,
}

impl JobKind {
    /// The name the config gives it (`sync`, `backfill`, `rebuild`), for tags and labels.
    pub fn name(self) -> &'static str {
        match self {
            Self::Sync => "sync",
            Self::Backfill => "backfill",
            Self::Rebuild => "rebuild",
        }
    }
}

/// One scheduled job of `flowlake run`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, KeyDocs)]
#[serde(deny_unknown_fields)]
pub struct JobConfig {
    /// The job's name, unique: the API (`POST /api/v1/jobs/{name}/run`), logs and metrics use it.
    pub name: String,
    /// What it runs: `sync` (the default), `backfill` or `rebuild`.
    #[serde(default = "sync_kind")]
    pub kind: JobKind,
    /// The sources it runs (`sync`, `backfill`), by name. Default: every configured source.
    #[serde(default)]
    pub sources: Vec<String>,
    /// When it runs: `@every 30m` (humantime units: `10s`, `1h 30m`), or a cron expression (minute hour
    /// day-of-month month day-of-week, e.g. `0 5 * * *`; six fields with seconds first; or `@daily`,
    /// `@hourly`) read in `time_zone`.
    pub schedule: String,
    /// The time zone of a cron schedule's hours (IANA name). Default `UTC`.
    #[serde(default = "utc")]
    pub time_zone: String,
    /// Whether it also runs once when the daemon starts, before its first scheduled time. Default false.
    #[serde(default)]
    pub on_start: bool,
    /// `sync`: ignore the saved cursors and read everything again. Default false.
    #[serde(default)]
    pub full_refresh: bool,
    /// `backfill`: the first creation date of the range; it ends today (UTC).
    #[serde(default)]
    pub from: Option<NaiveDate>,
    /// `backfill`: days per window. Default 30.
    #[serde(default = "thirty")]
    pub window_days: u32,
}

fn sync_kind() -> JobKind {
    JobKind::Sync
}

fn utc() -> String {
    "UTC".into()
}

fn thirty() -> u32 {
    30
}

impl JobConfig {
    /// The job's schedule, read in its time zone.
    pub fn schedule(&self) -> Result<Schedule, String> {
        let tz: Tz = self
            .time_zone
            .parse()
            .map_err(|_| format!("`{}` is not an IANA time zone", self.time_zone))?;
        Schedule::parse(&self.schedule, tz).map_err(|e| e.to_string())
    }
}

/// Checks the jobs against each other and the sources: names unique and usable in a URL, schedules valid,
/// the sources they name configured.
pub(super) fn validate_jobs(jobs: &[JobConfig], sources: &[&str]) -> Result<(), Unfit> {
    let mut names = HashSet::new();
    for (i, job) in jobs.iter().enumerate() {
        let at = |key: &str| format!("jobs[{i}].{key}");
        if job.name.is_empty()
            || !job
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        {
            return Err(Unfit::new(
                at("name"),
                format!(
                    "`{}` must be non-empty, of letters, digits, `-`, `_` and `.` (it goes in URLs)",
                    job.name
                ),
            ));
        }
        if !names.insert(job.name.as_str()) {
            return Err(Unfit::new(
                at("name"),
                format!("`{}` is used by two jobs", job.name),
            ));
        }
        if job.time_zone.parse::<Tz>().is_err() {
            return Err(Unfit::new(
                at("time_zone"),
                format!(
                    "`{}` is not an IANA time zone (e.g. `Europe/Berlin`)",
                    job.time_zone
                ),
            ));
        }
        job.schedule()
            .map_err(|e| Unfit::new(at("schedule"), format!("job `{}`: {e}", job.name)))?;
        for (j, s) in job.sources.iter().enumerate() {
            if !sources.contains(&s.as_str()) {
                return Err(Unfit::new(
                    format!("jobs[{i}].sources[{j}]"),
                    format!(
                        "job `{}`: no source named `{s}` (configured: {})",
                        job.name,
                        if sources.is_empty() {
                            "none".to_string()
                        } else {
                            sources.join(", ")
                        }
                    ),
                ));
            }
        }
        match job.kind {
            JobKind::Backfill if job.from.is_none() => {
                return Err(Unfit::new(
                    at("from"),
                    format!(
                        "job `{}`: a backfill needs `from`, its first day (e.g. 2024-01-01)",
                        job.name
                    ),
                ));
            }
            JobKind::Backfill if job.window_days == 0 => {
                return Err(Unfit::new(at("window_days"), "must be at least 1"));
            }
            JobKind::Rebuild if !job.sources.is_empty() => {
                return Err(Unfit::new(
                    at("sources"),
                    format!(
                        "job `{}`: a rebuild recomputes every source; leave `sources` out",
                        job.name
                    ),
                ));
            }
            _ => {}
        }
    }
    Ok(())
}
