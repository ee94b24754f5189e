//! The Yandex Tracker source driven in-process against the fake Tracker: what it asks for, request by request.

use std::sync::Arc;

use flowlake_connect::http::{LogObserver, Tape};
use flowlake_connect::yandex::{YandexTrackerConfig, YandexTrackerSource};
use flowlake_connect::Source;
use flowlake_testkit::yandex_tracker::{FakeTracker, FakeTrackerSpec};

/// Runs a whole sync of `config` against `fake` and returns every request it made.
fn requests_of_a_run(fake: &FakeTracker, config: YandexTrackerConfig) -> Vec<String> {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let token = dir.path().join("token");
    std::fs::write(&token, "y0_fake_tracker_token").expect("the token file");
    let config = YandexTrackerConfig {
        base_url: fake.uri(),
        org_id: Some("7654321".into()),
        token_file: Some(token),
        queues: "DEV,SRE".into(),
        ..config
    };
    let mut source =
        YandexTrackerSource::new(config, Tape::Off, Arc::new(LogObserver)).expect("a source");
    let mut cursor: Option<String> = None;
    while let Some(page) = source
        .next_page(cursor.as_deref())
        .unwrap_or_else(|e| panic!("the run fails: {e}"))
    {
        cursor = Some(page.cursor);
    }
    assert_eq!(fake.take_contract_violations(), Vec::<String>::new());
    fake.requests()
}

/// flowlake sent `perPage` to `/v2/issues/{key}/worklog`, which takes no parameter (issue-worklog.md).
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
