//! A fake GitLab for tests and benchmarks: a group of generated projects served on
//! loopback under `/api/v4` — group projects (those of subgroups only with `include_subgroups=true`, those
//! other groups share with it unless `with_shared=false`: the defaults gitlabhq/gitlabhq `doc/api/groups.md`
//! gives), issues and merge requests filtered by `updated_after` and paged with `Link`/`X-Next-Page` (issues
//! by keyset `cursor` when asked `pagination=keyset`), resource state and label events, notes, deployments
//! and pipelines (ordered by `order_by`/`sort`), `RateLimit-*` headers — with faults on demand. Issue
//! `acme/api#1` has a fixed history for hand-computed time in status.
//!
//! Payloads follow GitLab's real shapes, `null`s included: deployments as `API::Entities::Deployment`
//! exposes them (no top-level `finished_at`; `deployable: null` for one created through the API; a job that
//! never ran has `finished_at: null`), a pipeline with `updated_at: null` as recorded by
//! apache/incubator-devlake (`backend/plugins/gitlab/e2e/raw_tables/_raw_gitlab_api_pipeline.csv`), issues
//! and merge requests with the `null` fields airbytehq/airbyte records
//! (`airbyte-integrations/connectors/source-gitlab/integration_tests/expected_records.jsonl`).
//!
//! Every request is held to the parameters GitLab documents for its endpoint and every 2xx answer to the answers
//! recorded from gitlab.com and GitLab's own JSON schemas ([`crate::contracts::recorded::gitlab`]): a breach
//! is answered `400` with the reasons in `message`, which ends the sync with them, and kept, and the fake panics
//! when dropped with breaches not taken ([`FakeGitlab::take_contract_violations`]).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use chrono::{DateTime, Duration as Span, TimeZone, Utc};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};
use wiremock::{MockServer, Request, Respond, ResponseTemplate};

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

/// A fault for the `nth` request of an operation: see [`StatusFault`].
pub type GitlabFault = crate::shared::StatusFault;

#[derive(Debug, Clone)]
struct Item {
    id: i64,
    iid: i64,
    mr: bool,
    created: DateTime<Utc>,
    updated: DateTime<Utc>,
    state: &'static str,
    labels: Vec<String>,
    states: Vec<Value>,
    label_events: Vec<Value>,
}

#[derive(Debug, Default)]
struct State {
    group: String,
    projects: BTreeMap<String, Vec<Item>>,
    /// Projects of other namespaces shared with the group.
    shared: Vec<String>,
    /// Deployments and pipelines per project, oldest first.
    deployments: BTreeMap<String, Vec<Value>>,
    pipelines: BTreeMap<String, Vec<Value>>,
    ledger: crate::shared::Ledger<GitlabFault>,
    next_event: i64,
    /// Breaches of GitLab's recorded contract seen so far.
    violations: Vec<String>,
    /// A pipeline was broken on purpose ([`FakeGitlab::break_pipeline`]): pipeline answers are not held to
    /// the recordings, which no broken pipeline fits.
    broken: bool,
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state.lock().unwrap_or_else(|p| p.into_inner())
}

const PEOPLE: [&str; 3] = ["alice", "bob", "carol"];

/// A user as GitLab's `UserBasic` entity writes one in issues, merge requests, notes and events (DevLake's
/// recorded issues: `fixtures/gitlab/recorded/issues.json`).
fn user(n: usize) -> Value {
    let u = PEOPLE[n % PEOPLE.len()];
    let id = n % 3 + 1;
    json!({"id": id, "username": u, "name": u.to_uppercase(), "state": "active",
           "avatar_url": format!("https://gitlab.example.com/uploads/-/system/user/avatar/{id}/avatar.png"),
           "web_url": format!("https://gitlab.example.com/{u}")})
}

/// A deployment's user: `UserBasic` with `locked`, as the recorded deployments have it.
fn user_locked(n: usize) -> Value {
    let mut u = user(n);
    u["locked"] = json!(false);
    u
}

/// A job's user: the whole `User` entity, as the recorded deployments' jobs have it.
fn user_full(n: usize) -> Value {
    let mut u = user_locked(n);
    if let Value::Object(m) = &mut u {
        m.insert("created_at".into(), json!("2025-01-06T09:00:00.000Z"));
        for key in [
            "bio",
            "location",
            "public_email",
            "skype",
            "linkedin",
            "twitter",
            "discord",
            "website_url",
            "organization",
            "job_title",
        ] {
            m.insert(key.into(), json!(""));
        }
        for (key, value) in [
            ("pronouns", Value::Null),
            ("bot", json!(false)),
            ("work_information", Value::Null),
            ("followers", json!(0)),
            ("following", json!(0)),
            ("local_time", Value::Null),
        ] {
            m.insert(key.into(), value);
        }
    }
    u
}

fn base() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0)
        .single()
        .unwrap_or_default()
}

impl State {
    fn label(&mut self, item: &mut Item, at: DateTime<Utc>, name: &str, add: bool) {
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

    fn state(&mut self, item: &mut Item, at: DateTime<Utc>, state: &'static str) {
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

fn generate(spec: &FakeGitlabSpec) -> State {
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

/// The notes of an item: a system note a minute after creation, and for even iids a comment 90 minutes
/// after it; the golden item (`acme/api#1`, by bob) has carol's comment an hour after creation.
fn notes(i: &Item) -> Vec<Value> {
    let mut v = vec![json!({
        "id": i.id * 10, "body": "changed the description", "author": user(i.iid as usize),
        "created_at": i.created + Span::minutes(1), "updated_at": i.created + Span::minutes(1),
        "system": true, "noteable_id": i.id, "noteable_type": if i.mr { "MergeRequest" } else { "Issue" },
        "noteable_iid": i.iid, "resolvable": false, "confidential": false, "type": null, "attachment": null,
        "commands_changes": {}
    })];
    let comment = if i.id == 5000 {
        Some((Span::minutes(60), 2))
    } else {
        (i.iid % 2 == 0).then_some((Span::minutes(90), i.iid as usize + 2))
    };
    if let Some((after, who)) = comment {
        v.push(json!({
            "id": i.id * 10 + 1, "body": "Looks right to me", "author": user(who),
            "created_at": i.created + after, "updated_at": i.created + after, "system": false,
            "noteable_id": i.id, "noteable_type": if i.mr { "MergeRequest" } else { "Issue" },
            "noteable_iid": i.iid, "resolvable": false, "confidential": false, "type": null, "attachment": null,
            "commands_changes": {}
        }));
    }
    v
}

/// The running fake. Dropping it stops the server.
pub struct FakeGitlab {
    runtime: tokio::runtime::Runtime,
    server: MockServer,
    state: Arc<Mutex<State>>,
    keyset_pages: Arc<AtomicU64>,
}

impl FakeGitlab {
    /// Generates the group and serves it on loopback.
    pub fn start(spec: &FakeGitlabSpec) -> Self {
        let state = Arc::new(Mutex::new(generate(spec)));
        let keyset_pages = Arc::new(AtomicU64::new(0));
        let (runtime, server) = crate::shared::serve(|base| Handler {
            state: state.clone(),
            latency: spec.latency,
            base,
            keyset_pages: keyset_pages.clone(),
        });
        Self {
            runtime,
            server,
            state,
            keyset_pages,
        }
    }

    /// The instance URL (the API is under `/api/v4`).
    pub fn uri(&self) -> String {
        self.server.uri()
    }

    /// Every request received so far, in order, with its body: what the tests assert a source asked for
    /// (a cursor in a query or in a GraphQL document's variables).
    pub fn received(&self) -> Vec<crate::shared::Received> {
        crate::shared::received(&self.runtime, &self.server)
    }

    /// Adds a fault.
    pub fn inject(&self, fault: GitlabFault) {
        lock(&self.state).ledger.inject(fault);
    }

    /// Closes item `iid` of `project` now.
    pub fn close(&self, project: &str, iid: i64) {
        let mut s = lock(&self.state);
        let at = base() + Span::days(400) + Span::minutes(s.next_event);
        if let Some(n) = s
            .projects
            .get(project)
            .and_then(|l| l.iter().position(|i| i.iid == iid))
        {
            let mut item = s.projects[project][n].clone();
            s.state(&mut item, at, "closed");
            if let Some(list) = s.projects.get_mut(project) {
                list[n] = item;
            }
        }
    }

    /// Adds a pipeline to `project` created now, as an `external` one still running with `updated_at: null`
    /// (which `updated_after` never matches), and returns its id: the highest yet, as GitLab's ids grow.
    pub fn add_pipeline_without_updated_at(&self, project: &str) -> i64 {
        let mut s = lock(&self.state);
        let id = s
            .pipelines
            .values()
            .flatten()
            .filter_map(|p| p["id"].as_i64())
            .max()
            .unwrap_or(3000)
            + 1;
        let at = base() + Span::days(400) + Span::minutes(s.next_event);
        s.next_event += 1;
        if let Some(list) = s.pipelines.get_mut(project) {
            list.push(json!({
                "id": id, "iid": list.len() + 1, "project_id": 1, "sha": format!("{id:040x}"), "ref": "main",
                "status": "running", "source": "external", "created_at": at, "updated_at": null,
                "web_url": format!("https://gitlab.example.com/{project}/-/pipelines/{id}")
            }));
        }
        id
    }

    /// A fault: pipeline `id` of `project` loses both its times (`created_at` and `updated_at` `null`, which no
    /// GitLab sends), so flowlake cannot read it; for tests of what happens to such a record.
    pub fn break_pipeline(&self, project: &str, id: i64) {
        let mut s = lock(&self.state);
        if let Some(p) = s
            .pipelines
            .get_mut(project)
            .and_then(|l| l.iter_mut().find(|p| p["id"] == id))
        {
            p["created_at"] = Value::Null;
            p["updated_at"] = Value::Null;
            s.broken = true;
        }
    }

    /// Requests answered so far, by operation and status.
    pub fn answered(&self) -> BTreeMap<(String, u16), u64> {
        lock(&self.state).ledger.answered()
    }

    /// The breaches of GitLab's recorded contract seen so far, taken: a request flowlake sent with a parameter
    /// GitLab does not document for its endpoint, or an answer of the fake's that differs from the recorded ones.
    pub fn take_contract_violations(&self) -> Vec<String> {
        std::mem::take(&mut lock(&self.state).violations)
    }

    /// Forgets the counts.
    pub fn reset_counts(&self) {
        lock(&self.state).ledger.reset();
        self.keyset_pages.store(0, Ordering::Relaxed);
    }

    /// Pages served by keyset `cursor` (the second and later pages of a keyset listing).
    pub fn keyset_pages(&self) -> u64 {
        self.keyset_pages.load(Ordering::Relaxed)
    }
}

/// A breach of the contract fails the test that caused it even where the source tolerated the `400`.
impl Drop for FakeGitlab {
    fn drop(&mut self) {
        let violations = self.take_contract_violations();
        if !violations.is_empty() && !std::thread::panicking() {
            panic!(
                "the fake GitLab saw breaches of GitLab's recorded contract:\n{}",
                violations.join("\n")
            );
        }
    }
}

struct Handler {
    state: Arc<Mutex<State>>,
    latency: Duration,
    base: String,
    keyset_pages: Arc<AtomicU64>,
}

/// GitLab's recorded contract, checked on every exchange: the request must be one of the endpoints flowlake
/// calls with documented, well-formed parameters, and a 2xx answer must have the recorded answers' shape and fit
/// GitLab's schema (`check_answer` false skips the answer, for a fault made on purpose).
fn gitlab_contract(
    req: &Request,
    check_answer: bool,
    answer: impl FnOnce() -> crate::shared::Answer,
) -> Result<crate::shared::Answer, Vec<String>> {
    use crate::contracts::recorded::{check_request, check_response, gitlab};
    use crate::shared::{header, hold_to_contract};
    hold_to_contract(
        req,
        "GitLab's recorded contract",
        |target| check_request(gitlab(), req.method.as_str(), target, &|h| header(req, h)),
        answer,
        |endpoint, (_, _, _, body)| match check_answer {
            true => check_response(gitlab(), endpoint, body),
            false => Ok(()),
        },
    )
}

/// An issue or merge request as GitLab lists it: every key of the items DevLake recorded from gitlab.com
/// (`fixtures/gitlab/recorded/{issues,merge_requests}.json`), with the `null`s of real items (and of
/// airbytehq/airbyte `airbyte-integrations/connectors/source-gitlab/integration_tests/expected_records.jsonl`:
/// a `null` description).
fn item_json(path: &str, i: &Item) -> Value {
    let (kind, sep) = if i.mr {
        ("merge_requests", "!")
    } else {
        ("issues", "#")
    };
    let closed = i.state == "closed";
    let v = json!({
        "id": i.id, "iid": i.iid, "project_id": 1, "title": format!("Change {}", i.iid),
        "description": if i.iid % 2 == 0 { json!("") } else { Value::Null },
        "state": i.state, "created_at": i.created, "updated_at": i.updated,
        "closed_at": if closed { json!(i.updated) } else { Value::Null },
        "closed_by": if closed { user(i.iid as usize) } else { Value::Null },
        "milestone": null, "assignee": user(i.iid as usize + 1),
        "labels": i.labels, "author": user(i.iid as usize), "assignees": [user(i.iid as usize + 1)],
        "user_notes_count": i64::from(i.iid % 2 == 0), "upvotes": 0, "downvotes": 0, "discussion_locked": null,
        "web_url": format!("https://gitlab.example.com/{path}/-/{kind}/{}", i.iid),
        "references": {"short": format!("{sep}{}", i.iid), "relative": format!("{sep}{}", i.iid),
                       "full": format!("{path}{sep}{}", i.iid)},
        "time_stats": {"time_estimate": 0, "total_time_spent": 0, "human_time_estimate": null,
                       "human_total_time_spent": null},
        "task_completion_status": {"count": 0, "completed_count": 0},
    });
    let Value::Object(mut m) = v else {
        return v;
    };
    if i.mr {
        let merged = i.state == "merged";
        let merger = if merged {
            user(i.iid as usize)
        } else {
            Value::Null
        };
        for (key, value) in [
            ("merged_by", merger.clone()),
            ("merge_user", merger),
            (
                "merged_at",
                if merged {
                    json!(i.updated)
                } else {
                    Value::Null
                },
            ),
            ("target_branch", json!("main")),
            ("source_branch", json!(format!("change-{}", i.iid))),
            ("reviewers", json!([])),
            ("source_project_id", json!(1)),
            ("target_project_id", json!(1)),
            ("draft", json!(false)),
            ("work_in_progress", json!(false)),
            ("merge_when_pipeline_succeeds", json!(false)),
            ("merge_status", json!("can_be_merged")),
            ("sha", json!(format!("{:040x}", i.id))),
            (
                "merge_commit_sha",
                if merged {
                    json!(format!("{:040x}", i.id + 1))
                } else {
                    Value::Null
                },
            ),
            ("squash_commit_sha", Value::Null),
            ("should_remove_source_branch", Value::Null),
            ("force_remove_source_branch", json!(true)),
            ("reference", json!(format!("!{}", i.iid))),
            ("squash", json!(false)),
            ("has_conflicts", json!(false)),
            ("blocking_discussions_resolved", json!(true)),
            ("approvals_before_merge", json!(0)),
        ] {
            m.insert(key.into(), value);
        }
    } else {
        let api = format!(
            "https://gitlab.example.com/api/v4/projects/1/issues/{}",
            i.iid
        );
        for (key, value) in [
            ("type", json!("ISSUE")),
            ("issue_type", json!("issue")),
            ("merge_requests_count", json!(0)),
            ("due_date", Value::Null),
            ("confidential", json!(false)),
            ("weight", Value::Null),
            ("blocking_issues_count", json!(0)),
            ("has_tasks", json!(false)),
            (
                "_links",
                json!({"self": api, "notes": format!("{api}/notes"), "award_emoji": format!("{api}/award_emoji"),
                              "project": "https://gitlab.example.com/api/v4/projects/1", "closed_as_duplicate_of": null}),
            ),
            ("severity", json!("UNKNOWN")),
            ("moved_to_id", Value::Null),
            ("service_desk_reply_to", Value::Null),
            ("epic_iid", Value::Null),
            ("epic", Value::Null),
            ("iteration", Value::Null),
            ("health_status", Value::Null),
        ] {
            m.insert(key.into(), value);
        }
    }
    Value::Object(m)
}

impl Handler {
    /// A page of `all` per `page`/`per_page`, with GitLab's paging headers.
    fn paged(
        &self,
        path: &str,
        q: &BTreeMap<String, String>,
        all: Vec<Value>,
    ) -> (Vec<(String, String)>, Value) {
        let per: usize = q.get("per_page").and_then(|x| x.parse().ok()).unwrap_or(20);
        if q.get("pagination").map(String::as_str) == Some("keyset") {
            return self.keyset(path, q, all, per);
        }
        let page: usize = q
            .get("page")
            .and_then(|x| x.parse().ok())
            .unwrap_or(1)
            .max(1);
        let from = (page - 1) * per;
        let end = (from + per).min(all.len());
        let mut headers = vec![
            ("x-page".to_string(), page.to_string()),
            ("x-per-page".to_string(), per.to_string()),
            ("x-total".to_string(), all.len().to_string()),
        ];
        if end < all.len() {
            let mut next: Vec<String> = q
                .iter()
                .filter(|(k, _)| *k != "page")
                .map(|(k, v)| format!("{k}={}", flowlake_connect::http::encode_component(v)))
                .collect();
            next.push(format!("page={}", page + 1));
            headers.push(("x-next-page".into(), (page + 1).to_string()));
            headers.push((
                "link".into(),
                format!("<{}{path}?{}>; rel=\"next\"", self.base, next.join("&")),
            ));
        }
        (headers, Value::from(all[from.min(end)..end].to_vec()))
    }

    /// A keyset page: the `cursor` names where the page starts (GitLab's is opaque base64; so is this
    /// one), the next page comes only as `Link: rel="next"`, and there is no total.
    fn keyset(
        &self,
        path: &str,
        q: &BTreeMap<String, String>,
        all: Vec<Value>,
        per: usize,
    ) -> (Vec<(String, String)>, Value) {
        use base64::Engine as _;
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        if q.contains_key("cursor") {
            self.keyset_pages.fetch_add(1, Ordering::Relaxed);
        }
        let from: usize = q
            .get("cursor")
            .and_then(|c| b64.decode(c).ok())
            .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
            .and_then(|v| v["offset"].as_u64())
            .unwrap_or(0) as usize;
        let end = (from + per).min(all.len());
        let mut headers = vec![];
        if end < all.len() {
            let cursor = b64.encode(json!({"offset": end, "_kd": "n"}).to_string());
            let mut next: Vec<String> = q
                .iter()
                .filter(|(k, _)| *k != "cursor")
                .map(|(k, v)| format!("{k}={}", flowlake_connect::http::encode_component(v)))
                .collect();
            next.push(format!("cursor={cursor}"));
            headers.push((
                "link".into(),
                format!("<{}{path}?{}>; rel=\"next\"", self.base, next.join("&")),
            ));
        }
        (headers, Value::from(all[from.min(end)..end].to_vec()))
    }

    fn answer(&self, s: &State, req: &Request) -> crate::shared::Answer {
        let q: BTreeMap<String, String> = req.url.query_pairs().into_owned().collect();
        let raw_path = req.url.path().to_string();
        let parts: Vec<String> = raw_path
            .trim_matches('/')
            .split('/')
            .map(|p| p.replace("%2F", "/").replace("%2f", "/"))
            .collect();
        let parts: Vec<&str> = parts.iter().map(String::as_str).collect();
        let not_found = || json!({"message": "404 Project Not Found"});
        match parts.as_slice() {
            ["api", "v4", "groups", g, "projects"] if *g == s.group => {
                // GitLab's defaults: `include_subgroups` false, `with_shared` true.
                let subgroups = q.get("include_subgroups").map(String::as_str) == Some("true");
                let shared = q.get("with_shared").map(String::as_str) != Some("false");
                let own = format!("{}/", s.group);
                let all: Vec<Value> = s
                    .projects
                    .keys()
                    .enumerate()
                    .filter(|(_, p)| match p.strip_prefix(&own) {
                        Some(name) => subgroups || !name.contains('/'),
                        None => shared && s.shared.contains(p),
                    })
                    .map(|(n, p)| json!({"id": n + 1, "path_with_namespace": p, "archived": false}))
                    .collect();
                let (h, b) = self.paged(&raw_path, &q, all);
                ("projects".into(), 200, h, b)
            }
            ["api", "v4", "projects", p, kind] if matches!(*kind, "issues" | "merge_requests") => {
                let Some(items) = s.projects.get(*p) else {
                    return ((*kind).into(), 404, vec![], not_found());
                };
                let after: Option<DateTime<Utc>> =
                    q.get("updated_after").and_then(|t| t.parse().ok());
                let mut chosen: Vec<&Item> = items
                    .iter()
                    .filter(|i| i.mr == (*kind == "merge_requests"))
                    .filter(|i| after.is_none_or(|a| i.updated >= a))
                    .collect();
                chosen.sort_by_key(|i| (i.updated, i.id));
                let all = chosen.iter().map(|i| item_json(p, i)).collect();
                let (h, b) = self.paged(&raw_path, &q, all);
                ((*kind).into(), 200, h, b)
            }
            ["api", "v4", "projects", p, kind] if matches!(*kind, "deployments" | "pipelines") => {
                let lists = if *kind == "deployments" {
                    &s.deployments
                } else {
                    &s.pipelines
                };
                let Some(list) = lists.get(*p) else {
                    return ((*kind).into(), 404, vec![], not_found());
                };
                let after: Option<DateTime<Utc>> =
                    q.get("updated_after").and_then(|t| t.parse().ok());
                let mut chosen: Vec<Value> = list
                    .iter()
                    .filter(|d| {
                        let updated: Option<DateTime<Utc>> =
                            d["updated_at"].as_str().and_then(|t| t.parse().ok());
                        after.is_none_or(|a| updated.is_some_and(|u| u > a))
                    })
                    .cloned()
                    .collect();
                // `order_by` `updated_at` (as flowlake asks; PostgreSQL puts `null`s last) or `id`, the default
                // of pipelines; `sort` `desc` reverses.
                chosen.sort_by_key(|d| {
                    let id = d["id"].as_i64();
                    match q.get("order_by").map(String::as_str) {
                        Some("updated_at") => {
                            let t = d["updated_at"].as_str().map(str::to_string);
                            (t.is_none(), t, id)
                        }
                        _ => (false, None, id),
                    }
                });
                if q.get("sort").map(String::as_str) == Some("desc") {
                    chosen.reverse();
                }
                let (h, b) = self.paged(&raw_path, &q, chosen);
                ((*kind).into(), 200, h, b)
            }
            ["api", "v4", "projects", p, kind, iid, events] => {
                let item = s.projects.get(*p).and_then(|l| {
                    l.iter()
                        .find(|i| i.iid.to_string() == *iid && i.mr == (*kind == "merge_requests"))
                });
                match (item, *events) {
                    (Some(i), "notes") => {
                        let (h, b) = self.paged(&raw_path, &q, notes(i));
                        ("notes".into(), 200, h, b)
                    }
                    (Some(i), "resource_state_events") => {
                        let (h, b) = self.paged(&raw_path, &q, i.states.clone());
                        ("events".into(), 200, h, b)
                    }
                    (Some(i), "resource_label_events") => {
                        let (h, b) = self.paged(&raw_path, &q, i.label_events.clone());
                        ("events".into(), 200, h, b)
                    }
                    _ => (
                        "events".into(),
                        404,
                        vec![],
                        json!({"message": "404 Not found"}),
                    ),
                }
            }
            _ => (
                "unknown".into(),
                404,
                vec![],
                json!({"error": "404 Not Found"}),
            ),
        }
    }
}

impl Respond for Handler {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let mut s = lock(&self.state);
        let pipelines = req.url.path().ends_with("/pipelines");
        let check_answer = !(s.broken && pipelines);
        let (op, mut status, mut headers, body) =
            match gitlab_contract(req, check_answer, || self.answer(&s, req)) {
                Ok(answer) => answer,
                Err(errors) => {
                    let body = json!({"message": errors});
                    s.violations.extend(errors);
                    ("contract".into(), 400, Vec::new(), body)
                }
            };
        let fault = s.ledger.take(&op);
        let mut text = body.to_string();
        match fault.map(|f| f.status) {
            // A pager stuck: the page, and a `Link: rel="next"` back to it.
            Some(crate::shared::STUCK_PAGES) if status == 200 => {
                headers.retain(|(k, _)| k != "link");
                headers.push((
                    "link".into(),
                    format!(
                        "<{}>; rel=\"next\"",
                        crate::shared::self_url(&self.base, req)
                    ),
                ));
            }
            Some(crate::shared::STUCK_PAGES) => {}
            Some(0) => text.truncate(text.len() / 2),
            Some(code) => {
                status = code;
                headers.clear();
                if code == 429 {
                    headers.push(("retry-after".into(), "1".into()));
                    headers.push(("ratelimit-remaining".into(), "0".into()));
                }
                // Rack::Attack's throttle answers `Retry later` in plain text; the API's own errors are
                // `{"message": "<status> <reason>"}` (gitlabhq `lib/api/helpers.rb`: `unauthorized!` renders
                // `401 Unauthorized`; `render_api_error!`).
                text = match code {
                    429 => "Retry later".into(),
                    401 => json!({"message": "401 Unauthorized"}).to_string(),
                    _ => json!({"message": "500 Internal Server Error"}).to_string(),
                };
            }
            None => {}
        }
        s.ledger.count(op, status);
        let mut t = ResponseTemplate::new(status)
            .set_body_raw(text.into_bytes(), "application/json")
            .insert_header("ratelimit-limit", "2000")
            .set_delay(self.latency);
        if !headers.iter().any(|(k, _)| k == "ratelimit-remaining") {
            t = t.insert_header("ratelimit-remaining", "1999");
        }
        for (k, v) in &headers {
            t = t.insert_header(k.as_str(), v.as_str());
        }
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shared::tests::get;

    #[test]
    fn every_answer_of_the_fake_gitlab_fits_the_recorded_contract_and_gitlabs_schemas() {
        let fake = FakeGitlab::start(&FakeGitlabSpec::default());
        let p = "/api/v4/projects/acme%2Fapi";
        for path in [
            "/api/v4/groups/acme/projects?include_subgroups=true&with_shared=false&archived=false&order_by=path&sort=asc&per_page=100".to_string(),
            format!("{p}/issues?order_by=updated_at&sort=asc&per_page=100&pagination=keyset"),
            format!("{p}/merge_requests?order_by=updated_at&sort=asc&per_page=100"),
            format!("{p}/deployments?order_by=updated_at&sort=asc&per_page=100"),
            format!("{p}/pipelines?order_by=updated_at&sort=asc&per_page=100&updated_after=2026-03-01T00%3A00%3A00.000Z"),
            format!("{p}/issues/1/notes?per_page=100&sort=asc&order_by=created_at"),
            format!("{p}/issues/1/resource_state_events?per_page=100"),
            format!("{p}/issues/1/resource_label_events?per_page=100"),
        ] {
            let (status, body) = get(&format!("{}{path}", fake.uri()));
            assert_eq!(status, 200, "{path}: {body}");
        }
        assert_eq!(fake.take_contract_violations(), Vec::<String>::new());
    }

    #[test]
    fn a_gitlab_request_with_an_undocumented_parameter_is_refused_with_the_reason() {
        let fake = FakeGitlab::start(&FakeGitlabSpec::default());
        let (status, body) = get(&format!(
            "{}/api/v4/projects/acme%2Fapi/issues?per_page=500&state=all",
            fake.uri()
        ));
        assert_eq!(status, 400);
        let said = body["message"].to_string();
        assert!(said.contains("500 is outside 1 to 100"), "{said}");
        assert!(said.contains("`state` is not a parameter"), "{said}");
        assert_eq!(fake.take_contract_violations().len(), 2);
    }
}
