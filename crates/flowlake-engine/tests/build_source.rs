//! Building sources: what a source cannot do is said when it is built, once (issue 16: `--record`/`--replay`
//! were silently ignored for the generator, and a backfill error read "source `jira`: source `jira`…").

use std::sync::Arc;

use chrono::NaiveDate;
use flowlake_connect::generator::GeneratorConfig;
use flowlake_connect::github::Backfill;
use flowlake_connect::http::{LogObserver, Tape};
use flowlake_connect::jira::JiraConfig;
use flowlake_engine::sync::{build_backfill_source, build_source};
use flowlake_engine::SourceConfig;

#[test]
fn a_generator_refuses_to_record_or_replay() {
    let generator = SourceConfig::Generator(GeneratorConfig::default());
    for tape in [
        Tape::Record("tape".into()),
        Tape::Replay("/nonexistent".into()),
    ] {
        let e = build_source(&generator, &tape, Arc::new(LogObserver))
            .err()
            .expect("refused")
            .to_string();
        assert!(e.contains("no API to record or replay"), "{e}");
    }
    assert!(build_source(&generator, &Tape::Off, Arc::new(LogObserver)).is_ok());
}

#[test]
fn a_replay_of_a_missing_directory_fails_when_an_api_source_is_built() {
    let jira = SourceConfig::Jira(JiraConfig {
        base_url: "https://jira.example.com".into(),
        projects: vec!["CORE".into()],
        ..JiraConfig::default()
    });
    let e = build_source(
        &jira,
        &Tape::Replay("/nonexistent/tape".into()),
        Arc::new(LogObserver),
    )
    .err()
    .expect("refused")
    .to_string();
    assert!(
        e.contains("/nonexistent/tape: no such directory to replay"),
        "{e}"
    );
}

#[test]
fn a_backfill_error_leaves_naming_the_source_to_its_caller() {
    let jira = SourceConfig::Jira(JiraConfig {
        base_url: "https://jira.example.com".into(),
        projects: vec!["CORE".into()],
        ..JiraConfig::default()
    });
    let day = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
    let e = build_backfill_source(
        &jira,
        &Tape::Off,
        Arc::new(LogObserver),
        Backfill {
            from: day,
            to: day,
            window_days: 7,
        },
    )
    .err()
    .expect("refused")
    .to_string();
    assert!(e.contains("no windowed backfill"), "{e}");
    assert!(!e.contains("source `"), "the CLI names the source: {e}");
}
