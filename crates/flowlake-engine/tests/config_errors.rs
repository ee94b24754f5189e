//! A config error names the file, the line and column of the value (or key) at fault, and its key path — never
//! the header of the table it is in, never the whole table (issue 16: an invalid `time_zone` on line 28 of an
//! `init` file was reported at `25:1`, and `until = "2026-99-01"` as `72:1: input is out of range`).

use std::path::Path;

use flowlake_engine::config::template;
use flowlake_engine::Config;

fn error(text: &str) -> String {
    Config::parse(Path::new("flowlake.toml"), text, &[])
        .expect_err("the config is refused")
        .to_string()
}

/// 1-based line and column of the first `needle` in `text`.
fn at(text: &str, needle: &str) -> (usize, usize) {
    let i = text.find(needle).expect("the needle is in the text");
    let line = text[..i].matches('\n').count() + 1;
    let column = text[..i].rsplit('\n').next().unwrap().chars().count() + 1;
    (line, column)
}

#[test]
fn config_errors_point_at_the_value_and_name_its_key() {
    let cases: &[(&str, &str, &str, &str)] = &[
        // (text, where the error points, key path, what the message says)
        (
            "[calendar]\nwork_days = [\"mon\"]\ntime_zone = \"Mars/Base\"\n",
            "\"Mars/Base\"",
            "calendar.time_zone",
            "invalid time zone `Mars/Base`",
        ),
        (
            "[[sources]]\nkind = \"generator\"\nuntil = \"2026-99-01\"\n",
            "\"2026-99-01\"",
            "sources[0].until",
            "input is out of range (found \"2026-99-01\")",
        ),
        (
            "[store]\npath = \"x\"\npaht = 1\n",
            "paht",
            "store.paht",
            "unknown field `paht`",
        ),
        (
            "[[sources]]\nkind = \"generator\"\n[[sources]]\nkind = \"jira\"\nbase_urll = \"https://x\"\n",
            "base_urll",
            "sources[1].base_urll",
            "unknown field `base_urll`",
        ),
        (
            "[[sources]]\nkind = \"generator\"\nissues = \"many\"\n",
            "\"many\"",
            "sources[0].issues",
            "invalid type: string \"many\"",
        ),
        (
            "[store]\nkind = \"sqlite\"\n",
            "\"sqlite\"",
            "store.kind",
            "unknown variant `sqlite`",
        ),
        (
            "[[sources]]\nname = \"j\"\nflavor = \"dc\"\nkind = \"jira\"\n",
            "\"dc\"",
            "sources[0].flavor",
            "unknown variant `dc`",
        ),
        (
            "[[sources]]\nkind = \"jirra\"\n",
            "\"jirra\"",
            "sources[0].kind",
            "unknown variant `jirra`",
        ),
        (
            "[tracker_exporter.calendar]\nholidays = [\"2024-01-01\", \"2024-13-01\"]\n",
            "\"2024-13-01\"",
            "tracker_exporter.calendar.holidays[1]",
            "invalid holiday date `2024-13-01`",
        ),
        (
            "[metrics.status_categories]\n\"In Progress\" = \"busy\"\n",
            "\"busy\"",
            "metrics.status_categories.\"In Progress\"",
            "busy",
        ),
        // Values that parse but do not fit: at the value too.
        (
            "[[sources]]\nkind = \"jira\"\nbase_url = \"https://x/jira?foo=1\"\nprojects = [\"A\"]\n",
            "\"https://x/jira?foo=1\"",
            "sources[0].base_url",
            "has a query string",
        ),
        (
            "[[sources]]\nkind = \"generator\"\nrework_rate = 2.0\n",
            "2.0",
            "sources[0].rework_rate",
            "",
        ),
        // Errors of a whole table: its header, without echoing it.
        (
            "[calendar]\nday_start = \"10:00\"\nday_end = \"09:00\"\n",
            "[calendar]",
            "calendar",
            "working day ends (09:00) before it starts (10:00)",
        ),
        (
            "[[sources]]\nname = \"x\"\n",
            "[[sources]]",
            "sources[0]",
            "missing field `kind`",
        ),
    ];
    for (text, points_at, key, says) in cases {
        let (line, column) = at(text, points_at);
        let e = error(text);
        let head = format!("config flowlake.toml:{line}:{column}: {key}: ");
        assert!(
            e.starts_with(&head),
            "{e}\n  expected it to start with {head}"
        );
        assert!(e.contains(says), "{e}\n  expected it to say {says}");
        assert!(!e.contains('\n'), "one line, no table echoed: {e}");
        assert!(!e.contains("day_start = "), "the table is not echoed: {e}");
    }
}

#[test]
fn an_init_file_with_a_bad_time_zone_or_date_points_at_the_value() {
    let init = template(chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap());
    let text = init.replacen("time_zone = \"UTC\"", "time_zone = \"Mars/Base\"", 1);
    let (line, column) = at(&text, "\"Mars/Base\"");
    let e = error(&text);
    assert!(
        e.starts_with(&format!(
            "config flowlake.toml:{line}:{column}: calendar.time_zone: invalid time zone `Mars/Base`"
        )),
        "{e}"
    );

    let text = init.replacen("until = \"2026-01-01\"", "until = \"2026-99-01\"", 1);
    let (line, column) = at(&text, "\"2026-99-01\"");
    let e = error(&text);
    assert!(
        e.starts_with(&format!(
            "config flowlake.toml:{line}:{column}: sources[0].until: input is out of range"
        )),
        "{e}"
    );
}

#[test]
fn a_base_url_with_a_query_string_is_refused_for_every_api_source() {
    for block in [
        "kind = \"github\"\nrepositories = [\"o/r\"]",
        "kind = \"jira\"\nprojects = [\"A\"]",
        "kind = \"gitlab\"\nprojects = [\"g/p\"]",
        "kind = \"yandex_tracker\"\norg_id = \"1\"\nqueues = \"DEV\"",
    ] {
        let text = format!("[[sources]]\n{block}\nbase_url = \"https://x/api?foo=1\"\n");
        let e = error(&text);
        assert!(
            e.contains("sources[0].base_url: `https://x/api?foo=1` has a query string"),
            "{block}: {e}"
        );
    }
}
