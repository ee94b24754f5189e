//! The Jira source: statuses once per run, then issues updated since the cursor with their changelogs.
//!
//! A run first reads the instance's statuses (`/status`, landed as `_statuses` records so rebuilds know
//! every status's category) and fields (`/field`, landed as `_fields`: custom field names, the sprint
//! field) and, unless configured, the API user's time zone (`/myself`: JQL dates are
//! read in it). Then it searches `<filter> AND updated >= "<cursor − look-back>" ORDER BY updated ASC, key
//! ASC` with the changelog embedded — Cloud's `/rest/api/3/search/jql` paged by `nextPageToken`, Server's
//! `/rest/api/2/search` by `startAt` — and only for issues whose embedded changelog was cut asks the
//! changelog endpoint for the rest. The cursor is the newest `updated` committed: results come oldest update
//! first, so a killed run resumes from it and at most re-reads the items of the last minute.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use flowlake_core::RawRecord;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::config::{Flavor, JiraConfig};
use super::normalize::parse_time;
use super::normalizer::JiraNormalizer;
use crate::http::{
    encode_component, item_key, BlockingClient, HttpObserver, PageGuard, Pager, Pagination,
    Request, RequestStats, Tape,
};
use crate::{ApiError, Normalizer, Page, Source, SourceError, StreamCursors};

/// The state key's stream.
pub const STREAM: &str = "issues";
/// Lookup stream of the instance's statuses.
pub(super) const STATUSES: &str = "_statuses";
/// Lookup stream of the instance's fields.
pub(super) const FIELDS: &str = "_fields";
/// The lookup streams, absorbed before the issues.
pub(super) const LOOKUPS: &[&str] = &[STATUSES, FIELDS];

/// The cursor: the newest `updated` of the issues committed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
struct Cursor {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    updated: Option<DateTime<Utc>>,
}

/// Where the current run's search is.
#[derive(Debug)]
enum Paging {
    /// Statuses not read yet.
    Statuses,
    /// Searching: the pager of Cloud's `nextPageToken` or Server's `startAt` pages.
    Search(Box<Pager>),
    /// Nothing left.
    Done,
}

/// Issues of a Jira Cloud or Server/Data Center instance.
pub struct JiraSource {
    config: JiraConfig,
    flavor: Flavor,
    client: BlockingClient,
    token_error: crate::TokenCheck,
    paging: Paging,
    cursor: Cursor,
    /// JQL of this run (fixed at its start).
    jql: String,
    /// Normalizes what was read; knows the statuses and fields the lookups gave.
    normalizer: JiraNormalizer,
}

crate::api::api_source_debug!(JiraSource);

/// A JQL string literal.
fn quoted(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// Indexes of the issues whose embedded list at `at` (`{total, <list>: […]}`) holds fewer entries than its
/// `total`: Jira cut it.
fn cut_lists(issues: &[Value], at: &str, list: &str) -> Vec<usize> {
    issues
        .iter()
        .enumerate()
        .filter(|(_, i)| {
            let have = i
                .pointer(&format!("{at}/{list}"))
                .and_then(Value::as_array)
                .map_or(0, Vec::len) as u64;
            i.pointer(&format!("{at}/total"))
                .and_then(Value::as_u64)
                .is_some_and(|t| t > have)
        })
        .map(|(n, _)| n)
        .collect()
}

impl JiraSource {
    /// A source for `config`; no request is made until the first page.
    pub fn new(
        config: JiraConfig,
        tape: Tape,
        observer: Arc<dyn HttpObserver>,
    ) -> Result<Self, SourceError> {
        let (client, token_error) = crate::api_client(&config, tape, observer)?;
        Ok(Self {
            normalizer: JiraNormalizer::new(&config),
            flavor: config.flavor(),
            config,
            client,
            token_error,
            paging: Paging::Statuses,
            cursor: Cursor::default(),
            jql: String::new(),
        })
    }

    fn api_path(&self, rest: &str) -> String {
        let v = if self.flavor == Flavor::Cloud { 3 } else { 2 };
        format!("rest/api/{v}/{rest}")
    }

    /// The time zone JQL dates are read in.
    fn time_zone(&self) -> Result<chrono_tz::Tz, SourceError> {
        let name = match &self.config.time_zone {
            Some(tz) => tz.clone(),
            None => {
                let me: Value = self
                    .client
                    .send(Request::get("myself", self.api_path("myself")))?
                    .json()?;
                me["timeZone"].as_str().unwrap_or("UTC").to_string()
            }
        };
        name.parse().map_err(|_| {
            SourceError::Api(ApiError::TimeZone {
                name: name.to_string(),
            })
        })
    }

    /// The run's JQL: the filter, the cursor in the user's time zone, oldest update first.
    fn build_jql(&self) -> Result<String, SourceError> {
        let filter = match &self.config.jql {
            Some(j) => format!("({j})"),
            None => format!(
                "project in ({})",
                self.config
                    .projects
                    .iter()
                    .map(|p| quoted(p))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        let since = self
            .cursor
            .updated
            .map(|u| crate::minutes_before(u, self.config.lookback_minutes));
        Ok(match since {
            None => format!("{filter} ORDER BY updated ASC, key ASC"),
            Some(t) => {
                let local = t.with_timezone(&self.time_zone()?);
                format!(
                    "{filter} AND updated >= {} ORDER BY updated ASC, key ASC",
                    quoted(&local.format("%Y/%m/%d %H:%M").to_string())
                )
            }
        })
    }

    /// The statuses and fields of the instance, as lookup records.
    fn lookups_page(&mut self) -> Result<Page, SourceError> {
        let fetched_at = Utc::now();
        let mut records = Vec::new();
        for (label, path, stream) in [
            ("statuses", "status", STATUSES),
            ("fields", "field", FIELDS),
        ] {
            let all: Vec<Value> = self
                .client
                .send(Request::get(label, self.api_path(path)))?
                .json()?;
            records.extend(all.into_iter().filter_map(|v| {
                let id = v.get("id")?.as_str()?.to_string();
                Some(RawRecord {
                    source: self.config.name.clone(),
                    stream: stream.into(),
                    key: id,
                    updated_at: None,
                    fetched_at,
                    payload: v,
                })
            }));
        }
        for r in &records {
            self.normalizer.absorb(r)?;
        }
        self.jql = self.build_jql()?;
        self.paging = Paging::Search(Box::new(self.search_pager()));
        Ok(Page {
            records,
            cursors: StreamCursors::one(
                STREAM,
                serde_json::to_string(&self.cursor).map_err(SourceError::api)?,
            ),
            remaining_hint: None,
        })
    }

    /// The pager of this run's search: Cloud's `/search/jql` by `nextPageToken` (to the page that says
    /// `isLast`), Server's `/search` by `startAt` (to the `total`), both ending at an empty page.
    fn search_pager(&self) -> Pager {
        let n = self.config.page_size;
        let jql = encode_component(&self.jql);
        let fields = if self.config.worklogs {
            "*navigable,worklog"
        } else {
            "*navigable"
        };
        let (url, style) = if self.flavor == Flavor::Cloud {
            (
                format!(
                    "{}?jql={jql}&maxResults={n}&fields={fields}&expand=changelog",
                    self.api_path("search/jql")
                ),
                Pagination::Token {
                    pointer: "/nextPageToken".into(),
                    param: "nextPageToken".into(),
                    last: Some("/isLast".into()),
                },
            )
        } else {
            (
                format!(
                    "{}?jql={jql}&startAt=0&maxResults={n}&fields={fields}&expand=changelog",
                    self.api_path("search")
                ),
                Pagination::OffsetLimit {
                    offset_param: "startAt".into(),
                    limit: n,
                    total: Some("/total".into()),
                    last: None,
                },
            )
        };
        let guard = PageGuard::new(&self.config.name, STREAM);
        Pager::new(style, Request::get("search", url), guard).stop_at_empty()
    }

    /// The next search page of `pager`: its issues, changelogs and worklogs completed (none once the search
    /// is over).
    fn search(&mut self, pager: &mut Pager) -> Result<Vec<Value>, SourceError> {
        let Some(request) = pager.next_request() else {
            return Ok(Vec::new());
        };
        let response = self.client.send(request.clone())?;
        let page: Value = response.json()?;
        let mut issues = page["issues"].as_array().cloned().unwrap_or_default();
        pager.read(&request, &response, issues.iter().map(item_key).collect())?;
        self.complete_changelogs(&mut issues)?;
        self.complete_worklogs(&mut issues)?;
        Ok(issues)
    }

    /// Replaces every cut embedded changelog with the whole one, fetched concurrently.
    fn complete_changelogs(&self, issues: &mut [Value]) -> Result<(), SourceError> {
        let cut = cut_lists(issues, "/changelog", "histories");
        if cut.is_empty() {
            return Ok(());
        }
        if self.flavor == Flavor::Server {
            // Server's issue endpoint returns the whole changelog.
            let requests = cut
                .iter()
                .map(|&n| {
                    let key = issues[n]["key"].as_str().unwrap_or_default();
                    Request::get(
                        "changelog",
                        format!(
                            "{}?fields=none&expand=changelog",
                            self.api_path(&format!("issue/{}", encode_component(key)))
                        ),
                    )
                })
                .collect();
            for (&n, r) in cut.iter().zip(self.client.send_all(requests)) {
                let whole: Value = r?.json()?;
                issues[n]["changelog"] = whole["changelog"].clone();
            }
            return Ok(());
        }
        // Cloud: the changelog endpoint, paged by startAt; every cut issue's pages run concurrently.
        let keys: Vec<&str> = cut
            .iter()
            .map(|&n| issues[n]["key"].as_str().unwrap_or_default())
            .collect();
        let all = self.paged_lists("changelog", &keys, "changelog", "values", 100)?;
        for (i, histories) in all.into_iter().enumerate() {
            let total = histories.len();
            issues[cut[i]]["changelog"] =
                json!({"startAt": 0, "maxResults": total, "total": total, "histories": histories});
        }
        Ok(())
    }

    /// The whole list `issue/{key}/{what}` of each issue (in `keys`' order), the `list` array of pages paged
    /// by `startAt` (`max` a page, as the endpoint allows); the pages of all issues are read concurrently.
    fn paged_lists(
        &self,
        label: &str,
        keys: &[&str],
        what: &str,
        list: &str,
        max: u64,
    ) -> Result<Vec<Vec<Value>>, SourceError> {
        let style = Pagination::OffsetLimit {
            offset_param: "startAt".into(),
            limit: max as u32,
            total: Some("/total".into()),
            last: Some("/isLast".into()),
        };
        let mut pagers: Vec<Pager> = keys
            .iter()
            .map(|key| {
                let url = format!(
                    "{}?startAt=0&maxResults={max}",
                    self.api_path(&format!("issue/{}/{what}", encode_component(key)))
                );
                let guard = PageGuard::new(&self.config.name, format!("{what} of {key}"));
                Pager::new(style.clone(), Request::get(label, url), guard).stop_at_empty()
            })
            .collect();
        let mut all: Vec<Vec<Value>> = vec![Vec::new(); keys.len()];
        loop {
            let open: Vec<(usize, Request)> = pagers
                .iter_mut()
                .enumerate()
                .filter_map(|(i, p)| Some((i, p.next_request()?)))
                .collect();
            if open.is_empty() {
                break;
            }
            let requests = open.iter().map(|(_, r)| r.clone()).collect();
            for ((i, request), r) in open.iter().zip(self.client.send_all(requests)) {
                let response = r?;
                let page: Value = response.json()?;
                let values = page[list].as_array().cloned().unwrap_or_default();
                pagers[*i].read(request, &response, values.iter().map(item_key).collect())?;
                all[*i].extend(values);
            }
        }
        Ok(all)
    }

    /// Replaces every cut embedded worklog list with the whole one from the worklog endpoint (paged by
    /// `startAt`, up to 5,000 a page), fetched concurrently.
    fn complete_worklogs(&self, issues: &mut [Value]) -> Result<(), SourceError> {
        let cut = cut_lists(issues, "/fields/worklog", "worklogs");
        if cut.is_empty() {
            return Ok(());
        }
        let keys: Vec<&str> = cut
            .iter()
            .map(|&n| issues[n]["key"].as_str().unwrap_or_default())
            .collect();
        let all = self.paged_lists("worklog", &keys, "worklog", "worklogs", 5000)?;
        for (&n, worklogs) in cut.iter().zip(all) {
            let total = worklogs.len();
            issues[n]["fields"]["worklog"] =
                json!({"startAt": 0, "maxResults": total, "total": total, "worklogs": worklogs});
        }
        Ok(())
    }

    fn record(&self, issue: Value, fetched_at: DateTime<Utc>) -> Option<RawRecord> {
        Some(RawRecord {
            source: self.config.name.clone(),
            stream: STREAM.into(),
            key: issue.get("key")?.as_str()?.to_string(),
            updated_at: issue
                .pointer("/fields/updated")
                .and_then(Value::as_str)
                .and_then(parse_time),
            fetched_at,
            payload: issue,
        })
    }
}

impl Source for JiraSource {
    fn name(&self) -> &str {
        &self.config.name
    }

    fn streams(&self) -> Vec<String> {
        vec![STREAM.into()]
    }

    fn size_hint(&self, _cursors: &StreamCursors) -> Option<u64> {
        None
    }

    fn next_page(&mut self, cursors: &StreamCursors) -> Result<Option<Page>, SourceError> {
        let cursor = cursors.get(STREAM);
        crate::token_ready(&self.token_error)?;
        match std::mem::replace(&mut self.paging, Paging::Done) {
            Paging::Statuses => {
                self.cursor = match cursor {
                    None => Cursor::default(),
                    Some(c) => serde_json::from_str(c)
                        .map_err(|e| SourceError::BadCursor(format!("{c}: {e}")))?,
                };
                self.lookups_page().map(Some)
            }
            Paging::Done => Ok(None),
            Paging::Search(mut pager) => {
                // A failed page leaves the search where it was.
                let before = pager.clone();
                let issues = match self.search(&mut pager) {
                    Ok(issues) => issues,
                    Err(e) => {
                        self.paging = Paging::Search(before);
                        return Err(e);
                    }
                };
                if pager.has_next() {
                    self.paging = Paging::Search(pager);
                }
                let fetched_at = Utc::now();
                let records: Vec<RawRecord> = issues
                    .into_iter()
                    .filter_map(|i| self.record(i, fetched_at))
                    .collect();
                if let Some(high) = records.iter().filter_map(|r| r.updated_at).max() {
                    self.cursor.updated = self.cursor.updated.max(Some(high));
                }
                Ok(Some(Page {
                    records,
                    cursors: StreamCursors::one(
                        STREAM,
                        serde_json::to_string(&self.cursor).map_err(SourceError::api)?,
                    ),
                    remaining_hint: None,
                }))
            }
        }
    }

    fn request_stats(&self) -> BTreeMap<String, RequestStats> {
        self.client.client().stats()
    }
}

crate::normalizer::normalizes_with!(JiraSource);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jql_literals_and_query_values_are_escaped() {
        assert_eq!(quoted(r#"Team "A""#), r#""Team \"A\"""#);
        assert_eq!(encode_component("a b/\"ü\""), "a%20b%2F%22%C3%BC%22");
    }
}
