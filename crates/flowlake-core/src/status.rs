//! Status categories and the mapping from a tracker's status names to them.

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::metrics::intervals::UNKNOWN_INITIAL_STATUS;

/// Where a status sits in the flow. Every metric reasons in categories, so trackers with different status
/// names still compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StatusCategory {
    /// Not started: backlog, open, to do.
    Todo,
    /// Started and not finished, waiting states included.
    InProgress,
    /// Finished: done, closed, cancelled, released.
    Done,
}

impl StatusCategory {
    /// The name used in config and in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Todo => "todo",
            Self::InProgress => "in_progress",
            Self::Done => "done",
        }
    }
}

impl fmt::Display for StatusCategory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error for a category name that is none of `todo`, `in_progress`, `done`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown status category `{0}` (expected todo, in_progress or done)")]
pub struct UnknownCategory(pub String);

impl FromStr for StatusCategory {
    type Err = UnknownCategory;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s
            .trim()
            .to_ascii_lowercase()
            .replace([' ', '-'], "_")
            .as_str()
        {
            "todo" | "to_do" | "new" => Ok(Self::Todo),
            "in_progress" | "indeterminate" => Ok(Self::InProgress),
            "done" => Ok(Self::Done),
            _ => Err(UnknownCategory(s.to_string())),
        }
    }
}

/// Where the category of a status came from, so guesses can be told apart from mappings (see
/// [`StatusMap::resolve`]): a guessed category is the one a user should confirm in the config.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CategoryOrigin {
    /// `[metrics.status_categories]` or the item's project's table.
    Config,
    /// The category the source gave the item's current status.
    Reported,
    /// The source's own list of statuses: Jira's status categories, Yandex Tracker's status types, the fixed
    /// vocabulary of the GitHub, GitLab and generator sources, and flowlake's own `(created)`.
    Metadata,
    /// Guessed from the name by [`guess_category`].
    Guess,
}

impl CategoryOrigin {
    /// The name used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Config => "config",
            Self::Reported => "reported",
            Self::Metadata => "metadata",
            Self::Guess => "guess",
        }
    }
}

/// Maps status names to categories and says which statuses count as active work.
///
/// Lookups are case-insensitive. Names without an explicit entry fall back to the category the source
/// reported (Jira and Yandex Tracker have their own), and then to a guess from common names.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StatusMap {
    explicit: HashMap<String, StatusCategory>,
    /// Categories the source's own metadata gives (Jira's status categories), below `explicit`.
    known: HashMap<String, StatusCategory>,
    active: Option<BTreeSet<String>>,
}

impl StatusMap {
    /// A map with explicit entries (`status name → category`) and an optional active set; `None` means every
    /// `in_progress` status is active.
    pub fn new<I, S>(explicit: I, active: Option<Vec<String>>) -> Self
    where
        I: IntoIterator<Item = (S, StatusCategory)>,
        S: AsRef<str>,
    {
        Self {
            explicit: explicit
                .into_iter()
                .map(|(k, v)| (k.as_ref().to_lowercase(), v))
                .collect(),
            known: HashMap::new(),
            active: active.map(|a| a.into_iter().map(|s| s.to_lowercase()).collect()),
        }
    }

    /// The same map with categories from the source's metadata (every status of a Jira instance), used for
    /// names the config does not map, so past statuses get their tracker's category rather than a guess.
    pub fn with_known<I, S>(&self, known: I) -> Self
    where
        I: IntoIterator<Item = (S, StatusCategory)>,
        S: AsRef<str>,
    {
        let mut map = self.clone();
        map.known.extend(
            known
                .into_iter()
                .map(|(k, v)| (k.as_ref().to_lowercase(), v)),
        );
        map
    }

    /// The category of `status`: the explicit mapping, else `reported` (the source's own for this item), else
    /// the source's metadata ([`StatusMap::with_known`]), else a guess.
    pub fn category(&self, status: &str, reported: Option<StatusCategory>) -> StatusCategory {
        self.resolve(status, reported).0
    }

    /// The category of `status` as [`StatusMap::category`] gives it, and where it came from. `(created)`, the
    /// name of a first stay whose status the tracker did not say, is `todo` unless mapped: the item was not
    /// started before its first recorded move, so cycle time must not start at creation.
    pub fn resolve(
        &self,
        status: &str,
        reported: Option<StatusCategory>,
    ) -> (StatusCategory, CategoryOrigin) {
        let name = status.to_lowercase();
        if let Some(c) = self.explicit.get(&name) {
            return (*c, CategoryOrigin::Config);
        }
        if let Some(c) = reported {
            return (c, CategoryOrigin::Reported);
        }
        if let Some(c) = self.known.get(&name) {
            return (*c, CategoryOrigin::Metadata);
        }
        if status == UNKNOWN_INITIAL_STATUS {
            return (StatusCategory::Todo, CategoryOrigin::Metadata);
        }
        (guess_category(status), CategoryOrigin::Guess)
    }

    /// The statuses among an item's stays (`(status, category)` as [`crate::metrics::status_intervals`] made
    /// them) whose category was guessed, each once in order of first stay, with the category used. The
    /// current status is never among them: its category is the item's, which the source reported. Pure, so
    /// the engine can record guesses next to the metrics without changing them.
    pub fn guessed<'a>(
        &self,
        current: &str,
        stays: impl IntoIterator<Item = (&'a str, StatusCategory)>,
    ) -> Vec<(String, StatusCategory)> {
        let mut seen: Vec<&str> = Vec::new();
        let mut out = Vec::new();
        for (status, category) in stays {
            if seen.contains(&status) {
                continue;
            }
            seen.push(status);
            // The same test status_intervals uses to hand a stay the item's reported category.
            if status.eq_ignore_ascii_case(current) {
                continue;
            }
            if self.resolve(status, None).1 == CategoryOrigin::Guess {
                out.push((status.to_string(), category));
            }
        }
        out
    }

    /// Whether time in `status` counts as active work for flow efficiency.
    pub fn is_active(&self, status: &str, category: StatusCategory) -> bool {
        match &self.active {
            Some(set) => set.contains(&status.to_lowercase()),
            None => category == StatusCategory::InProgress,
        }
    }
}

/// A status of one source whose category was guessed on some stored items: what `flowlake metrics` lists
/// and `sync` warns about, with the config line that settles it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GuessedStatus {
    /// The source.
    pub source: String,
    /// The status name, as the tracker wrote it.
    pub status: String,
    /// The category it was given.
    pub category: StatusCategory,
    /// Items with a guessed stay in it.
    pub items: u64,
    /// The line to add to the config to keep (or change) the category.
    pub config_line: String,
}

impl GuessedStatus {
    /// A guessed status with its config line.
    pub fn new(source: &str, status: &str, category: StatusCategory, items: u64) -> Self {
        Self {
            source: source.to_string(),
            status: status.to_string(),
            category,
            items,
            config_line: config_line(status, category),
        }
    }

    /// The warning `sync` and `rebuild` give once per guessed status.
    pub fn warning(&self) -> String {
        format!(
            "status {} has no category; guessed {} — add to flowlake.toml: {}",
            toml_string(&self.status),
            self.category,
            self.config_line
        )
    }
}

/// The config line mapping `status` to `category`: `[metrics.status_categories] "Ready for Dev" = "todo"` (the
/// table, then its entry, [`toml_entry`]).
pub fn config_line(status: &str, category: StatusCategory) -> String {
    format!(
        "[metrics.status_categories] {}",
        toml_entry(status, category)
    )
}

/// The entry of `[metrics.status_categories]` mapping `status` to `category`: `"Ready for Dev" = "todo"`.
pub fn toml_entry(status: &str, category: StatusCategory) -> String {
    format!("{} = \"{category}\"", toml_string(status))
}

/// `s` as a TOML basic string (quoted, with `"`, `\` and control characters escaped), so any status name
/// can be pasted as a key.
fn toml_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Names of statuses before work starts (`todo`), lower case, `-` and `_` read as spaces, `ё` as `е`.
/// docs/metrics.md gives the reasons; the rule for `ready for …` is [`waits_for_work_to_start`].
const TODO: &[&str] = &[
    "backlog",
    "inbox",
    "new",
    "open",
    "opened",
    "to do",
    "todo",
    "triage",
    "icebox",
    "planned",
    "proposed",
    "not started",
    "reopened",
    "открыт",
    "открыта",
    "открыто",
    "новый",
    "новая",
    "новое",
    "бэклог",
    "беклог",
    "входящие",
    "к выполнению",
    "нужно сделать",
    "не начато",
    "запланировано",
    "запланирована",
    "переоткрыт",
    "переоткрыта",
    "выбрано для разработки",
];

/// Names of finished statuses (`done`), normalized as [`TODO`].
const DONE: &[&str] = &[
    "done",
    "closed",
    "resolved",
    "cancelled",
    "canceled",
    "rejected",
    "released",
    "won't do",
    "won't fix",
    "wontfix",
    "merged",
    "complete",
    "completed",
    "fixed",
    "закрыт",
    "закрыта",
    "закрыто",
    "решен",
    "решена",
    "решено",
    "отменен",
    "отменена",
    "отменено",
    "выполнено",
    "выполнена",
    "готово",
    "сделано",
];

/// What follows `ready for` / `selected for` / `ready to` in a status that waits for work to start.
const START_OF_WORK: &[&str] = &[
    "dev",
    "develop",
    "development",
    "work",
    "implementation",
    "start",
    "sprint",
    "planning",
    "refinement",
    "grooming",
    "estimation",
];

/// What follows `готово к` / `готов к` / `готова к` in a Russian status that waits for work to start.
const START_OF_WORK_RU: &[&str] = &["разработке", "работе", "реализации", "выполнению"];

/// `status` lower-cased and trimmed, `-` and `_` as spaces, runs of spaces as one, `’` as `'` and `ё` as `е`,
/// so `To-Do`, `to_do` and ` TO  DO ` read alike.
fn normalize_name(status: &str) -> String {
    let mapped: String = status
        .to_lowercase()
        .chars()
        .map(|c| match c {
            '-' | '_' => ' ',
            '\u{2019}' => '\'',
            'ё' => 'е',
            c => c,
        })
        .collect();
    mapped.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Whether a normalized name says work has yet to start: `ready for dev`, `selected for development`, `ready
/// to start`, `готово к разработке`. Only these exact next words count: `ready for review`, `ready for qa`,
/// `ready for release` and `ready for deploy` wait *after* work, so they stay `in_progress`; a plain
/// `ready for …` prefix rule would stop their items' cycle clock.
fn waits_for_work_to_start(name: &str) -> bool {
    let upstream = |prefixes: &[&str], words: &[&str]| {
        prefixes.iter().any(|p| {
            name.strip_prefix(p)
                .is_some_and(|rest| words.contains(&rest))
        })
    };
    upstream(&["ready for ", "selected for ", "ready to "], START_OF_WORK)
        || upstream(&["готово к ", "готов к ", "готова к "], START_OF_WORK_RU)
}

/// Guesses a category from common status names in English and Russian (the table in docs/metrics.md):
/// statuses before work starts are `todo`, finished ones `done`, and any other name `in_progress`, since a
/// status nobody mapped is most often a working or waiting state (`In Review`, `Waiting for QA`, `Blocked`).
pub fn guess_category(status: &str) -> StatusCategory {
    let s = normalize_name(status);
    if TODO.contains(&s.as_str()) || waits_for_work_to_start(&s) {
        StatusCategory::Todo
    } else if DONE.contains(&s.as_str()) {
        StatusCategory::Done
    } else {
        StatusCategory::InProgress
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explicit_beats_reported_beats_known_beats_guess() {
        let map = StatusMap::new([("Review", StatusCategory::Todo)], None).with_known([
            ("Review", StatusCategory::InProgress),
            ("Готово к релизу", StatusCategory::Done),
            ("Open", StatusCategory::InProgress),
        ]);
        assert_eq!(map.category("review", None), StatusCategory::Todo);
        assert_eq!(
            map.category("Open", Some(StatusCategory::Todo)),
            StatusCategory::Todo
        );
        assert_eq!(map.category("open", None), StatusCategory::InProgress);
        assert_eq!(map.category("готово к релизу", None), StatusCategory::Done);
        assert_eq!(map.category("Backlog", None), StatusCategory::Todo);
    }

    #[test]
    fn category_names_parse_and_unknown_ones_are_rejected_with_the_value() {
        assert_eq!("todo".parse::<StatusCategory>(), Ok(StatusCategory::Todo));
        assert_eq!(
            "In Progress".parse::<StatusCategory>(),
            Ok(StatusCategory::InProgress)
        );
        assert_eq!("done".parse::<StatusCategory>(), Ok(StatusCategory::Done));
        let err = "finished".parse::<StatusCategory>().unwrap_err();
        assert!(err.to_string().contains("`finished`"));
    }

    #[test]
    fn explicit_mapping_beats_reported_category_which_beats_the_guess() {
        let map = StatusMap::new([("Review", StatusCategory::InProgress)], None);
        assert_eq!(
            map.category("review", Some(StatusCategory::Done)),
            StatusCategory::InProgress
        );
        assert_eq!(
            map.category("Closed", Some(StatusCategory::Todo)),
            StatusCategory::Todo
        );
        assert_eq!(map.category("Closed", None), StatusCategory::Done);
        assert_eq!(map.category("Backlog", None), StatusCategory::Todo);
        assert_eq!(
            map.category("Waiting for QA", None),
            StatusCategory::InProgress
        );
    }

    #[test]
    fn active_set_defaults_to_in_progress_category() {
        let default = StatusMap::default();
        assert!(default.is_active("Review", StatusCategory::InProgress));
        assert!(!default.is_active("Open", StatusCategory::Todo));
        let custom = StatusMap::new(
            Vec::<(String, StatusCategory)>::new(),
            Some(vec!["In Progress".into()]),
        );
        assert!(custom.is_active("in progress", StatusCategory::InProgress));
        assert!(!custom.is_active("Review", StatusCategory::InProgress));
    }

    /// The guess table of docs/metrics.md, row by row: names before work starts are `todo` (case, spaces,
    /// `-`/`_` and `ё` aside), names after work — waiting ones included — stay `in_progress`.
    #[test]
    fn the_guess_table_puts_waiting_for_work_in_todo_and_waiting_after_work_in_progress() {
        use StatusCategory::{Done, InProgress, Todo};
        let table = [
            ("Inbox", Todo),
            ("Ready for Dev", Todo),
            ("ready for development", Todo),
            ("Selected for Development", Todo),
            ("Ready to Start", Todo),
            ("Ready for Sprint", Todo),
            ("  BACKLOG ", Todo),
            ("New", Todo),
            ("Open", Todo),
            ("To Do", Todo),
            ("To-Do", Todo),
            ("TODO", Todo),
            ("Triage", Todo),
            ("Icebox", Todo),
            ("Planned", Todo),
            ("Reopened", Todo),
            ("Открыт", Todo),
            ("Новая", Todo),
            ("К выполнению", Todo),
            ("Выбрано для разработки", Todo),
            ("Готово к разработке", Todo),
            ("Ready for Review", InProgress),
            ("Ready for QA", InProgress),
            ("Ready for Release", InProgress),
            ("Ready for Deploy", InProgress),
            ("Ready for dev review", InProgress),
            ("Waiting for QA", InProgress),
            ("Waiting for Customer", InProgress),
            ("In Progress", InProgress),
            ("In Review", InProgress),
            ("Blocked / On Hold", InProgress),
            ("Draft", InProgress),
            ("Готово к релизу", InProgress),
            ("Готово к тестированию", InProgress),
            ("В работе", InProgress),
            ("Done", Done),
            ("Closed", Done),
            ("Won't Do", Done),
            ("Won’t Fix", Done),
            ("Cancelled", Done),
            ("Merged", Done),
            ("Закрыт", Done),
            ("Закрыта", Done),
            ("Решён", Done),
            ("Отменено", Done),
            ("Готово", Done),
        ];
        for (name, expected) in table {
            assert_eq!(guess_category(name), expected, "{name}");
        }
    }

    #[test]
    fn resolve_says_whether_the_category_was_mapped_reported_known_or_guessed() {
        let map = StatusMap::new([("Inbox", StatusCategory::Todo)], None)
            .with_known([("Review", StatusCategory::InProgress)]);
        assert_eq!(
            map.resolve("inbox", Some(StatusCategory::Done)),
            (StatusCategory::Todo, CategoryOrigin::Config)
        );
        assert_eq!(
            map.resolve("Ready for Dev", Some(StatusCategory::InProgress)),
            (StatusCategory::InProgress, CategoryOrigin::Reported)
        );
        assert_eq!(
            map.resolve("REVIEW", None),
            (StatusCategory::InProgress, CategoryOrigin::Metadata)
        );
        assert_eq!(
            map.resolve("Ready for Dev", None),
            (StatusCategory::Todo, CategoryOrigin::Guess)
        );
        assert_eq!(
            map.resolve(UNKNOWN_INITIAL_STATUS, None),
            (StatusCategory::Todo, CategoryOrigin::Metadata)
        );
        let mapped = StatusMap::new([("(created)", StatusCategory::InProgress)], None);
        assert_eq!(
            mapped.category(UNKNOWN_INITIAL_STATUS, None),
            StatusCategory::InProgress
        );
    }

    #[test]
    fn guessed_lists_each_guessed_stay_status_once_but_never_the_current_one() {
        let map = StatusMap::new([("Testing", StatusCategory::InProgress)], None)
            .with_known([("In Progress", StatusCategory::InProgress)]);
        let stays = [
            ("(created)", StatusCategory::Todo),
            ("Inbox", StatusCategory::Todo),
            ("In Progress", StatusCategory::InProgress),
            ("Testing", StatusCategory::InProgress),
            ("Inbox", StatusCategory::Todo),
            ("Ready for QA", StatusCategory::InProgress),
            ("Landed", StatusCategory::Done),
        ];
        assert_eq!(
            map.guessed("landed", stays),
            [
                ("Inbox".to_string(), StatusCategory::Todo),
                ("Ready for QA".to_string(), StatusCategory::InProgress),
            ]
        );
        assert!(map
            .guessed("Open", [("Open", StatusCategory::Todo)])
            .is_empty());
    }

    /// Jira's metadata (`/rest/api/2/status`, as Apache DevLake recorded it from Jira Cloud in
    /// backend/plugins/jira/e2e/raw_tables/_raw_jira_api_status.csv) gives `In Progress` and `Done` their
    /// categories; a first status missing from it, like `Inbox` on real Jira Cloud data (issue 15), was
    /// guessed `in_progress`, so the cycle started at creation.
    #[test]
    fn an_unmapped_inbox_status_starts_the_cycle_at_in_progress_not_at_creation() {
        use crate::metrics::{item_metrics, status_intervals};
        use crate::model::{StandardType, StatusChange, WorkItem};
        use chrono::{TimeZone, Utc};
        let at = |h: u32| Utc.with_ymd_and_hms(2024, 3, 4, h, 0, 0).unwrap();
        let map = StatusMap::default().with_known([
            ("In Progress", StatusCategory::InProgress),
            ("Done", StatusCategory::Done),
        ]);
        let item = WorkItem {
            id: "jira:1".into(),
            source: "jira".into(),
            project: "P".into(),
            key: "P-1".into(),
            title: "t".into(),
            item_type: "Task".into(),
            standard_type: StandardType::Task,
            status: "Done".into(),
            status_category: StatusCategory::Done,
            priority: None,
            author: None,
            assignee: None,
            labels: vec![],
            components: vec![],
            parent: None,
            created_at: at(9),
            updated_at: at(15),
            resolved_at: Some(at(15)),
            url: None,
            custom_fields: serde_json::Value::Null,
        };
        let change = |n: &str, h, from: &str, to: &str| StatusChange {
            item_id: "jira:1".into(),
            change_id: n.into(),
            at: at(h),
            author: None,
            from_status: Some(from.into()),
            to_status: to.into(),
        };
        let changes = [
            change("1", 12, "Inbox", "In Progress"),
            change("2", 15, "In Progress", "Done"),
        ];
        let calendar = crate::calendar::BusinessCalendar::default();
        let intervals = status_intervals(&item, &changes, &map, &calendar, at(18));
        let m = item_metrics(&item, &[], &intervals, &map, &calendar, at(18));
        assert_eq!(m.started_at, Some(at(12)));
        assert_eq!(m.cycle_seconds, Some(3 * 3600));
        assert_eq!(m.lead_seconds, Some(6 * 3600));
        assert_eq!(
            map.guessed(
                &item.status,
                intervals.iter().map(|i| (i.status.as_str(), i.category))
            ),
            [("Inbox".to_string(), StatusCategory::Todo)]
        );
    }

    /// A first change that does not say which status it left (its `from` is null) makes a first stay named
    /// `(created)`, which was guessed `in_progress` and so started the cycle at creation.
    #[test]
    fn a_first_stay_the_tracker_did_not_name_does_not_start_the_cycle() {
        use crate::metrics::{item_metrics, status_intervals};
        use crate::model::{StandardType, StatusChange, WorkItem};
        use chrono::{TimeZone, Utc};
        let at = |h: u32| Utc.with_ymd_and_hms(2024, 3, 4, h, 0, 0).unwrap();
        let map = StatusMap::default();
        let item = WorkItem {
            id: "tracker:1".into(),
            source: "tracker".into(),
            project: "Q".into(),
            key: "Q-1".into(),
            title: "t".into(),
            item_type: "task".into(),
            standard_type: StandardType::Task,
            status: "Closed".into(),
            status_category: StatusCategory::Done,
            priority: None,
            author: None,
            assignee: None,
            labels: vec![],
            components: vec![],
            parent: None,
            created_at: at(9),
            updated_at: at(16),
            resolved_at: Some(at(16)),
            url: None,
            custom_fields: serde_json::Value::Null,
        };
        let change = |n: &str, h, from: Option<&str>, to: &str| StatusChange {
            item_id: "tracker:1".into(),
            change_id: n.into(),
            at: at(h),
            author: None,
            from_status: from.map(Into::into),
            to_status: to.into(),
        };
        let changes = [
            change("1", 11, None, "In Progress"),
            change("2", 16, Some("In Progress"), "Closed"),
        ];
        let calendar = crate::calendar::BusinessCalendar::default();
        let intervals = status_intervals(&item, &changes, &map, &calendar, at(18));
        assert_eq!(intervals[0].status, UNKNOWN_INITIAL_STATUS);
        let m = item_metrics(&item, &[], &intervals, &map, &calendar, at(18));
        assert_eq!(m.started_at, Some(at(11)));
        assert_eq!(m.cycle_seconds, Some(5 * 3600));
    }

    #[test]
    fn a_guessed_status_names_the_config_line_that_maps_it() {
        let g = GuessedStatus::new("jira", "Ready for Dev", StatusCategory::Todo, 3);
        assert_eq!(
            g.warning(),
            "status \"Ready for Dev\" has no category; guessed todo — add to flowlake.toml: \
             [metrics.status_categories] \"Ready for Dev\" = \"todo\""
        );
        assert_eq!(
            config_line("Say \"hi\" \\ bye", StatusCategory::Done),
            "[metrics.status_categories] \"Say \\\"hi\\\" \\\\ bye\" = \"done\""
        );
    }
}
