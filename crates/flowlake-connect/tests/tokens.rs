//! A source whose API needs a token it does not have says which variable is not set, before any request
//! (issue 16: a Jira source with `email` and no `JIRA_API_TOKEN` sent its requests without credentials and
//! reported only `HTTP 401`); one that can read anonymously goes on.

use std::sync::Arc;

use flowlake_connect::github::{GithubConfig, GithubSource};
use flowlake_connect::gitlab::{GitlabConfig, GitlabSource};
use flowlake_connect::http::{LogObserver, Tape};
use flowlake_connect::jira::{Flavor, JiraConfig, JiraSource};
use flowlake_connect::yandex_tracker::{YandexTrackerConfig, YandexTrackerSource};
use flowlake_connect::{Source, SourceError, StreamCursors};
use flowlake_testkit::github::{FakeGithub, FakeOrgSpec};
use flowlake_testkit::gitlab::{FakeGitlab, FakeGitlabSpec};
use flowlake_testkit::jira::{FakeJira, FakeJiraSpec};
use flowlake_testkit::yandex_tracker::{FakeTracker, FakeTrackerSpec};

/// A variable no environment sets.
const UNSET: &str = "FLOWLAKE_TEST_TOKEN_THAT_IS_NEVER_SET";

/// The first page's error, which must name the variable.
fn refused(source: &mut dyn Source) -> String {
    assert!(std::env::var(UNSET).is_err());
    match source.next_page(&StreamCursors::new()) {
        Err(SourceError::Config(m)) => {
            assert!(m.contains(UNSET) && m.contains("is not set"), "{m}");
            m
        }
        other => panic!("expected a missing-token error, got {other:?}"),
    }
}

fn jira(fake: &FakeJira, email: Option<&str>) -> JiraSource {
    let config = JiraConfig {
        base_url: fake.uri(),
        flavor: Flavor::Cloud,
        email: email.map(str::to_string),
        token_env: UNSET.into(),
        projects: vec!["CORE".into()],
        time_zone: Some("UTC".into()),
        max_attempts: 1,
        ..JiraConfig::default()
    };
    JiraSource::new(config, Tape::Off, Arc::new(LogObserver)).unwrap()
}

#[test]
fn a_jira_source_with_an_email_and_no_token_names_the_variable_before_any_request() {
    let fake = FakeJira::start(&FakeJiraSpec::default());
    let m = refused(&mut jira(&fake, Some("bot@acme.test")));
    assert!(m.starts_with("jira.token_env: "), "{m}");
    assert!(m.contains("email"), "says why it is needed: {m}");
    assert_eq!(fake.answered().len(), 0, "no request was sent");

    // Without an e-mail the token is a bearer one, and anonymous reads are the instance's business.
    let fake = FakeJira::start(&FakeJiraSpec::default());
    jira(&fake, None).next_page(&StreamCursors::new()).unwrap();
    assert!(!fake.answered().is_empty());
}

#[test]
fn github_and_tracker_sources_without_a_token_name_the_variable_before_any_request() {
    let gh = FakeGithub::start(&FakeOrgSpec {
        repos: 1,
        issues: 5,
        pull_requests: 0,
        ..FakeOrgSpec::default()
    });
    let config = GithubConfig {
        name: "gh".into(),
        organization: Some("acme".into()),
        base_url: gh.uri(),
        token_env: UNSET.into(),
        ..GithubConfig::default()
    };
    let m = refused(&mut GithubSource::new(config, Tape::Off, Arc::new(LogObserver)).unwrap());
    assert!(m.contains("GraphQL"), "{m}");
    assert_eq!(gh.total_requests(), 0);

    let tracker = FakeTracker::start(&FakeTrackerSpec::default());
    let config = YandexTrackerConfig {
        base_url: tracker.uri(),
        org_id: Some("7654321".into()),
        token_env: UNSET.into(),
        queues: "DEV".into(),
        ..YandexTrackerConfig::default()
    };
    refused(&mut YandexTrackerSource::new(config, Tape::Off, Arc::new(LogObserver)).unwrap());
    assert_eq!(tracker.answered().len(), 0);
}

#[test]
fn a_gitlab_source_without_a_token_reads_public_projects() {
    let fake = FakeGitlab::start(&FakeGitlabSpec::default());
    let config = GitlabConfig {
        base_url: fake.uri(),
        group: Some("acme".into()),
        token_env: UNSET.into(),
        ..GitlabConfig::default()
    };
    let mut source = GitlabSource::new(config, Tape::Off, Arc::new(LogObserver)).unwrap();
    source.next_page(&StreamCursors::new()).unwrap();
    assert!(!fake.answered().is_empty());
}

#[test]
fn a_replay_needs_no_token() {
    let tape = r#"{"method":"GET","url":"https://api.tracker.yandex.net/v2/statuses","status":200,"headers":{"content-type":"application/json"},"body":"[]"}"#;
    let config = YandexTrackerConfig {
        org_id: Some("7654321".into()),
        token_env: UNSET.into(),
        queues: "DEV".into(),
        users: false,
        ..YandexTrackerConfig::default()
    };
    let mut source = YandexTrackerSource::new(
        config,
        Tape::ReplayLines(tape.into()),
        Arc::new(LogObserver),
    )
    .unwrap();
    source.next_page(&StreamCursors::new()).unwrap();
}
