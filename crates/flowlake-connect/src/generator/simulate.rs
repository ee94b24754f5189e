//! The simulation of one issue's life.

use chrono::{DateTime, Datelike, Duration, Utc, Weekday};
use rand::rngs::SmallRng;
use rand::{RngExt, SeedableRng};
use serde::{Deserialize, Serialize};

use super::GeneratorConfig;

/// A generated issue, shaped like a typical tracker's JSON with an embedded changelog.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DemoIssue {
    /// `PROJECT-n`.
    pub key: String,
    /// Project key.
    pub project: String,
    /// Title.
    pub summary: String,
    /// Bug, Task, Story or Epic.
    #[serde(rename = "type")]
    pub issue_type: String,
    /// Low, Medium, High or Critical.
    pub priority: String,
    /// Status at the generator's "now".
    pub status: String,
    /// Creation time.
    pub created: DateTime<Utc>,
    /// Last change.
    pub updated: DateTime<Utc>,
    /// When it was last resolved, if it is done.
    pub resolved: Option<DateTime<Utc>>,
    /// Reporter login.
    pub reporter: String,
    /// Assignee login.
    pub assignee: Option<String>,
    /// Labels.
    pub labels: Vec<String>,
    /// Components.
    pub components: Vec<String>,
    /// Story points.
    pub story_points: Option<u32>,
    /// Every change, oldest first.
    pub changelog: Vec<DemoChange>,
}

/// One changed field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DemoChange {
    /// Changelog entry id, increasing within the issue.
    pub id: u32,
    /// When.
    pub at: DateTime<Utc>,
    /// Who (login).
    pub author: String,
    /// Field name: `status`, `assignee`, `priority`.
    pub field: String,
    /// Value before.
    pub from: Option<String>,
    /// Value after.
    pub to: Option<String>,
}

const FIRST_NAMES: [&str; 16] = [
    "alice", "bob", "carol", "dmitry", "elena", "farid", "grace", "hiro", "irina", "jamal", "kate",
    "li", "maria", "nikolai", "olga", "pedro",
];
const TYPES: [(&str, f64); 4] = [
    ("Bug", 0.35),
    ("Task", 0.35),
    ("Story", 0.25),
    ("Epic", 0.05),
];
const PRIORITIES: [(&str, f64); 4] = [
    ("Low", 0.2),
    ("Medium", 0.5),
    ("High", 0.22),
    ("Critical", 0.08),
];
const COMPONENTS: [&str; 5] = ["api", "ui", "db", "auth", "infra"];
const LABELS: [&str; 5] = [
    "customer",
    "tech-debt",
    "security",
    "performance",
    "regression",
];
const VERBS: [&str; 8] = [
    "Fix", "Add", "Improve", "Refactor", "Remove", "Document", "Speed up", "Support",
];
const NOUNS: [&str; 8] = [
    "login flow",
    "export job",
    "search API",
    "billing page",
    "retry logic",
    "audit log",
    "dashboard",
    "cache",
];

/// Mean dwell in working hours before the next move, per status (log-normal, sigma 0.9).
fn dwell_hours(status: &str) -> f64 {
    match status {
        "Open" => 20.0,
        "In Progress" => 10.0,
        "Review" => 3.0,
        "Testing" => 5.0,
        _ => 30.0, // Done, before a reopening
    }
}

fn pick<'a>(rng: &mut SmallRng, weighted: &[(&'a str, f64)]) -> &'a str {
    let mut x: f64 = rng.random();
    for (v, w) in weighted {
        if x < *w {
            return v;
        }
        x -= w;
    }
    weighted[weighted.len() - 1].0
}

fn lognormal(rng: &mut SmallRng, mean: f64, sigma: f64) -> f64 {
    // Box–Muller; mu chosen so that the mean is `mean`.
    let u1: f64 = rng.random::<f64>().max(1e-12);
    let u2: f64 = rng.random();
    let z = (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos();
    let mu = mean.ln() - sigma * sigma / 2.0;
    (mu + sigma * z).exp()
}

/// Moves `t` forward by `hours` of working time (Monday–Friday 08:00–18:00 UTC).
fn add_working_hours(mut t: DateTime<Utc>, hours: f64) -> DateTime<Utc> {
    let mut left = (hours * 3600.0) as i64;
    loop {
        let day_start = t
            .date_naive()
            .and_hms_opt(8, 0, 0)
            .expect("valid")
            .and_utc();
        let day_end = t
            .date_naive()
            .and_hms_opt(18, 0, 0)
            .expect("valid")
            .and_utc();
        let weekend = matches!(t.weekday(), Weekday::Sat | Weekday::Sun);
        if weekend || t >= day_end {
            t = day_start + Duration::days(1);
            continue;
        }
        if t < day_start {
            t = day_start;
        }
        let room = (day_end - t).num_seconds();
        if left <= room {
            return t + Duration::seconds(left);
        }
        left -= room;
        t = day_start + Duration::days(1);
    }
}

/// Simulates issue `n` of the configured tracker. Depends only on the config and `n`.
pub fn simulate_issue(cfg: &GeneratorConfig, n: u64) -> DemoIssue {
    let mut rng = SmallRng::seed_from_u64(cfg.seed ^ n.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    // Projects get uneven shares: weight 1, 1/2, 1/3, …
    let weights: Vec<f64> = (1..=cfg.projects.len()).map(|i| 1.0 / i as f64).collect();
    let total: f64 = weights.iter().sum();
    let mut x = rng.random::<f64>() * total;
    let mut p = 0;
    while p + 1 < weights.len() && x >= weights[p] {
        x -= weights[p];
        p += 1;
    }
    let project = cfg.projects[p].clone();
    let people: Vec<String> = (0..cfg.people_per_project)
        .map(|i| {
            let name = FIRST_NAMES[(p * 5 + i as usize) % FIRST_NAMES.len()];
            format!("{name}.{}", project.to_lowercase())
        })
        .collect();
    let person = |rng: &mut SmallRng| people[rng.random_range(0..people.len())].clone();

    let now = cfg.now();
    let span = i64::from(cfg.days) * 86_400;
    // Creation spread evenly over the window by issue number, jittered, then moved into working hours.
    let base = now - Duration::seconds(span)
        + Duration::seconds(
            ((n as f64 + rng.random::<f64>()) * span as f64 / cfg.issues.max(1) as f64) as i64,
        );
    let created = if rng.random::<f64>() < 0.9 {
        add_working_hours(base, 0.0)
    } else {
        base
    };
    let created = created.min(now - Duration::seconds(1));

    let issue_type = pick(&mut rng, &TYPES).to_string();
    let priority = pick(&mut rng, &PRIORITIES).to_string();
    let reporter = person(&mut rng);
    let mut assignee: Option<String> = None;
    let mut changelog = Vec::new();
    let mut status = "Open".to_string();
    let mut resolved = None;
    let mut t = created;
    let mut next_id = 1u32;
    let mut push = |changelog: &mut Vec<DemoChange>,
                    at,
                    author: &str,
                    field: &str,
                    from: Option<String>,
                    to: Option<String>| {
        changelog.push(DemoChange {
            id: next_id,
            at,
            author: author.to_string(),
            field: field.into(),
            from,
            to,
        });
        next_id += 1;
    };

    for _ in 0..400 {
        let urgency = match priority.as_str() {
            "Critical" => 0.3,
            "High" => 0.7,
            _ => 1.0,
        };
        let hours = lognormal(&mut rng, dwell_hours(&status) * urgency, 0.9);
        // One move in twenty happens outside working hours (late fixes, other time zones).
        let next_t = if rng.random::<f64>() < 0.05 {
            t + Duration::seconds((hours * 3600.0) as i64)
        } else {
            add_working_hours(t, hours)
        };
        if next_t >= now {
            break;
        }
        t = next_t;
        let r: f64 = rng.random();
        let next = match status.as_str() {
            "Open" if r < 0.05 => "Cancelled",
            "Open" => "In Progress",
            "In Progress" if r < 0.05 => "Open",
            "In Progress" => "Review",
            "Review" if r < cfg.rework_rate => "In Progress",
            "Review" => "Testing",
            "Testing" if r < cfg.rework_rate => "In Progress",
            "Testing" => "Done",
            _ if r < cfg.reopen_rate => "In Progress",
            _ => break,
        };
        let actor = assignee.clone().unwrap_or_else(|| person(&mut rng));
        if next == "In Progress" && assignee.is_none() {
            let who = person(&mut rng);
            push(&mut changelog, t, &who, "assignee", None, Some(who.clone()));
            assignee = Some(who);
        }
        if status == "Open" && next == "In Progress" && rng.random::<f64>() < 0.1 {
            let to = if priority == "Critical" {
                "High"
            } else {
                "Critical"
            };
            push(
                &mut changelog,
                t,
                &actor,
                "priority",
                Some(priority.clone()),
                Some(to.to_string()),
            );
        }
        let same_second = next == "Review" && rng.random::<f64>() < 0.02;
        push(
            &mut changelog,
            t,
            &actor,
            "status",
            Some(status.clone()),
            Some(next.to_string()),
        );
        status = next.to_string();
        resolved = matches!(next, "Done" | "Cancelled").then_some(t);
        if same_second {
            // A quick double move in the same second, as bulk edits and automations produce.
            push(
                &mut changelog,
                t,
                &actor,
                "status",
                Some(status.clone()),
                Some("In Progress".into()),
            );
            status = "In Progress".into();
        }
    }
    let labels = (0..rng.random_range(0..3))
        .map(|_| LABELS[rng.random_range(0..LABELS.len())].to_string())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    DemoIssue {
        key: format!("{project}-{}", n + 1),
        summary: format!(
            "{} {}",
            VERBS[rng.random_range(0..VERBS.len())],
            NOUNS[rng.random_range(0..NOUNS.len())]
        ),
        project,
        issue_type,
        priority,
        status,
        created,
        updated: changelog.last().map_or(created, |c| c.at),
        resolved,
        reporter,
        assignee,
        labels,
        components: vec![COMPONENTS[rng.random_range(0..COMPONENTS.len())].to_string()],
        story_points: [1, 2, 3, 5, 8].get(rng.random_range(0..6)).copied(),
        changelog,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Timelike;

    #[test]
    fn working_hours_skip_nights_and_weekends() {
        let fri = "2024-01-05T17:00:00Z".parse::<DateTime<Utc>>().unwrap();
        assert_eq!(
            add_working_hours(fri, 2.0),
            "2024-01-08T09:00:00Z".parse::<DateTime<Utc>>().unwrap()
        );
        let sat = "2024-01-06T12:00:00Z".parse::<DateTime<Utc>>().unwrap();
        assert_eq!(add_working_hours(sat, 0.0).hour(), 8);
    }

    #[test]
    fn the_same_seed_and_number_give_the_same_issue() {
        let cfg = GeneratorConfig::default();
        assert_eq!(simulate_issue(&cfg, 17), simulate_issue(&cfg, 17));
        assert_ne!(simulate_issue(&cfg, 17), simulate_issue(&cfg, 18));
    }

    #[test]
    fn rework_rate_065_gives_about_twenty_status_changes() {
        let cfg = GeneratorConfig {
            rework_rate: 0.65,
            issues: 2000,
            days: 2000,
            ..GeneratorConfig::default()
        };
        let changes: usize = (0..2000)
            .map(|n| {
                simulate_issue(&cfg, n)
                    .changelog
                    .iter()
                    .filter(|c| c.field == "status")
                    .count()
            })
            .sum();
        let mean = changes as f64 / 2000.0;
        assert!((15.0..25.0).contains(&mean), "mean status changes {mean}");
    }

    #[test]
    fn histories_are_ordered_and_inside_the_window() {
        let cfg = GeneratorConfig::default();
        for n in 0..500 {
            let i = simulate_issue(&cfg, n);
            assert!(i.created < cfg.now());
            assert!(i
                .changelog
                .windows(2)
                .all(|w| w[0].at <= w[1].at && w[0].id < w[1].id));
            assert!(i
                .changelog
                .iter()
                .all(|c| c.at >= i.created && c.at < cfg.now()));
        }
    }
}
