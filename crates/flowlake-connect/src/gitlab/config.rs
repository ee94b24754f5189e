//! `[[sources]] kind = "gitlab"`: which projects, how to authenticate, how statuses come from labels.

use std::collections::BTreeMap;

use crate::ConfigError;

use crate::github::StatusRules;
use crate::http::{ApiKeys as _, HttpConfig, Tape};

crate::http::api_config! {
    /// A GitLab source (gitlab.com or self-managed). Holds no secret.
    pub struct GitlabConfig {
        /// Source name: qualifies ids (`gitlab:group/project#12`, `!12` for merge requests). Default `gitlab`.
        pub name: String = "gitlab".into(),
        /// The instance. Default `https://gitlab.com`.
        pub base_url: String = "https://gitlab.com".into(),
        /// Every project of this group and (with `include_subgroups`) its subgroups, archived ones skipped.
        pub group: Option<String> = None,
        /// With `group`: the projects of its subgroups too. Default true.
        pub include_subgroups: bool = true,
        /// With `group`: the projects other groups share with it too (GitLab lists them unless told
        /// `with_shared=false`). Default false: a group's own projects only.
        pub include_shared: bool = false,
        /// Projects by path, `group/project`; added to the group's.
        pub projects: Vec<String> = Vec::new(),
        /// Label → status (scoped labels welcome: `"workflow::in progress" = "In Progress"`).
        pub status_labels: BTreeMap<String, String> = BTreeMap::new(),
        /// Sync issues. Default true.
        pub issues: bool = true,
        /// Sync merge requests. Default true.
        pub merge_requests: bool = true,
        /// Read each issue's and merge request's notes (one more request per item): comments become changes by
        /// their authors, so first response works. Default false.
        pub notes: bool = false,
        /// Sync deployments (for DORA metrics). Default true.
        pub deployments: bool = true,
        /// Sync CI pipelines. Default false (busy projects run many).
        pub pipelines: bool = false,
        /// Items per page, 1 to 100. Default 100.
        pub per_page: u32 = 100,
        /// Column name → JSON pointer into the landed record (`/item/…`, the issue or merge request as listed), kept in
        /// `work_items.custom_fields`, e.g. `weight = "/item/weight"`.
        pub custom_fields: BTreeMap<String, String> = BTreeMap::new(),
    }
    token_env = "GITLAB_TOKEN";
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
        self.check_api_keys()?;
        crate::check_pointers(&self.custom_fields)
    }

    /// Label-to-status rules.
    pub fn status_rules(&self) -> StatusRules {
        StatusRules::from_labels(&self.status_labels)
    }
}

impl crate::ApiConfig for GitlabConfig {
    fn validate(&self) -> Result<(), ConfigError> {
        self.validate()
    }

    fn without_token(&self) -> crate::Without {
        crate::Without::Anonymous("only public projects can be read".into())
    }

    /// The HTTP client settings (`Authorization: Bearer`, which GitLab accepts for every token kind).
    fn http(&self, token: Option<String>, tape: Tape) -> HttpConfig {
        let base = format!("{}/api/v4", self.base_url.trim_end_matches('/'));
        let headers = vec![("Accept".into(), "application/json".into())];
        self.api().client(&base, "Bearer", token, headers, tape)
    }
}
