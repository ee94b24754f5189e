//! Status categories and the mapping from a tracker's status names to them.

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

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
        let name = status.to_lowercase();
        if let Some(c) = self.explicit.get(&name) {
            return *c;
        }
        reported
            .or_else(|| self.known.get(&name).copied())
            .unwrap_or_else(|| guess_category(status))
    }

    /// Whether time in `status` counts as active work for flow efficiency.
    pub fn is_active(&self, status: &str, category: StatusCategory) -> bool {
        match &self.active {
            Some(set) => set.contains(&status.to_lowercase()),
            None => category == StatusCategory::InProgress,
        }
    }
}

/// Guesses a category from common status names in English and Russian; unknown names are `in_progress`
/// (a status nobody mapped is most often a working or waiting state).
pub fn guess_category(status: &str) -> StatusCategory {
    const TODO: &[&str] = &[
        "open",
        "new",
        "backlog",
        "to do",
        "todo",
        "selected for development",
        "reopened",
        "открыт",
        "новый",
        "новая",
        "бэклог",
    ];
    const DONE: &[&str] = &[
        "done",
        "closed",
        "resolved",
        "cancelled",
        "canceled",
        "rejected",
        "released",
        "won't do",
        "wontfix",
        "merged",
        "complete",
        "completed",
        "fixed",
        "закрыт",
        "решен",
        "решён",
        "отменен",
        "отменён",
        "выполнено",
        "готово",
    ];
    let s = status.trim().to_lowercase();
    if TODO.contains(&s.as_str()) {
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
}
