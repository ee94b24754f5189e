//! Categories, the status map and its guesses.

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
