//! flowlake's sources: each turns an external system into pages of [`RawRecord`]s and normalizes them into
//! the domain model.
//!
//! A source never knows which store is used. It hands out pages with the cursors (one per stream the page
//! advances, [`StreamCursors`]) that follow them; the engine lands each page and only then saves those
//! cursors, so a crash replays at most one page.
// A panic on input a user or an API controls is a bug: code returns errors instead (tests may unwrap).
#![cfg_attr(not(test), deny(clippy::unwrap_used))]

mod api;
mod checked;
mod cursors;
pub mod generator;
pub mod github;
pub mod gitlab;
pub mod http;
pub mod jira;
mod normalizer;
pub mod registry;
mod retriable;
pub mod yandex_tracker;

pub(crate) use api::{api_client, token_ready, ApiConfig, TokenCheck, Without};
pub use checked::{Check, Checked};
pub use cursors::StreamCursors;
pub use normalizer::Normalizer;
pub(crate) use normalizer::{bad_record, parse_payload};

use std::collections::BTreeMap;

use flowlake_core::RawRecord;
use http::RequestStats;

/// Named values picked from a landed payload by JSON pointer (`story_points = "/fields/customfield_10016"`),
/// `null` where the pointer finds nothing; the trackers' `custom_fields` config.
pub fn pick_fields(
    payload: &serde_json::Value,
    pointers: &BTreeMap<String, String>,
) -> serde_json::Map<String, serde_json::Value> {
    pointers
        .iter()
        .map(|(name, pointer)| {
            (
                name.clone(),
                payload
                    .pointer(pointer)
                    .cloned()
                    .unwrap_or(serde_json::Value::Null),
            )
        })
        .collect()
}

/// `t` minus `minutes` (a configured lookback), never before 1970: a lookback too long for the calendar
/// means "read everything again", not a panic in date arithmetic.
pub fn minutes_before(
    t: chrono::DateTime<chrono::Utc>,
    minutes: u64,
) -> chrono::DateTime<chrono::Utc> {
    seconds_before(t, minutes.saturating_mul(60))
}

/// `t` minus `seconds`, never before 1970 (see [`minutes_before`]).
pub fn seconds_before(
    t: chrono::DateTime<chrono::Utc>,
    seconds: u64,
) -> chrono::DateTime<chrono::Utc> {
    i64::try_from(seconds)
        .ok()
        .and_then(chrono::TimeDelta::try_seconds)
        .and_then(|d| t.checked_sub_signed(d))
        .map_or(chrono::DateTime::UNIX_EPOCH, |since| {
            since.max(chrono::DateTime::UNIX_EPOCH)
        })
}

/// Checks `custom_fields` pointers; the message names the key.
pub fn check_pointers(pointers: &BTreeMap<String, String>) -> Result<(), ConfigError> {
    match pointers.iter().find(|(_, p)| !p.starts_with('/')) {
        Some((name, p)) => Err(ConfigError::value(
            format!("custom_fields.{name}"),
            format!("`{p}` is not a JSON pointer (it starts with `/`)"),
        )),
        None => Ok(()),
    }
}

/// Checks an API source's `base_url` (or another endpoint key, `key`): an http(s) URL with no query string or
/// fragment, since the API paths are appended to it (`https://x/jira?foo=1` would become
/// `https://x/jira?foo=1/rest/api/2/search`). The message names the key.
pub fn check_base_url(key: &str, url: &str) -> Result<(), ConfigError> {
    let shown = http::redact_url(url);
    if !url.starts_with("http://") && !url.starts_with("https://") {
        return Err(ConfigError::value(
            key,
            format!("`{shown}` is not an http(s) URL"),
        ));
    }
    if url.contains(['?', '#']) {
        return Err(ConfigError::value(key, format!("`{shown}` has a query string or fragment; give the address only (with a context path if \
             any, e.g. `https://jira.example.com/jira`): flowlake appends the API paths to it")));
    }
    Ok(())
}

/// What a source failed at, with the record or request it was handling.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// A payload that does not have the shape the normalizer expects.
    #[error("{source_name}/{stream} record {key}: {message}")]
    BadRecord {
        /// Source name.
        source_name: String,
        /// Stream name.
        stream: String,
        /// Record key.
        key: String,
        /// What is wrong, naming the field.
        message: String,
    },
    /// A saved cursor this source cannot read.
    #[error("cursor `{0}` is not valid for this source")]
    BadCursor(String),
    /// A request failed after its retries and waits.
    #[error(transparent)]
    Http(#[from] http::HttpError),
    /// A pager whose server does not advance (a cursor that repeats, a page with nothing new): stopped
    /// rather than asking for the same page forever.
    #[error(transparent)]
    Paging(#[from] http::StuckPaging),
    /// The API answered, but not with the data asked for (GraphQL errors, a missing repository).
    #[error("{0}")]
    Api(ApiError),
    /// The source's configuration cannot work (a missing token file, a bad repository name).
    #[error("{0}")]
    Config(String),
}

/// A config value a source cannot work with, naming the key inside the source's table (`page_size`,
/// `custom_fields.points`). It prints `key: message`, the form the engine prefixes with `sources[i].` and
/// finds in the file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// A key whose value is wrong (or keys of which one is needed: `projects or jql`).
    #[error("{key}: {message}")]
    Value {
        /// The key, relative to the source's table.
        key: String,
        /// What is wrong with it.
        message: String,
    },
    /// Keys that are wrong together: `days, page_size and people_per_project must be positive`.
    #[error("{keys} {message}")]
    Together {
        /// The keys, as a phrase.
        keys: String,
        /// What they must be.
        message: String,
    },
}

impl ConfigError {
    /// `key`'s value is wrong: `message` says why.
    pub fn value(key: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Value {
            key: key.into(),
            message: message.into(),
        }
    }

    /// The key (or keys) the error is about.
    pub fn key(&self) -> &str {
        match self {
            Self::Value { key, .. } => key,
            Self::Together { keys, .. } => keys,
        }
    }
}

impl SourceError {
    /// An answer that is not what was asked for (see [`ApiError`]).
    pub fn api(e: impl Into<ApiError>) -> Self {
        Self::Api(e.into())
    }
}

/// What an API answered instead of the data asked for. Each case's text is what the CLI prints.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// A GraphQL answer without data: its errors, or `no data and no error`.
    #[error("GraphQL {query}: {errors}")]
    GraphQl {
        /// The query's label, with the node it asked about (`issues`, `timeline of I_1`).
        query: String,
        /// The errors GraphQL gave, joined.
        errors: String,
    },
    /// A GraphQL answer whose data does not have the shape the query asks for.
    #[error("GraphQL {query}: unexpected shape: {message}")]
    Shape {
        /// The query's label.
        query: String,
        /// What the parser found wrong.
        message: String,
    },
    /// A repository GitHub answers 404 for.
    #[error("repository {repo}: {message} (it does not exist, or the token cannot read it)")]
    RepositoryRefused {
        /// `owner/name`.
        repo: String,
        /// GitHub's message.
        message: String,
    },
    /// A repository a GraphQL query finds no data for.
    #[error("repository {repo}: not found, or the token cannot read it")]
    RepositoryNotFound {
        /// `owner/name`.
        repo: String,
    },
    /// A time zone the Jira instance names that is not in the IANA database.
    #[error("Jira time zone `{name}` is not an IANA time zone")]
    TimeZone {
        /// The name Jira gave.
        name: String,
    },
    /// A request of a concurrent batch whose answer did not come back.
    #[error("an {what} request went missing")]
    Missing {
        /// What was asked for (`events`).
        what: &'static str,
    },
    /// A cursor that could not be written as JSON.
    #[error("{0}")]
    Cursor(serde_json::Error),
    /// Anything else, in words (a test's fake source, a source without cases of its own yet).
    #[error("{0}")]
    Other(String),
}

impl From<serde_json::Error> for ApiError {
    fn from(e: serde_json::Error) -> Self {
        Self::Cursor(e)
    }
}

impl From<String> for ApiError {
    fn from(message: String) -> Self {
        Self::Other(message)
    }
}

impl From<&str> for ApiError {
    fn from(message: &str) -> Self {
        Self::Other(message.to_string())
    }
}

/// One page of records and the cursors to resume after it.
#[derive(Debug, Clone)]
pub struct Page {
    /// The records, payloads untouched.
    pub records: Vec<RawRecord>,
    /// The cursors of the streams this page advances, each resuming its stream right after this page;
    /// streams it does not move are left out (their saved cursors stay).
    pub cursors: StreamCursors,
    /// Work the source knows is left after this page, for progress bars.
    pub remaining_hint: Option<u64>,
}

impl Page {
    /// A page advancing one stream: what a single-stream source hands out.
    pub fn of(
        stream: &str,
        records: Vec<RawRecord>,
        cursor: impl Into<String>,
        remaining_hint: Option<u64>,
    ) -> Self {
        Self {
            records,
            cursors: StreamCursors::one(stream, cursor),
            remaining_hint,
        }
    }

    /// The cursor this page carries for `stream`.
    pub fn cursor(&self, stream: &str) -> Option<&str> {
        self.cursors.get(stream)
    }
}

/// A stream of pages from one external system. It normalizes what it fetched with the [`Normalizer`] it
/// carries, the one the registry builds from its config alone for a rebuild.
pub trait Source: Normalizer {
    /// The configured source name.
    fn name(&self) -> &str;
    /// The streams this source keeps a cursor for, each under the sync state key `{name}/{stream}`: one per
    /// stream, so that no source folds several streams' positions into one document of its own.
    fn streams(&self) -> Vec<String>;
    /// Streams whose keys held this source's cursor in an earlier release (GitHub's one `repositories`
    /// document, GitLab's one `projects` document).
    /// A run reads them with [`Source::streams`] and hands them to [`Source::next_page`], which converts them
    /// into per-stream cursors — a stream's own saved cursor, when there is one, wins — and carries every
    /// stream's converted cursor in its first page; the engine deletes the old keys when that page commits.
    fn former_streams(&self) -> Vec<String> {
        Vec::new()
    }
    /// Total records expected in this run, when the source knows it (for progress bars).
    fn size_hint(&self, cursors: &StreamCursors) -> Option<u64>;
    /// The page after `cursors` (the saved ones, with every committed page's cursors set over them; empty
    /// for a first run), or `None` when there is nothing more.
    fn next_page(&mut self, cursors: &StreamCursors) -> Result<Option<Page>, SourceError>;
    /// Requests made so far, per stream (API sources; empty for the others).
    fn request_stats(&self) -> BTreeMap<String, RequestStats> {
        BTreeMap::new()
    }
}

#[cfg(test)]
mod lookback_tests {
    use chrono::{DateTime, Utc};

    #[test]
    fn a_lookback_too_long_for_the_calendar_reads_from_1970_instead_of_panicking() {
        let t: DateTime<Utc> = "2026-01-01T00:10:00Z".parse().unwrap();
        assert_eq!(
            super::minutes_before(t, 10),
            "2026-01-01T00:00:00Z".parse::<DateTime<Utc>>().unwrap()
        );
        for huge in [u64::MAX, i64::MAX as u64, 10u64.pow(15)] {
            assert_eq!(super::minutes_before(t, huge), DateTime::UNIX_EPOCH);
            assert_eq!(super::seconds_before(t, huge), DateTime::UNIX_EPOCH);
        }
    }
}

#[cfg(test)]
mod api_error_tests {
    use super::{ApiError, SourceError};

    /// The texts the `String` these cases replaced carried, which the CLI prints and its tests match.
    #[test]
    fn api_errors_print_the_texts_they_printed_as_strings() {
        let cases = [
            (
                ApiError::GraphQl {
                    query: "issues".into(),
                    errors: "no data and no error".into(),
                },
                "GraphQL issues: no data and no error",
            ),
            (
                ApiError::GraphQl {
                    query: "timeline of I_1".into(),
                    errors: "NOT_FOUND: gone".into(),
                },
                "GraphQL timeline of I_1: NOT_FOUND: gone",
            ),
            (
                ApiError::Shape {
                    query: "search".into(),
                    message: "missing field `nodes`".into(),
                },
                "GraphQL search: unexpected shape: missing field `nodes`",
            ),
            (
                ApiError::RepositoryRefused {
                    repo: "a/b".into(),
                    message: "Not Found".into(),
                },
                "repository a/b: Not Found (it does not exist, or the token cannot read it)",
            ),
            (
                ApiError::RepositoryNotFound { repo: "a/b".into() },
                "repository a/b: not found, or the token cannot read it",
            ),
            (
                ApiError::TimeZone {
                    name: "Mars/Olympus".into(),
                },
                "Jira time zone `Mars/Olympus` is not an IANA time zone",
            ),
            (
                ApiError::Missing { what: "events" },
                "an events request went missing",
            ),
            (ApiError::from("in words"), "in words"),
        ];
        for (error, text) in cases {
            assert_eq!(SourceError::Api(error).to_string(), text);
        }
        let json = serde_json::from_str::<u8>("x").unwrap_err();
        let text = json.to_string();
        assert_eq!(SourceError::api(json).to_string(), text);
    }
}

#[cfg(test)]
mod config_error_tests {
    use super::ConfigError;
    use crate::generator::GeneratorConfig;

    /// The engine prefixes `sources[i].` and finds the key in the file by the text before `: `, so the
    /// texts stay those the `String`s carried.
    #[test]
    fn config_errors_name_their_key_and_print_as_the_strings_did() {
        let e = ConfigError::value("page_size", "0 is outside 1 to 100");
        assert_eq!(
            (e.key(), e.to_string().as_str()),
            ("page_size", "page_size: 0 is outside 1 to 100")
        );
        let zero = GeneratorConfig {
            days: 0,
            ..GeneratorConfig::default()
        };
        let e = zero.validate().unwrap_err();
        assert_eq!(e.key(), "days, page_size and people_per_project");
        assert_eq!(
            e.to_string(),
            "days, page_size and people_per_project must be positive"
        );
        let e = super::check_base_url("graphql_url", "ftp://x").unwrap_err();
        assert_eq!(e.key(), "graphql_url");
        assert_eq!(
            e.to_string(),
            "graphql_url: `ftp://x` is not an http(s) URL"
        );
    }
}
