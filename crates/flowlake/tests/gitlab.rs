//! `flowlake sync` against a fake GitLab group on loopback: end to end with hand-computed time in status,
//! incremental runs, faults and a crash.

mod common;

use std::path::Path;

use common::{answered, count, dump, ok, scalar};
use flowlake_testkit::gitlab::{FakeGitlab, FakeGitlabSpec, GitlabFault};

const AS_OF: &str = "2027-12-31T00:00:00Z";
const TOKEN: (&str, &str) = ("GITLAB_TOKEN", "glpat-fake-token-for-tests");

/// `extra` adds keys to the source block.
fn write_config(dir: &Path, fake: &FakeGitlab, per_page: u32, extra: &str) {
    std::fs::write(
        dir.join("flowlake.toml"),
        format!(
            "[[sources]]\nkind = \"gitlab\"\nname = \"gitlab\"\nbase_url = \"{}\"\ngroup = \"acme\"\nper_page = {per_page}\nmax_attempts = 4\n{extra}\n\
             [sources.status_labels]\n\"workflow::in progress\" = \"In Progress\"\n\"workflow::review\" = \"Review\"\n\n\
             [sources.custom_fields]\nweb = \"/item/web_url\"\n",
            fake.uri()
        ),
    )
    .unwrap();
}

fn sync(dir: &Path) -> String {
    ok(dir, &["sync", "--as-of", AS_OF], &[TOKEN])
}

#[test]
fn a_group_syncs_end_to_end_with_hand_computed_time_in_status() {
    let fake = FakeGitlab::start(&FakeGitlabSpec::default());
    let dir = tempfile::tempdir().unwrap();
    write_config(dir.path(), &fake, 30, "notes = true\npipelines = true\n");
    let out = sync(dir.path());
    assert!(out.contains("API requests"), "{out}");
    assert_eq!(count(dir.path(), "work_items"), 130);
    assert_eq!(count(dir.path(), "pull_requests"), 40, "merge requests");
    assert_eq!(
        scalar(
            dir.path(),
            "select count(*) from work_items where custom_fields->>'web' like 'https://gitlab.example.com/%'"
        ),
        130
    );
    // Per project: 45 issues in 2 keyset pages of 30, 20 merge requests in 1, 12 deployments and 20
    // pipelines in 1 each; two event lists and the notes per item.
    assert_eq!(
        answered(fake.answered()),
        [
            "deployments:200=2",
            "events:200=260",
            "issues:200=4",
            "merge_requests:200=2",
            "notes:200=130",
            "pipelines:200=2",
            "projects:200=1"
        ]
    );
    assert_eq!(
        fake.keyset_pages(),
        2,
        "each project's second issue page came by keyset cursor"
    );
    assert_eq!(
        ok(
            dir.path(),
            &[
                "query",
                "select environment, status, count(*) as n, count(finished_at) as finished from deployments group by all order by all",
                "--format",
                "csv",
            ],
            &[],
        ),
        "environment,status,n,finished\n\
         production,success,12,12\n\
         staging,canceled,2,2\n\
         staging,failure,4,4\n\
         staging,in_progress,2,0\n\
         staging,success,4,4\n",
        "GitLab's failed/running read as failure/in_progress, as on GitHub; finished when the job did, else \
         (no job, or one that never ran) at the last update once final"
    );
    assert_eq!(
        scalar(
            dir.path(),
            "select count(*) * 100 + count(*) filter (where status = 'failed') from pipelines where trigger is not null"
        ),
        40 * 100 + 8
    );
    assert_eq!(
        scalar(
            dir.path(),
            "select first_response_seconds from item_metrics where item_id = 'gitlab:acme/api#1'"
        ),
        3600,
        "carol's comment an hour after bob opened it (system notes are no response)"
    );
    // acme/api#1: opened 09:00, labelled in progress 11:00, closed next day 15:00 → 2 h Open, 28 h In Progress.
    assert_eq!(
        ok(
            dir.path(),
            &[
                "query",
                "select status, calendar_seconds from item_status_time where item_id = 'gitlab:acme/api#1' and status <> 'Done' order by status",
                "--format",
                "csv",
            ],
            &[],
        ),
        "status,calendar_seconds\nIn Progress,100800\nOpen,7200\n"
    );
    assert_eq!(
        scalar(
            dir.path(),
            "select cycle_seconds from item_metrics where item_id = 'gitlab:acme/api#1'"
        ),
        100_800
    );
    let table = ok(
        dir.path(),
        &[
            "metrics",
            "--source",
            "gitlab",
            "--to",
            "2027-12-30",
            "--days",
            "720",
        ],
        &[],
    );
    assert!(table.contains("cycle time"), "{table}");
}

#[test]
fn incremental_faults_and_a_crash() {
    let twin = FakeGitlab::start(&FakeGitlabSpec::default());
    let clean = tempfile::tempdir().unwrap();
    write_config(clean.path(), &twin, 30, "");
    sync(clean.path());

    let fake = FakeGitlab::start(&FakeGitlabSpec::default());
    for (op, nth, status) in [("issues", 1, 429), ("events", 5, 500), ("events", 9, 0)] {
        fake.inject(GitlabFault {
            op: op.into(),
            nth,
            status,
        });
    }
    let dir = tempfile::tempdir().unwrap();
    write_config(dir.path(), &fake, 30, "");
    let killed = common::flowlake(
        dir.path(),
        &["sync", "--as-of", AS_OF],
        &[TOKEN, ("FLOWLAKE_FAIL_AFTER_PAGES", "2")],
    );
    assert!(!killed.status.success());
    assert_eq!(
        count(dir.path(), "work_items"),
        45,
        "acme/api's two issue pages committed"
    );
    sync(dir.path());
    let seen = answered(fake.answered());
    for needle in ["issues:429=1", "events:500=1"] {
        assert!(seen.iter().any(|s| s == needle), "{needle} in {seen:?}");
    }
    let same = dump(dir.path()).replace(&fake.uri(), "URL")
        == dump(clean.path()).replace(&twin.uri(), "URL");
    assert!(same, "the resumed sync ends with the same tables");

    let before = dump(dir.path());
    fake.reset_counts();
    sync(dir.path());
    assert!(
        dump(dir.path()) == before,
        "a sync with nothing new changes no row"
    );
    fake.close("acme/web", 3);
    sync(dir.path());
    assert_eq!(
        scalar(
            dir.path(),
            "select count(*) from work_items where id = 'gitlab:acme/web#3' and status_category = 'done'"
        ),
        1
    );
}

/// Real GitLab sends pipelines with `updated_at: null` and deployments without a job (`deployable: null`);
/// one such record used to fail its page and stop the run. They are stored, and a pipeline that appears
/// later without `updated_at` (which `updated_after` never matches) is read by the next run.
#[test]
fn pipelines_without_updated_at_and_deployments_without_a_job_are_stored() {
    let fake = FakeGitlab::start(&FakeGitlabSpec::default());
    let dir = tempfile::tempdir().unwrap();
    write_config(dir.path(), &fake, 30, "pipelines = true\n");
    let out = sync(dir.path());
    assert!(!out.contains("could not be normalized"), "{out}");
    assert_eq!(count(dir.path(), "pipelines"), 40);
    assert_eq!(count(dir.path(), "deployments"), 24);
    assert_eq!(count(dir.path(), "bad_records"), 0);
    assert_eq!(
        ok(
            dir.path(),
            &[
                "query",
                "select id, status, trigger, updated_at = created_at as same from pipelines where trigger = 'external' order by id",
                "--format",
                "csv",
            ],
            &[],
        ),
        "id,status,trigger,same\n\
         gitlab:acme/api/pipelines/3007,running,external,true\n\
         gitlab:acme/web/pipelines/3107,running,external,true\n",
        "updated_at: null reads as updated when created"
    );
    assert_eq!(
        ok(
            dir.path(),
            &[
                "query",
                "select id, status, date_diff('second', created_at, finished_at) as took from deployments where id like '%/deployments/704' or id like '%/deployments/709' order by id",
                "--format",
                "csv",
            ],
            &[],
        ),
        "id,status,took\n\
         gitlab:acme/api/deployments/704,success,360\n\
         gitlab:acme/api/deployments/709,canceled,120\n",
        "no job (created through the API), and a job that never ran: finished at the last update"
    );

    fake.reset_counts();
    let new = fake.add_pipeline_without_updated_at("acme/web");
    sync(dir.path());
    assert_eq!(
        scalar(
            dir.path(),
            &format!("select count(*) from pipelines where id = 'gitlab:acme/web/pipelines/{new}' and status = 'running'")
        ),
        1,
        "read in the run after it appeared"
    );
    assert_eq!(count(dir.path(), "pipelines"), 41);
    assert!(
        answered(fake.answered()).contains(&"pipelines:200=4".to_string()),
        "per project the updated_after listing and one page by id: {:?}",
        answered(fake.answered())
    );
}

/// `/groups/:id/projects` lists the projects other groups share with the group unless asked
/// `with_shared=false`, and those of subgroups only when asked `include_subgroups=true`.
#[test]
fn group_projects_leave_out_shared_projects_unless_include_shared() {
    let spec = FakeGitlabSpec {
        projects: vec!["api".into(), "tools/cli".into()],
        shared_projects: vec!["partner/lib".into()],
        ..FakeGitlabSpec::default()
    };
    let fake = FakeGitlab::start(&spec);
    let projects = |extra: &str| {
        let dir = tempfile::tempdir().unwrap();
        write_config(dir.path(), &fake, 100, extra);
        sync(dir.path());
        ok(
            dir.path(),
            &[
                "query",
                "select distinct project from work_items order by project",
                "--format",
                "csv",
            ],
            &[],
        )
    };
    assert_eq!(
        projects(""),
        "project\nacme/api\nacme/tools/cli\n",
        "the group's own projects, subgroups included"
    );
    assert_eq!(
        projects("include_shared = true\n"),
        "project\nacme/api\nacme/tools/cli\npartner/lib\n"
    );
    assert_eq!(
        projects("include_subgroups = false\n"),
        "project\nacme/api\n"
    );
}

/// One record flowlake cannot read used to fail its page and stop the run, losing the page's other records
/// and every later stream and project. It is kept raw, listed in `bad_records` with its error and in the
/// summary, and everything else is stored.
#[test]
fn one_unreadable_record_no_longer_stops_the_gitlab_sync() {
    let fake = FakeGitlab::start(&FakeGitlabSpec::default());
    fake.break_pipeline("acme/api", 3003);
    let dir = tempfile::tempdir().unwrap();
    write_config(dir.path(), &fake, 30, "pipelines = true\n");
    let out = sync(dir.path());
    assert!(
        out.contains("1 record(s) could not be normalized") && out.contains("from bad_records"),
        "{out}"
    );
    assert_eq!(
        count(dir.path(), "work_items"),
        130,
        "later streams and projects are read"
    );
    assert_eq!(
        count(dir.path(), "pipelines"),
        39,
        "the page's other pipelines are stored"
    );
    assert_eq!(
        scalar(
            dir.path(),
            "select count(*) from raw_records where key = 'acme/api/pipelines/3003'"
        ),
        1
    );
    assert_eq!(
        ok(
            dir.path(),
            &[
                "query",
                "select source, stream, key, error from bad_records",
                "--format",
                "csv",
            ],
            &[],
        ),
        "source,stream,key,error\n\
         gitlab,pipelines,acme/api/pipelines/3003,neither `created_at` nor `updated_at` is set\n"
    );
    let rebuilt = ok(dir.path(), &["rebuild"], &[TOKEN]);
    assert!(
        rebuilt.contains("1 record(s) could not be normalized"),
        "{rebuilt}"
    );
    assert_eq!(
        count(dir.path(), "bad_records"),
        1,
        "still unreadable: still listed"
    );
}
