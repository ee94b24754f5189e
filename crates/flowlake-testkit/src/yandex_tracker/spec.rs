//! The generated organization: what a test asks for ([`FakeTrackerSpec`]), the workflow's statuses, and
//! the seeded queues made from it — issues with their changelogs, `DEV-1` replaying tracker-exporter's
//! worked example — which [`super::FakeTracker`] serves and mutates.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Duration as Span, NaiveDateTime, TimeZone, Utc};
use rand::rngs::SmallRng;
use rand::{RngExt, SeedableRng};
use serde_json::{json, Value};

use super::payloads::{field_ref, issue_ref, person, status_ref, time, API};
use super::{Issue, State};

/// What to generate.
#[derive(Debug, Clone)]
pub struct FakeTrackerSpec {
    /// Queue keys.
    pub queues: Vec<String>,
    /// Issues over all queues (the first is the worked example).
    pub issues: usize,
    /// Changelog entries per issue, about.
    pub entries_per_issue: usize,
    /// Seed.
    pub seed: u64,
    /// Latency added to every response.
    pub latency: Duration,
}

impl Default for FakeTrackerSpec {
    fn default() -> Self {
        Self {
            queues: vec!["DEV".into(), "SRE".into()],
            issues: 120,
            entries_per_issue: 8,
            seed: 5,
            latency: Duration::ZERO,
        }
    }
}

/// (key, display, type).
pub(super) const STATUSES: [(&str, &str, &str); 4] = [
    ("open", "Open", "new"),
    ("inProgress", "In Progress", "inProgress"),
    ("review", "Review", "paused"),
    ("closed", "Closed", "done"),
];

pub(super) fn at(s: &str) -> DateTime<Utc> {
    NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M")
        .map(|n| n.and_utc())
        .unwrap_or_default()
}

pub(super) const PEOPLE: [(&str, &str); 3] = [("11", "Алиса"), ("12", "Борис"), ("13", "Вера")];

impl State {
    pub(super) fn workflow(&mut self, issue: &mut Issue, when: DateTime<Utc>, to: usize) {
        self.next_entry += 1;
        let who = PEOPLE[self.next_entry as usize % PEOPLE.len()];
        // The first move out of the initial status has no `statusStartTime.from` in real data (tracker-exporter
        // 2.0.0, models/issue.py: "transition from the initial status", falling back to `createdAt`).
        let started = if issue.transitioned {
            json!(time(issue.status_start))
        } else {
            Value::Null
        };
        let id = format!("e{:06}", self.next_entry);
        let about = issue_ref(issue);
        issue.changelog.push(json!({
            "id": id, "self": format!("{API}/issues/{}/changelog/{id}", issue.key), "issue": about,
            "updatedAt": time(when), "updatedBy": person(who), "type": "IssueWorkflow", "transport": "front",
            "fields": [
                {"field": field_ref("status", "Статус"), "from": status_ref(issue.status), "to": status_ref(to)},
                {"field": field_ref("statusStartTime", "Статус изменен"), "from": started, "to": time(when)}
            ]
        }));
        issue.previous = Some(issue.status);
        issue.status = to;
        issue.status_start = when;
        issue.transitioned = true;
        issue.updated = when;
    }

    fn update(
        &mut self,
        issue: &mut Issue,
        when: DateTime<Utc>,
        field: &str,
        from: Value,
        to: Value,
    ) {
        self.entry(issue, when, "IssueUpdated", vec![(field, from, to)]);
    }

    /// Appends a changelog entry of `kind` changing `fields` (id, from, to).
    pub(super) fn entry(
        &mut self,
        issue: &mut Issue,
        when: DateTime<Utc>,
        kind: &str,
        fields: Vec<(&str, Value, Value)>,
    ) {
        self.next_entry += 1;
        let who = PEOPLE[self.next_entry as usize % PEOPLE.len()];
        let fields: Vec<Value> = fields
            .into_iter()
            .map(|(id, from, to)| {
                let display = match id {
                    "assignee" => "Исполнитель",
                    "queue" => "Очередь",
                    "key" => "Ключ",
                    other => other,
                };
                json!({"field": field_ref(id, display), "from": from, "to": to})
            })
            .collect();
        let id = format!("e{:06}", self.next_entry);
        let about = issue_ref(issue);
        issue.changelog.push(json!({
            "id": id, "self": format!("{API}/issues/{}/changelog/{id}", issue.key), "issue": about,
            "updatedAt": time(when), "updatedBy": person(who), "type": kind, "transport": "front",
            "fields": fields
        }));
        issue.updated = when;
    }
}

pub(super) fn generate(spec: &FakeTrackerSpec) -> State {
    let mut rng = SmallRng::seed_from_u64(spec.seed);
    let mut s = State::default();
    let mut numbers: BTreeMap<String, usize> = BTreeMap::new();
    for n in 0..spec.issues {
        let queue = spec.queues[n % spec.queues.len().max(1)].clone();
        let number = numbers.entry(queue.clone()).or_insert(0);
        *number += 1;
        let created = if n == 0 {
            at("2023-10-16 06:00")
        } else {
            Utc.with_ymd_and_hms(2026, 3, 2, 6, 0, 0)
                .single()
                .unwrap_or_default()
                + Span::minutes(n as i64 * 83)
        };
        let mut issue = Issue {
            id: format!("6{n:07x}a1b2c3d4e5f6"),
            key: format!("{queue}-{number}"),
            queue,
            created,
            updated: created,
            status: 0,
            status_start: created,
            transitioned: false,
            previous: None,
            changelog: Vec::new(),
        };
        if n == 0 {
            // tracker-exporter's worked example.
            for (when, to) in [
                ("2023-10-16 08:30", 1),
                ("2023-10-17 12:00", 2),
                ("2023-10-18 10:00", 1),
                ("2023-10-19 09:00", 3),
            ] {
                s.workflow(&mut issue, at(when), to);
            }
            s.issues.push(issue);
            continue;
        }
        let mut when = created;
        let long = n % 15 == 0;
        let noise = if long {
            130
        } else {
            spec.entries_per_issue.saturating_sub(3)
        };
        for k in 0..noise {
            when += Span::minutes(rng.random_range(10..600));
            let (a, b) = (PEOPLE[k % 3], PEOPLE[(k + 1) % 3]);
            s.update(&mut issue, when, "assignee", person(a), person(b));
        }
        let mut path = vec![1, 2];
        if rng.random_bool(0.25) {
            path.extend([1, 2]);
        }
        if rng.random_bool(0.75) {
            path.push(3);
        }
        for to in path {
            when += Span::minutes(rng.random_range(60..3000));
            s.workflow(&mut issue, when, to);
        }
        s.issues.push(issue);
    }
    s
}
