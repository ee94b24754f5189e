//! The GitHub source: repositories → issues and pull requests through GraphQL, one page per checkpoint.
//!
//! Per repository a run makes one conditional REST request first (the most recently updated issue or pull
//! request, `If-None-Match` with the ETag kept in the cursor): `304 Not Modified` — free of rate-limit cost —
//! means nothing in the repository changed, and the repository is skipped. Otherwise it pages through issues
//! updated since the saved `updatedAt` (minus the look-back), oldest first, then pull requests newest first
//! until one is older than the cursor. Every page carries its items' whole timelines and reviews; an item
//! with more than 100 events costs extra requests for that item only.
//!
//! The cursor is one JSON document per source: per repository the `updatedAt` watermark of each stream and
//! the probe's ETag, plus the position inside the repository being read. A page hands out the cursor that
//! resumes right after it, so a killed run re-reads at most one page; watermarks and the ETag of a
//! repository only move once all of its pages are committed.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use flowlake_core::RawRecord;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::config::GithubConfig;
use super::normalizer::GithubNormalizer;
use super::query::{self, Connection, Envelope, PageInfo};
use crate::http::{
    item_key, BlockingClient, HttpError, HttpObserver, PageGuard, Pager, Pagination, Request,
    RequestStats, Tape, Validators,
};
use crate::{ApiError, Page, Source, SourceError, StreamCursors};

/// The state key's stream: one cursor document covers every repository and stream of the source.
pub const STREAM: &str = "repositories";

/// Streams read per repository, in this order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Stream {
    Issues,
    PullRequests,
    Deployments,
    Releases,
}

impl Stream {
    fn name(self) -> &'static str {
        match self {
            Self::Issues => "issues",
            Self::PullRequests => "pull_requests",
            Self::Deployments => "deployments",
            Self::Releases => "releases",
        }
    }
}

/// The stream of organization members' raw records.
pub(super) const MEMBERS: &str = "members";

/// What is known of one repository after its last complete read.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
struct RepoMarks {
    /// Newest `updatedAt` of the issues read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    issues: Option<DateTime<Utc>>,
    /// Newest `updatedAt` of the pull requests read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pull_requests: Option<DateTime<Utc>>,
    /// Newest `updatedAt` of the deployments read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    deployments: Option<DateTime<Utc>>,
    /// ETag of the issues and pull requests probe.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    etag: Option<String>,
    /// ETag of the deployments probe.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    deployments_etag: Option<String>,
    /// Newest `updatedAt` of the releases read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    releases: Option<DateTime<Utc>>,
    /// ETag of the releases probe.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    releases_etag: Option<String>,
}

/// Where an unfinished run is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Position {
    repo: String,
    stream: Stream,
    /// GraphQL `endCursor` of the last committed page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    after: Option<String>,
    /// Newest `updatedAt` seen in this stream so far.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    high: Option<DateTime<Utc>>,
    /// Streams of this repository still to read after this one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    rest: Vec<Stream>,
    /// The probes' ETags taken when the repository's read began: they become the repository's marks when
    /// its last stream ends, so a run killed inside the repository and resumed (without probing again)
    /// still keeps them. Cursors written before this field have none; their resumed runs keep what the
    /// client holds.
    #[serde(default, skip_serializing_if = "Probes::is_empty")]
    probes: Probes,
}

/// ETags of a repository's three change probes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
struct Probes {
    /// Issues and pull requests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    etag: Option<String>,
    /// Deployments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    deployments_etag: Option<String>,
    /// Releases.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    releases_etag: Option<String>,
}

impl Probes {
    fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// The cursor document.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Cursor {
    /// `owner/name` → marks.
    #[serde(default)]
    repos: BTreeMap<String, RepoMarks>,
    /// The organization's repositories as last listed, and that listing's ETag.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    org_repos: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    org_etag: Option<String>,
    /// ETag of the organization's member list.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    members_etag: Option<String>,
    /// The repository and stream being read, when a run stopped inside one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    at: Option<Position>,
}

/// One run's progress.
struct Run {
    cursor: Cursor,
    repos: Vec<String>,
    /// Index of the next repository to probe.
    next_repo: usize,
    /// Whether the organization's members were checked this run.
    members_checked: bool,
    /// The cursor last handed out (or started from), to know whether a final checkpoint is due.
    emitted: String,
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

    /// The state key's stream: [`STREAM`], or a backfill's own.
    fn state_stream(&self) -> &str {
        self.backfill
            .as_ref()
            .map_or(STREAM, |(_, s, _)| s.as_str())
    }

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
                emitted: String::new(),
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
            return Ok(Some(Page::of(self.state_stream(), records, cursor, None)));
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

    fn start(&mut self, saved: Option<&str>) -> Result<Run, SourceError> {
        crate::token_ready(&self.token_error)?;
        let mut cursor: Cursor = match saved {
            None => Cursor::default(),
            Some(s) => {
                serde_json::from_str(s).map_err(|e| SourceError::BadCursor(format!("{s}: {e}")))?
            }
        };
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
        let emitted = saved.unwrap_or_default().to_string();
        let repos = self.resolve_repos(&mut cursor)?;
        let next_repo = match &cursor.at {
            Some(p) => match repos.iter().position(|r| *r == p.repo) {
                Some(i) => i + 1,
                None => {
                    cursor.at = None;
                    0
                }
            },
            None => 0,
        };
        Ok(Run {
            // A resumed run checked the members before it stopped.
            members_checked: cursor.at.is_some() || self.config.organization.is_none(),
            cursor,
            repos,
            next_repo,
            emitted,
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
                    let text = serde_json::to_string(&run.cursor).map_err(SourceError::api)?;
                    run.emitted.clone_from(&text);
                    return Ok(Some(Page {
                        records,
                        cursors: StreamCursors::one(STREAM, text),
                        remaining_hint: None,
                    }));
                }
            }
        }
        loop {
            let Some(pos) = run.cursor.at.clone() else {
                let Some(repo) = run.repos.get(run.next_repo).cloned() else {
                    // Out of repositories: a last checkpoint if the cursor moved without a page.
                    let text = serde_json::to_string(&run.cursor).map_err(SourceError::api)?;
                    if text == run.emitted {
                        return Ok(None);
                    }
                    run.emitted.clone_from(&text);
                    return Ok(Some(Page {
                        records: Vec::new(),
                        cursors: StreamCursors::one(STREAM, text),
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
                match pos.stream {
                    Stream::Issues => m.issues = high.max(m.issues),
                    Stream::PullRequests => m.pull_requests = high.max(m.pull_requests),
                    Stream::Deployments => m.deployments = high.max(m.deployments),
                    Stream::Releases => m.releases = high.max(m.releases),
                }
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
            let text = serde_json::to_string(&run.cursor).map_err(SourceError::api)?;
            run.emitted.clone_from(&text);
            return Ok(Some(Page {
                records,
                cursors: StreamCursors::one(STREAM, text),
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

    /// One stream: the per-repository watermarks, probe ETags and the position inside a repository move
    /// together across its issues, pull requests, deployments and releases (one probe answers for issues and
    /// pull requests alike), so they stay one document.
    fn streams(&self) -> Vec<String> {
        vec![self.state_stream().to_string()]
    }

    fn size_hint(&self, _cursors: &StreamCursors) -> Option<u64> {
        None
    }

    fn next_page(&mut self, cursors: &StreamCursors) -> Result<Option<Page>, SourceError> {
        let cursor = cursors.get(self.state_stream());
        if self.backfill.is_some() {
            return self.backfill_page(cursor);
        }
        // The run is taken out while a page is read, so the page has it without looking it up again,
        // and put back whatever the page returns: a failed page keeps what it moved, as before.
        let mut run = match self.run.take() {
            Some(run) => run,
            None => self.start(cursor)?,
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
