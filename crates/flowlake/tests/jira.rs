//! `flowlake sync` against a fake Jira (Cloud and Server) on loopback: end to end with hand-computed time in
//! status, incremental, moves, faults, crash.

mod common;

use std::path::Path;

use common::{answered, count, dump, ok, scalar};
use flowlake_connect::jira::Flavor;
use flowlake_testkit::jira::{FakeJira, FakeJiraSpec, JiraFault};

const AS_OF: &str = "2027-12-31T00:00:00Z";
const TOKEN: (&str, &str) = ("JIRA_API_TOKEN", "jira_fake_token_for_tests");

fn write_config(dir: &Path, fake: &FakeJira, flavor: &str, page_size: u32) {
    // Cloud reads worklogs and names its custom field as Jira shows it; Server picks it by pointer.
    let (email, story_points) = if flavor == "cloud" {
        (
            "email = \"bot@acme.test\"\nworklogs = true\n",
            "Story Points",
        )
    } else {
        ("", "/fields/customfield_10016")
    };
    std::fs::write(
        dir.join("flowlake.toml"),
        format!(
            "[[sources]]\nkind = \"jira\"\nname = \"jira\"\nbase_url = \"{}\"\nflavor = \"{flavor}\"\n{email}\
             projects = [\"CORE\", \"WEB\"]\npage_size = {page_size}\nmax_attempts = 4\n\n\
             [sources.custom_fields]\nstory_points = \"{story_points}\"\n",
            fake.uri()
        ),
    )
    .unwrap();
}

fn sync(dir: &Path) -> String {
    ok(dir, &["sync", "--as-of", AS_OF], &[TOKEN])
}

/// (status, calendar seconds) of the golden issue, which the fake writes with fixed times.
fn golden_time_in_status(dir: &Path) -> String {
    ok(
        dir,
        &[
            "query",
            "select status, category, calendar_seconds from item_status_time where item_id = 'jira:10000' and status <> 'Готово' order by calendar_seconds",
            "--format",
            "csv",
        ],
        &[],
    )
}

#[test]
fn cloud_sync_completes_cut_changelogs_and_matches_hand_computed_time_in_status() {
    let fake = FakeJira::start(&FakeJiraSpec::default());
    let dir = tempfile::tempdir().unwrap();
    write_config(dir.path(), &fake, "cloud", 50);
    let out = sync(dir.path());
    assert!(out.contains("API requests"), "{out}");
    assert_eq!(count(dir.path(), "work_items"), 150);
    // 150 issues at 50 a page; issues 10, 20, … 140 have changelogs longer than the 20 a search embeds.
    assert_eq!(
        answered(fake.answered()),
        [
            "changelog:200=14",
            "field:200=1",
            "search:200=3",
            "status:200=1",
            "worklog:200=15"
        ],
        "the changelog and worklog endpoints only for cut lists (ids ending in 5 have 25 worklogs)"
    );
    assert_eq!(
        scalar(
            dir.path(),
            "select count(*) * 100000 + sum(seconds) from worklogs where item_id = 'jira:10000'"
        ),
        2 * 100_000 + 12_600,
        "the golden issue's 1 h and 2.5 h"
    );
    assert_eq!(
        scalar(
            dir.path(),
            "select count(*) from worklogs where item_id = 'jira:10005'"
        ),
        25,
        "a cut worklog list is completed"
    );
    assert_eq!(
        ok(
            dir.path(),
            &[
                "query",
                "select s.id, s.name, s.state, s.board_id, s.complete_at, (select count(*) from item_sprints i where i.sprint_id = s.id) as items from sprints s order by id",
                "--format",
                "csv"
            ],
            &[]
        ),
        "id,name,state,board_id,complete_at,items\n\
         jira:sprint:10,Спринт 10,closed,7,2026-02-16T07:00:00,100\n\
         jira:sprint:11,Спринт 11,active,7,,50\n",
        "sprints found by the field's schema, whatever its name"
    );
    assert_eq!(
        scalar(
            dir.path(),
            "select min(n) from (select count(*) as n from field_changes where item_id in ('jira:10010', 'jira:10140') group by item_id)"
        ),
        24,
        "the whole changelog of a cut issue is stored"
    );
    // Open 10:00 → В работе 12:00 → Review next day 12:00 → Готово 16:00 (Moscow): by hand 2 h, 24 h, 4 h.
    assert_eq!(
        golden_time_in_status(dir.path()),
        "status,category,calendar_seconds\nOpen,todo,7200\nReview,in_progress,14400\nВ работе,in_progress,86400\n"
    );
    assert_eq!(
        scalar(
            dir.path(),
            "select lead_seconds * 10 + cycle_seconds // 3600 from item_metrics where item_id = 'jira:10000'"
        ),
        108_000 * 10 + 28,
        "lead 30 h, cycle 28 h"
    );
    assert_eq!(
        scalar(
            dir.path(),
            "select count(*) from work_items where custom_fields->>'story_points' is not null"
        ),
        150
    );
    let table = ok(
        dir.path(),
        &[
            "metrics",
            "--source",
            "jira",
            "--to",
            "2027-12-30",
            "--days",
            "720",
        ],
        &[],
    );
    for needle in ["cycle time", "Time in status", "В работе"] {
        assert!(table.contains(needle), "{needle} in\n{table}");
    }
}

#[test]
fn server_pages_by_start_at_and_reads_whole_changelogs_from_the_issue() {
    let fake = FakeJira::start(&FakeJiraSpec {
        flavor: Flavor::Server,
        ..FakeJiraSpec::default()
    });
    let dir = tempfile::tempdir().unwrap();
    write_config(dir.path(), &fake, "server", 40);
    sync(dir.path());
    assert_eq!(count(dir.path(), "work_items"), 150);
    assert_eq!(
        answered(fake.answered()),
        [
            "changelog:200=14",
            "field:200=1",
            "search:200=4",
            "status:200=1"
        ]
    );
    assert_eq!(
        scalar(
            dir.path(),
            "select count(*) from sprints where name = 'Спринт 10' and state = 'closed' and board_id = 7 and complete_at is not null"
        ),
        1,
        "Server's Sprint@…[…] text is parsed"
    );
    assert_eq!(count(dir.path(), "item_sprints"), 150);
    assert_eq!(
        count(dir.path(), "worklogs"),
        0,
        "worklogs are off by default"
    );
    assert_eq!(
        golden_time_in_status(dir.path()),
        "status,category,calendar_seconds\nOpen,todo,7200\nReview,in_progress,14400\nВ работе,in_progress,86400\n"
    );
}

#[test]
fn a_second_sync_reads_only_changes_and_a_moved_issue_keeps_its_row() {
    let fake = FakeJira::start(&FakeJiraSpec::default());
    let dir = tempfile::tempdir().unwrap();
    write_config(dir.path(), &fake, "cloud", 50);
    sync(dir.path());
    let before = dump(dir.path());

    fake.reset_counts();
    sync(dir.path());
    let seen: Vec<String> = answered(fake.answered())
        .into_iter()
        .filter(|s| !s.starts_with("changelog") && !s.starts_with("worklog"))
        .collect();
    assert_eq!(
        seen,
        [
            "field:200=1",
            "myself:200=1",
            "search:200=1",
            "status:200=1"
        ],
        "one search page from the cursor (its time zone asked once)"
    );
    assert!(
        dump(dir.path()) == before,
        "a sync with no change changes no row"
    );

    fake.reopen("CORE-3");
    let moved = fake.move_issue("CORE-5", "WEB").unwrap();
    fake.reset_counts();
    sync(dir.path());
    assert_eq!(
        count(dir.path(), "work_items"),
        150,
        "the moved issue is the same row"
    );
    assert_eq!(
        scalar(
            dir.path(),
            &format!("select count(*) from work_items where key = '{moved}' and project = 'WEB'")
        ),
        1
    );
    // CORE-3 was done; moving it back to В работе is a reopening.
    assert_eq!(
        scalar(
            dir.path(),
            "select reopen_count * 10 + (current_category = 'in_progress')::int from item_metrics m join work_items w on w.id = m.item_id where w.key = 'CORE-3'"
        ),
        11
    );
}

#[test]
fn faults_are_retried_and_a_killed_sync_ends_with_the_same_tables() {
    let twin = FakeJira::start(&FakeJiraSpec::default());
    let clean = tempfile::tempdir().unwrap();
    write_config(clean.path(), &twin, "cloud", 30);
    sync(clean.path());

    let fake = FakeJira::start(&FakeJiraSpec::default());
    for (op, nth, status) in [
        ("search", 1, 429),
        ("search", 2, 0),
        ("changelog", 0, 503),
        ("status", 0, 502),
    ] {
        fake.inject(JiraFault {
            op: op.into(),
            nth,
            status,
        });
    }
    let dir = tempfile::tempdir().unwrap();
    write_config(dir.path(), &fake, "cloud", 30);
    let killed = common::flowlake(
        dir.path(),
        &["sync", "--as-of", AS_OF],
        &[TOKEN, ("FLOWLAKE_FAIL_AFTER_PAGES", "3")],
    );
    assert!(!killed.status.success());
    assert_eq!(
        count(dir.path(), "work_items"),
        60,
        "two pages of 30 committed"
    );
    sync(dir.path());
    let seen = answered(fake.answered());
    for needle in ["search:429=1", "changelog:503=1", "status:502=1"] {
        assert!(seen.iter().any(|s| s == needle), "{needle} in {seen:?}");
    }
    let same = dump(dir.path()).replace(&fake.uri(), "URL")
        == dump(clean.path()).replace(&twin.uri(), "URL");
    assert!(
        same,
        "the resumed sync's tables differ from an uninterrupted one's"
    );
}

#[test]
fn renamed_and_deleted_statuses_keep_their_history_and_can_be_mapped() {
    let fake = FakeJira::start(&FakeJiraSpec::default());
    let dir = tempfile::tempdir().unwrap();
    write_config(dir.path(), &fake, "cloud", 50);
    sync(dir.path());
    let rows = || {
        ok(
            dir.path(),
            &[
                "query",
                "select status, category, calendar_seconds from item_status_time where item_id = 'jira:10001' and status <> 'Готово' order by calendar_seconds",
                "--format",
                "csv",
            ],
            &[],
        )
    };
    // Neither old name is in /status: `In Progress` is guessed in progress, `Testing` too.
    assert_eq!(
        rows(),
        "status,category,calendar_seconds\nOpen,todo,3600\nIn Progress,in_progress,7200\nTesting,in_progress,10800\n"
    );
    // Mapping the deleted status and rebuilding changes its category without an API call.
    let config = std::fs::read_to_string(dir.path().join("flowlake.toml")).unwrap();
    std::fs::write(
        dir.path().join("flowlake.toml"),
        format!("[metrics.status_categories]\n\"Testing\" = \"todo\"\n\n{config}"),
    )
    .unwrap();
    fake.reset_counts();
    ok(dir.path(), &["rebuild"], &[]);
    assert!(fake.answered().is_empty(), "rebuild calls no API");
    assert!(rows().contains("Testing,todo,10800"), "{}", rows());
}

#[test]
fn a_status_name_jira_lists_twice_under_two_project_scopes_maps_to_one_category() {
    // `/status` lists `To Do` twice (10033 and 10116, each scoped to a team-managed project), as real
    // instances do; both land, and a stay in `To Do` is todo, from the instance's own categories.
    let fake = FakeJira::start(&FakeJiraSpec::default());
    let dir = tempfile::tempdir().unwrap();
    write_config(dir.path(), &fake, "cloud", 50);
    sync(dir.path());
    assert_eq!(
        scalar(
            dir.path(),
            "select count(*) from raw_records where stream = '_statuses' and (payload->>'name') = 'To Do'"
        ),
        2
    );
    fake.transition("CORE-3", "To Do");
    fake.transition("CORE-3", "В работе");
    sync(dir.path());
    assert_eq!(
        ok(
            dir.path(),
            &[
                "query",
                "select distinct t.status, t.category from item_status_time t join work_items w on w.id = t.item_id where w.key = 'CORE-3' and t.status = 'To Do'",
                "--format",
                "csv",
            ],
            &[],
        ),
        "status,category\nTo Do,todo\n"
    );
}

#[test]
fn a_jira_source_with_an_email_and_no_token_says_the_variable_is_not_set_before_any_request() {
    let fake = FakeJira::start(&FakeJiraSpec::default());
    let dir = tempfile::tempdir().unwrap();
    // Cloud's block sets `email`: basic auth, which needs the token.
    write_config(dir.path(), &fake, "cloud", 50);
    let out = common::flowlake(
        dir.path(),
        &["sync", "--as-of", AS_OF],
        &[("JIRA_API_TOKEN", "")],
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("JIRA_API_TOKEN is not set") && err.contains("token_file"),
        "{err}"
    );
    assert!(!err.contains("401"), "{err}");
    assert!(fake.answered().is_empty(), "{:?}", fake.answered());
}
