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
mod tests;
