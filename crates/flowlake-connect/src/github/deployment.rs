//! A GitHub deployment (GraphQL `Deployment` node with its statuses) into a [`Deployment`].

use chrono::{DateTime, Utc};
use flowlake_core::{qualified_id, Deployment};
use serde::Deserialize;

use super::normalize::{Named, Nodes};

/// One status of a deployment.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GithubDeploymentStatus {
    /// `SUCCESS`, `FAILURE`, `ERROR`, `INACTIVE`, `IN_PROGRESS`, `QUEUED`, `PENDING`, …
    pub state: String,
    /// When it was set.
    pub created_at: DateTime<Utc>,
}

/// A deployment as the connector's GraphQL query returns it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GithubDeployment {
    /// REST id.
    pub database_id: i64,
    /// Target environment.
    pub environment: Option<String>,
    /// Deployed commit.
    pub commit_oid: Option<String>,
    /// Current state.
    pub state: Option<String>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// `owner/name`.
    pub repository: Named,
    /// Statuses, any order.
    #[serde(default)]
    pub statuses: Nodes<GithubDeploymentStatus>,
}

/// Whether a status ends a deployment.
fn terminal(state: &str) -> bool {
    matches!(state, "SUCCESS" | "FAILURE" | "ERROR")
}

/// Normalizes one deployment: its status is the newest status's state (else the deployment's own state),
/// lower-cased; it finished at its first terminal status (success, failure, error).
pub fn normalize_deployment(source: &str, d: &GithubDeployment) -> Deployment {
    let newest = d.statuses.nodes.iter().max_by_key(|s| s.created_at);
    let status = newest
        .map(|s| s.state.clone())
        .or_else(|| d.state.clone())
        .unwrap_or_else(|| "PENDING".into())
        .to_ascii_lowercase();
    Deployment {
        id: qualified_id(
            source,
            &format!("{}/deployments/{}", d.repository.name, d.database_id),
        ),
        source: source.to_string(),
        service: d.repository.name.clone(),
        environment: d.environment.clone().unwrap_or_else(|| "production".into()),
        commit_sha: d.commit_oid.clone(),
        status,
        created_at: d.created_at,
        finished_at: d
            .statuses
            .nodes
            .iter()
            .filter(|s| terminal(&s.state))
            .map(|s| s.created_at)
            .min(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_newest_status_is_the_status_and_the_first_terminal_one_finishes_it() {
        let d: GithubDeployment = serde_json::from_value(serde_json::json!({
            "databaseId": 901, "environment": "production", "commitOid": "abc123", "state": "ACTIVE",
            "createdAt": "2026-03-02T09:00:00Z", "repository": {"nameWithOwner": "acme/app"},
            "statuses": {"nodes": [
                {"state": "INACTIVE", "createdAt": "2026-03-05T09:00:00Z"},
                {"state": "SUCCESS", "createdAt": "2026-03-02T09:07:00Z"},
                {"state": "IN_PROGRESS", "createdAt": "2026-03-02T09:01:00Z"}
            ]}
        }))
        .unwrap();
        let n = normalize_deployment("gh", &d);
        assert_eq!(n.id, "gh:acme/app/deployments/901");
        assert_eq!(
            (n.status.as_str(), n.environment.as_str()),
            ("inactive", "production")
        );
        assert_eq!(n.finished_at, Some("2026-03-02T09:07:00Z".parse().unwrap()));
        let pending = GithubDeployment {
            statuses: Nodes::default(),
            state: None,
            ..d
        };
        let n = normalize_deployment("gh", &pending);
        assert_eq!((n.status.as_str(), n.finished_at), ("pending", None));
    }
}
