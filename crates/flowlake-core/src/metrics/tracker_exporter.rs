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

/// tracker-exporter's `to_snake_case`: `_` between a lower-case ASCII letter and an upper-case one, between a
/// lower-case letter and a digit, and between a digit and a lower-case letter; then every character other
/// than ASCII letters, digits and `_` becomes `_`; then lower case. `In Progress → in_progress`,
/// `stage2 → stage_2`.
pub fn to_snake_case(text: &str) -> String {
    if text.trim().is_empty() {
        return String::new();
    }
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len() + 4);
    for (i, &c) in chars.iter().enumerate() {
        if let Some(&prev) = i.checked_sub(1).and_then(|p| chars.get(p)) {
            let boundary = (prev.is_ascii_lowercase() && c.is_ascii_uppercase())
                || (prev.is_ascii_lowercase() && c.is_ascii_digit())
                || (prev.is_ascii_digit() && c.is_ascii_lowercase());
            if boundary {
                out.push('_');
            }
        }
        if c.is_ascii_alphanumeric() || c == '_' {
            out.push(c.to_ascii_lowercase());
        } else {
            out.push('_');
        }
    }
    out
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

/// Computes the `issue_metrics` rows of one issue, in order of each status's first exit.
pub fn issue_metrics(
    issue_key: &str,
    created_at: DateTime<Utc>,
    exits: &[WorkflowExit],
    calendar: &BusinessCalendar,
) -> Vec<StatusRow> {
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
                let name = to_snake_case(display);
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
    rows
}

/// tracker-exporter's `is_closed`: resolved, or the snake-cased status is one of `closed_statuses`.
pub fn is_closed(resolved: bool, status_display: &str, closed_statuses: &[String]) -> bool {
    resolved
        || closed_statuses
            .iter()
            .any(|s| *s == to_snake_case(status_display))
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
        );
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
        );
        assert_eq!(rows[0].duration, 3601);
        assert_eq!(rows[0].human_readable_duration, "1h 1s");
    }

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
            ("В работе", "________"),
        ] {
            assert_eq!(to_snake_case(input), want, "{input}");
        }
    }

    #[test]
    fn closed_means_resolved_or_a_closed_status() {
        let closed = default_closed_statuses();
        assert!(is_closed(true, "Open", &closed));
        assert!(is_closed(false, "Released", &closed));
        assert!(!is_closed(false, "In Progress", &closed));
    }
}
