//! `flowlake sync` against a fake Yandex Tracker on loopback: tracker-exporter's worked example end to end,
//! scroll paging, Link-paged changelogs, incremental runs, queue moves, faults and a crash.

mod common;

use std::path::Path;

use common::{answered, count, dump, ok, scalar};
use flowlake_connect::yandex_tracker::fake::{FakeTracker, FakeTrackerSpec, TrackerFault};

const AS_OF: &str = "2027-12-31T00:00:00Z";
const TOKEN: (&str, &str) = ("TRACKER_TOKEN", "y0_fake_tracker_token");
/// Issue DEV-1's immutable id in the fake.
const EXAMPLE: &str = "tracker:60000000a1b2c3d4e5f6";

fn write_config(dir: &Path, fake: &FakeTracker, extra: &str) {
    std::fs::write(
        dir.join("flowlake.toml"),
        format!(
            "[[sources]]\nkind = \"yandex_tracker\"\nname = \"tracker\"\nbase_url = \"{}\"\norg_id = \"7654321\"\n\
             queues = \"DEV,SRE,!TRASH\"\nper_page = 50\nchangelog_per_page = 50\nmax_attempts = 4\n{extra}",
            fake.uri()
        ),
    )
    .unwrap();
}

fn sync(dir: &Path) -> String {
    ok(dir, &["sync", "--as-of", AS_OF], &[TOKEN])
}

#[test]
fn the_worked_example_gives_tracker_exporters_rows_and_time_in_status() {
    let fake = FakeTracker::start(&FakeTrackerSpec::default());
    let dir = tempfile::tempdir().unwrap();
    write_config(
        dir.path(),
        &fake,
        "comments = true\nworklogs = true\n[sources.custom_fields]\nqueue_name = \"/issue/queue/display\"\n",
    );
    let out = sync(dir.path());
    assert!(out.contains("API requests"), "{out}");
    assert_eq!(
        scalar(
            dir.path(),
            "select count(*) from work_items where custom_fields->>'queue_name' in ('DEV', 'SRE')"
        ),
        120,
        "custom fields picked by JSON pointer"
    );
    assert_eq!(count(dir.path(), "work_items"), 120);
    // 3 search pages; one changelog request per issue, two more for each of the 7 long changelogs; one
    // comments and one worklog request per issue; statuses and users once.
    assert_eq!(
        answered(fake.answered()),
        [
            "changelog:200=134",
            "comments:200=120",
            "search:200=3",
            "statuses:200=1",
            "users:200=1",
            "worklog:200=120"
        ]
    );
    assert_eq!(
        scalar(
            dir.path(),
            &format!(
                "select count(*) * 100000 + sum(seconds) from worklogs where item_id = '{EXAMPLE}'"
            )
        ),
        2 * 100_000 + 5_400 + 28_800,
        "PT1H30M and P1D, a business day of 8 h"
    );
    assert_eq!(
        scalar(
            dir.path(),
            &format!("select first_response_seconds from item_metrics where item_id = '{EXAMPLE}'")
        ),
        3600,
        "Борис's comment an hour after Вера created the issue"
    );
    assert_eq!(
        ok(
            dir.path(),
            &[
                "query",
                "select id, login, name, email from people where source = 'tracker' order by id",
                "--format",
                "csv"
            ],
            &[]
        ),
        "id,login,name,email\n\
         tracker:11,user11,Алиса,user11@example.ru\n\
         tracker:12,user12,Борис,user12@example.ru\n\
         tracker:13,user13,Вера,user13@example.ru\n",
        "people carry the users lookup's login and e-mail, not just the issues' display names"
    );
    let rows = ok(
        dir.path(),
        &[
            "query",
            &format!("select status_name, status_transitions_count, duration, busdays_duration, human_readable_duration, last_seen from tracker_exporter_issue_metrics where item_id = '{EXAMPLE}' order by status_name"),
            "--format",
            "csv",
        ],
        &[],
    );
    assert_eq!(
        rows,
        "status_name,status_transitions_count,duration,busdays_duration,human_readable_duration,last_seen\n\
         in_progress,2,181800,100800,2d 2h,2023-10-17T12:00:00\n\
         open,1,9000,0,2h 30m,2023-10-16T08:30:00\n\
         review,1,79200,39600,22h,2023-10-18T10:00:00\n",
        "in progress twice (count 2, 181800 s, 100800 business s), as tracker-exporter's worked example"
    );
    assert_eq!(
        scalar(
            dir.path(),
            &format!("select calendar_seconds from item_status_time where item_id = '{EXAMPLE}' and status = 'In Progress'")
        ),
        181_800
    );
    assert_eq!(
        scalar(
            dir.path(),
            &format!("select count(*) from item_status_time where item_id = '{EXAMPLE}' and status = 'Review' and category = 'in_progress'")
        ),
        1,
        "Review's status type `paused` makes it in progress, not a guess"
    );
    let table = ok(
        dir.path(),
        &[
            "metrics",
            "--source",
            "tracker",
            "--to",
            "2027-12-30",
            "--days",
            "720",
        ],
        &[],
    );
    for needle in ["cycle time", "Time in status"] {
        assert!(table.contains(needle), "{needle} in\n{table}");
    }
}

#[test]
fn above_the_page_limit_the_search_scrolls() {
    let fake = FakeTracker::start(&FakeTrackerSpec::default());
    let dir = tempfile::tempdir().unwrap();
    write_config(dir.path(), &fake, "scroll_above = 60\n");
    sync(dir.path());
    assert_eq!(count(dir.path(), "work_items"), 120);
    // The first page says 120 match: dropped; then scroll batches of 50, 50 and 20. The last batch carries no
    // X-Scroll-Id (Tracker sends it only while a page is not the last: search-issues.md), so no empty batch is
    // asked for; and no request after the first repeats `perScroll` (the fake's contract would refuse it).
    assert!(
        answered(fake.answered()).contains(&"search:200=4".to_string()),
        "{:?}",
        answered(fake.answered())
    );
}

#[test]
fn incremental_moves_faults_and_a_crash() {
    let twin = FakeTracker::start(&FakeTrackerSpec::default());
    let clean = tempfile::tempdir().unwrap();
    write_config(clean.path(), &twin, "");
    sync(clean.path());

    let fake = FakeTracker::start(&FakeTrackerSpec::default());
    for (op, nth, status) in [
        ("search", 1, 429),
        ("changelog", 3, 503),
        ("changelog", 7, 0),
    ] {
        fake.inject(TrackerFault {
            op: op.into(),
            nth,
            status,
        });
    }
    let dir = tempfile::tempdir().unwrap();
    write_config(dir.path(), &fake, "");
    let killed = common::flowlake(
        dir.path(),
        &["sync", "--as-of", AS_OF],
        &[TOKEN, ("FLOWLAKE_FAIL_AFTER_PAGES", "2")],
    );
    assert!(!killed.status.success());
    assert_eq!(
        count(dir.path(), "work_items"),
        50,
        "one page of 50 committed"
    );
    sync(dir.path());
    let seen = answered(fake.answered());
    for needle in ["search:429=1", "changelog:503=1"] {
        assert!(seen.iter().any(|s| s == needle), "{needle} in {seen:?}");
    }
    assert!(
        dump(dir.path()) == dump(clean.path()),
        "the resumed sync ends with the same tables"
    );

    let before = dump(dir.path());
    fake.reset_counts();
    sync(dir.path());
    let search: Vec<String> = answered(fake.answered())
        .into_iter()
        .filter(|s| s.starts_with("search"))
        .collect();
    assert_eq!(
        search,
        ["search:200=1"],
        "only issues updated since the cursor"
    );
    assert!(
        dump(dir.path()) == before,
        "a sync with nothing new changes no row"
    );

    let moved = fake.move_issue("DEV-5", "SRE").unwrap();
    fake.review("SRE-4");
    sync(dir.path());
    assert_eq!(
        count(dir.path(), "work_items"),
        120,
        "a moved issue keeps its row"
    );
    assert_eq!(
        scalar(
            dir.path(),
            &format!("select count(*) from work_items where key = '{moved}' and project = 'SRE'")
        ),
        1
    );
    assert_eq!(
        scalar(
            dir.path(),
            "select count(*) from work_items where key = 'SRE-4' and status = 'Review'"
        ),
        1
    );
}
