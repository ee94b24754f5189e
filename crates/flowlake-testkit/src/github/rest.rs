//! GitHub's REST API as the fake answers it: the change probes with ETags and 304s, the organization's
//! repository list with Link pages, and the whole REST objects GitHub writes (`issue`, `deployment`,
//! `release`, `simple-user`, `minimal-repository`), held to GitHub's OpenAPI document by [`rest_contract`].

use std::collections::BTreeMap;

use chrono::{DateTime, Duration as Span, Utc};
use serde_json::{json, Value};
use wiremock::Request;

use super::graphql::{key, node_id};
use super::handler::Handler;
use super::spec::{base, PEOPLE};
use super::{FakeDeployment, Item, State};
impl Handler {
    /// `(op, status, headers, body)` of a REST request. Bodies are whole REST objects as GitHub writes them
    /// (`issue`, `deployment`, `release`, `simple-user`, `minimal-repository`: see [`rest_issue`] and the
    /// functions after it), which the contract check in [`Handler::respond`](super::handler) holds to GitHub's OpenAPI
    /// document.
    pub(super) fn rest(&self, s: &State, req: &Request) -> RestAnswer {
        let api = self.base.as_str();
        let path = req.url.path().to_string();
        let query: BTreeMap<String, String> = req.url.query_pairs().into_owned().collect();
        let if_none_match = req
            .headers
            .get("if-none-match")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
        let repo_id = |repo: &str| {
            s.repos
                .keys()
                .position(|k| k == repo)
                .map_or(0, |i| REPO_IDS + i as i64)
        };
        match parts.as_slice() {
            ["repos", owner, name, "issues"] => {
                let repo = format!("{owner}/{name}");
                let Some(items) = s.repos.get(&repo) else {
                    return ("probe".into(), 404, vec![], json!({"message": "Not Found", "documentation_url": "https://docs.github.com/rest/issues/issues#list-repository-issues", "status": "404"}).to_string());
                };
                // `sort=updated&direction=desc`: the most recently updated issue or pull request (GitHub's
                // issue list holds both; a pull request carries `pull_request`).
                let top = items.iter().max_by_key(|i| key(i));
                let etag = format!(
                    "W/\"{}\"",
                    top.map(key).unwrap_or_default().replace(['|', ':'], "")
                );
                if if_none_match.as_deref() == Some(etag.as_str()) {
                    return (
                        "probe".into(),
                        304,
                        vec![("etag".into(), etag)],
                        String::new(),
                    );
                }
                let body: Vec<Value> = top
                    .map(|i| rest_issue(api, &repo, repo_id(&repo), i))
                    .into_iter()
                    .collect();
                (
                    "probe".into(),
                    200,
                    vec![("etag".into(), etag)],
                    Value::from(body).to_string(),
                )
            }
            ["repos", owner, name, "deployments"] => {
                let repo = format!("{owner}/{name}");
                let newest = s
                    .deployments
                    .get(&repo)
                    .and_then(|l| l.iter().max_by_key(|d| (d.created, d.id)));
                let etag = format!(
                    "W/\"d{}-{}\"",
                    newest.map_or(0, |d| d.id),
                    newest.map_or(0, |d| d.statuses.len())
                );
                if if_none_match.as_deref() == Some(etag.as_str()) {
                    return (
                        "probe".into(),
                        304,
                        vec![("etag".into(), etag)],
                        String::new(),
                    );
                }
                let body: Vec<Value> = newest
                    .map(|d| rest_deployment(api, &repo, d))
                    .into_iter()
                    .collect();
                (
                    "probe".into(),
                    200,
                    vec![("etag".into(), etag)],
                    Value::from(body).to_string(),
                )
            }
            ["repos", owner, name, "releases"] => {
                let repo = format!("{owner}/{name}");
                let list = s.releases.get(&repo).map(Vec::as_slice).unwrap_or_default();
                let newest = list.iter().max_by_key(|r| (r.1, r.0));
                let etag = format!("W/\"r{}\"", newest.map_or(0, |r| r.0));
                if if_none_match.as_deref() == Some(etag.as_str()) {
                    return (
                        "probe".into(),
                        304,
                        vec![("etag".into(), etag)],
                        String::new(),
                    );
                }
                let body: Vec<Value> = newest
                    .map(|r| rest_release(api, &repo, r, &release_tag(list, r.0)))
                    .into_iter()
                    .collect();
                (
                    "probe".into(),
                    200,
                    vec![("etag".into(), etag)],
                    Value::from(body).to_string(),
                )
            }
            ["orgs", org, "members"] if *org == s.org => {
                let etag = format!("W/\"members-{}\"", PEOPLE.len());
                if if_none_match.as_deref() == Some(etag.as_str()) {
                    return (
                        "members".into(),
                        304,
                        vec![("etag".into(), etag)],
                        String::new(),
                    );
                }
                let body: Vec<Value> = PEOPLE
                    .iter()
                    .map(|p| rest_user(api, p, person_id(p), "User"))
                    .collect();
                (
                    "members".into(),
                    200,
                    vec![("etag".into(), etag)],
                    Value::from(body).to_string(),
                )
            }
            ["orgs", org, "repos"] if *org == s.org => {
                let per_page: usize = query
                    .get("per_page")
                    .and_then(|p| p.parse().ok())
                    .unwrap_or(30);
                let page: usize = query.get("page").and_then(|p| p.parse().ok()).unwrap_or(1);
                // `sort` defaults to `created`; `direction` to `asc` for `full_name`, else `desc`.
                let mut names: Vec<(usize, &String)> = s.repos.keys().enumerate().collect();
                let sort = query.get("sort").map_or("created", String::as_str);
                let direction = query.get("direction").map_or(
                    if sort == "full_name" { "asc" } else { "desc" },
                    String::as_str,
                );
                if direction == "desc" {
                    names.reverse();
                }
                let etag = format!("W/\"repos-{}-{page}-{direction}\"", names.len());
                if if_none_match.as_deref() == Some(etag.as_str()) {
                    return (
                        "repos".into(),
                        304,
                        vec![("etag".into(), etag)],
                        String::new(),
                    );
                }
                let owner = rest_user(api, &s.org, ORG_ID, "Organization");
                let chunk: Vec<Value> = names
                    .iter()
                    .skip((page - 1) * per_page)
                    .take(per_page)
                    .map(|(i, n)| {
                        let pushed = s.repos[*n].iter().map(|i| i.updated).max();
                        rest_repository(api, n, REPO_IDS + *i as i64, &owner, *i, pushed)
                    })
                    .collect();
                let mut headers = vec![("etag".into(), etag)];
                let last = names.len().div_ceil(per_page.max(1)).max(1);
                if last > 1 {
                    headers.push(("link".into(), link_header(api, req, page, last)));
                }
                ("repos".into(), 200, headers, Value::from(chunk).to_string())
            }
            _ => (
                "unknown".into(),
                404,
                vec![],
                json!({"message": "Not Found", "documentation_url": "https://docs.github.com/rest", "status": "404"}).to_string(),
            ),
        }
    }
}

/// `(op, status, headers, body)` of a REST answer.
pub(super) type RestAnswer = (String, u16, Vec<(String, String)>, String);

/// Ids of the organization and its repositories in REST answers (GitHub's are large integers; only
/// uniqueness matters here).
const ORG_ID: i64 = 91_000;
const REPO_IDS: i64 = 720_000;

/// A person's REST id: their place in [`PEOPLE`], from 5801.
fn person_id(login: &str) -> i64 {
    PEOPLE
        .iter()
        .position(|p| *p == login)
        .map_or(5800, |i| 5801 + i as i64)
}

/// A legacy global node id as REST writes them, base64 of `0<len>:<Type><id>` (`MDQ6VXNlcjE=` is user 1 in
/// GitHub's own examples).
fn legacy_node_id(kind: &str, id: i64) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(format!("0{}:{kind}{id}", kind.len()))
}

/// GitHub's `Link` header for page `page` of `last` of the request's list: the request's URL with every
/// query parameter kept and `page` replaced, as GitHub writes it (`prev`/`next`/`last`/`first`; docs.github.com,
/// "Using pagination in the REST API").
fn link_header(api: &str, req: &Request, page: usize, last: usize) -> String {
    let url = |p: usize| {
        let kept: Vec<(String, String)> = req
            .url
            .query_pairs()
            .into_owned()
            .filter(|(k, _)| k != "page")
            .collect();
        let Ok(mut u) = reqwest::Url::parse(&format!("{api}{}", req.url.path())) else {
            return String::new();
        };
        u.query_pairs_mut()
            .extend_pairs(kept)
            .append_pair("page", &p.to_string());
        format!("<{u}>")
    };
    let mut links = Vec::new();
    if page > 1 {
        links.push(format!("{}; rel=\"prev\"", url(page - 1)));
    }
    if page < last {
        links.push(format!("{}; rel=\"next\"", url(page + 1)));
        links.push(format!("{}; rel=\"last\"", url(last)));
    }
    if page > 1 {
        links.push(format!("{}; rel=\"first\"", url(1)));
    }
    links.join(", ")
}

/// A `simple-user` (an organization member, an author, an owner), with every field GitHub's OpenAPI document
/// requires, as in its example `components/examples/simple-user-items` and the "List organization members"
/// answer on docs.github.com. `kind` is `User`, `Organization` or `Bot`.
/// A bot's login ends in `[bot]`, which its URLs write `%5Bbot%5D`; its page is the app's.
fn rest_user(api: &str, login: &str, id: i64, kind: &str) -> Value {
    let at = format!(
        "{api}/users/{}",
        login.replace('[', "%5B").replace(']', "%5D")
    );
    let html = match login.strip_suffix("[bot]") {
        Some(app) => format!("https://github.com/apps/{app}"),
        None => format!("https://github.com/{login}"),
    };
    json!({
        "login": login, "id": id, "node_id": legacy_node_id(kind, id),
        "avatar_url": format!("https://avatars.githubusercontent.com/u/{id}?v=4"), "gravatar_id": "",
        "url": at, "html_url": html,
        "followers_url": format!("{at}/followers"), "following_url": format!("{at}/following{{/other_user}}"),
        "gists_url": format!("{at}/gists{{/gist_id}}"), "starred_url": format!("{at}/starred{{/owner}}{{/repo}}"),
        "subscriptions_url": format!("{at}/subscriptions"), "organizations_url": format!("{at}/orgs"),
        "repos_url": format!("{at}/repos"), "events_url": format!("{at}/events{{/privacy}}"),
        "received_events_url": format!("{at}/received_events"), "type": kind, "user_view_type": "public",
        "site_admin": false
    })
}

/// A `label`: GitHub's default `bug` and `enhancement` labels, with their default colors and descriptions.
fn rest_label(api: &str, repo: &str, repo_id: i64, name: &str) -> Value {
    let (k, color, description) = match name {
        "bug" => (1, "d73a4a", "Something isn't working"),
        _ => (2, "a2eeef", "New feature or request"),
    };
    let id = repo_id * 10 + k;
    json!({
        "id": id, "node_id": legacy_node_id("Label", id), "url": format!("{api}/repos/{repo}/labels/{name}"),
        "name": name, "description": description, "color": color, "default": true
    })
}

/// An issue or pull request as the issue list (`GET /repos/{owner}/{repo}/issues`) writes it: the `issue`
/// schema with every required field, modeled on the OpenAPI document's `components/examples/issue-items`; a
/// pull request carries `pull_request` and `draft`. It agrees with what the GraphQL side serves for the same
/// item (node id, title, state, author, assignee, label, times).
fn rest_issue(api: &str, repo: &str, repo_id: i64, item: &Item) -> Value {
    let n = item.number;
    let at = format!("{api}/repos/{repo}/issues/{n}");
    let person = |k: usize| {
        let login = PEOPLE[k % PEOPLE.len()];
        rest_user(api, login, person_id(login), "User")
    };
    let assignee = person(n as usize + 1);
    let label = if n % 3 == 0 { "bug" } else { "enhancement" };
    let closed = item.state != "OPEN";
    let state_reason = if item.pull_request || !closed {
        Value::Null
    } else {
        item.events
            .iter()
            .rev()
            .find(|e| e["__typename"] == "ClosedEvent")
            .and_then(|e| e["stateReason"].as_str())
            .map_or(json!("completed"), |r| json!(r.to_lowercase()))
    };
    let mut v = json!({
        "id": repo_id * 100_000 + n, "node_id": node_id(repo, item), "url": at,
        "repository_url": format!("{api}/repos/{repo}"), "labels_url": format!("{at}/labels{{/name}}"),
        "comments_url": format!("{at}/comments"), "events_url": format!("{at}/events"),
        "html_url": format!("https://github.com/{repo}/{}/{n}", if item.pull_request { "pull" } else { "issues" }),
        "number": n, "state": if closed { "closed" } else { "open" }, "state_reason": state_reason,
        "title": format!("{} {n}", if item.pull_request { "Change" } else { "Problem" }),
        "body": null, "user": person(n as usize), "labels": [rest_label(api, repo, repo_id, label)],
        "assignee": assignee.clone(), "assignees": [assignee], "milestone": null, "locked": false,
        "active_lock_reason": null, "comments": item.comments.len(),
        "closed_at": if closed { json!(item.updated) } else { Value::Null },
        "created_at": item.created, "updated_at": item.updated, "closed_by": null,
        "author_association": "MEMBER", "timeline_url": format!("{at}/timeline"),
        "performed_via_github_app": null,
        "reactions": {"url": format!("{at}/reactions"), "total_count": 0, "+1": 0, "-1": 0, "laugh": 0,
            "hooray": 0, "confused": 0, "heart": 0, "rocket": 0, "eyes": 0}
    });
    if item.pull_request {
        let pr = format!("https://github.com/{repo}/pull/{n}");
        v["draft"] = json!(item.draft);
        v["pull_request"] = json!({
            "url": format!("{api}/repos/{repo}/pulls/{n}"), "html_url": pr,
            "diff_url": format!("{pr}.diff"), "patch_url": format!("{pr}.patch"),
            "merged_at": if item.state == "MERGED" { json!(item.updated) } else { Value::Null }
        });
    }
    v
}

/// A `deployment` as `GET /repos/{owner}/{repo}/deployments` writes it (the OpenAPI document's
/// `components/examples/deployment-items`), made by a GitHub App's bot, whose REST login ends in `[bot]`
/// (GraphQL's `Bot.login` does not); the same id, commit and environment as the GraphQL side.
fn rest_deployment(api: &str, repo: &str, d: &FakeDeployment) -> Value {
    let at = format!("{api}/repos/{repo}/deployments/{}", d.id);
    let updated = d.statuses.last().map_or(d.created, |s| s.1);
    json!({
        "url": at, "id": d.id, "node_id": format!("DE_{}", d.id), "sha": format!("{:040x}", d.id),
        "ref": "main", "task": "deploy", "payload": {}, "original_environment": "production",
        "environment": "production", "description": null,
        "creator": rest_user(api, "deploy-bot[bot]", 49_699_333, "Bot"),
        "created_at": d.created, "updated_at": updated, "statuses_url": format!("{at}/statuses"),
        "repository_url": format!("{api}/repos/{repo}"), "transient_environment": false,
        "production_environment": true, "performed_via_github_app": null
    })
}

/// The tag of release `id` of `list`: `v1.<k>.0`, `k` its place by creation, as the GraphQL side names it.
fn release_tag(list: &[(i64, DateTime<Utc>)], id: i64) -> String {
    let mut order: Vec<&(i64, DateTime<Utc>)> = list.iter().collect();
    order.sort_by_key(|r| (r.1, r.0));
    let k = order.iter().position(|r| r.0 == id).map_or(0, |k| k + 1);
    format!("v1.{k}.0")
}

/// A `release` as `GET /repos/{owner}/{repo}/releases` writes it (the OpenAPI document's
/// `components/examples/release-items`, without assets); the same id, tag and times as the GraphQL side.
fn rest_release(api: &str, repo: &str, r: &(i64, DateTime<Utc>), tag: &str) -> Value {
    let (id, created) = *r;
    let at = format!("{api}/repos/{repo}/releases/{id}");
    let published = created + Span::minutes(30);
    json!({
        "url": at, "html_url": format!("https://github.com/{repo}/releases/tag/{tag}"),
        "assets_url": format!("{at}/assets"),
        "upload_url": format!("https://uploads.github.com/repos/{repo}/releases/{id}/assets{{?name,label}}"),
        "tarball_url": format!("{api}/repos/{repo}/tarball/{tag}"),
        "zipball_url": format!("{api}/repos/{repo}/zipball/{tag}"),
        "id": id, "node_id": format!("RE_{id}"), "tag_name": tag, "target_commitish": "main", "name": tag,
        "body": null, "draft": false, "prerelease": false, "immutable": false, "created_at": created,
        "updated_at": published, "published_at": published,
        "author": rest_user(api, "alice", person_id("alice"), "User"), "assets": []
    })
}

/// A `minimal-repository` as `GET /orgs/{org}/repos` writes it, every URL template included (the OpenAPI
/// document's `components/examples/minimal-repository-items`). Repository `k` was created `k` days after the
/// first, 400 days before the generated history.
fn rest_repository(
    api: &str,
    full_name: &str,
    id: i64,
    owner: &Value,
    k: usize,
    pushed: Option<DateTime<Utc>>,
) -> Value {
    let at = format!("{api}/repos/{full_name}");
    let name = full_name.split('/').nth(1).unwrap_or(full_name);
    let created = base() - Span::days(400) + Span::days(k as i64);
    let mut v = json!({
        "id": id, "node_id": legacy_node_id("Repository", id), "name": name, "full_name": full_name,
        "owner": owner, "private": true, "html_url": format!("https://github.com/{full_name}"),
        "description": null, "fork": false, "url": at,
        "git_url": format!("git://github.com/{full_name}.git"),
        "ssh_url": format!("git@github.com:{full_name}.git"),
        "clone_url": format!("https://github.com/{full_name}.git"), "mirror_url": null,
        "svn_url": format!("https://github.com/{full_name}"), "homepage": null,
    });
    let more = json!({
        "language": "Rust", "forks_count": 0, "stargazers_count": 0, "watchers_count": 0, "size": 1024,
        "default_branch": "main", "open_issues_count": 0, "is_template": false, "topics": [],
        "has_issues": true, "has_projects": true, "has_wiki": false, "has_pages": false,
        "has_downloads": true, "has_discussions": false, "archived": false, "disabled": false,
        "visibility": "private", "pushed_at": pushed.unwrap_or(created), "created_at": created,
        "updated_at": pushed.unwrap_or(created),
        "permissions": {"admin": false, "maintain": false, "push": true, "triage": true, "pull": true},
        "allow_forking": false, "web_commit_signoff_required": false, "forks": 0, "open_issues": 0,
        "watchers": 0
    });
    if let (Value::Object(v), Value::Object(more)) = (&mut v, more) {
        v.extend(more);
    }
    // The API URL templates, RFC 6570 as GitHub writes them.
    for (key, rest) in [
        ("archive_url", "{archive_format}{/ref}"),
        ("assignees_url", "assignees{/user}"),
        ("blobs_url", "git/blobs{/sha}"),
        ("branches_url", "branches{/branch}"),
        ("collaborators_url", "collaborators{/collaborator}"),
        ("comments_url", "comments{/number}"),
        ("commits_url", "commits{/sha}"),
        ("compare_url", "compare/{base}...{head}"),
        ("contents_url", "contents/{+path}"),
        ("contributors_url", "contributors"),
        ("deployments_url", "deployments"),
        ("downloads_url", "downloads"),
        ("events_url", "events"),
        ("forks_url", "forks"),
        ("git_commits_url", "git/commits{/sha}"),
        ("git_refs_url", "git/refs{/sha}"),
        ("git_tags_url", "git/tags{/sha}"),
        ("hooks_url", "hooks"),
        ("issue_comment_url", "issues/comments{/number}"),
        ("issue_events_url", "issues/events{/number}"),
        ("issues_url", "issues{/number}"),
        ("keys_url", "keys{/key_id}"),
        ("labels_url", "labels{/name}"),
        ("languages_url", "languages"),
        ("merges_url", "merges"),
        ("milestones_url", "milestones{/number}"),
        (
            "notifications_url",
            "notifications{?since,all,participating}",
        ),
        ("pulls_url", "pulls{/number}"),
        ("releases_url", "releases{/id}"),
        ("stargazers_url", "stargazers"),
        ("statuses_url", "statuses/{sha}"),
        ("subscribers_url", "subscribers"),
        ("subscription_url", "subscription"),
        ("tags_url", "tags"),
        ("teams_url", "teams"),
        ("trees_url", "git/trees{/sha}"),
    ] {
        v[key] = json!(format!("{at}/{rest}"));
    }
    v
}

/// GitHub REST's contract, checked on every REST exchange: the request must be an operation of GitHub's
/// OpenAPI document with declared, well-typed parameters, and a 2xx body must fit the operation's response
/// schema ([`crate::contracts::openapi`]). A breach is answered `400` with the reasons in `message` (which
/// the client does not retry, and which ends the sync with them) and kept in the fake's list of violations.
pub(super) fn rest_contract(
    req: &Request,
    answer: impl FnOnce() -> RestAnswer,
) -> Result<RestAnswer, Vec<String>> {
    use crate::contracts::openapi::{check_request, check_response, github};
    crate::shared::hold_to_contract(
        req,
        "GitHub's REST contract",
        |target| check_request(github(), req.method.as_str(), target),
        answer,
        |op, (_, status, _, body)| {
            let parsed: Value = serde_json::from_str(body)
                .map_err(|e| vec![format!("the body is not JSON: {e}")])?;
            check_response(github(), op, *status, &parsed)
        },
    )
}
