//! The GitLab source driven in-process, page by page, against the fake GitLab (`flowlake-testkit`), whose
//! every request and 2xx answer is held to the answers recorded from gitlab.com and GitLab's own JSON schemas:
//! the first issues page, the next one by keyset `cursor`, a project with nothing new, a 401, a 429 with
//! `Retry-After` and `RateLimit-Remaining: 0`, and a resume from a saved cursor — per stream, or the one
//! document the release before kept, which the first page converts.

use std::sync::Arc;

use flowlake_connect::gitlab::{GitlabConfig, GitlabSource, FORMER_STREAM};
use flowlake_connect::http::{LogObserver, Tape};
use flowlake_connect::{Page, Source, SourceError, StreamCursors};
use flowlake_testkit::drive::{first_error, keys, pages, saved_after, token_file};
use flowlake_testkit::gitlab::{FakeGitlab, FakeGitlabSpec, GitlabFault};
use flowlake_testkit::shared::Received;

/// The access token the source reads from its token file; no message may show it.
const TOKEN: &str = "glpat-fake0gitlab0token";

/// A source of project `acme/api`'s issues only, `per_page` a page, the token in a file.
fn source(fake: &FakeGitlab, dir: &tempfile::TempDir, per_page: u32) -> GitlabSource {
    let config = GitlabConfig {
        base_url: fake.uri(),
        projects: vec!["acme/api".into()],
        token_file: Some(token_file(dir.path(), TOKEN)),
        issues: true,
        merge_requests: false,
        deployments: false,
        pipelines: false,
        per_page,
        ..GitlabConfig::default()
    };
    GitlabSource::new(config, Tape::Off, Arc::new(LogObserver)).unwrap()
}

/// One project of seven issues and no merge requests.
fn small() -> FakeGitlabSpec {
    FakeGitlabSpec {
        projects: vec!["api".into()],
        issues: 7,
        merge_requests: 0,
        ..FakeGitlabSpec::default()
    }
}

/// The issue list requests the fake received.
fn listings(fake: &FakeGitlab) -> Vec<Received> {
    fake.received()
        .into_iter()
        .filter(|r| r.target.starts_with("/api/v4/projects/acme%2Fapi/issues?"))
        .collect()
}

/// The issue records of a page (not the lookups).
fn issues(page: &Page) -> Vec<String> {
    keys(page, "issues")
}

#[test]
fn page_two_follows_the_keyset_cursor_of_page_one() {
    let fake = FakeGitlab::start(&small());
    let dir = tempfile::tempdir().unwrap();
    let mut source = source(&fake, &dir, 5);
    let first = source
        .next_page(&StreamCursors::new())
        .unwrap()
        .expect("page 1");
    assert_eq!(issues(&first).len(), 5);
    let second = source
        .next_page(&saved_after(std::slice::from_ref(&first)))
        .unwrap()
        .expect("page 2");
    assert_eq!(issues(&second).len(), 2);
    assert!(issues(&second).iter().all(|k| !issues(&first).contains(k)));
    let rest = pages(&mut source, saved_after(&[first, second]));
    assert!(rest.iter().all(|p| issues(p).is_empty()), "{rest:?}");

    let listings = listings(&fake);
    assert_eq!(listings[0].query("pagination").as_deref(), Some("keyset"));
    assert_eq!(listings[0].query("per_page").as_deref(), Some("5"));
    assert_eq!(listings[0].query("cursor"), None);
    assert!(listings[1].query("cursor").is_some(), "{listings:#?}");
    assert_eq!(fake.keyset_pages(), 1);
    assert_eq!(fake.take_contract_violations(), Vec::<String>::new());
}

#[test]
fn a_project_with_nothing_new_ends_the_run_with_no_issue() {
    let fake = FakeGitlab::start(&small());
    let dir = tempfile::tempdir().unwrap();
    let cursor = r#"{"projects":{"acme/api":{"updated_at":"2099-01-01T00:00:00Z"}}}"#;
    let pages = pages(
        &mut source(&fake, &dir, 5),
        StreamCursors::one("issues", cursor),
    );
    assert!(pages.iter().all(|p| issues(p).is_empty()), "{pages:?}");
    assert_eq!(listings(&fake).len(), 1);
    assert_eq!(fake.take_contract_violations(), Vec::<String>::new());
}

#[test]
fn a_401_names_the_status_and_gitlabs_message_but_never_the_token() {
    let fake = FakeGitlab::start(&small());
    fake.inject(GitlabFault {
        op: "issues".into(),
        nth: 0,
        status: 401,
    });
    let dir = tempfile::tempdir().unwrap();
    let e = first_error(&mut source(&fake, &dir, 5));
    assert!(matches!(e, SourceError::Http(_)), "{e:?}");
    let m = e.to_string();
    assert!(
        m.contains("HTTP 401") && m.contains("401 Unauthorized") && m.contains("/issues"),
        "{m}"
    );
    assert!(
        !m.contains(TOKEN) && !format!("{e:?}").contains(TOKEN),
        "{m}"
    );
}

#[test]
fn a_429_with_retry_after_is_waited_out_and_the_page_comes_whole() {
    let fake = FakeGitlab::start(&small());
    fake.inject(GitlabFault {
        op: "issues".into(),
        nth: 1,
        status: 429,
    });
    let dir = tempfile::tempdir().unwrap();
    let pages = pages(&mut source(&fake, &dir, 5), StreamCursors::new());
    let keys: Vec<String> = pages.iter().flat_map(issues).collect();
    assert_eq!(keys.len(), 7, "{keys:?}");
    let answered = fake.answered();
    assert_eq!(answered.get(&("issues".into(), 429)), Some(&1));
    assert_eq!(fake.take_contract_violations(), Vec::<String>::new());
}

#[test]
fn a_saved_cursor_resumes_with_its_time_less_the_lookback_as_updated_after() {
    let fake = FakeGitlab::start(&small());
    let dir = tempfile::tempdir().unwrap();
    let cursor = r#"{"projects":{"acme/api":{"updated_at":"2026-01-10T12:00:00Z"}}}"#;
    pages(
        &mut source(&fake, &dir, 5),
        StreamCursors::one("issues", cursor),
    );
    let listings = listings(&fake);
    // The default look-back is 10 minutes.
    assert_eq!(
        listings[0].query("updated_after").as_deref(),
        Some("2026-01-10T11:50:00.000Z"),
        "{listings:#?}"
    );
    assert_eq!(fake.take_contract_violations(), Vec::<String>::new());
}

#[test]
fn a_cursor_document_of_the_release_before_resumes_each_stream_and_splits_on_the_first_page() {
    let fake = FakeGitlab::start(&small());
    let dir = tempfile::tempdir().unwrap();
    // As the release before saved it under `{source}/projects`: every stream's marks, and the position.
    let old = r#"{"projects":{"acme/api":{"issues":"2026-01-10T12:00:00Z","merge_requests":"2026-01-11T00:00:00Z","pipelines":"2026-01-12T00:00:00Z","pipeline_id":41}},"at":{"project":"acme/api","stream":"issues"}}"#;
    let run = pages(
        &mut source(&fake, &dir, 5),
        StreamCursors::one(FORMER_STREAM, old),
    );
    let listings = listings(&fake);
    assert_eq!(
        listings[0].query("updated_after").as_deref(),
        Some("2026-01-10T11:50:00.000Z"),
        "{listings:#?}"
    );
    // The first page carries every stream's part; the streams this run does not read keep their marks.
    let first = &run[0].cursors;
    assert_eq!(
        first.get("merge_requests"),
        Some(r#"{"projects":{"acme/api":{"updated_at":"2026-01-11T00:00:00Z"}}}"#)
    );
    assert_eq!(
        first.get("pipelines"),
        Some(r#"{"projects":{"acme/api":{"updated_at":"2026-01-12T00:00:00Z","pipeline_id":41}}}"#)
    );
    assert!(first.get("issues").is_some(), "{first:?}");
    assert_eq!(first.get(FORMER_STREAM), None);
    let saved = saved_after(&run);
    let issues: serde_json::Value = serde_json::from_str(saved.get("issues").unwrap()).unwrap();
    assert!(
        issues["projects"]["acme/api"]["updated_at"]
            .as_str()
            .is_some_and(|t| t >= "2026-01-10T12:00:00Z"),
        "{issues}"
    );
    assert!(issues.get("at").is_none(), "the run ended: {issues}");
    assert_eq!(fake.take_contract_violations(), Vec::<String>::new());
}

#[test]
fn a_stream_s_own_cursor_wins_over_the_old_document_and_the_earliest_position_is_resumed() {
    let fake = FakeGitlab::start(&small());
    let dir = tempfile::tempdir().unwrap();
    // A run that wrote the issues cursor and died before deleting the old document: the issues cursor is
    // the newer, and says the run was inside issues.
    let old = r#"{"projects":{"acme/api":{"issues":"2026-01-01T00:00:00Z"}},"at":{"project":"acme/api","stream":"merge_requests"}}"#;
    let mut saved = StreamCursors::one(FORMER_STREAM, old);
    saved.set(
        "issues",
        r#"{"projects":{"acme/api":{"updated_at":"2026-01-10T12:00:00Z"}},"at":"acme/api"}"#,
    );
    pages(&mut source(&fake, &dir, 5), saved);
    let listings = listings(&fake);
    assert_eq!(
        listings[0].query("updated_after").as_deref(),
        Some("2026-01-10T11:50:00.000Z"),
        "{listings:#?}"
    );
    assert_eq!(fake.take_contract_violations(), Vec::<String>::new());
}

#[test]
fn an_old_cursor_document_that_is_not_the_sources_is_refused_before_any_request() {
    let fake = FakeGitlab::start(&small());
    let dir = tempfile::tempdir().unwrap();
    let e = source(&fake, &dir, 5)
        .next_page(&StreamCursors::one(FORMER_STREAM, r#"{"unknown": 1}"#))
        .unwrap_err();
    assert!(matches!(e, SourceError::BadCursor(_)), "{e:?}");
    assert!(fake.received().is_empty());
}

#[test]
fn a_cursor_that_is_not_the_sources_is_refused_before_any_request() {
    let fake = FakeGitlab::start(&small());
    let dir = tempfile::tempdir().unwrap();
    let e = source(&fake, &dir, 5)
        .next_page(&StreamCursors::one("issues", r#"{"unknown": 1}"#))
        .unwrap_err();
    assert!(matches!(e, SourceError::BadCursor(_)), "{e:?}");
    assert!(fake.received().is_empty());
}
