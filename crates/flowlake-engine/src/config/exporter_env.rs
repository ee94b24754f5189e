//! tracker-exporter's environment (`EXPORTER_*`, as version 2.0.0 reads it) translated into a flowlake
//! config, so a team that runs it from an `.env` file switches by changing the command.
//!
//! The translation is a flowlake config text — one line per setting, each ending with the variable it came
//! from — that goes through the same parser and checks as a `flowlake.toml`: a value that does not fit is
//! reported under the variable that set it, and `flowlake tracker-exporter --print-config` prints the text
//! as a starting `flowlake.toml`. Secrets (the tracker token, the ClickHouse password, the Sentry DSN) are
//! not in the text: the token is read from its variable when the source is built, the others are handed to
//! the parser as `FLOWLAKE_…` overrides.
//!
//! Value syntax is pydantic's, which tracker-exporter's settings use: booleans `true/false`, `1/0`,
//! `yes/no`, `on/off`, `t/f`, `y/n` in any case; lists as JSON (`[0,1,2,3,4]`, `["env:prod",]` with
//! Python's trailing comma) or comma-separated; times `09:00:00`; ranges `30m`, `2h`, `7d`, `1w`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use flowlake_connect::yandex_tracker::parse_range;

use super::{Config, ConfigError};

/// Every variable tracker-exporter 2.0.0 reads (its settings, with the `EXPORTER_` prefix), with its default.
pub const VARIABLES: &[(&str, &str)] = &[
    ("STATEFUL", "false"),
    ("STATEFUL_INITIAL_RANGE", "1w"),
    ("CHANGELOG_EXPORT_ENABLED", "false"),
    ("LOGLEVEL", "info"),
    ("LOG_ETL_STATS", "true"),
    ("LOG_ETL_STATS_EACH_N_ITER", "100"),
    ("WORKDAYS", "[0,1,2,3,4]"),
    ("BUSINESS_HOURS_START", "09:00:00"),
    ("BUSINESS_HOURS_END", "22:00:00"),
    ("DATETIME_RESPONSE_FORMAT", "%Y-%m-%dT%H:%M:%S.%f%z"),
    ("DATETIME_QUERY_FORMAT", "%Y-%m-%d %H:%M:%S"),
    ("DATETIME_CLICKHOUSE_FORMAT", "%Y-%m-%dT%H:%M:%S.%f"),
    ("ETL_INTERVAL_MINUTES", "30"),
    (
        "CLOSED_ISSUE_STATUSES",
        "closed,rejected,resolved,cancelled,released",
    ),
    ("NOT_NULLABLE_FIELDS", ""),
    ("TRACKER__LOGLEVEL", "warning"),
    ("TRACKER__TOKEN", ""),
    ("TRACKER__ORG_ID", ""),
    ("TRACKER__IAM_TOKEN", ""),
    ("TRACKER__CLOUD_ORG_ID", ""),
    ("TRACKER__TIMEOUT", "10"),
    ("TRACKER__MAX_RETRIES", "10"),
    ("TRACKER__LANGUAGE", "en"),
    ("TRACKER__TIMEZONE", "Europe/Moscow"),
    ("TRACKER__SEARCH__QUERY", ""),
    ("TRACKER__SEARCH__RANGE", "2h"),
    ("TRACKER__SEARCH__QUEUES", ""),
    ("TRACKER__SEARCH__PER_PAGE_LIMIT", "100"),
    ("CLICKHOUSE__ENABLE_UPLOAD", "true"),
    ("CLICKHOUSE__HOST", "localhost"),
    ("CLICKHOUSE__PROTO", "http"),
    ("CLICKHOUSE__PORT", "8123"),
    ("CLICKHOUSE__CACERT_PATH", ""),
    ("CLICKHOUSE__SERVERLESS_PROXY_ID", ""),
    ("CLICKHOUSE__USERNAME", "default"),
    ("CLICKHOUSE__PASSWORD", ""),
    ("CLICKHOUSE__DATABASE", "agile"),
    ("CLICKHOUSE__ISSUES_TABLE", "issues"),
    ("CLICKHOUSE__ISSUE_METRICS_TABLE", "issue_metrics"),
    ("CLICKHOUSE__ISSUES_CHANGELOG_TABLE", "issues_changelog"),
    ("CLICKHOUSE__AUTO_DEDUPLICATE", "true"),
    ("CLICKHOUSE__BACKOFF_BASE_DELAY", "0.5"),
    ("CLICKHOUSE__BACKOFF_EXPO_FACTOR", "2.5"),
    ("CLICKHOUSE__BACKOFF_MAX_TRIES", "3"),
    ("CLICKHOUSE__BACKOFF_JITTER", "true"),
    ("STATE__STORAGE", "jsonfile"),
    ("STATE__REDIS_DSN", "redis://localhost:6379"),
    ("STATE__JSONFILE_STRATEGY", "local"),
    ("STATE__JSONFILE_PATH", "state.json"),
    ("STATE__JSONFILE_S3_BUCKET", ""),
    ("STATE__JSONFILE_S3_REGION", "us-east-1"),
    ("STATE__JSONFILE_S3_ENDPOINT", ""),
    ("STATE__JSONFILE_S3_ACCESS_KEY", ""),
    ("STATE__JSONFILE_S3_SECRET_KEY", ""),
    ("STATE__CUSTOM_STORAGE_PARAMS", "{}"),
    ("MONITORING__METRICS_ENABLED", "false"),
    ("MONITORING__METRICS_HOST", "localhost"),
    ("MONITORING__METRICS_PORT", "8125"),
    ("MONITORING__METRICS_BASE_PREFIX", "tracker_exporter"),
    ("MONITORING__METRICS_BASE_LABELS", "[]"),
    ("MONITORING__SENTRY_ENABLED", "false"),
    ("MONITORING__SENTRY_DSN", ""),
];

/// Variables whose values are secrets: never repeated in a message or the config text.
const SECRETS: &[&str] = &[
    "TRACKER__TOKEN",
    "TRACKER__IAM_TOKEN",
    "CLICKHOUSE__PASSWORD",
    "STATE__REDIS_DSN",
    "STATE__JSONFILE_S3_ACCESS_KEY",
    "STATE__JSONFILE_S3_SECRET_KEY",
    "MONITORING__SENTRY_DSN",
];

/// The job `flowlake tracker-exporter` runs.
pub const JOB: &str = "tracker-exporter";

/// A variable with a value tracker-exporter would refuse too, or flowlake cannot honour.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("EXPORTER_{variable}{}: {message}", shown(.value))]
pub struct ExporterEnvError {
    /// The variable, without `EXPORTER_`.
    pub variable: String,
    /// Its value, when it was set and is not a secret.
    pub value: Option<String>,
    /// What is wrong.
    pub message: String,
}

fn shown(value: &Option<String>) -> String {
    value.as_ref().map_or(String::new(), |v| format!("={v}"))
}

/// What the environment says, as flowlake runs it.
#[derive(Clone, PartialEq)]
pub struct ExporterEnv {
    /// The config text (no secrets in it).
    pub text: String,
    /// The variables whose values were handed over as `FLOWLAKE_…` overrides: (that name, the
    /// `EXPORTER_…` one), for a printed config to say where they must be set.
    pub moved: Vec<(String, String)>,
    /// Overrides handed to the parser beside the text: the secrets, as `FLOWLAKE_…` variables.
    overrides: Vec<(String, String)>,
    /// The variable each line of `text` came from (1-based line → name without `EXPORTER_`).
    origins: BTreeMap<usize, String>,
    /// Set variables flowlake does not honour, and why: the caller shows them as warnings.
    pub warnings: Vec<String>,
}

impl std::fmt::Debug for ExporterEnv {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExporterEnv")
            .field("text", &self.text)
            .field("overrides", &format_args!("<{} set>", self.overrides.len()))
            .field("warnings", &self.warnings)
            .finish()
    }
}

/// The config text being written, remembering which variable wrote each line.
#[derive(Default)]
struct Text {
    out: String,
    lines: usize,
    origins: BTreeMap<usize, String>,
}

impl Text {
    fn section(&mut self, header: &str) {
        self.raw(&format!("\n{header}"));
    }

    fn raw(&mut self, line: &str) {
        for l in line.split('\n') {
            self.out.push_str(l);
            self.out.push('\n');
            self.lines += 1;
        }
    }

    /// `key = value` (`value` already TOML), from `variable` (`None`: a flowlake setting of the mode).
    fn set(&mut self, key: &str, value: String, variable: Option<&str>) {
        match variable {
            Some(v) => {
                self.raw(&format!("{key} = {value}  # EXPORTER_{v}"));
                self.origins.insert(self.lines, v.to_string());
            }
            None => self.raw(&format!("{key} = {value}")),
        }
    }
}

fn quoted(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

fn list(items: &[String]) -> String {
    toml::Value::Array(items.iter().cloned().map(toml::Value::String).collect()).to_string()
}

/// The variables, by name without `EXPORTER_`, with tracker-exporter's defaults for those not set.
struct Vars<'a> {
    set: &'a BTreeMap<String, String>,
}

impl Vars<'_> {
    /// The value set, if any (empty counts as unset, as for tracker-exporter's optional strings).
    fn given(&self, name: &str) -> Option<&str> {
        self.set
            .get(name)
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
    }

    fn get(&self, name: &str) -> &str {
        self.given(name).unwrap_or_else(|| {
            VARIABLES
                .iter()
                .find(|(n, _)| *n == name)
                .map_or("", |(_, d)| d)
        })
    }

    /// An error about `name`, carrying its value only when it was given and is not a secret.
    fn error(&self, name: &str, message: impl Into<String>) -> ExporterEnvError {
        let value = match self.given(name) {
            Some(v) if !SECRETS.contains(&name) => Some(v.to_string()),
            _ => None,
        };
        ExporterEnvError {
            variable: name.to_string(),
            value,
            message: message.into(),
        }
    }

    /// The value, which must be one of `allowed` (tracker-exporter's enumerations).
    fn one_of(&self, name: &str, allowed: &[&str]) -> Result<(), ExporterEnvError> {
        if allowed.contains(&self.get(name)) {
            Ok(())
        } else {
            Err(self.error(name, format!("one of {}", allowed.join(", "))))
        }
    }

    fn bool(&self, name: &str) -> Result<bool, ExporterEnvError> {
        parse_bool(self.get(name)).ok_or_else(|| {
            self.error(
                name,
                "not a boolean (true/false, 1/0, yes/no, on/off, t/f, y/n)",
            )
        })
    }

    fn number<T: std::str::FromStr>(&self, name: &str, what: &str) -> Result<T, ExporterEnvError> {
        self.get(name)
            .parse()
            .map_err(|_| self.error(name, format!("not {what}")))
    }

    fn strings(&self, name: &str) -> Result<Vec<String>, ExporterEnvError> {
        parse_list(self.get(name))
            .ok_or_else(|| self.error(name, "not a list (`a,b,c` or JSON `[\"a\", \"b\"]`)"))
    }

    /// A range in tracker-exporter's grammar, as a flowlake `initial_range`.
    fn range(&self, name: &str) -> Result<String, ExporterEnvError> {
        human_seconds(self.get(name))
            .map(flowlake_range)
            .filter(|r| parse_range(r).is_some())
            .ok_or_else(|| {
                self.error(
                    name,
                    "not a range such as `30m`, `2h`, `7d`, `1w`, `1mo`, `1y` or `1w 3d`",
                )
            })
    }

    fn time(&self, name: &str) -> Result<String, ExporterEnvError> {
        let value = self.get(name);
        let parsed = chrono::NaiveTime::parse_from_str(value, "%H:%M:%S")
            .or_else(|_| chrono::NaiveTime::parse_from_str(value, "%H:%M"))
            .map_err(|_| self.error(name, "not a time of day such as `09:00:00`"))?;
        use chrono::Timelike;
        if parsed.second() != 0 {
            return Err(self.error(name, "flowlake's working hours are whole minutes"));
        }
        Ok(parsed.format("%H:%M").to_string())
    }
}

/// pydantic's booleans.
fn parse_bool(s: &str) -> Option<bool> {
    match s.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "t" | "yes" | "y" | "on" => Some(true),
        "0" | "false" | "f" | "no" | "n" | "off" => Some(false),
        _ => None,
    }
}

/// A JSON list (Python's trailing comma allowed) or comma-separated items; blanks dropped.
fn parse_list(s: &str) -> Option<Vec<String>> {
    let s = s.trim();
    if s.starts_with('[') {
        let inner = s.strip_prefix('[')?.strip_suffix(']')?.trim_end();
        let json = format!("[{}]", inner.strip_suffix(',').unwrap_or(inner));
        let values: Vec<serde_json::Value> = serde_json::from_str(&json).ok()?;
        return values
            .into_iter()
            .map(|v| match v {
                serde_json::Value::String(s) => Some(s),
                serde_json::Value::Number(n) => Some(n.to_string()),
                _ => None,
            })
            .collect();
    }
    Some(
        s.split(',')
            .map(str::trim)
            .filter(|x| !x.is_empty())
            .map(str::to_string)
            .collect(),
    )
}

/// tracker-exporter's `from_human_time`: each of `<n>y` (365 days), `<n>mo` (30 days), `<n>w`, `<n>d`,
/// `<n>h`, `<n>m`, `<n>s` at most once, in any order, with spaces; nothing else. `None` when the rest is not
/// empty or the total is zero.
fn human_seconds(text: &str) -> Option<u64> {
    const UNITS: [(&str, u64); 7] = [
        ("y", 365 * 86_400),
        ("mo", 30 * 86_400),
        ("w", 7 * 86_400),
        ("d", 86_400),
        ("h", 3_600),
        ("m", 60),
        ("s", 1),
    ];
    let mut rest = text.to_string();
    let mut total: u64 = 0;
    for (unit, seconds) in UNITS {
        // The first run of digits followed by the unit (its regex `(\d+)<unit>`), which is then removed.
        let bytes = rest.as_bytes();
        let mut found = None;
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i].is_ascii_digit() {
                let start = i;
                while i < bytes.len() && bytes[i].is_ascii_digit() {
                    i += 1;
                }
                if rest[i..].starts_with(unit) {
                    found = Some((start, i));
                    break;
                }
            } else {
                i += 1;
            }
        }
        if let Some((start, end)) = found {
            let n: u64 = rest[start..end].parse().ok()?;
            total = total.checked_add(n.checked_mul(seconds)?)?;
            rest.replace_range(start..end + unit.len(), "");
        }
    }
    (rest.trim().is_empty() && total > 0).then_some(total)
}

/// Seconds as the largest whole unit flowlake's ranges take (`w`, `d`, `h`), else minutes, rounded up.
fn flowlake_range(seconds: u64) -> String {
    match seconds {
        s if s % (7 * 86_400) == 0 => format!("{}w", s / (7 * 86_400)),
        s if s % 86_400 == 0 => format!("{}d", s / 86_400),
        s if s % 3_600 == 0 => format!("{}h", s / 3_600),
        s => format!("{}m", s.div_ceil(60)),
    }
}

const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

impl ExporterEnv {
    /// Translates `vars` (every `EXPORTER_*` variable, with the prefix). `base` is the folder relative state
    /// paths are taken from.
    pub fn translate(
        vars: &BTreeMap<String, String>,
        base: &Path,
    ) -> Result<Self, ExporterEnvError> {
        // Names are read in any case, as tracker-exporter's settings (`case_sensitive = False`) read them.
        let set: BTreeMap<String, String> = vars
            .iter()
            .filter_map(|(k, v)| {
                let upper = k.to_ascii_uppercase();
                Some((upper.strip_prefix("EXPORTER_")?.to_string(), v.clone()))
            })
            .collect();
        // The source reads its token from the variable by the name it was given.
        let original = |name: &str| {
            vars.keys()
                .find(|k| k.to_ascii_uppercase() == format!("EXPORTER_{name}"))
                .cloned()
                .unwrap_or_else(|| format!("EXPORTER_{name}"))
        };
        let v = Vars { set: &set };
        let mut warnings = Vec::new();
        for name in set.keys() {
            if !VARIABLES.iter().any(|(n, _)| n == name) {
                warnings.push(format!(
                    "EXPORTER_{name} is not a variable tracker-exporter 2.0.0 reads: ignored"
                ));
            }
        }
        let ignored = |warnings: &mut Vec<String>, name: &str, why: &str| {
            if v.given(name).is_some_and(|value| {
                VARIABLES
                    .iter()
                    .find(|(n, _)| *n == name)
                    .is_none_or(|(_, d)| *d != value)
            }) {
                warnings.push(format!("EXPORTER_{name} is not supported: {why}"));
            }
        };
        let mut t = Text::default();
        let mut overrides = Vec::new();
        let mut moved: Vec<(String, String)> = Vec::new();
        t.raw("# flowlake config translated from tracker-exporter's EXPORTER_* environment");

        // The store: ClickHouse, unless uploads are off.
        t.section("[store]");
        if v.bool("CLICKHOUSE__ENABLE_UPLOAD")? {
            let proto = v.get("CLICKHOUSE__PROTO").to_ascii_lowercase();
            if proto != "http" && proto != "https" {
                return Err(v.error("CLICKHOUSE__PROTO", "`http` or `https`"));
            }
            let port: u16 = v.number("CLICKHOUSE__PORT", "a port")?;
            let host = v.get("CLICKHOUSE__HOST");
            t.set("kind", quoted("clickhouse"), None);
            t.set(
                "url",
                quoted(&format!("{proto}://{host}:{port}")),
                Some("CLICKHOUSE__HOST"),
            );
            t.set(
                "database",
                quoted(v.get("CLICKHOUSE__DATABASE")),
                Some("CLICKHOUSE__DATABASE"),
            );
            t.set(
                "user",
                quoted(v.get("CLICKHOUSE__USERNAME")),
                Some("CLICKHOUSE__USERNAME"),
            );
            if let Some(ca) = v.given("CLICKHOUSE__CACERT_PATH") {
                t.set("ca_file", quoted(ca), Some("CLICKHOUSE__CACERT_PATH"));
            }
            t.set(
                "optimize_after_sync",
                v.bool("CLICKHOUSE__AUTO_DEDUPLICATE")?.to_string(),
                Some("CLICKHOUSE__AUTO_DEDUPLICATE"),
            );
            let tries: u32 = v.number("CLICKHOUSE__BACKOFF_MAX_TRIES", "a whole number")?;
            t.set(
                "retry_tries",
                tries.max(1).to_string(),
                Some("CLICKHOUSE__BACKOFF_MAX_TRIES"),
            );
            let base_delay: f64 =
                v.number("CLICKHOUSE__BACKOFF_BASE_DELAY", "a number of seconds")?;
            t.set(
                "retry_base_delay_ms",
                ((base_delay.max(0.0) * 1000.0).round() as u64).to_string(),
                Some("CLICKHOUSE__BACKOFF_BASE_DELAY"),
            );
            let factor: f64 = v.number("CLICKHOUSE__BACKOFF_EXPO_FACTOR", "a number")?;
            t.set(
                "retry_factor",
                format!("{factor:?}"),
                Some("CLICKHOUSE__BACKOFF_EXPO_FACTOR"),
            );
            let jitter = if v.bool("CLICKHOUSE__BACKOFF_JITTER")? {
                "0.5"
            } else {
                "0.0"
            };
            t.set(
                "retry_jitter",
                jitter.to_string(),
                Some("CLICKHOUSE__BACKOFF_JITTER"),
            );
            if let Some(password) = v.given("CLICKHOUSE__PASSWORD") {
                overrides.push(("FLOWLAKE_STORE__PASSWORD".into(), password.to_string()));
                moved.push((
                    "FLOWLAKE_STORE__PASSWORD".into(),
                    "CLICKHOUSE__PASSWORD".into(),
                ));
            }
        } else {
            warnings.push(
                "EXPORTER_CLICKHOUSE__ENABLE_UPLOAD is false: results go to the DuckDB file tracker-exporter.duckdb instead of ClickHouse"
                    .into(),
            );
            t.set("kind", quoted("duckdb"), None);
            t.set(
                "path",
                quoted(&base.join("tracker-exporter.duckdb").display().to_string()),
                Some("CLICKHOUSE__ENABLE_UPLOAD"),
            );
        }
        ignored(
            &mut warnings,
            "CLICKHOUSE__SERVERLESS_PROXY_ID",
            "connect to the cluster's own host (the Cloud Functions proxy is not used)",
        );
        for table in [
            "CLICKHOUSE__ISSUES_TABLE",
            "CLICKHOUSE__ISSUE_METRICS_TABLE",
            "CLICKHOUSE__ISSUES_CHANGELOG_TABLE",
        ] {
            ignored(
                &mut warnings,
                table,
                "flowlake's table names are fixed (docs/tracker-exporter.md)",
            );
        }

        // Cursors: tracker-exporter's stateless mode re-reads a sliding window each run; flowlake always
        // keeps a cursor (so a run that fails leaves no gap), started `SEARCH__RANGE` back.
        let stateful = v.bool("STATEFUL")?;
        t.section("[state]");
        let range = if stateful {
            match v.get("STATE__STORAGE").to_ascii_lowercase().as_str() {
                "jsonfile" => match v
                    .get("STATE__JSONFILE_STRATEGY")
                    .to_ascii_lowercase()
                    .as_str()
                {
                    "local" => {
                        let theirs = PathBuf::from(v.get("STATE__JSONFILE_PATH"));
                        let folder = theirs.parent().unwrap_or(Path::new(""));
                        let ours = base.join(folder).join("flowlake-state.json");
                        t.set("backend", quoted("file"), Some("STATE__STORAGE"));
                        t.set(
                            "path",
                            quoted(&ours.display().to_string()),
                            Some("STATE__JSONFILE_PATH"),
                        );
                    }
                    "s3" => {
                        let bucket = v.given("STATE__JSONFILE_S3_BUCKET").ok_or_else(|| {
                            v.error("STATE__JSONFILE_S3_BUCKET", "needed for the s3 strategy")
                        })?;
                        t.set("backend", quoted("s3"), Some("STATE__JSONFILE_STRATEGY"));
                        t.set(
                            "url",
                            quoted(&format!("s3://{bucket}/flowlake-state.json")),
                            Some("STATE__JSONFILE_S3_BUCKET"),
                        );
                        t.set(
                            "region",
                            quoted(v.get("STATE__JSONFILE_S3_REGION")),
                            Some("STATE__JSONFILE_S3_REGION"),
                        );
                        if let Some(endpoint) = v.given("STATE__JSONFILE_S3_ENDPOINT") {
                            t.set(
                                "endpoint",
                                quoted(endpoint),
                                Some("STATE__JSONFILE_S3_ENDPOINT"),
                            );
                        }
                        for key in [
                            "STATE__JSONFILE_S3_ACCESS_KEY",
                            "STATE__JSONFILE_S3_SECRET_KEY",
                        ] {
                            ignored(
                                &mut warnings,
                                key,
                                "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, which the S3 client reads",
                            );
                        }
                    }
                    _ => return Err(v.error("STATE__JSONFILE_STRATEGY", "`local` or `s3`")),
                },
                "redis" => {
                    t.set("backend", quoted("redis"), Some("STATE__STORAGE"));
                    let dsn = v.get("STATE__REDIS_DSN");
                    overrides.push(("FLOWLAKE_STATE__URL".into(), dsn.to_string()));
                    moved.push(("FLOWLAKE_STATE__URL".into(), "STATE__REDIS_DSN".into()));
                }
                "custom" => {
                    return Err(v.error(
                        "STATE__STORAGE",
                        "a custom state storage is Python code; use jsonfile or redis",
                    ))
                }
                _ => return Err(v.error("STATE__STORAGE", "`jsonfile`, `redis` or `custom`")),
            }
            ignored(
                &mut warnings,
                "STATE__CUSTOM_STORAGE_PARAMS",
                "only for a custom storage",
            );
            ("STATEFUL_INITIAL_RANGE", v.range("STATEFUL_INITIAL_RANGE")?)
        } else {
            t.set("backend", quoted("store"), Some("STATEFUL"));
            ("TRACKER__SEARCH__RANGE", v.range("TRACKER__SEARCH__RANGE")?)
        };

        // The source.
        t.section("[[sources]]");
        t.set("kind", quoted("yandex_tracker"), None);
        t.set("name", quoted("tracker"), None);
        match (v.given("TRACKER__TOKEN"), v.given("TRACKER__IAM_TOKEN")) {
            (Some(_), Some(_)) => return Err(v.error(
                "TRACKER__IAM_TOKEN",
                "two tokens: set EXPORTER_TRACKER__TOKEN or EXPORTER_TRACKER__IAM_TOKEN, not both",
            )),
            (Some(_), None) => {
                t.set(
                    "token_env",
                    quoted(&original("TRACKER__TOKEN")),
                    Some("TRACKER__TOKEN"),
                );
                t.set("auth_scheme", quoted("OAuth"), Some("TRACKER__TOKEN"));
            }
            (None, Some(_)) => {
                t.set(
                    "token_env",
                    quoted(&original("TRACKER__IAM_TOKEN")),
                    Some("TRACKER__IAM_TOKEN"),
                );
                t.set("auth_scheme", quoted("Bearer"), Some("TRACKER__IAM_TOKEN"));
            }
            (None, None) => {
                return Err(v.error(
                    "TRACKER__TOKEN",
                    "no token: set EXPORTER_TRACKER__TOKEN (OAuth) or EXPORTER_TRACKER__IAM_TOKEN",
                ))
            }
        }
        match (v.given("TRACKER__ORG_ID"), v.given("TRACKER__CLOUD_ORG_ID")) {
            (Some(_), Some(_)) => {
                return Err(v.error(
                    "TRACKER__CLOUD_ORG_ID",
                    "two organizations: set EXPORTER_TRACKER__ORG_ID or EXPORTER_TRACKER__CLOUD_ORG_ID, not both",
                ))
            }
            (Some(org), None) => t.set("org_id", quoted(org), Some("TRACKER__ORG_ID")),
            (None, Some(org)) => t.set("cloud_org_id", quoted(org), Some("TRACKER__CLOUD_ORG_ID")),
            (None, None) => {
                return Err(v.error(
                    "TRACKER__ORG_ID",
                    "no organization: set EXPORTER_TRACKER__ORG_ID (Yandex 360) or EXPORTER_TRACKER__CLOUD_ORG_ID",
                ))
            }
        }
        if v.given("TRACKER__SEARCH__QUEUES").is_some() {
            // A list or comma-separated, upper-cased, as tracker-exporter sends them.
            let queues: Vec<String> = v
                .strings("TRACKER__SEARCH__QUEUES")?
                .iter()
                .map(|q| q.to_uppercase())
                .collect();
            t.set(
                "queues",
                quoted(&queues.join(",")),
                Some("TRACKER__SEARCH__QUEUES"),
            );
        }
        if let Some(query) = v.given("TRACKER__SEARCH__QUERY") {
            // tracker-exporter runs a query alone (no window, no state); flowlake reads everything it
            // matches on the first run and what changed since on the next ones, in its own order.
            if query.to_lowercase().contains("sort by") {
                return Err(v.error(
                    "TRACKER__SEARCH__QUERY",
                    "flowlake adds `\"Sort By\": Updated ASC` itself (its cursor needs that order): remove the query's own `Sort by`",
                ));
            }
            t.set("query", quoted(query), Some("TRACKER__SEARCH__QUERY"));
        } else {
            t.set("initial_range", quoted(&range.1), Some(range.0));
        }
        let per_page: u32 = v.number("TRACKER__SEARCH__PER_PAGE_LIMIT", "a whole number")?;
        t.set(
            "per_page",
            per_page.to_string(),
            Some("TRACKER__SEARCH__PER_PAGE_LIMIT"),
        );
        if v.given("TRACKER__MAX_RETRIES").is_some() {
            let retries: u32 = v.number("TRACKER__MAX_RETRIES", "a whole number")?;
            t.set(
                "max_attempts",
                (retries.saturating_add(1)).to_string(),
                Some("TRACKER__MAX_RETRIES"),
            );
        }
        ignored(
            &mut warnings,
            "TRACKER__TIMEOUT",
            "flowlake's HTTP client has its own timeouts and retries",
        );
        v.one_of("TRACKER__LANGUAGE", &["en", "ru"])?;
        if v.get("TRACKER__LANGUAGE") != "en" {
            // Refused rather than warned about: status_name would change language under the dashboards.
            return Err(v.error(
                "TRACKER__LANGUAGE",
                "not supported yet: flowlake reads status names in English, so the per-status rows would be keyed differently from tracker-exporter's",
            ));
        }

        // Per-status rows, as tracker-exporter computes them.
        t.section("[tracker_exporter]");
        t.set("enabled", "true".into(), None);
        let closed: Vec<String> = v
            .strings("CLOSED_ISSUE_STATUSES")?
            .iter()
            .map(|s| s.to_lowercase())
            .collect();
        t.set(
            "closed_statuses",
            list(&closed),
            Some("CLOSED_ISSUE_STATUSES"),
        );
        t.section("[tracker_exporter.calendar]");
        t.set("time_zone", quoted("UTC"), None);
        let mut days = Vec::new();
        for d in v.strings("WORKDAYS")? {
            let day = d
                .parse::<usize>()
                .ok()
                .and_then(|n| DAYS.get(n))
                .ok_or_else(|| v.error("WORKDAYS", "days are numbers 0 (Monday) to 6 (Sunday)"))?;
            days.push(day.to_string());
        }
        t.set("work_days", list(&days), Some("WORKDAYS"));
        t.set(
            "day_start",
            quoted(&v.time("BUSINESS_HOURS_START")?),
            Some("BUSINESS_HOURS_START"),
        );
        t.set(
            "day_end",
            quoted(&v.time("BUSINESS_HOURS_END")?),
            Some("BUSINESS_HOURS_END"),
        );
        t.set("holiday_preset", quoted("ru"), None);
        v.bool("CHANGELOG_EXPORT_ENABLED")?;
        ignored(
            &mut warnings,
            "NOT_NULLABLE_FIELDS",
            "flowlake writes unknown times as NULL",
        );
        for format in [
            "DATETIME_RESPONSE_FORMAT",
            "DATETIME_QUERY_FORMAT",
            "DATETIME_CLICKHOUSE_FORMAT",
        ] {
            ignored(
                &mut warnings,
                format,
                "flowlake reads and writes the formats the APIs use",
            );
        }
        for name in ["LOGLEVEL", "TRACKER__LOGLEVEL"] {
            v.one_of(name, &["debug", "info", "warning", "error", "critical"])?;
            ignored(&mut warnings, name, "use -v, -vv or -q");
        }
        for name in ["LOG_ETL_STATS", "LOG_ETL_STATS_EACH_N_ITER"] {
            ignored(
                &mut warnings,
                name,
                "flowlake logs each committed page (-vv) and shows a progress bar",
            );
        }

        // The loop and its telemetry.
        t.section("[service]");
        if v.bool("MONITORING__METRICS_ENABLED")? {
            t.set(
                "statsd_host",
                quoted(v.get("MONITORING__METRICS_HOST")),
                Some("MONITORING__METRICS_HOST"),
            );
            let port: u16 = v.number("MONITORING__METRICS_PORT", "a port")?;
            t.set(
                "statsd_port",
                port.to_string(),
                Some("MONITORING__METRICS_PORT"),
            );
            t.set(
                "statsd_prefix",
                quoted(v.get("MONITORING__METRICS_BASE_PREFIX")),
                Some("MONITORING__METRICS_BASE_PREFIX"),
            );
            t.set(
                "statsd_tags",
                list(&v.strings("MONITORING__METRICS_BASE_LABELS")?),
                Some("MONITORING__METRICS_BASE_LABELS"),
            );
        }
        if v.bool("MONITORING__SENTRY_ENABLED")? {
            let dsn = v.given("MONITORING__SENTRY_DSN").ok_or_else(|| {
                v.error("MONITORING__SENTRY_DSN", "needed when Sentry is enabled")
            })?;
            overrides.push(("FLOWLAKE_SERVICE__SENTRY_DSN".into(), dsn.to_string()));
            moved.push((
                "FLOWLAKE_SERVICE__SENTRY_DSN".into(),
                "MONITORING__SENTRY_DSN".into(),
            ));
        }
        let minutes: u64 = v.number("ETL_INTERVAL_MINUTES", "a whole number of minutes")?;
        if minutes == 0 {
            return Err(v.error("ETL_INTERVAL_MINUTES", "at least 1"));
        }
        t.raw("\n[[jobs]]");
        t.set("name", quoted(JOB), None);
        t.set(
            "schedule",
            quoted(&format!("@every {minutes}m")),
            Some("ETL_INTERVAL_MINUTES"),
        );
        t.set("on_start", "true".into(), None);
        Ok(Self {
            text: t.out,
            overrides,
            moved,
            origins: t.origins,
            warnings,
        })
    }

    /// The text as a `flowlake.toml` to start from: the translation, and at its head which secrets must be
    /// set in the environment under flowlake's names (they are not in the text).
    pub fn as_file(&self) -> String {
        let mut out = String::new();
        for (ours, theirs) in &self.moved {
            out.push_str(&format!(
                "# Set {ours} in the environment (the value of EXPORTER_{theirs}).\n"
            ));
        }
        out.push_str(&self.text);
        out
    }

    /// The flowlake config, checked as a `flowlake.toml` is; `env` are further `FLOWLAKE_…` overrides (the
    /// process environment). An error in a translated line names the variable it came from.
    pub fn config(&self, env: &[(String, String)]) -> Result<Config, ConfigError> {
        let path = Path::new("EXPORTER_* environment");
        let mut all: Vec<(String, String)> = self.overrides.clone();
        all.extend(env.iter().cloned());
        Config::parse(path, &self.text, &all).map_err(|e| match e {
            ConfigError::Invalid { line, message, .. } => match self.origins.get(&line) {
                Some(variable) => ConfigError::Env {
                    variable: format!("EXPORTER_{variable}"),
                    message,
                },
                None => ConfigError::Env {
                    variable: "EXPORTER_*".into(),
                    message,
                },
            },
            other => other,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (format!("EXPORTER_{k}"), v.to_string()))
            .collect()
    }

    const MINIMAL: &[(&str, &str)] = &[("TRACKER__TOKEN", "y0_secret"), ("TRACKER__ORG_ID", "123")];

    fn translate(extra: &[(&str, &str)]) -> Result<ExporterEnv, ExporterEnvError> {
        let mut all = MINIMAL.to_vec();
        all.extend_from_slice(extra);
        ExporterEnv::translate(&vars(&all), Path::new("/srv"))
    }

    #[test]
    fn values_are_read_with_pydantics_syntax() {
        let cases: &[(&str, Option<bool>)] = &[
            ("true", Some(true)),
            ("True", Some(true)),
            ("1", Some(true)),
            ("yes", Some(true)),
            ("on", Some(true)),
            ("Y", Some(true)),
            ("false", Some(false)),
            ("0", Some(false)),
            ("Off", Some(false)),
            ("n", Some(false)),
            ("maybe", None),
            ("", None),
        ];
        for (text, want) in cases {
            assert_eq!(parse_bool(text), *want, "{text}");
        }
        let lists: &[(&str, Option<Vec<&str>>)] = &[
            ("[0,1,2,3,4]", Some(vec!["0", "1", "2", "3", "4"])),
            ("[\"project:internal\",]", Some(vec!["project:internal"])),
            (
                "closed, rejected,,resolved",
                Some(vec!["closed", "rejected", "resolved"]),
            ),
            ("[]", Some(vec![])),
            ("[1, {\"a\": 2}]", None),
            ("[1, 2", None),
        ];
        for (text, want) in lists {
            let want = want
                .as_ref()
                .map(|w| w.iter().map(|s| s.to_string()).collect::<Vec<_>>());
            assert_eq!(parse_list(text), want, "{text}");
        }
    }

    #[test]
    fn the_seeds_cloud_example_translates_to_a_valid_config() {
        // tracker-exporter's README: Managed ClickHouse over HTTPS, a 2h window, no changelog export.
        let env = translate(&[
            // Empty counts as unset (a later value of a name wins here).
            ("TRACKER__ORG_ID", ""),
            ("TRACKER__CLOUD_ORG_ID", "123456"),
            ("TRACKER__SEARCH__RANGE", "2h"),
            ("CLICKHOUSE__ENABLE_UPLOAD", "true"),
            ("CLICKHOUSE__PROTO", "https"),
            (
                "CLICKHOUSE__CACERT_PATH",
                "/etc/ssl/certs/ca-certificates.crt",
            ),
            ("CLICKHOUSE__PORT", "8443"),
            ("CLICKHOUSE__HOST", "rc1b-xxxxxx.mdb.yandexcloud.net"),
            ("CLICKHOUSE__USERNAME", "agile"),
            ("CLICKHOUSE__PASSWORD", "ch-secret"),
            ("CHANGELOG_EXPORT_ENABLED", "false"),
        ])
        .unwrap();
        assert!(!env.text.contains("y0_secret") && !env.text.contains("ch-secret"));
        let config = env.config(&[]).unwrap();
        assert_eq!(
            config.store.url.as_deref(),
            Some("https://rc1b-xxxxxx.mdb.yandexcloud.net:8443")
        );
        assert_eq!(config.store.database, "agile");
        assert_eq!(config.store.user, "agile");
        assert_eq!(config.store.password.as_deref(), Some("ch-secret"));
        assert!(config.store.optimize_after_sync);
        assert_eq!(config.store.retry_tries, 3);
        assert_eq!(config.store.retry_base_delay_ms, 500);
        assert_eq!(config.jobs[0].schedule, "@every 30m");
        assert_eq!(config.tracker_exporter.closed_statuses.len(), 5);
        assert!(env.warnings.is_empty(), "{:?}", env.warnings);
        let debug = format!("{env:?}");
        assert!(!debug.contains("ch-secret"), "{debug}");
    }

    #[test]
    fn stateful_modes_map_to_state_backends_and_leave_tracker_exporters_file_alone() {
        let env = translate(&[
            ("STATEFUL", "true"),
            ("STATE__JSONFILE_PATH", "data/state.json"),
        ])
        .unwrap();
        let config = env.config(&[]).unwrap();
        assert_eq!(
            config.state.path,
            Path::new("/srv/data/flowlake-state.json")
        );
        assert!(env
            .text
            .contains("initial_range = \"1w\"  # EXPORTER_STATEFUL_INITIAL_RANGE"));
        let env = translate(&[
            ("STATEFUL", "1"),
            ("STATE__STORAGE", "redis"),
            ("STATE__REDIS_DSN", "redis://:pw@localhost:6379"),
        ])
        .unwrap();
        assert!(!env.text.contains("pw@"));
        let config = env.config(&[]).unwrap();
        assert_eq!(
            config.state.url.as_deref(),
            Some("redis://:pw@localhost:6379")
        );
        let env = translate(&[
            ("STATEFUL", "true"),
            ("STATE__JSONFILE_STRATEGY", "s3"),
            ("STATE__JSONFILE_S3_BUCKET", "tracker-exporter-state"),
            (
                "STATE__JSONFILE_S3_ENDPOINT",
                "https://storage.yandexcloud.net",
            ),
            ("STATE__JSONFILE_S3_ACCESS_KEY", "YCAxxxxxxxx"),
        ])
        .unwrap();
        let config = env.config(&[]).unwrap();
        assert_eq!(
            config.state.url.as_deref(),
            Some("s3://tracker-exporter-state/flowlake-state.json")
        );
        assert!(
            env.warnings
                .iter()
                .any(|w| w.starts_with("EXPORTER_STATE__JSONFILE_S3_ACCESS_KEY is not supported")),
            "{:?}",
            env.warnings
        );
    }

    #[test]
    fn work_days_hours_and_telemetry_follow_the_variables() {
        let env = translate(&[
            ("WORKDAYS", "[0,1,2,3,4,5]"),
            ("BUSINESS_HOURS_START", "10:00:00"),
            ("BUSINESS_HOURS_END", "19:30:00"),
            ("CLOSED_ISSUE_STATUSES", "Closed,Done"),
            ("ETL_INTERVAL_MINUTES", "10"),
            ("MONITORING__METRICS_ENABLED", "true"),
            ("MONITORING__METRICS_BASE_LABELS", "[\"project:internal\",]"),
            ("MONITORING__SENTRY_ENABLED", "true"),
            ("MONITORING__SENTRY_DSN", "https://k@o1.ingest.sentry.io/2"),
        ])
        .unwrap();
        let config = env.config(&[]).unwrap();
        assert_eq!(config.tracker_exporter.closed_statuses, ["closed", "done"]);
        assert!(env
            .text
            .contains("work_days = [\"mon\", \"tue\", \"wed\", \"thu\", \"fri\", \"sat\"]"));
        assert!(env.text.contains("day_end = \"19:30\""));
        assert_eq!(config.service.statsd_host.as_deref(), Some("localhost"));
        assert_eq!(config.service.statsd_prefix, "tracker_exporter");
        assert_eq!(config.service.statsd_tags, ["project:internal"]);
        assert_eq!(
            config.service.sentry_dsn.as_deref(),
            Some("https://k@o1.ingest.sentry.io/2")
        );
        assert_eq!(config.jobs[0].schedule, "@every 10m");
    }

    #[test]
    fn bad_values_name_the_variable_and_hide_secrets() {
        let cases: &[(&[(&str, &str)], &str)] = &[
            (
                &[("STATEFUL", "maybe")],
                "EXPORTER_STATEFUL=maybe: not a boolean",
            ),
            (
                &[("WORKDAYS", "[0,7]")],
                "EXPORTER_WORKDAYS=[0,7]: days are numbers 0",
            ),
            (
                &[("TRACKER__SEARCH__RANGE", "2 hours")],
                "EXPORTER_TRACKER__SEARCH__RANGE=2 hours: not a range",
            ),
            (
                &[("BUSINESS_HOURS_START", "9am")],
                "EXPORTER_BUSINESS_HOURS_START=9am: not a time of day",
            ),
            (
                &[("CLICKHOUSE__PORT", "http")],
                "EXPORTER_CLICKHOUSE__PORT=http: not a port",
            ),
            (
                &[("ETL_INTERVAL_MINUTES", "0")],
                "EXPORTER_ETL_INTERVAL_MINUTES=0: at least 1",
            ),
            (
                &[("TRACKER__IAM_TOKEN", "t1.secret")],
                "EXPORTER_TRACKER__IAM_TOKEN: two tokens",
            ),
            (
                &[("TRACKER__LANGUAGE", "de")],
                "EXPORTER_TRACKER__LANGUAGE=de: one of en, ru",
            ),
            (
                &[("TRACKER__LANGUAGE", "ru")],
                "EXPORTER_TRACKER__LANGUAGE=ru: not supported yet",
            ),
            (
                &[("TRACKER__SEARCH__QUERY", "Queue: DEV \"Sort by\": Created DESC")],
                "EXPORTER_TRACKER__SEARCH__QUERY=Queue: DEV \"Sort by\": Created DESC: flowlake adds",
            ),
            (
                &[("STATEFUL", "true"), ("STATEFUL_INITIAL_RANGE", "1x")],
                "EXPORTER_STATEFUL_INITIAL_RANGE=1x: not a range",
            ),
            (
                &[("TRACKER__ORG_ID", "")],
                "EXPORTER_TRACKER__ORG_ID: no organization",
            ),
        ];
        for (extra, want) in cases {
            let err = translate(extra).unwrap_err().to_string();
            assert!(err.starts_with(want), "{err}");
        }
        let err = ExporterEnv::translate(&vars(&[("TRACKER__ORG_ID", "1")]), Path::new("."))
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("EXPORTER_TRACKER__TOKEN: no token"),
            "{err}"
        );
        // A value flowlake's own checks refuse is named by the variable that set it.
        let err = translate(&[("TRACKER__SEARCH__PER_PAGE_LIMIT", "5000")])
            .unwrap()
            .config(&[])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("EXPORTER_TRACKER__SEARCH__PER_PAGE_LIMIT"),
            "{err}"
        );
    }

    #[test]
    fn ranges_follow_tracker_exporters_grammar() {
        let cases = [
            ("2h", Some("2h")),
            ("1w", Some("1w")),
            ("7d", Some("1w")),
            ("1y", Some("365d")),
            ("1mo", Some("30d")),
            ("1w 3d", Some("10d")),
            ("90s", Some("2m")),
            ("30m", Some("30m")),
            ("2 hours", None),
            ("0h", None),
            ("", None),
            ("1h1h", None),
        ];
        for (text, want) in cases {
            assert_eq!(
                human_seconds(text).map(flowlake_range).as_deref(),
                want,
                "{text}"
            );
        }
    }

    #[test]
    fn secrets_reach_the_config_exactly_whatever_they_look_like() {
        for password in ["123456", "true", "\"quoted\"", "1979-05-27", "a'b\\c"] {
            let env = translate(&[("CLICKHOUSE__PASSWORD", password)]).unwrap();
            let config = env.config(&[]).unwrap();
            assert_eq!(config.store.password.as_deref(), Some(password));
        }
    }

    #[test]
    fn a_query_runs_alone_without_the_window() {
        let env = translate(&[(
            "TRACKER__SEARCH__QUERY",
            "Queue: DEV AND Created: >= \"2020-01-01\"",
        )])
        .unwrap();
        let config = env.config(&[]).unwrap();
        assert!(!env.text.contains("initial_range"), "{}", env.text);
        assert!(format!("{:?}", config.sources[0]).contains("Created"));
    }

    #[test]
    fn names_are_read_in_any_case() {
        let lower: BTreeMap<String, String> = [
            ("exporter_tracker__token", "y0_x"),
            ("Exporter_Tracker__Org_Id", "42"),
            ("exporter_tracker__search__queues", "dev,!trash"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let env = ExporterEnv::translate(&lower, Path::new(".")).unwrap();
        assert!(env.text.contains("org_id = \"42\""), "{}", env.text);
        // The token is read from the variable as it is spelt.
        assert!(
            env.text.contains("token_env = \"exporter_tracker__token\""),
            "{}",
            env.text
        );
        assert!(env.text.contains("queues = \"DEV,!TRASH\""), "{}", env.text);
    }

    #[test]
    fn unsupported_and_unknown_variables_are_warned_about() {
        let env = translate(&[
            ("CLICKHOUSE__ISSUES_TABLE", "tasks"),
            ("CLICKHOUSE__ISSUE_METRICS_TABLE", "issue_metrics"),
            ("NO_SUCH_THING", "1"),
        ])
        .unwrap();
        let w = env.warnings.join("\n");
        assert!(
            w.contains("EXPORTER_CLICKHOUSE__ISSUES_TABLE is not supported"),
            "{w}"
        );
        // Set to its default: nothing to warn about.
        assert!(!w.contains("ISSUE_METRICS_TABLE"), "{w}");
        assert!(
            w.contains("EXPORTER_NO_SUCH_THING is not a variable tracker-exporter 2.0.0 reads"),
            "{w}"
        );
    }
}
