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

use chrono::{DateTime, Duration, Utc};
use flowlake_core::RawRecord;
use serde::Deserialize;
use serde_json::{json, Value};

use super::backfill::{Backfill, Window};
use super::config::GithubConfig;
use super::cursor::{
    moved, saved_parts, Cursor, Position, RepoMarks, Saved, Stream, FORMER_STREAM, STATE_STREAMS,
};
use super::normalizer::GithubNormalizer;
use super::query::{self, Connection, Envelope, PageInfo};
use crate::http::{
    item_key, BlockingClient, HttpObserver, PageGuard, Request, RequestStats, Tape, Validators,
};
use crate::{ApiError, Page, Source, SourceError, StreamCursors};

/// The stream of organization members' raw records.
pub(super) const MEMBERS: &str = "members";

/// One run's progress.
pub(super) struct Run {
    pub(super) cursor: Cursor,
    pub(super) repos: Vec<String>,
    /// Index of the next repository to probe.
    pub(super) next_repo: usize,
    /// Whether the organization's members were checked this run.
    pub(super) members_checked: bool,
    /// Each stream's cursor as last saved: a page carries the ones it changed.
    pub(super) saved: BTreeMap<&'static str, String>,
    /// Watches the pages of the stream being read (or the backfill window), which come one per call.
    pub(super) pager: Option<PageGuard>,
}

impl Run {
    /// The guard of `stream`, a new one when the run moved on to another stream.
    pub(super) fn pager(&mut self, source: &str, stream: String) -> &mut PageGuard {
        if self.pager.as_ref().is_some_and(|g| g.stream() != stream) {
            self.pager = None;
        }
        self.pager
            .get_or_insert_with(|| PageGuard::new(source, stream))
    }
}

/// The keys a pager fingerprints a page by (see [`item_key`]).
pub(super) fn node_keys(nodes: &[Value]) -> Vec<String> {
    nodes.iter().map(item_key).collect()
}

/// Issues and pull requests of GitHub repositories.
pub struct GithubSource {
    pub(super) config: GithubConfig,
    pub(super) normalizer: GithubNormalizer,
    pub(super) client: BlockingClient,
    pub(super) graphql_url: String,
    pub(super) run: Option<Run>,
    /// Why the first request cannot be sent (no token, an unreadable token file), reported when it is due.
    pub(super) token_error: crate::TokenCheck,
    /// A history backfill instead of an incremental sync, with its state key's stream and progress.
    pub(super) backfill: Option<(Backfill, String, Option<Window>)>,
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

    /// The issues and pull requests streams this source reads (those the first probe answers for).
    pub(super) fn streams(&self) -> Vec<Stream> {
        let mut v = Vec::new();
        if self.config.issues {
            v.push(Stream::Issues);
        }
        if self.config.pull_requests {
            v.push(Stream::PullRequests);
        }
        v
    }

    /// Sends one GraphQL query; `data`, or the errors GitHub gave instead.
    pub(super) fn graphql(
        &self,
        label: &str,
        query: &str,
        variables: Value,
    ) -> Result<Value, SourceError> {
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

    fn start(&mut self, saved: &StreamCursors) -> Result<Run, SourceError> {
        crate::token_ready(&self.token_error)?;
        // A bad cursor fails the run before any request.
        let joined = Saved::join(saved, &self.streams())?;
        let mut cursor = joined.cursor();
        let mut validators = Validators::default();
        for (repo, marks) in &cursor.repos {
            for (url, etag) in [
                (self.probe_url(repo), &marks.probes.etag),
                (
                    self.deployments_probe_url(repo),
                    &marks.probes.deployments_etag,
                ),
                (self.releases_probe_url(repo), &marks.probes.releases_etag),
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
    pub(super) fn complete(&self, nodes: &mut [Value]) -> Result<(), SourceError> {
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

    pub(super) fn record(
        &self,
        stream: Stream,
        node: Value,
        fetched_at: DateTime<Utc>,
    ) -> RawRecord {
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
                        m.probes = probes;
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
