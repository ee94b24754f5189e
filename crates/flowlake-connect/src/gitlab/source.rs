//! The GitLab source: projects (of a group or listed), then per project issues and merge requests updated
//! since its cursor, each with its resource state and label events (and notes when enabled), then the
//! project's deployments and pipelines updated since theirs.
//!
//! Lists are ordered by `updated_at` ascending and followed by their `Link: rel="next"` (GitLab sends it for
//! offset and keyset pagination alike). Issues ask for keyset pagination (`pagination=keyset`, which GitLab
//! offers for project issues ordered by `updated_at`; an instance without it pages by offset instead). The cursor is one JSON document: per project and stream the newest
//! `updated_at` committed, plus the project and stream a stopped run was in; a resumed run asks again from
//! that watermark (minus the look-back), so at most one page is read twice. Events of a page's items are
//! read concurrently.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use flowlake_core::{Normalized, RawRecord};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::config::GitlabConfig;
use super::delivery::{delivery_payload, normalize_deployment, normalize_pipeline, DeliveryRecord};
use super::normalize::{normalize_item, record_payload, GitlabRecord, ItemExtras};
use crate::github::StatusRules;
use crate::http::{next_link, BlockingClient, HttpObserver, Request, RequestStats, Tape};
use crate::jira::encode;
use crate::{Page, Source, SourceError};

/// The state key's stream.
pub const STREAM: &str = "projects";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Stream {
    Issues,
    MergeRequests,
    Deployments,
    Pipelines,
}

impl Stream {
    fn path(self) -> &'static str {
        match self {
            Self::Issues => "issues",
            Self::MergeRequests => "merge_requests",
            Self::Deployments => "deployments",
            Self::Pipelines => "pipelines",
        }
    }

    /// Issues and merge requests: work items with events.
    fn has_events(self) -> bool {
        matches!(self, Self::Issues | Self::MergeRequests)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
struct Marks {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    issues: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    merge_requests: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    deployments: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pipelines: Option<DateTime<Utc>>,
}

impl Marks {
    fn get(&self, s: Stream) -> Option<DateTime<Utc>> {
        match s {
            Stream::Issues => self.issues,
            Stream::MergeRequests => self.merge_requests,
            Stream::Deployments => self.deployments,
            Stream::Pipelines => self.pipelines,
        }
    }

    fn get_mut(&mut self, s: Stream) -> &mut Option<DateTime<Utc>> {
        match s {
            Stream::Issues => &mut self.issues,
            Stream::MergeRequests => &mut self.merge_requests,
            Stream::Deployments => &mut self.deployments,
            Stream::Pipelines => &mut self.pipelines,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Position {
    project: String,
    stream: Stream,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Cursor {
    #[serde(default)]
    projects: BTreeMap<String, Marks>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    at: Option<Position>,
}

struct Run {
    cursor: Cursor,
    projects: Vec<String>,
    next_project: usize,
    /// The next page of the stream being read.
    next_url: Option<String>,
}

/// Issues and merge requests of GitLab projects.
pub struct GitlabSource {
    config: GitlabConfig,
    rules: StatusRules,
    client: BlockingClient,
    token_error: Option<String>,
    run: Option<Run>,
}

impl std::fmt::Debug for GitlabSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GitlabSource")
            .field("name", &self.config.name)
            .field("client", &self.client)
            .finish_non_exhaustive()
    }
}

impl GitlabSource {
    /// A source for `config`; no request is made until the first page.
    pub fn new(
        config: GitlabConfig,
        tape: Tape,
        observer: Arc<dyn HttpObserver>,
    ) -> Result<Self, SourceError> {
        let (client, token_error) = crate::api_client(
            &config.name,
            config.validate(),
            config.token(),
            |token| config.http(token, tape),
            observer,
        )?;
        Ok(Self {
            rules: config.status_rules(),
            config,
            client,
            token_error,
            run: None,
        })
    }

    /// Every page of `url` (an array endpoint), following `Link: rel="next"`.
    fn all_pages(&self, label: &str, url: String) -> Result<Vec<Value>, SourceError> {
        let mut out = Vec::new();
        let mut next = Some(url);
        while let Some(u) = next.take() {
            let r = self.client.send(Request::get(label, u))?;
            let page: Vec<Value> = r.json()?;
            let more = !page.is_empty();
            out.extend(page);
            next = r.header("link").and_then(next_link).filter(|_| more);
        }
        Ok(out)
    }

    fn start(&mut self, saved: Option<&str>) -> Result<(), SourceError> {
        crate::token_ready(&self.token_error)?;
        let cursor: Cursor = match saved {
            None => Cursor::default(),
            Some(s) => {
                serde_json::from_str(s).map_err(|e| SourceError::BadCursor(format!("{s}: {e}")))?
            }
        };
        let mut projects = self.config.projects.clone();
        if let Some(group) = &self.config.group {
            let listed = self.all_pages(
                "projects",
                format!(
                    "groups/{}/projects?include_subgroups=true&archived=false&order_by=path&sort=asc&per_page=100",
                    encode(group)
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
        let next_project = match &cursor.at {
            Some(p) => projects.iter().position(|x| *x == p.project).unwrap_or(0),
            None => 0,
        };
        self.run = Some(Run {
            cursor,
            projects,
            next_project,
            next_url: None,
        });
        Ok(())
    }

    fn streams(&self) -> Vec<Stream> {
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
        }
        v
    }

    fn first_url(&self, pos: &Position, marks: &Marks) -> String {
        let mark = marks.get(pos.stream);
        let mut url = format!(
            "projects/{}/{}?order_by=updated_at&sort=asc&per_page={}",
            encode(&pos.project),
            pos.stream.path(),
            self.config.per_page
        );
        if pos.stream == Stream::Issues {
            url.push_str("&pagination=keyset");
        }
        if let Some(m) = mark {
            let since = m - Duration::minutes(self.config.lookback_minutes as i64);
            url.push_str(&format!(
                "&updated_after={}",
                encode(&since.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
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
        let mut requests = Vec::new();
        for item in items {
            let iid = item["iid"].as_i64().unwrap_or_default();
            for (kind, label, order) in &kinds {
                requests.push(Request::get(
                    label,
                    format!(
                        "projects/{}/{}/{iid}/{kind}?per_page=100{order}",
                        encode(project),
                        stream.path()
                    ),
                ));
            }
        }
        let mut answers = self.client.send_all(requests).into_iter();
        let mut out = Vec::with_capacity(items.len());
        for _ in items {
            let mut lists = Vec::with_capacity(kinds.len());
            for (_, label, _) in &kinds {
                let r = answers
                    .next()
                    .ok_or_else(|| SourceError::api("an events request went missing"))??;
                let mut list: Vec<Value> = r.json()?;
                if let Some(next) = r.header("link").and_then(next_link) {
                    list.extend(self.all_pages(label, next)?);
                }
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
                    let updated = item["updated_at"].clone();
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
                let updated = item["updated_at"].clone();
                record(key, &updated, record_payload(kind, project, item, extras))
            })
            .collect())
    }
}

impl Source for GitlabSource {
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
        if self.run.is_none() {
            self.start(cursor)?;
        }
        let streams = self.streams();
        let run = self.run.as_mut().expect("started above");
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
        let url = run
            .next_url
            .take()
            .unwrap_or_else(|| self.first_url(&pos, &marks));
        let response = self.client.send(Request::get(pos.stream.path(), url))?;
        let items: Vec<Value> = response.json()?;
        let next = response
            .header("link")
            .and_then(next_link)
            .filter(|_| !items.is_empty());
        let records = self.records(&pos.project, pos.stream, items)?;
        let high = records.iter().filter_map(|r| r.updated_at).max();
        let run = self.run.as_mut().expect("started above");
        let m = run
            .cursor
            .projects
            .entry(pos.project.clone())
            .or_default()
            .get_mut(pos.stream);
        *m = high.max(*m);
        match next {
            Some(n) => run.next_url = Some(n),
            None => {
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
        }
        Ok(Some(Page {
            records,
            cursor: serde_json::to_string(&run.cursor).map_err(SourceError::api)?,
            remaining_hint: None,
        }))
    }

    fn normalize(&self, raw: &RawRecord) -> Result<Normalized, SourceError> {
        let bad = |e: serde_json::Error| SourceError::BadRecord {
            source_name: raw.source.clone(),
            stream: raw.stream.clone(),
            key: raw.key.clone(),
            message: e.to_string(),
        };
        match raw.stream.as_str() {
            "deployments" => {
                let r: DeliveryRecord<_> =
                    serde_json::from_value(raw.payload.clone()).map_err(bad)?;
                return Ok(Normalized {
                    deployments: vec![normalize_deployment(&self.config.name, &r)],
                    ..Normalized::default()
                });
            }
            "pipelines" => {
                let r: DeliveryRecord<_> =
                    serde_json::from_value(raw.payload.clone()).map_err(bad)?;
                return Ok(Normalized {
                    pipelines: vec![normalize_pipeline(&self.config.name, &r)],
                    ..Normalized::default()
                });
            }
            _ => {}
        }
        let record: GitlabRecord = serde_json::from_value(raw.payload.clone()).map_err(bad)?;
        let mut h = normalize_item(&self.config.name, &record, &self.rules);
        if let Value::Object(fields) = &mut h.item.custom_fields {
            fields.extend(crate::pick_fields(&raw.payload, &self.config.custom_fields));
        }
        Ok(h.into())
    }

    fn request_stats(&self) -> BTreeMap<String, RequestStats> {
        self.client.client().stats()
    }

    /// The statuses the status rules name themselves (labels' statuses are the config's to map).
    fn known_statuses(&self) -> Vec<(String, flowlake_core::StatusCategory)> {
        self.rules.known()
    }
}
