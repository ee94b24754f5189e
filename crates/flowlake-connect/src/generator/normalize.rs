//! The generator's payload into the domain model: a pure, total function.

use flowlake_core::{
    qualified_id, FieldChange, ItemHistory, Person, StandardType, StatusChange, StatusMap, WorkItem,
};

use super::simulate::DemoIssue;

/// Normalizes one generated issue: status moves become [`StatusChange`]s, every other changed field a
/// [`FieldChange`]. The generator's workflow uses common status names, so the default
/// category guesses apply; config mappings are applied later by the engine.
pub fn normalize_issue<'a>(source: &str, issue: &'a DemoIssue) -> ItemHistory {
    let id = qualified_id(source, &issue.key);
    let person = |login: &Option<String>| login.as_ref().map(|l| qualified_id(source, l));
    let item = WorkItem {
        id: id.clone(),
        source: source.to_string(),
        project: issue.project.clone(),
        key: issue.key.clone(),
        title: issue.summary.clone(),
        item_type: issue.issue_type.clone(),
        standard_type: StandardType::guess(&issue.issue_type),
        status: issue.status.clone(),
        status_category: StatusMap::default().category(&issue.status, None),
        priority: Some(issue.priority.clone()),
        author: person(&Some(issue.reporter.clone())),
        assignee: person(&issue.assignee),
        labels: issue.labels.clone(),
        components: issue.components.clone(),
        parent: None,
        created_at: issue.created,
        updated_at: issue.updated,
        resolved_at: issue.resolved,
        url: Some(format!("https://tracker.example/{}", issue.key)),
        custom_fields: serde_json::json!({ "story_points": issue.story_points }),
    };
    let mut status_changes = Vec::new();
    let mut field_changes = Vec::with_capacity(issue.changelog.len());
    // The few people of an issue make most of its changes: each id is formatted once.
    let mut ids: Vec<(&str, String)> = Vec::new();
    let mut author_id = |login: &'a str| -> String {
        if let Some((_, id)) = ids.iter().find(|(l, _)| *l == login) {
            return id.clone();
        }
        let id = qualified_id(source, login);
        ids.push((login, id.clone()));
        id
    };
    for c in &issue.changelog {
        let change_id = c.id.to_string();
        if c.field == "status" {
            status_changes.push(StatusChange {
                item_id: id.clone(),
                change_id,
                at: c.at,
                author: Some(author_id(&c.author)),
                from_status: c.from.clone(),
                to_status: c.to.clone().unwrap_or_default(),
            });
            continue;
        }
        field_changes.push(FieldChange {
            item_id: id.clone(),
            change_id,
            at: c.at,
            author: Some(author_id(&c.author)),
            field: c.field.clone(),
            from_value: c.from.clone(),
            to_value: c.to.clone(),
        });
    }
    let mut logins: Vec<&str> = std::iter::once(issue.reporter.as_str())
        .chain(issue.assignee.as_deref())
        .chain(issue.changelog.iter().map(|c| c.author.as_str()))
        .collect();
    logins.sort_unstable();
    logins.dedup();
    let people = logins
        .into_iter()
        .map(|login| Person {
            id: qualified_id(source, login),
            source: source.to_string(),
            login: login.to_string(),
            name: Some(display_name(login)),
            email: Some(format!("{login}@example.com")),
        })
        .collect();
    ItemHistory {
        item,
        status_changes,
        field_changes,
        people,
        pull_request: None,
        reviews: Vec::new(),
        moved_node_id: None,
        workflow_exits: None,
        worklogs: vec![],
        sprints: vec![],
    }
}

/// `alice.core` → `Alice (core)`.
fn display_name(login: &str) -> String {
    let (first, team) = login.split_once('.').unwrap_or((login, ""));
    let mut name: String = first
        .chars()
        .take(1)
        .flat_map(char::to_uppercase)
        .chain(first.chars().skip(1))
        .collect();
    if !team.is_empty() {
        name.push_str(&format!(" ({team})"));
    }
    name
}
