//! The Jira source driven in-process, page by page, against the fake Jira (`flowlake-testkit`), whose every
//! request and 2xx answer is held to Atlassian's Jira Cloud OpenAPI document: the first search page, the next
//! one by `nextPageToken`, a search that finds nothing, a 401, a 429 and a resume from a saved cursor.

use std::sync::Arc;

use flowlake_connect::http::{LogObserver, Tape};
use flowlake_connect::jira::{Flavor, JiraConfig, JiraSource};
use flowlake_connect::{Page, Source, SourceError, StreamCursors};
use flowlake_testkit::drive::{first_error, keys, pages, token_file};
use flowlake_testkit::jira::{FakeJira, FakeJiraSpec, JiraFault};
use flowlake_testkit::shared::Received;

/// The API token the source reads from its token file; no message may show it.
const TOKEN: &str = "ATATT3xFfGF0-fake-jira-token";

/// A Cloud source of the fake's two projects, `page_size` issues a search page, the token in a file.
fn source(fake: &FakeJira, dir: &tempfile::TempDir, page_size: u32) -> JiraSource {
    let config = JiraConfig {
        base_url: fake.uri(),
        flavor: Flavor::Cloud,
        email: Some("bot@acme.test".into()),
        token_file: Some(token_file(dir.path(), TOKEN)),
        projects: vec!["CORE".into(), "WEB".into()],
        time_zone: Some("Europe/Moscow".into()),
        page_size,
        ..JiraConfig::default()
    };
    JiraSource::new(config, Tape::Off, Arc::new(LogObserver)).unwrap()
}

fn small() -> FakeJiraSpec {
    FakeJiraSpec {
        issues: 7,
        ..FakeJiraSpec::default()
    }
}

/// The search requests the fake received.
fn searches(fake: &FakeJira) -> Vec<Received> {
    fake.received()
        .into_iter()
        .filter(|r| r.target.starts_with("/rest/api/3/search/jql"))
        .collect()
}

/// The issue records of a page (not the lookups).
fn issues(page: &Page) -> Vec<String> {
    keys(page, "issues")
}

#[test]
fn page_one_is_the_lookups_then_search_pages_follow_next_page_token() {
    let fake = FakeJira::start(&small());
    let dir = tempfile::tempdir().unwrap();
    let mut source = source(&fake, &dir, 5);

    let lookups = source
        .next_page(&StreamCursors::new())
        .unwrap()
        .expect("the lookups page");
    assert!(issues(&lookups).is_empty());
    assert!(lookups.records.iter().any(|r| r.stream == "_statuses"));
    let first = source.next_page(&lookups.cursors).unwrap().expect("page 1");
    assert_eq!(issues(&first).len(), 5);
    let second = source.next_page(&first.cursors).unwrap().expect("page 2");
    assert_eq!(issues(&second).len(), 2);
    assert!(issues(&second).iter().all(|k| !issues(&first).contains(k)));
    assert!(source.next_page(&second.cursors).unwrap().is_none());

    let searches = searches(&fake);
    assert_eq!(searches.len(), 2, "{searches:#?}");
    assert_eq!(searches[0].query("nextPageToken"), None);
    assert_eq!(searches[0].query("maxResults").as_deref(), Some("5"));
    assert_eq!(searches[1].query("nextPageToken").as_deref(), Some("tok-5"));
    assert_eq!(fake.take_contract_violations(), Vec::<String>::new());
}

#[test]
fn a_search_that_finds_nothing_ends_the_run_with_no_issue() {
    let fake = FakeJira::start(&small());
    let dir = tempfile::tempdir().unwrap();
    let mut source = source(&fake, &dir, 5);
    // Nothing was updated after this cursor, so the search's one page is empty (`isLast: true`).
    let pages = pages(
        &mut source,
        StreamCursors::one("issues", r#"{"updated":"2099-01-01T00:00:00Z"}"#),
    );
    assert!(pages.iter().all(|p| issues(p).is_empty()), "{pages:?}");
    assert_eq!(searches(&fake).len(), 1);
    let last = pages.last().expect("a page");
    let cursor = last.cursor("issues").expect("the issues cursor");
    assert!(cursor.contains("2099-01-01T00:00:00Z"), "{cursor}");
}

#[test]
fn a_401_names_the_status_and_the_endpoint_but_never_the_token() {
    let fake = FakeJira::start(&small());
    fake.inject(JiraFault {
        op: "status".into(),
        nth: 0,
        status: 401,
    });
    let dir = tempfile::tempdir().unwrap();
    let e = first_error(&mut source(&fake, &dir, 5));
    assert!(matches!(e, SourceError::Http(_)), "{e:?}");
    let m = e.to_string();
    assert!(m.contains("HTTP 401") && m.contains("/status"), "{m}");
    assert!(
        !m.contains(TOKEN) && !format!("{e:?}").contains(TOKEN),
        "{m}"
    );
}

#[test]
fn a_429_with_retry_after_is_waited_out_and_the_page_comes_whole() {
    let fake = FakeJira::start(&small());
    fake.inject(JiraFault {
        op: "search".into(),
        nth: 0,
        status: 429,
    });
    let dir = tempfile::tempdir().unwrap();
    let pages = pages(&mut source(&fake, &dir, 5), StreamCursors::new());
    let keys: Vec<String> = pages.iter().flat_map(issues).collect();
    assert_eq!(keys.len(), 7, "{keys:?}");
    let answered = fake.answered();
    assert_eq!(answered.get(&("search".into(), 429)), Some(&1));
    assert_eq!(answered.get(&("search".into(), 200)), Some(&2));
}

#[test]
fn a_saved_cursor_resumes_with_its_time_less_the_lookback_in_the_jql() {
    let fake = FakeJira::start(&small());
    let dir = tempfile::tempdir().unwrap();
    let mut source = source(&fake, &dir, 5);
    // 12:00 UTC less the 10 minutes' look-back is 14:50 in Moscow, the zone JQL dates are read in.
    pages(
        &mut source,
        StreamCursors::one("issues", r#"{"updated":"2026-01-10T12:00:00Z"}"#),
    );
    let searches = searches(&fake);
    let jql = searches[0].query("jql").expect("a JQL");
    assert_eq!(
        jql,
        r#"project in ("CORE", "WEB") AND updated >= "2026/01/10 14:50" ORDER BY updated ASC, key ASC"#
    );
    assert_eq!(fake.take_contract_violations(), Vec::<String>::new());
}

#[test]
fn a_cursor_that_is_not_the_sources_is_refused_before_any_request() {
    let fake = FakeJira::start(&small());
    let dir = tempfile::tempdir().unwrap();
    let e = source(&fake, &dir, 5)
        .next_page(&StreamCursors::one("issues", "not json"))
        .unwrap_err();
    assert!(matches!(e, SourceError::BadCursor(_)), "{e:?}");
    assert!(fake.received().is_empty());
}

#[test]
fn on_server_page_two_asks_from_the_start_at_after_page_one() {
    let fake = FakeJira::start(&FakeJiraSpec {
        flavor: Flavor::Server,
        ..small()
    });
    let dir = tempfile::tempdir().unwrap();
    let config = JiraConfig {
        base_url: fake.uri(),
        flavor: Flavor::Server,
        token_file: Some(token_file(dir.path(), TOKEN)),
        projects: vec!["CORE".into(), "WEB".into()],
        time_zone: Some("Europe/Moscow".into()),
        page_size: 5,
        ..JiraConfig::default()
    };
    let mut source = JiraSource::new(config, Tape::Off, Arc::new(LogObserver)).unwrap();
    let counts: Vec<usize> = pages(&mut source, StreamCursors::new())
        .iter()
        .map(|p| issues(p).len())
        .filter(|n| *n > 0)
        .collect();
    assert_eq!(counts, [5, 2]);
    let searches: Vec<Received> = fake
        .received()
        .into_iter()
        .filter(|r| r.target.starts_with("/rest/api/2/search?"))
        .collect();
    assert_eq!(searches.len(), 2, "{searches:#?}");
    assert_eq!(searches[0].query("startAt").as_deref(), Some("0"));
    assert_eq!(searches[1].query("startAt").as_deref(), Some("5"));
    assert_eq!(fake.take_contract_violations(), Vec::<String>::new());
}
