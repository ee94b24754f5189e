//! `flowlake backfill` for GitHub: items created in a date range, read through search one window of creation
//! days at a time, so no search passes GitHub's 1,000-result cap (a window holding more is halved before any
//! page of it is read). Its cursor is the current window, under its own state key, so the incremental
//! cursors are untouched.

use std::collections::BTreeMap;

use chrono::{Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::cursor::{Cursor, Stream};
use super::query::{self, Connection};
use super::source::{node_keys, GithubSource, Run};
use crate::{ApiError, Page, SourceError};

/// A history backfill: items created in `[from, to)`, read through search one window at a time so no search
/// passes GitHub's 1,000-result cap (a window holding more is halved until it fits).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backfill {
    /// First day.
    pub from: NaiveDate,
    /// Day after the last.
    pub to: NaiveDate,
    /// Days per window.
    pub window_days: u32,
}

impl Backfill {
    /// The end of the window starting at `start`: `window_days` later, or `to` when that comes first or
    /// lies past the calendar's end (any `window_days` is safe: the arithmetic is checked).
    pub(super) fn window_end(&self, start: NaiveDate) -> NaiveDate {
        start
            .checked_add_days(chrono::Days::new(u64::from(self.window_days.max(1))))
            .map_or(self.to, |end| end.min(self.to))
    }
}

/// GitHub search returns at most this many results per query.
const SEARCH_CAP: u64 = 1000;

/// Where a backfill is: one repository, one kind, one window of creation days, one search page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Window {
    repo: String,
    stream: Stream,
    start: NaiveDate,
    /// Exclusive.
    end: NaiveDate,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    after: Option<String>,
}

impl GithubSource {
    /// The same source reading history created in a date range instead of syncing incrementally; its cursor
    /// lives under its own state key (`backfill:FROM..TO`), so the incremental cursor is untouched.
    pub fn with_backfill(mut self, backfill: Backfill) -> Self {
        let stream = format!("backfill:{}..{}", backfill.from, backfill.to);
        self.backfill = Some((backfill, stream, None));
        self
    }

    /// The state key's stream of a backfill.
    pub(super) fn backfill_stream(&self) -> Option<&str> {
        self.backfill.as_ref().map(|(_, s, _)| s.as_str())
    }

    /// The first window of the backfill at or after (`repo`, `stream`), `None` past the last repository.
    pub(super) fn first_window(
        &self,
        repos: &[String],
        from_repo: usize,
        from_stream: usize,
    ) -> Option<Window> {
        let (b, _, _) = self.backfill.as_ref()?;
        let streams = self.streams();
        let (repo_i, stream_i) = if from_stream < streams.len() {
            (from_repo, from_stream)
        } else {
            (from_repo + 1, 0)
        };
        Some(Window {
            repo: repos.get(repo_i)?.clone(),
            stream: *streams.get(stream_i)?,
            start: b.from,
            end: b.window_end(b.from),
            after: None,
        })
    }

    /// The window after `w`: the next days, else the next stream, else the next repository.
    pub(super) fn next_window(&self, repos: &[String], w: &Window) -> Option<Window> {
        let (b, _, _) = self.backfill.as_ref()?;
        if w.end < b.to {
            return Some(Window {
                start: w.end,
                end: b.window_end(w.end),
                after: None,
                ..w.clone()
            });
        }
        let repo_i = repos.iter().position(|r| *r == w.repo)?;
        let stream_i = self.streams().iter().position(|s| *s == w.stream)?;
        self.first_window(repos, repo_i, stream_i + 1)
    }

    /// One backfill step: a page of records and the cursor after it, or `None` when the range is done.
    pub(super) fn backfill_page(
        &mut self,
        saved: Option<&str>,
    ) -> Result<Option<Page>, SourceError> {
        crate::token_ready(&self.token_error)?;
        if self.run.is_none() {
            let mut scratch = Cursor::default();
            let repos = self.resolve_repos(&mut scratch)?;
            let at: Option<Window> = match saved {
                None => self.first_window(&repos, 0, 0),
                Some(s) => serde_json::from_str(s)
                    .map_err(|e| SourceError::BadCursor(format!("{s}: {e}")))?,
            };
            if let Some((_, _, w)) = &mut self.backfill {
                *w = at;
            }
            self.run = Some(Run {
                cursor: scratch,
                repos,
                next_repo: 0,
                members_checked: true,
                saved: BTreeMap::new(),
                pager: None,
            });
        }
        loop {
            let Some(w) = self.backfill.as_ref().and_then(|(_, _, w)| w.clone()) else {
                return Ok(None);
            };
            let kind = match w.stream {
                Stream::Issues => "issue",
                // Backfill plans issues and pull requests only.
                Stream::PullRequests | Stream::Deployments | Stream::Releases => "pr",
            };
            // Search ranges are inclusive days.
            let last = w.end.pred_opt().unwrap_or(w.start).max(w.start);
            let q = format!(
                "repo:{} is:{kind} created:{}..{last} sort:created-asc",
                w.repo, w.start
            );
            let vars = json!({"q": q, "first": self.config.page_size, "after": w.after});
            let data = self.graphql("search", &query::search_page(), vars)?;
            let conn = Connection::deserialize(data.pointer("/search").unwrap_or(&Value::Null))
                .map_err(|e| {
                    SourceError::Api(ApiError::Shape {
                        query: "search".into(),
                        message: e.to_string(),
                    })
                })?;
            let found = conn.issue_count.unwrap_or(0);
            if found > SEARCH_CAP && w.after.is_none() && w.end - w.start > Duration::days(1) {
                let half = w.start + Duration::days((w.end - w.start).num_days() / 2);
                tracing::info!(repo = %w.repo, q, found, "more than search returns: halving the window");
                if let Some((_, _, at)) = &mut self.backfill {
                    *at = Some(Window { end: half, ..w });
                }
                continue;
            }
            if found > SEARCH_CAP {
                tracing::warn!(repo = %w.repo, q, found, "one day holds more than 1,000 items; search returns only the first 1,000");
            }
            if conn.page_info.has_next_page {
                let stream = format!("search {q}");
                let name = self.config.name.clone();
                if let Some(run) = self.run.as_mut() {
                    run.pager(&name, stream).advance(
                        w.after.as_deref(),
                        conn.page_info.end_cursor.as_deref(),
                        node_keys(&conn.nodes),
                    )?;
                }
            }
            let mut nodes: Vec<Value> = conn.nodes.into_iter().filter(|n| !n.is_null()).collect();
            self.complete(&mut nodes)?;
            let fetched_at = Utc::now();
            let records = nodes
                .into_iter()
                .map(|n| self.record(w.stream, n, fetched_at))
                .collect();
            let repos = self
                .run
                .as_ref()
                .map(|r| r.repos.clone())
                .unwrap_or_default();
            let next = if conn.page_info.has_next_page {
                Some(Window {
                    after: conn.page_info.end_cursor,
                    ..w
                })
            } else {
                self.next_window(&repos, &w)
            };
            let cursor = serde_json::to_string(&next).map_err(SourceError::api)?;
            if let Some((_, _, at)) = &mut self.backfill {
                *at = next;
            }
            let stream = self.backfill_stream().unwrap_or_default().to_string();
            return Ok(Some(Page::of(&stream, records, cursor, None)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    pub(super) fn a_backfill_window_past_the_calendars_end_stops_at_the_range_end() {
        let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        let b = |window_days| Backfill {
            from: day(2026, 1, 1),
            to: day(2026, 3, 1),
            window_days,
        };
        assert_eq!(b(30).window_end(day(2026, 1, 1)), day(2026, 1, 31));
        assert_eq!(b(30).window_end(day(2026, 2, 15)), day(2026, 3, 1));
        assert_eq!(b(0).window_end(day(2026, 1, 1)), day(2026, 1, 2));
        assert_eq!(b(u32::MAX).window_end(day(2026, 1, 1)), day(2026, 3, 1));
        let to_the_end = Backfill {
            to: NaiveDate::MAX,
            ..b(u32::MAX)
        };
        assert_eq!(to_the_end.window_end(NaiveDate::MAX), NaiveDate::MAX);
    }
}
