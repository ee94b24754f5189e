//! `[[sources]] kind = "github"`: which repositories, how to authenticate, how hard to push the API.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ConfigError;

use super::StatusRules;
use crate::http::{HttpConfig, Secret, Tape};

/// A GitHub source. Holds no secret: the token is read from `token_env` or `token_file` when the source is
/// built.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GithubConfig {
    /// Source name: qualifies every id and keys the sync state. Default `github`.
    pub name: String,
    /// Sync every repository of this organization (or user).
    pub organization: Option<String>,
    /// Sync these repositories, `owner/name`; added to the organization's.
    pub repositories: Vec<String>,
    /// REST base URL. Default `https://api.github.com`; Enterprise Server: `https://HOST/api/v3`.
    pub base_url: String,
    /// GraphQL endpoint. Default: `https://api.github.com/graphql`, or `https://HOST/api/graphql` when
    /// `base_url` ends in `/api/v3`.
    pub graphql_url: Option<String>,
    /// Environment variable holding the token. Default `GITHUB_TOKEN`.
    pub token_env: String,
    /// File holding the token (wins over `token_env`), e.g. a mounted secret.
    pub token_file: Option<PathBuf>,
    /// Label → status, e.g. `"status: in progress" = "In Progress"`, so open issues have a flow.
    pub status_labels: BTreeMap<String, String>,
    /// Sync issues. Default true.
    pub issues: bool,
    /// Sync pull requests with their reviews. Default true.
    pub pull_requests: bool,
    /// Sync deployments with their statuses (DORA). Default true.
    pub deployments: bool,
    /// Sync releases. Default true.
    pub releases: bool,
    /// Issues or pull requests per GraphQL page, 1 to 100. Default 100; lower it if GitHub times out on
    /// items with long timelines.
    pub page_size: u32,
    /// Re-read this many minutes before the saved `updatedAt` cursor, to catch writes that landed late.
    /// Default 10.
    pub lookback_minutes: u64,
    /// On a first sync, start at this time instead of the beginning of each repository.
    pub start: Option<DateTime<Utc>>,
    /// Requests in flight at once (nested pages, repositories). Default 4.
    pub max_concurrency: usize,
    /// Client-side cap, requests per second. Default none (GitHub's own headers pace the client).
    pub requests_per_second: Option<f64>,
    /// Attempts per request for 5xx, timeouts and cut bodies. Default 5.
    pub max_attempts: u32,
    /// Longest wait for a rate limit before the sync fails instead. Default 3600 s.
    pub max_rate_limit_wait_seconds: u64,
}

impl Default for GithubConfig {
    fn default() -> Self {
        Self {
            name: "github".into(),
            organization: None,
            repositories: Vec::new(),
            base_url: "https://api.github.com".into(),
            graphql_url: None,
            token_env: "GITHUB_TOKEN".into(),
            token_file: None,
            status_labels: BTreeMap::new(),
            issues: true,
            pull_requests: true,
            deployments: true,
            releases: true,
            page_size: 100,
            lookback_minutes: 10,
            start: None,
            max_concurrency: 4,
            requests_per_second: None,
            max_attempts: 5,
            max_rate_limit_wait_seconds: 3600,
        }
    }
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
        crate::check_limits(
            self.lookback_minutes,
            self.max_concurrency,
            self.requests_per_second,
        )?;
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

    /// The token from `token_file` or `token_env`; `None` when neither is set (public data only, 60 requests
    /// an hour).
    pub fn token(&self) -> Result<Option<Secret>, String> {
        crate::http::read_token(self.token_file.as_deref(), &self.token_env)
            .map(|t| t.map(Secret::new))
    }

    /// Label-to-status rules.
    pub fn status_rules(&self) -> StatusRules {
        StatusRules {
            labels: self
                .status_labels
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            ..StatusRules::default()
        }
    }

    /// The HTTP client settings, with `token` and `tape`.
    pub fn http(&self, token: Option<Secret>, tape: Tape) -> HttpConfig {
        HttpConfig {
            base_url: self.base_url.clone(),
            token,
            auth_scheme: "Bearer".into(),
            headers: vec![
                ("Accept".into(), "application/vnd.github+json".into()),
                ("X-GitHub-Api-Version".into(), "2022-11-28".into()),
            ],
            max_attempts: self.max_attempts.max(1),
            max_rate_limit_wait: Duration::from_secs(self.max_rate_limit_wait_seconds),
            requests_per_second: self.requests_per_second,
            max_concurrency: self.max_concurrency.max(1),
            tape,
            ..HttpConfig::default()
        }
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
