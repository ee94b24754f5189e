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

//!
//! The folder, one responsibility a file: the sections' types (`sections.rs`), the `[[sources]]` list read by
//! kind (`sources.rs`), the calendar read value by value (`calendar.rs`), `FLOWLAKE_…` overrides (`env.rs`),
//! the positions errors point at (`positions.rs`), `[service]` and `[[jobs]]` (`service.rs`) and `flowlake init`'s template (`template.rs`, with the
//! sections' example values in `template.toml`).

use std::path::{Path, PathBuf};

use flowlake_core::{BusinessCalendar, StatusMap};
use flowlake_store::StoreError;
use serde::{Deserialize, Serialize};

use crate::compute::{FlowSettings, ProjectSettings, TrackerExporterSettings};

mod calendar;
mod env;
pub mod exporter_env;
mod positions;
mod sections;
mod service;
mod sources;
mod template;
#[cfg(test)]
mod tests;
mod unfit;

use calendar::calendar;
use env::apply_override;
use positions::{invalid, semantic};
pub use sections::{
    MetricsConfig, ProjectMetricsConfig, StateBackendKind, StateConfig, StoreConfig, StoreKind,
    TrackerExporterConfig,
};
pub use service::{JobConfig, JobKind, ServiceConfig};
use sources::{sources, with_source_kinds};
pub use template::template;
use unfit::Unfit;

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
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, flowlake_core::KeyDocs)]
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
    /// `flowlake run` and `flowlake serve`: the HTTP server, jobs at once, grace period, retries.
    pub service: ServiceConfig,
    /// `flowlake run`'s jobs, one `[[jobs]]` block each: what runs (a sync, backfill or rebuild of some
    /// sources) and when.
    pub jobs: Vec<JobConfig>,
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
            config.validate().map_err(|u| semantic(path, text, u))?;
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
        config.validate().map_err(|unfit| {
            // A value a variable set has no position in the file: name the variable instead.
            let var = format!(
                "FLOWLAKE_{}",
                unfit
                    .key
                    .replace('[', "__")
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
                    message: unfit.to_string(),
                },
                None => semantic(path, text, unfit),
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

    /// Checks values that parse but do not fit, naming the key path at fault.
    fn validate(&self) -> Result<(), Unfit> {
        self.state.validate()?;
        self.store.validate()?;
        if let Some(limit) = &self.store.memory_limit {
            // Checked here, before any command creates a store file with it.
            flowlake_store::duckdb_store::check_memory_limit(limit).map_err(|e| {
                let why = match e {
                    StoreError::Sql { message, .. } => message,
                    other => other.to_string(),
                };
                Unfit::new("store.memory_limit", format!("`{limit}`: {why}"))
            })?;
        }
        let mut names = std::collections::HashSet::new();
        for (i, s) in self.sources.iter().enumerate() {
            if s.name().is_empty() || s.name().contains([':', '/', ' ']) {
                return Err(Unfit::new(
                    format!("sources[{i}].name"),
                    format!(
                        "`{}` must be non-empty, without `:`, `/` or spaces",
                        s.name()
                    ),
                ));
            }
            if !names.insert(s.name()) {
                return Err(Unfit::new(
                    format!("sources[{i}].name"),
                    format!("`{}` is used by two sources", s.name()),
                ));
            }
            s.validate().map_err(|e| Unfit::of_source(i, e))?;
        }
        self.service.validate()?;
        let names: Vec<&str> = self.sources.iter().map(|s| s.name()).collect();
        service::validate_jobs(&self.jobs, &names)?;
        Ok(())
    }
}
