//! The generated organization: what a test asks for ([`FakeOrgSpec`]) and the seeded history made from it —
//! repositories, issues and pull requests with their timelines, reviews and comments, deployments and
//! releases — which [`super::FakeGithub`] serves and mutates.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Duration as Span, TimeZone, Utc};
use rand::rngs::SmallRng;
use rand::{RngExt, SeedableRng};
use serde_json::{json, Value};

use super::{FakeDeployment, Item, State};
/// What to generate.
#[derive(Debug, Clone)]
pub struct FakeOrgSpec {
    /// Organization login.
    pub org: String,
    /// Repositories, named `repo-00`, `repo-01`, …
    pub repos: usize,
    /// Issues over all repositories.
    pub issues: usize,
    /// Pull requests over all repositories.
    pub pull_requests: usize,
    /// Timeline events per item, about.
    pub events_per_item: usize,
    /// Deployments per repository.
    pub deployments_per_repo: usize,
    /// Releases per repository.
    pub releases_per_repo: usize,
    /// Seed; the same seed gives the same organization.
    pub seed: u64,
    /// Latency added to every response.
    pub latency: Duration,
}

impl Default for FakeOrgSpec {
    fn default() -> Self {
        Self {
            org: "acme".into(),
            repos: 2,
            issues: 250,
            pull_requests: 120,
            events_per_item: 8,
            deployments_per_repo: 12,
            releases_per_repo: 6,
            seed: 7,
            latency: Duration::ZERO,
        }
    }
}

/// The generated history starts here and ends within 2026.
pub(super) fn base() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 5, 9, 0, 0)
        .single()
        .expect("a valid time")
}

pub(super) const PEOPLE: [&str; 6] = ["alice", "bob", "carol", "dmitri", "erin", "farid"];

pub(super) fn generate(spec: &FakeOrgSpec) -> State {
    let mut rng = SmallRng::seed_from_u64(spec.seed);
    let mut repos: BTreeMap<String, Vec<Item>> = (0..spec.repos.max(1))
        .map(|i| (format!("{}/repo-{i:02}", spec.org), Vec::new()))
        .collect();
    let names: Vec<String> = repos.keys().cloned().collect();
    let total = spec.issues + spec.pull_requests;
    let span = 290 * 86_400i64;
    for n in 0..total {
        let repo = &names[n % names.len()];
        let items = repos.get_mut(repo).expect("a generated repository");
        let number = items.len() as i64 + 1;
        let created = base() + Span::seconds(span * n as i64 / total.max(1) as i64);
        let pull_request = n % total.max(1) >= spec.issues;
        let mut item = if pull_request {
            pull_request_item(&mut rng, number, created, spec.events_per_item)
        } else {
            issue_item(&mut rng, number, created, spec.events_per_item)
        };
        item.comments = (1..=2)
            .map(|k| {
                json!({"id": format!("IC_{repo}_{number}_{k}"), "createdAt": created + Span::hours(k * 3), "author": who(&mut rng)})
            })
            .collect();
        items.push(item);
    }
    let deployments = names
        .iter()
        .enumerate()
        .map(|(r, repo)| {
            let list = (0..spec.deployments_per_repo)
                .map(|k| {
                    let created = base()
                        + Span::seconds(span * k as i64 / spec.deployments_per_repo.max(1) as i64)
                        + Span::minutes(r as i64 * 7);
                    let ok = rng.random_bool(0.85);
                    let end = created + Span::minutes(rng.random_range(3..40));
                    FakeDeployment {
                        id: (r * 100_000 + k) as i64 + 1,
                        created,
                        statuses: vec![
                            ("IN_PROGRESS", created + Span::minutes(1)),
                            (if ok { "SUCCESS" } else { "FAILURE" }, end),
                        ],
                    }
                })
                .collect();
            (repo.clone(), list)
        })
        .collect();
    let releases = names
        .iter()
        .enumerate()
        .map(|(r, repo)| {
            let list = (0..spec.releases_per_repo)
                .map(|k| {
                    let created = base()
                        + Span::seconds(span * k as i64 / spec.releases_per_repo.max(1) as i64)
                        + Span::hours(r as i64 * 5 + 30);
                    ((r * 1000 + k) as i64 + 1, created)
                })
                .collect();
            (repo.clone(), list)
        })
        .collect();
    State {
        org: spec.org.clone(),
        repos,
        deployments,
        releases,
        remaining: 5000,
        ..State::default()
    }
}

/// A user as an `Actor`, `Assignee` or `RequestedReviewer`: those are interfaces and unions, so GitHub's
/// answer (and the fake's data, see [`as_github_answers`](super::graphql::as_github_answers)) names the concrete type.
pub(super) fn user(login: &str) -> Value {
    json!({"__typename": "User", "login": login})
}

fn who(rng: &mut SmallRng) -> Value {
    user(PEOPLE[rng.random_range(0..PEOPLE.len())])
}

fn step(rng: &mut SmallRng, at: &mut DateTime<Utc>) -> DateTime<Utc> {
    *at += Span::minutes(rng.random_range(20..3000));
    *at
}

fn noise(rng: &mut SmallRng, at: &mut DateTime<Utc>, events: &mut Vec<Value>, n: usize) {
    for k in 0..n {
        let t = step(rng, at);
        let kind = if k % 2 == 0 {
            "LabeledEvent"
        } else {
            "UnlabeledEvent"
        };
        events.push(json!({"__typename": kind, "createdAt": t, "actor": who(rng), "label": {"name": format!("area: {}", k / 2 % 3)}}));
    }
}

fn issue_item(rng: &mut SmallRng, number: i64, created: DateTime<Utc>, per_item: usize) -> Item {
    let mut at = created;
    let mut events = Vec::new();
    let t = step(rng, &mut at);
    events.push(json!({"__typename": "AssignedEvent", "createdAt": t, "actor": who(rng), "assignee": who(rng)}));
    let t = step(rng, &mut at);
    events.push(json!({"__typename": "LabeledEvent", "createdAt": t, "actor": who(rng), "label": {"name": "status: in progress"}}));
    noise(rng, &mut at, &mut events, per_item.saturating_sub(5));
    let t = step(rng, &mut at);
    events.push(json!({"__typename": "LabeledEvent", "createdAt": t, "actor": who(rng), "label": {"name": "status: review"}}));
    let closed = rng.random_bool(0.75);
    if closed {
        let t = step(rng, &mut at);
        events.push(json!({"__typename": "UnlabeledEvent", "createdAt": t, "actor": who(rng), "label": {"name": "status: review"}}));
        let t = step(rng, &mut at);
        let reason = if rng.random_bool(0.1) {
            "NOT_PLANNED"
        } else {
            "COMPLETED"
        };
        events.push(json!({"__typename": "ClosedEvent", "createdAt": t, "actor": who(rng), "stateReason": reason}));
    }
    Item {
        number,
        pull_request: false,
        created,
        updated: at,
        state: if closed { "CLOSED" } else { "OPEN" },
        draft: false,
        events,
        reviews: Vec::new(),
        comments: Vec::new(),
        node: None,
    }
}

fn pull_request_item(
    rng: &mut SmallRng,
    number: i64,
    created: DateTime<Utc>,
    per_item: usize,
) -> Item {
    let mut at = created;
    let mut events = Vec::new();
    let mut reviews = Vec::new();
    let started_draft = rng.random_bool(0.3);
    if started_draft {
        let t = step(rng, &mut at);
        events
            .push(json!({"__typename": "ReadyForReviewEvent", "createdAt": t, "actor": who(rng)}));
    }
    let t = step(rng, &mut at);
    events.push(json!({"__typename": "ReviewRequestedEvent", "createdAt": t, "actor": who(rng), "requestedReviewer": who(rng)}));
    noise(rng, &mut at, &mut events, per_item.saturating_sub(4));
    let t = step(rng, &mut at);
    reviews.push(json!({"id": format!("PRR_{number}_1"), "state": "CHANGES_REQUESTED", "submittedAt": t, "author": who(rng)}));
    let t = step(rng, &mut at);
    reviews.push(json!({"id": format!("PRR_{number}_2"), "state": "APPROVED", "submittedAt": t, "author": who(rng)}));
    let outcome = rng.random_range(0..10);
    let state = match outcome {
        0..=6 => {
            let t = step(rng, &mut at);
            events.push(json!({"__typename": "MergedEvent", "createdAt": t, "actor": who(rng)}));
            events.push(json!({"__typename": "ClosedEvent", "createdAt": t, "actor": who(rng)}));
            "MERGED"
        }
        7 => {
            let t = step(rng, &mut at);
            events.push(json!({"__typename": "ClosedEvent", "createdAt": t, "actor": who(rng)}));
            "CLOSED"
        }
        _ => "OPEN",
    };
    Item {
        number,
        pull_request: true,
        created,
        updated: at,
        state,
        draft: false,
        events,
        reviews,
        comments: Vec::new(),
        node: None,
    }
}
