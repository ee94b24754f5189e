//! The GitHub source driven in-process, page by page, against the fake GitHub (`flowlake-testkit`), whose
//! GraphQL documents are validated against GitHub's published schema and executed there, and whose REST
//! exchanges are held to GitHub's OpenAPI document: the first issues page, the next one by `endCursor`, a
//! repository with nothing new, a 401, rate limits (a 429 with `x-ratelimit-*` waited out, or refused by
//! `max_rate_limit_wait_seconds`), a resume from a saved cursor, and the former one-document cursor converted
//! into one cursor per stream.

use std::sync::Arc;

use flowlake_connect::github::{GithubConfig, GithubSource, FORMER_STREAM};
use flowlake_connect::http::{HttpError, LogObserver, Tape};
use flowlake_connect::{Page, Source, SourceError, StreamCursors};
use flowlake_testkit::drive::{first_error, keys, pages, token_file};
use flowlake_testkit::github::{FakeGithub, FakeOrgSpec, Fault, FaultKind};
use serde_json::{json, Value};

/// The token the source reads from its token file; no message may show it.
const TOKEN: &str = "ghp_fake0github0token0000000000000000";

/// A source of `acme/repo-00`'s issues only, `page_size` a page, the token in a file.
fn config(fake: &FakeGithub, dir: &tempfile::TempDir, page_size: u32) -> GithubConfig {
    GithubConfig {
        base_url: fake.uri(),
        repositories: vec!["acme/repo-00".into()],
        token_file: Some(token_file(dir.path(), TOKEN)),
        pull_requests: false,
        deployments: false,
        releases: false,
        page_size,
        ..GithubConfig::default()
    }
}

fn source(config: GithubConfig) -> GithubSource {
    GithubSource::new(config, Tape::Off, Arc::new(LogObserver)).unwrap()
}

/// One repository of seven issues and no pull requests.
fn small() -> FakeOrgSpec {
    FakeOrgSpec {
        repos: 1,
        issues: 7,
        pull_requests: 0,
        ..FakeOrgSpec::default()
    }
}

/// The variables of the `IssuesPage` queries the fake received.
fn issue_pages(fake: &FakeGithub) -> Vec<Value> {
    fake.graphql_variables("IssuesPage")
}

/// The cursors a first run hands out up to its first page of issues (inside `acme/repo-00`'s issues).
fn cursors_after_the_first_issues_page(
    fake: &FakeGithub,
    dir: &tempfile::TempDir,
) -> StreamCursors {
    let mut first_run = source(config(fake, dir, 5));
    let mut cursors = StreamCursors::new();
    loop {
        let page = first_run.next_page(&cursors).unwrap().expect("a page");
        cursors.advance(&page.cursors);
        if !issues(&page).is_empty() {
            return cursors;
        }
    }
}

/// The issue records of a page (not the lookups).
fn issues(page: &Page) -> Vec<String> {
    keys(page, "issues")
}

#[test]
fn page_two_asks_for_the_end_cursor_of_page_one() {
    let fake = FakeGithub::start(&small());
    let dir = tempfile::tempdir().unwrap();
    let pages = pages(&mut source(config(&fake, &dir, 5)), StreamCursors::new());
    let with_issues: Vec<Vec<String>> =
        pages.iter().map(issues).filter(|k| !k.is_empty()).collect();
    assert_eq!(
        with_issues.iter().map(Vec::len).collect::<Vec<_>>(),
        [5, 2],
        "{with_issues:?}"
    );
    assert!(with_issues[1].iter().all(|k| !with_issues[0].contains(k)));

    let queries = issue_pages(&fake);
    assert_eq!(queries.len(), 2, "{queries:#?}");
    assert_eq!(queries[0]["first"], 5);
    assert!(queries[0]["after"].is_null(), "{queries:#?}");
    assert!(
        queries[1]["after"].as_str().is_some_and(|a| !a.is_empty()),
        "{queries:#?}"
    );
    assert_eq!(fake.take_contract_violations(), Vec::<String>::new());
}

#[test]
fn a_saved_cursor_inside_a_repository_resumes_at_its_end_cursor() {
    let fake = FakeGithub::start(&small());
    let dir = tempfile::tempdir().unwrap();
    let saved = cursors_after_the_first_issues_page(&fake, &dir);
    let saved_doc: Value = serde_json::from_str(saved.get("issues").unwrap()).unwrap();
    let after = saved_doc["at"]["after"]
        .as_str()
        .expect("the cursor holds the page's endCursor")
        .to_string();
    let asked_before = issue_pages(&fake).len();

    // A new process resumes from the saved state: its first issues query asks for what follows.
    let pages = pages(&mut source(config(&fake, &dir, 5)), saved);
    let keys: Vec<String> = pages.iter().flat_map(issues).collect();
    assert_eq!(keys.len(), 2, "{keys:?}");
    let queries = issue_pages(&fake);
    assert_eq!(queries[asked_before]["after"], Value::from(after));
    assert_eq!(fake.take_contract_violations(), Vec::<String>::new());
}

#[test]
fn a_repository_with_nothing_new_since_the_cursor_lands_no_issue() {
    let fake = FakeGithub::start(&small());
    let dir = tempfile::tempdir().unwrap();
    let cursor = r#"{"repos":{"acme/repo-00":{"updated_at":"2099-01-01T00:00:00Z"}}}"#;
    let pages = pages(
        &mut source(config(&fake, &dir, 5)),
        StreamCursors::one("issues", cursor),
    );
    assert!(pages.iter().all(|p| issues(p).is_empty()), "{pages:?}");
    // What was asked, if anything, was asked from the saved time less the 10 minutes' look-back.
    for q in issue_pages(&fake) {
        assert_eq!(q["since"], "2098-12-31T23:50:00Z", "{q}");
    }
    assert_eq!(fake.take_contract_violations(), Vec::<String>::new());
}

#[test]
fn a_401_says_bad_credentials_but_never_the_token() {
    let fake = FakeGithub::start(&small());
    for op in ["probe", "IssuesPage"] {
        fake.inject(Fault {
            op: op.into(),
            nth: 0,
            kind: FaultKind::BadCredentials,
        });
    }
    let dir = tempfile::tempdir().unwrap();
    let mut source = source(config(&fake, &dir, 5));
    let e = first_error(&mut source);
    assert!(matches!(e, SourceError::Http(_)), "{e:?}");
    let m = e.to_string();
    assert!(
        m.contains("HTTP 401") && m.contains("Bad credentials"),
        "{m}"
    );
    assert!(
        !m.contains(TOKEN) && !format!("{e:?}").contains(TOKEN),
        "{m}"
    );
}

#[test]
fn a_spent_primary_limit_is_waited_out_until_its_reset_and_the_run_completes() {
    let fake = FakeGithub::start(&small());
    fake.inject(Fault {
        op: "IssuesPage".into(),
        nth: 1,
        kind: FaultKind::PrimaryRateLimit(1),
    });
    let dir = tempfile::tempdir().unwrap();
    let pages = pages(&mut source(config(&fake, &dir, 5)), StreamCursors::new());
    let keys: Vec<String> = pages.iter().flat_map(issues).collect();
    assert_eq!(keys.len(), 7, "{keys:?}");
    assert_eq!(fake.answered().get(&("IssuesPage".into(), 429)), Some(&1));
    assert_eq!(fake.take_contract_violations(), Vec::<String>::new());
}

#[test]
fn a_rate_limit_longer_than_max_rate_limit_wait_seconds_fails_at_once() {
    let fake = FakeGithub::start(&small());
    fake.inject(Fault {
        op: "IssuesPage".into(),
        nth: 0,
        kind: FaultKind::PrimaryRateLimit(600),
    });
    let dir = tempfile::tempdir().unwrap();
    let mut source = source(GithubConfig {
        max_rate_limit_wait_seconds: 5,
        ..config(&fake, &dir, 5)
    });
    let e = first_error(&mut source);
    assert!(
        matches!(e, SourceError::Http(HttpError::RateLimited { .. })),
        "{e:?}"
    );
    assert!(
        e.to_string().contains("max_rate_limit_wait_seconds = 5"),
        "{e}"
    );
    assert_eq!(
        fake.answered().get(&("IssuesPage".into(), 429)),
        Some(&1),
        "no second request"
    );
}

/// The release before kept one document under `repositories`, here as a run left it inside `acme/repo-00`'s
/// issues: the first run resumes at its `endCursor` and its first page carries the document's parts as one
/// cursor per stream, which a later run resumes from alone.
#[test]
fn the_former_cursor_document_resumes_where_it_says_and_splits_into_one_cursor_per_stream() {
    let fake = FakeGithub::start(&small());
    let dir = tempfile::tempdir().unwrap();
    // Where a run of the release before stopped: the first page read, its endCursor saved.
    let cursors = cursors_after_the_first_issues_page(&fake, &dir);
    let issues_cursor: Value = serde_json::from_str(cursors.get("issues").unwrap()).unwrap();
    let at = &issues_cursor["at"];
    let after = at["after"].as_str().expect("an endCursor").to_string();
    let etag = at["etag"].as_str().expect("the probe's ETag");
    let document = json!({
        "repos": {"acme/repo-00": {"issues": "2026-01-01T00:00:00Z"}},
        "at": {
            "repo": "acme/repo-00",
            "stream": "issues",
            "after": after,
            "high": "2026-02-01T00:00:00Z",
            "probes": {"etag": etag},
        },
    })
    .to_string();
    let asked_before = issue_pages(&fake).len();

    let mut resumed = source(config(&fake, &dir, 5));
    let saved = StreamCursors::one(FORMER_STREAM, document);
    let page = resumed.next_page(&saved).unwrap().expect("a page");
    let queries = issue_pages(&fake);
    assert_eq!(queries[asked_before]["after"], Value::from(after));
    assert_eq!(issues(&page).len(), 2);
    // The page is the stream's last: the watermark moves to the newest updatedAt read, the position is gone.
    let issues_cursor: Value = serde_json::from_str(page.cursors.get("issues").unwrap()).unwrap();
    assert!(issues_cursor.get("at").is_none(), "{issues_cursor}");
    assert!(
        issues_cursor["repos"]["acme/repo-00"]["updated_at"]
            .as_str()
            .is_some_and(|t| t > "2026-02-01"),
        "{issues_cursor}"
    );
    assert_eq!(page.cursors.get(FORMER_STREAM), None);
    let mut after_upgrade = StreamCursors::new();
    after_upgrade.advance(&page.cursors);
    while let Some(p) = resumed.next_page(&after_upgrade).unwrap() {
        after_upgrade.advance(&p.cursors);
    }
    drop(resumed);

    // A later run from the new keys alone reads nothing again.
    let asked = issue_pages(&fake).len();
    let later = pages(&mut source(config(&fake, &dir, 5)), after_upgrade);
    assert!(later.iter().all(|p| issues(p).is_empty()), "{later:?}");
    assert_eq!(issue_pages(&fake).len(), asked, "the probe answered 304");
    assert_eq!(fake.take_contract_violations(), Vec::<String>::new());
}
