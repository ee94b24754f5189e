//! The generated group: what a test asks for ([`FakeGitlabSpec`]) and the seeded projects made from it —
//! issues and merge requests with their label and state events, deployments and pipelines — which
//! [`super::FakeGitlab`] serves and mutates.
use std::time::Duration;

use chrono::{DateTime, Duration as Span, TimeZone, Utc};
use rand::rngs::SmallRng;
use rand::{RngExt, SeedableRng};
use serde_json::{json, Value};

use super::payloads::{user, user_full, user_locked};
use super::{Item, State};

/// What to generate.
#[derive(Debug, Clone)]
pub struct FakeGitlabSpec {
    /// Group path.
    pub group: String,
    /// Project names inside the group; a name with a `/` (`tools/cli`) is in a subgroup.
    pub projects: Vec<String>,
    /// Paths of projects of other namespaces shared with the group (`partner/lib`).
    pub shared_projects: Vec<String>,
    /// Issues over all projects.
    pub issues: usize,
    /// Merge requests over all projects.
    pub merge_requests: usize,
    /// Seed.
    pub seed: u64,
    /// Latency added to every response.
    pub latency: Duration,
}

impl Default for FakeGitlabSpec {
    fn default() -> Self {
        Self {
            group: "acme".into(),
            projects: vec!["api".into(), "web".into()],
            shared_projects: Vec::new(),
            issues: 90,
            merge_requests: 40,
            seed: 3,
            latency: Duration::ZERO,
        }
    }
}

pub(super) const PEOPLE: [&str; 3] = ["alice", "bob", "carol"];

pub(super) fn base() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0)
        .single()
        .unwrap_or_default()
}

impl State {
    pub(super) fn label(&mut self, item: &mut Item, at: DateTime<Utc>, name: &str, add: bool) {
        self.next_event += 1;
        item.label_events.push(json!({
            "id": self.next_event, "user": user(self.next_event as usize), "created_at": at,
            "resource_type": if item.mr { "MergeRequest" } else { "Issue" }, "resource_id": item.id,
            "label": {"id": 7, "name": name, "color": "#428BCA", "description": ""}, "action": if add { "add" } else { "remove" }
        }));
        if add {
            item.labels.push(name.into());
        } else {
            item.labels.retain(|l| l != name);
        }
        item.updated = at;
    }

    pub(super) fn state(&mut self, item: &mut Item, at: DateTime<Utc>, state: &'static str) {
        self.next_event += 1;
        item.states.push(json!({
            "id": self.next_event, "user": user(self.next_event as usize), "created_at": at,
            "resource_type": if item.mr { "MergeRequest" } else { "Issue" }, "resource_id": item.id, "state": state
        }));
        item.state = match state {
            "reopened" => "opened",
            s => s,
        };
        item.updated = at;
    }
}

pub(super) fn generate(spec: &FakeGitlabSpec) -> State {
    let mut rng = SmallRng::seed_from_u64(spec.seed);
    let mut s = State {
        group: spec.group.clone(),
        shared: spec.shared_projects.clone(),
        ..State::default()
    };
    let paths: Vec<String> = spec
        .projects
        .iter()
        .map(|p| format!("{}/{p}", spec.group))
        .chain(spec.shared_projects.iter().cloned())
        .collect();
    for p in &paths {
        s.projects.insert(p.clone(), Vec::new());
    }
    let total = spec.issues + spec.merge_requests;
    for n in 0..total {
        let path = &paths[n % paths.len().max(1)];
        let iid = s.projects[path].len() as i64 + 1;
        let mr = n >= spec.issues;
        let created = base() + Span::minutes(n as i64 * 71);
        let mut item = Item {
            id: 5000 + n as i64,
            iid,
            mr,
            created,
            updated: created,
            state: "opened",
            labels: Vec::new(),
            states: Vec::new(),
            label_events: Vec::new(),
        };
        if n == 0 {
            s.label(
                &mut item,
                created + Span::hours(2),
                "workflow::in progress",
                true,
            );
            s.state(&mut item, created + Span::hours(30), "closed");
        } else {
            let mut at = created;
            let mut step = |rng: &mut SmallRng| {
                at += Span::minutes(rng.random_range(30..2000));
                at
            };
            let t = step(&mut rng);
            s.label(&mut item, t, "workflow::in progress", true);
            let t = step(&mut rng);
            s.label(&mut item, t, "workflow::review", true);
            let t = step(&mut rng);
            s.label(&mut item, t, "workflow::in progress", false);
            if rng.random_bool(0.75) {
                let t = step(&mut rng);
                s.state(&mut item, t, if mr { "merged" } else { "closed" });
            }
        }
        if let Some(list) = s.projects.get_mut(path) {
            list.push(item);
        }
    }
    for (p, path) in paths.iter().enumerate() {
        let (deployments, pipelines) = delivery(p as i64, path);
        s.deployments.insert(path.clone(), deployments);
        s.pipelines.insert(path.clone(), pipelines);
    }
    s
}

/// Project `p`'s 12 deployments (every fourth failed; the tenth canceled before its job ran; the fifth created
/// through the API, without a job; the last one still running; to production and staging by turns) and 20
/// pipelines (every fifth failed; the eighth an `external` one still running, with `updated_at: null`), a day
/// apart.
///
/// Shapes: gitlabhq/gitlabhq `lib/api/entities/deployment.rb` (no top-level `finished_at`), `doc/api/deployments.md`
/// (`deployable: null` for a deployment created through the API), apache/incubator-devlake
/// `backend/plugins/gitlab/e2e/raw_tables/_raw_gitlab_api_deployments.csv` (a job that never ran:
/// `started_at`, `finished_at` and `duration` `null`) and `_raw_gitlab_api_pipeline.csv` (pipeline 457474837:
/// `running`, source `external`, `updated_at: null`).
fn delivery(p: i64, path: &str) -> (Vec<Value>, Vec<Value>) {
    let deployments = (0..12)
        .map(|k| {
            let at = base() + Span::days(k) + Span::minutes(p * 7);
            let status = match k {
                11 => "running",
                9 => "canceled",
                k if k % 4 == 3 => "failed",
                _ => "success",
            };
            let done = matches!(status, "success" | "failed").then(|| at + Span::minutes(6));
            let updated = match status {
                "running" => at,
                "canceled" => at + Span::minutes(2),
                _ => at + Span::minutes(6),
            };
            let sha = format!("{:040x}", p * 1000 + k);
            let job = 9000 + p * 100 + k;
            let deployable = match k {
                4 => Value::Null,
                _ => {
                    let mut j = json!({"id": job, "status": status, "stage": "deploy", "name": "deploy",
                            "ref": "main", "tag": false, "coverage": null, "allow_failure": false,
                            "created_at": at - Span::minutes(1),
                            "started_at": done.map(|_| at), "finished_at": done, "erased_at": null,
                            "duration": done.map(|_| 360.5), "queued_duration": done.map(|_| 2.5),
                            "user": user_full(k as usize),
                            "commit": {"id": sha, "short_id": &sha[..8], "created_at": at - Span::minutes(3),
                                       "parent_ids": [format!("{:040x}", p * 1000 + k + 500)],
                                       "title": format!("Change {k}"), "message": format!("Change {k}\n"),
                                       "author_name": "alice", "author_email": "alice@example.com",
                                       "authored_date": at - Span::minutes(3), "committer_name": "alice",
                                       "committer_email": "alice@example.com", "committed_date": at - Span::minutes(3),
                                       "trailers": {}, "web_url": format!("https://gitlab.example.com/{path}/-/commit/{sha}")},
                            "pipeline": {"id": 5000 + job, "iid": k + 1, "project_id": p + 1, "sha": sha, "ref": "main",
                                         "status": status, "source": "push", "created_at": at - Span::minutes(2),
                                         "updated_at": updated, "web_url": format!("https://gitlab.example.com/{path}/-/pipelines/{}", 5000 + job)},
                            "web_url": format!("https://gitlab.example.com/{path}/-/jobs/{job}"),
                            "project": {"ci_job_token_scope_enabled": false},
                            "artifacts": if done.is_some() {
                                json!([{"file_type": "trace", "size": 2421, "filename": "job.log", "file_format": null}])
                            } else { json!([]) },
                            "runner": null, "artifacts_expire_at": null, "tag_list": []});
                    if status == "failed" {
                        j["failure_reason"] = json!("script_failure");
                    }
                    j
                }
            };
            let (env, name) = if k % 2 == 0 { (1, "production") } else { (2, "staging") };
            json!({
                "id": 700 + p * 100 + k, "iid": k + 1, "ref": "main", "sha": sha,
                "created_at": at, "updated_at": updated, "status": status,
                "user": user_locked(k as usize),
                "environment": {"id": env, "name": name, "slug": name,
                                "external_url": format!("https://{path}.example.com"),
                                "created_at": base() - Span::days(30), "updated_at": base() - Span::days(30)},
                "deployable": deployable
            })
        })
        .collect();
    let pipelines = (0..20).map(|k| pipeline(p, path, k)).collect();
    (deployments, pipelines)
}

/// Pipeline `k` of project `p` (see [`delivery`]).
fn pipeline(p: i64, path: &str, k: i64) -> Value {
    let at = base() + Span::hours(k * 20) + Span::minutes(p * 5);
    let id = 3000 + p * 100 + k;
    let external = k == 7;
    json!({
        "id": id, "iid": k + 1, "project_id": p + 1, "sha": format!("{:040x}", p * 1000 + k),
        "ref": if k % 3 == 0 { "main".to_string() } else { format!("change-{k}") },
        "status": if external { "running" } else if k % 5 == 4 { "failed" } else { "success" },
        "source": if external { "external" } else if k % 3 == 0 { "push" } else { "merge_request_event" },
        "created_at": at, "updated_at": if external { Value::Null } else { json!(at + Span::minutes(12)) },
        "web_url": format!("https://gitlab.example.com/{path}/-/pipelines/{id}")
    })
}
