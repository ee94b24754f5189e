//! A fake Jira for tests and benchmarks (feature `fakes`): generated projects served on loopback with
//! Cloud's or Server's search and changelog endpoints and shapes — times with the user's offset, Cyrillic
//! status names, embedded changelogs cut past a limit — plus injected faults (429 with Retry-After, 5xx,
//! bodies cut mid-JSON), issues moved between projects, and an added latency per request.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use chrono::{DateTime, Duration as Span, NaiveDateTime, TimeZone, Utc};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};
use wiremock::{MockServer, Request, Respond, ResponseTemplate};

use super::Flavor;

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
pub type JiraFault = crate::fakes::StatusFault;

/// (id, name, category key) of the instance's statuses.
const STATUSES: [(&str, &str, &str); 4] = [
    ("1", "Open", "new"),
    ("3", "В работе", "indeterminate"),
    ("10100", "Review", "indeterminate"),
    ("10001", "Готово", "done"),
];

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
    ledger: crate::fakes::Ledger<JiraFault>,
    next_history: u64,
    clock: i64,
}

/// The running fake. Dropping it stops the server.
pub struct FakeJira {
    _runtime: tokio::runtime::Runtime,
    server: MockServer,
    state: Arc<Mutex<State>>,
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state.lock().unwrap_or_else(|p| p.into_inner())
}

const PEOPLE: [&str; 4] = ["5b10a", "5b10b", "5b10c", "5b10d"];

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
        let (runtime, server) = crate::fakes::serve(|_| Handler {
            state: state.clone(),
            spec: spec.clone(),
        });
        Self {
            _runtime: runtime,
            server,
            state,
        }
    }

    /// The base URL.
    pub fn uri(&self) -> String {
        self.server.uri()
    }

    /// Adds a fault.
    pub fn inject(&self, fault: JiraFault) {
        lock(&self.state).ledger.inject(fault);
    }

    /// Sends issue `key` back from Review to В работе, now.
    pub fn reopen(&self, key: &str) {
        let mut s = lock(&self.state);
        s.clock += 60;
        s.next_history += 1;
        let at = base() + Span::days(400) + Span::seconds(s.clock);
        let h = s.next_history;
        if let Some(i) = s.issues.iter_mut().find(|i| i.key == key) {
            let from = STATUSES[i.status].1.to_string();
            i.histories
                .push((h, "5b10d", at, "status".into(), from, STATUSES[1].1.into()));
            i.status = 1;
            i.updated = at;
        }
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
}

impl Handler {
    fn time(&self, t: DateTime<Utc>) -> String {
        t.with_timezone(&self.spec.time_zone)
            .format("%Y-%m-%dT%H:%M:%S%.3f%z")
            .to_string()
    }

    fn user(&self, id: &str) -> Value {
        let name = format!("User {}", &id[4..]);
        match self.spec.flavor {
            Flavor::Server => json!({"name": id, "key": id, "displayName": name}),
            _ => json!({"accountId": id, "displayName": name, "accountType": "atlassian"}),
        }
    }

    fn history(&self, h: &Entry) -> Value {
        json!({
            "id": h.0.to_string(), "author": self.user(h.1), "created": self.time(h.2),
            "items": [{"field": h.3, "fieldtype": "jira", "from": null, "fromString": h.4, "to": null, "toString": h.5}]
        })
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

    fn issue(&self, i: &Issue, embed: usize, with_worklogs: bool) -> Value {
        let (sid, sname, cat) = STATUSES[i.status];
        let shown: Vec<Value> = i
            .histories
            .iter()
            .rev()
            .take(embed)
            .rev()
            .map(|h| self.history(h))
            .collect();
        let mut issue = json!({
            "id": i.id.to_string(), "key": i.key, "self": format!("/rest/api/2/issue/{}", i.id),
            "fields": {
                "summary": format!("Задача {}", i.key),
                "status": {"id": sid, "name": sname, "statusCategory": {"key": cat}},
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
                    STATUSES
                        .iter()
                        .map(|(id, name, cat)| json!({"id": id, "name": name, "statusCategory": {"key": cat}}))
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
                    None => ("worklog".into(), 404, json!({"errorMessages": ["Issue does not exist or you do not have permission to see it."], "errors": {}})),
                    Some(i) => {
                        let all = self.worklogs(i);
                        let from = num("startAt", 0);
                        let n = num("maxResults", 5000).min(5000);
                        let values: Vec<Value> = all.iter().skip(from).take(n).cloned().collect();
                        ("worklog".into(), 200, json!({"startAt": from, "maxResults": n, "total": all.len(), "worklogs": values}))
                    }
                }
            }
            ["rest", "api", ver, "myself"] if *ver == v => (
                "myself".into(),
                200,
                json!({"accountId": "5b10a", "timeZone": self.spec.time_zone.name()}),
            ),
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
                    None => ("changelog".into(), 404, json!({"errorMessages": ["Issue does not exist or you do not have permission to see it."], "errors": {}})),
                    Some(i) => {
                        let from = num("startAt", 0);
                        let n = num("maxResults", 100).min(100);
                        let values: Vec<Value> =
                            i.histories.iter().skip(from).take(n).map(|h| self.history(h)).collect();
                        let end = from + values.len();
                        (
                            "changelog".into(),
                            200,
                            json!({"startAt": from, "maxResults": n, "total": i.histories.len(), "isLast": end >= i.histories.len(), "values": values}),
                        )
                    }
                }
            }
            ["rest", "api", "2", "issue", key] if !cloud => match s.issues.iter().find(|i| i.key == *key) {
                None => ("changelog".into(), 404, json!({"errorMessages": ["Issue Does Not Exist"], "errors": {}})),
                Some(i) => ("changelog".into(), 200, self.issue(i, usize::MAX, false)),
            },
            _ => (
                "unknown".into(),
                404,
                json!({"errorMessages": ["null for uri: no such endpoint"], "errors": {}}),
            ),
        }
    }
}

impl Respond for Handler {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let mut s = lock(&self.state);
        let (op, mut status, body) = self.answer(&s, req);
        let fault = s.ledger.take(&op);
        let mut text = body.to_string();
        let mut retry_after = false;
        match fault.map(|f| f.status) {
            Some(0) => text.truncate(text.len() / 2),
            Some(429) => {
                status = 429;
                retry_after = true;
                text = json!({"errorMessages": ["Rate limit exceeded."]}).to_string();
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
