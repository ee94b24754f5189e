//! Every pager of every source stops with an error, after a bounded number of requests, when the server's
//! paging does not advance (issue 16: a GraphQL page answering `hasNextPage: true` with the same `endCursor`
//! and no nodes got 4,587 identical requests in 10 s). Each fake serves a stuck pager on demand
//! (`FaultKind::StuckCursor`, `StatusFault::stuck`), from one request of an operation on.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use flowlake_connect::github::{GithubConfig, GithubSource};
use flowlake_connect::gitlab::{GitlabConfig, GitlabSource};
use flowlake_connect::http::{LogObserver, Stuck, StuckPaging, Tape};
use flowlake_connect::jira::{Flavor, JiraConfig, JiraSource};
use flowlake_connect::yandex_tracker::{YandexTrackerConfig, YandexTrackerSource};
use flowlake_connect::{Source, SourceError, StreamCursors};
use flowlake_testkit::github::{FakeGithub, FakeOrgSpec, Fault, FaultKind};
use flowlake_testkit::gitlab::{FakeGitlab, FakeGitlabSpec};
use flowlake_testkit::jira::{FakeJira, FakeJiraSpec};
use flowlake_testkit::yandex_tracker::{FakeTracker, FakeTrackerSpec};
use flowlake_testkit::StatusFault;

/// Pages a sync would take before the test calls it a loop.
const MAX_PAGES: usize = 200;

/// A token file, so no test touches the process environment.
fn token_file(dir: &tempfile::TempDir) -> Option<PathBuf> {
    let path = dir.path().join("token");
    std::fs::write(&path, "fake-token-for-tests\n").unwrap();
    Some(path)
}

/// Pages `source` as the engine does, until it ends or fails.
fn sync(source: &mut dyn Source) -> Result<usize, SourceError> {
    let mut cursors = StreamCursors::new();
    let mut pages = 0;
    while let Some(page) = source.next_page(&cursors)? {
        cursors.advance(&page.cursors);
        pages += 1;
        assert!(pages < MAX_PAGES, "the pager never stopped");
    }
    Ok(pages)
}

/// The error a stuck pager must end the sync with.
fn stuck(source: &mut dyn Source) -> StuckPaging {
    match sync(source) {
        Err(SourceError::Paging(e)) => e,
        other => panic!("expected a stuck-pager error, got {other:?}"),
    }
}

/// Requests answered for `op`, whatever the status.
fn requests(answered: &BTreeMap<(String, u16), u64>, op: &str) -> u64 {
    answered
        .iter()
        .filter(|((o, _), _)| o == op)
        .map(|(_, n)| n)
        .sum()
}

fn github(fake: &FakeGithub, dir: &tempfile::TempDir) -> GithubSource {
    let config = GithubConfig {
        name: "gh".into(),
        organization: Some("acme".into()),
        base_url: fake.uri(),
        token_file: token_file(dir),
        page_size: 10,
        deployments: false,
        releases: false,
        max_attempts: 1,
        ..GithubConfig::default()
    };
    GithubSource::new(config, Tape::Off, Arc::new(LogObserver)).unwrap()
}

#[test]
fn a_github_pager_whose_cursor_does_not_advance_stops_the_sync() {
    let spec = FakeOrgSpec {
        repos: 1,
        issues: 40,
        pull_requests: 0,
        ..FakeOrgSpec::default()
    };
    let dir = tempfile::tempdir().unwrap();

    // The report's case: `hasNextPage: true`, the cursor it was asked with, no nodes — on a later page, and
    // on the first (where that cursor is `null`).
    for nth in [2, 0] {
        let fake = FakeGithub::start(&spec);
        fake.inject(Fault {
            op: "IssuesPage".into(),
            nth,
            kind: FaultKind::StuckCursor,
        });
        let e = stuck(&mut github(&fake, &dir));
        assert_eq!(e.problem, Stuck::Empty, "{e}");
        assert_eq!(
            (e.source_name.as_str(), e.stream.as_str()),
            ("gh", "issues of acme/repo-00")
        );
        assert!(e.to_string().contains("gh/issues of acme/repo-00"), "{e}");
        assert_eq!(
            requests(&fake.answered(), "IssuesPage"),
            nth as u64 + 1,
            "no request after the stuck page"
        );
    }

    // A nested connection: the rest of an item's timeline (more than 100 events) that does not advance.
    let long = FakeOrgSpec {
        repos: 1,
        issues: 3,
        pull_requests: 0,
        events_per_item: 150,
        ..FakeOrgSpec::default()
    };
    let fake = FakeGithub::start(&long);
    fake.inject(Fault {
        op: "RestOfItem".into(),
        nth: 0,
        kind: FaultKind::StuckCursor,
    });
    let e = stuck(&mut github(&fake, &dir));
    assert!(e.stream.starts_with("timeline_items of "), "{e}");
    assert!(
        requests(&fake.answered(), "RestOfItem") <= 3,
        "one request per cut item: {:?}",
        fake.answered()
    );

    // REST `Link: rel="next"` back to the page just read: the organization's repository list.
    let fake = FakeGithub::start(&spec);
    fake.inject(Fault {
        op: "repos".into(),
        nth: 0,
        kind: FaultKind::StuckCursor,
    });
    let e = stuck(&mut github(&fake, &dir));
    assert!(matches!(e.problem, Stuck::Repeated(_)), "{e}");
    assert_eq!(e.stream, "repositories of acme");
    assert_eq!(requests(&fake.answered(), "repos"), 1);
}

fn jira(fake: &FakeJira, flavor: Flavor, dir: &tempfile::TempDir) -> JiraSource {
    let config = JiraConfig {
        base_url: fake.uri(),
        flavor,
        email: Some("bot@acme.test".into()),
        token_file: token_file(dir),
        projects: vec!["CORE".into(), "WEB".into()],
        page_size: 50,
        time_zone: Some("Europe/Moscow".into()),
        max_attempts: 1,
        ..JiraConfig::default()
    };
    JiraSource::new(config, Tape::Off, Arc::new(LogObserver)).unwrap()
}

#[test]
fn a_jira_pager_whose_token_or_offset_does_not_advance_stops_the_sync() {
    let dir = tempfile::tempdir().unwrap();
    // Cloud: a `nextPageToken` that leads back to the first page.
    let fake = FakeJira::start(&FakeJiraSpec::default());
    fake.inject(StatusFault::stuck("search", 0));
    let e = stuck(&mut jira(&fake, Flavor::Cloud, &dir));
    assert_eq!(e.problem, Stuck::Repeated("tok-0".into()), "{e}");
    assert_eq!(requests(&fake.answered(), "search"), 2);

    // Server: a `startAt` the server ignores, so every page is the first.
    let fake = FakeJira::start(&FakeJiraSpec {
        flavor: Flavor::Server,
        ..FakeJiraSpec::default()
    });
    fake.inject(StatusFault::stuck("search", 1));
    let e = stuck(&mut jira(&fake, Flavor::Server, &dir));
    assert_eq!(e.problem, Stuck::SamePage, "{e}");
    assert_eq!(requests(&fake.answered(), "search"), 2);

    // Cloud's changelog endpoint (`startAt`, `isLast`), for the issues whose embedded changelog was cut.
    let fake = FakeJira::start(&FakeJiraSpec::default());
    fake.inject(StatusFault::stuck("changelog", 0));
    let e = stuck(&mut jira(&fake, Flavor::Cloud, &dir));
    assert_eq!(e.problem, Stuck::SamePage, "{e}");
    assert!(e.stream.starts_with("changelog of "), "{e}");
    let cut = requests(&fake.answered(), "changelog");
    assert!(
        cut <= 2 * 50,
        "two requests per cut issue of the first page at most: {cut}"
    );
}

fn gitlab(fake: &FakeGitlab, dir: &tempfile::TempDir) -> GitlabSource {
    let config = GitlabConfig {
        base_url: fake.uri(),
        group: Some("acme".into()),
        token_file: token_file(dir),
        per_page: 20,
        max_attempts: 1,
        ..GitlabConfig::default()
    };
    GitlabSource::new(config, Tape::Off, Arc::new(LogObserver)).unwrap()
}

#[test]
fn a_gitlab_pager_whose_link_points_back_stops_the_sync() {
    let dir = tempfile::tempdir().unwrap();
    // (operation, its first stuck request, the stream named, the most requests it may get: the events of
    // one page's 20 items are asked for together, two lists each).
    for (op, nth, stream, most) in [
        ("projects", 0, "projects at ", 2),
        ("issues", 1, "issues of acme/api", 3),
        ("events", 0, "events at ", 40),
    ] {
        let fake = FakeGitlab::start(&FakeGitlabSpec::default());
        fake.inject(StatusFault::stuck(op, nth));
        let e = stuck(&mut gitlab(&fake, &dir));
        assert!(matches!(e.problem, Stuck::Repeated(_)), "{op}: {e}");
        assert!(e.stream.starts_with(stream), "{op}: {e}");
        let n = requests(&fake.answered(), op);
        assert!(n <= most, "{op}: {n} requests");
    }
}

fn tracker(fake: &FakeTracker, dir: &tempfile::TempDir, scroll_above: u64) -> YandexTrackerSource {
    let config = YandexTrackerConfig {
        base_url: fake.uri(),
        org_id: Some("7654321".into()),
        token_file: token_file(dir),
        queues: "DEV,SRE".into(),
        per_page: 50,
        scroll_above,
        changelog_per_page: 3,
        users: false,
        max_attempts: 1,
        ..YandexTrackerConfig::default()
    };
    YandexTrackerSource::new(config, Tape::Off, Arc::new(LogObserver)).unwrap()
}

#[test]
fn a_tracker_pager_whose_page_scroll_or_link_does_not_advance_stops_the_sync() {
    let dir = tempfile::tempdir().unwrap();
    // Page numbers the server ignores.
    let fake = FakeTracker::start(&FakeTrackerSpec::default());
    fake.inject(StatusFault::stuck("search", 1));
    let e = stuck(&mut tracker(&fake, &dir, 10_000));
    assert_eq!(e.problem, Stuck::SamePage, "{e}");
    assert_eq!(requests(&fake.answered(), "search"), 2);

    // A scroll whose `X-Scroll-Id` brings the same issues again (the first search request, above
    // `scroll_above`, only counts them).
    let fake = FakeTracker::start(&FakeTrackerSpec::default());
    fake.inject(StatusFault::stuck("search", 1));
    let e = stuck(&mut tracker(&fake, &dir, 10));
    assert_eq!(e.problem, Stuck::SamePage, "{e}");
    assert_eq!(e.stream, "issues (scroll)");
    assert_eq!(requests(&fake.answered(), "search"), 3);

    // A changelog whose `Link: rel="next"` points back to itself.
    let fake = FakeTracker::start(&FakeTrackerSpec::default());
    fake.inject(StatusFault::stuck("changelog", 0));
    let e = stuck(&mut tracker(&fake, &dir, 10_000));
    assert!(matches!(e.problem, Stuck::Repeated(_)), "{e}");
    assert!(e.stream.starts_with("changelog of "), "{e}");
    assert!(requests(&fake.answered(), "changelog") <= 50);
}
