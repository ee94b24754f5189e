//! Releases (GraphQL `Release` nodes) and organization members (REST) into the domain model.

use chrono::{DateTime, Utc};
use flowlake_core::{qualified_id, Person, Release};
use serde::Deserialize;

use super::normalize::{Actor, Named};

/// A release as the connector's GraphQL query returns it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GithubRelease {
    /// REST id.
    pub database_id: i64,
    /// Git tag.
    pub tag_name: String,
    /// Title.
    pub name: Option<String>,
    /// Author.
    pub author: Option<Actor>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Publication time (absent on drafts).
    pub published_at: Option<DateTime<Utc>>,
    /// A draft.
    #[serde(default)]
    pub is_draft: bool,
    /// A pre-release.
    #[serde(default)]
    pub is_prerelease: bool,
    /// Web URL.
    pub url: Option<String>,
    /// `owner/name`.
    pub repository: Named,
}

/// Normalizes one release.
pub fn normalize_release(source: &str, r: &GithubRelease) -> Release {
    Release {
        id: qualified_id(
            source,
            &format!("{}/releases/{}", r.repository.name, r.database_id),
        ),
        source: source.to_string(),
        repository: r.repository.name.clone(),
        tag: r.tag_name.clone(),
        name: r.name.clone(),
        author: r.author.as_ref().map(|a| qualified_id(source, &a.login)),
        created_at: r.created_at,
        published_at: r.published_at,
        draft: r.is_draft,
        prerelease: r.is_prerelease,
        url: r.url.clone(),
    }
}

/// An organization member as `GET /orgs/{org}/members` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct GithubMember {
    /// Login.
    pub login: String,
}

/// Normalizes one member.
pub fn normalize_member(source: &str, m: &GithubMember) -> Person {
    Person {
        id: qualified_id(source, &m.login),
        source: source.to_string(),
        login: m.login.clone(),
        name: None,
        email: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_release_and_a_member() {
        let r: GithubRelease = serde_json::from_value(serde_json::json!({
            "databaseId": 77, "tagName": "v1.2.0", "name": "1.2", "author": {"login": "alice"},
            "createdAt": "2026-03-02T09:00:00Z", "publishedAt": "2026-03-02T10:00:00Z",
            "isDraft": false, "isPrerelease": true, "url": "https://github.com/acme/app/releases/tag/v1.2.0",
            "repository": {"nameWithOwner": "acme/app"}
        }))
        .unwrap();
        let n = normalize_release("gh", &r);
        assert_eq!(n.id, "gh:acme/app/releases/77");
        assert_eq!(
            (n.tag.as_str(), n.prerelease, n.draft),
            ("v1.2.0", true, false)
        );
        assert_eq!(n.author.as_deref(), Some("gh:alice"));
        let m: GithubMember =
            serde_json::from_value(serde_json::json!({"login": "bob", "id": 2, "type": "User"}))
                .unwrap();
        assert_eq!(normalize_member("gh", &m).id, "gh:bob");
    }
}
