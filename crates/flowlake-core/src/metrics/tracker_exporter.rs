//! tracker-exporter 2.0.0 compatible per-status rows (`issue_metrics`), computed exactly as it does.
//!
//! Its rules differ from flowlake's own time in status on purpose: only closed stays count (the current
//! status never does), each exit is counted, names are snake-cased display names, durations are whole
//! seconds, and `last_seen` is the end of the **first** exit. See `shared/compat/tracker-exporter.md`.

use chrono::{DateTime, SecondsFormat, Utc};

use crate::calendar::BusinessCalendar;
use crate::metrics::duration::human_duration;
use crate::metrics::intervals::cmp_change_id;
use crate::model::StatusChange;

/// One exit from a status: a changelog entry of type `IssueWorkflow` whose first field is `status`.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkflowExit {
    /// Display name of the status left (`fields[0].from.display`).
    pub status_display: String,
    /// `statusStartTime.from`: when the stay began; `None` for the first move out of the initial status.
    pub started: Option<DateTime<Utc>>,
    /// `statusStartTime.to`: when the stay ended.
    pub ended: DateTime<Utc>,
}

/// One `issue_metrics` row.
#[derive(Debug, Clone, PartialEq)]
pub struct StatusRow {
    /// The issue key.
    pub issue_key: String,
    /// Snake-cased display name of the status.
    pub status_name: String,
    /// Number of exits from the status.
    pub status_transitions_count: u32,
    /// Sum of whole seconds of the stays.
    pub duration: i64,
    /// [`human_duration`] of `duration`.
    pub human_readable_duration: String,
    /// Sum of working seconds of the stays.
    pub busdays_duration: i64,
    /// [`human_duration`] of `busdays_duration`.
    pub human_readable_busdays_duration: String,
    /// End of the first exit.
    pub last_seen: DateTime<Utc>,
}

/// Python's `\d` in a `str` pattern: the Unicode decimal digits (category `Nd`), as inclusive ranges. Taken from
/// Python 3.11's `unicodedata` (Unicode 14.0), the Python tracker-exporter 2.0.0 runs on (it needs ≥ 3.10):
/// `[c for c in range(0x110000) if unicodedata.category(chr(c)) == "Nd"]`, grouped into runs.
const DECIMAL_DIGITS: [(u32, u32); 62] = [
    (0x30, 0x39),
    (0x660, 0x669),
    (0x6F0, 0x6F9),
    (0x7C0, 0x7C9),
    (0x966, 0x96F),
    (0x9E6, 0x9EF),
    (0xA66, 0xA6F),
    (0xAE6, 0xAEF),
    (0xB66, 0xB6F),
    (0xBE6, 0xBEF),
    (0xC66, 0xC6F),
    (0xCE6, 0xCEF),
    (0xD66, 0xD6F),
    (0xDE6, 0xDEF),
    (0xE50, 0xE59),
    (0xED0, 0xED9),
    (0xF20, 0xF29),
    (0x1040, 0x1049),
    (0x1090, 0x1099),
    (0x17E0, 0x17E9),
    (0x1810, 0x1819),
    (0x1946, 0x194F),
    (0x19D0, 0x19D9),
    (0x1A80, 0x1A89),
    (0x1A90, 0x1A99),
    (0x1B50, 0x1B59),
    (0x1BB0, 0x1BB9),
    (0x1C40, 0x1C49),
    (0x1C50, 0x1C59),
    (0xA620, 0xA629),
    (0xA8D0, 0xA8D9),
    (0xA900, 0xA909),
    (0xA9D0, 0xA9D9),
    (0xA9F0, 0xA9F9),
    (0xAA50, 0xAA59),
    (0xABF0, 0xABF9),
    (0xFF10, 0xFF19),
    (0x104A0, 0x104A9),
    (0x10D30, 0x10D39),
    (0x11066, 0x1106F),
    (0x110F0, 0x110F9),
    (0x11136, 0x1113F),
    (0x111D0, 0x111D9),
    (0x112F0, 0x112F9),
    (0x11450, 0x11459),
    (0x114D0, 0x114D9),
    (0x11650, 0x11659),
    (0x116C0, 0x116C9),
    (0x11730, 0x11739),
    (0x118E0, 0x118E9),
    (0x11950, 0x11959),
    (0x11C50, 0x11C59),
    (0x11D50, 0x11D59),
    (0x11DA0, 0x11DA9),
    (0x16A60, 0x16A69),
    (0x16AC0, 0x16AC9),
    (0x16B50, 0x16B59),
    (0x1D7CE, 0x1D7FF),
    (0x1E140, 0x1E149),
    (0x1E2F0, 0x1E2F9),
    (0x1E950, 0x1E959),
    (0x1FBF0, 0x1FBF9),
];

/// `\d`: any Unicode decimal digit, not only ASCII.
fn is_decimal_digit(c: char) -> bool {
    let c = u32::from(c);
    DECIMAL_DIGITS
        .binary_search_by(|&(lo, hi)| {
            if hi < c {
                std::cmp::Ordering::Less
            } else if lo > c {
                std::cmp::Ordering::Greater
            } else {
                std::cmp::Ordering::Equal
            }
        })
        .is_ok()
}

/// `[a-zа-яё]`: a lower-case Latin or Russian letter (the Cyrillic range `а-я` plus `ё`, nothing else).
fn is_lower(c: char) -> bool {
    c.is_ascii_lowercase() || ('а'..='я').contains(&c) || c == 'ё'
}

/// `[A-ZА-ЯЁ]`: an upper-case Latin or Russian letter.
fn is_upper(c: char) -> bool {
    c.is_ascii_uppercase() || ('А'..='Я').contains(&c) || c == 'Ё'
}

/// `[a-zA-Zа-яёА-ЯЁ0-9_]`: what survives the last substitution (ASCII digits only, unlike `\d`).
fn is_kept(c: char) -> bool {
    is_lower(c) || is_upper(c) || c.is_ascii_digit() || c == '_'
}

/// Python's `str.isspace`: Unicode white space plus the information separators U+001C–U+001F.
fn is_python_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// tracker-exporter's `to_snake_case` (`utils/helpers.py`), exactly: `_` is put between a lower-case and an
/// upper-case letter (`[a-zа-яё]` then `[A-ZА-ЯЁ]`), between a lower-case letter and a decimal digit and
/// between a digit and a lower-case letter (Python's `\d`: any Unicode decimal digit); then every character
/// other than Latin and Russian letters, ASCII digits and `_` becomes `_`; then lower case. Blank text gives
/// `""`. `In Progress → in_progress`, `InReview → in_review`, `stage2 → stage_2`, `В работе → в_работе`.
///
/// tracker-exporter lower-cases a status name *before* calling this, so its rows use [`status_row_name`].
pub fn to_snake_case(text: &str) -> String {
    if text.trim_matches(is_python_space).is_empty() {
        return String::new();
    }
    let mut out = String::with_capacity(text.len() + 4);
    let mut prev: Option<char> = None;
    for c in text.chars() {
        if let Some(p) = prev {
            // The three insertions run one after the other in Python, but each inserted `_` sits where the
            // next patterns cannot match across it, so checking the original neighbours gives the same text.
            let boundary = (is_lower(p) && is_upper(c))
                || (is_lower(p) && is_decimal_digit(c))
                || (is_decimal_digit(p) && is_lower(c));
            if boundary {
                out.push('_');
            }
        }
        if is_kept(c) {
            out.extend(c.to_lowercase());
        } else {
            out.push('_');
        }
        prev = Some(c);
    }
    out
}

/// The name tracker-exporter gives a status: `to_snake_case(name.lower())`, the display name lower-cased
/// first (its per-status rows, `models/issue.py`, and the issue's `status` through `validate_resource`, which
/// lower-cases too). So `InReview → inreview`, `In Progress → in_progress`, `Открыт → открыт`.
pub fn status_row_name(display: &str) -> String {
    to_snake_case(&display.to_lowercase())
}

/// Formats a time as tracker-exporter writes it: UTC, milliseconds, no zone suffix (`2023-10-16T06:00:00.000`).
pub fn format_datetime(t: DateTime<Utc>) -> String {
    let s = t.to_rfc3339_opts(SecondsFormat::Millis, true);
    s.trim_end_matches('Z').to_string()
}

/// Derives workflow exits from status changes, for sources without Yandex Tracker's `statusStartTime`: each
/// change closes the stay that began at the previous change (or at creation for the first one).
pub fn exits_from_status_changes(changes: &[StatusChange]) -> Vec<WorkflowExit> {
    let mut ordered: Vec<&StatusChange> = changes.iter().collect();
    ordered.sort_by(|a, b| {
        a.at.cmp(&b.at)
            .then_with(|| cmp_change_id(&a.change_id, &b.change_id))
    });
    let mut previous: Option<DateTime<Utc>> = None;
    let mut out = Vec::with_capacity(ordered.len());
    for c in ordered {
        if let Some(from) = &c.from_status {
            out.push(WorkflowExit {
                status_display: from.clone(),
                started: previous,
                ended: c.at,
            });
        }
        previous = Some(c.at);
    }
    out
}

/// Two or more display names of one issue that tracker-exporter's naming merges into one row (`Open` and
/// `OPEN`, or `In-Review` and `In Review`): their stays are summed under one `status_name`, as
/// tracker-exporter does, and the caller may want to say so.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameCollision {
    /// The merged row's `status_name`.
    pub status_name: String,
    /// The distinct display names merged, in order of their first exit.
    pub display_names: Vec<String>,
}

/// The `issue_metrics` rows of one issue, and the names that collapsed into one row.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct IssueMetrics {
    /// One row per `status_name`, in order of each one's first exit.
    pub rows: Vec<StatusRow>,
    /// One entry per row that more than one display name fed.
    pub collisions: Vec<NameCollision>,
}

/// Computes the `issue_metrics` rows of one issue, in order of each status's first exit, named by
/// [`status_row_name`]; exits are taken in the order given (tracker-exporter walks the changelog as received).
pub fn issue_metrics(
    issue_key: &str,
    created_at: DateTime<Utc>,
    exits: &[WorkflowExit],
    calendar: &BusinessCalendar,
) -> IssueMetrics {
    let mut rows: Vec<StatusRow> = Vec::new();
    // Display names already met, with their row: an issue visits a few statuses many times, and snake-casing
    // each exit again was most of this function's time.
    let mut seen: Vec<(&str, usize)> = Vec::new();
    for exit in exits {
        let start = exit.started.unwrap_or(created_at);
        let (lo, hi) = if start <= exit.ended {
            (start, exit.ended)
        } else {
            (exit.ended, start)
        };
        // Whole seconds with the milliseconds truncated, as Python's int(total_seconds()) does.
        let duration = (hi - lo).num_milliseconds() / 1000;
        let busdays = calendar.business_seconds(lo, hi);
        let display = exit.status_display.as_str();
        let row = match seen.iter().find(|(d, _)| *d == display) {
            Some((_, row)) => *row,
            None => {
                let name = status_row_name(display);
                let row = rows.iter().position(|r| r.status_name == name);
                let row = row.unwrap_or_else(|| {
                    rows.push(StatusRow {
                        issue_key: issue_key.to_string(),
                        status_name: name,
                        status_transitions_count: 0,
                        duration: 0,
                        human_readable_duration: String::new(),
                        busdays_duration: 0,
                        human_readable_busdays_duration: String::new(),
                        last_seen: exit.ended,
                    });
                    rows.len() - 1
                });
                seen.push((display, row));
                row
            }
        };
        if let Some(row) = rows.get_mut(row) {
            row.status_transitions_count += 1;
            row.duration += duration;
            row.busdays_duration += busdays;
        }
    }
    for row in &mut rows {
        row.human_readable_duration = human_duration(row.duration);
        row.human_readable_busdays_duration = human_duration(row.busdays_duration);
    }
    let mut collisions = Vec::new();
    for (n, row) in rows.iter().enumerate() {
        let display_names: Vec<String> = seen
            .iter()
            .filter(|(_, r)| *r == n)
            .map(|(d, _)| d.to_string())
            .collect();
        if display_names.len() > 1 {
            collisions.push(NameCollision {
                status_name: row.status_name.clone(),
                display_names,
            });
        }
    }
    IssueMetrics { rows, collisions }
}

/// tracker-exporter's `is_closed`: resolved, or the status's name in its form ([`status_row_name`]: the
/// display name lower-cased, then snake-cased) is one of `closed_statuses`, compared as written.
pub fn is_closed(resolved: bool, status_display: &str, closed_statuses: &[String]) -> bool {
    if resolved {
        return true;
    }
    let name = status_row_name(status_display);
    closed_statuses.contains(&name)
}

/// tracker-exporter's default closed statuses.
pub fn default_closed_statuses() -> Vec<String> {
    ["closed", "rejected", "resolved", "cancelled", "released"]
        .map(String::from)
        .to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn worked_example_from_the_compat_spec() {
        let exits = [
            WorkflowExit {
                status_display: "In Progress".into(),
                started: Some(t("2023-10-16T08:30:00Z")),
                ended: t("2023-10-17T12:00:00Z"),
            },
            WorkflowExit {
                status_display: "In Progress".into(),
                started: Some(t("2023-10-18T10:00:00Z")),
                ended: t("2023-10-19T09:00:00Z"),
            },
        ];
        let rows = issue_metrics(
            "DEV-1",
            t("2023-10-16T06:00:00Z"),
            &exits,
            &BusinessCalendar::tracker_exporter(),
        )
        .rows;
        assert_eq!(rows.len(), 1);
        let r = &rows[0];
        assert_eq!(r.status_name, "in_progress");
        assert_eq!(r.status_transitions_count, 2);
        assert_eq!(r.duration, 181_800);
        assert_eq!(r.busdays_duration, 100_800);
        assert_eq!(r.human_readable_busdays_duration, "1d 4h");
        assert_eq!(format_datetime(r.last_seen), "2023-10-17T12:00:00.000");
    }

    #[test]
    fn first_exit_without_start_uses_creation_and_milliseconds_are_truncated() {
        let exits = [WorkflowExit {
            status_display: "Open".into(),
            started: None,
            ended: t("2023-10-16T10:00:01.999Z"),
        }];
        let rows = issue_metrics(
            "DEV-2",
            t("2023-10-16T09:00:00Z"),
            &exits,
            &BusinessCalendar::tracker_exporter(),
        )
        .rows;
        assert_eq!(rows[0].duration, 3601);
        assert_eq!(rows[0].human_readable_duration, "1h 1s");
    }

    /// Python's `to_snake_case` itself, regexes and all (values checked against tracker-exporter 2.0.0's
    /// function under Python 3.11).
    #[test]
    fn snake_case_cases() {
        for (input, want) in [
            ("In Progress", "in_progress"),
            ("Ready for release", "ready_for_release"),
            ("stage2", "stage_2"),
            ("2nd line", "2_nd_line"),
            ("InReview", "in_review"),
            ("Code-Review", "code_review"),
            ("closed", "closed"),
            ("В работе", "в_работе"),
            ("ЗадачаЗакрыта", "задача_закрыта"),
            ("ВРаботе", "вработе"),
            ("Этап2", "этап_2"),
            ("2этап", "2_этап"),
            ("Ёлка", "ёлка"),
            ("Готово ✅", "готово__"),
            ("Straße", "stra_e"),
            ("Ѐ", "_"),
            ("a٣", "a__"),
            ("   ", ""),
            ("\u{1f}", ""),
            (" a ", "_a_"),
        ] {
            assert_eq!(to_snake_case(input), want, "{input}");
        }
    }

    /// The per-status rows lower-case the name first (`to_snake_case(name.lower())`), so a capital inside a
    /// word no longer splits it, and Russian names keep their letters.
    #[test]
    fn russian_statuses_keep_their_letters_in_tracker_exporter_rows() {
        for (input, want) in [
            ("InReview", "inreview"),
            ("In Progress", "in_progress"),
            ("Открыт", "открыт"),
            ("Закрыт", "закрыт"),
            ("В работе", "в_работе"),
            ("Нужна информация", "нужна_информация"),
            ("Stage2", "stage_2"),
            ("ЁЖ", "ёж"),
        ] {
            assert_eq!(status_row_name(input), want, "{input}");
        }
        let exits = [
            WorkflowExit {
                status_display: "Открыт".into(),
                started: None,
                ended: t("2023-10-16T10:00:00Z"),
            },
            WorkflowExit {
                status_display: "В работе".into(),
                started: Some(t("2023-10-16T10:00:00Z")),
                ended: t("2023-10-16T12:00:00Z"),
            },
            WorkflowExit {
                status_display: "Закрыт".into(),
                started: Some(t("2023-10-16T12:00:00Z")),
                ended: t("2023-10-16T13:00:00Z"),
            },
        ];
        let m = issue_metrics(
            "DEV-4",
            t("2023-10-16T09:00:00Z"),
            &exits,
            &BusinessCalendar::tracker_exporter(),
        );
        let names: Vec<(&str, i64)> = m
            .rows
            .iter()
            .map(|r| (r.status_name.as_str(), r.duration))
            .collect();
        assert_eq!(
            names,
            [("открыт", 3600), ("в_работе", 7200), ("закрыт", 3600)],
            "three statuses, three rows"
        );
        assert!(m.collisions.is_empty());
    }

    #[test]
    fn display_names_merged_into_one_row_are_reported() {
        let exit = |name: &str, from: &str, to: &str| WorkflowExit {
            status_display: name.into(),
            started: Some(t(from)),
            ended: t(to),
        };
        let exits = [
            exit("In Review", "2023-10-16T09:00:00Z", "2023-10-16T10:00:00Z"),
            exit("In-Review", "2023-10-16T11:00:00Z", "2023-10-16T12:00:00Z"),
            exit("Open", "2023-10-16T12:00:00Z", "2023-10-16T13:00:00Z"),
            exit("In Review", "2023-10-16T13:00:00Z", "2023-10-16T14:00:00Z"),
            exit("in review", "2023-10-16T14:00:00Z", "2023-10-16T15:00:00Z"),
        ];
        let m = issue_metrics(
            "DEV-5",
            t("2023-10-16T09:00:00Z"),
            &exits,
            &BusinessCalendar::tracker_exporter(),
        );
        assert_eq!(m.rows.len(), 2);
        assert_eq!(m.rows[0].status_name, "in_review");
        assert_eq!(m.rows[0].status_transitions_count, 4);
        assert_eq!(m.rows[0].duration, 4 * 3600);
        assert_eq!(
            m.collisions,
            [NameCollision {
                status_name: "in_review".into(),
                display_names: vec!["In Review".into(), "In-Review".into(), "in review".into()],
            }],
            "once per merged row, every display name once"
        );
    }

    #[test]
    fn closed_means_resolved_or_a_closed_status() {
        let closed = default_closed_statuses();
        assert!(is_closed(true, "Open", &closed));
        assert!(is_closed(false, "Released", &closed));
        assert!(!is_closed(false, "In Progress", &closed));
        // Lower-cased before snake-casing, as tracker-exporter's `validate_resource` does.
        assert!(is_closed(false, "ReLeased", &closed));
        let russian = vec!["закрыт".to_string(), "отменён".to_string()];
        assert!(is_closed(false, "Закрыт", &russian));
        assert!(is_closed(false, "Отменён", &russian));
        assert!(!is_closed(false, "Открыт", &russian));
    }
}
