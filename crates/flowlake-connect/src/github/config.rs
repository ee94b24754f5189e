//! `[[sources]] kind = "github"`: which repositories, how to authenticate, how hard to push the API.

use std::collections::BTreeMap;

use crate::ConfigError;
use chrono::{DateTime, Utc};

use super::StatusRules;
use crate::http::{ApiKeys as _, HttpConfig, Tape};

crate::http::api_config! {
    /// A GitHub source. Holds no secret: the token is read from `token_env` or `token_file` when the source is
    /// built.
    pub struct GithubConfig {
        /// Source name: qualifies every id and keys the sync state. Default `github`.
        pub name: String = "github".into(),
        /// Sync every repository of this organization (or user).
        pub organization: Option<String> = None,
        /// Sync these repositories, `owner/name`; added to the organization's.
        pub repositories: Vec<String> = Vec::new(),
        /// REST base URL. Default `https://api.github.com`; Enterprise Server: `https://HOST/api/v3`.
        pub base_url: String = "https://api.github.com".into(),
        /// GraphQL endpoint. Default: `https://api.github.com/graphql`, or `https://HOST/api/graphql` when
        /// `base_url` ends in `/api/v3`.
        pub graphql_url: Option<String> = None,
        /// Label → status, e.g. `"status: in progress" = "In Progress"`, so open issues have a flow.
        pub status_labels: BTreeMap<String, String> = BTreeMap::new(),
        /// Sync issues. Default true.
        pub issues: bool = true,
        /// Sync pull requests with their reviews. Default true.
        pub pull_requests: bool = true,
        /// Sync deployments with their statuses (DORA). Default true.
        pub deployments: bool = true,
        /// Sync releases. Default true.
        pub releases: bool = true,
        /// Issues or pull requests per GraphQL page, 1 to 100. Default 100; lower it if GitHub times out on
        /// items with long timelines.
        pub page_size: u32 = 100,
        /// On a first sync, start at this time instead of the beginning of each repository.
        pub start: Option<DateTime<Utc>> = None,
    }
    token_env = "GITHUB_TOKEN";
}

impl GithubConfig {
    /// Checks values that parse but cannot work; the message names the key.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.organization.is_none() && self.repositories.is_empty() {
            return Err(ConfigError::value(
                "organization or repositories",
                "name at least one",
            ));
        }
        for r in &self.repositories {
            let ok = matches!(r.split_once('/'), Some((o, n)) if !o.is_empty() && !n.is_empty() && !n.contains('/'));
            if !ok {
                return Err(ConfigError::value(
                    "repositories",
                    format!("`{r}` is not `owner/name`"),
                ));
            }
        }
        if !(1..=100).contains(&self.page_size) {
            return Err(ConfigError::value(
                "page_size",
                format!(
                    "{} is outside 1 to 100 (GitHub's GraphQL limit)",
                    self.page_size
                ),
            ));
        }
        crate::check_base_url("base_url", &self.base_url)?;
        if let Some(u) = &self.graphql_url {
            crate::check_base_url("graphql_url", u)?;
        }
        self.check_api_keys()?;
        Ok(())
    }

    /// The GraphQL endpoint.
    pub fn graphql_endpoint(&self) -> String {
        if let Some(u) = &self.graphql_url {
            return u.clone();
        }
        let base = self.base_url.trim_end_matches('/');
        match base.strip_suffix("/api/v3") {
            Some(host) => format!("{host}/api/graphql"),
            None => format!("{base}/graphql"),
        }
    }

    /// Label-to-status rules.
    pub fn status_rules(&self) -> StatusRules {
        StatusRules::from_labels(&self.status_labels)
    }
}

impl crate::ApiConfig for GithubConfig {
    fn validate(&self) -> Result<(), ConfigError> {
        self.validate()
    }

    fn without_token(&self) -> crate::Without {
        crate::Without::Fails(
            "GitHub's GraphQL API answers only authenticated requests; set it to a token with read access"
                .into(),
        )
    }

    /// The HTTP client settings: a bearer token and GitHub's REST media type and API version.
    fn http(&self, token: Option<String>, tape: Tape) -> HttpConfig {
        let headers = vec![
            ("Accept".into(), "application/vnd.github+json".into()),
            ("X-GitHub-Api-Version".into(), "2022-11-28".into()),
        ];
        self.api()
            .client(&self.base_url, "Bearer", token, headers, tape)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_for_github_com_and_enterprise_server() {
        let mut c = GithubConfig::default();
        assert_eq!(c.graphql_endpoint(), "https://api.github.com/graphql");
        c.base_url = "https://ghe.example.com/api/v3/".into();
        assert_eq!(c.graphql_endpoint(), "https://ghe.example.com/api/graphql");
        c.graphql_url = Some("http://127.0.0.1:9/graphql".into());
        assert_eq!(c.graphql_endpoint(), "http://127.0.0.1:9/graphql");
    }

    #[test]
    fn validation_names_the_key() {
        let c = GithubConfig::default();
        assert!(c
            .validate()
            .unwrap_err()
            .to_string()
            .starts_with("organization"));
        let c = GithubConfig {
            repositories: vec!["acme".into()],
            ..GithubConfig::default()
        };
        assert!(c
            .validate()
            .unwrap_err()
            .to_string()
            .contains("`acme` is not `owner/name`"));
        let c = GithubConfig {
            repositories: vec!["acme/app".into()],
            page_size: 500,
            ..GithubConfig::default()
        };
        assert!(c
            .validate()
            .unwrap_err()
            .to_string()
            .starts_with("page_size"));
    }
}
