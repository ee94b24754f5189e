//! Parsing, positions of errors, overrides and the template.

use super::*;
use flowlake_core::{KeyDocs, StandardType, StatusCategory};

fn parse(text: &str) -> Result<Config, ConfigError> {
    Config::parse(Path::new("flowlake.toml"), text, &[])
}

#[test]
fn the_template_parses_and_names_every_section() {
    let c = parse(&template(
        chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
    ))
    .unwrap();
    assert_eq!(c.sources.len(), 1);
    assert_eq!(c.sources[0].name(), "demo");
    assert_eq!(
        c.metrics.status_categories["Review"],
        StatusCategory::InProgress
    );
}

#[test]
fn project_mappings_override_the_global_ones_for_their_items_only() {
    let c = parse(
        "[metrics.status_categories]\n\"Review\" = \"in_progress\"\n\
         [metrics.standard_types]\n\"Story\" = \"feature\"\n\
         [metrics.projects.OPS]\nactive_statuses = [\"Fixing\"]\n\
         [metrics.projects.OPS.status_categories]\n\"Review\" = \"todo\"\n\
         [metrics.projects.OPS.standard_types]\n\"Story\" = \"incident\"\n",
    )
    .unwrap();
    let s = c.flow_settings();
    let ops = s.statuses_for("OPS");
    assert_eq!(ops.category("review", None), StatusCategory::Todo);
    assert_eq!(
        s.statuses_for("CORE").category("Review", None),
        StatusCategory::InProgress
    );
    assert!(ops.is_active("Fixing", StatusCategory::InProgress));
    assert!(!ops.is_active("In Progress", StatusCategory::InProgress));
    assert_eq!(
        s.standard_type_for("OPS", "story"),
        Some(StandardType::Incident)
    );
    assert_eq!(
        s.standard_type_for("CORE", "Story"),
        Some(StandardType::Feature)
    );
    assert_eq!(s.standard_type_for("CORE", "Epic"), None);
    let bad = parse("[metrics.projects.OPS]\nstatus_categorys = {}\n").unwrap_err();
    assert!(bad.to_string().contains("status_categorys"), "{bad}");
}

/// The template with the commented `[[sources]]` blocks of `kinds` uncommented: from each block's
/// `# [[sources]]` line to the blank line after it, one `# ` removed from every line. With `optional`,
/// the optional keys shown as `# # key = value` are uncommented too.
fn uncommented(text: &str, kinds: &[&str], optional: bool) -> String {
    let mut out = Vec::new();
    let mut block = false;
    let lines: Vec<&str> = text.lines().collect();
    for (i, &line) in lines.iter().enumerate() {
        if line == "# [[sources]]" {
            let kind = lines.get(i + 1).copied().unwrap_or_default();
            block = kinds.iter().any(|k| kind == format!("# kind = \"{k}\""));
        } else if line.is_empty() {
            block = false;
        }
        let optional_key = line
            .strip_prefix("# # ")
            .and_then(|rest| rest.split_once(" = "))
            .is_some_and(|(key, _)| key.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
            // Exactly one organization id: org_id is the one set.
            && !line.starts_with("# # cloud_org_id");
        out.push(match (block, optional && optional_key) {
            (true, true) => &line[4..],
            (true, false) => line.strip_prefix("# ").unwrap_or(line),
            (false, _) => line,
        });
    }
    out.join("\n")
}

/// The kinds whose template blocks are commented out: every registered kind but the first (the generator).
fn commented_kinds() -> Vec<&'static str> {
    SourceConfig::KINDS[1..].to_vec()
}

#[test]
fn the_template_has_a_block_for_every_source_kind_that_parses_once_uncommented() {
    let text = template(chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap());
    let kinds = commented_kinds();
    for &kind in &kinds {
        for optional in [false, true] {
            let c = parse(&uncommented(&text, &[kind], optional))
                .unwrap_or_else(|e| panic!("the {kind} block (optional keys {optional}): {e}"));
            assert_eq!(c.sources.len(), 2, "{kind}");
            let second = serde_json::to_value(&c.sources[1]).unwrap();
            assert_eq!(second["kind"], kind);
        }
    }
    let all = parse(&uncommented(&text, &kinds, false)).unwrap();
    let names: Vec<&str> = all.sources.iter().map(SourceConfig::name).collect();
    assert_eq!(names, ["demo", "github", "jira", "tracker", "gitlab"]);
    let SourceConfig::Github(g) = &all.sources[1] else {
        panic!("a github source")
    };
    assert_eq!(g.organization.as_deref(), Some("acme"));
    assert_eq!(g.status_labels["status: review"], "Review");
    let SourceConfig::Jira(j) = &all.sources[2] else {
        panic!("a jira source")
    };
    assert_eq!(j.custom_fields["story_points"], "Story Points");
    let SourceConfig::Gitlab(l) = &all.sources[4] else {
        panic!("a gitlab source")
    };
    assert_eq!(l.status_labels["workflow::review"], "Review");
    let with_optional = parse(&uncommented(&text, &kinds, true)).unwrap();
    let SourceConfig::YandexTracker(y) = &with_optional.sources[3] else {
        panic!("a tracker source")
    };
    assert_eq!(y.initial_range.as_deref(), Some("30d"));
}

#[test]
fn an_empty_file_is_all_defaults() {
    assert_eq!(parse("").unwrap(), Config::default());
}

#[test]
fn malformed_config_names_the_file_line_and_key() {
    let cases: &[(&str, usize, &str)] = &[
        (
            "[store]\npath = \"x\"\npaht = 1\n",
            3,
            "unknown field `paht`",
        ),
        (
            "[calendar]\ntime_zone = \"Europe/Berln\"\n",
            2,
            "`Europe/Berln`",
        ),
        (
            "[calendar]\nholidays = [\"2024-13-01\"]\n",
            2,
            "`2024-13-01`",
        ),
        (
            "\n[metrics.status_categories]\n\"Review\" = \"finished\"\n",
            3,
            "finished",
        ),
        ("[store\n", 1, ""),
        ("[[sources]]\nkind = \"jirra\"\n", 2, "jirra"),
    ];
    for (text, line, needle) in cases {
        let err = parse(text).unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.starts_with(&format!("config flowlake.toml:{line}:")),
            "{msg}"
        );
        assert!(msg.contains(needle), "{msg}");
    }
}

#[test]
fn semantic_errors_name_the_key() {
    let err = parse("[[sources]]\nkind = \"generator\"\nrework_rate = 2.0\n")
        .unwrap_err()
        .to_string();
    assert!(err.contains("sources[0].rework_rate"), "{err}");
    let err = parse("[[sources]]\nkind = \"generator\"\n[[sources]]\nkind = \"generator\"\n")
        .unwrap_err()
        .to_string();
    assert!(err.contains("used by two sources"), "{err}");
}

#[test]
fn environment_overrides_nested_keys_and_list_entries() {
    let env = vec![
        (
            "FLOWLAKE_STORE__PATH".to_string(),
            "other.duckdb".to_string(),
        ),
        ("FLOWLAKE_SOURCES__0__ISSUES".to_string(), "77".to_string()),
        (
            "FLOWLAKE_CALENDAR__WORK_DAYS".to_string(),
            "[\"mon\"]".to_string(),
        ),
        ("FLOWLAKE_CONFIG".to_string(), "ignored.toml".to_string()),
    ];
    let c = Config::parse(
        Path::new("f.toml"),
        "[[sources]]\nkind = \"generator\"\n",
        &env,
    )
    .unwrap();
    assert_eq!(c.store.path, PathBuf::from("other.duckdb"));
    let SourceConfig::Generator(g) = &c.sources[0] else {
        panic!("a generator source")
    };
    assert_eq!(g.issues, 77);
    let bad = vec![("FLOWLAKE_STORE__PAHT".to_string(), "x".to_string())];
    let err = Config::parse(Path::new("f.toml"), "", &bad)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("FLOWLAKE_STORE__PAHT") && err.contains("paht"),
        "{err}"
    );
}

#[test]
fn secret_overrides_are_their_text_exactly() {
    for password in ["123456", "true", "1979-05-27", "\"quoted\"", "[1]"] {
        let env = vec![("FLOWLAKE_STORE__PASSWORD".to_string(), password.to_string())];
        let c = Config::parse(Path::new("f.toml"), "", &env).unwrap();
        assert_eq!(c.store.password.as_deref(), Some(password));
    }
}

/// Whether `text` sets or names `key`: `key = …` (commented or not, also inside prose) or a `[….key]` table.
fn shows_key(text: &str, key: &str) -> bool {
    let assignment = format!("{key} = ");
    let table = format!(".{key}]");
    let table_prefix = format!(".{key}.");
    text.match_indices(&assignment).any(|(at, _)| {
        text[..at]
            .chars()
            .next_back()
            .is_none_or(|c| !(c.is_ascii_alphanumeric() || c == '_'))
    }) || text.contains(&table)
        || text.contains(&table_prefix)
}

/// Keys of a serialized config section.
fn keys_of(value: &serde_json::Value) -> Vec<String> {
    value
        .as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default()
}

/// `init`'s file cannot fall behind the config types: every key of every section and of every source kind's
/// config (as serde writes it, so a key added to a config struct is in the list) must be shown in the
/// template, in its section or its source's block.
#[test]
fn the_template_shows_every_key_of_every_section_and_source_kind() {
    let text = template(chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap());
    let defaults = serde_json::to_value(Config::default()).unwrap();
    let section = |name: &str| -> String {
        let header = format!("\n[{name}]\n");
        let start = text.find(&header).unwrap_or_else(|| panic!("no [{name}]"));
        let rest = &text[start + header.len()..];
        // Up to the next top-level table (sub-tables such as `[metrics.status_categories]` belong to it).
        let end = rest
            .match_indices("\n[")
            .find(|(at, _)| !rest[at + 2..].starts_with(&format!("{name}.")))
            .map_or(rest.len(), |(at, _)| at);
        rest[..end].to_string()
    };
    let sections = Config::KEYS
        .iter()
        .map(|k| k.key)
        .filter(|&k| k != "sources" && k != "jobs");
    // `[[jobs]]` blocks: the first shows every key, its optional ones commented out.
    let jobs = text.split("\n[[jobs]]\n").nth(1).expect("a [[jobs]] block");
    let jobs = &jobs[..jobs.find("\n\n").unwrap_or(jobs.len())];
    for key in super::JobConfig::KEYS {
        assert!(
            shows_key(jobs, key.key),
            "[[jobs]] does not show `{}`:\n{jobs}",
            key.key
        );
    }
    for name in sections {
        let body = section(name);
        for key in keys_of(&defaults[name]) {
            assert!(
                shows_key(&body, &key),
                "[{name}] does not show `{key}`:\n{body}"
            );
        }
    }
    let with_optional = parse(&uncommented(&text, &commented_kinds(), true)).unwrap();
    let mut missing: Vec<String> = Vec::new();
    let blocks: Vec<&str> = text.split("# [[sources]]").skip(1).collect();
    for source in &with_optional.sources {
        let value = serde_json::to_value(source).unwrap();
        let kind = value["kind"].as_str().unwrap().to_string();
        let block = blocks
            .iter()
            .find(|b| b.contains(&format!("kind = \"{kind}\"")))
            .copied()
            .or_else(|| {
                // The first kind's block is not commented out: `[[sources]]` to the blank line after it.
                let start = text.find("\n[[sources]]\n")?;
                let rest = &text[start..];
                (kind == SourceConfig::KINDS[0])
                    .then(|| &rest[..rest.find("\n\n").unwrap_or(rest.len())])
            })
            .unwrap_or_else(|| panic!("no block of kind {kind}"));
        for key in keys_of(&value) {
            if !shows_key(block, &key) {
                missing.push(format!("{kind}.{key}"));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "keys the template does not show: {missing:?}"
    );
}

#[test]
fn a_postgres_store_needs_a_url_and_never_shows_its_password() {
    let e = parse("[store]\nkind = \"postgres\"\n")
        .unwrap_err()
        .to_string();
    assert!(e.contains("store.url") && e.contains("postgres://"), "{e}");
    let e = parse("[store]\nkind = \"postgres\"\nurl = \"mysql://h/db\"\n")
        .unwrap_err()
        .to_string();
    assert!(e.contains("store.url"), "{e}");
    let c = parse(
        "[store]\nkind = \"postgres\"\nurl = \"postgres://u:in-the-url@h:5432/db\"\npassword = \"in-the-file\"\n",
    )
    .unwrap();
    let shown = format!("{c:?} {}", c.store.describe());
    assert!(
        !shown.contains("in-the-url") && !shown.contains("in-the-file"),
        "{shown}"
    );
    let options = c.store.options(flowlake_store::OpenMode::ReadOnly).unwrap();
    let postgres = options.postgres.expect("PostgreSQL options");
    assert_eq!(postgres.password.as_deref(), Some("in-the-file"));
    assert_eq!(postgres.schema, "flowlake");
}

#[test]
fn a_clickhouse_store_needs_an_http_url_and_opens_with_its_keys() {
    let err = parse("[store]\nkind = \"clickhouse\"\n")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("store.url") && err.contains("http://host:8123"),
        "{err}"
    );
    let err = parse("[store]\nkind = \"clickhouse\"\nurl = \"tcp://ch:9000\"\n")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("store.url") && err.contains("https://"),
        "{err}"
    );
    let err =
        parse("[store]\nkind = \"clickhouse\"\nurl = \"http://ch:8123\"\nretry_jitter = 2.0\n")
            .unwrap_err()
            .to_string();
    assert!(err.contains("store.retry_jitter"), "{err}");
    let c = parse(
        "[store]\nkind = \"clickhouse\"\nurl = \"http://ch:8123\"\ndatabase = \"dora\"\nuser = \"etl\"\n\
         password = \"pw\"\ncluster = \"analytics\"\nretry_tries = 3\nretry_base_delay_ms = 100\n",
    )
    .unwrap();
    let options = c.store.options(flowlake_store::OpenMode::ReadOnly).unwrap();
    let ch = options.clickhouse.expect("ClickHouse options");
    assert!(options.postgres.is_none());
    assert_eq!(
        (ch.url.as_str(), ch.database.as_str(), ch.user.as_str()),
        ("http://ch:8123", "dora", "etl")
    );
    assert_eq!(ch.password.as_deref(), Some("pw"));
    assert_eq!(ch.cluster.as_deref(), Some("analytics"));
    assert_eq!(ch.retry.tries, 3);
    assert_eq!(ch.retry.base_delay, std::time::Duration::from_millis(100));
    assert!(ch.compress, "inserts go compressed unless compress = false");
    assert_eq!(c.store.describe(), "http://ch:8123 (database dora)");
    assert!(!format!("{:?}", c.store).contains("pw"));
}

#[test]
fn service_and_job_mistakes_name_the_key_and_the_line() {
    let source = "[[sources]]\nkind = \"generator\"\nname = \"demo\"\n";
    let cases = [
        (
            "[service]\nlisten = \"localhost\"\n",
            "flowlake.toml:5:10: service.listen: `localhost` is not an address and port",
        ),
        (
            "[service]\nmax_concurrent_jobs = 0\n",
            "service.max_concurrent_jobs: 0 would run nothing",
        ),
        (
            "[service]\nretry_base_delay_seconds = 60\nretry_max_delay_seconds = 10\n",
            "service.retry_max_delay_seconds: 10 is below retry_base_delay_seconds (60)",
        ),
        (
            "[[jobs]]\nname = \"a b\"\nschedule = \"@daily\"\n",
            "jobs[0].name: `a b` must be non-empty, of letters, digits",
        ),
        (
            "[[jobs]]\nname = \"a\"\nschedule = \"@daily\"\nsources = [\"gh\"]\n",
            "jobs[0].sources[0]: job `a`: no source named `gh` (configured: demo)",
        ),
        (
            "[[jobs]]\nname = \"a\"\nschedule = \"@daily\"\ntime_zone = \"Mars/Olympus\"\n",
            "jobs[0].time_zone: `Mars/Olympus` is not an IANA time zone",
        ),
        (
            "[[jobs]]\nname = \"a\"\nkind = \"backfill\"\nschedule = \"@daily\"\n",
            "jobs[0].from: job `a`: a backfill needs `from`",
        ),
        (
            "[[jobs]]\nname = \"a\"\nkind = \"rebuild\"\nschedule = \"@daily\"\nsources = [\"demo\"]\n",
            "jobs[0].sources: job `a`: a rebuild recomputes every source",
        ),
        (
            "[[jobs]]\nname = \"a\"\nschedule = \"@daily\"\nkind = \"export\"\n",
            "unknown variant `export`",
        ),
        ("[[jobs]]\nname = \"a\"\n", "missing field `schedule`"),
    ];
    for (text, says) in cases {
        let err = parse(&format!("{source}{text}")).unwrap_err().to_string();
        assert!(err.contains(says), "{text}: {err}");
    }
}

#[test]
fn api_tokens_come_from_the_file_and_the_list_and_never_show_in_debug() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("tokens");
    std::fs::write(&file, "# ops\nfile-token\n\n").unwrap();
    let c = parse(&format!(
        "[service]\ntokens = [\"list-token\"]\ntoken_file = \"{}\"\n",
        file.display()
    ))
    .unwrap();
    assert_eq!(
        c.service.api_tokens().unwrap(),
        ["list-token", "file-token"]
    );
    let debug = format!("{c:?}");
    assert!(
        !debug.contains("list-token") && debug.contains("<1 set>"),
        "{debug}"
    );
    let missing = parse("[service]\ntoken_file = \"/no/such/file\"\n").unwrap();
    let err = missing.service.api_tokens().unwrap_err();
    assert!(
        err.starts_with("service.token_file /no/such/file: "),
        "{err}"
    );
}
