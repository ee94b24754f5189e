//! The Yandex Tracker source: statuses once per run, then issues updated since the cursor, each with its
//! whole changelog.
//!
//! The search is `<queues or query> AND Updated: >= "<cursor − look-back>" "Sort By": Updated ASC`, paged
//! (`perPage`/`page`, `X-Total-Pages`) or, above `scroll_above` matches, scrolled (`scrollType=sorted`,
//! then `scrollId` from `X-Scroll-Id`) since pages stop at 10,000 issues. Each issue's changelog follows
//! `Link: rel="next"` (an entry-id cursor); the changelogs of a page are read concurrently. The landed record
//! is the issue and its changelog together. Statuses are read once per run and kept as `_statuses` lookup
//! records: their types give each status its category.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use flowlake_core::{Normalized, RawRecord, StatusCategory};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::config::{parse_range, YandexTrackerConfig};
use super::normalize::{category_of, normalize_issue, IssueWithChangelog};
use crate::http::{next_link, BlockingClient, HttpObserver, Request, RequestStats, Tape};
use crate::jira::parse_time;
use crate::{Page, Source, SourceError};

/// The state key's stream.
pub const STREAM: &str = "issues";
const STATUSES: &str = "_statuses";
/// How long Tracker keeps a scroll open between requests.
const SCROLL_TTL_MS: u64 = 60_000;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
struct Cursor {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    updated: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Paging {
    Statuses,
    /// The next page number (from 1).
    Pages(u64),
    /// Scrolling; `None` before the first scroll request.
    Scroll(Option<String>),
    Done,
}

/// Issues of a Yandex Tracker organization.
pub struct YandexTrackerSource {
    config: YandexTrackerConfig,
    client: BlockingClient,
    token_error: Option<String>,
    paging: Paging,
    cursor: Cursor,
    body: String,
    known: BTreeMap<String, StatusCategory>,
}

impl std::fmt::Debug for YandexTrackerSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("YandexTrackerSource")
            .field("name", &self.config.name)
            .field("client", &self.client)
            .finish_non_exhaustive()
    }
}

fn api(e: impl std::fmt::Display) -> SourceError {
    SourceError::Api(e.to_string())
}

impl YandexTrackerSource {
    /// A source for `config`; no request is made until the first page.
    pub fn new(
        config: YandexTrackerConfig,
        tape: Tape,
        observer: Arc<dyn HttpObserver>,
    ) -> Result<Self, SourceError> {
        config
            .validate()
            .map_err(|m| SourceError::Config(format!("{}.{m}", config.name)))?;
        let (token, token_error) = match config.token() {
            Ok(t) => (t, None),
            Err(m) => (None, Some(format!("{}.{m}", config.name))),
        };
        let client = BlockingClient::new(config.http(token, tape), observer)?;
        Ok(Self {
            config,
            client,
            token_error,
            paging: Paging::Statuses,
            cursor: Cursor::default(),
            body: String::new(),
            known: BTreeMap::new(),
        })
    }

    /// The search body of this run.
    fn search_body(&self) -> String {
        let since = match self.cursor.updated {
            Some(u) => Some(u - Duration::minutes(self.config.lookback_minutes as i64)),
            None => self
                .config
                .initial_range
                .as_deref()
                .and_then(parse_range)
                .map(|s| Utc::now() - Duration::seconds(s)),
        };
        let mut parts: Vec<String> = self.config.filter().into_iter().collect();
        if let Some(t) = since {
            parts.push(format!("Updated: >= \"{}\"", t.format("%Y-%m-%d %H:%M:%S")));
        }
        let query = format!("{} \"Sort By\": Updated ASC", parts.join(" AND "));
        json!({ "query": query.trim() }).to_string()
    }

    fn statuses_page(&mut self) -> Result<Page, SourceError> {
        let all: Vec<Value> = self
            .client
            .send(Request::get("statuses", "v2/statuses"))?
            .json()?;
        let fetched_at = Utc::now();
        let records: Vec<RawRecord> = all
            .into_iter()
            .filter_map(|s| {
                let key = s.get("key")?.as_str()?.to_string();
                Some(RawRecord {
                    source: self.config.name.clone(),
                    stream: STATUSES.into(),
                    key,
                    updated_at: None,
                    fetched_at,
                    payload: s,
                })
            })
            .collect();
        for r in &records {
            self.absorb(r)?;
        }
        self.body = self.search_body();
        self.paging = Paging::Pages(1);
        Ok(Page {
            records,
            cursor: serde_json::to_string(&self.cursor).map_err(api)?,
            remaining_hint: None,
        })
    }

    /// One search request; the issues and the paging after them.
    fn search(&self, paging: &Paging) -> Result<(Vec<Value>, Paging), SourceError> {
        let n = self.config.per_page;
        let url = match paging {
            Paging::Pages(p) => format!("v2/issues/_search?perPage={n}&page={p}"),
            Paging::Scroll(None) => format!(
                "v2/issues/_search?scrollType=sorted&perScroll={n}&scrollTTLMillis={SCROLL_TTL_MS}"
            ),
            Paging::Scroll(Some(id)) => format!(
                "v2/issues/_search?scrollId={}&perScroll={n}&scrollTTLMillis={SCROLL_TTL_MS}",
                crate::jira::encode(id)
            ),
            _ => return Ok((Vec::new(), Paging::Done)),
        };
        let response = self
            .client
            .send(Request::post_json("search", url, self.body.clone()))?;
        let issues: Vec<Value> = response.json()?;
        let header = |h: &str| {
            response
                .header(h)
                .and_then(|v| v.trim().parse::<u64>().ok())
        };
        let next = match paging {
            Paging::Pages(p) => {
                if *p == 1 && header("x-total-count").unwrap_or(0) > self.config.scroll_above {
                    // Too many for pages: start over with a scroll (this page is dropped).
                    return Ok((Vec::new(), Paging::Scroll(None)));
                }
                if *p < header("x-total-pages").unwrap_or(1) && !issues.is_empty() {
                    Paging::Pages(p + 1)
                } else {
                    Paging::Done
                }
            }
            _ => match response.header("x-scroll-id") {
                Some(id) if !issues.is_empty() => Paging::Scroll(Some(id.to_string())),
                _ => Paging::Done,
            },
        };
        Ok((issues, next))
    }

    /// The whole changelog of every issue, fetched concurrently, following `Link: rel="next"`.
    fn changelogs(&self, issues: &[Value]) -> Result<Vec<Vec<Value>>, SourceError> {
        let mut all: Vec<Vec<Value>> = vec![Vec::new(); issues.len()];
        let mut open: Vec<(usize, String)> = issues
            .iter()
            .enumerate()
            .filter_map(|(i, issue)| {
                let key = issue.get("key")?.as_str()?;
                Some((
                    i,
                    format!(
                        "v2/issues/{}/changelog?perPage={}",
                        crate::jira::encode(key),
                        self.config.changelog_per_page
                    ),
                ))
            })
            .collect();
        while !open.is_empty() {
            let requests = open
                .iter()
                .map(|(_, url)| Request::get("changelog", url.clone()))
                .collect();
            let mut still = Vec::new();
            for ((i, _), r) in open.iter().zip(self.client.send_all(requests)) {
                let response = r?;
                let entries: Vec<Value> = response.json()?;
                let more = !entries.is_empty();
                all[*i].extend(entries);
                if let Some(next) = response.header("link").and_then(next_link) {
                    if more {
                        still.push((*i, next));
                    }
                }
            }
            open = still;
        }
        Ok(all)
    }
}

impl Source for YandexTrackerSource {
    fn name(&self) -> &str {
        &self.config.name
    }

    fn stream(&self) -> &str {
        STREAM
    }

    fn size_hint(&self, _cursor: Option<&str>) -> Option<u64> {
        None
    }

    fn next_page(&mut self, cursor: Option<&str>) -> Result<Option<Page>, SourceError> {
        if let Some(e) = &self.token_error {
            return Err(SourceError::Config(e.clone()));
        }
        loop {
            match self.paging.clone() {
                Paging::Statuses => {
                    self.cursor = match cursor {
                        None => Cursor::default(),
                        Some(c) => serde_json::from_str(c)
                            .map_err(|e| SourceError::BadCursor(format!("{c}: {e}")))?,
                    };
                    return self.statuses_page().map(Some);
                }
                Paging::Done => return Ok(None),
                paging => {
                    let (issues, next) = self.search(&paging)?;
                    self.paging = next;
                    if issues.is_empty() {
                        continue;
                    }
                    let changelogs = self.changelogs(&issues)?;
                    let fetched_at = Utc::now();
                    let records: Vec<RawRecord> = issues
                        .into_iter()
                        .zip(changelogs)
                        .filter_map(|(issue, changelog)| {
                            let id = issue.get("id")?.as_str()?.to_string();
                            let updated_at = issue
                                .get("updatedAt")
                                .and_then(Value::as_str)
                                .and_then(parse_time);
                            Some(RawRecord {
                                source: self.config.name.clone(),
                                stream: STREAM.into(),
                                key: id,
                                updated_at,
                                fetched_at,
                                payload: json!({"issue": issue, "changelog": changelog}),
                            })
                        })
                        .collect();
                    if let Some(high) = records.iter().filter_map(|r| r.updated_at).max() {
                        self.cursor.updated = self.cursor.updated.max(Some(high));
                    }
                    return Ok(Some(Page {
                        records,
                        cursor: serde_json::to_string(&self.cursor).map_err(api)?,
                        remaining_hint: None,
                    }));
                }
            }
        }
    }

    fn normalize(&self, raw: &RawRecord) -> Result<Normalized, SourceError> {
        if raw.stream == STATUSES {
            return Ok(Normalized::default());
        }
        let record: IssueWithChangelog =
            serde_json::from_value(raw.payload.clone()).map_err(|e| SourceError::BadRecord {
                source_name: raw.source.clone(),
                stream: raw.stream.clone(),
                key: raw.key.clone(),
                message: e.to_string(),
            })?;
        let mut h = normalize_issue(&self.config.name, &self.config.web_url, &record);
        h.item.custom_fields =
            Value::Object(crate::pick_fields(&raw.payload, &self.config.custom_fields));
        if let Some(c) = self.known.get(&h.item.status) {
            h.item.status_category = *c;
        }
        Ok(h.into())
    }

    fn absorb(&mut self, raw: &RawRecord) -> Result<(), SourceError> {
        if raw.stream == STATUSES {
            let name = raw.payload["display"]
                .as_str()
                .or_else(|| raw.payload["name"].as_str());
            let category = raw.payload["type"].as_str().and_then(category_of);
            if let (Some(name), Some(category)) = (name, category) {
                self.known.insert(name.to_string(), category);
            }
        }
        Ok(())
    }

    fn known_statuses(&self) -> Vec<(String, StatusCategory)> {
        self.known.iter().map(|(k, v)| (k.clone(), *v)).collect()
    }

    fn request_stats(&self) -> BTreeMap<String, RequestStats> {
        self.client.client().stats()
    }
}
