//! `flowlake.toml`: the whole configuration, with environment overrides.
//!
//! Precedence: built-in defaults < the file < `FLOWLAKE_…` environment variables (`__` separates nesting
//! levels, a number indexes a list: `FLOWLAKE_STORE__PATH`, `FLOWLAKE_SOURCES__0__ISSUES`). Unknown keys are
//! errors, and every error names the file, the line and column of the value (or key) at fault and its key path
//! (`flowlake.toml:28:13: calendar.time_zone: …`), or the variable.
//!
//! Two things would lose those positions, and are read here so they do not: `[[sources]]` blocks are picked by
//! their `kind` before their keys are read (serde's tagged enums buffer the block, and the error could only
//! point at its header), and a calendar's values are checked one by one (a calendar is validated as a whole,
//! which would point at its table).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use flowlake_core::metrics::tracker_exporter::default_closed_statuses;
use flowlake_core::CalendarSpec;
use flowlake_core::{BusinessCalendar, StandardType, StatusCategory, StatusMap};
use flowlake_store::{
    JsonFileState, RedisState, RedisStateConfig, S3State, S3StateConfig, StateBackend, StoreError,
};
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
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
    #[serde(deserialize_with = "calendar")]
    pub calendar: BusinessCalendar,
    /// Status and type mappings for flow metrics.
    pub metrics: MetricsConfig,
    /// tracker-exporter compatible per-status rows.
    pub tracker_exporter: TrackerExporterConfig,
    /// The systems to extract from.
    #[serde(deserialize_with = "sources")]
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
    #[serde(deserialize_with = "calendar")]
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

/// One source block, `[[sources]]` with a `kind`: the connector registry's enum (see
/// [`flowlake_connect::registry`]).
pub use flowlake_connect::registry::SourceConfig;

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
        // Syntax first: a file that is not TOML has no keys to name.
        let mut table: toml::Table = toml::from_str(text).map_err(|e| invalid(path, text, &e))?;
        let config: Config = with_source_kinds(&table, || toml::from_str(text))
            .map_err(|e| invalid(path, text, &e))?;
        let overrides: Vec<&(String, String)> = env
            .iter()
            .filter(|(k, _)| k.starts_with("FLOWLAKE_") && k.contains("__"))
            .collect();
        if overrides.is_empty() {
            config.validate().map_err(|m| semantic(path, text, m))?;
            return Ok(config);
        }
        for (k, v) in &overrides {
            apply_override(&mut table, k, v)?;
        }
        let names: Vec<&str> = overrides.iter().map(|(k, _)| k.as_str()).collect();
        let config: Config =
            with_source_kinds(&table, || toml::Value::Table(table.clone()).try_into()).map_err(
                |e: toml::de::Error| ConfigError::Env {
                    variable: names.join(", "),
                    message: e.message().to_string(),
                },
            )?;
        config.validate().map_err(|message| {
            // A value a variable set has no position in the file: name the variable instead.
            let key = message.split(": ").next().unwrap_or_default();
            let var = format!(
                "FLOWLAKE_{}",
                key.replace('[', "__")
                    .replace(']', "")
                    .replace('.', "__")
                    .to_uppercase()
            );
            match names
                .iter()
                .find(|n| n.starts_with(&var) || var.starts_with(**n))
            {
                Some(n) => ConfigError::Env {
                    variable: n.to_string(),
                    message,
                },
                None => semantic(path, text, message),
            }
        })?;
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

    /// Checks values that parse but do not fit; the message starts with the key path at fault.
    fn validate(&self) -> Result<(), String> {
        self.state.validate()?;
        if let Some(limit) = &self.store.memory_limit {
            // Checked here, before any command creates a store file with it.
            flowlake_store::duckdb_store::check_memory_limit(limit).map_err(|e| {
                let why = match e {
                    StoreError::Sql { message, .. } => message,
                    other => other.to_string(),
                };
                format!("store.memory_limit: `{limit}`: {why}")
            })?;
        }
        let mut names = std::collections::HashSet::new();
        for (i, s) in self.sources.iter().enumerate() {
            if s.name().is_empty() || s.name().contains([':', '/', ' ']) {
                return Err(format!(
                    "sources[{i}].name: `{}` must be non-empty, without `:`, `/` or spaces",
                    s.name()
                ));
            }
            if !names.insert(s.name()) {
                return Err(format!(
                    "sources[{i}].name: `{}` is used by two sources",
                    s.name()
                ));
            }
            s.validate().map_err(|m| format!("sources[{i}].{m}"))?;
        }
        Ok(())
    }
}

/// A key or value of the file, with where it is written.
struct Entry {
    /// Key path, as messages write it: `calendar.time_zone`, `sources[0].until`, `metrics.status_categories."In
    /// Progress"`.
    path: String,
    /// Byte range of its key, when it has one.
    key: Option<std::ops::Range<usize>>,
    /// Byte range of its value (a table's: its header).
    value: Option<std::ops::Range<usize>>,
    /// Whether the value is a scalar (a string, number, date or boolean), short enough to quote.
    scalar: bool,
}

/// Every key and value of `text` with its position; empty when `text` is not TOML.
fn entries(text: &str) -> Vec<Entry> {
    let mut out = Vec::new();
    if let Ok(doc) = toml_edit::ImDocument::parse(text) {
        walk_table(doc.as_table(), "", &mut out);
    }
    out
}

fn key_path(prefix: &str, key: &str) -> String {
    let bare = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    let key = if bare {
        key.to_string()
    } else {
        format!("\"{}\"", key.replace('\\', "\\\\").replace('"', "\\\""))
    };
    if prefix.is_empty() {
        key
    } else {
        format!("{prefix}.{key}")
    }
}

fn walk_table(t: &toml_edit::Table, prefix: &str, out: &mut Vec<Entry>) {
    for (k, item) in t.iter() {
        let key = t.key(k).and_then(toml_edit::Key::span);
        walk_item(item, key_path(prefix, k), key, out);
    }
}

fn walk_item(
    item: &toml_edit::Item,
    path: String,
    key: Option<std::ops::Range<usize>>,
    out: &mut Vec<Entry>,
) {
    match item {
        toml_edit::Item::None => {}
        toml_edit::Item::Value(v) => walk_value(v, path, key, out),
        toml_edit::Item::Table(t) => {
            out.push(Entry {
                path: path.clone(),
                key,
                value: t.span(),
                scalar: false,
            });
            walk_table(t, &path, out);
        }
        toml_edit::Item::ArrayOfTables(a) => {
            out.push(Entry {
                path: path.clone(),
                key,
                value: a.span(),
                scalar: false,
            });
            for (i, t) in a.iter().enumerate() {
                let at = format!("{path}[{i}]");
                out.push(Entry {
                    path: at.clone(),
                    key: None,
                    value: t.span(),
                    scalar: false,
                });
                walk_table(t, &at, out);
            }
        }
    }
}

fn walk_value(
    v: &toml_edit::Value,
    path: String,
    key: Option<std::ops::Range<usize>>,
    out: &mut Vec<Entry>,
) {
    let scalar = !matches!(
        v,
        toml_edit::Value::Array(_) | toml_edit::Value::InlineTable(_)
    );
    out.push(Entry {
        path: path.clone(),
        key,
        value: v.span(),
        scalar,
    });
    match v {
        toml_edit::Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                walk_value(x, format!("{path}[{i}]"), None, out);
            }
        }
        toml_edit::Value::InlineTable(t) => {
            for (k, x) in t.iter() {
                let key = t.key(k).and_then(toml_edit::Key::span);
                walk_value(x, key_path(&path, k), key, out);
            }
        }
        _ => {}
    }
}

/// 1-based line and column (in characters) of byte `offset` of `text`.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let mut at = offset.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    let before = &text[..at];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// The error of a file toml could not read, at the value (or key) it points at, with that key's path. The
/// value is quoted when the message does not, and only a scalar: never a whole table.
fn invalid(path: &Path, text: &str, e: &toml::de::Error) -> ConfigError {
    let message = e.message().trim_end().to_string();
    let Some(span) = e.span() else {
        return ConfigError::Invalid {
            path: path.to_path_buf(),
            line: 1,
            column: 1,
            message,
        };
    };
    let (line, column) = line_column(text, span.start);
    let inside = |r: &Option<std::ops::Range<usize>>| {
        r.as_ref()
            .is_some_and(|r| r.start <= span.start && span.start < r.end.max(r.start + 1))
    };
    // The innermost key or value the error starts in (of equal ones, the deepest: entries follow their parent).
    let all = entries(text);
    let found = all
        .iter()
        .rev()
        .filter_map(|e| {
            let width = |r: &Option<std::ops::Range<usize>>| r.as_ref().map_or(0, |r| r.len());
            if inside(&e.value) {
                Some((width(&e.value), e, true))
            } else if inside(&e.key) {
                Some((width(&e.key), e, false))
            } else {
                None
            }
        })
        .min_by_key(|(width, _, _)| *width);
    let message = match found {
        None => message,
        Some((_, entry, at_value)) => {
            let value = entry
                .value
                .as_ref()
                .and_then(|r| text.get(r.clone()))
                .map(str::trim)
                .filter(|v| at_value && entry.scalar && v.chars().count() <= 60);
            match value {
                Some(v) if !message.contains(v.trim_matches(['"', '\''])) => {
                    format!("{}: {message} (found {v})", entry.path)
                }
                _ => format!("{}: {message}", entry.path),
            }
        }
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

/// A value that parsed but does not fit (`message` starts with its key path, `sources[0].base_url: …`), at
/// the value's position; a key the file does not write (a default) is pointed at through the nearest table
/// that is written.
fn semantic(path: &Path, text: &str, message: String) -> ConfigError {
    let key = message.split(": ").next().unwrap_or_default();
    let all = entries(text);
    let mut probe = key;
    let found = loop {
        if let Some(e) = all.iter().find(|e| e.path == probe) {
            break e.value.as_ref().or(e.key.as_ref());
        }
        match probe.rfind(['.', '[']) {
            Some(i) => probe = &probe[..i],
            None => break None,
        }
    };
    match found {
        Some(r) => {
            let (line, column) = line_column(text, r.start);
            ConfigError::Invalid {
                path: path.to_path_buf(),
                line,
                column,
                message,
            }
        }
        None => ConfigError::Semantic {
            path: path.to_path_buf(),
            message,
        },
    }
}

thread_local! {
    /// The `kind` of each `[[sources]]` block of the document being read, so each block is read straight
    /// into its kind's config, keeping the positions of its values (see [`sources`]).
    static SOURCE_KINDS: std::cell::RefCell<Option<Vec<Option<String>>>> =
        const { std::cell::RefCell::new(None) };
}

/// Runs `read` (a deserialization of `table`'s document) with the kinds of `table`'s sources known.
fn with_source_kinds<T>(table: &toml::Table, read: impl FnOnce() -> T) -> T {
    struct Reset;
    impl Drop for Reset {
        fn drop(&mut self) {
            SOURCE_KINDS.with(|k| k.borrow_mut().take());
        }
    }
    let kinds = match table.get("sources") {
        Some(toml::Value::Array(list)) => list
            .iter()
            .map(|s| {
                s.get("kind")
                    .and_then(toml::Value::as_str)
                    .map(str::to_string)
            })
            .collect(),
        _ => Vec::new(),
    };
    SOURCE_KINDS.with(|k| *k.borrow_mut() = Some(kinds));
    let _reset = Reset;
    read()
}

/// The `kind`s a `[[sources]]` block may have: those of the connector registry.
const SOURCE_KIND_NAMES: &[&str] = SourceConfig::KINDS;

/// `sources`: each block read as its `kind`'s config directly, so an error inside it points at the value.
/// Without known kinds (a caller other than [`Config::parse`]), serde's tagged enum reads them.
fn sources<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<SourceConfig>, D::Error> {
    match SOURCE_KINDS.with(|k| k.borrow().clone()) {
        None => Vec::<SourceConfig>::deserialize(d),
        Some(kinds) => d.deserialize_seq(SourceList(kinds)),
    }
}

struct SourceList(Vec<Option<String>>);

impl<'de> Visitor<'de> for SourceList {
    type Value = Vec<SourceConfig>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a list of [[sources]] blocks")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut out = Vec::new();
        while let Some(s) =
            seq.next_element_seed(OneSource(self.0.get(out.len()).cloned().flatten()))?
        {
            out.push(s);
        }
        Ok(out)
    }
}

/// One `[[sources]]` block whose `kind` was read before.
struct OneSource(Option<String>);

impl<'de> DeserializeSeed<'de> for OneSource {
    type Value = SourceConfig;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<SourceConfig, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for OneSource {
    type Value = SourceConfig;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a [[sources]] block")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<SourceConfig, A::Error> {
        match self.0.as_deref() {
            Some(kind) if SOURCE_KIND_NAMES.contains(&kind) => SourceConfig::deserialize_kind(
                kind,
                serde::de::value::MapAccessDeserializer::new(WithoutKind(map)),
            ),
            // Not a kind: the error goes to the `kind` value, or to the block when it has none.
            _ => {
                while let Some(key) = map.next_key::<String>()? {
                    if key == "kind" {
                        map.next_value_seed(BadKind)?;
                    } else {
                        map.next_value::<IgnoredAny>()?;
                    }
                }
                Err(serde::de::Error::missing_field("kind"))
            }
        }
    }
}

/// A `kind` value that is no kind: refused, naming the kinds there are.
struct BadKind;

impl<'de> DeserializeSeed<'de> for BadKind {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        let kind = String::deserialize(d)?;
        Err(serde::de::Error::unknown_variant(&kind, SOURCE_KIND_NAMES))
    }
}

/// A source block's keys without `kind`, which chose the config they are read into.
struct WithoutKind<A>(A);

impl<'de, A: MapAccess<'de>> MapAccess<'de> for WithoutKind<A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        let mut seed = Some(seed);
        loop {
            match self.0.next_key_seed(SkipKind(&mut seed))? {
                None => return Ok(None),
                Some(Some(key)) => return Ok(Some(key)),
                Some(None) => {
                    self.0.next_value::<IgnoredAny>()?;
                }
            }
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, A::Error> {
        self.0.next_value_seed(seed)
    }
}

/// A key handed to `seed`, unless it is `kind` (`None`).
struct SkipKind<'a, K>(&'a mut Option<K>);

impl<'de, K: DeserializeSeed<'de>> DeserializeSeed<'de> for SkipKind<'_, K> {
    type Value = Option<K::Value>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        let key = String::deserialize(d)?;
        if key == "kind" {
            return Ok(None);
        }
        let seed = self
            .0
            .take()
            .ok_or_else(|| serde::de::Error::custom("a key was read twice"))?;
        seed.deserialize(serde::de::value::StringDeserializer::<D::Error>::new(key))
            .map(Some)
    }
}

/// Declares a calendar value read and checked on its own, by a calendar that holds only it (`probe`), so an
/// error points at that value rather than at the whole `[calendar]` table.
macro_rules! calendar_value {
    ($name:ident, |$v:ident| $probe:expr) => {
        struct $name(String);

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                // Checked inside the deserializer's own call, which gives the error the value's position
                // (an array's element has none of its own otherwise).
                struct Check;
                impl<'de> Visitor<'de> for Check {
                    type Value = String;
                    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                        f.write_str("a string")
                    }
                    fn visit_str<E: serde::de::Error>(self, $v: &str) -> Result<String, E> {
                        let $v = $v.to_string();
                        BusinessCalendar::try_from($probe).map_err(E::custom)?;
                        Ok($v)
                    }
                }
                d.deserialize_str(Check).map(Self)
            }
        }
    };
}

calendar_value!(TimeZoneName, |v| CalendarSpec {
    time_zone: v.clone(),
    ..CalendarSpec::default()
});
calendar_value!(WorkDay, |v| CalendarSpec {
    work_days: vec![v.clone()],
    ..CalendarSpec::default()
});
calendar_value!(DayStart, |v| CalendarSpec {
    day_start: v.clone(),
    day_end: "24:00".into(),
    ..CalendarSpec::default()
});
calendar_value!(DayEnd, |v| CalendarSpec {
    day_start: "00:00".into(),
    day_end: v.clone(),
    ..CalendarSpec::default()
});
calendar_value!(Holiday, |v| CalendarSpec {
    holidays: vec![v.clone()],
    ..CalendarSpec::default()
});
calendar_value!(HolidayPreset, |v| CalendarSpec {
    holiday_preset: Some(v.clone()),
    ..CalendarSpec::default()
});

/// [`CalendarSpec`]'s keys, each checked as it is read.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CalendarValues {
    time_zone: Option<TimeZoneName>,
    work_days: Option<Vec<WorkDay>>,
    day_start: Option<DayStart>,
    day_end: Option<DayEnd>,
    holidays: Option<Vec<Holiday>>,
    holiday_preset: Option<HolidayPreset>,
}

/// A calendar table: its values checked one by one (errors point at the value), then together (a day that
/// ends before it starts points at the table). Keys left out take [`CalendarSpec`]'s defaults.
fn calendar<'de, D: Deserializer<'de>>(d: D) -> Result<BusinessCalendar, D::Error> {
    let v = CalendarValues::deserialize(d)?;
    let default = CalendarSpec::default();
    let spec = CalendarSpec {
        time_zone: v.time_zone.map_or(default.time_zone, |x| x.0),
        work_days: v
            .work_days
            .map_or(default.work_days, |l| l.into_iter().map(|x| x.0).collect()),
        day_start: v.day_start.map_or(default.day_start, |x| x.0),
        day_end: v.day_end.map_or(default.day_end, |x| x.0),
        holidays: v
            .holidays
            .map_or(default.holidays, |l| l.into_iter().map(|x| x.0).collect()),
        holiday_preset: v.holiday_preset.map(|x| x.0),
    };
    BusinessCalendar::try_from(spec).map_err(serde::de::Error::custom)
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

{sources}"#,
        sources = sources_template(until)
    )
}

/// The `[[sources]]` part of the template: the registry's example blocks, the first (the generator) as is,
/// the others commented out, after a paragraph naming them.
fn sources_template(until: chrono::NaiveDate) -> String {
    let examples = SourceConfig::examples();
    let others: Vec<&str> = examples
        .iter()
        .skip(1)
        .map(|(_, label, _)| *label)
        .collect();
    let others = match others.split_last() {
        Some((last, [])) => last.to_string(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
        None => "none".into(),
    };
    let mut out = format!(
        "# Sources: one [[sources]] block each. \"generator\" is a synthetic tracker with realistic, deterministic\n\
         # histories; the commented blocks below it are {others}. To use one, remove\n\
         # the first two characters of each of its lines (its doubly commented lines stay comments: optional keys),\n\
         # set its token variable, and run `flowlake sync`. Names must differ: each qualifies its items' ids.\n"
    );
    let blocks: Vec<String> = examples
        .iter()
        .map(|(_, _, block)| block.replace("{until}", &until.to_string()))
        .collect();
    out.push_str(&blocks.join("\n"));
    out
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

    /// The template with the commented `[[sources]]` blocks of `kinds` uncommented: from each block's
    /// `# [[sources]]` line to the blank line after it, one `# ` removed from every line. With `optional`,
    /// the optional keys shown as `# # key = value` are uncommented too.
    fn uncommented(text: &str, kinds: &[&str], optional: bool) -> String {
        let mut out = Vec::new();
        let mut block = false;
        let lines: Vec<&str> = text.lines().collect();
        for (i, &line) in lines.iter().enumerate() {
            if line == "# [[sources]]" {
                let kind = lines.get(i + 1).copied().unwrap_or_default();
                block = kinds.iter().any(|k| kind == format!("# kind = \"{k}\""));
            } else if line.is_empty() {
                block = false;
            }
            let optional_key = line
                .strip_prefix("# # ")
                .and_then(|rest| rest.split_once(" = "))
                .is_some_and(|(key, _)| key.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
                // Exactly one organization id: org_id is the one set.
                && !line.starts_with("# # cloud_org_id");
            out.push(match (block, optional && optional_key) {
                (true, true) => &line[4..],
                (true, false) => line.strip_prefix("# ").unwrap_or(line),
                (false, _) => line,
            });
        }
        out.join("\n")
    }

    const SOURCE_KINDS: [&str; 4] = ["github", "jira", "yandex_tracker", "gitlab"];

    #[test]
    fn the_template_has_a_block_for_every_source_kind_that_parses_once_uncommented() {
        let text = template(chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap());
        for kind in SOURCE_KINDS {
            for optional in [false, true] {
                let c = parse(&uncommented(&text, &[kind], optional))
                    .unwrap_or_else(|e| panic!("the {kind} block (optional keys {optional}): {e}"));
                assert_eq!(c.sources.len(), 2, "{kind}");
                let second = serde_json::to_value(&c.sources[1]).unwrap();
                assert_eq!(second["kind"], kind);
            }
        }
        let all = parse(&uncommented(&text, &SOURCE_KINDS, false)).unwrap();
        let names: Vec<&str> = all.sources.iter().map(SourceConfig::name).collect();
        assert_eq!(names, ["demo", "github", "jira", "tracker", "gitlab"]);
        let SourceConfig::Github(g) = &all.sources[1] else {
            panic!("a github source")
        };
        assert_eq!(g.organization.as_deref(), Some("acme"));
        assert_eq!(g.status_labels["status: review"], "Review");
        let SourceConfig::Jira(j) = &all.sources[2] else {
            panic!("a jira source")
        };
        assert_eq!(j.custom_fields["story_points"], "Story Points");
        let SourceConfig::Gitlab(l) = &all.sources[4] else {
            panic!("a gitlab source")
        };
        assert_eq!(l.status_labels["workflow::review"], "Review");
        let with_optional = parse(&uncommented(&text, &SOURCE_KINDS, true)).unwrap();
        let SourceConfig::YandexTracker(y) = &with_optional.sources[3] else {
            panic!("a tracker source")
        };
        assert_eq!(y.initial_range.as_deref(), Some("30d"));
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
                2,
                "`Europe/Berln`",
            ),
            (
                "[calendar]\nholidays = [\"2024-13-01\"]\n",
                2,
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
