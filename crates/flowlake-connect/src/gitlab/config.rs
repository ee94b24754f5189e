//! `[[sources]] kind = "gitlab"`: which projects, how to authenticate, how statuses come from labels.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::ConfigError;

use crate::github::StatusRules;
use crate::http::{HttpConfig, Secret, Tape};

/// A GitLab source (gitlab.com or self-managed). Holds no secret.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GitlabConfig {
    /// Source name: qualifies ids (`gitlab:group/project#12`, `!12` for merge requests). Default `gitlab`.
    pub name: String,
    /// The instance. Default `https://gitlab.com`.
    pub base_url: String,
    /// Every project of this group and (with `include_subgroups`) its subgroups, archived ones skipped.
    pub group: Option<String>,
    /// With `group`: the projects of its subgroups too. Default true.
    pub include_subgroups: bool,
    /// With `group`: the projects other groups share with it too (GitLab lists them unless told
    /// `with_shared=false`). Default false: a group's own projects only.
    pub include_shared: bool,
    /// Projects by path, `group/project`; added to the group's.
    pub projects: Vec<String>,
    /// Environment variable holding a personal, group or project access token (`read_api`). Default
    /// `GITLAB_TOKEN`.
    pub token_env: String,
    /// File holding the token (wins over `token_env`).
    pub token_file: Option<PathBuf>,
    /// Label → status (scoped labels welcome: `"workflow::in progress" = "In Progress"`).
    pub status_labels: BTreeMap<String, String>,
    /// Sync issues. Default true.
    pub issues: bool,
    /// Sync merge requests. Default true.
    pub merge_requests: bool,
    /// Read each issue's and merge request's notes (one more request per item): comments become changes by
    /// their authors, so first response works. Default false.
    pub notes: bool,
    /// Sync deployments (for DORA metrics). Default true.
    pub deployments: bool,
    /// Sync CI pipelines. Default false (busy projects run many).
    pub pipelines: bool,
    /// Re-read this many minutes before the saved cursor. Default 10.
    pub lookback_minutes: u64,
    /// Items per page, 1 to 100. Default 100.
    pub per_page: u32,
    /// Column name → JSON pointer into the landed record (`/item/…`, the issue or merge request as listed), kept in
    /// `work_items.custom_fields`, e.g. `weight = "/item/weight"`.
    pub custom_fields: BTreeMap<String, String>,
    /// Requests in flight at once (events). Default 4.
    pub max_concurrency: usize,
    /// Client-side cap, requests per second. Default none (GitLab's RateLimit headers pace the client).
    pub requests_per_second: Option<f64>,
    /// Attempts per request for 5xx, timeouts and cut bodies. Default 5.
    pub max_attempts: u32,
}

impl Default for GitlabConfig {
    fn default() -> Self {
        Self {
            name: "gitlab".into(),
            base_url: "https://gitlab.com".into(),
            group: None,
            include_subgroups: true,
            include_shared: false,
            projects: Vec::new(),
            token_env: "GITLAB_TOKEN".into(),
            token_file: None,
            status_labels: BTreeMap::new(),
            issues: true,
            merge_requests: true,
            notes: false,
            deployments: true,
            pipelines: false,
            lookback_minutes: 10,
            per_page: 100,
            custom_fields: BTreeMap::new(),
            max_concurrency: 4,
            requests_per_second: None,
            max_attempts: 5,
        }
    }
}

impl GitlabConfig {
    /// Checks values that parse but cannot work; the message names the key.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.group.is_none() && self.projects.is_empty() {
            return Err(ConfigError::value("group or projects", "name at least one"));
        }
        if let Some(p) = self.projects.iter().find(|p| !p.contains('/')) {
            return Err(ConfigError::value(
                "projects",
                format!("`{p}` is not a `group/project` path"),
            ));
        }
        if !(1..=100).contains(&self.per_page) {
            return Err(ConfigError::value(
                "per_page",
                format!("{} is outside 1 to 100", self.per_page),
            ));
        }
        crate::check_base_url("base_url", &self.base_url)?;
        crate::check_limits(
            self.lookback_minutes,
            self.max_concurrency,
            self.requests_per_second,
        )?;
        crate::check_pointers(&self.custom_fields)
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

    /// The token, `None` when unset.
    pub fn token(&self) -> Result<Option<String>, String> {
        crate::http::read_token(self.token_file.as_deref(), &self.token_env)
    }

    /// The HTTP client settings (`Authorization: Bearer`, which GitLab accepts for every token kind).
    pub fn http(&self, token: Option<String>, tape: Tape) -> HttpConfig {
        HttpConfig {
            base_url: format!("{}/api/v4", self.base_url.trim_end_matches('/')),
            token: token.map(Secret::new),
            auth_scheme: "Bearer".into(),
            headers: vec![("Accept".into(), "application/json".into())],
            max_attempts: self.max_attempts.max(1),
            requests_per_second: self.requests_per_second,
            max_concurrency: self.max_concurrency.max(1),
            tape,
            ..HttpConfig::default()
        }
    }
}
