//! Property tests of config parsing: whatever `flowlake.toml` and the `FLOWLAKE_…` variables hold, parsing
//! returns a config or an error with a message, never a panic; and a config it accepts builds its state
//! back-end and its sources (no I/O) and, for the generator, simulates issues without a panic either.
//!
//! The documents are built from every section's and source kind's real keys (read off the config structs)
//! with extreme values: huge and negative numbers, NaN, empty and non-ASCII strings, impossible dates and
//! times of day, unknown time zones, native TOML dates where strings are expected, nesting past the
//! parser's limit. 256 cases per property by default; `PROPTEST_CASES=100000` runs longer.

use std::path::Path;
use std::sync::Arc;

use flowlake_connect::generator::simulate_issue;
use flowlake_connect::http::{LogObserver, Tape};
use flowlake_engine::config::{Config, ConfigError, SourceConfig};
use flowlake_engine::sync::build_source;
use proptest::prelude::*;
use proptest::sample::{select, Index};
use proptest::test_runner::{Config as ProptestConfig, TestCaseError, TestRunner};

/// 256 cases unless `PROPTEST_CASES` says otherwise; failures are reported (and shrunk), not persisted:
/// each one found is kept as a named regression test below.
fn runner() -> TestRunner {
    let mut config = ProptestConfig {
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    if std::env::var_os("PROPTEST_CASES").is_none() {
        config.cases = 256;
    }
    TestRunner::new(config)
}

/// What a key holds: values it accepts (the first is the usual one) and edge values that it may or may not.
#[derive(Debug, Clone, Copy)]
enum Ty {
    Bool,
    /// An integer; `lo..=hi` is accepted.
    Int(i64, i64),
    /// A float; `lo..=hi` is accepted.
    Float(f64, f64),
    /// A string: accepted ones, then edge ones (to which [`STRINGS`] are added).
    Str(&'static [&'static str], &'static [&'static str]),
    /// A list of such strings.
    List(&'static [&'static str], &'static [&'static str]),
    /// An inline table of any names to such strings.
    Table(&'static [&'static str], &'static [&'static str]),
    /// A date as a string (accepted ones, edge ones); native TOML dates are edges too.
    Date(&'static [&'static str], &'static [&'static str]),
}

const MAX: i64 = i64::MAX;
const CATEGORIES: Ty = Ty::Str(
    &["todo", "in_progress", "done"],
    &["finished", "", "Done", "in progress"],
);
const TYPES: Ty = Ty::Str(
    &[
        "bug", "feature", "task", "epic", "subtask", "incident", "other",
    ],
    &["story", ""],
);
const ZONES: Ty = Ty::Str(
    &[
        "UTC",
        "Europe/Berlin",
        "Europe/Moscow",
        "Pacific/Kiritimati",
        "Pacific/Pago_Pago",
        "America/St_Johns",
        " UTC ",
    ],
    &["Europe/Berln", "Mars/Olympus", "", "+14:00", "utc"],
);
const TIMES: Ty = Ty::Str(
    &[
        "09:00", "18:00", "00:00", "24:00", "23:59:59", "9:5", "0:0:0",
    ],
    &["24:01", "25:00", "-1:00", "+1:+1", "4294967295:00", "", "9"],
);
const DATES_OK: &[&str] = &[
    "2026-11-01",
    "2024-02-29",
    "1970-01-01",
    "1900-01-01",
    "0001-01-01",
    "9999-12-31",
    "0000-01-01",
    "+10000-01-01",
    "+262142-12-31",
    "-262143-01-01",
];
const DATES_EDGE: &[&str] = &[
    "2023-02-29",
    "2024-13-01",
    "+262143-12-31",
    "-262144-01-01",
    "",
    "2026-1-1",
    "26-01-01",
];
const URLS: Ty = Ty::Str(
    &[
        "https://api.github.com",
        "https://ghe.example.com/api/v3/",
        "http://127.0.0.1:9",
        "https://acme.atlassian.net",
        "https://gitlab.com",
        "https://",
        "http://[::1]:0/x?y#z",
    ],
    &["ftp://example.com", "", "api.github.com"],
);
const NAMES: Ty = Ty::Str(&["src", "Готово", "a.b", "x_1"], &["a:b", "a b", "a/b", ""]);
const NO_TOKEN: Ty = Ty::Str(&["FLOWLAKE_FUZZ_UNSET_TOKEN"], &[""]);
const TOKEN_FILE: Ty = Ty::Str(&["nonexistent/token-file"], &[""]);
const PATHS: Ty = Ty::Str(
    &[
        "flowlake.duckdb",
        "Готово 🚀.json",
        "/nonexistent/dir/x",
        "",
    ],
    &[],
);
const POINTERS: Ty = Ty::Table(
    &[
        "/fields/customfield_10016",
        "/item/weight",
        "/issue/storyPoints",
        "/",
        "/~1x/~0",
    ],
    &["Story Points", "", "x"],
);
const LABELS: Ty = Ty::Table(&["In Progress", "Review", "Готово", ""], &[]);

const STORE_KEYS: &[(&str, Ty)] = &[
    ("kind", Ty::Str(&["duckdb"], &["sqlite"])),
    ("path", PATHS),
    ("memory_limit", Ty::Str(&["1GB", "512MB", ""], &["-1GB"])),
];
const STATE_KEYS: &[(&str, Ty)] = &[
    (
        "backend",
        Ty::Str(&["store", "file", "s3", "redis"], &["sqlite"]),
    ),
    ("path", PATHS),
    (
        "url",
        Ty::Str(
            &[
                "s3://bucket/flowlake/state.json",
                "redis://127.0.0.1:6379/0",
                "redis://:pw@h/1",
            ],
            &["s3://", "s3:///k", "redis://", "redis://:@/", "http://x"],
        ),
    ),
    (
        "endpoint",
        Ty::Str(&["http://127.0.0.1:9000"], &["", "not a url"]),
    ),
    ("region", Ty::Str(&["us-east-1", ""], &[])),
    ("allow_http", Ty::Bool),
    ("key_prefix", Ty::Str(&["flowlake", "", "Готово:🚀"], &[])),
    ("lock_ttl_seconds", Ty::Int(0, MAX)),
];
const CALENDAR_KEYS: &[(&str, Ty)] = &[
    ("time_zone", ZONES),
    (
        "work_days",
        Ty::List(
            &[
                "mon", "tue", "wed", "thu", "fri", "sat", "sun", "monday", "0", "6", " Sun ",
            ],
            &["7", "", "Mon.", "-1"],
        ),
    ),
    ("day_start", TIMES),
    ("day_end", TIMES),
    ("holidays", Ty::List(DATES_OK, DATES_EDGE)),
    (
        "holiday_preset",
        Ty::Str(&["ru", "ru-holidays-0.34", ""], &["us", "RU"]),
    ),
];
/// `[metrics]`'s own key; its tables are sections of their own below.
const METRICS_KEYS: &[(&str, Ty)] = &[(
    "active_statuses",
    Ty::List(&["In Progress", "Testing", ""], &[]),
)];
const PROJECT_KEYS: &[(&str, Ty)] = &[
    (
        "active_statuses",
        Ty::List(&["In Progress", "Testing", ""], &[]),
    ),
    (
        "status_categories",
        Ty::Table(&["todo", "in_progress", "done"], &["finished", ""]),
    ),
    (
        "standard_types",
        Ty::Table(&["bug", "feature", "other"], &["story", ""]),
    ),
];
const TRACKER_EXPORTER_KEYS: &[(&str, Ty)] = &[
    ("enabled", Ty::Bool),
    (
        "closed_statuses",
        Ty::List(&["closed", "resolved", "закрыт", ""], &[]),
    ),
];
const GENERATOR_KEYS: &[(&str, Ty)] = &[
    ("name", NAMES),
    ("seed", Ty::Int(0, MAX)),
    ("issues", Ty::Int(0, MAX)),
    ("projects", Ty::List(&["CORE", "WEB", "Готово", ""], &[])),
    ("until", Ty::Date(DATES_OK, DATES_EDGE)),
    ("days", Ty::Int(1, 36_500)),
    ("people_per_project", Ty::Int(1, 1000)),
    ("rework_rate", Ty::Float(0.0, 0.9)),
    ("reopen_rate", Ty::Float(0.0, 0.9)),
    ("page_size", Ty::Int(1, 100_000)),
];
/// Keys every API source has.
const API_KEYS: &[(&str, Ty)] = &[
    ("name", NAMES),
    ("base_url", URLS),
    ("token_env", NO_TOKEN),
    ("token_file", TOKEN_FILE),
    ("lookback_minutes", Ty::Int(0, 52_560_000)),
    ("max_concurrency", Ty::Int(0, 1000)),
    ("requests_per_second", Ty::Float(0.001, 1e308)),
    ("max_attempts", Ty::Int(0, 4_294_967_295)),
];
const GITHUB_KEYS: &[(&str, Ty)] = &[
    ("organization", Ty::Str(&["acme"], &[""])),
    (
        "repositories",
        Ty::List(
            &["acme/app", "a/b", "Готово/🚀"],
            &["acme", "a/b/c", "/app", "", "acme/"],
        ),
    ),
    ("graphql_url", URLS),
    ("status_labels", LABELS),
    ("issues", Ty::Bool),
    ("pull_requests", Ty::Bool),
    ("deployments", Ty::Bool),
    ("releases", Ty::Bool),
    ("page_size", Ty::Int(1, 100)),
    (
        "start",
        Ty::Date(
            &[
                "2026-03-02T09:00:00Z",
                "0000-01-01T00:00:00Z",
                "9999-12-31T23:59:59.999999999+14:00",
            ],
            &[
                "2026-03-02",
                "+262143-12-31T23:59:59Z",
                "2026-13-01T00:00:00Z",
            ],
        ),
    ),
    ("max_rate_limit_wait_seconds", Ty::Int(0, MAX)),
];
const JIRA_KEYS: &[(&str, Ty)] = &[
    (
        "flavor",
        Ty::Str(&["auto", "cloud", "server"], &["datacenter"]),
    ),
    ("email", Ty::Str(&["bot@acme.test", ""], &[])),
    ("projects", Ty::List(&["CORE", "WEB", "Готово"], &[""])),
    ("jql", Ty::Str(&["project = CORE", "\"", ""], &[])),
    ("time_zone", ZONES),
    ("page_size", Ty::Int(1, 100)),
    (
        "custom_fields",
        Ty::Table(
            &["/fields/customfield_10016", "Story Points", "/"],
            &["", " "],
        ),
    ),
    ("worklogs", Ty::Bool),
];
const YANDEX_KEYS: &[(&str, Ty)] = &[
    ("web_url", URLS),
    ("org_id", Ty::Str(&["123"], &[""])),
    ("cloud_org_id", Ty::Str(&["b1g"], &[""])),
    ("auth_scheme", Ty::Str(&["OAuth", "Bearer"], &["Basic"])),
    (
        "queues",
        Ty::Str(&["DEV,SRE,!TEST", "", "!", ",,,", "DEV"], &[]),
    ),
    ("query", Ty::Str(&["Queue: DEV", ""], &[])),
    (
        "initial_range",
        Ty::Str(
            &["7d", "2h", "1w", "30m", "5200w", "1m"],
            &[
                "0d",
                "-1d",
                "d",
                "7д",
                "9223372036854775807m",
                "15250284452472w",
                "5300w",
                "",
                "7",
            ],
        ),
    ),
    ("per_page", Ty::Int(1, 1000)),
    ("scroll_above", Ty::Int(0, MAX)),
    ("changelog_per_page", Ty::Int(1, 100)),
    ("custom_fields", POINTERS),
    ("comments", Ty::Bool),
    ("worklogs", Ty::Bool),
    ("users", Ty::Bool),
];
const GITLAB_KEYS: &[(&str, Ty)] = &[
    ("group", Ty::Str(&["acme"], &[""])),
    ("include_subgroups", Ty::Bool),
    ("include_shared", Ty::Bool),
    (
        "projects",
        Ty::List(&["acme/api", "group/sub/project", "a/b"], &["acme", ""]),
    ),
    ("status_labels", LABELS),
    ("issues", Ty::Bool),
    ("merge_requests", Ty::Bool),
    ("notes", Ty::Bool),
    ("deployments", Ty::Bool),
    ("pipelines", Ty::Bool),
    ("per_page", Ty::Int(1, 100)),
    ("custom_fields", POINTERS),
];
const KINDS: &[&str] = &[
    "generator",
    "github",
    "jira",
    "yandex_tracker",
    "gitlab",
    "jirra",
    "",
];

/// Strings that mean something to some key, or nearly do.
const STRINGS: &[&str] = &[
    "",
    " ",
    "duckdb",
    "sqlite",
    "store",
    "file",
    "s3",
    "redis",
    "s3://",
    "s3://bucket/flowlake/state.json",
    "redis://127.0.0.1:6379/0",
    "redis://",
    "redis://:@/",
    "http://",
    "https://",
    "https://api.github.com",
    "https://ghe.example.com/api/v3/",
    "http://127.0.0.1:9",
    "https://acme.atlassian.net",
    "ftp://example.com",
    "acme",
    "acme/app",
    "/",
    "a/b/c",
    "group/sub/project",
    "UTC",
    "Europe/Berlin",
    "Europe/Berln",
    "Mars/Olympus",
    "America/Argentina/ComodRivadavia",
    "+14:00",
    "mon",
    "sunday",
    "0",
    "6",
    "7",
    "09:00",
    "18:00",
    "24:00",
    "24:01",
    "23:59:59",
    "25:00",
    "9:5",
    "-1:00",
    "+1:+1",
    "00:00",
    "4294967295:00",
    "2024-02-29",
    "2023-02-29",
    "2024-13-01",
    "+262142-12-31",
    "+262143-12-31",
    "-262143-01-01",
    "-262144-01-01",
    "0000-01-01",
    "0001-01-01",
    "9999-12-31",
    "ru",
    "ru-holidays-0.34",
    "us",
    "todo",
    "in_progress",
    "done",
    "finished",
    "bug",
    "feature",
    "epic",
    "incident",
    "other",
    "auto",
    "cloud",
    "server",
    "OAuth",
    "Bearer",
    "2h",
    "7d",
    "1w",
    "30m",
    "0d",
    "-1d",
    "d",
    "9223372036854775807m",
    "15250284452472w",
    "99999999999999999999d",
    "1970-01-01T00:00:00Z",
    "2026-03-02T09:00:00Z",
    "+262143-12-31T23:59:59Z",
    "2026-13-01T00:00:00Z",
    "/fields/customfield_10016",
    "/item/weight",
    "Story Points",
    "not a pointer",
    "DEV,SRE,!TEST",
    "!",
    ",,,",
    "1GB",
    "Готово",
    "Статус: в работе",
    "🚀",
    "\u{0}",
    "\u{202e}",
    "a:b",
    "a b",
    "FLOWLAKE_FUZZ_UNSET_TOKEN",
    "nonexistent/token-file",
];

/// TOML literals at every edge: numbers, special floats, booleans, native dates and times, empty containers.
const LITERALS: &[&str] = &[
    "0",
    "1",
    "-1",
    "100",
    "101",
    "1000",
    "4294967295",
    "4294967296",
    "9223372036854775807",
    "-9223372036854775808",
    "0x7fffffff",
    "0o777",
    "0b1",
    "1_000",
    "0.0",
    "-0.0",
    "0.2",
    "0.9",
    "0.9000001",
    "1e-300",
    "5e-324",
    "1e308",
    "inf",
    "-inf",
    "nan",
    "true",
    "false",
    "1979-05-27",
    "1979-05-27T07:32:00Z",
    "1979-05-27T00:32:00.999999-07:00",
    "1979-05-27T07:32:00",
    "07:32:00",
    "0000-01-01",
    "9999-12-31",
    "[]",
    "{}",
];

/// TOML values as written: numbers at every edge, strings, native dates, arrays and inline tables.
fn leaf_value() -> impl Strategy<Value = String> {
    prop_oneof![
        8 => select(LITERALS).prop_map(String::from),
        4 => any::<i64>().prop_map(|n| n.to_string()),
        4 => any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| format!("{f:?}")),
        8 => select(STRINGS).prop_map(quoted),
        4 => any::<String>().prop_map(|s| quoted(&s)),
        2 => "[a-z ]{0,12}".prop_map(|s| format!("'{s}'")),
        1 => (0usize..200).prop_map(|n| format!("{}{}", "[".repeat(n), "]".repeat(n))),
        1 => (1usize..200).prop_map(|n| format!("{}1{}", "{a=".repeat(n), "}".repeat(n))),
    ]
}

fn value() -> impl Strategy<Value = String> {
    leaf_value().prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(|v| format!("[{}]", v.join(", "))),
            prop::collection::btree_map(inline_key(), inner, 0..3).prop_map(|v| {
                let pairs: Vec<String> = v.into_iter().map(|(k, v)| format!("{k} = {v}")).collect();
                format!("{{{}}}", pairs.join(", "))
            }),
        ]
    })
}

/// A key inside an inline table.
fn inline_key() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => select(&["a", "name", "kind"]).prop_map(String::from),
        1 => any::<String>().prop_map(|s| quoted(&s)),
    ]
}

/// A TOML basic string holding `s`.
fn quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Keys that are almost right, or right in the wrong place.
const NEAR_MISSES: &[&str] = &["paht", "kinds", "sources", "store", "Name", ""];

/// Integers at every edge of the types keys are read into (u32, u64, usize, i64).
const INTS: &[&str] = &[
    "0",
    "-1",
    "100",
    "101",
    "1000",
    "1001",
    "100000",
    "100001",
    "4294967295",
    "4294967296",
    "2305843009213693952",
    "9223372036854775807",
    "-9223372036854775808",
];

/// Floats at every edge: rates, probabilities, NaN and infinities.
const FLOATS: &[&str] = &[
    "0.0",
    "-0.0",
    "0.9000001",
    "1.0",
    "-0.1",
    "0.0009",
    "1e-300",
    "5e-324",
    "1e308",
    "inf",
    "-inf",
    "nan",
    "5",
];

/// TOML's own dates and times, where flowlake expects strings.
const NATIVE_DATES: &[&str] = &[
    "1979-05-27",
    "9999-12-31",
    "0000-01-01",
    "2026-03-02T09:00:00Z",
    "1979-05-27T07:32:00",
];

/// One of `values` quoted, the first one more often than any other.
fn usual(values: &'static [&'static str]) -> BoxedStrategy<String> {
    prop_oneof![
        3 => Just(quoted(values[0])),
        2 => select(values).prop_map(quoted),
    ]
    .boxed()
}

/// One of `edge` or of [`STRINGS`], or any string, quoted.
fn unusual(edge: &'static [&'static str]) -> BoxedStrategy<String> {
    let any_text = prop_oneof![
        4 => select(STRINGS).prop_map(String::from),
        1 => any::<String>(),
    ];
    match edge {
        [] => any_text.prop_map(|s| quoted(&s)).boxed(),
        _ => prop_oneof![select(edge).prop_map(String::from), any_text]
            .prop_map(|s| quoted(&s))
            .boxed(),
    }
}

/// A value `ty` accepts.
fn ok(ty: Ty) -> BoxedStrategy<String> {
    fn float(f: f64) -> String {
        format!("{f:?}")
    }
    match ty {
        Ty::Bool => any::<bool>().prop_map(|b| b.to_string()).boxed(),
        Ty::Int(lo, hi) => prop_oneof![
            Just(lo),
            Just(hi),
            lo..=hi,
            lo..=hi.min(lo.saturating_add(100)),
        ]
        .prop_map(|n| n.to_string())
        .boxed(),
        Ty::Float(lo, hi) => prop_oneof![Just(lo), Just(hi), lo..=hi]
            .prop_map(float)
            .boxed(),
        Ty::Str(values, _) | Ty::Date(values, _) => usual(values),
        Ty::List(values, _) => prop::collection::vec(usual(values), 0..4)
            .prop_map(|v| format!("[{}]", v.join(", ")))
            .boxed(),
        Ty::Table(values, _) => table(usual(values)),
    }
}

/// A value at the edge of what `ty` accepts, or past it.
fn edge(ty: Ty) -> BoxedStrategy<String> {
    match ty {
        Ty::Bool => value().boxed(),
        Ty::Int(..) => prop_oneof![
            3 => select(INTS).prop_map(String::from),
            1 => any::<i64>().prop_map(|n| n.to_string()),
        ]
        .boxed(),
        Ty::Float(..) => prop_oneof![
            3 => select(FLOATS).prop_map(String::from),
            1 => any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(|f| format!("{f:?}")),
        ]
        .boxed(),
        Ty::Str(_, edge) => unusual(edge),
        Ty::Date(_, edge) => prop_oneof![
            3 => unusual(edge),
            1 => select(NATIVE_DATES).prop_map(String::from),
        ]
        .boxed(),
        Ty::List(values, edge) => (
            prop::collection::vec(usual(values), 0..3),
            unusual(edge),
            any::<Index>(),
        )
            .prop_map(|(mut v, odd, at)| {
                v.insert(at.index(v.len() + 1), odd);
                format!("[{}]", v.join(", "))
            })
            .boxed(),
        Ty::Table(_, edge) => table(unusual(edge)),
    }
}

/// An inline table of any names to `values`.
fn table(values: BoxedStrategy<String>) -> BoxedStrategy<String> {
    prop::collection::btree_map(
        prop_oneof![select(STRINGS).prop_map(String::from), any::<String>()],
        values,
        0..4,
    )
    .prop_map(|m| {
        let pairs: Vec<String> = m
            .into_iter()
            .map(|(k, v)| format!("{} = {v}", quoted(&k)))
            .collect();
        format!("{{{}}}", pairs.join(", "))
    })
    .boxed()
}

/// How far from a valid config the generated ones stray.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Every value may be an edge value (one in four), of the wrong type, or a key that does not exist.
    Wild,
    /// Every value is one its key accepts, except at most one per section: such configs mostly parse, so
    /// the edge values that validation lets through reach the sources.
    Extreme,
}

/// `key = value` lines: a subset of `keys` and, three times in four, the `required` ones not drawn.
fn entries(
    keys: &'static [(&'static str, Ty)],
    required: &'static [(&'static str, &'static str)],
    mode: Mode,
) -> BoxedStrategy<String> {
    let drawn = prop::sample::subsequence(keys, 0..=keys.len().min(6))
        .prop_flat_map(|chosen| {
            chosen
                .into_iter()
                .map(|(k, ty)| {
                    (ok(ty), edge(ty), prop::bool::weighted(0.25))
                        .prop_map(move |(ok, edge, odd)| (k.to_string(), ok, edge, odd))
                })
                .collect::<Vec<_>>()
        })
        .prop_shuffle();
    let stray = prop::option::weighted(
        0.05,
        (
            prop_oneof![
                select(NEAR_MISSES).prop_map(quoted),
                any::<String>().prop_map(|s| quoted(&s)),
            ],
            value(),
        ),
    );
    let perturbed = prop::option::weighted(0.3, any::<Index>());
    (drawn, stray, perturbed, prop::bool::weighted(0.75))
        .prop_map(move |(drawn, stray, perturbed, with_required)| {
            let perturbed = perturbed.map(|i| i.index(drawn.len().max(1)));
            let mut lines: Vec<(String, String)> = drawn
                .into_iter()
                .enumerate()
                .map(|(n, (k, ok, edge, odd))| {
                    let odd = match mode {
                        Mode::Wild => odd,
                        Mode::Extreme => perturbed == Some(n),
                    };
                    (k, if odd { edge } else { ok })
                })
                .collect();
            if with_required {
                for (k, v) in required {
                    if !lines.iter().any(|(have, _)| have == k) {
                        lines.push((k.to_string(), v.to_string()));
                    }
                }
            }
            if mode == Mode::Wild {
                lines.extend(stray);
            }
            lines
                .into_iter()
                .map(|(k, v)| format!("{k} = {v}\n"))
                .collect()
        })
        .boxed()
}

/// A section: a header, then its lines.
fn section(
    header: &'static str,
    keys: &'static [(&'static str, Ty)],
    mode: Mode,
) -> BoxedStrategy<String> {
    entries(keys, &[], mode)
        .prop_map(move |lines| format!("{header}\n{lines}"))
        .boxed()
}

/// A table whose keys are names (statuses, types): `[metrics.status_categories]`.
fn mapping(header: &'static str, ty: Ty, mode: Mode) -> BoxedStrategy<String> {
    let value = match mode {
        Mode::Wild => prop_oneof![3 => ok(ty), 1 => edge(ty)].boxed(),
        Mode::Extreme => ok(ty),
    };
    prop::collection::btree_map(
        prop_oneof![select(STRINGS).prop_map(String::from), any::<String>()],
        value,
        0..5,
    )
    .prop_map(move |entries| {
        let mut s = format!("{header}\n");
        for (k, v) in entries {
            s.push_str(&format!("{} = {v}\n", quoted(&k)));
        }
        s
    })
    .boxed()
}

/// A table of a source as a section of its own (`[sources.status_labels]`): one the kind has, unless wild.
fn tables(keys: &'static [(&'static str, Ty)], mode: Mode) -> BoxedStrategy<String> {
    let has = |k: &str| mode == Mode::Wild || keys.iter().any(|(key, _)| *key == k);
    let mut options = vec![];
    if has("status_labels") {
        options.push(mapping("[sources.status_labels]", LABELS, mode));
    }
    if has("custom_fields") {
        options.push(mapping("[sources.custom_fields]", POINTERS, mode));
    }
    match options.is_empty() {
        true => Just(String::new()).boxed(),
        false => prop::strategy::Union::new(options).boxed(),
    }
}

/// A `[[sources]]` block of one kind (usually, else a wrong or missing kind) with the keys of its kind and,
/// for API sources, the shared ones; a table now and then as a section of its own.
fn source(mode: Mode) -> BoxedStrategy<String> {
    type Block = (
        &'static str,
        &'static [(&'static str, Ty)],
        &'static [(&'static str, &'static str)],
    );
    let kinds: [Block; 5] = [
        (
            "generator",
            GENERATOR_KEYS,
            &[("issues", "3"), ("days", "30")],
        ),
        ("github", GITHUB_KEYS, &[("repositories", "[\"acme/app\"]")]),
        (
            "jira",
            JIRA_KEYS,
            &[
                ("base_url", "\"https://acme.atlassian.net\""),
                ("projects", "[\"CORE\"]"),
            ],
        ),
        ("yandex_tracker", YANDEX_KEYS, &[("org_id", "\"123\"")]),
        ("gitlab", GITLAB_KEYS, &[("projects", "[\"acme/api\"]")]),
    ];
    let blocks: Vec<BoxedStrategy<String>> = kinds
        .into_iter()
        .map(|(kind, keys, required)| {
            let (shared, shared_required) = match kind {
                "generator" => (&[][..], &[][..]),
                _ => (
                    API_KEYS,
                    &[("token_env", "\"FLOWLAKE_FUZZ_UNSET_TOKEN\"")][..],
                ),
            };
            let kind_line = match mode {
                Mode::Wild => prop_oneof![
                    40 => Just(kind.to_string()),
                    1 => select(KINDS).prop_map(String::from),
                    1 => Just(String::new()),
                ]
                .boxed(),
                Mode::Extreme => Just(kind.to_string()).boxed(),
            };
            (
                kind_line,
                entries(keys, required, mode),
                entries(shared, shared_required, mode),
                prop::option::weighted(0.2, tables(keys, mode)),
            )
                .prop_map(|(kind, own, shared, table)| {
                    let kind = match kind.as_str() {
                        "" => String::new(),
                        k => format!("kind = {}\n", quoted(k)),
                    };
                    // A key both lists hold (`name`) is written once; a table written inline cannot be a
                    // section too.
                    let own_keys: Vec<&str> =
                        own.lines().filter_map(|l| l.split(" = ").next()).collect();
                    let shared: String = shared
                        .lines()
                        .filter(|l| !own_keys.contains(&l.split(" = ").next().unwrap_or("")))
                        .map(|l| format!("{l}\n"))
                        .collect();
                    let table = table
                        .filter(|t| {
                            !own_keys
                                .iter()
                                .any(|k| t.starts_with(&format!("[sources.{k}]")))
                        })
                        .unwrap_or_default();
                    format!("[[sources]]\n{kind}{own}{shared}{table}")
                })
                .boxed()
        })
        .collect();
    prop::strategy::Union::new(blocks).boxed()
}

/// A whole document: some of the sections, each at most once, then zero to three sources, each named
/// apart unless it names itself. (Unknown sections, repeated ones and other broken structure come from
/// the cut, spliced and arbitrary texts.)
fn document(mode: Mode) -> impl Strategy<Value = String> {
    let sections = vec![
        section("[store]", STORE_KEYS, mode),
        section("[state]", STATE_KEYS, mode),
        section("[calendar]", CALENDAR_KEYS, mode),
        section("[metrics]", METRICS_KEYS, mode),
        mapping("[metrics.status_categories]", CATEGORIES, mode),
        mapping("[metrics.standard_types]", TYPES, mode),
        section("[metrics.projects.OPS]", PROJECT_KEYS, mode),
        mapping(
            "[metrics.projects.\"Готово 🚀\".status_categories]",
            CATEGORIES,
            mode,
        ),
        section("[tracker_exporter]", TRACKER_EXPORTER_KEYS, mode),
        section("[tracker_exporter.calendar]", CALENDAR_KEYS, mode),
    ];
    let count = sections.len();
    (
        prop::sample::subsequence(sections, 0..=count).prop_flat_map(|chosen| chosen),
        prop::collection::vec(source(mode), 0..4),
    )
        .prop_map(|(sections, sources)| {
            let sources: String = sources
                .into_iter()
                .enumerate()
                .map(|(n, s)| match s.lines().any(|l| l.starts_with("name = ")) {
                    true => s,
                    false => s.replacen(
                        "[[sources]]\n",
                        &format!("[[sources]]\nname = \"s{n}\"\n"),
                        1,
                    ),
                })
                .collect();
            format!("{}{sources}", sections.concat())
        })
}

/// Ok, or an error that says what is wrong.
fn check(result: Result<Config, ConfigError>) -> Result<Option<Config>, TestCaseError> {
    match result {
        Ok(c) => Ok(Some(c)),
        Err(e) => {
            let message = match &e {
                ConfigError::Read { message, .. }
                | ConfigError::Invalid { message, .. }
                | ConfigError::Env { message, .. }
                | ConfigError::Semantic { message, .. } => message,
            };
            prop_assert!(!message.trim().is_empty(), "an empty message: {e:?}");
            prop_assert!(!e.to_string().is_empty());
            Ok(None)
        }
    }
}

/// Uses an accepted config the way `sync` does before its first request: settings, the state back-end,
/// the sources; the generator's "now" and its first and last issues.
fn exercise(c: &Config) {
    let _ = c.flow_settings();
    let _ = c.state.backend();
    let now = chrono::Utc::now();
    for s in &c.sources {
        let _ = s.now(now);
        let _ = build_source(s, &Tape::Off, Arc::new(LogObserver));
        if let SourceConfig::Generator(g) = s {
            let _ = simulate_issue(g, 0);
            let _ = simulate_issue(g, g.issues.saturating_sub(1));
        }
    }
}

fn parse(text: &str, env: &[(String, String)]) -> Result<Config, ConfigError> {
    Config::parse(Path::new("flowlake.toml"), text, env)
}

/// Pieces of TOML syntax and of flowlake's keys.
const TOKENS: &[&str] = &[
    "[", "]", "[[", "]]", "=", "\"", "'", "\"\"\"", ".", ",", "{", "}", "\n", " ", "#", "\\",
    "sources", "kind", "store", "calendar", "metrics", "1", "-", ":", "T", "Z", "é", "🚀", "\r",
    "\t", "\u{0}",
];

#[test]
fn config_parsing_never_panics_on_arbitrary_text() {
    let tokens = select(TOKENS);
    let text = prop_oneof![
        any::<String>(),
        prop::collection::vec(tokens, 0..64).prop_map(|v| v.concat()),
    ];
    runner()
        .run(&text, |text| {
            check(parse(&text, &[]))?;
            Ok(())
        })
        .unwrap();
}

#[test]
fn config_parsing_never_panics_on_generated_toml() {
    runner()
        .run(&document(Mode::Wild), |text| {
            if let Some(c) = check(parse(&text, &[]))? {
                exercise(&c);
            }
            Ok(())
        })
        .unwrap();
}

#[test]
fn config_parsing_never_panics_on_well_typed_toml_with_extreme_values() {
    runner()
        .run(&document(Mode::Extreme), |text| {
            if let Some(c) = check(parse(&text, &[]))? {
                exercise(&c);
            }
            Ok(())
        })
        .unwrap();
}

#[test]
fn config_parsing_never_panics_on_cut_and_spliced_toml() {
    let cut = (document(Mode::Wild), any::<Index>(), value(), any::<bool>());
    runner()
        .run(&cut, |(text, at, insert, truncate)| {
            let boundaries: Vec<usize> = text
                .char_indices()
                .map(|(i, _)| i)
                .chain([text.len()])
                .collect();
            let at = boundaries[at.index(boundaries.len())];
            let text = if truncate {
                text[..at].to_string()
            } else {
                format!("{}{insert}{}", &text[..at], &text[at..])
            };
            if let Some(c) = check(parse(&text, &[]))? {
                exercise(&c);
            }
            Ok(())
        })
        .unwrap();
}

/// Segments of `FLOWLAKE_…` variable names: sections, keys, list indexes in and out of range.
const SEGMENTS: &[&str] = &[
    "STORE",
    "STATE",
    "CALENDAR",
    "METRICS",
    "TRACKER_EXPORTER",
    "SOURCES",
    "PROJECTS",
    "STATUS_CATEGORIES",
    "PATH",
    "KIND",
    "NAME",
    "ISSUES",
    "UNTIL",
    "WORK_DAYS",
    "TIME_ZONE",
    "INITIAL_RANGE",
    "MAX_CONCURRENCY",
    "REQUESTS_PER_SECOND",
    "LOOKBACK_MINUTES",
    "0",
    "1",
    "99999999999999999999",
    "-1",
    "",
];

#[test]
fn config_env_overrides_never_panic() {
    let segment = prop_oneof![
        select(SEGMENTS).prop_map(String::from),
        select(GITHUB_KEYS).prop_map(|(k, _)| k.to_uppercase()),
        select(YANDEX_KEYS).prop_map(|(k, _)| k.to_uppercase()),
        "[A-Za-z0-9_]{0,6}",
    ];
    let variable = (
        prop::collection::vec(segment, 1..5),
        prop_oneof![value(), any::<String>()],
    )
        .prop_map(|(path, v)| (format!("FLOWLAKE_{}", path.join("__")), v));
    let case = (
        document(Mode::Extreme),
        prop::collection::vec(variable, 0..4),
    );
    runner()
        .run(&case, |(text, env)| {
            if let Some(c) = check(parse(&text, &env))? {
                exercise(&c);
            }
            Ok(())
        })
        .unwrap();
}

/// A TOML document nested deeper than the parser allows is an error, not a stack overflow.
#[test]
fn config_nested_past_the_parsers_limit_is_an_error() {
    for n in [100, 10_000] {
        let arrays = format!(
            "[calendar]\nholidays = {}{}\n",
            "[".repeat(n),
            "]".repeat(n)
        );
        check(parse(&arrays, &[])).unwrap();
        assert!(parse(&arrays, &[]).is_err());
        let tables = format!("store = {}{}\n", "{a=".repeat(n), "}".repeat(n));
        assert!(parse(&tables, &[]).is_err());
    }
}

// ---------------------------------------------------------------------------------------------------------
// Regressions: inputs that panicked, kept by name.

/// Parses `text`, expects a semantic error naming `key`, and uses the config as `sync` would have.
fn refused(text: &str, key: &str) {
    match parse(text, &[]) {
        Ok(c) => {
            exercise(&c);
            panic!("accepted: {text}");
        }
        Err(e) => assert!(e.to_string().contains(key), "{e}"),
    }
}

#[test]
fn an_initial_range_with_a_non_ascii_unit_is_refused_not_a_panic() {
    refused(
        "[[sources]]\nkind = \"yandex_tracker\"\norg_id = \"1\"\ninitial_range = \"7д\"\n",
        "sources[0].initial_range",
    );
}

#[test]
fn an_initial_range_that_overflows_its_seconds_is_refused_not_a_panic() {
    for range in ["9223372036854775807m", "15250284452472w"] {
        refused(
            &format!("[[sources]]\nkind = \"yandex_tracker\"\norg_id = \"1\"\ninitial_range = \"{range}\"\n"),
            "sources[0].initial_range",
        );
    }
}

#[test]
fn a_max_concurrency_past_the_semaphore_limit_is_refused_not_a_panic() {
    refused(
        "[[sources]]\nkind = \"gitlab\"\nprojects = [\"acme/api\"]\nmax_concurrency = 9223372036854775807\n",
        "sources[0].max_concurrency",
    );
}

#[test]
fn a_requests_per_second_too_small_for_a_duration_is_refused_not_a_panic() {
    for rate in ["1e-300", "5e-324", "nan", "-1.0", "inf"] {
        refused(
            &format!("[[sources]]\nkind = \"jira\"\nbase_url = \"https://acme.atlassian.net\"\nprojects = [\"CORE\"]\nrequests_per_second = {rate}\n"),
            "sources[0].requests_per_second",
        );
    }
}

#[test]
fn a_lookback_too_long_for_a_date_is_refused() {
    refused(
        "[[sources]]\nkind = \"github\"\nrepositories = [\"acme/app\"]\nlookback_minutes = 9223372036854775807\n",
        "sources[0].lookback_minutes",
    );
}

#[test]
fn a_generator_history_outside_the_years_1_to_9999_is_refused_not_a_panic() {
    // Too many days is refused under `days` (at most 100 years), a date outside the years under `until`.
    for (until, days, key) in [
        ("+262142-12-31", 1, "sources[0].until"),
        ("+10000-01-01", 1_u32, "sources[0].until"),
        ("2026-01-01", 4294967295, "sources[0].days"),
        ("2026-01-01", 740_000, "sources[0].days"),
        ("0001-01-01", 1, "sources[0].until"),
    ] {
        refused(
            &format!("[[sources]]\nkind = \"generator\"\nuntil = \"{until}\"\ndays = {days}\n"),
            key,
        );
    }
}

#[test]
fn a_generator_too_large_to_simulate_is_refused() {
    refused(
        "[[sources]]\nkind = \"generator\"\npeople_per_project = 4294967295\n",
        "sources[0].people_per_project",
    );
    refused(
        "[[sources]]\nkind = \"generator\"\npage_size = 4294967295\n",
        "sources[0].page_size",
    );
}

/// Found by `config_parsing_never_panics_on_arbitrary_text` and `…_on_cut_and_spliced_toml`: toml gives some
/// errors no words, and the error said only `config flowlake.toml:2:1: `.
#[test]
fn a_toml_error_without_words_still_says_what_is_wrong() {
    for (text, needle) in [
        ("\n\r", "flowlake.toml:2:1: unexpected \"\\r\""),
        (
            "[tracker_exporter]\nclosed_statuses = ",
            "flowlake.toml:2:19: unexpected end of file",
        ),
    ] {
        let e = parse(text, &[]).unwrap_err().to_string();
        assert!(e.contains(needle), "{e}");
    }
}
