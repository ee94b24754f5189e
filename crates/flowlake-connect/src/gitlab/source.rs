//! The GitLab source: projects (of a group or listed), then per project issues and merge requests updated
//! since its cursor, each with its resource state and label events (and notes when enabled), then the
//! project's deployments and pipelines updated since theirs.
//!
//! Lists are ordered by `updated_at` ascending and followed by their `Link: rel="next"` (GitLab sends it for
//! offset and keyset pagination alike). Issues ask for keyset pagination (`pagination=keyset`, which GitLab
//! offers for project issues ordered by `updated_at`; an instance without it pages by offset instead). Each
//! stream has its own cursor (`super::cursor`): per project the newest `updated_at` committed (a pipeline or
//! deployment without one counts by its `created_at`), plus the project a stopped run was reading it in; a
//! resumed run asks again from that watermark (minus the look-back), so at most one page is read twice. Events
//! of a page's items are read concurrently.
//!
//! Some real pipelines have `updated_at: null`, which `updated_after` never matches: after the first run they
//! would never be read. So the pipelines' cursor also keeps, per project, the highest pipeline id below which every
//! pipeline has been read, and an incremental run lists the pipelines newest id first (`order_by=id&sort=desc`)
//! down to it after the `updated_after` listing, landing those without `updated_at`: a new pipeline is read in
//! the run after it appears, whatever its `updated_at`.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::Utc;
use flowlake_core::RawRecord;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::config::GitlabConfig;
use super::cursor::{moved, saved_parts, Cursor, Marks, Position, FORMER_STREAM, STATE_STREAMS};
use super::deployment::delivery_payload;
use super::normalize::{record_payload, ItemExtras};
use super::normalizer::GitlabNormalizer;
use crate::http::{
    encode_component, item_key, next_link, BlockingClient, HttpObserver, PageGuard, Pager,
    Pagination, Request, RequestStats, Tape,
};
use crate::{ApiError, Page, Source, SourceError, StreamCursors};

/// What a page of a project reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(super) enum Stream {
    Issues,
    MergeRequests,
    Deployments,
    Pipelines,
    /// The pipelines created since the highest id read, newest first: those `updated_after` cannot find.
    NewPipelines,
}

impl Stream {
    /// The list's path under the project, which is also the landed records' stream and the state key's.
    pub(super) fn path(self) -> &'static str {
        match self {
            Self::Issues => "issues",
            Self::MergeRequests => "merge_requests",
            Self::Deployments => "deployments",
            Self::Pipelines | Self::NewPipelines => "pipelines",
        }
    }

    /// Issues and merge requests: work items with events.
    fn has_events(self) -> bool {
        matches!(self, Self::Issues | Self::MergeRequests)
    }
}

struct Run {
    cursor: Cursor,
    /// Each stream's cursor as last saved: a page carries the ones it changed.
    saved: BTreeMap<&'static str, String>,
    projects: Vec<String>,
    next_project: usize,
    /// The next page of the stream being read.
    next_url: Option<String>,
    /// The highest pipeline id of the pipeline stream being read.
    pass_max_id: Option<i64>,
    /// The pipeline listing being read started without `updated_after`: it reads every pipeline.
    pass_full: bool,
    /// Watches the pages of the stream being read, which come one per call.
    pager: Option<PageGuard>,
}

/// Issues and merge requests of GitLab projects.
pub struct GitlabSource {
    config: GitlabConfig,
    normalizer: GitlabNormalizer,
    client: BlockingClient,
    token_error: crate::TokenCheck,
    run: Option<Run>,
}

crate::api::api_source_debug!(GitlabSource);

impl GitlabSource {
    /// A source for `config`; no request is made until the first page.
    pub fn new(
        config: GitlabConfig,
        tape: Tape,
        observer: Arc<dyn HttpObserver>,
    ) -> Result<Self, SourceError> {
        let (client, token_error) = crate::api_client(&config, tape, observer)?;
        Ok(Self {
            normalizer: GitlabNormalizer::new(&config),
            config,
            client,
            token_error,
            run: None,
        })
    }

    /// Every page of `url` (an array endpoint), following `Link: rel="next"`.
    fn all_pages(&self, label: &str, url: String) -> Result<Vec<Value>, SourceError> {
        let mut pager = self.list_pager(label, &url);
        self.pages_after(&mut pager)
    }

    /// A pager of the list at `url`, following `Link: rel="next"` up to an empty page; its guard is
    /// named by the list's path (as `url` gives it).
    fn list_pager(&self, label: &str, url: &str) -> Pager {
        let path = crate::http::redact_url(url.split('?').next().unwrap_or_default());
        let guard = PageGuard::new(&self.config.name, format!("{label} at {path}"));
        let first = Request::get(label, self.client.client().absolute(url));
        Pager::new(Pagination::LinkHeader, first, guard).stop_at_empty()
    }

    /// The pages `pager` has left, in order.
    fn pages_after(&self, pager: &mut Pager) -> Result<Vec<Value>, SourceError> {
        let mut out = Vec::new();
        while let Some(request) = pager.next_request() {
            let r = self.client.send(request.clone())?;
            let page: Vec<Value> = r.json()?;
            pager.read(&request, &r, page.iter().map(item_key).collect())?;
            out.extend(page);
        }
        Ok(out)
    }

    fn start(&mut self, saved: &StreamCursors) -> Result<Run, SourceError> {
        crate::token_ready(&self.token_error)?;
        // A bad cursor fails the run before any request.
        Cursor::join(saved, &[])?;
        let mut projects = self.config.projects.clone();
        if let Some(group) = &self.config.group {
            let listed = self.all_pages(
                "projects",
                format!(
                    "groups/{}/projects?include_subgroups={}&with_shared={}&archived=false&order_by=path&sort=asc&per_page=100",
                    encode_component(group),
                    self.config.include_subgroups,
                    self.config.include_shared
                ),
            )?;
            projects.extend(
                listed
                    .iter()
                    .filter_map(|p| p["path_with_namespace"].as_str().map(str::to_string)),
            );
        }
        projects.sort();
        projects.dedup();
        let cursor = Cursor::join(saved, &projects)?;
        let next_project = match &cursor.at {
            Some(p) => projects.iter().position(|x| *x == p.project).unwrap_or(0),
            None => 0,
        };
        Ok(Run {
            cursor,
            saved: saved_parts(saved),
            projects,
            next_project,
            next_url: None,
            pass_max_id: None,
            pass_full: false,
            pager: None,
        })
    }

    fn read_streams(&self) -> Vec<Stream> {
        let mut v = Vec::new();
        if self.config.issues {
            v.push(Stream::Issues);
        }
        if self.config.merge_requests {
            v.push(Stream::MergeRequests);
        }
        if self.config.deployments {
            v.push(Stream::Deployments);
        }
        if self.config.pipelines {
            v.push(Stream::Pipelines);
            v.push(Stream::NewPipelines);
        }
        v
    }

    fn first_url(&self, pos: &Position, marks: &Marks) -> String {
        if pos.stream == Stream::NewPipelines {
            return format!(
                "projects/{}/pipelines?order_by=id&sort=desc&per_page={}",
                encode_component(&pos.project),
                self.config.per_page
            );
        }
        let mark = marks.get(pos.stream);
        let mut url = format!(
            "projects/{}/{}?order_by=updated_at&sort=asc&per_page={}",
            encode_component(&pos.project),
            pos.stream.path(),
            self.config.per_page
        );
        if pos.stream == Stream::Issues {
            url.push_str("&pagination=keyset");
        }
        if let Some(m) = mark {
            let since = crate::minutes_before(m, self.config.lookback_minutes);
            url.push_str(&format!(
                "&updated_after={}",
                encode_component(&since.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
            ));
        }
        url
    }

    /// The state and label events of every item, and its notes when enabled, concurrently.
    fn extras(
        &self,
        project: &str,
        stream: Stream,
        items: &[Value],
    ) -> Result<Vec<ItemExtras>, SourceError> {
        // (list, request label, ordering): the two event lists, then the notes when enabled.
        let mut kinds = vec![
            ("resource_state_events", "events", ""),
            ("resource_label_events", "events", ""),
        ];
        if self.config.notes {
            kinds.push(("notes", "notes", "&sort=asc&order_by=created_at"));
        }
        let mut pagers = Vec::new();
        for item in items {
            let iid = item["iid"].as_i64().unwrap_or_default();
            for (kind, label, order) in &kinds {
                let url = format!(
                    "projects/{}/{}/{iid}/{kind}?per_page=100{order}",
                    encode_component(project),
                    stream.path()
                );
                pagers.push(self.list_pager(label, &self.client.client().absolute(&url)));
            }
        }
        // Every list's first page at once; the rest of a longer list one page after the other.
        let firsts: Vec<Request> = pagers.iter_mut().filter_map(Pager::next_request).collect();
        let mut answers = firsts
            .iter()
            .zip(self.client.send_all(firsts.clone()))
            .zip(&mut pagers);
        let mut out = Vec::with_capacity(items.len());
        for _ in items {
            let mut lists = Vec::with_capacity(kinds.len());
            for _ in &kinds {
                let ((request, r), pager) = answers
                    .next()
                    .ok_or(SourceError::Api(ApiError::Missing { what: "events" }))?;
                let r = r?;
                let mut list: Vec<Value> = r.json()?;
                pager.read(request, &r, list.iter().map(item_key).collect())?;
                list.extend(self.pages_after(pager)?);
                lists.push(list);
            }
            let mut lists = lists.into_iter();
            out.push(ItemExtras {
                states: lists.next().unwrap_or_default(),
                labels: lists.next().unwrap_or_default(),
                notes: lists.next(),
            });
        }
        Ok(out)
    }

    /// The landed records of one page of `stream`.
    fn records(
        &self,
        project: &str,
        stream: Stream,
        items: Vec<Value>,
    ) -> Result<Vec<RawRecord>, SourceError> {
        let fetched_at = Utc::now();
        let record = |key: String, updated: &Value, payload: Value| RawRecord {
            source: self.config.name.clone(),
            stream: stream.path().into(),
            key,
            updated_at: updated.as_str().and_then(|t| t.parse().ok()),
            fetched_at,
            payload,
        };
        if !stream.has_events() {
            return Ok(items
                .into_iter()
                .map(|item| {
                    let key = format!("{project}/{}/{}", stream.path(), item["id"]);
                    let updated = changed_at(&item);
                    record(key, &updated, delivery_payload(project, item))
                })
                .collect());
        }
        let extras = self.extras(project, stream, &items)?;
        let (kind, sep) = match stream {
            Stream::Issues => ("issue", "#"),
            _ => ("merge_request", "!"),
        };
        Ok(items
            .into_iter()
            .zip(extras)
            .map(|(item, extras)| {
                let key = format!("{project}{sep}{}", item["iid"]);
                let updated = changed_at(&item);
                record(key, &updated, record_payload(kind, project, item, extras))
            })
            .collect())
    }

    /// One page from `run`: the next page of the stream its position is in.
    fn page(&mut self, run: &mut Run) -> Result<Option<Page>, SourceError> {
        let streams = self.read_streams();
        let pos = match run.cursor.at.clone() {
            Some(p) => p,
            None => {
                let (Some(project), Some(stream)) = (
                    run.projects.get(run.next_project).cloned(),
                    streams.first().copied(),
                ) else {
                    return Ok(None);
                };
                let p = Position { project, stream };
                run.cursor.at = Some(p.clone());
                p
            }
        };
        let marks = run
            .cursor
            .projects
            .get(&pos.project)
            .cloned()
            .unwrap_or_default();
        let url = match run.next_url.take() {
            Some(u) => u,
            None => {
                // A stream starts.
                run.pass_max_id = None;
                run.pager = None;
                run.pass_full = pos.stream == Stream::Pipelines && marks.pipelines.is_none();
                self.first_url(&pos, &marks)
            }
        };
        let url = self.client.client().absolute(&url);
        let response = self.client.send(Request::get(pos.stream.path(), &url))?;
        let mut items: Vec<Value> = response.json()?;
        let mut next = response
            .header("link")
            .and_then(next_link)
            .filter(|_| !items.is_empty());
        let keys: Vec<String> = items.iter().map(item_key).collect();
        let page_max_id = items.iter().filter_map(|i| i["id"].as_i64()).max();
        if pos.stream == Stream::NewPipelines {
            // Newest first, down to the highest id read before: what lies below was read.
            let seen = marks.pipeline_id;
            let before = items.len();
            items.retain(|i| seen.is_none_or(|m| i["id"].as_i64().is_none_or(|id| id > m)));
            if items.len() < before {
                next = None;
            }
            // The `updated_after` listing returned the others.
            items.retain(|i| i["updated_at"].is_null());
        }
        if let Some(n) = &next {
            let kind = match pos.stream {
                Stream::NewPipelines => "new pipelines",
                s => s.path(),
            };
            let stream = format!("{kind} of {}", pos.project);
            let name = self.config.name.clone();
            if run.pager.as_ref().is_some_and(|g| g.stream() != stream) {
                run.pager = None;
            }
            run.pager
                .get_or_insert_with(|| PageGuard::new(&name, stream))
                .advance(Some(&url), Some(n), keys)?;
        }
        let records = self.records(&pos.project, pos.stream, items)?;
        let high = records.iter().filter_map(|r| r.updated_at).max();
        if matches!(pos.stream, Stream::Pipelines | Stream::NewPipelines) {
            run.pass_max_id = run.pass_max_id.max(page_max_id);
        }
        let project_marks = run.cursor.projects.entry(pos.project.clone()).or_default();
        if let Some(m) = project_marks.get_mut(pos.stream) {
            *m = high.max(*m);
        }
        match next {
            Some(n) => run.next_url = Some(n),
            None => {
                // A pipeline stream that read every pipeline (a listing without `updated_after`, or the id
                // pass) moves the id mark; only now, so a stopped run reads the rest again.
                let read_all = match pos.stream {
                    Stream::Pipelines => run.pass_full,
                    Stream::NewPipelines => true,
                    _ => false,
                };
                if read_all {
                    let top = run.pass_max_id.unwrap_or(0);
                    project_marks.pipeline_id =
                        Some(project_marks.pipeline_id.unwrap_or(0).max(top));
                }
                advance(run, &streams, &pos);
                if pos.stream == Stream::Pipelines && run.pass_full {
                    // Every pipeline was listed moments ago: the id pass would find none.
                    if let Some(at) = run
                        .cursor
                        .at
                        .clone()
                        .filter(|p| p.stream == Stream::NewPipelines)
                    {
                        advance(run, &streams, &at);
                    }
                }
            }
        }
        Ok(Some(Page {
            records,
            cursors: moved(&run.cursor, &mut run.saved)?,
            remaining_hint: None,
        }))
    }
}

/// An item's `updated_at`, else (`null` on some real pipelines) its `created_at`: what orders it and moves the
/// cursor.
fn changed_at(item: &Value) -> Value {
    match &item["updated_at"] {
        Value::Null => item["created_at"].clone(),
        t => t.clone(),
    }
}

/// Moves `run` past the stream `pos` is in: to the project's next stream, or to the next project.
fn advance(run: &mut Run, streams: &[Stream], pos: &Position) {
    let after = streams.iter().position(|s| *s == pos.stream).map(|i| i + 1);
    run.cursor.at = match after.and_then(|i| streams.get(i)) {
        Some(s) => Some(Position {
            project: pos.project.clone(),
            stream: *s,
        }),
        None => {
            run.next_project += 1;
            None
        }
    };
}

impl Source for GitlabSource {
    fn name(&self) -> &str {
        &self.config.name
    }

    fn streams(&self) -> Vec<String> {
        STATE_STREAMS.iter().map(|s| s.to_string()).collect()
    }

    fn former_streams(&self) -> Vec<String> {
        vec![FORMER_STREAM.into()]
    }

    fn size_hint(&self, _cursors: &StreamCursors) -> Option<u64> {
        None
    }

    fn next_page(&mut self, cursors: &StreamCursors) -> Result<Option<Page>, SourceError> {
        // The run is taken out while a page is read, so the page has it without looking it up again,
        // and put back whatever the page returns: a failed page keeps what it moved, as before.
        let mut run = match self.run.take() {
            Some(run) => run,
            None => self.start(cursors)?,
        };
        let page = self.page(&mut run);
        self.run = Some(run);
        page
    }

    fn request_stats(&self) -> BTreeMap<String, RequestStats> {
        self.client.client().stats()
    }
}

crate::normalizer::normalizes_with!(GitlabSource);
