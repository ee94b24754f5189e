//! The Yandex Tracker source driven in-process against the fake Tracker (`flowlake-testkit`), whose every
//! request and 2xx answer is held to Tracker's recorded answers and API reference: what it asks for, request
//! by request, the first search page and the next, a search that finds nothing, a 401, a 429 and a resume
//! from a saved cursor.

use std::sync::Arc;

use flowlake_connect::http::{LogObserver, Tape};
use flowlake_connect::yandex_tracker::{YandexTrackerConfig, YandexTrackerSource};
use flowlake_connect::{Page, Source, SourceError, StreamCursors};
use flowlake_testkit::drive::{first_error, keys, pages, token_file};
use flowlake_testkit::shared::Received;
use flowlake_testkit::yandex_tracker::{FakeTracker, FakeTrackerSpec, TrackerFault};

/// Runs a whole sync of `config` against `fake` and returns every request it made.
fn requests_of_a_run(fake: &FakeTracker, config: YandexTrackerConfig) -> Vec<String> {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let token = dir.path().join("token");
    std::fs::write(&token, "y0_fake_tracker_token").expect("the token file");
    let config = YandexTrackerConfig {
        base_url: fake.uri(),
        org_id: Some("7654321".into()),
        token_file: Some(token_file(dir.path(), TOKEN)),
        queues: "DEV,SRE".into(),
        ..config
    };
    let mut source =
        YandexTrackerSource::new(config, Tape::Off, Arc::new(LogObserver)).expect("a source");
    let mut cursors = StreamCursors::new();
    while let Some(page) = source
        .next_page(&cursors)
        .unwrap_or_else(|e| panic!("the run fails: {e}"))
    {
        cursors.advance(&page.cursors);
    }
    assert_eq!(fake.take_contract_violations(), Vec::<String>::new());
    fake.requests()
}

/// flowlake sent `perPage` to `/v2/issues/{key}/worklog`, which takes no parameter (issue-worklog.md).
/// The issue records of a page (not the `_statuses`/`_users` lookups).
fn issues(page: &Page) -> Vec<String> {
    keys(page, "issues")
}

#[test]
fn the_worklog_is_asked_without_per_page() {
    let fake = FakeTracker::start(&FakeTrackerSpec {
        issues: 12,
        ..FakeTrackerSpec::default()
    });
    let requests = requests_of_a_run(
        &fake,
        YandexTrackerConfig {
            worklogs: true,
            comments: true,
            changelog_per_page: 50,
            ..YandexTrackerConfig::default()
        },
    );
    let worklogs: Vec<&String> = requests.iter().filter(|r| r.contains("/worklog")).collect();
    assert_eq!(worklogs.len(), 12, "{requests:#?}");
    assert!(worklogs.iter().all(|r| !r.contains('?')), "{worklogs:#?}");
    let changelogs = requests.iter().filter(|r| r.contains("/changelog?"));
    assert!(
        changelogs.clone().count() >= 12 && changelogs.clone().all(|r| r.contains("perPage=50")),
        "{requests:#?}"
    );
}

/// flowlake repeated `perScroll` on every scroll request; Tracker reads it from the first only and documents
/// the next ones as `scrollId` and `scrollTTLMillis` (search-issues.md).
#[test]
fn per_scroll_is_sent_on_the_first_scroll_request_only() {
    let fake = FakeTracker::start(&FakeTrackerSpec::default());
    let requests = requests_of_a_run(
        &fake,
        YandexTrackerConfig {
            per_page: 50,
            scroll_above: 60,
            users: false,
            ..YandexTrackerConfig::default()
        },
    );
    let scrolls: Vec<&String> = requests
        .iter()
        .filter(|r| r.contains("scrollType=") || r.contains("scrollId="))
        .collect();
    assert_eq!(
        scrolls.len(),
        3,
        "120 issues in scroll pages of 50: {requests:#?}"
    );
    assert!(
        scrolls[0].contains("scrollType=sorted") && scrolls[0].contains("perScroll=50"),
        "{scrolls:#?}"
    );
    for later in &scrolls[1..] {
        assert!(
            later.contains("scrollId=") && !later.contains("perScroll"),
            "{scrolls:#?}"
        );
    }
}

/// The OAuth token the source reads from its token file; no message may show it.
const TOKEN: &str = "y0_AgAAAAfake-tracker-token";

/// A source of the fake's two queues, `per_page` issues a search page (pages, not a scroll).
fn source(fake: &FakeTracker, dir: &tempfile::TempDir, per_page: u32) -> YandexTrackerSource {
    let config = YandexTrackerConfig {
        base_url: fake.uri(),
        org_id: Some("7654321".into()),
        token_file: Some(token_file(dir.path(), TOKEN)),
        queues: "DEV,SRE".into(),
        per_page,
        ..YandexTrackerConfig::default()
    };
    YandexTrackerSource::new(config, Tape::Off, Arc::new(LogObserver)).unwrap()
}

fn small() -> FakeTrackerSpec {
    FakeTrackerSpec {
        issues: 7,
        ..FakeTrackerSpec::default()
    }
}

/// The search requests the fake received.
fn searches(fake: &FakeTracker) -> Vec<Received> {
    fake.received()
        .into_iter()
        .filter(|r| r.target.starts_with("/v2/issues/_search"))
        .collect()
}

#[test]
fn page_one_is_the_lookups_then_search_pages_follow_the_page_number() {
    let fake = FakeTracker::start(&small());
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
    assert_eq!(searches[0].query("perPage").as_deref(), Some("5"));
    assert_eq!(searches[0].query("page").as_deref(), Some("1"));
    assert_eq!(searches[1].query("page").as_deref(), Some("2"));
    assert_eq!(fake.take_contract_violations(), Vec::<String>::new());
}

#[test]
fn a_search_that_finds_nothing_ends_the_run_with_no_issue() {
    let fake = FakeTracker::start(&small());
    let dir = tempfile::tempdir().unwrap();
    let mut source = source(&fake, &dir, 5);
    // Nothing was updated after this cursor: the search answers an empty list.
    let pages = pages(
        &mut source,
        StreamCursors::one("issues", r#"{"updated":"2099-01-01T00:00:00Z"}"#),
    );
    assert!(pages.iter().all(|p| issues(p).is_empty()), "{pages:?}");
    assert_eq!(searches(&fake).len(), 1);
    assert_eq!(fake.take_contract_violations(), Vec::<String>::new());
}

#[test]
fn a_401_names_the_status_and_trackers_message_but_never_the_token() {
    let fake = FakeTracker::start(&small());
    fake.inject(TrackerFault {
        op: "statuses".into(),
        nth: 0,
        status: 401,
    });
    let dir = tempfile::tempdir().unwrap();
    let e = first_error(&mut source(&fake, &dir, 5));
    assert!(matches!(e, SourceError::Http(_)), "{e:?}");
    let m = e.to_string();
    assert!(
        m.contains("HTTP 401") && m.contains("/v2/statuses") && m.contains("not authorized"),
        "{m}"
    );
    assert!(
        !m.contains(TOKEN) && !format!("{e:?}").contains(TOKEN),
        "{m}"
    );
}

#[test]
fn a_429_with_retry_after_is_waited_out_and_the_page_comes_whole() {
    let fake = FakeTracker::start(&small());
    fake.inject(TrackerFault {
        op: "search".into(),
        nth: 1,
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
fn a_saved_cursor_resumes_with_its_time_less_the_lookback_in_the_query() {
    let fake = FakeTracker::start(&small());
    let dir = tempfile::tempdir().unwrap();
    let mut source = source(&fake, &dir, 5);
    pages(
        &mut source,
        StreamCursors::one("issues", r#"{"updated":"2026-01-10T12:00:00Z"}"#),
    );
    let searches = searches(&fake);
    let query = searches[0].json()["query"]
        .as_str()
        .expect("a query")
        .to_string();
    // The default look-back is 10 minutes; Tracker reads the time in UTC as written.
    assert!(
        query.contains(r#"Updated: >= "2026-01-10 11:50:00""#),
        "{query}"
    );
    assert_eq!(fake.take_contract_violations(), Vec::<String>::new());
}
