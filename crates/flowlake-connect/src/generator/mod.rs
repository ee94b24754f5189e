//! A synthetic issue tracker: realistic, seeded, deterministic issue histories for `flowlake demo`, tests
//! and benchmarks.
//!
//! Issue `n` depends only on the seed and `n`, so generation streams (constant memory for any size), resumes
//! from any cursor, and gives the same data on every machine. Issues move through a configurable workflow
//! (Open → In Progress → Review → Testing → Done) with returns, cancellations and reopenings; every move
//! happens after a log-normal dwell measured in working hours, mostly inside Monday–Friday 08:00–18:00 UTC.

mod normalize;
mod simulate;

pub use normalize::normalize_issue;
pub use simulate::{simulate_issue, DemoChange, DemoIssue};

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use flowlake_core::{ItemHistory, Normalized, RawRecord, StatusCategory};
use serde::{Deserialize, Serialize};

use crate::ConfigError;

use crate::{Normalizer, Page, Source, SourceError, StreamCursors};

/// Settings of the generator source (`kind = "generator"`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, flowlake_core::KeyDocs)]
#[serde(deny_unknown_fields, default)]
pub struct GeneratorConfig {
    /// Source name: qualifies every id and keys the sync state. Default `demo`.
    pub name: String,
    /// Seed of the random streams; the same seed gives the same issues. Default 42.
    pub seed: u64,
    /// Number of issues. Default 2000.
    pub issues: u64,
    /// Project keys; issues are spread over them unevenly, like real teams. Default CORE, WEB, MOBILE, OPS.
    pub projects: Vec<String>,
    /// The last day of generated history: its end is "now" for the generator. Default 2026-11-01.
    pub until: NaiveDate,
    /// Days of history before `until` over which issues are created. Default 180.
    pub days: u32,
    /// People per project (reporters and assignees). Default 6.
    pub people_per_project: u32,
    /// Chance that review or testing sends work back to In Progress, 0 to 0.9. Default 0.2; 0.65 gives about
    /// 20 status changes per issue.
    pub rework_rate: f64,
    /// Chance that a done issue is reopened. Default 0.05.
    pub reopen_rate: f64,
    /// Issues per page handed to the engine. Default 1000.
    pub page_size: u32,
}

impl Default for GeneratorConfig {
    fn default() -> Self {
        Self {
            name: "demo".into(),
            seed: 42,
            issues: 2000,
            projects: ["CORE", "WEB", "MOBILE", "OPS"].map(String::from).to_vec(),
            until: NaiveDate::from_ymd_opt(2026, 11, 1).expect("valid date"),
            days: 180,
            people_per_project: 6,
            rework_rate: 0.2,
            reopen_rate: 0.05,
            page_size: 1000,
        }
    }
}

/// The longest history the generator lays out: 100 years.
const MAX_DAYS: u32 = 36_525;

impl GeneratorConfig {
    /// Checks the ranges, naming the field at fault.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.projects.is_empty() {
            return Err(ConfigError::value(
                "projects",
                "at least one project is needed",
            ));
        }
        if !(0.0..=0.9).contains(&self.rework_rate) {
            return Err(ConfigError::value(
                "rework_rate",
                format!("{} is outside 0 to 0.9", self.rework_rate),
            ));
        }
        if !(0.0..=0.9).contains(&self.reopen_rate) {
            return Err(ConfigError::value(
                "reopen_rate",
                format!("{} is outside 0 to 0.9", self.reopen_rate),
            ));
        }
        if self.days == 0 || self.page_size == 0 || self.people_per_project == 0 {
            return Err(ConfigError::Together {
                keys: "days, page_size and people_per_project".into(),
                message: "must be positive".into(),
            });
        }
        // History is laid out by date arithmetic from `until` back `days`: bounds that keep it inside the
        // calendar (a year-262143 `until` or a million years of days would overflow it).
        if !(1970..=9999).contains(&self.until.year()) {
            return Err(ConfigError::value(
                "until",
                format!("{} is outside the years 1970 to 9999", self.until),
            ));
        }
        if self.days > MAX_DAYS {
            return Err(ConfigError::value(
                "days",
                format!("{} is more than {MAX_DAYS} (100 years)", self.days),
            ));
        }
        if self.people_per_project > MAX_PEOPLE_PER_PROJECT {
            return Err(ConfigError::value(
                "people_per_project",
                format!(
                    "{} is more than {MAX_PEOPLE_PER_PROJECT}",
                    self.people_per_project
                ),
            ));
        }
        if self.page_size > MAX_PAGE_SIZE {
            return Err(ConfigError::value(
                "page_size",
                format!(
                    "{} is more than {MAX_PAGE_SIZE} issues a page",
                    self.page_size
                ),
            ));
        }
        // Simulated work runs past `until` by a dwell or two, so the window keeps clear of chrono's limits.
        let first = self
            .until
            .checked_sub_days(chrono::Days::new(u64::from(self.days)));
        let in_range = |d: NaiveDate| (1..=9999).contains(&d.year());
        if !in_range(self.until) || !first.is_some_and(in_range) {
            return Err(ConfigError::value(
                "until, days",
                format!(
                    "{} days before {} leave the years 1 to 9999",
                    self.days, self.until
                ),
            ));
        }
        Ok(())
    }

    /// The generator's "now": the end of `until`.
    pub fn now(&self) -> DateTime<Utc> {
        (self.until + chrono::Duration::days(1))
            .and_hms_opt(0, 0, 0)
            .expect("midnight exists")
            .and_utc()
    }
}

/// The most people per project: each issue's simulation lists them all.
const MAX_PEOPLE_PER_PROJECT: u32 = 1000;

/// The most issues per page: a page is simulated whole in memory.
const MAX_PAGE_SIZE: u32 = 100_000;

/// The generator as a [`Source`]: one stream, `issues`, paged by issue number. The cursor is the number of
/// issues already handed out.
#[derive(Debug, Clone)]
pub struct GeneratorSource {
    name: String,
    config: GeneratorConfig,
    normalizer: GeneratorNormalizer,
}

/// The generator's normalizer: a landed issue back into its history. No lookups.
#[derive(Debug, Clone)]
pub struct GeneratorNormalizer {
    name: String,
}

impl GeneratorNormalizer {
    /// The normalizer of `config`'s source.
    pub fn new(config: &GeneratorConfig) -> Self {
        Self {
            name: config.name.clone(),
        }
    }
}

impl GeneratorSource {
    /// A generator named `name` (the source name in config).
    pub fn new(name: impl Into<String>, config: GeneratorConfig) -> Self {
        let name = name.into();
        Self {
            normalizer: GeneratorNormalizer { name: name.clone() },
            name,
            config,
        }
    }

    /// Issues `[from, to)` as normalized histories, skipping the JSON round trip (for benchmarks).
    pub fn histories(&self, from: u64, to: u64) -> impl Iterator<Item = ItemHistory> + '_ {
        (from..to.min(self.config.issues))
            .map(|n| normalize_issue(&self.name, &simulate_issue(&self.config, n)))
    }

    fn parse_cursor(cursor: Option<&str>) -> Result<u64, SourceError> {
        match cursor {
            None => Ok(0),
            Some(c) => c.parse().map_err(|_| SourceError::BadCursor(c.to_string())),
        }
    }
}

impl Source for GeneratorSource {
    fn name(&self) -> &str {
        &self.name
    }

    fn streams(&self) -> Vec<String> {
        vec!["issues".into()]
    }

    fn size_hint(&self, cursors: &StreamCursors) -> Option<u64> {
        let done = Self::parse_cursor(cursors.get("issues")).ok()?;
        Some(self.config.issues.saturating_sub(done))
    }

    fn next_page(&mut self, cursors: &StreamCursors) -> Result<Option<Page>, SourceError> {
        let from = Self::parse_cursor(cursors.get("issues"))?;
        if from >= self.config.issues {
            return Ok(None);
        }
        let to = (from + u64::from(self.config.page_size)).min(self.config.issues);
        let fetched_at = self.config.now();
        let records = (from..to)
            .map(|n| {
                let issue = simulate_issue(&self.config, n);
                RawRecord {
                    source: self.name.clone(),
                    stream: "issues".into(),
                    key: issue.key.clone(),
                    updated_at: Some(issue.updated),
                    fetched_at,
                    payload: serde_json::to_value(&issue).unwrap_or(serde_json::Value::Null),
                }
            })
            .collect();
        Ok(Some(Page::of(
            "issues",
            records,
            to.to_string(),
            Some(self.config.issues - to),
        )))
    }
}

crate::normalizer::normalizes_with!(GeneratorSource);

impl Normalizer for GeneratorNormalizer {
    fn lookup_streams(&self) -> &[&str] {
        &[]
    }

    fn normalize(&self, raw: &RawRecord) -> Result<Normalized, SourceError> {
        let issue: DemoIssue = crate::parse_payload(raw)?;
        Ok(normalize_issue(&self.name, &issue).into())
    }

    /// The statuses of the simulated workflow (`simulate.rs`), so none of their stays is a guess.
    fn known_statuses(&self) -> Vec<(String, StatusCategory)> {
        WORKFLOW.iter().map(|(s, c)| (s.to_string(), *c)).collect()
    }
}

/// The `generator` kind of the [registry](crate::registry).
pub struct GeneratorConnector;

impl crate::registry::Connector for GeneratorConnector {
    type Config = GeneratorConfig;
    const LABEL: &'static str = "the generator";
    const EXAMPLE: &'static str = include_str!("example.toml");

    fn name(config: &GeneratorConfig) -> &str {
        &config.name
    }

    fn validate(config: &GeneratorConfig) -> Result<(), ConfigError> {
        config.validate()
    }

    /// The simulated end of history, so the generator's rows are identical on every run.
    fn now(config: &GeneratorConfig, _wall_clock: DateTime<Utc>) -> DateTime<Utc> {
        config.now()
    }

    fn source(
        config: &GeneratorConfig,
        tape: &crate::http::Tape,
        _observer: std::sync::Arc<dyn crate::http::HttpObserver>,
    ) -> Result<Box<dyn Source>, SourceError> {
        if *tape != crate::http::Tape::Off {
            // Silently syncing without the tape would pass a `--replay` off as a replay.
            return Err(SourceError::Config(
                "a generator source has no API to record or replay; drop --record/--replay, or \
                 pick the API sources with --source"
                    .into(),
            ));
        }
        Ok(Box::new(GeneratorSource::new(
            config.name.clone(),
            config.clone(),
        )))
    }

    fn normalizer(config: &GeneratorConfig) -> Box<dyn Normalizer> {
        Box::new(GeneratorNormalizer::new(config))
    }
}

/// Every status the simulated workflow visits, with its category.
pub const WORKFLOW: &[(&str, StatusCategory)] = &[
    ("Open", StatusCategory::Todo),
    ("In Progress", StatusCategory::InProgress),
    ("Review", StatusCategory::InProgress),
    ("Testing", StatusCategory::InProgress),
    ("Done", StatusCategory::Done),
    ("Cancelled", StatusCategory::Done),
];
