//! Statuses whose category nobody gave (not the config, not the tracker): `sync` warns once per status with
//! the config line, `flowlake metrics` lists them, and mapping one then `rebuild` settles it. Against the
//! fake Jira, whose issue 10001 still carries `In Progress` and `Testing`, names its `/status` no longer has.

mod common;

use std::path::Path;

use common::{flowlake, ok};
use flowlake_testkit::jira::{FakeJira, FakeJiraSpec};

const AS_OF: &str = "2027-12-31T00:00:00Z";
const TOKEN: (&str, &str) = ("JIRA_API_TOKEN", "jira_fake_token_for_tests");

fn write_config(dir: &Path, fake: &FakeJira, extra: &str) {
    std::fs::write(
        dir.join("flowlake.toml"),
        format!(
            "{extra}[[sources]]\nkind = \"jira\"\nname = \"jira\"\nbase_url = \"{}\"\nflavor = \"cloud\"\n\
             email = \"bot@acme.test\"\nprojects = [\"CORE\", \"WEB\"]\npage_size = 2\nmax_attempts = 4\n",
            fake.uri()
        ),
    )
    .unwrap();
}

/// stderr of a successful run.
fn warnings(dir: &Path, args: &[&str]) -> String {
    let out = flowlake(dir, args, &[TOKEN]);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{args:?}: {stderr}");
    stderr
}

fn unmapped(dir: &Path) -> Vec<(String, String, String, u64, String)> {
    let json = ok(
        dir,
        &["metrics", "--to", "2027-12-30", "--format", "json"],
        &[],
    );
    let report: serde_json::Value = serde_json::from_str(&json).unwrap();
    report["unmapped_statuses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            (
                g["source"].as_str().unwrap().to_string(),
                g["status"].as_str().unwrap().to_string(),
                g["category"].as_str().unwrap().to_string(),
                g["items"].as_u64().unwrap(),
                g["config_line"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn unmapped_statuses_are_warned_once_listed_by_metrics_and_gone_once_mapped() {
    let fake = FakeJira::start(&FakeJiraSpec::default());
    let dir = tempfile::tempdir().unwrap();
    write_config(dir.path(), &fake, "");
    // Pages of two issues: the warning comes once per run, not once per page or item.
    let stderr = warnings(dir.path(), &["sync", "--as-of", AS_OF]);
    let testing =
        "status \"Testing\" has no category; guessed in_progress — add to flowlake.toml: \
                   [metrics.status_categories] \"Testing\" = \"in_progress\"";
    assert_eq!(stderr.matches(testing).count(), 1, "{stderr}");
    assert_eq!(stderr.matches("has no category").count(), 2, "{stderr}");

    assert_eq!(
        unmapped(dir.path()),
        [
            (
                "jira".to_string(),
                "In Progress".to_string(),
                "in_progress".to_string(),
                1,
                "[metrics.status_categories] \"In Progress\" = \"in_progress\"".to_string()
            ),
            (
                "jira".to_string(),
                "Testing".to_string(),
                "in_progress".to_string(),
                1,
                "[metrics.status_categories] \"Testing\" = \"in_progress\"".to_string()
            ),
        ]
    );
    let table = ok(dir.path(), &["metrics", "--to", "2027-12-30"], &[]);
    assert!(table.contains("Unmapped statuses"), "{table}");
    assert!(
        table.contains("  [metrics.status_categories]\n  \"In Progress\" = \"in_progress\"\n  \"Testing\" = \"in_progress\"\n"),
        "{table}"
    );
    let csv = ok(
        dir.path(),
        &["metrics", "--to", "2027-12-30", "-f", "csv"],
        &[],
    );
    assert!(
        csv.contains("unmapped_status,jira:Testing,guessed_category,in_progress\n"),
        "{csv}"
    );

    // Mapping one and rebuilding settles it, without an API call; the other is still warned about.
    write_config(
        dir.path(),
        &fake,
        "[metrics.status_categories]\n\"Testing\" = \"todo\"\n\n",
    );
    fake.reset_counts();
    let stderr = warnings(dir.path(), &["rebuild"]);
    assert!(fake.answered().is_empty(), "rebuild calls no API");
    assert!(!stderr.contains("\"Testing\""), "{stderr}");
    assert_eq!(stderr.matches("has no category").count(), 1, "{stderr}");
    let left: Vec<String> = unmapped(dir.path()).into_iter().map(|u| u.1).collect();
    assert_eq!(left, ["In Progress"]);

    // Mapped in a project's table, it is no guess for that project's items either.
    write_config(
        dir.path(),
        &fake,
        "[metrics.projects.WEB.status_categories]\n\"In Progress\" = \"in_progress\"\n\"Testing\" = \"in_progress\"\n\n",
    );
    let stderr = warnings(dir.path(), &["rebuild"]);
    assert!(!stderr.contains("has no category"), "{stderr}");
    assert!(unmapped(dir.path()).is_empty());
    let table = ok(dir.path(), &["metrics", "--to", "2027-12-30"], &[]);
    assert!(!table.contains("Unmapped statuses"), "{table}");
}
