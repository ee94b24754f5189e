//! The generated instance: what a test asks for ([`FakeJiraSpec`]), the statuses it knows (Cyrillic names,
//! a name listed twice under two project scopes) and the seeded projects made from it — issues with their
//! changelogs, worklogs and sprints — which [`super::FakeJira`] serves and mutates.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Duration as Span, TimeZone, Utc};
use flowlake_connect::jira::Flavor;
use rand::rngs::SmallRng;
use rand::{RngExt, SeedableRng};
use serde_json::{json, Value};

use super::{Issue, State};

/// What to generate.
#[derive(Debug, Clone)]
pub struct FakeJiraSpec {
    /// `Cloud` or `Server` (`Auto` serves Cloud).
    pub flavor: Flavor,
    /// Project keys.
    pub projects: Vec<String>,
    /// Issues over all projects.
    pub issues: usize,
    /// Changelog entries per issue, about.
    pub histories_per_issue: usize,
    /// Most changelog entries a search embeds; longer changelogs are cut (`total` says so).
    pub embed_limit: usize,
    /// The API user's time zone: JQL dates are read in it and times are written with its offset.
    pub time_zone: chrono_tz::Tz,
    /// Seed.
    pub seed: u64,
    /// Latency added to every response.
    pub latency: Duration,
}

impl Default for FakeJiraSpec {
    fn default() -> Self {
        Self {
            flavor: Flavor::Cloud,
            projects: vec!["CORE".into(), "WEB".into()],
            issues: 150,
            histories_per_issue: 8,
            embed_limit: 20,
            time_zone: chrono_tz::Europe::Moscow,
            seed: 11,
            latency: Duration::ZERO,
        }
    }
}

/// (id, name, category key) of the instance's statuses. `/status` lists every status of every workflow, and
/// a team-managed project has statuses of its own: the same name can come twice with different ids (real
/// instances list `To Do` as 10033 and 10116), the last two here, scoped to a project.
pub(super) const STATUSES: [(&str, &str, &str); 6] = [
    ("1", "Open", "new"),
    ("3", "В работе", "indeterminate"),
    ("10100", "Review", "indeterminate"),
    ("10001", "Готово", "done"),
    ("10033", "To Do", "new"),
    ("10116", "To Do", "new"),
];

/// The id a status name has or had: renaming keeps a status's id (`In Progress` became `В работе`, both
/// 3); `Testing` was deleted, its id is still in old changelogs.
pub(super) fn status_id(name: &str) -> &'static str {
    match name {
        "In Progress" => "3",
        "Testing" => "10200",
        _ => STATUSES
            .iter()
            .find(|s| s.1 == name)
            .map_or("10000", |s| s.0),
    }
}

/// A status category as Jira writes it (`/rest/api/3/statuscategory`: 2 `new` blue-gray "To Do",
/// 4 `indeterminate` yellow "In Progress", 3 `done` green "Done").
pub(super) fn status_category(base: &str, key: &str) -> Value {
    let (id, color, name) = match key {
        "new" => (2, "blue-gray", "To Do"),
        "done" => (3, "green", "Done"),
        _ => (4, "yellow", "In Progress"),
    };
    json!({"self": format!("{base}/rest/api/3/statuscategory/{id}"), "id": id, "key": key, "colorName": color, "name": name})
}

pub(super) const PEOPLE: [&str; 4] = ["5b10a", "5b10b", "5b10c", "5b10d"];

/// The shown name of account `id` (`5b10a` is `User a`).
pub(super) fn display_name(id: &str) -> String {
    format!("User {}", id.get(4..).unwrap_or(id))
}

pub(super) fn base() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 2, 2, 7, 0, 0)
        .single()
        .expect("a valid time")
}

pub(super) fn generate(spec: &FakeJiraSpec) -> State {
    let mut rng = SmallRng::seed_from_u64(spec.seed);
    let mut s = State {
        next_history: 1000,
        ..State::default()
    };
    let mut numbers: BTreeMap<String, usize> = BTreeMap::new();
    for n in 0..spec.issues {
        let project = spec.projects[n % spec.projects.len().max(1)].clone();
        let number = numbers.entry(project.clone()).or_insert(0);
        *number += 1;
        let created = base() + Span::minutes(n as i64 * 97);
        let mut issue = Issue {
            id: 10_000 + n as u64,
            key: format!("{project}-{number}"),
            project,
            created,
            updated: created,
            status: 0,
            histories: Vec::new(),
        };
        let mut at = created;
        let mut step = |rng: &mut SmallRng| {
            at += Span::minutes(rng.random_range(30..2000));
            at
        };
        let push = |s: &mut State, issue: &mut Issue, at, field: &str, from: String, to: String| {
            s.next_history += 1;
            let who = PEOPLE[s.next_history as usize % PEOPLE.len()];
            issue
                .histories
                .push((s.next_history, who, at, field.into(), from, to));
            issue.updated = at;
        };
        if n == 0 {
            // The golden issue, for hand-computed time in status: Open 2 h, В работе 24 h, Review 4 h, then
            // Готово; created Monday 2026-02-02 10:00 Moscow time.
            for (hours, to) in [(2, 1usize), (26, 2), (30, 3)] {
                let from = STATUSES[issue.status].1.to_string();
                push(
                    &mut s,
                    &mut issue,
                    created + Span::hours(hours),
                    "status",
                    from,
                    STATUSES[to].1.into(),
                );
                issue.status = to;
            }
            s.issues.push(issue);
            continue;
        }
        if n == 1 {
            // History under names the instance no longer has: `In Progress` was renamed `В работе`, and
            // `Testing` was deleted. Open 1 h, In Progress 2 h, Testing 3 h, then Готово.
            for (hours, from, to) in [
                (1, "Open", "In Progress"),
                (3, "In Progress", "Testing"),
                (6, "Testing", "Готово"),
            ] {
                push(
                    &mut s,
                    &mut issue,
                    created + Span::hours(hours),
                    "status",
                    from.into(),
                    to.into(),
                );
            }
            issue.status = 3;
            s.issues.push(issue);
            continue;
        }
        let mut moves = vec![1usize, 2];
        if rng.random_bool(0.3) {
            moves.extend([1, 2]);
        }
        let done = rng.random_bool(0.8);
        if done {
            moves.push(3);
        }
        // Every tenth issue has a long changelog, past what a search embeds.
        let noise = if n % 10 == 0 {
            spec.histories_per_issue * 3
        } else {
            spec.histories_per_issue.saturating_sub(moves.len())
        };
        for k in 0..noise {
            let t = step(&mut rng);
            push(
                &mut s,
                &mut issue,
                t,
                "assignee",
                PEOPLE[k % 4].into(),
                PEOPLE[(k + 1) % 4].into(),
            );
        }
        for to in moves {
            let t = step(&mut rng);
            let from = STATUSES[issue.status].1.to_string();
            push(&mut s, &mut issue, t, "status", from, STATUSES[to].1.into());
            issue.status = to;
        }
        s.issues.push(issue);
    }
    s
}
