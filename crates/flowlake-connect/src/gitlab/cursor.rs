//! GitLab's cursors: one per stream (`issues`, `merge_requests`, `deployments`, `pipelines`), each under its
//! own state key `{source}/{stream}`, and the one document (`{source}/projects`) the release before kept them
//! all in, which a first run converts.
//!
//! A stream's cursor holds, per project, the newest `updated_at` committed (for `pipelines` also the id below
//! which every pipeline was read) and, while a run is inside that stream of a project, the project (for
//! `pipelines`, whether in the id pass). The source walks projects, and each project's streams, in order, so
//! it works on the [`Cursor`] those cursors add up to, and hands out the cursors of the streams a page moved.
//! Saved cursors may disagree on where a run stopped — an external back-end writes them one by one, and an
//! old document may be converted beside newer per-stream cursors — so the earliest position in the walk is
//! taken: a run reads some pages again rather than skip one.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::source::Stream;
use crate::{SourceError, StreamCursors};

/// The state key's stream the release before kept its one cursor document under.
pub const FORMER_STREAM: &str = "projects";

/// The streams with a cursor of their own, in the order a project's streams are read.
pub(super) const STATE_STREAMS: [&str; 4] =
    ["issues", "merge_requests", "deployments", "pipelines"];

/// Watermarks of one project, across its streams.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Marks {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) issues: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) merge_requests: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) deployments: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) pipelines: Option<DateTime<Utc>>,
    /// Every pipeline with an id up to this one has been read (0: the project had none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) pipeline_id: Option<i64>,
}

impl Marks {
    /// The `updated_at` watermark of a stream; the id pass has none (it pages by id).
    pub(super) fn get(&self, s: Stream) -> Option<DateTime<Utc>> {
        match s {
            Stream::Issues => self.issues,
            Stream::MergeRequests => self.merge_requests,
            Stream::Deployments => self.deployments,
            Stream::Pipelines => self.pipelines,
            Stream::NewPipelines => None,
        }
    }

    /// The watermark a page of `s` moves; the id pass moves none (its records' times say nothing of what
    /// `updated_after` has read).
    pub(super) fn get_mut(&mut self, s: Stream) -> Option<&mut Option<DateTime<Utc>>> {
        match s {
            Stream::Issues => Some(&mut self.issues),
            Stream::MergeRequests => Some(&mut self.merge_requests),
            Stream::Deployments => Some(&mut self.deployments),
            Stream::Pipelines => Some(&mut self.pipelines),
            Stream::NewPipelines => None,
        }
    }
}

/// Where a run is: a project and the stream of it being read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Position {
    pub(super) project: String,
    pub(super) stream: Stream,
}

/// What the source works on: every stream's marks by project, and the position. Also, serialized, the
/// former cursor document.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Cursor {
    #[serde(default)]
    pub(super) projects: BTreeMap<String, Marks>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) at: Option<Position>,
}

/// One stream's cursor.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StreamCursor {
    #[serde(default)]
    projects: BTreeMap<String, StreamMark>,
    /// The project a stopped run was reading this stream of.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    at: Option<String>,
    /// `pipelines`: the run was in the id pass (pipelines newest first), not the `updated_after` listing.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    id_pass: bool,
}

/// One stream's marks of one project.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StreamMark {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    updated_at: Option<DateTime<Utc>>,
    /// `pipelines`: every pipeline with an id up to this one has been read (0: the project had none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pipeline_id: Option<i64>,
}

fn bad(stream: &str, text: &str, e: impl std::fmt::Display) -> SourceError {
    SourceError::BadCursor(format!("{stream}: {text}: {e}"))
}

/// The place of a stream in a project's walk.
fn walk_index(s: Stream) -> usize {
    match s {
        Stream::Issues => 0,
        Stream::MergeRequests => 1,
        Stream::Deployments => 2,
        Stream::Pipelines => 3,
        Stream::NewPipelines => 4,
    }
}

impl Cursor {
    /// The cursor of each state stream, serialized as saved.
    pub(super) fn split(&self) -> Result<BTreeMap<&'static str, String>, SourceError> {
        let mut out = BTreeMap::new();
        for stream in STATE_STREAMS {
            let mut c = StreamCursor::default();
            for (project, m) in &self.projects {
                let mark = match stream {
                    "issues" => StreamMark {
                        updated_at: m.issues,
                        pipeline_id: None,
                    },
                    "merge_requests" => StreamMark {
                        updated_at: m.merge_requests,
                        pipeline_id: None,
                    },
                    "deployments" => StreamMark {
                        updated_at: m.deployments,
                        pipeline_id: None,
                    },
                    _ => StreamMark {
                        updated_at: m.pipelines,
                        pipeline_id: m.pipeline_id,
                    },
                };
                if mark != StreamMark::default() {
                    c.projects.insert(project.clone(), mark);
                }
            }
            if let Some(at) = self.at.as_ref().filter(|p| p.stream.path() == stream) {
                c.at = Some(at.project.clone());
                c.id_pass = at.stream == Stream::NewPipelines;
            }
            out.insert(stream, serde_json::to_string(&c).map_err(SourceError::api)?);
        }
        Ok(out)
    }

    /// The cursor the saved ones add up to, for a run over `projects` (in walk order): each stream's own
    /// cursor, else its part of the former document; the earliest position any of them holds.
    pub(super) fn join(saved: &StreamCursors, projects: &[String]) -> Result<Self, SourceError> {
        let former: Cursor = match saved.get(FORMER_STREAM) {
            None => Cursor::default(),
            Some(s) => serde_json::from_str(s).map_err(|e| bad(FORMER_STREAM, s, e))?,
        };
        let former_parts = former.split()?;
        let mut cursor = Cursor::default();
        let mut positions = Vec::new();
        for stream in STATE_STREAMS {
            let text = match saved.get(stream) {
                Some(t) => t,
                None => former_parts.get(stream).map_or("{}", String::as_str),
            };
            let c: StreamCursor = serde_json::from_str(text).map_err(|e| bad(stream, text, e))?;
            for (project, m) in c.projects {
                let marks = cursor.projects.entry(project).or_default();
                match stream {
                    "issues" => marks.issues = m.updated_at,
                    "merge_requests" => marks.merge_requests = m.updated_at,
                    "deployments" => marks.deployments = m.updated_at,
                    _ => {
                        marks.pipelines = m.updated_at;
                        marks.pipeline_id = m.pipeline_id;
                    }
                }
            }
            if let Some(project) = c.at {
                let s = match stream {
                    "issues" => Stream::Issues,
                    "merge_requests" => Stream::MergeRequests,
                    "deployments" => Stream::Deployments,
                    _ if c.id_pass => Stream::NewPipelines,
                    _ => Stream::Pipelines,
                };
                positions.push(Position { project, stream: s });
            }
        }
        cursor.at = positions.into_iter().min_by_key(|p| {
            (
                projects.iter().position(|x| *x == p.project).unwrap_or(0),
                walk_index(p.stream),
            )
        });
        Ok(cursor)
    }
}

/// The streams whose cursor differs from the one last saved (`saved`, updated here): what a page carries.
pub(super) fn moved(
    cursor: &Cursor,
    saved: &mut BTreeMap<&'static str, String>,
) -> Result<StreamCursors, SourceError> {
    let empty = serde_json::to_string(&StreamCursor::default()).map_err(SourceError::api)?;
    let mut out = StreamCursors::new();
    for (stream, text) in cursor.split()? {
        let same = match saved.get(stream) {
            Some(s) => *s == text,
            None => text == empty,
        };
        if !same {
            out.set(stream, text.clone());
            saved.insert(stream, text);
        }
    }
    Ok(out)
}

/// What was saved under the state streams' own keys (not the former document): what [`moved`] compares with.
pub(super) fn saved_parts(saved: &StreamCursors) -> BTreeMap<&'static str, String> {
    STATE_STREAMS
        .iter()
        .filter_map(|s| saved.get(s).map(|c| (*s, c.to_string())))
        .collect()
}
