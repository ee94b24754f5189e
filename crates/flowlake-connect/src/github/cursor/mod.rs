//! GitHub's cursors: one per stream, each under its own state key `{source}/{stream}` — `issues`,
//! `pull_requests`, `deployments`, `releases` (per repository the newest `updatedAt` committed and the ETag of
//! the stream's change probe), `members` (the ETag of the organization's member list) and `org_repositories`
//! (the organization's repositories as last listed, and that listing's ETag) — and the one document
//! (`{source}/repositories`) the release before kept them all in, which a first run converts.
//!
//! The source walks repositories, and each repository's streams, in order, so it works on the [`Cursor`] those
//! cursors add up to (which is also the former document's shape), and hands out the cursors of the streams a
//! page moved. While a run is inside a repository, every stream of it still to read this run holds the
//! repository in its `at`, with the probe's ETag taken when the repository's read began (which becomes the
//! stream's mark when the repository is done); the stream being read also holds its GraphQL `endCursor` and the
//! newest `updatedAt` so far. Saved cursors may disagree on where a run stopped — an external back-end writes
//! them one by one, and an old document may be converted beside newer per-stream cursors — so the earliest
//! position in the walk is taken: a run reads some pages again rather than skip one.
//!
//! One probe answers for issues and pull requests alike, so its ETag is kept in both streams' marks, and is
//! sent only when every stream it answers for that the source reads holds the same one: a stream enabled
//! later, or one whose cursor was not written, is read again rather than skipped on a `304`.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{SourceError, StreamCursors};

/// The state key's stream the release before kept its one cursor document under.
pub const FORMER_STREAM: &str = "repositories";

/// The streams with a cursor of their own: a repository's streams in the order they are read, then the
/// organization's.
pub const STATE_STREAMS: [&str; 6] = [
    "issues",
    "pull_requests",
    "deployments",
    "releases",
    "members",
    "org_repositories",
];

/// Streams read per repository, in this order (which their ordering follows).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(super) enum Stream {
    Issues,
    PullRequests,
    Deployments,
    Releases,
}

impl Stream {
    /// Every stream, in walk order.
    const ALL: [Stream; 4] = [
        Self::Issues,
        Self::PullRequests,
        Self::Deployments,
        Self::Releases,
    ];

    /// The landed records' stream, which is also the state key's.
    pub(super) fn name(self) -> &'static str {
        match self {
            Self::Issues => "issues",
            Self::PullRequests => "pull_requests",
            Self::Deployments => "deployments",
            Self::Releases => "releases",
        }
    }

    /// Whether the issues and pull requests probe answers for the stream (each other stream has its own).
    fn on_items_probe(self) -> bool {
        matches!(self, Self::Issues | Self::PullRequests)
    }

    /// Whether one probe answers for both streams.
    fn shares_probe_with(self, other: Stream) -> bool {
        self == other || (self.on_items_probe() && other.on_items_probe())
    }
}

/// What is known of one repository after its last complete read.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct RepoMarks {
    /// Newest `updatedAt` of the issues read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) issues: Option<DateTime<Utc>>,
    /// Newest `updatedAt` of the pull requests read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) pull_requests: Option<DateTime<Utc>>,
    /// Newest `updatedAt` of the deployments read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) deployments: Option<DateTime<Utc>>,
    /// Newest `updatedAt` of the releases read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) releases: Option<DateTime<Utc>>,
    /// The ETags of the repository's change probes (`etag`, `deployments_etag`, `releases_etag` beside the
    /// watermarks, as the former document writes them).
    #[serde(flatten)]
    pub(super) probes: Probes,
}

impl RepoMarks {
    /// The watermark of `s`.
    fn updated_at(&self, s: Stream) -> Option<DateTime<Utc>> {
        match s {
            Stream::Issues => self.issues,
            Stream::PullRequests => self.pull_requests,
            Stream::Deployments => self.deployments,
            Stream::Releases => self.releases,
        }
    }

    /// The watermark of `s`, to move.
    pub(super) fn updated_at_mut(&mut self, s: Stream) -> &mut Option<DateTime<Utc>> {
        match s {
            Stream::Issues => &mut self.issues,
            Stream::PullRequests => &mut self.pull_requests,
            Stream::Deployments => &mut self.deployments,
            Stream::Releases => &mut self.releases,
        }
    }
}

/// Where an unfinished run is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Position {
    pub(super) repo: String,
    pub(super) stream: Stream,
    /// GraphQL `endCursor` of the last committed page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) after: Option<String>,
    /// Newest `updatedAt` seen in this stream so far.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) high: Option<DateTime<Utc>>,
    /// Streams of this repository still to read after this one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(super) rest: Vec<Stream>,
    /// The probes' ETags taken when the repository's read began: they become the repository's marks when
    /// its last stream ends, so a run killed inside the repository and resumed (without probing again)
    /// still keeps them. Cursors written before this field have none; their resumed runs keep what the
    /// client holds.
    #[serde(default, skip_serializing_if = "Probes::is_empty")]
    pub(super) probes: Probes,
}

/// ETags of a repository's three change probes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Probes {
    /// Issues and pull requests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) etag: Option<String>,
    /// Deployments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) deployments_etag: Option<String>,
    /// Releases.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) releases_etag: Option<String>,
}

impl Probes {
    pub(super) fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// The ETag of the probe that answers for `s`.
    fn get(&self, s: Stream) -> Option<&String> {
        match s {
            Stream::Issues | Stream::PullRequests => self.etag.as_ref(),
            Stream::Deployments => self.deployments_etag.as_ref(),
            Stream::Releases => self.releases_etag.as_ref(),
        }
    }

    fn get_mut(&mut self, s: Stream) -> &mut Option<String> {
        match s {
            Stream::Issues | Stream::PullRequests => &mut self.etag,
            Stream::Deployments => &mut self.deployments_etag,
            Stream::Releases => &mut self.releases_etag,
        }
    }
}

/// What the source works on: every stream's marks by repository, the organization's listings and the
/// position. Also, serialized, the former cursor document.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Cursor {
    /// `owner/name` → marks.
    #[serde(default)]
    pub(super) repos: BTreeMap<String, RepoMarks>,
    /// The organization's repositories as last listed, and that listing's ETag.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(super) org_repos: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) org_etag: Option<String>,
    /// ETag of the organization's member list.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) members_etag: Option<String>,
    /// The repository and stream being read, when a run stopped inside one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) at: Option<Position>,
}

/// The cursor of a repository stream (`issues`, `pull_requests`, `deployments`, `releases`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RepoStreamCursor {
    #[serde(default)]
    repos: BTreeMap<String, StreamMark>,
    /// The repository a stopped run was reading, or was still to read this stream of.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    at: Option<At>,
}

/// One stream's marks of one repository.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StreamMark {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    updated_at: Option<DateTime<Utc>>,
    /// ETag of the stream's change probe.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    etag: Option<String>,
}

/// A stream of the repository a run is inside.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct At {
    repo: String,
    /// GraphQL `endCursor` of the last committed page (none: the stream is not begun).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    after: Option<String>,
    /// Newest `updatedAt` seen in this stream so far.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    high: Option<DateTime<Utc>>,
    /// The probe's ETag taken when the repository's read began.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    etag: Option<String>,
}

/// The cursor of the `members` stream.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct MembersCursor {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    etag: Option<String>,
}

/// The cursor of the `org_repositories` stream.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct OrgReposCursor {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    repos: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    etag: Option<String>,
}

fn bad(stream: &str, text: &str, e: impl std::fmt::Display) -> SourceError {
    SourceError::BadCursor(format!("{stream}: {text}: {e}"))
}

fn to_text<T: Serialize>(value: &T) -> Result<String, SourceError> {
    serde_json::to_string(value).map_err(SourceError::api)
}

fn parse<T: Default + for<'de> Deserialize<'de>>(
    stream: &str,
    text: Option<&str>,
) -> Result<T, SourceError> {
    match text {
        None => Ok(T::default()),
        Some(t) => serde_json::from_str(t).map_err(|e| bad(stream, t, e)),
    }
}

/// The saved cursors, added up: the marks and listings of [`Cursor`], and the repositories a stopped run was
/// inside, by stream, until the run's repositories are known and [`Saved::resume`] picks the position.
pub(super) struct Saved {
    cursor: Cursor,
    ats: Vec<(Stream, At)>,
}

impl Saved {
    /// Every stream's own cursor, else its part of the former document. `probed` are the streams the source
    /// reads that the issues and pull requests probe answers for: that probe's ETag is kept only when each of
    /// them holds the same one.
    pub(super) fn join(saved: &StreamCursors, probed: &[Stream]) -> Result<Self, SourceError> {
        let former: Cursor = parse(FORMER_STREAM, saved.get(FORMER_STREAM))?;
        let former_parts = former.split(probed)?;
        let text = |stream: &str| match saved.get(stream) {
            Some(t) => Some(t.to_string()),
            None => former_parts.get(stream).cloned(),
        };
        let mut cursor = Cursor::default();
        let mut ats = Vec::new();
        let mut probe_etags: BTreeMap<String, Vec<Option<String>>> = BTreeMap::new();
        for stream in Stream::ALL {
            let name = stream.name();
            let c: RepoStreamCursor = parse(name, text(name).as_deref())?;
            for (repo, m) in c.repos {
                let marks = cursor.repos.entry(repo.clone()).or_default();
                *marks.updated_at_mut(stream) = m.updated_at;
                match stream {
                    Stream::Issues | Stream::PullRequests => {
                        if probed.contains(&stream) {
                            probe_etags.entry(repo).or_default().push(m.etag);
                        }
                    }
                    Stream::Deployments | Stream::Releases => {
                        *marks.probes.get_mut(stream) = m.etag
                    }
                }
            }
            if let Some(at) = c.at {
                ats.push((stream, at));
            }
        }
        for (repo, etags) in probe_etags {
            let agreed = etags.len() == probed.len() && etags.windows(2).all(|w| w[0] == w[1]);
            if agreed {
                cursor.repos.entry(repo).or_default().probes.etag =
                    etags.into_iter().next().flatten();
            }
        }
        let members: MembersCursor = parse("members", text("members").as_deref())?;
        cursor.members_etag = members.etag;
        let org: OrgReposCursor = parse("org_repositories", text("org_repositories").as_deref())?;
        cursor.org_repos = org.repos;
        cursor.org_etag = org.etag;
        Ok(Self { cursor, ats })
    }

    /// The marks and listings (no position).
    pub(super) fn cursor(&self) -> Cursor {
        self.cursor.clone()
    }

    /// Where a run over `repos` (in walk order) resumes: the earliest saved position among them, with the
    /// streams of the same repository still to read after it.
    pub(super) fn resume(&self, repos: &[String]) -> Option<Position> {
        let index = |repo: &str| repos.iter().position(|r| r == repo);
        let (stream, first) = self
            .ats
            .iter()
            .filter_map(|(s, at)| Some(((index(&at.repo)?, *s), s, at)))
            .min_by_key(|(order, _, _)| *order)
            .map(|(_, s, at)| (*s, at))?;
        let of_repo: Vec<(Stream, &At)> = self
            .ats
            .iter()
            .filter(|(_, at)| at.repo == first.repo)
            .map(|(s, at)| (*s, at))
            .collect();
        let marks = self
            .cursor
            .repos
            .get(&first.repo)
            .cloned()
            .unwrap_or_default();
        // The ETags the positions hold; a probe none of them holds answered `304`, so it is the mark's.
        let mut probes = Probes::default();
        for (s, at) in &of_repo {
            let slot = probes.get_mut(*s);
            if slot.is_none() {
                slot.clone_from(&at.etag);
            }
        }
        for s in Stream::ALL {
            if !of_repo.iter().any(|(t, _)| t.shares_probe_with(s)) {
                *probes.get_mut(s) = marks.probes.get(s).cloned();
            }
        }
        if of_repo.iter().all(|(_, at)| at.etag.is_none()) {
            // Written before positions held the probes: the run keeps what the client holds.
            probes = Probes::default();
        }
        let mut rest: Vec<Stream> = of_repo
            .iter()
            .map(|(s, _)| *s)
            .filter(|s| *s > stream)
            .collect();
        rest.sort();
        rest.dedup();
        Some(Position {
            repo: first.repo.clone(),
            stream,
            after: first.after.clone(),
            high: first.high,
            rest,
            probes,
        })
    }
}

impl Cursor {
    /// The cursor of each state stream, serialized as saved. The issues and pull requests probe's ETag goes
    /// to the streams of `probed` (those of the two the source reads) alone: a stream enabled later has
    /// none, and is read rather than skipped on a `304`.
    pub(super) fn split(
        &self,
        probed: &[Stream],
    ) -> Result<BTreeMap<&'static str, String>, SourceError> {
        let mut out = BTreeMap::new();
        for stream in Stream::ALL {
            let mut c = RepoStreamCursor::default();
            for (repo, m) in &self.repos {
                let shared = stream.on_items_probe();
                let mark = StreamMark {
                    updated_at: m.updated_at(stream),
                    etag: m
                        .probes
                        .get(stream)
                        .filter(|_| !shared || probed.contains(&stream))
                        .cloned(),
                };
                if mark != StreamMark::default() {
                    c.repos.insert(repo.clone(), mark);
                }
            }
            if let Some(p) = &self.at {
                let etag = p.probes.get(stream).cloned();
                if p.stream == stream {
                    c.at = Some(At {
                        repo: p.repo.clone(),
                        after: p.after.clone(),
                        high: p.high,
                        etag,
                    });
                } else if p.rest.contains(&stream) {
                    c.at = Some(At {
                        repo: p.repo.clone(),
                        after: None,
                        high: None,
                        etag,
                    });
                }
            }
            out.insert(stream.name(), to_text(&c)?);
        }
        out.insert(
            "members",
            to_text(&MembersCursor {
                etag: self.members_etag.clone(),
            })?,
        );
        out.insert(
            "org_repositories",
            to_text(&OrgReposCursor {
                repos: self.org_repos.clone(),
                etag: self.org_etag.clone(),
            })?,
        );
        Ok(out)
    }
}

/// The cursors of every state stream that are empty, serialized: a stream never saved is taken as one.
fn empty_text(stream: &str) -> Result<String, SourceError> {
    match stream {
        "members" => to_text(&MembersCursor::default()),
        "org_repositories" => to_text(&OrgReposCursor::default()),
        _ => to_text(&RepoStreamCursor::default()),
    }
}

/// The streams whose cursor differs from the one last saved (`saved`, updated here): what a page carries.
pub(super) fn moved(
    cursor: &Cursor,
    probed: &[Stream],
    saved: &mut BTreeMap<&'static str, String>,
) -> Result<StreamCursors, SourceError> {
    let mut out = StreamCursors::new();
    for (stream, text) in cursor.split(probed)? {
        let same = match saved.get(stream) {
            Some(s) => *s == text,
            None => text == empty_text(stream)?,
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

#[cfg(test)]
mod tests;
