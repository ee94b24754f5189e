//! Splitting the cursor into per-stream cursors and joining them back, the former document's conversion, and
//! what is resumed when saved cursors disagree.

use super::*;

fn t(s: &str) -> Option<DateTime<Utc>> {
    Some(s.parse().unwrap())
}

/// A run stopped inside `b`'s pull requests, its deployments still to read; `a` done.
fn inside() -> Cursor {
    let mut repos = BTreeMap::new();
    repos.insert(
        "acme/a".to_string(),
        RepoMarks {
            issues: t("2026-01-01T00:00:00Z"),
            pull_requests: t("2026-01-02T00:00:00Z"),
            deployments: t("2026-01-03T00:00:00Z"),
            probes: Probes {
                etag: Some("W/\"a\"".into()),
                deployments_etag: Some("W/\"ad\"".into()),
                releases_etag: None,
            },
            ..RepoMarks::default()
        },
    );
    repos.insert(
        "acme/b".to_string(),
        RepoMarks {
            issues: t("2026-02-01T00:00:00Z"),
            ..RepoMarks::default()
        },
    );
    Cursor {
        repos,
        org_repos: vec!["acme/a".into(), "acme/b".into()],
        org_etag: Some("W/\"o\"".into()),
        members_etag: Some("W/\"m\"".into()),
        at: Some(Position {
            repo: "acme/b".into(),
            stream: Stream::PullRequests,
            after: Some("Y3Vyc29y".into()),
            high: t("2026-02-05T00:00:00Z"),
            rest: vec![Stream::Deployments],
            probes: Probes {
                etag: Some("W/\"b\"".into()),
                deployments_etag: Some("W/\"bd\"".into()),
                releases_etag: None,
            },
        }),
    }
}

fn saved_of(cursor: &Cursor) -> StreamCursors {
    cursor
        .split(&BOTH)
        .unwrap()
        .into_iter()
        .map(|(s, c)| (s.to_string(), c))
        .collect()
}

const BOTH: [Stream; 2] = [Stream::Issues, Stream::PullRequests];

#[test]
fn split_cursors_add_up_to_the_cursor_they_came_from() {
    let cursor = inside();
    let saved = Saved::join(&saved_of(&cursor), &BOTH).unwrap();
    let mut back = saved.cursor();
    back.at = saved.resume(&cursor.org_repos);
    assert_eq!(back, cursor);
}

#[test]
fn the_former_document_converts_to_the_same_cursor() {
    let cursor = inside();
    let former = StreamCursors::one(FORMER_STREAM, serde_json::to_string(&cursor).unwrap());
    let saved = Saved::join(&former, &BOTH).unwrap();
    let mut back = saved.cursor();
    back.at = saved.resume(&cursor.org_repos);
    assert_eq!(back, cursor);
}

#[test]
fn a_probe_etag_the_streams_disagree_on_is_not_sent() {
    let mut saved = saved_of(&inside());
    // `acme/a`'s pull requests cursor is one write behind: no ETag for it.
    saved.set(
        "pull_requests",
        r#"{"repos":{"acme/a":{"updated_at":"2026-01-02T00:00:00Z"}}}"#,
    );
    let joined = Saved::join(&saved, &BOTH).unwrap().cursor();
    assert_eq!(joined.repos["acme/a"].probes.etag, None);
    // With pull requests not read, the issues' ETag is the probe's.
    let joined = Saved::join(&saved, &[Stream::Issues]).unwrap().cursor();
    assert_eq!(
        joined.repos["acme/a"].probes.etag.as_deref(),
        Some("W/\"a\"")
    );
    // Pull requests enabled where only issues were read: the probe is sent without an ETag.
    let only_issues: StreamCursors = inside()
        .split(&[Stream::Issues])
        .unwrap()
        .into_iter()
        .map(|(s, c)| (s.to_string(), c))
        .collect();
    let prs: serde_json::Value =
        serde_json::from_str(only_issues.get("pull_requests").unwrap()).unwrap();
    assert_eq!(prs["repos"]["acme/a"].get("etag"), None, "{prs}");
    let joined = Saved::join(&only_issues, &BOTH).unwrap().cursor();
    assert_eq!(joined.repos["acme/a"].probes.etag, None);
}

#[test]
fn of_disagreeing_positions_the_earliest_in_the_walk_is_resumed() {
    let mut saved = saved_of(&inside());
    saved.set(
        "issues",
        r#"{"repos":{},"at":{"repo":"acme/b","after":"b2xk"}}"#,
    );
    saved.set("releases", r#"{"at":{"repo":"acme/a"}}"#);
    let joined = Saved::join(&saved, &BOTH).unwrap();
    let repos = ["acme/a".to_string(), "acme/b".to_string()];
    let at = joined.resume(&repos).unwrap();
    assert_eq!((at.repo.as_str(), at.stream), ("acme/a", Stream::Releases));
    assert!(at.rest.is_empty());
    // A repository no longer listed is not resumed.
    let at = joined.resume(&repos[1..]).unwrap();
    assert_eq!((at.repo.as_str(), at.stream), ("acme/b", Stream::Issues));
    assert_eq!(at.after.as_deref(), Some("b2xk"));
    assert_eq!(at.rest, [Stream::PullRequests, Stream::Deployments]);
    assert_eq!(joined.resume(&[]), None);
}

#[test]
fn a_page_carries_only_the_streams_it_moved() {
    let mut cursor = inside();
    let mut saved = saved_parts(&saved_of(&cursor));
    assert!(moved(&cursor, &BOTH, &mut saved).unwrap().is_empty());
    if let Some(at) = &mut cursor.at {
        at.after = Some("bmV4dA".into());
    }
    let page = moved(&cursor, &BOTH, &mut saved).unwrap();
    assert_eq!(
        page.iter().map(|(s, _)| s).collect::<Vec<_>>(),
        ["pull_requests"]
    );
    // Nothing saved and nothing to save: an empty stream is not carried.
    let mut none = BTreeMap::new();
    let first = moved(&Cursor::default(), &BOTH, &mut none).unwrap();
    assert!(first.is_empty(), "{first:?}");
}

#[test]
fn a_bad_cursor_names_its_stream() {
    let e = Saved::join(&StreamCursors::one("releases", "{"), &BOTH)
        .err()
        .unwrap();
    assert!(e.to_string().contains("releases"), "{e}");
}
