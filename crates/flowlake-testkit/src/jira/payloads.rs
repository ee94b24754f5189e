//! Jira's payload shapes as Cloud (REST 3) or Server (REST 2) writes them: times with the user's offset,
//! users, changelog histories, statuses, worklogs, sprints and whole issues with their changelogs embedded
//! and cut past a limit.

use chrono::{DateTime, Duration as Span, Utc};
use flowlake_connect::jira::Flavor;
use serde_json::{json, Value};

use super::handler::Handler;
use super::spec::{base, display_name, status_category, status_id, PEOPLE, STATUSES};
use super::{Entry, Issue};

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
    pub(super) fn user(&self, id: &str) -> Value {
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
    pub(super) fn history(&self, h: &Entry) -> Value {
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
    pub(super) fn status(&self, k: usize) -> Value {
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
    pub(super) fn worklogs(&self, i: &Issue) -> Vec<Value> {
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
    pub(super) fn issue(&self, i: &Issue, embed: usize, with_worklogs: bool) -> Value {
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
}
