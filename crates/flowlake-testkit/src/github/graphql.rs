//! GitHub's GraphQL API as the fake answers it: the connector's operations (issue and pull-request pages,
//! the rest of an item, deployments, releases, search) over the generated data, with opaque offset cursors,
//! shaped to the query by GitHub's schema.

use chrono::{DateTime, Duration as Span, Utc};
use serde_json::{json, Value};

use super::handler::Handler;
use super::spec::{user, PEOPLE};
use super::{FakeDeployment, Item, State};
pub(super) fn node_id(repo: &str, item: &Item) -> String {
    if let Some(n) = &item.node {
        return n.clone();
    }
    let kind = if item.pull_request { "PR" } else { "I" };
    format!("{kind}_{repo}_{}", item.number)
}

/// A connection page of `all`, from offset `from`, `first` long; the cursor is the offset, opaque to
/// clients.
fn page_of(all: &[Value], from: usize, first: usize) -> Value {
    let end = (from + first).min(all.len());
    let nodes = all.get(from..end).unwrap_or_default();
    json!({
        "pageInfo": {"hasNextPage": end < all.len(), "endCursor": if end > from { json!(format!("o{end}")) } else { Value::Null }},
        "nodes": nodes
    })
}

fn offset(after: &Value) -> usize {
    after
        .as_str()
        .and_then(|a| a.strip_prefix('o'))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

/// The GraphQL type of an item.
fn typename(item: &Item) -> &'static str {
    if item.pull_request {
        "PullRequest"
    } else {
        "Issue"
    }
}

fn node_json(repo: &str, item: &Item) -> Value {
    let mut v = json!({
        "id": node_id(repo, item),
        "number": item.number,
        "title": format!("{} {}", if item.pull_request { "Change" } else { "Problem" }, item.number),
        "state": item.state,
        "url": format!("https://github.com/{repo}/{}/{}", if item.pull_request { "pull" } else { "issues" }, item.number),
        "createdAt": item.created,
        "updatedAt": item.updated,
        "closedAt": if item.state == "OPEN" { Value::Null } else { json!(item.updated) },
        "__typename": typename(item),
        "author": user(PEOPLE[item.number as usize % PEOPLE.len()]),
        "repository": {"nameWithOwner": repo},
        "assignees": {"nodes": [{"login": PEOPLE[(item.number as usize + 1) % PEOPLE.len()]}]},
        "labels": {"nodes": [{"name": if item.number % 3 == 0 { "bug" } else { "enhancement" }}]},
        "milestone": null,
        "timelineItems": page_of(&item.events, 0, 100),
        "comments": page_of(&item.comments, 0, 100),
    });
    if item.pull_request {
        v["isDraft"] = json!(item.draft);
        v["mergedAt"] = if item.state == "MERGED" {
            json!(item.updated)
        } else {
            Value::Null
        };
        v["baseRefName"] = json!("main");
        v["headRefName"] = json!(format!("change-{}", item.number));
        v["additions"] = json!(item.number * 7 % 400);
        v["deletions"] = json!(item.number * 3 % 100);
        v["reviews"] = page_of(&item.reviews, 0, 50);
    }
    v
}

/// Sort key of the GraphQL cursor: `(updatedAt, number)`, so deletions never shift a page.
pub(super) fn key(item: &Item) -> String {
    format!("{}|{:010}", item.updated.to_rfc3339(), item.number)
}

/// The fake's answer to a GraphQL request, held to GitHub's schema: a document GitHub refuses is refused,
/// and the fake's data is executed against the document (see [`crate::contracts::graphql`]), so the answer
/// carries exactly the selected fields under their aliases. Errors the fake answers on purpose (a missing
/// repository) pass through once the document is valid.
pub(super) fn as_github_answers(request: &Value, answer: Value) -> Value {
    use crate::contracts::graphql::{answer_github, check_github, refusal};
    let query = request["query"].as_str().unwrap_or_default();
    let vars = &request["variables"];
    if answer.get("errors").is_some() {
        return match check_github(query, vars) {
            Ok(_) => answer,
            Err(errors) => refusal(errors),
        };
    }
    answer_github(query, vars, &answer["data"])
}

impl Handler {
    pub(super) fn graphql(&self, s: &mut State, body: &Value) -> (String, Value) {
        let query = body["query"].as_str().unwrap_or_default();
        let vars = &body["variables"];
        let op = query
            .split_whitespace()
            .nth(1)
            .and_then(|w| w.split('(').next())
            .unwrap_or("unknown")
            .to_string();
        let answer = match op.as_str() {
            "IssuesPage" | "PullRequestsPage" => {
                let repo = format!(
                    "{}/{}",
                    vars["owner"].as_str().unwrap_or_default(),
                    vars["name"].as_str().unwrap_or_default()
                );
                let Some(items) = s.repos.get(&repo) else {
                    return (
                        op,
                        json!({"data": {"repository": null}, "errors": [{"type": "NOT_FOUND", "path": ["repository"], "message": format!("Could not resolve to a Repository with the name '{repo}'.")}]}),
                    );
                };
                let first = vars["first"].as_u64().unwrap_or(100) as usize;
                let issues = op == "IssuesPage";
                let since: Option<DateTime<Utc>> =
                    vars["since"].as_str().and_then(|t| t.parse().ok());
                let mut chosen: Vec<&Item> = items
                    .iter()
                    .filter(|i| i.pull_request != issues)
                    .filter(|i| since.is_none_or(|t| i.updated >= t))
                    .collect();
                chosen.sort_by_key(|i| key(i));
                if !issues {
                    chosen.reverse();
                }
                let after = vars["after"].as_str().map(str::to_string);
                let start = match &after {
                    None => 0,
                    Some(a) => chosen
                        .iter()
                        .position(|i| {
                            let k = key(i);
                            if issues {
                                k.as_str() > a.as_str()
                            } else {
                                k.as_str() < a.as_str()
                            }
                        })
                        .unwrap_or(chosen.len()),
                };
                let end = (start + first).min(chosen.len());
                let nodes: Vec<Value> = chosen[start..end]
                    .iter()
                    .map(|i| node_json(&repo, i))
                    .collect();
                let end_cursor = chosen[..end].last().map(|i| key(i));
                let conn = json!({
                    "totalCount": chosen.len(),
                    "pageInfo": {"hasNextPage": end < chosen.len(), "endCursor": end_cursor},
                    "nodes": nodes
                });
                let field = if issues { "issues" } else { "pullRequests" };
                json!({"data": {"repository": {field: conn}}})
            }
            "DeploymentsPage" => {
                let repo = format!(
                    "{}/{}",
                    vars["owner"].as_str().unwrap_or_default(),
                    vars["name"].as_str().unwrap_or_default()
                );
                let mut list: Vec<&FakeDeployment> = s
                    .deployments
                    .get(&repo)
                    .map(|l| l.iter().collect())
                    .unwrap_or_default();
                list.sort_by_key(|d| std::cmp::Reverse((d.created, d.id)));
                let nodes: Vec<Value> = list
                    .iter()
                    .map(|d| {
                        let updated = d.statuses.last().map_or(d.created, |s| s.1);
                        json!({
                            "id": format!("DE_{}", d.id), "databaseId": d.id, "environment": "production",
                            "commitOid": format!("{:040x}", d.id), "state": "ACTIVE", "task": "deploy",
                            "createdAt": d.created, "updatedAt": updated, "creator": {"__typename": "Bot", "login": "deploy-bot"},
                            "repository": {"nameWithOwner": repo},
                            "statuses": {"nodes": d.statuses.iter().rev().map(|(st, at)| json!({"state": st, "createdAt": at})).collect::<Vec<_>>()}
                        })
                    })
                    .collect();
                let first = vars["first"].as_u64().unwrap_or(100) as usize;
                let mut conn = page_of(&nodes, offset(&vars["after"]), first);
                conn["totalCount"] = json!(nodes.len());
                json!({"data": {"repository": {"deployments": conn}}})
            }
            "ReleasesPage" => {
                let repo = format!(
                    "{}/{}",
                    vars["owner"].as_str().unwrap_or_default(),
                    vars["name"].as_str().unwrap_or_default()
                );
                let mut list = s.releases.get(&repo).cloned().unwrap_or_default();
                list.sort_by_key(|r| std::cmp::Reverse((r.1, r.0)));
                let nodes: Vec<Value> = list
                    .iter()
                    .enumerate()
                    .map(|(k, (id, created))| {
                        let tag = format!("v1.{}.0", list.len() - k);
                        json!({
                            "id": format!("RE_{id}"), "databaseId": id, "tagName": tag, "name": tag,
                            "createdAt": created, "publishedAt": *created + Span::minutes(30), "updatedAt": *created + Span::minutes(30),
                            "isDraft": false, "isPrerelease": false,
                            "url": format!("https://github.com/{repo}/releases/tag/{tag}"),
                            "author": {"login": "alice"}, "repository": {"nameWithOwner": repo}
                        })
                    })
                    .collect();
                let first = vars["first"].as_u64().unwrap_or(100) as usize;
                let mut conn = page_of(&nodes, offset(&vars["after"]), first);
                conn["totalCount"] = json!(nodes.len());
                json!({"data": {"repository": {"releases": conn}}})
            }
            "SearchPage" => {
                let q = vars["q"].as_str().unwrap_or_default();
                let term = |name: &str| {
                    q.split_whitespace()
                        .find_map(|t| t.strip_prefix(name))
                        .unwrap_or_default()
                        .to_string()
                };
                let repo = term("repo:");
                let issues = term("is:") == "issue";
                let (from, to) = term("created:")
                    .split_once("..")
                    .map(|(a, b)| (a.to_string(), b.to_string()))
                    .unwrap_or_default();
                let day = |t: &DateTime<Utc>| t.format("%Y-%m-%d").to_string();
                let mut found: Vec<&Item> = s
                    .repos
                    .get(&repo)
                    .map(|items| {
                        items
                            .iter()
                            .filter(|i| i.pull_request != issues)
                            .filter(|i| day(&i.created) >= from && day(&i.created) <= to)
                            .collect()
                    })
                    .unwrap_or_default();
                found.sort_by_key(|i| (i.created, i.number));
                let count = found.len();
                // Search serves the first 1,000 results only.
                let reachable: Vec<Value> = found
                    .iter()
                    .take(1000)
                    .map(|i| node_json(&repo, i))
                    .collect();
                let first = vars["first"].as_u64().unwrap_or(100) as usize;
                let mut conn = page_of(&reachable, offset(&vars["after"]), first);
                conn["issueCount"] = json!(count);
                json!({"data": {"search": conn}})
            }
            "RestOfItem" => {
                let id = vars["id"].as_str().unwrap_or_default();
                let from = offset(&vars["after"]);
                let item = s
                    .repos
                    .iter()
                    .flat_map(|(repo, items)| items.iter().map(move |i| (repo, i)))
                    .find(|(repo, i)| node_id(repo, i) == id)
                    .map(|(_, i)| i);
                match item {
                    None => {
                        json!({"data": {"node": null}, "errors": [{"type": "NOT_FOUND", "message": format!("Could not resolve to a node with the global id of '{id}'")}]})
                    }
                    Some(item) if query.contains("reviews(") => {
                        json!({"data": {"node": {"__typename": typename(item), "reviews": page_of(&item.reviews, from, 100)}}})
                    }
                    Some(item) if query.contains("comments(") => {
                        json!({"data": {"node": {"__typename": typename(item), "comments": page_of(&item.comments, from, 100)}}})
                    }
                    Some(item) => {
                        json!({"data": {"node": {"__typename": typename(item), "timelineItems": page_of(&item.events, from, 100)}}})
                    }
                }
            }
            _ => json!({"errors": [{"message": format!("unknown operation {op}")}]}),
        };
        (op, answer)
    }
}
