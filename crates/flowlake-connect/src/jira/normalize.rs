//! A Jira issue (REST `search` result with `expand=changelog`, Cloud or Server/Data Center) into an
//! [`ItemHistory`]: every changelog item on the `status` field becomes a status change, every other item a
//! field change, and configured JSON pointers into the issue become named custom fields.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use flowlake_core::{
    qualified_id, FieldChange, ItemHistory, Person, StandardType, StatusCategory, StatusChange,
    WorkItem,
};
use serde::Deserialize;
use serde_json::Value;

use super::fields::{issue_sprints, worklogs, FieldIndex, WorklogPage};

/// Jira writes times as `2024-01-15T10:30:00.000+0300`; RFC 3339 (`+03:00`) is accepted too.
pub fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f%z")
        .or_else(|_| DateTime::parse_from_rfc3339(s))
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

fn time<'de, D: serde::Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
    let s = String::deserialize(d)?;
    parse_time(&s).ok_or_else(|| serde::de::Error::custom(format!("`{s}` is not a Jira time")))
}

fn opt_time<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
    match Option::<String>::deserialize(d)? {
        None => Ok(None),
        Some(s) => parse_time(&s)
            .map(Some)
            .ok_or_else(|| serde::de::Error::custom(format!("`{s}` is not a Jira time"))),
    }
}

/// A user: `accountId` on Cloud, `name`/`key` on Server.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JiraUser {
    /// Cloud id.
    pub account_id: Option<String>,
    /// Server login.
    pub name: Option<String>,
    /// Shown name.
    pub display_name: Option<String>,
    /// E-mail, when visible.
    pub email_address: Option<String>,
}

impl JiraUser {
    /// The stable login: `accountId`, else `name`.
    pub fn login(&self) -> Option<&str> {
        self.account_id.as_deref().or(self.name.as_deref())
    }
}

/// `{ name }` objects: issue type, priority, component.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Named {
    /// Name.
    pub name: String,
}

/// An issue type: its name, and where it sits in the hierarchy.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JiraIssueType {
    /// Name (`Story`, `Ошибка`, `Sub-task`).
    pub name: String,
    /// A sub-task type.
    #[serde(default)]
    pub subtask: bool,
    /// Cloud: `-1` sub-task, `0` standard, `1` epic, higher for levels above (Premium plans).
    pub hierarchy_level: Option<i64>,
}

impl JiraIssueType {
    /// The standard type: sub-task and epic levels by the hierarchy (whatever the type is called), others by
    /// name.
    pub fn standard(&self) -> StandardType {
        match (self.subtask, self.hierarchy_level) {
            (true, _) | (_, Some(-1)) => StandardType::Subtask,
            (_, Some(l)) if l >= 1 => StandardType::Epic,
            _ => StandardType::guess(&self.name),
        }
    }
}

/// `{ id, key }` objects: project, parent.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Keyed {
    /// Numeric id (stable when a key changes).
    pub id: Option<String>,
    /// Key.
    pub key: String,
}

/// A status with its category.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JiraStatus {
    /// Name.
    pub name: String,
    /// Its category: `new`, `indeterminate` or `done`.
    pub status_category: Option<JiraStatusCategory>,
}

/// A status category.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct JiraStatusCategory {
    /// `new`, `indeterminate`, `done` (`undefined` on odd instances).
    pub key: String,
}

/// Jira's category key → ours.
pub fn category_of(key: &str) -> Option<StatusCategory> {
    match key {
        "new" => Some(StatusCategory::Todo),
        "indeterminate" => Some(StatusCategory::InProgress),
        "done" => Some(StatusCategory::Done),
        _ => None,
    }
}

/// The fields the normalizer reads.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JiraFields {
    /// Title.
    pub summary: Option<String>,
    /// Current status.
    pub status: JiraStatus,
    /// Issue type.
    pub issuetype: Option<JiraIssueType>,
    /// Priority.
    pub priority: Option<Named>,
    /// Reporter.
    pub reporter: Option<JiraUser>,
    /// Creator, when the reporter is hidden.
    pub creator: Option<JiraUser>,
    /// Assignee.
    pub assignee: Option<JiraUser>,
    /// Labels.
    #[serde(default)]
    pub labels: Vec<String>,
    /// Components.
    #[serde(default)]
    pub components: Vec<Named>,
    /// Parent issue.
    pub parent: Option<Keyed>,
    /// Project.
    pub project: Keyed,
    /// Creation time.
    #[serde(deserialize_with = "time")]
    pub created: DateTime<Utc>,
    /// Last update.
    #[serde(deserialize_with = "time")]
    pub updated: DateTime<Utc>,
    /// Resolution time.
    #[serde(default, deserialize_with = "opt_time")]
    pub resolutiondate: Option<DateTime<Utc>>,
    /// Worklogs, when asked for (`fields=…,worklog`).
    #[serde(default)]
    pub worklog: Option<WorklogPage>,
}

/// One changed field of a history entry.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChangeItem {
    /// Field name (`status`, `assignee`, `Sprint`, …).
    pub field: String,
    /// Old value, as shown.
    pub from_string: Option<String>,
    /// New value, as shown.
    pub to_string: Option<String>,
}

/// One changelog entry: who, when, which fields.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct History {
    /// Entry id.
    pub id: String,
    /// Who (absent for automation on some instances).
    pub author: Option<JiraUser>,
    /// When.
    #[serde(deserialize_with = "time")]
    pub created: DateTime<Utc>,
    /// What changed.
    #[serde(default)]
    pub items: Vec<ChangeItem>,
}

/// The embedded changelog.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Changelog {
    /// Entries in this payload.
    #[serde(default)]
    pub histories: Vec<History>,
    /// Entries that exist; more than `histories.len()` when the embedded changelog was cut.
    pub total: Option<usize>,
}

/// A Jira issue as the search returns it with `expand=changelog`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct JiraIssue {
    /// Numeric id.
    pub id: String,
    /// Key, `PROJ-12`.
    pub key: String,
    /// Fields.
    pub fields: JiraFields,
    /// Changelog.
    #[serde(default)]
    pub changelog: Changelog,
}

/// Normalizes one issue. Its identity is Jira's numeric id, which survives a move to another project (the
/// key changes; `work_items.key` follows). `browse` is the base for links (`https://acme.atlassian.net`); `custom` maps a
/// column name to a JSON pointer into `raw` (the issue as landed) or to a field name `index` resolves.
pub fn normalize_issue(
    source: &str,
    browse: &str,
    issue: &JiraIssue,
    raw: &Value,
    custom: &BTreeMap<String, String>,
    index: &FieldIndex,
) -> ItemHistory {
    let id = qualified_id(source, &issue.id);
    let f = &issue.fields;
    let mut people: BTreeMap<String, JiraUser> = BTreeMap::new();
    let mut person = |u: &Option<JiraUser>| -> Option<String> {
        let u = u.as_ref()?;
        let login = u.login()?;
        people.entry(login.to_string()).or_insert_with(|| u.clone());
        Some(qualified_id(source, login))
    };
    let author = person(&f.reporter).or_else(|| person(&f.creator));
    let assignee = person(&f.assignee);

    let mut histories: Vec<&History> = issue.changelog.histories.iter().collect();
    histories.sort_by(|a, b| a.created.cmp(&b.created).then_with(|| a.id.cmp(&b.id)));
    let mut status_changes = Vec::new();
    let mut field_changes = Vec::new();
    for h in histories {
        let who = person(&h.author);
        for (n, item) in h.items.iter().enumerate() {
            let change_id = if n == 0 {
                h.id.clone()
            } else {
                format!("{}.{n}", h.id)
            };
            if item.field.eq_ignore_ascii_case("status") {
                if let Some(to) = &item.to_string {
                    status_changes.push(StatusChange {
                        item_id: id.clone(),
                        change_id,
                        at: h.created,
                        author: who.clone(),
                        from_status: item.from_string.clone(),
                        to_status: to.clone(),
                    });
                }
            } else {
                field_changes.push(FieldChange {
                    item_id: id.clone(),
                    change_id,
                    at: h.created,
                    author: who.clone(),
                    field: item.field.clone(),
                    from_value: item.from_string.clone(),
                    to_value: item.to_string.clone(),
                });
            }
        }
    }
    let item_type = f
        .issuetype
        .as_ref()
        .map_or_else(|| "Issue".to_string(), |t| t.name.clone());
    let worklogs = f
        .worklog
        .as_ref()
        .map(|page| worklogs(&id, page, &mut person))
        .unwrap_or_default();
    let resolved: BTreeMap<String, String> = custom
        .iter()
        .map(|(name, spec)| {
            // A name the instance does not know picks nothing (an empty pointer would pick the whole issue).
            let pointer = index.pointer(spec).unwrap_or_else(|| "/-".into());
            (name.clone(), pointer)
        })
        .collect();
    let custom_fields = crate::pick_fields(raw, &resolved);
    let category = f
        .status
        .status_category
        .as_ref()
        .and_then(|c| category_of(&c.key))
        .unwrap_or_else(|| flowlake_core::status::guess_category(&f.status.name));
    let item = WorkItem {
        id: id.clone(),
        source: source.to_string(),
        project: f.project.key.clone(),
        key: issue.key.clone(),
        title: f.summary.clone().unwrap_or_default(),
        standard_type: f
            .issuetype
            .as_ref()
            .map_or(StandardType::Other, JiraIssueType::standard),
        item_type,
        status: f.status.name.clone(),
        status_category: category,
        priority: f.priority.as_ref().map(|p| p.name.clone()),
        author,
        assignee,
        labels: f.labels.clone(),
        components: f.components.iter().map(|c| c.name.clone()).collect(),
        parent: f
            .parent
            .as_ref()
            .map(|p| qualified_id(source, p.id.as_deref().unwrap_or(&p.key))),
        created_at: f.created,
        updated_at: f.updated,
        resolved_at: f.resolutiondate,
        url: Some(format!(
            "{}/browse/{}",
            browse.trim_end_matches('/'),
            issue.key
        )),
        custom_fields: Value::Object(custom_fields),
    };
    ItemHistory {
        item,
        status_changes,
        field_changes,
        people: people
            .into_iter()
            .map(|(login, u)| Person {
                id: qualified_id(source, &login),
                source: source.to_string(),
                login,
                name: u.display_name.clone(),
                email: u.email_address.clone(),
            })
            .collect(),
        pull_request: None,
        reviews: Vec::new(),
        moved_node_id: None,
        workflow_exits: None,
        worklogs,
        sprints: issue_sprints(source, raw, index),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// An issue shaped like Jira Cloud's search answer, with offsets other than UTC.
    fn issue() -> Value {
        serde_json::json!({
            "id": "10042", "key": "CORE-7", "self": "https://acme.atlassian.net/rest/api/3/issue/10042",
            "fields": {
                "summary": "Падает экспорт", "customfield_10016": 5.0,
                "status": {"name": "Готово", "statusCategory": {"key": "done", "name": "Done"}},
                "issuetype": {"name": "Bug"}, "priority": {"name": "High"},
                "reporter": {"accountId": "5b10a", "displayName": "Alice"},
                "assignee": {"accountId": "5b10b", "displayName": "Bob", "emailAddress": "bob@acme.test"},
                "labels": ["export"], "components": [{"name": "api"}], "parent": {"id": "10001", "key": "CORE-1"},
                "project": {"key": "CORE", "name": "Core"},
                "created": "2024-03-04T10:00:00.000+0300", "updated": "2024-03-06T18:00:00.000+0800",
                "resolutiondate": "2024-03-06T18:00:00.000+0800"
            },
            "changelog": {"startAt": 0, "maxResults": 100, "total": 2, "histories": [
                {"id": "201", "author": {"accountId": "5b10a", "displayName": "Alice"}, "created": "2024-03-06T18:00:00.000+0800",
                 "items": [{"field": "status", "fieldtype": "jira", "from": "3", "fromString": "В работе", "to": "10001", "toString": "Готово"},
                           {"field": "resolution", "fieldtype": "jira", "from": null, "fromString": null, "to": "1", "toString": "Done"}]},
                {"id": "200", "author": {"accountId": "5b10b", "displayName": "Bob"}, "created": "2024-03-04T12:30:00.000+0300",
                 "items": [{"field": "status", "fieldtype": "jira", "from": "1", "fromString": "Open", "to": "3", "toString": "В работе"}]}
            ]}
        })
    }

    #[test]
    fn changelog_offsets_and_non_ascii_statuses() {
        let raw = issue();
        let parsed: JiraIssue = serde_json::from_value(raw.clone()).unwrap();
        let custom = BTreeMap::from([(
            "story_points".to_string(),
            "/fields/customfield_10016".to_string(),
        )]);
        let h = normalize_issue(
            "jira",
            "https://acme.atlassian.net/",
            &parsed,
            &raw,
            &custom,
            &FieldIndex::default(),
        );
        let moves: Vec<(String, &str, &str)> = h
            .status_changes
            .iter()
            .map(|c| {
                (
                    c.at.to_rfc3339(),
                    c.from_status.as_deref().unwrap_or(""),
                    c.to_status.as_str(),
                )
            })
            .collect();
        assert_eq!(
            moves,
            [
                ("2024-03-04T09:30:00+00:00".to_string(), "Open", "В работе"),
                (
                    "2024-03-06T10:00:00+00:00".to_string(),
                    "В работе",
                    "Готово"
                ),
            ]
        );
        assert_eq!(h.status_changes[1].change_id, "201");
        assert_eq!(h.field_changes[0].change_id, "201.1");
        assert_eq!(
            (h.item.id.as_str(), h.item.key.as_str()),
            ("jira:10042", "CORE-7")
        );
        assert_eq!(h.item.created_at.to_rfc3339(), "2024-03-04T07:00:00+00:00");
        assert_eq!(h.item.status_category, StatusCategory::Done);
        assert_eq!(h.item.standard_type, StandardType::Bug);
        assert_eq!(h.item.parent.as_deref(), Some("jira:10001"));
        assert_eq!(
            h.item.url.as_deref(),
            Some("https://acme.atlassian.net/browse/CORE-7")
        );
        assert_eq!(h.item.custom_fields["story_points"], 5.0);
        let names: Vec<Option<&str>> = h.people.iter().map(|p| p.name.as_deref()).collect();
        assert_eq!(names, [Some("Alice"), Some("Bob")]);
    }

    #[test]
    fn issue_types_map_by_hierarchy_before_name() {
        let cases = [
            (
                json!({"name": "Техническая задача", "subtask": true, "hierarchyLevel": -1}),
                StandardType::Subtask,
            ),
            (
                json!({"name": "Initiative", "subtask": false, "hierarchyLevel": 2}),
                StandardType::Epic,
            ),
            (
                json!({"name": "Эпик", "subtask": false, "hierarchyLevel": 1}),
                StandardType::Epic,
            ),
            (
                json!({"name": "Ошибка", "subtask": false, "hierarchyLevel": 0}),
                StandardType::Bug,
            ),
            (json!({"name": "Story"}), StandardType::Feature),
            (json!({"name": "Sub-task"}), StandardType::Subtask),
        ];
        for (t, want) in cases {
            let parsed: JiraIssueType = serde_json::from_value(t.clone()).unwrap();
            assert_eq!(parsed.standard(), want, "{t}");
        }
    }

    #[test]
    fn times_parse_in_both_offset_styles() {
        for s in [
            "2024-03-04T10:00:00.000+0300",
            "2024-03-04T10:00:00+03:00",
            "2024-03-04T07:00:00.000Z",
        ] {
            assert_eq!(
                parse_time(s).unwrap().to_rfc3339(),
                "2024-03-04T07:00:00+00:00",
                "{s}"
            );
        }
        assert_eq!(parse_time("04.03.2024"), None);
    }
}
