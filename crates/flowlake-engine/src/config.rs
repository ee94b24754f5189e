//! `flowlake.toml`: the whole configuration, with environment overrides.
//!
//! Precedence: built-in defaults < the file < `FLOWLAKE_…` environment variables (`__` separates nesting
//! levels, a number indexes a list: `FLOWLAKE_STORE__PATH`, `FLOWLAKE_SOURCES__0__ISSUES`). Unknown keys are
//! errors, and every error names the file and line, or the variable, at fault.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use flowlake_connect::generator::GeneratorConfig;
use flowlake_connect::github::GithubConfig;
use flowlake_connect::gitlab::GitlabConfig;
use flowlake_connect::jira::JiraConfig;
use flowlake_connect::yandex::YandexTrackerConfig;
use flowlake_core::metrics::tracker_exporter::default_closed_statuses;
use flowlake_core::{BusinessCalendar, StandardType, StatusCategory, StatusMap};
use flowlake_store::{
    JsonFileState, RedisState, RedisStateConfig, S3State, S3StateConfig, StateBackend, StoreError,
};
use serde::{Deserialize, Serialize};

use crate::compute::{FlowSettings, ProjectSettings, TrackerExporterSettings};

/// A configuration that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("config {path}: {message}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        message: String,
    },
    /// The file is not valid, at a line.
    #[error("config {path}:{line}:{column}: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What is wrong, naming the key or value.
        message: String,
    },
    /// An environment override is not valid.
    #[error("environment {variable}: {message}")]
    Env {
        /// The variable.
        variable: String,
        /// What is wrong.
        message: String,
    },
    /// Values that parse but do not fit together.
    #[error("config {path}: {message}")]
    Semantic {
        /// The file.
        path: PathBuf,
        /// What is wrong, naming the key.
        message: String,
    },
}

/// The whole configuration.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Where results are stored.
    pub store: StoreConfig,
    /// Where sync cursors are kept.
    pub state: StateConfig,
    /// Working hours for business-time metrics.
    pub calendar: BusinessCalendar,
    /// Status and type mappings for flow metrics.
    pub metrics: MetricsConfig,
    /// tracker-exporter compatible per-status rows.
    pub tracker_exporter: TrackerExporterConfig,
    /// The systems to extract from.
    pub sources: Vec<SourceConfig>,
}

/// The analytical store.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StoreConfig {
    /// Store kind; `duckdb` (embedded, the default) for now.
    pub kind: StoreKind,
    /// DuckDB file. Default `flowlake.duckdb`.
    pub path: PathBuf,
    /// Cap on DuckDB's memory, e.g. `"1GB"`. Default: DuckDB's own (80% of RAM).
    pub memory_limit: Option<String>,
}

impl Default for StoreConfig {
    fn default() -> Self {
        Self {
            kind: StoreKind::Duckdb,
            path: "flowlake.duckdb".into(),
            memory_limit: None,
        }
    }
}

/// Supported stores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StoreKind {
    /// Embedded DuckDB file.
    Duckdb,
}

/// Where sync cursors live.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StateConfig {
    /// `store` (the store's sync_state table, committed with the data; default), `file` (a JSON file),
    /// `s3` (a JSON object written with conditional PUTs) or `redis` (a hash, with a lock per source).
    pub backend: StateBackendKind,
    /// The JSON file, for `backend = "file"`. Default `flowlake-state.json`.
    pub path: PathBuf,
    /// `s3://bucket/key.json` for `s3`; `redis://[user:password@]host:port/db` for `redis`. May hold a
    /// password: set it with `FLOWLAKE_STATE__URL` rather than in the file.
    pub url: Option<String>,
    /// S3: endpoint of an S3-compatible server (MinIO, R2, moto); unset for AWS.
    pub endpoint: Option<String>,
    /// S3: region; unset: `AWS_REGION`, else `us-east-1`.
    pub region: Option<String>,
    /// S3: allow a plain-HTTP endpoint.
    pub allow_http: bool,
    /// Redis: prefix of every key. Default `flowlake`.
    pub key_prefix: String,
    /// Redis: lease of the per-source lock, renewed by every cursor write. Default 600.
    pub lock_ttl_seconds: u64,
}

impl Default for StateConfig {
    fn default() -> Self {
        Self {
            backend: StateBackendKind::Store,
            path: "flowlake-state.json".into(),
            url: None,
            endpoint: None,
            region: None,
            allow_http: false,
            key_prefix: "flowlake".into(),
            lock_ttl_seconds: 600,
        }
    }
}

impl std::fmt::Debug for StateConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StateConfig")
            .field("backend", &self.backend)
            .field("path", &self.path)
            .field("url", &self.url.as_ref().map(|_| "<set>"))
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("allow_http", &self.allow_http)
            .field("key_prefix", &self.key_prefix)
            .field("lock_ttl_seconds", &self.lock_ttl_seconds)
            .finish()
    }
}

impl StateConfig {
    /// The back-end to write cursors to, `None` for the store's own table. Builds clients without I/O.
    pub fn backend(&self) -> Result<Option<Box<dyn StateBackend>>, StoreError> {
        let url = self.url.clone().unwrap_or_default();
        Ok(match self.backend {
            StateBackendKind::Store => None,
            StateBackendKind::File => Some(Box::new(JsonFileState::new(&self.path))),
            StateBackendKind::S3 => Some(Box::new(S3State::new(&S3StateConfig {
                url,
                endpoint: self.endpoint.clone(),
                region: self.region.clone(),
                allow_http: self.allow_http,
                access_key_id: None,
                secret_access_key: None,
            })?)),
            StateBackendKind::Redis => Some(Box::new(RedisState::new(&RedisStateConfig {
                url,
                key_prefix: self.key_prefix.clone(),
                lock_ttl: std::time::Duration::from_secs(self.lock_ttl_seconds.max(1)),
            })?)),
        })
    }

    fn validate(&self) -> Result<(), String> {
        let needs = match self.backend {
            StateBackendKind::S3 => Some(("s3", "s3://")),
            StateBackendKind::Redis => Some(("redis", "redis://")),
            _ => None,
        };
        if let Some((kind, scheme)) = needs {
            match &self.url {
                None => {
                    return Err(format!(
                        "state.url: backend = \"{kind}\" needs a url ({scheme}…)"
                    ))
                }
                Some(u) if !u.starts_with(scheme) => {
                    return Err(format!("state.url: a {kind} url starts with {scheme}"))
                }
                _ => {}
            }
        }
        Ok(())
    }
}

/// State back-ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StateBackendKind {
    /// The store's `sync_state` table.
    Store,
    /// A local JSON file.
    File,
    /// A JSON object on S3 or an S3-compatible server.
    S3,
    /// A Redis hash.
    Redis,
}

/// Mappings used by the flow metrics.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MetricsConfig {
    /// Status name → `todo`, `in_progress` or `done`, overriding the source's own categories.
    pub status_categories: BTreeMap<String, StatusCategory>,
    /// Statuses counted as active work in flow efficiency. Default: every `in_progress` status.
    pub active_statuses: Option<Vec<String>>,
    /// Tracker type name → standard type (`bug`, `feature`, `task`, `epic`, `subtask`, `incident`, `other`).
    pub standard_types: BTreeMap<String, StandardType>,
    /// Per project (Jira project key, Tracker queue, `owner/repo`, GitLab project path): entries that override
    /// the ones above for that project's items, e.g. `[metrics.projects.OPS.status_categories]`.
    pub projects: BTreeMap<String, ProjectMetricsConfig>,
}

/// One project's mapping overrides.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ProjectMetricsConfig {
    /// Status name → category, over the global mapping.
    pub status_categories: BTreeMap<String, StatusCategory>,
    /// The project's active statuses; unset: the global setting.
    pub active_statuses: Option<Vec<String>>,
    /// Type name → standard type, over the global mapping.
    pub standard_types: BTreeMap<String, StandardType>,
}

/// tracker-exporter compatible rows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TrackerExporterConfig {
    /// Whether to compute `tracker_exporter_issue_metrics`. Default true.
    pub enabled: bool,
    /// Snake-cased statuses that count as closed. Default closed, rejected, resolved, cancelled, released.
    pub closed_statuses: Vec<String>,
    /// Its working hours. Default Monday–Friday 09:00–22:00 UTC with Russian holidays, as tracker-exporter.
    pub calendar: BusinessCalendar,
}

impl Default for TrackerExporterConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            closed_statuses: default_closed_statuses(),
            calendar: BusinessCalendar::tracker_exporter(),
        }
    }
}

/// One source block, `[[sources]]` with a `kind`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SourceConfig {
    /// The synthetic tracker.
    Generator(GeneratorConfig),
    /// GitHub (or GitHub Enterprise Server) repositories.
    Github(GithubConfig),
    /// Jira Cloud or Server/Data Center.
    Jira(JiraConfig),
    /// Yandex Tracker.
    YandexTracker(YandexTrackerConfig),
    /// GitLab.
    Gitlab(GitlabConfig),
}

impl SourceConfig {
    /// The source's name.
    pub fn name(&self) -> &str {
        match self {
            Self::Generator(g) => &g.name,
            Self::Github(g) => &g.name,
            Self::Jira(j) => &j.name,
            Self::YandexTracker(y) => &y.name,
            Self::Gitlab(g) => &g.name,
        }
    }

    /// The "now" metrics of this source are computed at: the wall clock for live systems, the simulated end
    /// of history for the generator (so its rows are identical on every run).
    pub fn now(&self, wall_clock: chrono::DateTime<chrono::Utc>) -> chrono::DateTime<chrono::Utc> {
        match self {
            Self::Generator(g) => g.now(),
            Self::Github(_) | Self::Jira(_) | Self::YandexTracker(_) | Self::Gitlab(_) => {
                wall_clock
            }
        }
    }
}

impl Config {
    /// The metric settings this config describes.
    pub fn flow_settings(&self) -> FlowSettings {
        FlowSettings {
            calendar: self.calendar.clone(),
            statuses: StatusMap::new(
                self.metrics
                    .status_categories
                    .iter()
                    .map(|(k, v)| (k.as_str(), *v)),
                self.metrics.active_statuses.clone(),
            ),
            standard_types: self
                .metrics
                .standard_types
                .iter()
                .map(|(k, v)| (k.to_lowercase(), *v))
                .collect(),
            tracker_exporter: self
                .tracker_exporter
                .enabled
                .then(|| TrackerExporterSettings {
                    calendar: self.tracker_exporter.calendar.clone(),
                    closed_statuses: self.tracker_exporter.closed_statuses.clone(),
                }),
            projects: self
                .metrics
                .projects
                .iter()
                .map(|(name, p)| {
                    let statuses = StatusMap::new(
                        self.metrics
                            .status_categories
                            .iter()
                            .chain(&p.status_categories)
                            .map(|(k, v)| (k.as_str(), *v)),
                        p.active_statuses
                            .clone()
                            .or_else(|| self.metrics.active_statuses.clone()),
                    );
                    let standard_types = p
                        .standard_types
                        .iter()
                        .map(|(k, v)| (k.to_lowercase(), *v))
                        .collect();
                    (
                        name.clone(),
                        ProjectSettings {
                            statuses,
                            standard_types,
                        },
                    )
                })
                .collect(),
        }
    }

    /// Parses `text` (the contents of `path`) and applies `env` overrides (`(name, value)` pairs; only those
    /// starting with `FLOWLAKE_` and containing `__` are used).
    pub fn parse(path: &Path, text: &str, env: &[(String, String)]) -> Result<Self, ConfigError> {
        let config: Config = toml::from_str(text).map_err(|e| invalid(path, text, &e))?;
        let overrides: Vec<&(String, String)> = env
            .iter()
            .filter(|(k, _)| k.starts_with("FLOWLAKE_") && k.contains("__"))
            .collect();
        let config = if overrides.is_empty() {
            config
        } else {
            let mut table: toml::Table =
                toml::from_str(text).map_err(|e| invalid(path, text, &e))?;
            for (k, v) in &overrides {
                apply_override(&mut table, k, v)?;
            }
            let names: Vec<&str> = overrides.iter().map(|(k, _)| k.as_str()).collect();
            toml::Value::Table(table)
                .try_into()
                .map_err(|e: toml::de::Error| ConfigError::Env {
                    variable: names.join(", "),
                    message: e.message().to_string(),
                })?
        };
        config.validate(path)?;
        Ok(config)
    }

    /// Reads `path` (defaults when it does not exist and `required` is false) and the process environment.
    pub fn load(path: &Path, required: bool) -> Result<Self, ConfigError> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !required => String::new(),
            Err(e) => {
                return Err(ConfigError::Read {
                    path: path.to_path_buf(),
                    message: e.to_string(),
                })
            }
        };
        let env: Vec<(String, String)> = std::env::vars().collect();
        Self::parse(path, &text, &env)
    }

    fn validate(&self, path: &Path) -> Result<(), ConfigError> {
        let semantic = |message: String| ConfigError::Semantic {
            path: path.to_path_buf(),
            message,
        };
        self.state.validate().map_err(semantic)?;
        let mut names = std::collections::HashSet::new();
        for (i, s) in self.sources.iter().enumerate() {
            if s.name().is_empty() || s.name().contains([':', '/', ' ']) {
                return Err(semantic(format!(
                    "sources[{i}].name: `{}` must be non-empty, without `:`, `/` or spaces",
                    s.name()
                )));
            }
            if !names.insert(s.name()) {
                return Err(semantic(format!(
                    "sources[{i}].name: `{}` is used by two sources",
                    s.name()
                )));
            }
            match s {
                SourceConfig::Generator(g) => g
                    .validate()
                    .map_err(|m| semantic(format!("sources[{i}].{m}")))?,
                SourceConfig::Github(g) => g
                    .validate()
                    .map_err(|m| semantic(format!("sources[{i}].{m}")))?,
                SourceConfig::Jira(j) => j
                    .validate()
                    .map_err(|m| semantic(format!("sources[{i}].{m}")))?,
                SourceConfig::YandexTracker(y) => y
                    .validate()
                    .map_err(|m| semantic(format!("sources[{i}].{m}")))?,
                SourceConfig::Gitlab(g) => g
                    .validate()
                    .map_err(|m| semantic(format!("sources[{i}].{m}")))?,
            }
        }
        Ok(())
    }
}

fn invalid(path: &Path, text: &str, e: &toml::de::Error) -> ConfigError {
    let (line, column) = match e.span() {
        Some(span) => {
            let before = &text[..span.start.min(text.len())];
            let line = before.matches('\n').count() + 1;
            let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
            (line, column)
        }
        None => (1, 1),
    };
    let key = e
        .span()
        .and_then(|s| text.get(s.clone()))
        .map(str::trim)
        .filter(|k| !k.is_empty() && k.len() < 80);
    let message = match key {
        Some(k) if !e.message().contains(k.trim_matches('"')) => {
            format!("{} (at `{k}`)", e.message().trim_end())
        }
        _ => e.message().trim_end().to_string(),
    };
    // toml words some errors with nothing (a lone carriage return, a value missing at the end): say what it
    // found there instead.
    let message = match (message.is_empty(), e.span()) {
        (false, _) => message,
        (true, Some(s)) if s.start >= text.len() => "unexpected end of file".into(),
        (true, Some(s)) => match text.get(s) {
            Some(found) if !found.is_empty() => format!("unexpected {found:?}"),
            _ => "not valid TOML".into(),
        },
        (true, None) => "not valid TOML".into(),
    };
    ConfigError::Invalid {
        path: path.to_path_buf(),
        line,
        column,
        message,
    }
}

fn parse_env_value(raw: &str) -> toml::Value {
    match toml::from_str::<toml::Table>(&format!("v = {raw}")) {
        Ok(mut t) => t
            .remove("v")
            .unwrap_or_else(|| toml::Value::String(raw.to_string())),
        Err(_) => toml::Value::String(raw.to_string()),
    }
}

fn apply_override(root: &mut toml::Table, var: &str, raw: &str) -> Result<(), ConfigError> {
    let err = |message: String| ConfigError::Env {
        variable: var.to_string(),
        message,
    };
    let path: Vec<String> = var["FLOWLAKE_".len()..]
        .split("__")
        .map(|s| s.to_lowercase())
        .collect();
    if path.iter().any(String::is_empty) {
        return Err(err("empty key segment".into()));
    }
    let mut node = toml::Value::Table(std::mem::take(root));
    {
        let mut cur = &mut node;
        for (i, seg) in path.iter().enumerate() {
            let last = i + 1 == path.len();
            cur = match cur {
                toml::Value::Table(t) => {
                    if last {
                        t.insert(seg.clone(), parse_env_value(raw));
                        break;
                    }
                    t.entry(seg.clone())
                        .or_insert_with(|| toml::Value::Table(toml::Table::new()))
                }
                toml::Value::Array(a) => {
                    let idx: usize = seg
                        .parse()
                        .map_err(|_| err(format!("`{seg}` is not a list index")))?;
                    let len = a.len();
                    let slot = a
                        .get_mut(idx)
                        .ok_or_else(|| err(format!("index {idx} is past the {len} entries")))?;
                    if last {
                        *slot = parse_env_value(raw);
                        break;
                    }
                    slot
                }
                _ => {
                    return Err(err(format!(
                        "`{seg}` is inside a value that is not a table"
                    )))
                }
            };
        }
    }
    if let toml::Value::Table(t) = node {
        *root = t;
    }
    Ok(())
}

/// The commented `flowlake.toml` that `flowlake init` writes: every key with its meaning and default.
pub fn template(until: chrono::NaiveDate) -> String {
    format!(
        r#"# flowlake configuration. Every key is optional; the values shown are the defaults unless noted.
# Environment variables override keys: FLOWLAKE_STORE__PATH=other.duckdb, FLOWLAKE_SOURCES__0__ISSUES=500.
# A .env file in the working directory is read too.

[store]
# Store kind: "duckdb" (embedded, a single file, nothing to set up).
kind = "duckdb"
# The DuckDB file.
path = "flowlake.duckdb"
# Cap on DuckDB's memory, e.g. "1GB". Unset: DuckDB's default (80% of RAM).
# memory_limit = "1GB"

[state]
# Where sync cursors live: "store" (the store's sync_state table, committed together with the data),
# "file" (a JSON file replaced atomically), "s3" or "redis".
backend = "store"
# The JSON file for backend = "file".
path = "flowlake-state.json"
# backend = "s3": url = "s3://bucket/flowlake/state.json"; credentials from AWS_ACCESS_KEY_ID and
# AWS_SECRET_ACCESS_KEY; endpoint = "http://127.0.0.1:9000" and allow_http = true for a local MinIO.
# Writes are conditional (If-Match), so two runs cannot both advance one cursor.
# backend = "redis": url = "redis://127.0.0.1:6379/0" (put a password in FLOWLAKE_STATE__URL, not here);
# each source is locked while it syncs (key_prefix = "flowlake", lock_ttl_seconds = 600).

[calendar]
# Working hours for business-time metrics.
# IANA time zone of the working hours; daylight-saving changes are handled.
time_zone = "UTC"
# Working days of the week.
work_days = ["mon", "tue", "wed", "thu", "fri"]
# Start and end of the working day, local time (HH:MM; "24:00" allowed as an end).
day_start = "09:00"
day_end = "18:00"
# Non-working dates, YYYY-MM-DD.
holidays = []
# A built-in holiday list added to `holidays`: "ru" (Russian public holidays with the days off moved by
# decree, from the `holidays` package 0.109, 1991-2040) or "ru-holidays-0.34" (tracker-exporter's pin). Unset: none.
# holiday_preset = "ru"

[metrics]
# Statuses counted as active work in flow efficiency. Unset: every in_progress status.
active_statuses = ["In Progress", "Testing"]

# Status name -> category (todo, in_progress, done), overriding the source's own categories and the
# built-in guesses (open/backlog/new -> todo; done/closed/resolved/cancelled/released -> done; else in_progress).
[metrics.status_categories]
"Open" = "todo"
"In Progress" = "in_progress"
"Review" = "in_progress"
"Testing" = "in_progress"
"Done" = "done"
"Cancelled" = "done"

# Tracker type name -> standard type (bug, feature, task, epic, subtask, incident, other).
[metrics.standard_types]
"Story" = "feature"

[tracker_exporter]
# Compute tracker-exporter 2.0.0 compatible per-status rows (table tracker_exporter_issue_metrics).
enabled = true
# Statuses that count as closed, as tracker-exporter names them (lower-cased, then snake-cased: "закрыт").
closed_statuses = ["closed", "rejected", "resolved", "cancelled", "released"]

# Its working hours, as tracker-exporter evaluates them: Mon-Fri 09:00-22:00 UTC minus Russian holidays.
[tracker_exporter.calendar]
time_zone = "UTC"
work_days = ["mon", "tue", "wed", "thu", "fri"]
day_start = "09:00"
day_end = "22:00"
holiday_preset = "ru"

# Sources. For now: "generator", a synthetic tracker with realistic, deterministic histories.
[[sources]]
kind = "generator"
# Source name: qualifies ids (demo:CORE-12) and keys the sync state.
name = "demo"
# The same seed gives the same issues on every machine.
seed = 42
# Number of issues.
issues = 2000
# Project keys.
projects = ["CORE", "WEB", "MOBILE", "OPS"]
# Last day of generated history ("now" for the generator) and days of history before it.
until = "{until}"
days = 180
# People per project.
people_per_project = 6
# Chance that review or testing sends work back (0 to 0.9; 0.65 gives about 20 status changes per issue).
rework_rate = 0.2
# Chance that a done issue is reopened.
reopen_rate = 0.05
# Issues per page; each page commits with its cursor.
page_size = 1000

# GitHub: uncomment, set GITHUB_TOKEN (read-only Issues, Pull requests, Metadata), run `flowlake sync`.
# [[sources]]
# kind = "github"
# name = "github"
# # Every repository of an organization, and/or a list of owner/name.
# organization = "acme"
# repositories = []
# # Enterprise Server: "https://HOST/api/v3" (GraphQL is then found at /api/graphql).
# base_url = "https://api.github.com"
# token_env = "GITHUB_TOKEN"
# # Re-read this many minutes before the saved cursor, to catch late writes.
# lookback_minutes = 10
# # Streams to read.
# issues = true
# pull_requests = true
# deployments = true
# releases = true
# # Items per GraphQL page (1 to 100), requests in flight, attempts per request, longest rate-limit wait.
# page_size = 100
# max_concurrency = 4
# max_attempts = 5
# max_rate_limit_wait_seconds = 3600
# # Labels that carry a workflow status, so open issues have a cycle time.
# [sources.status_labels]
# "status: in progress" = "In Progress"
# "status: review" = "Review"
"#
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(Path::new("flowlake.toml"), text, &[])
    }

    #[test]
    fn the_template_parses_and_names_every_section() {
        let c = parse(&template(
            chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
        ))
        .unwrap();
        assert_eq!(c.sources.len(), 1);
        assert_eq!(c.sources[0].name(), "demo");
        assert_eq!(
            c.metrics.status_categories["Review"],
            StatusCategory::InProgress
        );
    }

    #[test]
    fn project_mappings_override_the_global_ones_for_their_items_only() {
        let c = parse(
            "[metrics.status_categories]\n\"Review\" = \"in_progress\"\n\
             [metrics.standard_types]\n\"Story\" = \"feature\"\n\
             [metrics.projects.OPS]\nactive_statuses = [\"Fixing\"]\n\
             [metrics.projects.OPS.status_categories]\n\"Review\" = \"todo\"\n\
             [metrics.projects.OPS.standard_types]\n\"Story\" = \"incident\"\n",
        )
        .unwrap();
        let s = c.flow_settings();
        let ops = s.statuses_for("OPS");
        assert_eq!(ops.category("review", None), StatusCategory::Todo);
        assert_eq!(
            s.statuses_for("CORE").category("Review", None),
            StatusCategory::InProgress
        );
        assert!(ops.is_active("Fixing", StatusCategory::InProgress));
        assert!(!ops.is_active("In Progress", StatusCategory::InProgress));
        assert_eq!(
            s.standard_type_for("OPS", "story"),
            Some(StandardType::Incident)
        );
        assert_eq!(
            s.standard_type_for("CORE", "Story"),
            Some(StandardType::Feature)
        );
        assert_eq!(s.standard_type_for("CORE", "Epic"), None);
        let bad = parse("[metrics.projects.OPS]\nstatus_categorys = {}\n").unwrap_err();
        assert!(bad.to_string().contains("status_categorys"), "{bad}");
    }

    #[test]
    fn the_templates_github_block_parses_once_uncommented() {
        let text = template(chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap());
        let start = text.find("# [[sources]]").unwrap();
        let (head, tail) = text.split_at(start);
        let uncommented: String = tail
            .lines()
            .map(|l| l.strip_prefix("# ").unwrap_or(l))
            .collect::<Vec<_>>()
            .join("\n");
        let c = parse(&format!("{head}{uncommented}")).unwrap();
        let SourceConfig::Github(g) = &c.sources[1] else {
            panic!("a github source")
        };
        assert_eq!(g.organization.as_deref(), Some("acme"));
        assert_eq!(g.status_labels["status: review"], "Review");
    }

    #[test]
    fn an_empty_file_is_all_defaults() {
        assert_eq!(parse("").unwrap(), Config::default());
    }

    #[test]
    fn malformed_config_names_the_file_line_and_key() {
        let cases: &[(&str, usize, &str)] = &[
            (
                "[store]\npath = \"x\"\npaht = 1\n",
                3,
                "unknown field `paht`",
            ),
            (
                "[calendar]\ntime_zone = \"Europe/Berln\"\n",
                1,
                "`Europe/Berln`",
            ),
            (
                "[calendar]\nholidays = [\"2024-13-01\"]\n",
                1,
                "`2024-13-01`",
            ),
            (
                "\n[metrics.status_categories]\n\"Review\" = \"finished\"\n",
                3,
                "finished",
            ),
            ("[store\n", 1, ""),
            ("[[sources]]\nkind = \"jirra\"\n", 2, "jirra"),
        ];
        for (text, line, needle) in cases {
            let err = parse(text).unwrap_err();
            let msg = err.to_string();
            assert!(
                msg.starts_with(&format!("config flowlake.toml:{line}:")),
                "{msg}"
            );
            assert!(msg.contains(needle), "{msg}");
        }
    }

    #[test]
    fn semantic_errors_name_the_key() {
        let err = parse("[[sources]]\nkind = \"generator\"\nrework_rate = 2.0\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("sources[0].rework_rate"), "{err}");
        let err = parse("[[sources]]\nkind = \"generator\"\n[[sources]]\nkind = \"generator\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("used by two sources"), "{err}");
    }

    #[test]
    fn environment_overrides_nested_keys_and_list_entries() {
        let env = vec![
            (
                "FLOWLAKE_STORE__PATH".to_string(),
                "other.duckdb".to_string(),
            ),
            ("FLOWLAKE_SOURCES__0__ISSUES".to_string(), "77".to_string()),
            (
                "FLOWLAKE_CALENDAR__WORK_DAYS".to_string(),
                "[\"mon\"]".to_string(),
            ),
            ("FLOWLAKE_CONFIG".to_string(), "ignored.toml".to_string()),
        ];
        let c = Config::parse(
            Path::new("f.toml"),
            "[[sources]]\nkind = \"generator\"\n",
            &env,
        )
        .unwrap();
        assert_eq!(c.store.path, PathBuf::from("other.duckdb"));
        let SourceConfig::Generator(g) = &c.sources[0] else {
            panic!("a generator source")
        };
        assert_eq!(g.issues, 77);
        let bad = vec![("FLOWLAKE_STORE__PAHT".to_string(), "x".to_string())];
        let err = Config::parse(Path::new("f.toml"), "", &bad)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("FLOWLAKE_STORE__PAHT") && err.contains("paht"),
            "{err}"
        );
    }
}
