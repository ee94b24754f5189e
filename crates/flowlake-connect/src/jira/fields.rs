//! What the instance's field list (`/rest/api/{2,3}/field`) tells the normalizer, and the two field values
//! that need it: sprints (a custom field whose id differs per instance) and worklogs.
//!
//! Custom field ids (`customfield_10016`) differ between instances, so config may name a field as Jira shows
//! it (`story_points = "Story Points"`) and the field list resolves it; the sprint field is found by its
//! schema (`com.pyxis.greenhopper.jira:gh-sprint`), whatever it is called.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use flowlake_core::{qualified_id, Sprint, Worklog};
use serde::Deserialize;
use serde_json::Value;

use super::normalize::{parse_time, JiraUser};

/// The schema of Jira Software's sprint field.
const SPRINT_SCHEMA: &str = "com.pyxis.greenhopper.jira:gh-sprint";

/// Field ids by name, and which fields hold sprints; filled from `_fields` lookup records.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldIndex {
    /// Field name (as Jira shows it, lower-cased) → id; ids map to themselves.
    ids: BTreeMap<String, String>,
    /// Ids of sprint fields.
    sprint_fields: Vec<String>,
}

impl FieldIndex {
    /// Takes in one entry of the field list: `{id, name, custom, schema: {custom}}`.
    pub fn absorb(&mut self, field: &Value) {
        let Some(id) = field["id"].as_str() else {
            return;
        };
        self.ids.insert(id.to_lowercase(), id.to_string());
        if let Some(name) = field["name"].as_str() {
            self.ids.insert(name.to_lowercase(), id.to_string());
        }
        if field.pointer("/schema/custom").and_then(Value::as_str) == Some(SPRINT_SCHEMA)
            && !self.sprint_fields.iter().any(|f| f == id)
        {
            self.sprint_fields.push(id.to_string());
        }
    }

    /// The JSON pointer a `custom_fields` value stands for: a pointer as is, a field name or id as
    /// `/fields/<id>`; `None` for a name the instance does not have.
    pub fn pointer(&self, spec: &str) -> Option<String> {
        if spec.starts_with('/') {
            return Some(spec.to_string());
        }
        let id = self.ids.get(&spec.to_lowercase())?;
        Some(format!("/fields/{id}"))
    }

    /// Ids of the sprint fields.
    pub fn sprint_fields(&self) -> &[String] {
        &self.sprint_fields
    }
}

/// Cloud's sprint object, or Server's `Sprint@…[id=…,…]` text, as one sprint.
pub fn parse_sprint(source: &str, v: &Value) -> Option<Sprint> {
    let (id, board, name, state, goal, start, end, complete) = match v {
        Value::Object(o) => {
            let text = |k: &str| o.get(k).and_then(Value::as_str).map(str::to_string);
            let id = match o.get("id")? {
                Value::Number(n) => n.to_string(),
                Value::String(s) => s.clone(),
                _ => return None,
            };
            (
                id,
                o.get("boardId")
                    .or_else(|| o.get("originBoardId"))
                    .and_then(Value::as_i64),
                text("name")?,
                text("state").unwrap_or_default(),
                text("goal"),
                text("startDate"),
                text("endDate"),
                text("completeDate"),
            )
        }
        Value::String(s) => {
            let fields = server_sprint_fields(s)?;
            let get = |k: &str| {
                fields
                    .get(k)
                    .filter(|v| !v.is_empty() && v.as_str() != "<null>")
                    .cloned()
            };
            (
                get("id")?,
                get("rapidViewId").and_then(|b| b.parse().ok()),
                get("name")?,
                get("state").unwrap_or_default(),
                get("goal"),
                get("startDate"),
                get("endDate"),
                get("completeDate"),
            )
        }
        _ => return None,
    };
    let time = |t: Option<String>| t.as_deref().and_then(parse_time);
    Some(Sprint {
        id: qualified_id(source, &format!("sprint:{id}")),
        source: source.to_string(),
        board_id: board,
        name,
        state: state.to_lowercase(),
        goal: goal.filter(|g| !g.is_empty()),
        start_at: time(start),
        end_at: time(end),
        complete_at: time(complete),
    })
}

/// `com.atlassian.greenhopper.service.sprint.Sprint@1f[id=1,rapidViewId=2,name=A, B,…]` → its pairs. A
/// comma not followed by `key=` belongs to the value (a name with commas).
fn server_sprint_fields(s: &str) -> Option<BTreeMap<String, String>> {
    let inner = s.split_once('[')?.1.strip_suffix(']')?;
    let mut out: BTreeMap<String, String> = BTreeMap::new();
    let mut last: Option<String> = None;
    for part in inner.split(',') {
        let key = part
            .split_once('=')
            .map(|(k, _)| k)
            .filter(|k| !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric()));
        match (key, &last) {
            (Some(k), _) => {
                let value = &part[k.len() + 1..];
                out.insert(k.to_string(), value.to_string());
                last = Some(k.to_string());
            }
            (None, Some(k)) => {
                if let Some(v) = out.get_mut(k) {
                    v.push(',');
                    v.push_str(part);
                }
            }
            (None, None) => return None,
        }
    }
    Some(out)
}

/// The sprints of an issue, from every sprint field of `raw` (the issue as landed).
pub fn issue_sprints(source: &str, raw: &Value, index: &FieldIndex) -> Vec<Sprint> {
    let mut out: Vec<Sprint> = Vec::new();
    for field in index.sprint_fields() {
        let values = match raw.pointer(&format!("/fields/{field}")) {
            Some(Value::Array(a)) => a.clone(),
            Some(v @ (Value::Object(_) | Value::String(_))) => vec![v.clone()],
            _ => continue,
        };
        for s in values.iter().filter_map(|v| parse_sprint(source, v)) {
            if !out.iter().any(|o| o.id == s.id) {
                out.push(s);
            }
        }
    }
    out
}

/// One worklog as `/issue/{key}/worklog` and the embedded `fields.worklog` return it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JiraWorklog {
    /// Id.
    pub id: String,
    /// Who logged it.
    pub author: Option<JiraUser>,
    /// When the work started.
    pub started: String,
    /// Seconds spent.
    #[serde(default)]
    pub time_spent_seconds: i64,
    /// Created.
    pub created: Option<String>,
    /// Last edited.
    pub updated: Option<String>,
}

/// The embedded worklog page of an issue (`fields.worklog`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct WorklogPage {
    /// Entries in this payload.
    #[serde(default)]
    pub worklogs: Vec<JiraWorklog>,
    /// Entries that exist; more than `worklogs.len()` when the embedded list was cut.
    pub total: Option<usize>,
}

/// The worklogs of item `item_id`; entries whose start is not a Jira time are skipped. `person` turns a user
/// into a person id (and remembers them).
pub fn worklogs(
    item_id: &str,
    page: &WorklogPage,
    mut person: impl FnMut(&Option<JiraUser>) -> Option<String>,
) -> Vec<Worklog> {
    let time = |t: &Option<String>| -> Option<DateTime<Utc>> { t.as_deref().and_then(parse_time) };
    page.worklogs
        .iter()
        .filter_map(|w| {
            Some(Worklog {
                id: w.id.clone(),
                item_id: item_id.to_string(),
                author: person(&w.author),
                started_at: parse_time(&w.started)?,
                seconds: w.time_spent_seconds,
                created_at: time(&w.created),
                updated_at: time(&w.updated),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sprints_parse_from_cloud_objects_and_server_text() {
        let mut index = FieldIndex::default();
        index.absorb(&json!({"id": "customfield_10020", "name": "Sprint", "custom": true,
            "schema": {"type": "array", "items": "json", "custom": SPRINT_SCHEMA, "customId": 10020}}));
        index.absorb(&json!({"id": "customfield_10016", "name": "Story Points", "custom": true,
            "schema": {"type": "number", "custom": "com.atlassian.jira.plugin.system.customfieldtypes:float"}}));
        assert_eq!(
            index.pointer("story points").as_deref(),
            Some("/fields/customfield_10016")
        );
        assert_eq!(
            index.pointer("customfield_10016").as_deref(),
            Some("/fields/customfield_10016")
        );
        assert_eq!(index.pointer("/fields/x").as_deref(), Some("/fields/x"));
        assert_eq!(index.pointer("Team"), None);

        let cloud = json!({"fields": {"customfield_10020": [
            {"id": 37, "name": "Sprint 1", "state": "closed", "boardId": 2, "goal": "",
             "startDate": "2026-01-05T09:00:00.000Z", "endDate": "2026-01-19T09:00:00.000Z",
             "completeDate": "2026-01-19T16:30:00.000Z"},
            {"id": 38, "name": "Sprint 2", "state": "active", "boardId": 2, "goal": "Ship export",
             "startDate": "2026-01-19T09:00:00.000Z", "endDate": "2026-02-02T09:00:00.000Z"}
        ]}});
        let s = issue_sprints("jira", &cloud, &index);
        assert_eq!(s.len(), 2);
        assert_eq!(
            (s[0].id.as_str(), s[0].board_id, s[0].state.as_str()),
            ("jira:sprint:37", Some(2), "closed")
        );
        assert_eq!(s[0].goal, None);
        assert_eq!(s[1].goal.as_deref(), Some("Ship export"));
        assert_eq!(
            s[0].complete_at.unwrap().to_rfc3339(),
            "2026-01-19T16:30:00+00:00"
        );

        let server = json!({"fields": {"customfield_10020": [
            "com.atlassian.greenhopper.service.sprint.Sprint@14b1c359[id=5,rapidViewId=3,state=CLOSED,name=Спринт 5, осень,startDate=2025-10-01T10:00:00.000+03:00,endDate=2025-10-15T10:00:00.000+03:00,completeDate=<null>,sequence=5,goal=]"
        ]}});
        let s = issue_sprints("jira", &server, &index);
        assert_eq!(s.len(), 1, "{s:?}");
        assert_eq!(
            (s[0].id.as_str(), s[0].name.as_str(), s[0].state.as_str()),
            ("jira:sprint:5", "Спринт 5, осень", "closed")
        );
        assert_eq!(s[0].board_id, Some(3));
        assert_eq!(
            s[0].start_at.unwrap().to_rfc3339(),
            "2025-10-01T07:00:00+00:00"
        );
        assert_eq!((s[0].complete_at, s[0].goal.as_deref()), (None, None));
        assert!(parse_sprint("jira", &json!("garbage")).is_none());
        assert!(issue_sprints("jira", &json!({"fields": {}}), &index).is_empty());
    }

    #[test]
    fn worklogs_keep_their_offsets_and_skip_bad_times() {
        let page: WorklogPage = serde_json::from_value(json!({"startAt": 0, "maxResults": 20, "total": 2,
            "worklogs": [
                {"id": "100", "author": {"accountId": "5b10a"}, "started": "2026-02-03T10:00:00.000+0300",
                 "timeSpentSeconds": 5400, "created": "2026-02-03T12:00:00.000+0300"},
                {"id": "101", "started": "yesterday", "timeSpentSeconds": 60}
            ]}))
        .unwrap();
        let w = worklogs("jira:1", &page, |u| {
            u.as_ref()
                .and_then(|u| u.login().map(|l| format!("jira:{l}")))
        });
        assert_eq!(w.len(), 1);
        assert_eq!(
            (
                w[0].started_at.to_rfc3339(),
                w[0].seconds,
                w[0].author.as_deref()
            ),
            (
                "2026-02-03T07:00:00+00:00".to_string(),
                5400,
                Some("jira:5b10a")
            )
        );
    }
}
