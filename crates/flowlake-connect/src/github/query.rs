//! The GraphQL documents the connector sends, and the envelopes of their answers.
//!
//! One query returns a page of up to 100 issues (or pull requests) with their labels, assignees, the
//! status-like timeline items and reviews — all of an item's history in the same request unless it has
//! more than 100 events, when [`REST_OF_ITEM`] pages through the remainder of that one item.

use serde::Deserialize;
use serde_json::Value;

/// Issue timeline item types the normalizer uses (`IssueTimelineItemsItemType`); every other type is left
/// out of the request. The pull-request-only types are not members of this enum, and GitHub refuses the
/// whole query if one is named.
pub const ISSUE_ITEM_TYPES: &str =
    "[LABELED_EVENT, UNLABELED_EVENT, CLOSED_EVENT, REOPENED_EVENT, \
ASSIGNED_EVENT, UNASSIGNED_EVENT, TRANSFERRED_EVENT]";

/// Pull request timeline item types the normalizer uses (`PullRequestTimelineItemsItemType`).
const PULL_REQUEST_ITEM_TYPES: &str =
    "[LABELED_EVENT, UNLABELED_EVENT, CLOSED_EVENT, REOPENED_EVENT, ASSIGNED_EVENT, \
UNASSIGNED_EVENT, TRANSFERRED_EVENT, READY_FOR_REVIEW_EVENT, CONVERT_TO_DRAFT_EVENT, MERGED_EVENT, \
REVIEW_REQUESTED_EVENT]";

/// The alias of a pull request's `state` in search results: an `Issue` and a `PullRequest` fragment of one
/// selection set may not select one name with different types (`IssueState!`, `PullRequestState!`).
pub const PULL_REQUEST_STATE_ALIAS: &str = "pullRequestState";

// GraphQL rejects a document with an unused fragment, so each query appends exactly the ones it spreads.
const WHO: &str = "fragment Who on Actor { login }\n";
const ASSIGNEE: &str =
    "assignee { ... on User { login } ... on Bot { login } ... on Mannequin { login } }";
const COMMENTS: &str =
    "fragment Comments on IssueCommentConnection { pageInfo { hasNextPage endCursor } \
nodes { id createdAt author { ...Who } } }\n";
const REVIEWS: &str =
    "fragment Reviews on PullRequestReviewConnection { pageInfo { hasNextPage endCursor } \
nodes { id state submittedAt author { ...Who } } }\n";

fn issue_events() -> String {
    format!(
        r#"fragment IssueEvents on IssueTimelineItemsConnection {{ pageInfo {{ hasNextPage endCursor }} nodes {{
  __typename
  ... on LabeledEvent {{ createdAt actor {{ ...Who }} label {{ name }} }}
  ... on UnlabeledEvent {{ createdAt actor {{ ...Who }} label {{ name }} }}
  ... on ClosedEvent {{ createdAt actor {{ ...Who }} stateReason }}
  ... on ReopenedEvent {{ createdAt actor {{ ...Who }} }}
  ... on AssignedEvent {{ createdAt actor {{ ...Who }} {ASSIGNEE} }}
  ... on UnassignedEvent {{ createdAt actor {{ ...Who }} {ASSIGNEE} }}
  ... on TransferredEvent {{ createdAt actor {{ ...Who }} fromRepository {{ nameWithOwner }} }}
}} }}
"#
    )
}

fn pull_request_events() -> String {
    format!(
        r#"fragment Events on PullRequestTimelineItemsConnection {{ pageInfo {{ hasNextPage endCursor }} nodes {{
  __typename
  ... on LabeledEvent {{ createdAt actor {{ ...Who }} label {{ name }} }}
  ... on UnlabeledEvent {{ createdAt actor {{ ...Who }} label {{ name }} }}
  ... on ClosedEvent {{ createdAt actor {{ ...Who }} }}
  ... on ReopenedEvent {{ createdAt actor {{ ...Who }} }}
  ... on AssignedEvent {{ createdAt actor {{ ...Who }} {ASSIGNEE} }}
  ... on UnassignedEvent {{ createdAt actor {{ ...Who }} {ASSIGNEE} }}
  ... on ReadyForReviewEvent {{ createdAt actor {{ ...Who }} }}
  ... on ConvertToDraftEvent {{ createdAt actor {{ ...Who }} }}
  ... on MergedEvent {{ createdAt actor {{ ...Who }} }}
  ... on ReviewRequestedEvent {{ createdAt actor {{ ...Who }} requestedReviewer {{ ... on User {{ login }} ... on Team {{ name }} }} }}
}} }}
"#
    )
}

/// The fields of an issue node.
fn issue_fields() -> String {
    format!(
        "id number title state url createdAt updatedAt closedAt author {{ ...Who }} repository {{ nameWithOwner }}
        assignees(first: 10) {{ nodes {{ login }} }} labels(first: 50) {{ nodes {{ name }} }} milestone {{ title }}
        timelineItems(first: 100, itemTypes: {ISSUE_ITEM_TYPES}) {{ ...IssueEvents }} comments(first: 100) {{ ...Comments }}"
    )
}

/// The fields of a pull request node; `state` is selected as `state_name: state` (search results alias it,
/// [`PULL_REQUEST_STATE_ALIAS`]).
fn pull_request_fields(state_name: &str) -> String {
    format!(
        "id number title {state_name} isDraft url createdAt updatedAt closedAt mergedAt baseRefName headRefName
        additions deletions author {{ ...Who }} repository {{ nameWithOwner }}
        assignees(first: 10) {{ nodes {{ login }} }} labels(first: 50) {{ nodes {{ name }} }} milestone {{ title }}
        reviews(first: 50) {{ ...Reviews }} timelineItems(first: 100, itemTypes: {PULL_REQUEST_ITEM_TYPES}) {{ ...Events }}
        comments(first: 100) {{ ...Comments }}"
    )
}

/// A page of a repository's issues updated since `$since`, oldest update first.
pub fn issues_page() -> String {
    format!(
        r#"query IssuesPage($owner: String!, $name: String!, $first: Int!, $after: String, $since: DateTime) {{
  repository(owner: $owner, name: $name) {{
    issues(first: $first, after: $after, orderBy: {{field: UPDATED_AT, direction: ASC}}, filterBy: {{since: $since}}) {{
      totalCount
      pageInfo {{ hasNextPage endCursor }}
      nodes {{ {fields} }}
    }}
  }}
}}
{WHO}{COMMENTS}{events}"#,
        fields = issue_fields(),
        events = issue_events()
    )
}

/// A page of a repository's pull requests, newest update first (pull requests cannot be filtered by
/// update time, so the connector stops at the first one older than its cursor).
pub fn pull_requests_page() -> String {
    format!(
        r#"query PullRequestsPage($owner: String!, $name: String!, $first: Int!, $after: String) {{
  repository(owner: $owner, name: $name) {{
    pullRequests(first: $first, after: $after, orderBy: {{field: UPDATED_AT, direction: DESC}}) {{
      totalCount
      pageInfo {{ hasNextPage endCursor }}
      nodes {{ {fields} }}
    }}
  }}
}}
{WHO}{COMMENTS}{REVIEWS}{events}"#,
        fields = pull_request_fields("state"),
        events = pull_request_events()
    )
}

/// A page of a repository's deployments, newest first, with their statuses.
pub fn deployments_page() -> String {
    r#"query DeploymentsPage($owner: String!, $name: String!, $first: Int!, $after: String) {
  repository(owner: $owner, name: $name) {
    deployments(first: $first, after: $after, orderBy: {field: CREATED_AT, direction: DESC}) {
      totalCount
      pageInfo { hasNextPage endCursor }
      nodes {
        id databaseId environment commitOid state task createdAt updatedAt
        creator { login } repository { nameWithOwner }
        statuses(first: 20) { nodes { state createdAt } }
      }
    }
  }
}"#
    .to_string()
}

/// A page of a repository's releases, newest first.
pub fn releases_page() -> String {
    r#"query ReleasesPage($owner: String!, $name: String!, $first: Int!, $after: String) {
  repository(owner: $owner, name: $name) {
    releases(first: $first, after: $after, orderBy: {field: CREATED_AT, direction: DESC}) {
      totalCount
      pageInfo { hasNextPage endCursor }
      nodes {
        id databaseId tagName name createdAt publishedAt updatedAt isDraft isPrerelease url
        author { login } repository { nameWithOwner }
      }
    }
  }
}"#
    .to_string()
}

/// A page of search results (`$q`: `repo:… is:issue created:A..B sort:created-asc`), issues or pull requests
/// with the same fields as the repository pages. Search stops at 1,000 results, so backfills search windows.
pub fn search_page() -> String {
    format!(
        r#"query SearchPage($q: String!, $first: Int!, $after: String) {{
  search(query: $q, type: ISSUE, first: $first, after: $after) {{
    issueCount
    pageInfo {{ hasNextPage endCursor }}
    nodes {{ __typename ... on Issue {{ {issue} }} ... on PullRequest {{ {pull_request} }} }}
  }}
}}
{WHO}{COMMENTS}{REVIEWS}{issue_events}{events}"#,
        issue = issue_fields(),
        pull_request = pull_request_fields(&format!("{PULL_REQUEST_STATE_ALIAS}: state")),
        issue_events = issue_events(),
        events = pull_request_events()
    )
}

/// The rest of one item's timeline or reviews, after `$after`.
pub const REST_OF_ITEM: &str = "RestOfItem";

/// The query paging through the rest of one item's `connection` (`timelineItems`, `reviews` or `comments`).
pub fn rest_of_item(connection: &str) -> String {
    let (selection, fragments) = if connection == "reviews" {
        (
            "... on PullRequest { reviews(first: 100, after: $after) { ...Reviews } }".to_string(),
            format!("{WHO}{REVIEWS}"),
        )
    } else if connection == "comments" {
        (
            "... on Issue { comments(first: 100, after: $after) { ...Comments } } \
             ... on PullRequest { comments(first: 100, after: $after) { ...Comments } }"
                .to_string(),
            format!("{WHO}{COMMENTS}"),
        )
    } else {
        (
            format!(
                "... on Issue {{ timelineItems(first: 100, after: $after, itemTypes: {ISSUE_ITEM_TYPES}) {{ ...IssueEvents }} }} \
                 ... on PullRequest {{ timelineItems(first: 100, after: $after, itemTypes: {PULL_REQUEST_ITEM_TYPES}) {{ ...Events }} }}"
            ),
            format!("{WHO}{}{}", issue_events(), pull_request_events()),
        )
    };
    format!(
        "query {REST_OF_ITEM}($id: ID!, $after: String) {{\n  node(id: $id) {{ {selection} }}\n}}\n{fragments}"
    )
}

/// `pageInfo` of a connection.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PageInfo {
    /// Whether another page follows.
    #[serde(default)]
    pub has_next_page: bool,
    /// The cursor to ask for it with.
    pub end_cursor: Option<String>,
}

/// A page of a top-level connection: nodes kept as raw JSON, to be landed untouched.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Connection {
    /// Items matching, all pages together.
    #[serde(default)]
    pub total_count: Option<u64>,
    /// The same, for search.
    #[serde(default)]
    pub issue_count: Option<u64>,
    /// Paging.
    #[serde(default)]
    pub page_info: PageInfo,
    /// The nodes; GitHub sends `null` for one deleted or hidden while paging.
    #[serde(default)]
    pub nodes: Vec<Value>,
}

/// A GraphQL error as GitHub reports it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct GraphQlError {
    /// `NOT_FOUND`, `FORBIDDEN`, `RATE_LIMITED`, …
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
    /// What went wrong.
    pub message: String,
}

/// How many different errors [`Envelope::error_text`] shows.
pub const SHOWN_ERRORS: usize = 3;

/// The envelope of every GraphQL answer.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Envelope {
    /// The data; `null` when the query failed as a whole.
    #[serde(default)]
    pub data: Option<Value>,
    /// Errors, partial or total.
    #[serde(default)]
    pub errors: Vec<GraphQlError>,
}

impl Envelope {
    /// The errors in one line, `TYPE: message; …`: repeated messages once with their count, and at most
    /// [`SHOWN_ERRORS`] different ones (an answer can carry one error per node).
    pub fn error_text(&self) -> String {
        let mut distinct: Vec<(String, usize)> = Vec::new();
        for e in &self.errors {
            let text = match &e.kind {
                Some(k) => format!("{k}: {}", e.message),
                None => e.message.clone(),
            };
            match distinct.iter_mut().find(|(t, _)| *t == text) {
                Some((_, n)) => *n += 1,
                None => distinct.push((text, 1)),
            }
        }
        let mut parts: Vec<String> = distinct
            .iter()
            .take(SHOWN_ERRORS)
            .map(|(t, n)| {
                if *n > 1 {
                    format!("{t} (×{n})")
                } else {
                    t.clone()
                }
            })
            .collect();
        if distinct.len() > SHOWN_ERRORS {
            parts.push(format!("and {} more", distinct.len() - SHOWN_ERRORS));
        }
        parts.join("; ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_text_counts_repeated_errors_and_shows_a_few() {
        let e = |m: &str| GraphQlError {
            kind: None,
            message: m.into(),
        };
        let envelope = Envelope {
            data: None,
            errors: vec![e("a"), e("a"), e("b"), e("c"), e("d"), e("e")],
        };
        assert_eq!(envelope.error_text(), "a (×2); b; c; and 2 more");
    }
}
