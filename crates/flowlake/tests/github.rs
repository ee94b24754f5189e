//! `flowlake sync` against a fake GitHub organization on loopback: end to end, incremental, faults, crash.

mod common;

use std::path::Path;

use common::{answered, count, dump, ok, scalar};
use flowlake_testkit::github::{FakeGithub, FakeOrgSpec, Fault, FaultKind};

const AS_OF: &str = "2027-12-31T00:00:00Z";
const TOKEN: (&str, &str) = ("GITHUB_TOKEN", "ghp_fake_token_for_tests");

fn spec() -> FakeOrgSpec {
    FakeOrgSpec {
        repos: 2,
        issues: 150,
        pull_requests: 80,
        events_per_item: 6,
        ..FakeOrgSpec::default()
    }
}

/// A config syncing the fake's organization, `page_size` items a GraphQL page.
fn write_config(dir: &Path, fake: &FakeGithub, page_size: u32) {
    std::fs::write(
        dir.join("flowlake.toml"),
        format!(
            r#"[[sources]]
kind = "github"
name = "gh"
organization = "acme"
base_url = "{}"
page_size = {page_size}
max_attempts = 4

[sources.status_labels]
"status: in progress" = "In Progress"
"status: review" = "Review"
"#,
            fake.uri()
        ),
    )
    .unwrap();
}

fn sync(dir: &Path, extra: &[&str]) -> String {
    let mut args = vec!["sync", "--as-of", AS_OF];
    args.extend_from_slice(extra);
    ok(dir, &args, &[TOKEN])
}

fn graphql_pages(fake: &FakeGithub) -> u64 {
    fake.answered()
        .into_iter()
        .filter(|((op, _), _)| op.ends_with("Page"))
        .map(|(_, n)| n)
        .sum()
}

#[test]
fn sync_loads_the_org_and_metrics_show_its_lead_and_cycle_times() {
    let fake = FakeGithub::start(&spec());
    let dir = tempfile::tempdir().unwrap();
    write_config(dir.path(), &fake, 100);
    let out = sync(dir.path(), &[]);
    assert!(out.contains("API requests"), "{out}");
    assert_eq!(count(dir.path(), "work_items"), 230);
    assert_eq!(count(dir.path(), "pull_requests"), 80);
    // Items, deployments, releases and the organization's 6 members.
    assert_eq!(count(dir.path(), "raw_records"), 230 + 24 + 12 + 6);
    assert_eq!(count(dir.path(), "deployments"), 24);
    assert_eq!(count(dir.path(), "releases"), 12);
    assert!(
        scalar(
            dir.path(),
            "select count(*) from deployments where status in ('success', 'failure') and finished_at > created_at"
        ) == 24
    );
    assert!(count(dir.path(), "pull_request_reviews") >= 160);
    // The repository and member lists; per repository three probes and a page each of issues, pull
    // requests, deployments and releases.
    let requests = fake.total_requests();
    assert!(requests <= 16, "{:?}", answered(fake.answered()));
    assert!(
        (requests as f64) / 272.0 < 0.07,
        "{requests} requests for 272 records"
    );

    let json = ok(
        dir.path(),
        &[
            "metrics",
            "--source",
            "gh",
            "--to",
            "2027-01-31",
            "--days",
            "400",
            "--format",
            "json",
        ],
        &[],
    );
    let report: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert!(
        report["lead_time_seconds"]["p50"].as_i64().unwrap() > 0,
        "{json}"
    );
    assert!(
        report["cycle_time_seconds"]["p50"].as_i64().unwrap() > 0,
        "{json}"
    );
    let table = ok(
        dir.path(),
        &[
            "metrics",
            "--source",
            "gh",
            "--to",
            "2027-01-31",
            "--days",
            "400",
        ],
        &[],
    );
    assert!(table.contains("cycle time"), "{table}");
    assert!(
        scalar(
            dir.path(),
            "select count(*) from pull_requests where state = 'merged' and seconds_to_merge > 0 and seconds_to_first_review >= 0"
        ) > 40
    );
}

#[test]
fn a_second_sync_costs_only_304s_and_changes_nothing_then_picks_up_one_change() {
    let fake = FakeGithub::start(&spec());
    let dir = tempfile::tempdir().unwrap();
    write_config(dir.path(), &fake, 100);
    sync(dir.path(), &[]);
    let before = dump(dir.path());

    fake.reset_counts();
    let out = sync(dir.path(), &[]);
    assert_eq!(
        answered(fake.answered()),
        ["members:304=1", "probe:304=6", "repos:304=1"],
        "a no-change sync is conditional requests only"
    );
    assert!(out.contains("304"), "{out}");
    assert_eq!(dump(dir.path()), before, "a no-change sync changes no row");

    fake.reset_counts();
    fake.touch("acme/repo-01", 3, "status: in progress");
    sync(dir.path(), &[]);
    let after = answered(fake.answered());
    assert_eq!(
        after,
        [
            "IssuesPage:200=1",
            "PullRequestsPage:200=1",
            "members:304=1",
            "probe:200=1",
            "probe:304=5",
            "repos:304=1"
        ],
        "only the changed repository is read"
    );
    assert_eq!(
        scalar(
            dir.path(),
            "select count(*) from field_changes where item_id = 'gh:acme/repo-01#3' and changed_at > '2027-01-01'"
        ),
        1
    );
    assert_eq!(count(dir.path(), "work_items"), 230);

    fake.reset_counts();
    fake.deploy("acme/repo-00");
    sync(dir.path(), &[]);
    assert_eq!(
        answered(fake.answered()),
        [
            "DeploymentsPage:200=1",
            "members:304=1",
            "probe:200=1",
            "probe:304=5",
            "repos:304=1"
        ],
        "a new deployment reads only that repository's deployments"
    );
    assert_eq!(count(dir.path(), "deployments"), 25);
}

#[test]
fn a_full_refresh_twice_yields_identical_tables() {
    let fake = FakeGithub::start(&spec());
    let dir = tempfile::tempdir().unwrap();
    write_config(dir.path(), &fake, 40);
    sync(dir.path(), &["--full-refresh"]);
    let first = dump(dir.path());
    sync(dir.path(), &["--full-refresh"]);
    assert_eq!(dump(dir.path()), first);
    assert_eq!(count(dir.path(), "work_items"), 230);
}

#[test]
fn faults_are_retried_waited_out_and_survived() {
    let fake = FakeGithub::start(&spec());
    // Small pages: 150 issues over 2 repositories are 3 issue pages per repository at 30 a page.
    let dir = tempfile::tempdir().unwrap();
    write_config(dir.path(), &fake, 30);
    for (op, nth, kind) in [
        ("IssuesPage", 1, FaultKind::BadGateway),
        ("IssuesPage", 3, FaultKind::Truncated),
        ("PullRequestsPage", 0, FaultKind::SecondaryRateLimit(1)),
        ("probe", 1, FaultKind::BadGateway),
        // repo-00's issues are #1 to #75, oldest update first; #61 is on its third page, deleted while
        // the first is served.
        (
            "IssuesPage",
            0,
            FaultKind::DeleteAfter("acme/repo-00".into(), 61),
        ),
    ] {
        fake.inject(Fault {
            op: op.into(),
            nth,
            kind,
        });
    }
    let out = sync(dir.path(), &[]);
    let seen = answered(fake.answered());
    for needle in ["IssuesPage:502=1", "PullRequestsPage:403=1", "probe:502=1"] {
        assert!(seen.iter().any(|s| s == needle), "{needle} in {seen:?}");
    }
    assert!(out.contains("API requests"), "{out}");
    assert_eq!(
        count(dir.path(), "work_items"),
        229,
        "every item but the deleted one"
    );
    assert_eq!(
        scalar(
            dir.path(),
            "select count(*) - count(distinct id) from work_items"
        ),
        0
    );
}

#[test]
fn a_sync_killed_after_page_3_resumes_with_only_the_pages_left() {
    // The page count of an uninterrupted run, on a twin of the server.
    let twin = FakeGithub::start(&spec());
    let clean = tempfile::tempdir().unwrap();
    write_config(clean.path(), &twin, 25);
    sync(clean.path(), &[]);
    let all_pages = graphql_pages(&twin);
    assert!(all_pages > 6, "{all_pages}");

    let fake = FakeGithub::start(&spec());
    let dir = tempfile::tempdir().unwrap();
    write_config(dir.path(), &fake, 25);
    let out = common::flowlake(
        dir.path(),
        &["sync", "--as-of", AS_OF],
        &[TOKEN, ("FLOWLAKE_FAIL_AFTER_PAGES", "3")],
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("injected failure after page 3"));
    assert_eq!(
        graphql_pages(&fake),
        2,
        "the members' page, then two GraphQL pages"
    );
    let partial = count(dir.path(), "raw_records");
    assert_eq!(partial, 6 + 50, "the members, then two pages of 25 issues");

    fake.reset_counts();
    sync(dir.path(), &[]);
    assert_eq!(
        graphql_pages(&fake),
        all_pages - 2,
        "the second run reads only the pages left: {:?}",
        answered(fake.answered())
    );
    assert_eq!(count(dir.path(), "raw_records"), 272);
    assert_eq!(count(dir.path(), "work_items"), 230);
    assert_eq!(dump(dir.path()).len(), dump(clean.path()).len());
}

#[test]
fn a_sync_killed_inside_a_repository_keeps_its_probe_etags_for_the_next_run() {
    let fake = FakeGithub::start(&spec());
    let dir = tempfile::tempdir().unwrap();
    write_config(dir.path(), &fake, 25);
    let out = common::flowlake(
        dir.path(),
        &["sync", "--as-of", AS_OF],
        &[TOKEN, ("FLOWLAKE_FAIL_AFTER_PAGES", "3")],
    );
    assert!(!out.status.success());
    sync(dir.path(), &[]);

    fake.reset_counts();
    sync(dir.path(), &[]);
    assert_eq!(
        answered(fake.answered()),
        ["members:304=1", "probe:304=6", "repos:304=1"],
        "after a resumed run, a no-change sync is still conditional requests only"
    );
}

#[test]
fn long_timelines_are_completed_item_by_item() {
    let fake = FakeGithub::start(&FakeOrgSpec {
        repos: 1,
        issues: 6,
        pull_requests: 3,
        events_per_item: 230,
        ..FakeOrgSpec::default()
    });
    let dir = tempfile::tempdir().unwrap();
    write_config(dir.path(), &fake, 100);
    sync(dir.path(), &[]);
    // 9 items with over 200 events each: two more timeline pages per item, fetched concurrently.
    assert!(
        answered(fake.answered()).contains(&"RestOfItem:200=18".to_string()),
        "{:?}",
        answered(fake.answered())
    );
    // Every label event of every item is in the changelog (230 events: ~225 label changes each).
    assert!(scalar(dir.path(), "select min(n) from (select count(*) as n from field_changes where field = 'labels' group by item_id)") > 220);
}

#[test]
fn backfill_searches_windows_halves_crowded_ones_and_resumes() {
    let fake = FakeGithub::start(&FakeOrgSpec {
        repos: 1,
        issues: 2400,
        pull_requests: 100,
        events_per_item: 2,
        ..FakeOrgSpec::default()
    });
    let dir = tempfile::tempdir().unwrap();
    write_config(dir.path(), &fake, 100);
    let args = [
        "backfill",
        "--from",
        "2026-01-01",
        "--to",
        "2026-12-31",
        "--window",
        "400d",
        "--as-of",
        AS_OF,
    ];
    let out = common::flowlake(
        dir.path(),
        &args,
        &[TOKEN, ("FLOWLAKE_FAIL_AFTER_PAGES", "4")],
    );
    assert!(!out.status.success(), "the injected failure stops it");
    assert_eq!(count(dir.path(), "raw_records"), 400);
    // 2,400 issues in one 365-day window: halved twice (182 days still hold ~1,470) before 4 pages are read.
    assert!(
        answered(fake.answered()).contains(&"SearchPage:200=6".to_string()),
        "{:?}",
        answered(fake.answered())
    );
    ok(dir.path(), &args, &[TOKEN]);
    assert_eq!(
        count(dir.path(), "work_items"),
        2500,
        "{:?}",
        answered(fake.answered())
    );
    assert_eq!(count(dir.path(), "raw_records"), 2500);
    assert_eq!(
        scalar(
            dir.path(),
            "select count(*) from sync_state where stream not like 'backfill:%'"
        ),
        0,
        "the incremental cursor is not touched"
    );
    // The backfill is done: running it again asks only for the repository list.
    fake.reset_counts();
    ok(dir.path(), &args, &[TOKEN]);
    assert_eq!(answered(fake.answered()), ["repos:200=1"]);
}

#[test]
fn a_recorded_sync_replays_offline_and_the_token_appears_nowhere() {
    let fake = FakeGithub::start(&spec());
    let dir = tempfile::tempdir().unwrap();
    write_config(dir.path(), &fake, 100);
    let tape = dir.path().join("tape");
    let out = common::flowlake(
        dir.path(),
        &[
            "-vv",
            "sync",
            "--as-of",
            AS_OF,
            "--record",
            tape.to_str().unwrap(),
        ],
        &[TOKEN],
    );
    assert!(out.status.success());
    let mut seen = String::from_utf8_lossy(&out.stdout).into_owned();
    seen += &String::from_utf8_lossy(&out.stderr);
    let files: Vec<_> = std::fs::read_dir(&tape).unwrap().flatten().collect();
    assert_eq!(files.len() as u64, fake.total_requests());
    for f in &files {
        seen += &std::fs::read_to_string(f.path()).unwrap();
    }
    assert!(!seen.contains(TOKEN.1), "the token leaked");
    assert!(
        seen.contains("IssuesPage"),
        "the tape holds the GraphQL exchanges"
    );

    // Replay: a fresh store, the server no longer asked.
    let replayed = tempfile::tempdir().unwrap();
    write_config(replayed.path(), &fake, 100);
    fake.reset_counts();
    ok(
        replayed.path(),
        &["sync", "--as-of", AS_OF, "--replay", tape.to_str().unwrap()],
        &[],
    );
    assert_eq!(fake.total_requests(), 0);
    assert_eq!(dump(replayed.path()), dump(dir.path()));
}

/// The organization `flowlake demo --source github` replays.
fn demo_spec() -> FakeOrgSpec {
    FakeOrgSpec {
        repos: 2,
        issues: 120,
        pull_requests: 60,
        events_per_item: 6,
        deployments_per_repo: 10,
        ..FakeOrgSpec::default()
    }
}

const DEMO_TAPE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/src/demo_github.jsonl");

#[test]
fn the_embedded_demo_tape_matches_the_fake() {
    let fake = FakeGithub::start(&demo_spec());
    let dir = tempfile::tempdir().unwrap();
    write_config(dir.path(), &fake, 100);
    let tape = dir.path().join("tape");
    ok(
        dir.path(),
        &["sync", "--record", tape.to_str().unwrap()],
        &[TOKEN],
    );
    let mut files: Vec<_> = std::fs::read_dir(&tape)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    files.sort();
    let mut lines = String::new();
    for f in files {
        let mut x: flowlake_connect::http::Exchange =
            serde_json::from_str(&std::fs::read_to_string(f).unwrap()).unwrap();
        // Stable across runs: the fake's port and its clock-bound rate-limit headers go.
        x.url = x.url.replace(&fake.uri(), "http://github.demo.invalid");
        x.headers
            .retain(|k, _| matches!(k.as_str(), "etag" | "link" | "content-type"));
        for v in x.headers.values_mut() {
            *v = v.replace(&fake.uri(), "http://github.demo.invalid");
        }
        // REST bodies are whole GitHub objects, whose API URLs name the fake's port too.
        x.body = x.body.replace(&fake.uri(), "http://github.demo.invalid");
        lines += &serde_json::to_string(&x).unwrap();
        lines.push('\n');
    }
    if std::env::var_os("FLOWLAKE_UPDATE_DEMO_TAPE").is_some() {
        std::fs::write(DEMO_TAPE, &lines).unwrap();
    }
    let committed = std::fs::read_to_string(DEMO_TAPE).unwrap();
    assert!(
        committed == lines,
        "src/demo_github.jsonl is stale: rerun with FLOWLAKE_UPDATE_DEMO_TAPE=1"
    );
}

#[test]
fn demo_source_github_replays_offline_and_reports_metrics() {
    let dir = tempfile::tempdir().unwrap();
    let out = ok(dir.path(), &["demo", "--source", "github"], &[]);
    for needle in ["lead time", "cycle time", "API requests", "Time in status"] {
        assert!(out.contains(needle), "demo output lacks {needle}:\n{out}");
    }
    assert_eq!(count(dir.path(), "work_items"), 180);
    assert_eq!(count(dir.path(), "pull_requests"), 60);
    assert_eq!(count(dir.path(), "deployments"), 20);
}

#[test]
fn a_transferred_issue_moves_its_row_instead_of_doubling_it() {
    let fake = FakeGithub::start(&spec());
    let dir = tempfile::tempdir().unwrap();
    write_config(dir.path(), &fake, 100);
    sync(dir.path(), &[]);
    let new_number = fake.transfer("acme/repo-00", 5, "acme/repo-01").unwrap();
    sync(dir.path(), &[]);
    let new_id = format!("gh:acme/repo-01#{new_number}");
    assert_eq!(
        count(dir.path(), "work_items"),
        230,
        "the issue is counted once"
    );
    assert_eq!(
        scalar(
            dir.path(),
            "select count(*) from work_items where id = 'gh:acme/repo-00#5'"
        ),
        0,
        "its old key is gone"
    );
    assert_eq!(
        scalar(
            dir.path(),
            &format!("select count(*) from field_changes where item_id = '{new_id}' and field = 'repository' and from_value = 'acme/repo-00' and to_value = 'acme/repo-01'")
        ),
        1,
        "the move is recorded"
    );
    assert_eq!(
        scalar(
            dir.path(),
            "select count(*) from status_intervals where item_id = 'gh:acme/repo-00#5'"
        ),
        0
    );
    // A rebuild from the raw records agrees: the old record went with the old row.
    ok(dir.path(), &["rebuild"], &[TOKEN]);
    assert_eq!(count(dir.path(), "work_items"), 230);
}

#[test]
fn a_graphql_cursor_that_does_not_advance_ends_the_sync_with_an_error() {
    let fake = FakeGithub::start(&spec());
    // From the second issues page on: `hasNextPage: true`, the cursor asked with, no nodes.
    fake.inject(Fault {
        op: "IssuesPage".into(),
        nth: 1,
        kind: FaultKind::StuckCursor,
    });
    let dir = tempfile::tempdir().unwrap();
    write_config(dir.path(), &fake, 50);
    let out = common::flowlake(dir.path(), &["sync", "--as-of", AS_OF], &[TOKEN]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("gh/issues of acme/repo-00")
            && err.contains("stopped instead of asking again"),
        "{err}"
    );
    let pages: u64 = fake
        .answered()
        .into_iter()
        .filter(|((op, _), _)| op == "IssuesPage")
        .map(|(_, n)| n)
        .sum();
    assert_eq!(pages, 2, "no request after the stuck page");
}
