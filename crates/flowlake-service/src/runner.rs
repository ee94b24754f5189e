//! What the service asks of the program it serves: run a job, say whether the store is ready, make a
//! metrics report. The binary implements it over the configured store and sources; tests implement it
//! with fakes, so the daemon and the routes are tested without any store.

use flowlake_engine::config::JobConfig;
use flowlake_engine::sync::{StopSignal, SyncReport};
use serde::Deserialize;

/// How one run of a job ended.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct JobOutcome {
    /// The report of each source it synced (a rebuild has none).
    pub reports: Vec<SyncReport>,
    /// Why it failed, naming each failed source; `None` when it succeeded.
    pub error: Option<String>,
    /// The sources that failed, when the failure was theirs (empty when the job as a whole failed, or
    /// none did).
    pub failed_sources: Vec<String>,
}

impl JobOutcome {
    /// Whether a stop ended it early.
    pub fn stopped(&self) -> bool {
        self.reports.iter().any(|r| r.stopped)
    }
}

/// The filters of `/api/v1/metrics`: `flowlake metrics`'s options, as query parameters.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ReportQuery {
    /// First day of the range.
    pub from: Option<chrono::NaiveDate>,
    /// Last day of the range (default today).
    pub to: Option<chrono::NaiveDate>,
    /// Days of the range when `from` is not given (default 90).
    pub days: Option<u32>,
    /// Only items of this source.
    pub source: Option<String>,
    /// Only items of this project.
    pub project: Option<String>,
    /// Only items of this type.
    #[serde(rename = "type")]
    pub item_type: Option<String>,
    /// Only items assigned to this person.
    pub assignee: Option<String>,
    /// `day` or `week` (default) throughput buckets.
    pub by: Option<String>,
    /// How many of the oldest open items to list (default 5).
    pub top: Option<usize>,
    /// The report's "now" (RFC 3339), as `--as-of`.
    pub as_of: Option<chrono::DateTime<chrono::Utc>>,
}

/// Why a report could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReportFailure {
    /// The query is wrong (a filter that matches nothing, a reversed range): the caller can fix it.
    #[error("{0}")]
    BadQuery(String),
    /// The store could not answer.
    #[error("{0}")]
    Store(String),
}

/// The program a service runs jobs of and serves.
pub trait JobRunner: Send + Sync + 'static {
    /// Runs `job` to its end, or to the first page boundary after `stop` is asked.
    fn run(&self, job: &JobConfig, stop: &StopSignal) -> JobOutcome;

    /// `Ok` when the store can be reached and its schema is current; else why not.
    fn ready(&self) -> Result<(), String>;

    /// The `flowlake metrics` report for `query`, as the JSON text `--format json` prints (its keys in
    /// the order the table reads).
    fn report(&self, query: &ReportQuery) -> Result<String, ReportFailure>;

    /// Whether jobs may run side by side: false for a store with one writer (DuckDB).
    fn concurrent_jobs(&self) -> bool;
}
