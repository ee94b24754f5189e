//! Every document the connector sends, checked against GitHub's published schema (`@octokit/graphql-schema`)
//! with the variables the source sends: GitHub refuses a whole query for one unknown enum value or one field
//! conflict, so a document that fails here stores nothing against the real API.

use flowlake_connect::github::query::{
    deployments_page, issues_page, pull_requests_page, releases_page, rest_of_item, search_page,
    ISSUE_ITEM_TYPES, PULL_REQUEST_STATE_ALIAS,
};
use flowlake_testkit::contracts::graphql::check_github;
use serde_json::{json, Value};

fn valid(name: &str, document: &str, variables: Value) {
    if let Err(errors) = check_github(document, &variables) {
        panic!("GitHub refuses {name}:\n{}", errors.join("\n"));
    }
}

fn repository_page() -> Value {
    json!({"owner": "acme", "name": "app", "first": 100, "after": "Y3Vyc29y"})
}

#[test]
fn issues_page_asks_only_for_issue_timeline_item_types() {
    let mut vars = repository_page();
    vars["since"] = json!("2026-01-01T00:00:00Z");
    valid("IssuesPage", &issues_page(), vars);
}

#[test]
fn search_page_aliases_the_pull_request_state_so_its_fields_do_not_conflict() {
    let vars = json!({"q": "repo:acme/app is:pr created:2024-01-01..2024-01-30 sort:created-asc", "first": 100, "after": null});
    valid("SearchPage", &search_page(), vars);
}

#[test]
fn repository_pages_of_pull_requests_deployments_and_releases_are_valid() {
    valid("PullRequestsPage", &pull_requests_page(), repository_page());
    valid("DeploymentsPage", &deployments_page(), repository_page());
    valid("ReleasesPage", &releases_page(), repository_page());
}

#[test]
fn rest_of_item_is_valid_for_every_connection_it_pages() {
    for connection in ["timelineItems", "reviews", "comments"] {
        valid(
            &format!("RestOfItem({connection})"),
            &rest_of_item(connection),
            json!({"id": "I_kwDOA1", "after": "Y3Vyc29y"}),
        );
    }
}

#[test]
fn the_contract_refuses_what_github_refuses() {
    // The documents of before the fix: pull-request-only item types on issues, `state` twice.
    let old_issue_types = issues_page().replace(
        ISSUE_ITEM_TYPES,
        "[LABELED_EVENT, READY_FOR_REVIEW_EVENT, MERGED_EVENT]",
    );
    let errors = check_github(&old_issue_types, &repository_page()).unwrap_err();
    assert!(
        errors
            .iter()
            .any(|e| e.contains("READY_FOR_REVIEW_EVENT")
                && e.contains("IssueTimelineItemsItemType")),
        "{errors:?}"
    );
    let conflict = search_page().replace(&format!("{PULL_REQUEST_STATE_ALIAS}: state"), "state");
    let errors = check_github(&conflict, &json!({"q": "x", "first": 10})).unwrap_err();
    assert!(errors.iter().any(|e| e.contains("`state`")), "{errors:?}");
    let unbounded = "query { viewer { repositories { totalCount } } }";
    let errors = check_github(unbounded, &Value::Null).unwrap_err();
    assert!(
        errors[0].contains("MISSING_PAGINATION_BOUNDARIES"),
        "{errors:?}"
    );
    let errors = check_github(
        &issues_page(),
        &json!({"owner": "a", "name": "b", "first": 101}),
    )
    .unwrap_err();
    assert!(errors[0].contains("EXCESSIVE_PAGINATION"), "{errors:?}");
    let errors = check_github(&issues_page(), &json!({"owner": "a", "name": "b"})).unwrap_err();
    assert!(errors[0].contains("first"), "{errors:?}");
}
