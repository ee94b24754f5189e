//! The GitHub source: repositories → issues and pull requests through GraphQL, one page per checkpoint.
//!
//! Per repository a run makes one conditional REST request first (the most recently updated issue or pull
//! request, `If-None-Match` with the ETag kept in the cursor): `304 Not Modified` — free of rate-limit cost —
//! means nothing in the repository changed, and the repository is skipped. Otherwise it pages through issues
//! updated since the saved `updatedAt` (minus the look-back), oldest first, then pull requests newest first
//! until one is older than the cursor. Every page carries its items' whole timelines and reviews; an item
//! with more than 100 events costs extra requests for that item only.
//!
//! Each stream keeps its own cursor (`super::cursor`): per repository the `updatedAt` watermark and the
//! probe's ETag, plus the position inside the repository being read. A page hands out the cursors that
//! resume right after it, so a killed run re-reads at most one page; watermarks and the ETags of a
//! repository only move once all of its pages are committed.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use flowlake_core::RawRecord;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::config::GithubConfig;
use super::cursor::{
    moved, saved_parts, Cursor, Position, Probes, RepoMarks, Saved, Stream, FORMER_STREAM,
    STATE_STREAMS,
};
use super::normalizer::GithubNormalizer;
use super::query::{self, Connection, Envelope, PageInfo};
use crate::http::{
    item_key, BlockingClient, HttpError, HttpObserver, PageGuard, Pager, Pagination, Request,
    RequestStats, Tape, Validators,
};
use crate::{ApiError, Page, Source, SourceError, StreamCursors};

/// The stream of organization members' raw records.
pub(super) const MEMBERS: &str = "members";

/// One run's progress.
struct Run {
    cursor: Cursor,
    repos: Vec<String>,
    /// Index of the next repository to probe.
    next_repo: usize,
    /// Whether the organization's members were checked this run.
    members_checked: bool,
    /// Each stream's cursor as last saved: a page carries the ones it changed.
    saved: BTreeMap<&'static str, String>,
    /// Watches the pages of the stream being read (or the backfill window), which come one per call.
    pager: Option<PageGuard>,
}

impl Run {
    /// The guard of `stream`, a new one when the run moved on to another stream.
    fn pager(&mut self, source: &str, stream: String) -> &mut PageGuard {
        if self.pager.as_ref().is_some_and(|g| g.stream() != stream) {
            self.pager = None;
        }
        self.pager
            .get_or_insert_with(|| PageGuard::new(source, stream))
    }
}

/// The keys a pager fingerprints a page by (see [`item_key`]).
fn node_keys(nodes: &[Value]) -> Vec<String> {
    nodes.iter().map(item_key).collect()
}

/// Issues and pull requests of GitHub repositories.
pub struct GithubSource {
    config: GithubConfig,
    normalizer: GithubNormalizer,
    client: BlockingClient,
    graphql_url: String,
    run: Option<Run>,
    /// Why the first request cannot be sent (no token, an unreadable token file), reported when it is due.
    token_error: crate::TokenCheck,
    /// A history backfill instead of an incremental sync, with its state key's stream and progress.
    backfill: Option<(Backfill, String, Option<Window>)>,
}

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
    fn window_end(&self, start: NaiveDate) -> NaiveDate {
        start
            .checked_add_days(chrono::Days::new(u64::from(self.window_days.max(1))))
            .map_or(self.to, |end| end.min(self.to))
    }
}

/// GitHub search returns at most this many results per query.
const SEARCH_CAP: u64 = 1000;

/// Where a backfill is: one repository, one kind, one window of creation days, one search page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Window {
    repo: String,
    stream: Stream,
    start: NaiveDate,
    /// Exclusive.
    end: NaiveDate,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    after: Option<String>,
}

crate::api::api_source_debug!(GithubSource);

impl GithubSource {
    /// A source for `config`, reading the token now; no request is made until the first page.
    pub fn new(
        config: GithubConfig,
        tape: Tape,
        observer: Arc<dyn HttpObserver>,
    ) -> Result<Self, SourceError> {
        let (client, token_error) = crate::api_client(&config, tape, observer)?;
        Ok(Self {
            graphql_url: config.graphql_endpoint(),
            normalizer: GithubNormalizer::new(&config),
            config,
            client,
            run: None,
            token_error,
            backfill: None,
        })
    }

    /// The same source reading history created in a date range instead of syncing incrementally; its cursor
    /// lives under its own state key (`backfill:FROM..TO`), so the incremental cursor is untouched.
    pub fn with_backfill(mut self, backfill: Backfill) -> Self {
        let stream = format!("backfill:{}..{}", backfill.from, backfill.to);
        self.backfill = Some((backfill, stream, None));
        self
    }

    /// The state key's stream of a backfill.
    fn backfill_stream(&self) -> Option<&str> {
        self.backfill.as_ref().map(|(_, s, _)| s.as_str())
    }

    /// The issues and pull requests streams this source reads (those the first probe answers for).
    fn streams(&self) -> Vec<Stream> {
        let mut v = Vec::new();
        if self.config.issues {
            v.push(Stream::Issues);
        }
        if self.config.pull_requests {
            v.push(Stream::PullRequests);
        }
        v
    }

    /// The first window of the backfill at or after (`repo`, `stream`), `None` past the last repository.
    fn first_window(
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
    fn next_window(&self, repos: &[String], w: &Window) -> Option<Window> {
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
    fn backfill_page(&mut self, saved: Option<&str>) -> Result<Option<Page>, SourceError> {
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

    fn probe_url(&self, repo: &str) -> String {
        self.client.client().absolute(&format!(
            "repos/{repo}/issues?state=all&sort=updated&direction=desc&per_page=1"
        ))
    }

    fn deployments_probe_url(&self, repo: &str) -> String {
        self.client
            .client()
            .absolute(&format!("repos/{repo}/deployments?per_page=1"))
    }

    fn releases_probe_url(&self, repo: &str) -> String {
        self.client
            .client()
            .absolute(&format!("repos/{repo}/releases?per_page=1"))
    }

    fn members_url(&self, org: &str) -> String {
        self.client
            .client()
            .absolute(&format!("orgs/{org}/members?per_page=100"))
    }

    fn org_url(&self, org: &str) -> String {
        self.client.client().absolute(&format!(
            "orgs/{org}/repos?type=all&sort=created&direction=desc&per_page=100"
        ))
    }

    /// The ETags the client holds for `repo`'s probes.
    fn probes(&self, repo: &str) -> Probes {
        Probes {
            etag: self.etag(&self.probe_url(repo)),
            deployments_etag: self.etag(&self.deployments_probe_url(repo)),
            releases_etag: self.etag(&self.releases_probe_url(repo)),
        }
    }

    /// The ETag the client holds for `url`.
    fn etag(&self, url: &str) -> Option<String> {
        self.client
            .client()
            .validators()
            .by_url
            .get(&crate::http::redact_url(url))
            .and_then(|(e, _)| e.clone())
    }

    /// Sends one GraphQL query; `data`, or the errors GitHub gave instead.
    fn graphql(&self, label: &str, query: &str, variables: Value) -> Result<Value, SourceError> {
        let body = json!({ "query": query, "variables": variables }).to_string();
        let response = self
            .client
            .send(Request::post_json(label, &self.graphql_url, body))?;
        let mut envelope: Envelope = response.json()?;
        match envelope.data.take() {
            Some(data) if !data.is_null() => {
                if !envelope.errors.is_empty() {
                    tracing::warn!(source = %self.config.name, errors = %envelope.error_text(), "GraphQL answered in part");
                }
                Ok(data)
            }
            _ => Err(SourceError::Api(ApiError::GraphQl {
                query: label.to_string(),
                errors: if envelope.errors.is_empty() {
                    "no data and no error".to_string()
                } else {
                    envelope.error_text()
                },
            })),
        }
    }

    /// The repositories to read: the configured ones and the organization's, sorted.
    fn resolve_repos(&self, cursor: &mut Cursor) -> Result<Vec<String>, SourceError> {
        let mut repos = self.config.repositories.clone();
        if let Some(org) = &self.config.organization {
            let first = self.org_url(org);
            let mut request = Request::get("repositories", &first);
            if !cursor.org_repos.is_empty() {
                request = request.conditional();
            }
            let guard = PageGuard::new(&self.config.name, format!("repositories of {org}"));
            let mut pager = Pager::new(Pagination::LinkHeader, request, guard);
            let mut listed = Vec::new();
            let mut unchanged = false;
            while let Some(request) = pager.next_request() {
                let response = self.client.send(request.clone())?;
                if response.not_modified() {
                    unchanged = true;
                    break;
                }
                let page: Vec<Value> = response.json()?;
                listed.extend(
                    page.iter()
                        .filter(|r| r["archived"] != Value::Bool(true))
                        .filter_map(|r| r["full_name"].as_str().map(str::to_string)),
                );
                pager.read(&request, &response, node_keys(&page))?;
            }
            if !unchanged {
                listed.sort();
                cursor.org_repos = listed;
                cursor.org_etag = self.etag(&first);
            }
            repos.extend(cursor.org_repos.iter().cloned());
        }
        repos.sort();
        repos.dedup();
        Ok(repos)
    }

    fn start(&mut self, saved: &StreamCursors) -> Result<Run, SourceError> {
        crate::token_ready(&self.token_error)?;
        // A bad cursor fails the run before any request.
        let joined = Saved::join(saved, &self.streams())?;
        let mut cursor = joined.cursor();
        let mut validators = Validators::default();
        for (repo, marks) in &cursor.repos {
            for (url, etag) in [
                (self.probe_url(repo), &marks.etag),
                (self.deployments_probe_url(repo), &marks.deployments_etag),
                (self.releases_probe_url(repo), &marks.releases_etag),
            ] {
                if let Some(etag) = etag {
                    validators
                        .by_url
                        .insert(crate::http::redact_url(&url), (Some(etag.clone()), None));
                }
            }
        }
        if let Some(org) = &self.config.organization {
            for (url, etag) in [
                (self.org_url(org), &cursor.org_etag),
                (self.members_url(org), &cursor.members_etag),
            ] {
                if let Some(etag) = etag {
                    validators
                        .by_url
                        .insert(crate::http::redact_url(&url), (Some(etag.clone()), None));
                }
            }
        }
        self.client.client().set_validators(validators);
        let repos = self.resolve_repos(&mut cursor)?;
        cursor.at = joined.resume(&repos);
        let next_repo = cursor
            .at
            .as_ref()
            .and_then(|p| repos.iter().position(|r| *r == p.repo))
            .map_or(0, |i| i + 1);
        Ok(Run {
            // A resumed run checked the members before it stopped.
            members_checked: cursor.at.is_some() || self.config.organization.is_none(),
            cursor,
            repos,
            next_repo,
            saved: saved_parts(saved),
            pager: None,
        })
    }

    /// Whether the resource behind `url` changed since its ETag was taken (always true without one).
    fn changed(&self, repo: &str, url: String) -> Result<bool, SourceError> {
        match self.client.send(Request::get("probe", url).conditional()) {
            Ok(r) => Ok(!r.not_modified()),
            // Issues disabled: GitHub answers 410 Gone; pull requests may still change.
            Err(HttpError::Status { status: 410, .. }) => Ok(true),
            Err(HttpError::Status {
                status: 404,
                message,
                ..
            }) => Err(SourceError::Api(ApiError::RepositoryRefused {
                repo: repo.to_string(),
                message,
            })),
            Err(e) => Err(e.into()),
        }
    }

    /// The streams of `repo` to read this run: issues and pull requests when their probe says they changed,
    /// deployments when theirs does.
    fn plan(&self, repo: &str) -> Result<Vec<Stream>, SourceError> {
        let mut plan = Vec::new();
        if (self.config.issues || self.config.pull_requests)
            && self.changed(repo, self.probe_url(repo))?
        {
            plan.extend(self.streams());
        }
        if self.config.deployments && self.changed(repo, self.deployments_probe_url(repo))? {
            plan.push(Stream::Deployments);
        }
        if self.config.releases && self.changed(repo, self.releases_probe_url(repo))? {
            plan.push(Stream::Releases);
        }
        Ok(plan)
    }

    /// The organization's members when their list changed since its ETag: one record each, all pages.
    fn changed_members(&self, org: &str) -> Result<Option<Vec<Value>>, SourceError> {
        let first = Request::get(MEMBERS, self.members_url(org)).conditional();
        let guard = PageGuard::new(&self.config.name, format!("members of {org}"));
        let mut pager = Pager::new(Pagination::LinkHeader, first, guard);
        let mut members = Vec::new();
        while let Some(request) = pager.next_request() {
            let response = self.client.send(request.clone())?;
            if response.not_modified() {
                return Ok(None);
            }
            let page: Vec<Value> = response.json()?;
            pager.read(&request, &response, node_keys(&page))?;
            members.extend(page);
        }
        Ok(Some(members))
    }

    fn since(&self, mark: Option<DateTime<Utc>>) -> Option<DateTime<Utc>> {
        mark.map(|m| crate::minutes_before(m, self.config.lookback_minutes))
            .or(self.config.start)
    }

    /// One page of `pos`: the nodes to land (timelines and reviews completed) and whether the stream is over.
    fn read_page(
        &self,
        pos: &Position,
        marks: &RepoMarks,
    ) -> Result<(Vec<Value>, PageInfo, bool, Vec<String>), SourceError> {
        let (owner, name) = pos.repo.split_once('/').unwrap_or((&pos.repo, ""));
        let (label, query, pointer, since) = match pos.stream {
            Stream::Issues => (
                "issues",
                query::issues_page(),
                "/repository/issues",
                self.since(marks.issues),
            ),
            Stream::PullRequests => (
                "pull_requests",
                query::pull_requests_page(),
                "/repository/pullRequests",
                self.since(marks.pull_requests),
            ),
            Stream::Deployments => (
                "deployments",
                query::deployments_page(),
                "/repository/deployments",
                self.since(marks.deployments),
            ),
            Stream::Releases => (
                "releases",
                query::releases_page(),
                "/repository/releases",
                self.since(marks.releases),
            ),
        };
        let mut vars = json!({"owner": owner, "name": name, "first": self.config.page_size, "after": pos.after});
        if pos.stream == Stream::Issues {
            vars["since"] = json!(since);
        }
        let data = self.graphql(label, &query, vars)?;
        if data.pointer("/repository").is_none_or(Value::is_null) {
            return Err(SourceError::Api(ApiError::RepositoryNotFound {
                repo: pos.repo.clone(),
            }));
        }
        let conn = Connection::deserialize(data.pointer(pointer).unwrap_or(&Value::Null)).map_err(
            |e| {
                SourceError::Api(ApiError::Shape {
                    query: label.to_string(),
                    message: e.to_string(),
                })
            },
        )?;
        let keys = node_keys(&conn.nodes);
        let mut nodes: Vec<Value> = conn.nodes.into_iter().filter(|n| !n.is_null()).collect();
        let mut done = !conn.page_info.has_next_page;
        match (pos.stream, since) {
            (Stream::PullRequests, Some(since)) => {
                let before = nodes.len();
                nodes.retain(|n| updated_at(n).is_none_or(|u| u >= since));
                done |= nodes.len() < before;
            }
            // Newest created first; a deployment gets its statuses (a release its publication) within a day
            // of its creation.
            (Stream::Deployments | Stream::Releases, Some(since)) => {
                nodes.retain(|n| updated_at(n).is_none_or(|u| u >= since));
                done |=
                    conn_created_before(&nodes_created(&data, pointer), since - Duration::days(1));
            }
            _ => {}
        }
        self.complete(&mut nodes)?;
        Ok((nodes, conn.page_info, done, keys))
    }

    /// Fetches the rest of every timeline and review list cut at the first page, concurrently.
    fn complete(&self, nodes: &mut [Value]) -> Result<(), SourceError> {
        for connection in ["timelineItems", "reviews", "comments"] {
            let label = match connection {
                "reviews" => "reviews",
                "comments" => "comments",
                _ => "timeline_items",
            };
            let text = query::rest_of_item(connection);
            let mut guards: BTreeMap<String, PageGuard> = BTreeMap::new();
            loop {
                let cut: Vec<(usize, String, String)> = nodes
                    .iter()
                    .enumerate()
                    .filter_map(|(i, n)| {
                        let info =
                            PageInfo::deserialize(n.get(connection)?.get("pageInfo")?).ok()?;
                        Some((i, n["id"].as_str()?.to_string(), info.end_cursor?))
                            .filter(|_| info.has_next_page)
                    })
                    .collect();
                if cut.is_empty() {
                    break;
                }
                let requests = cut
                    .iter()
                    .map(|(_, id, after)| {
                        let body = json!({"query": text, "variables": {"id": id, "after": after}})
                            .to_string();
                        Request::post_json(label, &self.graphql_url, body)
                    })
                    .collect();
                for ((i, id, after), response) in cut.iter().zip(self.client.send_all(requests)) {
                    let envelope: Envelope = response?.json()?;
                    let more = envelope
                        .data
                        .as_ref()
                        .and_then(|d| d.pointer(&format!("/node/{connection}")))
                        .cloned()
                        .ok_or_else(|| {
                            SourceError::Api(ApiError::GraphQl {
                                query: format!("{label} of {id}"),
                                errors: envelope.error_text(),
                            })
                        })?;
                    let info: PageInfo = more
                        .get("pageInfo")
                        .and_then(|p| PageInfo::deserialize(p).ok())
                        .unwrap_or_default();
                    if info.has_next_page {
                        let added = more
                            .get("nodes")
                            .and_then(Value::as_array)
                            .map(|a| node_keys(a))
                            .unwrap_or_default();
                        guards
                            .entry(id.clone())
                            .or_insert_with(|| {
                                PageGuard::new(&self.config.name, format!("{label} of {id}"))
                            })
                            .advance(Some(after), info.end_cursor.as_deref(), added)?;
                    }
                    let target = &mut nodes[*i][connection];
                    if let (Some(have), Some(add)) = (
                        target.get_mut("nodes").and_then(Value::as_array_mut),
                        more.get("nodes").and_then(Value::as_array),
                    ) {
                        have.extend(add.iter().cloned());
                    }
                    target["pageInfo"] = more.get("pageInfo").cloned().unwrap_or(Value::Null);
                }
            }
        }
        Ok(())
    }

    fn record(&self, stream: Stream, node: Value, fetched_at: DateTime<Utc>) -> RawRecord {
        let repo = node
            .pointer("/repository/nameWithOwner")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let key = match stream {
            Stream::Deployments => format!("{repo}/deployments/{}", node["databaseId"]),
            Stream::Releases => format!("{repo}/releases/{}", node["databaseId"]),
            _ => format!("{repo}#{}", node["number"]),
        };
        RawRecord {
            source: self.config.name.clone(),
            stream: stream.name().into(),
            key,
            updated_at: updated_at(&node),
            fetched_at,
            payload: node,
        }
    }

    /// One page of an incremental sync from `run`: the changed members first, then each repository's streams.
    fn incremental_page(&mut self, run: &mut Run) -> Result<Option<Page>, SourceError> {
        if let Some(org) = self.config.organization.clone() {
            if !run.members_checked {
                run.members_checked = true;
                if let Some(members) = self.changed_members(&org)? {
                    let etag = self.etag(&self.members_url(&org));
                    let fetched_at = Utc::now();
                    let records = members
                        .into_iter()
                        .filter_map(|m| {
                            Some(RawRecord {
                                source: self.config.name.clone(),
                                stream: MEMBERS.into(),
                                key: format!("{org}/{}", m.get("login")?.as_str()?),
                                updated_at: None,
                                fetched_at,
                                payload: m,
                            })
                        })
                        .collect();
                    run.cursor.members_etag = etag;
                    return Ok(Some(Page {
                        records,
                        cursors: moved(&run.cursor, &self.streams(), &mut run.saved)?,
                        remaining_hint: None,
                    }));
                }
            }
        }
        loop {
            let Some(pos) = run.cursor.at.clone() else {
                let Some(repo) = run.repos.get(run.next_repo).cloned() else {
                    // Out of repositories: a last checkpoint if the cursor moved without a page.
                    let cursors = moved(&run.cursor, &self.streams(), &mut run.saved)?;
                    if cursors.is_empty() {
                        return Ok(None);
                    }
                    return Ok(Some(Page {
                        records: Vec::new(),
                        cursors,
                        remaining_hint: Some(0),
                    }));
                };
                run.next_repo += 1;
                let mut plan = self.plan(&repo)?.into_iter();
                match plan.next() {
                    Some(stream) => {
                        let probes = self.probes(&repo);
                        run.cursor.at = Some(Position {
                            repo,
                            stream,
                            after: None,
                            high: None,
                            rest: plan.collect(),
                            probes,
                        });
                    }
                    None => {
                        tracing::debug!(source = %self.config.name, repo = %repo, "unchanged (304)")
                    }
                }
                continue;
            };
            let marks = run.cursor.repos.get(&pos.repo).cloned().unwrap_or_default();
            let (nodes, info, done, keys) = self.read_page(&pos, &marks)?;
            if !done {
                let stream = format!("{} of {}", pos.stream.name(), pos.repo);
                let name = self.config.name.clone();
                run.pager(&name, stream).advance(
                    pos.after.as_deref(),
                    info.end_cursor.as_deref(),
                    keys,
                )?;
            }
            let fetched_at = Utc::now();
            let high = nodes.iter().filter_map(updated_at).chain(pos.high).max();
            let records: Vec<RawRecord> = nodes
                .into_iter()
                .map(|n| self.record(pos.stream, n, fetched_at))
                .collect();
            let probes = if pos.probes.is_empty() {
                self.probes(&pos.repo)
            } else {
                pos.probes.clone()
            };
            if done {
                let m = run.cursor.repos.entry(pos.repo.clone()).or_default();
                let mark = m.updated_at_mut(pos.stream);
                *mark = high.max(*mark);
                let mut rest = pos.rest.clone().into_iter();
                run.cursor.at = match rest.next() {
                    Some(stream) => Some(Position {
                        repo: pos.repo.clone(),
                        stream,
                        after: None,
                        high: None,
                        rest: rest.collect(),
                        probes,
                    }),
                    None => {
                        m.etag = probes.etag;
                        m.deployments_etag = probes.deployments_etag;
                        m.releases_etag = probes.releases_etag;
                        None
                    }
                };
            } else {
                run.cursor.at = Some(Position {
                    after: info.end_cursor.or(pos.after),
                    high,
                    ..pos
                });
            }
            return Ok(Some(Page {
                records,
                cursors: moved(&run.cursor, &self.streams(), &mut run.saved)?,
                remaining_hint: None,
            }));
        }
    }
}

/// `createdAt` of every node of the connection at `pointer`.
fn nodes_created(data: &Value, pointer: &str) -> Vec<DateTime<Utc>> {
    data.pointer(&format!("{pointer}/nodes"))
        .and_then(Value::as_array)
        .map(|nodes| {
            nodes
                .iter()
                .filter_map(|n| n.get("createdAt")?.as_str()?.parse().ok())
                .collect()
        })
        .unwrap_or_default()
}

/// Whether a page ordered newest first reached items created before `bound`.
fn conn_created_before(created: &[DateTime<Utc>], bound: DateTime<Utc>) -> bool {
    created.iter().any(|c| *c < bound)
}

fn updated_at(node: &Value) -> Option<DateTime<Utc>> {
    node.get("updatedAt")?.as_str()?.parse().ok()
}

impl Source for GithubSource {
    fn name(&self) -> &str {
        &self.config.name
    }

    /// One cursor per stream (see [`super::cursor`]); a backfill's one window under its own key.
    fn streams(&self) -> Vec<String> {
        match self.backfill_stream() {
            Some(s) => vec![s.to_string()],
            None => STATE_STREAMS.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn former_streams(&self) -> Vec<String> {
        match self.backfill {
            Some(_) => Vec::new(),
            None => vec![FORMER_STREAM.into()],
        }
    }

    fn size_hint(&self, _cursors: &StreamCursors) -> Option<u64> {
        None
    }

    fn next_page(&mut self, cursors: &StreamCursors) -> Result<Option<Page>, SourceError> {
        if let Some(stream) = self.backfill_stream() {
            let cursor = cursors.get(stream).map(str::to_string);
            return self.backfill_page(cursor.as_deref());
        }
        // The run is taken out while a page is read, so the page has it without looking it up again,
        // and put back whatever the page returns: a failed page keeps what it moved, as before.
        let mut run = match self.run.take() {
            Some(run) => run,
            None => self.start(cursors)?,
        };
        let page = self.incremental_page(&mut run);
        self.run = Some(run);
        page
    }

    fn request_stats(&self) -> BTreeMap<String, RequestStats> {
        self.client.client().stats()
    }
}

crate::normalizer::normalizes_with!(GithubSource);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_backfill_window_past_the_calendars_end_stops_at_the_range_end() {
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
