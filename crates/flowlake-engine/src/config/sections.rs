//! The sections of `flowlake.toml` other than `[[sources]]` (whose blocks the connector registry types):
//! `[store]`, `[state]`, `[metrics]`, `[tracker_exporter]`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use flowlake_core::metrics::tracker_exporter::default_closed_statuses;
use flowlake_core::{BusinessCalendar, KeyDocs, StandardType, StatusCategory};
use flowlake_store::{
    ClickHouseOptions, ClickHouseRetry, JsonFileState, OpenMode, PostgresOptions, RedisState,
    RedisStateConfig, S3State, S3StateConfig, StateBackend, StoreError, StoreOptions,
};
use serde::{Deserialize, Serialize};

use super::calendar::calendar;
use super::unfit::Unfit;

/// The analytical store.
#[derive(Clone, PartialEq, Serialize, Deserialize, KeyDocs)]
#[serde(deny_unknown_fields, default)]
pub struct StoreConfig {
    /// Store kind: `duckdb` (embedded, a single file, the default), `postgres` (a schema of a
    /// PostgreSQL database) or `clickhouse` (a database of a ClickHouse server, over its HTTP interface).
    pub kind: StoreKind,
    /// DuckDB file. Default `flowlake.duckdb`.
    pub path: PathBuf,
    /// Cap on DuckDB's memory, e.g. `"1GB"`. Default: DuckDB's own (80% of RAM).
    pub memory_limit: Option<String>,
    /// PostgreSQL: `postgres://user@host:5432/database` (libpq's URL; `?sslmode=disable` for a server
    /// without TLS). ClickHouse: its HTTP interface, `http://host:8123` or `https://host:8443`. Keep the
    /// password out of it.
    pub url: Option<String>,
    /// PostgreSQL: the schema holding flowlake's tables, created when missing. Default `flowlake`.
    pub schema: String,
    /// PostgreSQL or ClickHouse: the password. Set it with `FLOWLAKE_STORE__PASSWORD` (or `password_file`) rather than
    /// in the file.
    pub password: Option<String>,
    /// PostgreSQL or ClickHouse: a file holding the password (wins over `password`), e.g. a mounted
    /// secret.
    pub password_file: Option<PathBuf>,
    /// PostgreSQL or ClickHouse: CA certificates (PEM) the server's certificate must chain to, for a private
    /// CA or a self-signed server. Unset: the system's roots. PostgreSQL uses TLS unless the url says
    /// `sslmode=disable`; ClickHouse with an `https://` url.
    pub ca_file: Option<PathBuf>,
    /// ClickHouse: the database holding flowlake's tables, created when missing. Default `flowlake`.
    pub database: String,
    /// ClickHouse: the user. Default `default`.
    pub user: String,
    /// ClickHouse: the cluster the tables span: DDL runs `ON CLUSTER`, rows go to replicated tables behind
    /// distributed ones, sharded by item. Default: one server.
    pub cluster: Option<String>,
    /// ClickHouse: tries in all for a request that failed in a way a later try may fix (no answer, a
    /// 502/503/504, too many parts or queries for now). Default 5.
    pub retry_tries: u32,
    /// ClickHouse: the wait before the second try, in milliseconds; each later wait is `retry_factor`
    /// times the one before. Default 500.
    pub retry_base_delay_ms: u64,
    /// ClickHouse: what each wait between tries is multiplied by. Default 2.
    pub retry_factor: f64,
    /// ClickHouse: the share of each wait it is moved by at random, up or down (0 to 1), so runs that failed
    /// together do not retry together. Default 0.5.
    pub retry_jitter: f64,
    /// ClickHouse: how long one request may take, in seconds. Default 300.
    pub timeout_seconds: u64,
    /// ClickHouse: send insert bodies gzip-compressed (`Content-Encoding: gzip`), several times smaller for
    /// some CPU here; turn off for a proxy that does not pass the header on. Default true.
    pub compress: bool,
    /// ClickHouse: end each sync with `OPTIMIZE TABLE … FINAL` on the tables it loaded into, so their stored
    /// rows hold no superseded versions (tracker-exporter's `AUTO_DEDUPLICATE`). It rewrites the tables:
    /// costly on large ones. Default false.
    pub optimize_after_sync: bool,
}

impl Default for StoreConfig {
    fn default() -> Self {
        Self {
            kind: StoreKind::Duckdb,
            path: "flowlake.duckdb".into(),
            memory_limit: None,
            url: None,
            schema: "flowlake".into(),
            password: None,
            password_file: None,
            ca_file: None,
            database: "flowlake".into(),
            user: "default".into(),
            cluster: None,
            retry_tries: 5,
            retry_base_delay_ms: 500,
            retry_factor: 2.0,
            retry_jitter: 0.5,
            timeout_seconds: 300,
            compress: true,
            optimize_after_sync: false,
        }
    }
}

impl std::fmt::Debug for StoreConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreConfig")
            .field("kind", &self.kind)
            .field("path", &self.path)
            .field("memory_limit", &self.memory_limit)
            .field("url", &self.url.as_deref().map(flowlake_core::redact_url))
            .field("schema", &self.schema)
            .field("password", &self.password.as_ref().map(|_| "<set>"))
            .field("password_file", &self.password_file)
            .field("ca_file", &self.ca_file)
            .field("database", &self.database)
            .field("user", &self.user)
            .field("cluster", &self.cluster)
            .field("retry_tries", &self.retry_tries)
            .field("retry_base_delay_ms", &self.retry_base_delay_ms)
            .field("retry_factor", &self.retry_factor)
            .field("retry_jitter", &self.retry_jitter)
            .field("timeout_seconds", &self.timeout_seconds)
            .field("compress", &self.compress)
            .field("optimize_after_sync", &self.optimize_after_sync)
            .finish()
    }
}

impl StoreConfig {
    /// How to open the store in `mode`: the DuckDB file, or the PostgreSQL or ClickHouse server with its
    /// password read (from `password_file`, else `password`).
    pub fn options(&self, mode: OpenMode) -> Result<StoreOptions, StoreError> {
        let mut options = StoreOptions {
            memory_limit: self.memory_limit.clone(),
            ..StoreOptions::new(&self.path, mode)
        };
        if self.kind != StoreKind::Duckdb {
            let password = match &self.password_file {
                Some(file) => Some(
                    std::fs::read_to_string(file)
                        .map_err(|e| StoreError::Open {
                            path: file.clone(),
                            reason: format!("reading store.password_file: {e}"),
                        })?
                        .trim_end_matches(['\n', '\r'])
                        .to_string(),
                ),
                None => self.password.clone(),
            };
            let url = self.url.clone().unwrap_or_default();
            match self.kind {
                StoreKind::Clickhouse => {
                    options.clickhouse = Some(ClickHouseOptions {
                        url,
                        database: self.database.clone(),
                        user: self.user.clone(),
                        password,
                        cluster: self.cluster.clone(),
                        retry: ClickHouseRetry {
                            tries: self.retry_tries.max(1),
                            base_delay: std::time::Duration::from_millis(self.retry_base_delay_ms),
                            factor: self.retry_factor,
                            jitter: self.retry_jitter,
                        },
                        timeout: std::time::Duration::from_secs(self.timeout_seconds.max(1)),
                        compress: self.compress,
                        ca_file: self.ca_file.clone(),
                        optimize_after_sync: self.optimize_after_sync,
                    });
                }
                _ => {
                    options.postgres = Some(PostgresOptions {
                        url,
                        schema: self.schema.clone(),
                        password,
                        ca_file: self.ca_file.clone(),
                    });
                }
            }
        }
        Ok(options)
    }

    /// Where the store is, for messages (no password).
    pub fn describe(&self) -> String {
        match (self.kind, &self.url) {
            (StoreKind::Postgres, Some(url)) => {
                format!(
                    "{} (schema {})",
                    flowlake_core::redact_url(url),
                    self.schema
                )
            }
            (StoreKind::Clickhouse, Some(url)) => {
                format!(
                    "{} (database {})",
                    flowlake_core::redact_url(url),
                    self.database
                )
            }
            _ => self.path.display().to_string(),
        }
    }

    pub(super) fn validate(&self) -> Result<(), Unfit> {
        if self.kind == StoreKind::Clickhouse {
            return self.validate_clickhouse();
        }
        if self.kind != StoreKind::Postgres {
            return Ok(());
        }
        match &self.url {
            None => Err(Unfit::new(
                "store.url",
                "kind = \"postgres\" needs a url (postgres://user@host:5432/database)",
            )),
            Some(u) if !(u.starts_with("postgres://") || u.starts_with("postgresql://")) => Err(
                Unfit::new("store.url", "a PostgreSQL url starts with postgres://"),
            ),
            _ => Ok(()),
        }
    }
}

impl StoreConfig {
    fn validate_clickhouse(&self) -> Result<(), Unfit> {
        match &self.url {
            None => return Err(Unfit::new(
                "store.url",
                "kind = \"clickhouse\" needs a url (http://host:8123, ClickHouse's HTTP interface)",
            )),
            Some(u) if !(u.starts_with("http://") || u.starts_with("https://")) => {
                return Err(Unfit::new(
                    "store.url",
                    "a ClickHouse url is its HTTP interface: it starts with http:// or https://",
                ))
            }
            _ => {}
        }
        if !(0.0..=1.0).contains(&self.retry_jitter) {
            return Err(Unfit::new("store.retry_jitter", "a share from 0 to 1"));
        }
        if !self.retry_factor.is_finite() || self.retry_factor < 1.0 {
            return Err(Unfit::new("store.retry_factor", "a number, at least 1"));
        }
        if self.retry_tries == 0 {
            return Err(Unfit::new(
                "store.retry_tries",
                "at least 1 (the first try)",
            ));
        }
        Ok(())
    }
}

/// Supported stores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StoreKind {
    /// Embedded DuckDB file.
    Duckdb,
    /// A schema of a PostgreSQL database.
    Postgres,
    /// A database of a ClickHouse server.
    Clickhouse,
}

/// Where sync cursors live.
#[derive(Clone, PartialEq, Serialize, Deserialize, KeyDocs)]
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

    pub(super) fn validate(&self) -> Result<(), Unfit> {
        let needs = match self.backend {
            StateBackendKind::S3 => Some(("s3", "s3://")),
            StateBackendKind::Redis => Some(("redis", "redis://")),
            _ => None,
        };
        if let Some((kind, scheme)) = needs {
            match &self.url {
                None => {
                    return Err(Unfit::new(
                        "state.url",
                        format!("backend = \"{kind}\" needs a url ({scheme}…)"),
                    ))
                }
                Some(u) if !u.starts_with(scheme) => {
                    return Err(Unfit::new(
                        "state.url",
                        format!("a {kind} url starts with {scheme}"),
                    ))
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
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, KeyDocs)]
#[serde(deny_unknown_fields, default)]
pub struct MetricsConfig {
    /// Status name → `todo`, `in_progress` or `done`, overriding the source's own categories and the built-in
    /// guesses (open, backlog, new… → todo; done, closed, resolved, cancelled, released… → done; any other →
    /// in_progress).
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
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, KeyDocs)]
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, KeyDocs)]
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
