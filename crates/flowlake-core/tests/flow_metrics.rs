//! Flow metrics checked against hand-computed values, and the invariants that must hold for any history.

use chrono::{DateTime, Duration, TimeZone, Utc};
use flowlake_core::metrics::{
    item_metrics, percentile, status_intervals, time_in_status, Bucket, DailyFlow, Percentiles,
    Throughput,
};
use flowlake_core::{
    BusinessCalendar, CalendarSpec, FieldChange, ItemHistory, StandardType, StatusCategory,
    StatusChange, StatusMap, WorkItem,
};
use proptest::prelude::*;

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn item(created: &str, status: &str) -> WorkItem {
    WorkItem {
        id: "test:T-1".into(),
        source: "test".into(),
        project: "T".into(),
        key: "T-1".into(),
        title: "an item".into(),
        item_type: "Task".into(),
        standard_type: StandardType::Task,
        status: status.into(),
        status_category: StatusMap::default().category(status, None),
        priority: None,
        author: Some("alice".into()),
        assignee: None,
        labels: vec![],
        components: vec![],
        parent: None,
        created_at: t(created),
        updated_at: t(created),
        resolved_at: None,
        url: None,
        custom_fields: serde_json::Value::Null,
    }
}

fn moves(list: &[(&str, &str, &str)]) -> Vec<StatusChange> {
    list.iter()
        .enumerate()
        .map(|(n, (at, from, to))| StatusChange {
            item_id: "test:T-1".into(),
            change_id: (n + 1).to_string(),
            at: t(at),
            author: Some("bob".into()),
            from_status: Some(from.to_string()),
            to_status: to.to_string(),
        })
        .collect()
}

fn utc_9_to_18(holidays: &[&str]) -> BusinessCalendar {
    BusinessCalendar::try_from(CalendarSpec {
        holidays: holidays.iter().map(|s| s.to_string()).collect(),
        ..CalendarSpec::default()
    })
    .unwrap()
}

struct Case {
    name: &'static str,
    created: &'static str,
    current: &'static str,
    changes: &'static [(&'static str, &'static str, &'static str)],
    now: &'static str,
    holidays: &'static [&'static str],
    lead: Option<i64>,
    lead_business: Option<i64>,
    cycle: Option<i64>,
    cycle_business: Option<i64>,
    reopens: u32,
    path: &'static str,
}

const H: i64 = 3600;
const D: i64 = 86_400;

const CASES: &[Case] = &[
    Case {
        name: "straight through on one working day",
        created: "2024-01-08T09:00:00Z", // Monday
        current: "Done",
        changes: &[
            ("2024-01-08T10:00:00Z", "Open", "In Progress"),
            ("2024-01-08T15:00:00Z", "In Progress", "Done"),
        ],
        now: "2024-02-01T00:00:00Z",
        holidays: &[],
        lead: Some(6 * H),
        lead_business: Some(6 * H),
        cycle: Some(5 * H),
        cycle_business: Some(5 * H),
        reopens: 0,
        path: "Open → In Progress → Done",
    },
    Case {
        name: "reopened issue lead time runs to the last close",
        created: "2024-01-08T09:00:00Z",
        current: "Done",
        changes: &[
            ("2024-01-08T10:00:00Z", "Open", "In Progress"),
            ("2024-01-08T12:00:00Z", "In Progress", "Done"),
            ("2024-01-09T09:00:00Z", "Done", "In Progress"),
            ("2024-01-09T11:00:00Z", "In Progress", "Done"),
        ],
        now: "2024-02-01T00:00:00Z",
        holidays: &[],
        lead: Some(D + 2 * H),
        // Monday 09:00–18:00 and Tuesday 09:00–11:00.
        lead_business: Some(11 * H),
        cycle: Some(D + H),
        cycle_business: Some(10 * H),
        reopens: 1,
        path: "Open → In Progress → Done → In Progress → Done",
    },
    Case {
        name: "transitions outside working hours count no business time",
        created: "2024-01-08T19:00:00Z",
        current: "Done",
        changes: &[
            ("2024-01-08T20:00:00Z", "Open", "In Progress"),
            ("2024-01-08T23:30:00Z", "In Progress", "Done"),
        ],
        now: "2024-02-01T00:00:00Z",
        holidays: &[],
        lead: Some(4 * H + 1800),
        lead_business: Some(0),
        cycle: Some(3 * H + 1800),
        cycle_business: Some(0),
        reopens: 0,
        path: "Open → In Progress → Done",
    },
    Case {
        name: "same-second transitions make zero-length stays",
        created: "2024-01-08T09:00:00Z",
        current: "Done",
        changes: &[
            ("2024-01-08T10:00:00Z", "Open", "In Progress"),
            ("2024-01-08T10:00:00Z", "In Progress", "Review"),
            ("2024-01-08T11:00:00Z", "Review", "Done"),
        ],
        now: "2024-02-01T00:00:00Z",
        holidays: &[],
        lead: Some(2 * H),
        lead_business: Some(2 * H),
        cycle: Some(H),
        cycle_business: Some(H),
        reopens: 0,
        path: "Open → In Progress → Review → Done",
    },
    Case {
        name: "issue created on a holiday starts counting business time on the next working day",
        created: "2024-01-01T10:00:00Z", // a Monday, declared a holiday
        current: "Done",
        changes: &[
            ("2024-01-01T11:00:00Z", "Open", "In Progress"),
            ("2024-01-02T10:00:00Z", "In Progress", "Done"),
        ],
        now: "2024-02-01T00:00:00Z",
        holidays: &["2024-01-01"],
        lead: Some(D),
        lead_business: Some(H),
        cycle: Some(23 * H),
        cycle_business: Some(H),
        reopens: 0,
        path: "Open → In Progress → Done",
    },
    Case {
        name: "over a weekend",
        created: "2024-01-05T16:00:00Z", // Friday
        current: "Closed",
        changes: &[
            ("2024-01-05T17:00:00Z", "Open", "In Progress"),
            ("2024-01-08T10:00:00Z", "In Progress", "Closed"),
        ],
        now: "2024-02-01T00:00:00Z",
        holidays: &[],
        lead: Some(2 * D + 18 * H),
        lead_business: Some(3 * H),
        cycle: Some(2 * D + 17 * H),
        cycle_business: Some(2 * H),
        reopens: 0,
        path: "Open → In Progress → Closed",
    },
    Case {
        name: "still open has no lead or cycle time",
        created: "2024-01-08T09:00:00Z",
        current: "In Progress",
        changes: &[("2024-01-08T10:00:00Z", "Open", "In Progress")],
        now: "2024-01-09T09:00:00Z",
        holidays: &[],
        lead: None,
        lead_business: None,
        cycle: None,
        cycle_business: None,
        reopens: 0,
        path: "Open → In Progress",
    },
    Case {
        name: "done without being started has a lead time but no cycle time",
        created: "2024-01-08T09:00:00Z",
        current: "Cancelled",
        changes: &[("2024-01-08T12:00:00Z", "Open", "Cancelled")],
        now: "2024-02-01T00:00:00Z",
        holidays: &[],
        lead: Some(3 * H),
        lead_business: Some(3 * H),
        cycle: None,
        cycle_business: None,
        reopens: 0,
        path: "Open → Cancelled",
    },
    Case {
        name: "moving between two done statuses keeps the first entry into done",
        created: "2024-01-08T09:00:00Z",
        current: "Closed",
        changes: &[
            ("2024-01-08T10:00:00Z", "Open", "In Progress"),
            ("2024-01-08T12:00:00Z", "In Progress", "Resolved"),
            ("2024-01-08T16:00:00Z", "Resolved", "Closed"),
        ],
        now: "2024-02-01T00:00:00Z",
        holidays: &[],
        lead: Some(3 * H),
        lead_business: Some(3 * H),
        cycle: Some(2 * H),
        cycle_business: Some(2 * H),
        reopens: 0,
        path: "Open → In Progress → Resolved → Closed",
    },
];

#[test]
fn hand_computed_item_metrics() {
    let map = StatusMap::default();
    for c in CASES {
        let cal = utc_9_to_18(c.holidays);
        let history = ItemHistory {
            item: item(c.created, c.current),
            status_changes: moves(c.changes),
            field_changes: vec![],
            people: vec![],
            pull_request: None,
            reviews: vec![],
            moved_node_id: None,
            workflow_exits: None,
            worklogs: vec![],
            sprints: vec![],
        };
        let intervals =
            status_intervals(&history.item, &history.status_changes, &map, &cal, t(c.now));
        let m = item_metrics(
            &history.item,
            &history.field_changes,
            &intervals,
            &map,
            &cal,
            t(c.now),
        );
        assert_eq!(m.lead_seconds, c.lead, "{}: lead", c.name);
        assert_eq!(
            m.lead_business_seconds, c.lead_business,
            "{}: lead business",
            c.name
        );
        assert_eq!(m.cycle_seconds, c.cycle, "{}: cycle", c.name);
        assert_eq!(
            m.cycle_business_seconds, c.cycle_business,
            "{}: cycle business",
            c.name
        );
        assert_eq!(m.reopen_count, c.reopens, "{}: reopens", c.name);
        assert_eq!(m.status_path, c.path, "{}: path", c.name);
    }
}

#[test]
fn business_time_across_a_dst_change_counts_full_working_days() {
    // Berlin springs forward on Sunday 2024-03-31; work Friday 09:00 to Monday 18:00 local is two full days.
    let cal = BusinessCalendar::try_from(CalendarSpec {
        time_zone: "Europe/Berlin".into(),
        ..CalendarSpec::default()
    })
    .unwrap();
    let history = ItemHistory {
        item: item("2024-03-29T08:00:00Z", "Done"),
        status_changes: moves(&[
            ("2024-03-29T08:00:00Z", "Open", "In Progress"),
            ("2024-04-01T16:00:00Z", "In Progress", "Done"),
        ]),
        field_changes: vec![],
        people: vec![],
        pull_request: None,
        reviews: vec![],
        moved_node_id: None,
        workflow_exits: None,
        worklogs: vec![],
        sprints: vec![],
    };
    let map = StatusMap::default();
    let now = t("2024-05-01T00:00:00Z");
    let iv = status_intervals(&history.item, &history.status_changes, &map, &cal, now);
    let m = item_metrics(&history.item, &history.field_changes, &iv, &map, &cal, now);
    assert_eq!(m.cycle_business_seconds, Some(18 * H));
    // Calendar time is 3 days and 8 hours of UTC, one hour shorter in local wall-clock terms.
    assert_eq!(m.cycle_seconds, Some(3 * D + 8 * H));
}

#[test]
fn time_in_status_includes_the_current_stay_up_to_now() {
    let cal = utc_9_to_18(&[]);
    let map = StatusMap::default();
    let history = ItemHistory {
        item: item("2024-01-08T09:00:00Z", "In Progress"),
        status_changes: moves(&[
            ("2024-01-08T10:00:00Z", "Open", "In Progress"),
            ("2024-01-08T11:00:00Z", "In Progress", "Open"),
            ("2024-01-08T12:00:00Z", "Open", "In Progress"),
        ]),
        field_changes: vec![],
        people: vec![],
        pull_request: None,
        reviews: vec![],
        moved_node_id: None,
        workflow_exits: None,
        worklogs: vec![],
        sprints: vec![],
    };
    let now = t("2024-01-08T14:00:00Z");
    let iv = status_intervals(&history.item, &history.status_changes, &map, &cal, now);
    let tis = time_in_status(&iv);
    assert_eq!(tis.len(), 2);
    assert_eq!(
        (
            tis[0].status.as_str(),
            tis[0].visits,
            tis[0].calendar_seconds
        ),
        ("Open", 2, 2 * H)
    );
    assert_eq!(
        (
            tis[1].status.as_str(),
            tis[1].visits,
            tis[1].calendar_seconds
        ),
        ("In Progress", 2, 3 * H)
    );
    assert_eq!(iv.last().unwrap().end, None);
}

#[test]
fn flow_efficiency_uses_the_active_set() {
    let cal = utc_9_to_18(&[]);
    let map = StatusMap::new(
        Vec::<(String, StatusCategory)>::new(),
        Some(vec!["In Progress".into()]),
    );
    let history = ItemHistory {
        item: item("2024-01-08T09:00:00Z", "Done"),
        status_changes: moves(&[
            ("2024-01-08T10:00:00Z", "Open", "In Progress"),
            ("2024-01-08T13:00:00Z", "In Progress", "Review"),
            ("2024-01-08T14:00:00Z", "Review", "Done"),
        ]),
        field_changes: vec![],
        people: vec![],
        pull_request: None,
        reviews: vec![],
        moved_node_id: None,
        workflow_exits: None,
        worklogs: vec![],
        sprints: vec![],
    };
    let now = t("2024-02-01T00:00:00Z");
    let iv = status_intervals(&history.item, &history.status_changes, &map, &cal, now);
    let m = item_metrics(&history.item, &history.field_changes, &iv, &map, &cal, now);
    assert_eq!(m.active_seconds, Some(3 * H));
    assert_eq!(m.flow_efficiency, Some(0.75));
}

#[test]
fn first_response_is_the_earlier_of_a_status_change_and_someone_elses_edit() {
    let cal = utc_9_to_18(&[]);
    let map = StatusMap::default();
    let mut history = ItemHistory {
        item: item("2024-01-08T09:00:00Z", "In Progress"),
        status_changes: moves(&[("2024-01-08T12:00:00Z", "Open", "In Progress")]),
        field_changes: vec![],
        people: vec![],
        pull_request: None,
        reviews: vec![],
        moved_node_id: None,
        workflow_exits: None,
        worklogs: vec![],
        sprints: vec![],
    };
    let edit = |who: &str, at: &str| FieldChange {
        item_id: "test:T-1".into(),
        change_id: "e".into(),
        at: t(at),
        author: Some(who.into()),
        field: "priority".into(),
        from_value: None,
        to_value: Some("High".into()),
    };
    // The author's own edit is not a response.
    history.field_changes = vec![
        edit("alice", "2024-01-08T09:30:00Z"),
        edit("carol", "2024-01-08T10:00:00Z"),
    ];
    let now = t("2024-01-09T00:00:00Z");
    let iv = status_intervals(&history.item, &history.status_changes, &map, &cal, now);
    let m = item_metrics(&history.item, &history.field_changes, &iv, &map, &cal, now);
    assert_eq!(m.first_response_seconds, Some(H));
    assert_eq!(m.age_seconds, Some(12 * H));
}

#[test]
fn percentiles_use_nearest_rank() {
    let v: Vec<i64> = (1..=20).collect();
    assert_eq!(percentile(&v, 50.0), Some(10));
    assert_eq!(percentile(&v, 85.0), Some(17));
    assert_eq!(percentile(&v, 95.0), Some(19));
    assert_eq!(percentile(&[7], 95.0), Some(7));
    assert_eq!(percentile(&[], 50.0), None);
    let p = Percentiles::of(vec![3, 1, 2]);
    assert_eq!((p.count, p.p50, p.mean), (3, Some(2), Some(2.0)));
}

#[test]
fn throughput_counts_completions_per_iso_week_with_empty_weeks() {
    let tz = chrono_tz::UTC;
    let d = |s: &str| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
    let mut tp = Throughput::new(tz, Bucket::Week, d("2024-01-01"), d("2024-01-21"));
    for at in [
        "2024-01-02T10:00:00Z",
        "2024-01-07T23:59:59Z",
        "2024-01-15T00:00:00Z",
        "2024-02-01T00:00:00Z",
    ] {
        tp.add(t(at));
    }
    assert_eq!(
        tp.buckets(),
        vec![
            (d("2024-01-01"), 2),
            (d("2024-01-08"), 0),
            (d("2024-01-15"), 1)
        ]
    );
}

#[test]
fn wip_and_cumulative_flow_sample_the_end_of_each_day() {
    let d = |s: &str| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
    let mut flow = DailyFlow::new(
        chrono_tz::UTC,
        d("2024-01-01"),
        d("2024-01-05"),
        t("2024-01-04T12:00:00Z"),
    );
    flow.add(
        "Open",
        StatusCategory::Todo,
        t("2024-01-01T10:00:00Z"),
        Some(t("2024-01-02T10:00:00Z")),
    );
    flow.add(
        "In Progress",
        StatusCategory::InProgress,
        t("2024-01-02T10:00:00Z"),
        None,
    );
    flow.add(
        "In Progress",
        StatusCategory::InProgress,
        t("2024-01-02T00:00:00Z"),
        Some(t("2024-01-03T00:00:00Z")),
    );
    // Days that have not ended by `now` are not sampled, but every day of the range has its place.
    assert_eq!(flow.days().len(), 5);
    assert_eq!(flow.sampled_days(), 3);
    assert_eq!(flow.wip(), vec![Some(1), Some(1), Some(1), None, None]);
    let cfd = flow.cumulative_flow();
    let statuses: Vec<&str> = cfd.iter().map(|s| s.status.as_str()).collect();
    assert_eq!(statuses, ["Open", "In Progress"], "flow order, not by name");
    assert_eq!(cfd[0].items, vec![Some(1), Some(0), Some(0), None, None]);
}

fn arb_history() -> impl Strategy<Value = (Vec<(i64, usize)>, i64)> {
    // (offset from creation in seconds, status index) per change, and `now` offset.
    (
        prop::collection::vec((-3600i64..40 * D, 0usize..5), 0..25),
        0i64..60 * D,
    )
}

const STATUSES: [&str; 5] = ["Open", "In Progress", "Review", "Done", "Closed"];

proptest! {
    #[test]
    fn intervals_tile_the_items_life_and_business_time_never_exceeds_calendar_time(
        (changes, now_offset) in arb_history(),
        tz in prop::sample::select(vec!["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata"]),
    ) {
        let created = Utc.with_ymd_and_hms(2024, 3, 1, 7, 13, 0).unwrap();
        let now = created + Duration::seconds(now_offset);
        let mut from = "Open".to_string();
        let status_changes: Vec<StatusChange> = changes.iter().enumerate().map(|(n, (off, s))| {
            let to = STATUSES[*s].to_string();
            let c = StatusChange {
                item_id: "x".into(),
                change_id: n.to_string(),
                at: created + Duration::seconds(*off),
                author: None,
                from_status: Some(from.clone()),
                to_status: to.clone(),
            };
            from = to;
            c
        }).collect();
        let mut it = item("2024-03-01T07:13:00Z", &from);
        it.created_at = created;
        let cal = BusinessCalendar::try_from(CalendarSpec { time_zone: tz.into(), ..CalendarSpec::default() }).unwrap();
        let map = StatusMap::default();
        let iv = status_intervals(&it, &status_changes, &map, &cal, now);
        prop_assert!(!iv.is_empty());
        prop_assert_eq!(iv[0].start, created);
        for w in iv.windows(2) {
            prop_assert_eq!(w[0].end, Some(w[1].start));
        }
        prop_assert_eq!(iv.last().unwrap().end, None);
        let total: i64 = iv.iter().map(|i| i.calendar_seconds).sum();
        prop_assert_eq!(total, (now.max(created) - created).num_seconds());
        for i in &iv {
            prop_assert!(i.calendar_seconds >= 0);
            prop_assert!(i.business_seconds >= 0 && i.business_seconds <= i.calendar_seconds);
        }
        let history = ItemHistory { item: it, status_changes, field_changes: vec![], people: vec![], pull_request: None, reviews: vec![], worklogs: vec![], sprints: vec![], moved_node_id: None, workflow_exits: None };
        let m = item_metrics(&history.item, &history.field_changes, &iv, &map, &cal, now);
        if let (Some(c), Some(l)) = (m.cycle_seconds, m.lead_seconds) {
            prop_assert!(c <= l);
        }
        if let (Some(b), Some(c)) = (m.lead_business_seconds, m.lead_seconds) {
            prop_assert!(b <= c);
        }
        if let Some(e) = m.flow_efficiency {
            prop_assert!((0.0..=1.0).contains(&e));
        }
    }
}
