//! A fake Jira for tests and benchmarks: generated projects served on loopback with
//! Cloud's or Server's search and changelog endpoints and shapes — times with the user's offset, Cyrillic
//! status names, embedded changelogs cut past a limit — plus injected faults (429 with Retry-After, 5xx,
//! bodies cut mid-JSON), issues moved between projects, and an added latency per request.
//!
//! Every request is matched to an operation of Atlassian's OpenAPI document for Jira Cloud and every 2xx
//! body validated against its response schema ([`crate::contracts::openapi::jira`]; Server's v2 paths
//! against v3's): a breach is answered `400` with the reasons in `errorMessages`, which ends the sync with
//! them, and kept, and the fake panics when dropped with breaches not taken
//! ([`FakeJira::take_contract_violations`]).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use chrono::{DateTime, Duration as Span, NaiveDateTime, TimeZone, Utc};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};
use wiremock::{MockServer, Request, Respond, ResponseTemplate};

use flowlake_connect::jira::Flavor;

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

/// A fault for the `nth` request of an operation: see [`StatusFault`].
pub type JiraFault = crate::shared::StatusFault;

/// (id, name, category key) of the instance's statuses. `/status` lists every status of every workflow, and
/// a team-managed project has statuses of its own: the same name can come twice with different ids (real
/// instances list `To Do` as 10033 and 10116), the last two here, scoped to a project.
const STATUSES: [(&str, &str, &str); 6] = [
    ("1", "Open", "new"),
    ("3", "В работе", "indeterminate"),
    ("10100", "Review", "indeterminate"),
    ("10001", "Готово", "done"),
    ("10033", "To Do", "new"),
    ("10116", "To Do", "new"),
];

/// The id a status name has or had: renaming keeps a status's id (`In Progress` became `В работе`, both
/// 3); `Testing` was deleted, its id is still in old changelogs.
fn status_id(name: &str) -> &'static str {
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
fn status_category(base: &str, key: &str) -> Value {
    let (id, color, name) = match key {
        "new" => (2, "blue-gray", "To Do"),
        "done" => (3, "green", "Done"),
        _ => (4, "yellow", "In Progress"),
    };
    json!({"self": format!("{base}/rest/api/3/statuscategory/{id}"), "id": id, "key": key, "colorName": color, "name": name})
}

/// A changelog entry: (history id, author, at, field, from, to).
type Entry = (u64, &'static str, DateTime<Utc>, String, String, String);

#[derive(Debug, Clone)]
struct Issue {
    id: u64,
    key: String,
    project: String,
    created: DateTime<Utc>,
    updated: DateTime<Utc>,
    status: usize,
    histories: Vec<Entry>,
}

#[derive(Debug, Default)]
struct State {
    issues: Vec<Issue>,
    ledger: crate::shared::Ledger<JiraFault>,
    next_history: u64,
    clock: i64,
    /// Breaches of Jira's REST contract seen so far.
    violations: Vec<String>,
}

/// The running fake. Dropping it stops the server.
pub struct FakeJira {
    runtime: tokio::runtime::Runtime,
    server: MockServer,
    state: Arc<Mutex<State>>,
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state.lock().unwrap_or_else(|p| p.into_inner())
}

const PEOPLE: [&str; 4] = ["5b10a", "5b10b", "5b10c", "5b10d"];

/// The shown name of account `id` (`5b10a` is `User a`).
fn display_name(id: &str) -> String {
    format!("User {}", id.get(4..).unwrap_or(id))
}

fn base() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 2, 2, 7, 0, 0)
        .single()
        .expect("a valid time")
}

fn generate(spec: &FakeJiraSpec) -> State {
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

impl FakeJira {
    /// Generates the instance and serves it on loopback.
    pub fn start(spec: &FakeJiraSpec) -> Self {
        let state = Arc::new(Mutex::new(generate(spec)));
        let (runtime, server) = crate::shared::serve(|base| Handler {
            state: state.clone(),
            spec: spec.clone(),
            base,
        });
        Self {
            runtime,
            server,
            state,
        }
    }

    /// The base URL.
    pub fn uri(&self) -> String {
        self.server.uri()
    }

    /// Every request received so far, in order, with its body: what the tests assert a source asked for
    /// (a cursor in a query or in a GraphQL document's variables).
    pub fn received(&self) -> Vec<crate::shared::Received> {
        crate::shared::received(&self.runtime, &self.server)
    }

    /// Adds a fault.
    pub fn inject(&self, fault: JiraFault) {
        lock(&self.state).ledger.inject(fault);
    }

    /// Sends issue `key` back from Review to В работе, now.
    pub fn reopen(&self, key: &str) {
        self.transition(key, STATUSES[1].1);
    }

    /// Moves issue `key` to the status named `to` (the first of that name), now.
    pub fn transition(&self, key: &str, to: &str) {
        let Some(target) = STATUSES.iter().position(|s| s.1 == to) else {
            return;
        };
        let mut s = lock(&self.state);
        s.clock += 60;
        s.next_history += 1;
        let at = base() + Span::days(400) + Span::seconds(s.clock);
        let h = s.next_history;
        if let Some(i) = s.issues.iter_mut().find(|i| i.key == key) {
            let from = STATUSES[i.status].1.to_string();
            i.histories
                .push((h, "5b10d", at, "status".into(), from, to.into()));
            i.status = target;
            i.updated = at;
        }
    }

    /// The breaches of Jira's REST contract seen so far, taken: a request flowlake sent that Atlassian's
    /// document does not allow, or an answer of the fake's that it does not.
    pub fn take_contract_violations(&self) -> Vec<String> {
        std::mem::take(&mut lock(&self.state).violations)
    }

    /// Moves issue `key` to `project`: a new key, the same id, a changelog entry, as Jira does.
    pub fn move_issue(&self, key: &str, project: &str) -> Option<String> {
        let mut s = lock(&self.state);
        s.clock += 60;
        s.next_history += 1;
        let at = base() + Span::days(400) + Span::seconds(s.clock);
        let h = s.next_history;
        let count = s.issues.iter().filter(|i| i.project == project).count();
        let i = s.issues.iter_mut().find(|i| i.key == key)?;
        let new_key = format!("{project}-{}", count + 1);
        i.histories
            .push((h, "5b10a", at, "Key".into(), i.key.clone(), new_key.clone()));
        i.key.clone_from(&new_key);
        i.project = project.into();
        i.updated = at;
        Some(new_key)
    }

    /// Requests answered so far, by operation and status.
    pub fn answered(&self) -> BTreeMap<(String, u16), u64> {
        lock(&self.state).ledger.answered()
    }

    /// Forgets the counts.
    pub fn reset_counts(&self) {
        lock(&self.state).ledger.reset();
    }
}

struct Handler {
    state: Arc<Mutex<State>>,
    spec: FakeJiraSpec,
    /// `http://127.0.0.1:PORT`, for `self` links.
    base: String,
}

/// A breach of the REST contract fails the test that caused it even where the source tolerated the `400`.
impl Drop for FakeJira {
    fn drop(&mut self) {
        let violations = self.take_contract_violations();
        if !violations.is_empty() && !std::thread::panicking() {
            panic!(
                "the fake Jira saw breaches of Jira's REST contract:\n{}",
                violations.join("\n")
            );
        }
    }
}

impl Handler {
    /// The REST version the flavor serves: Cloud's 3, Server's 2.
    fn version(&self) -> &'static str {
        if self.spec.flavor == Flavor::Server {
            "2"
        } else {
            "3"
        }
    }

    fn time(&self, t: DateTime<Utc>) -> String {
        t.with_timezone(&self.spec.time_zone)
            .format("%Y-%m-%dT%H:%M:%S%.3f%z")
            .to_string()
    }

    /// A user as Jira writes one inside an issue or changelog (`UserDetails`): Cloud names them by
    /// `accountId`, Server by `name` and `key`.
    fn user(&self, id: &str) -> Value {
        let name = display_name(id);
        let (v, base) = (self.version(), &self.base);
        match self.spec.flavor {
            Flavor::Server => {
                json!({"self": format!("{base}/rest/api/2/user?username={id}"), "name": id, "key": id,
                "displayName": name, "active": true, "timeZone": self.spec.time_zone.name()})
            }
            _ => {
                json!({"self": format!("{base}/rest/api/{v}/user?accountId={id}"), "accountId": id,
                "displayName": name, "active": true, "timeZone": self.spec.time_zone.name(), "accountType": "atlassian"})
            }
        }
    }

    /// A changelog entry. Its item carries the field's id (`fieldId`, Cloud only) and the old and new values
    /// both as ids (`from`, `to`: status ids, account ids) and as shown (`fromString`, `toString`), as in
    /// the example of `GET /rest/api/3/issue/{issueIdOrKey}/changelog` in Atlassian's OpenAPI document; a
    /// key change (a move) has no id values.
    fn history(&self, h: &Entry) -> Value {
        let (field, from, to) = (h.3.as_str(), h.4.as_str(), h.5.as_str());
        let mut item = match field {
            "status" => {
                json!({"field": field, "fieldtype": "jira", "from": status_id(from), "fromString": from,
                "to": status_id(to), "toString": to})
            }
            "assignee" => {
                json!({"field": field, "fieldtype": "jira", "from": from, "fromString": display_name(from),
                "to": to, "toString": display_name(to)})
            }
            _ => {
                json!({"field": field, "fieldtype": "jira", "from": null, "fromString": from, "to": null, "toString": to})
            }
        };
        if self.spec.flavor != Flavor::Server && field != "Key" {
            item["fieldId"] = json!(field);
        }
        json!({
            "id": h.0.to_string(), "author": self.user(h.1), "created": self.time(h.2), "items": [item]
        })
    }

    /// A status as `/status` and an issue's `status` field write it (`StatusDetails`; the example of
    /// `GET /rest/api/3/status` in Atlassian's OpenAPI document); a team-managed project's carries its
    /// `scope`.
    fn status(&self, k: usize) -> Value {
        let (id, name, cat) = STATUSES[k];
        let base = &self.base;
        let mut v = json!({
            "self": format!("{base}/rest/api/{}/status/{id}", self.version()), "description": "",
            "iconUrl": format!("{base}/images/icons/statuses/generic.png"), "name": name, "untranslatedName": name,
            "id": id, "statusCategory": status_category(base, cat)
        });
        if id == "10033" || id == "10116" {
            let project = if id == "10033" { "10000" } else { "10001" };
            v["scope"] = json!({"type": "PROJECT", "project": {"id": project}});
        }
        v
    }

    /// The worklogs of `i`, derived from its id: the golden issue has 1 h and 2.5 h, every tenth issue
    /// (ids ending in 5) 25 half-hours (more than a search embeds), the others 0 to 3 half-hours.
    fn worklogs(&self, i: &Issue) -> Vec<Value> {
        let spent: Vec<i64> = match i.id {
            10_000 => vec![3600, 9000],
            id if id % 10 == 5 => vec![1800; 25],
            id => vec![1800; (id % 4) as usize],
        };
        spent
            .iter()
            .enumerate()
            .map(|(k, secs)| {
                let started = i.created + Span::hours(k as i64 + 1);
                json!({
                    "id": format!("{}", i.id * 100 + k as u64), "issueId": i.id.to_string(),
                    "author": self.user(PEOPLE[k % 4]), "updateAuthor": self.user(PEOPLE[k % 4]),
                    "started": self.time(started), "timeSpent": format!("{}m", secs / 60),
                    "timeSpentSeconds": secs, "created": self.time(started + Span::minutes(5)),
                    "updated": self.time(started + Span::minutes(5)),
                })
            })
            .collect()
    }

    /// The sprint field of `i`: ids ending in 2, 5 or 8 are in no sprint; the others in sprint 10
    /// (closed) and, for odd ids, also sprint 11 (active). Cloud writes objects, Server its `Sprint@…` text.
    fn sprints(&self, i: &Issue) -> Value {
        if i.id % 3 == 2 {
            return Value::Null;
        }
        let mut ids = vec![10];
        if i.id % 2 == 1 {
            ids.push(11);
        }
        let sprint = |id: u64| {
            let (state, start, end, complete) = if id == 10 {
                (
                    "closed",
                    base(),
                    base() + Span::days(14),
                    Some(base() + Span::days(14)),
                )
            } else {
                (
                    "active",
                    base() + Span::days(14),
                    base() + Span::days(28),
                    None,
                )
            };
            match self.spec.flavor {
                Flavor::Server => json!(format!(
                    "com.atlassian.greenhopper.service.sprint.Sprint@3f{id}[id={id},rapidViewId=7,state={},name=Спринт {id},startDate={},endDate={},completeDate={},sequence={id},goal=]",
                    state.to_uppercase(), self.time(start), self.time(end),
                    complete.map_or_else(|| "<null>".to_string(), |c| self.time(c))
                )),
                _ => json!({"id": id, "name": format!("Спринт {id}"), "state": state, "boardId": 7,
                    "goal": "", "startDate": self.time(start), "endDate": self.time(end),
                    "completeDate": complete.map(|c| self.time(c))}),
            }
        };
        Value::from(ids.into_iter().map(sprint).collect::<Vec<_>>())
    }

    /// An issue as a search with `expand=changelog` writes it. The embedded changelog holds the most recent
    /// `embed` entries; Cloud lists them newest first ("Returns a list of recent updates to an issue, sorted
    /// by date, starting from the most recent": the `expand` parameter of "Search for issues using JQL
    /// enhanced search", developer.atlassian.com, Jira Cloud REST v3), Server oldest first, as its issue
    /// endpoint does.
    fn issue(&self, i: &Issue, embed: usize, with_worklogs: bool) -> Value {
        let mut recent: Vec<Value> = i
            .histories
            .iter()
            .rev()
            .take(embed)
            .map(|h| self.history(h))
            .collect();
        if self.spec.flavor == Flavor::Server {
            recent.reverse();
        }
        let shown = recent;
        let mut issue = json!({
            "expand": "operations,versionedRepresentations,editmeta,changelog,renderedFields",
            "id": i.id.to_string(), "key": i.key,
            "self": format!("{}/rest/api/{}/issue/{}", self.base, self.version(), i.id),
            "fields": {
                "summary": format!("Задача {}", i.key),
                "status": self.status(i.status),
                "issuetype": {"name": if i.id % 4 == 0 { "Bug" } else { "Story" }},
                "priority": {"name": "Medium"},
                "reporter": self.user(PEOPLE[i.id as usize % 4]),
                "assignee": self.user(PEOPLE[(i.id as usize + 1) % 4]),
                "labels": [], "components": [],
                "project": {"id": "1", "key": i.project},
                "customfield_10016": (i.id % 8) as f64,
                "customfield_10020": self.sprints(i),
                "created": self.time(i.created), "updated": self.time(i.updated),
                "resolutiondate": if i.status == 3 { json!(self.time(i.updated)) } else { Value::Null },
            },
            "changelog": {"startAt": 0, "maxResults": shown.len(), "total": i.histories.len(), "histories": shown}
        });
        if with_worklogs {
            let all = self.worklogs(i);
            let total = all.len();
            let shown: Vec<Value> = all.into_iter().take(20).collect();
            issue["fields"]["worklog"] =
                json!({"startAt": 0, "maxResults": 20, "total": total, "worklogs": shown});
        }
        issue
    }

    /// Issues matching the JQL's `updated >=` bound, oldest update first.
    fn matching<'a>(&self, s: &'a State, jql: &str) -> Vec<&'a Issue> {
        let bound = jql.split("updated >= \"").nth(1).and_then(|rest| {
            let text = rest.split('"').next()?;
            let local = NaiveDateTime::parse_from_str(text, "%Y/%m/%d %H:%M").ok()?;
            self.spec
                .time_zone
                .from_local_datetime(&local)
                .earliest()
                .map(|t| t.with_timezone(&Utc))
        });
        let mut found: Vec<&Issue> = s
            .issues
            .iter()
            .filter(|i| bound.is_none_or(|b| i.updated >= b))
            .collect();
        found.sort_by_key(|i| (i.updated, i.id));
        found
    }

    fn answer(&self, s: &State, req: &Request) -> (String, u16, Value) {
        let path = req.url.path().to_string();
        let q: BTreeMap<String, String> = req.url.query_pairs().into_owned().collect();
        let cloud = self.spec.flavor != Flavor::Server;
        let v = if cloud { "3" } else { "2" };
        let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
        let num = |k: &str, d: usize| q.get(k).and_then(|x| x.parse().ok()).unwrap_or(d);
        let with_worklogs = q
            .get("fields")
            .is_some_and(|f| f.split(',').any(|f| f == "worklog" || f == "*all"));
        match parts.as_slice() {
            ["rest", "api", ver, "status"] if *ver == v => (
                "status".into(),
                200,
                Value::from(
                    (0..STATUSES.len())
                        .map(|k| self.status(k))
                        .collect::<Vec<_>>(),
                ),
            ),
            ["rest", "api", ver, "field"] if *ver == v => (
                "field".into(),
                200,
                json!([
                    {"id": "summary", "key": "summary", "name": "Summary", "custom": false, "navigable": true,
                     "schema": {"type": "string", "system": "summary"}},
                    {"id": "status", "key": "status", "name": "Status", "custom": false, "navigable": true,
                     "schema": {"type": "status", "system": "status"}},
                    {"id": "customfield_10016", "key": "customfield_10016", "name": "Story Points", "custom": true,
                     "navigable": true, "schema": {"type": "number", "custom": "com.atlassian.jira.plugin.system.customfieldtypes:float", "customId": 10016}},
                    {"id": "customfield_10020", "key": "customfield_10020", "name": "Спринт", "custom": true,
                     "navigable": true, "schema": {"type": "array", "items": "json", "custom": "com.pyxis.greenhopper.jira:gh-sprint", "customId": 10020}},
                ]),
            ),
            ["rest", "api", ver, "issue", key, "worklog"] if *ver == v => {
                match s.issues.iter().find(|i| i.key == *key) {
                    None => (
                        "worklog".into(),
                        404,
                        json!({"errorMessages": ["Issue does not exist or you do not have permission to see it."], "errors": {}}),
                    ),
                    Some(i) => {
                        let all = self.worklogs(i);
                        let from = num("startAt", 0);
                        let n = num("maxResults", 5000).min(5000);
                        let values: Vec<Value> = all.iter().skip(from).take(n).cloned().collect();
                        (
                            "worklog".into(),
                            200,
                            json!({"startAt": from, "maxResults": n, "total": all.len(), "worklogs": values}),
                        )
                    }
                }
            }
            ["rest", "api", ver, "myself"] if *ver == v => {
                let mut me = self.user("5b10a");
                me["locale"] = json!("ru_RU");
                me["emailAddress"] = json!("bot@acme.test");
                ("myself".into(), 200, me)
            }
            ["rest", "api", "3", "search", "jql"] if cloud => {
                let found = self.matching(s, q.get("jql").map_or("", String::as_str));
                let from = q
                    .get("nextPageToken")
                    .and_then(|t| t.strip_prefix("tok-"))
                    .and_then(|t| t.parse().ok())
                    .unwrap_or(0usize);
                let n = num("maxResults", 50).min(100);
                let end = (from + n).min(found.len());
                let issues: Vec<Value> = found[from.min(end)..end]
                    .iter()
                    .map(|i| self.issue(i, self.spec.embed_limit, with_worklogs))
                    .collect();
                let mut page = json!({"issues": issues, "isLast": end >= found.len()});
                if end < found.len() {
                    page["nextPageToken"] = json!(format!("tok-{end}"));
                }
                ("search".into(), 200, page)
            }
            ["rest", "api", "2", "search"] if !cloud => {
                let found = self.matching(s, q.get("jql").map_or("", String::as_str));
                let from = num("startAt", 0);
                let n = num("maxResults", 50).min(100);
                let end = (from + n).min(found.len());
                let issues: Vec<Value> = found[from.min(end)..end]
                    .iter()
                    .map(|i| self.issue(i, self.spec.embed_limit, with_worklogs))
                    .collect();
                (
                    "search".into(),
                    200,
                    json!({"startAt": from, "maxResults": n, "total": found.len(), "issues": issues}),
                )
            }
            ["rest", "api", "3", "issue", key, "changelog"] if cloud => {
                match s.issues.iter().find(|i| i.key == *key) {
                    None => (
                        "changelog".into(),
                        404,
                        json!({"errorMessages": ["Issue does not exist or you do not have permission to see it."], "errors": {}}),
                    ),
                    Some(i) => {
                        let from = num("startAt", 0);
                        let n = num("maxResults", 100).min(100);
                        let values: Vec<Value> = i
                            .histories
                            .iter()
                            .skip(from)
                            .take(n)
                            .map(|h| self.history(h))
                            .collect();
                        let end = from + values.len();
                        let at = format!("{}/rest/api/3/issue/{key}/changelog", self.base);
                        let mut page = json!({"self": format!("{at}?startAt={from}&maxResults={n}"), "startAt": from,
                            "maxResults": n, "total": i.histories.len(), "isLast": end >= i.histories.len(), "values": values});
                        if end < i.histories.len() {
                            page["nextPage"] = json!(format!("{at}?startAt={end}&maxResults={n}"));
                        }
                        ("changelog".into(), 200, page)
                    }
                }
            }
            ["rest", "api", "2", "issue", key] if !cloud => {
                match s.issues.iter().find(|i| i.key == *key) {
                    None => (
                        "changelog".into(),
                        404,
                        json!({"errorMessages": ["Issue Does Not Exist"], "errors": {}}),
                    ),
                    Some(i) => ("changelog".into(), 200, self.issue(i, usize::MAX, false)),
                }
            }
            _ => (
                "unknown".into(),
                404,
                json!({"errorMessages": ["null for uri: no such endpoint"], "errors": {}}),
            ),
        }
    }
}

impl Handler {
    /// The answer of a pager that stopped advancing: the first page whatever `startAt` or `nextPageToken`
    /// asks for, still saying more follow (`isLast: false`, and Cloud's search a `nextPageToken` that leads
    /// to that first page again).
    fn stuck(&self, s: &State, req: &Request) -> Value {
        let mut first = req.clone();
        let pairs: Vec<(String, String)> = req
            .url
            .query_pairs()
            .into_owned()
            .filter(|(k, _)| k != "nextPageToken")
            .map(|(k, v)| {
                if k == "startAt" {
                    (k, "0".into())
                } else {
                    (k, v)
                }
            })
            .collect();
        first.url.query_pairs_mut().clear().extend_pairs(pairs);
        let (op, _, mut body) = self.answer(s, &first);
        if body.get("isLast").is_some() {
            body["isLast"] = json!(false);
        }
        if op == "search" && body.get("total").is_none() {
            body["nextPageToken"] = json!("tok-0");
        }
        body
    }
}

/// Jira's REST contract, checked on every exchange: the request must be an operation of Atlassian's document
/// with declared, well-typed parameters, and a 2xx body must fit the operation's response schema.
fn jira_contract(
    req: &Request,
    answer: impl FnOnce() -> (String, u16, Value),
) -> Result<(String, u16, Value), Vec<String>> {
    use crate::contracts::openapi::{check_request, check_response, jira};
    crate::shared::hold_to_contract(
        req,
        "Jira's REST contract",
        |target| check_request(jira(), req.method.as_str(), target),
        answer,
        |op, (_, status, body)| check_response(jira(), op, *status, body),
    )
}

impl Respond for Handler {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let mut s = lock(&self.state);
        let (op, mut status, body) = match jira_contract(req, || self.answer(&s, req)) {
            Ok(answer) => answer,
            Err(errors) => {
                let body = json!({"errorMessages": errors, "errors": {}});
                s.violations.extend(errors);
                ("contract".into(), 400, body)
            }
        };
        let fault = s.ledger.take(&op);
        let mut text = body.to_string();
        let mut retry_after = false;
        match fault.map(|f| f.status) {
            Some(crate::shared::STUCK_PAGES) if status == 200 => {
                text = self.stuck(&s, req).to_string();
            }
            Some(0) => text.truncate(text.len() / 2),
            Some(429) => {
                status = 429;
                retry_after = true;
                text = json!({"errorMessages": ["Rate limit exceeded."]}).to_string();
            }
            // Credentials Jira does not accept: Atlassian's document declares the 401 of every operation
            // with a description only ("Returned if the authentication credentials are incorrect or
            // missing"), no body.
            Some(401) => {
                status = 401;
                text = String::new();
            }
            Some(code) => {
                status = code;
                text = "<html><body>Service Unavailable</body></html>".into();
            }
            None => {}
        }
        s.ledger.count(op, status);
        let kind = if text.starts_with('<') {
            "text/html"
        } else {
            "application/json;charset=UTF-8"
        };
        let mut t = ResponseTemplate::new(status)
            .set_body_raw(text.into_bytes(), kind)
            .set_delay(self.spec.latency);
        if retry_after {
            t = t.insert_header("retry-after", "1");
        }
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shared::tests::get;

    const JQL: &str =
        "project%20in%20(%22CORE%22%2C%20%22WEB%22)%20ORDER%20BY%20updated%20ASC%2C%20key%20ASC";

    #[test]
    fn every_answer_of_cloud_and_server_fits_atlassians_document() {
        for (flavor, paths) in [
            (
                Flavor::Cloud,
                vec![
                    "/rest/api/3/status".to_string(),
                    "/rest/api/3/field".into(),
                    "/rest/api/3/myself".into(),
                    format!("/rest/api/3/search/jql?jql={JQL}&maxResults=50&fields=*navigable,worklog&expand=changelog"),
                    format!("/rest/api/3/search/jql?jql={JQL}&maxResults=50&fields=*navigable&expand=changelog&nextPageToken=tok-50"),
                    "/rest/api/3/issue/CORE-6/changelog?startAt=0&maxResults=100".into(),
                    "/rest/api/3/issue/WEB-3/worklog?startAt=0&maxResults=5000".into(),
                ],
            ),
            (
                Flavor::Server,
                vec![
                    "/rest/api/2/status".to_string(),
                    "/rest/api/2/field".into(),
                    "/rest/api/2/myself".into(),
                    format!("/rest/api/2/search?jql={JQL}&startAt=0&maxResults=40&fields=*navigable&expand=changelog"),
                    "/rest/api/2/issue/CORE-6?fields=none&expand=changelog".into(),
                ],
            ),
        ] {
            let fake = FakeJira::start(&FakeJiraSpec {
                flavor,
                ..FakeJiraSpec::default()
            });
            for path in paths {
                let (status, body) = get(&format!("{}{path}", fake.uri()));
                assert_eq!(status, 200, "{flavor:?} {path}: {body}");
            }
            assert_eq!(fake.take_contract_violations(), Vec::<String>::new());
        }
    }

    #[test]
    fn cloud_embeds_the_most_recent_changelog_entries_newest_first_with_field_ids() {
        let fake = FakeJira::start(&FakeJiraSpec::default());
        // CORE-6 is issue 10, whose changelog is longer than the 20 a search embeds.
        let mut token = String::new();
        let issue = loop {
            let (_, page) = get(&format!(
                "{}/rest/api/3/search/jql?jql={JQL}&maxResults=100&fields=*navigable&expand=changelog{token}",
                fake.uri()
            ));
            let found = page["issues"]
                .as_array()
                .and_then(|a| a.iter().find(|i| i["key"] == "CORE-6"))
                .cloned();
            match (found, page["nextPageToken"].as_str()) {
                (Some(issue), _) => break issue,
                (None, Some(t)) => token = format!("&nextPageToken={t}"),
                (None, None) => panic!("CORE-6 is not found"),
            }
        };
        let embedded = issue["changelog"]["histories"]
            .as_array()
            .expect("histories");
        let total = issue["changelog"]["total"].as_u64().unwrap_or_default();
        assert!(total as usize > embedded.len());
        let times: Vec<DateTime<Utc>> = embedded
            .iter()
            .filter_map(|h| flowlake_connect::jira::parse_time(h["created"].as_str()?))
            .collect();
        assert!(
            times.windows(2).all(|w| w[0] >= w[1]),
            "newest first: {times:?}"
        );
        let (_, all) = get(&format!(
            "{}/rest/api/3/issue/CORE-6/changelog?startAt=0&maxResults=100",
            fake.uri()
        ));
        let newest = all["values"]
            .as_array()
            .and_then(|v| v.last())
            .expect("entries");
        assert_eq!(
            embedded[0]["id"], newest["id"],
            "the changelog endpoint is oldest first"
        );
        let item = &embedded[0]["items"][0];
        assert_eq!(item["fieldId"], item["field"], "{item}");
        assert!(fake.take_contract_violations().is_empty());
    }

    #[test]
    fn status_lists_to_do_twice_under_two_project_scopes() {
        let fake = FakeJira::start(&FakeJiraSpec::default());
        let (_, all) = get(&format!("{}/rest/api/3/status", fake.uri()));
        let to_do: Vec<&Value> = all
            .as_array()
            .map(|a| a.iter().filter(|s| s["name"] == "To Do").collect())
            .unwrap_or_default();
        assert_eq!(to_do.len(), 2);
        assert_ne!(to_do[0]["id"], to_do[1]["id"]);
        assert!(to_do.iter().all(|s| s["scope"]["type"] == "PROJECT"));
        assert!(fake.take_contract_violations().is_empty());
    }

    #[test]
    fn a_jira_request_the_document_does_not_allow_is_refused_with_the_reason() {
        let fake = FakeJira::start(&FakeJiraSpec::default());
        let (status, body) = get(&format!(
            "{}/rest/api/3/issue/CORE-6/changelog?startAt=zero",
            fake.uri()
        ));
        assert_eq!(status, 400);
        assert!(
            body["errorMessages"][0]
                .as_str()
                .is_some_and(|m| m.contains("`startAt=zero`")),
            "{body}"
        );
        assert_eq!(fake.take_contract_violations().len(), 1);
    }
}
