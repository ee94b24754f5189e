//! `[[sources]] kind = "jira"`: which instance, how to authenticate, which issues.

use std::collections::BTreeMap;

use base64::Engine as _;
use serde::{Deserialize, Serialize};

use crate::ConfigError;

use crate::http::{ApiKeys as _, HttpConfig, Tape};

/// Jira Cloud or Server/Data Center.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Flavor {
    /// Cloud when the host ends in `.atlassian.net`, else Server.
    Auto,
    /// Jira Cloud: `/rest/api/3/search/jql` (`nextPageToken`), e-mail + API token.
    Cloud,
    /// Jira Server/Data Center: `/rest/api/2/search` (`startAt`/`total`), personal access token.
    Server,
}

crate::http::api_config! {
    /// A Jira source. Holds no secret: the token is read from `token_env` or `token_file` when the source is
    /// built.
    pub struct JiraConfig {
        /// Source name: qualifies ids (`jira:CORE-12`) and keys the sync state. Default `jira`.
        pub name: String = "jira".into(),
        /// `https://acme.atlassian.net` or `https://jira.example.com` (with a context path if any).
        pub base_url: String = String::new(),
        /// `auto` (default), `cloud` or `server`.
        pub flavor: Flavor = Flavor::Auto,
        /// Cloud: the account e-mail the API token belongs to (basic auth). Unset: the token is sent as a
        /// bearer token (Server/DC personal access token).
        pub email: Option<String> = None,
        /// Project keys to sync; ignored when `jql` is set.
        pub projects: Vec<String> = Vec::new(),
        /// A JQL filter replacing `project in (…)`; flowlake adds `updated >= …` and its own ordering.
        pub jql: Option<String> = None,
        /// The time zone JQL dates are read in (the API user's Jira profile setting). Unset: asked from
        /// `/myself` once per run.
        pub time_zone: Option<String> = None,
        /// Issues per search page, 1 to 100. Default 100.
        pub page_size: u32 = 100,
        /// Column name → JSON pointer into the raw issue (`story_points = "/fields/customfield_10016"`) or a
        /// field's name as Jira shows it (`story_points = "Story Points"`, resolved through `/field`), kept in
        /// `work_items.custom_fields`.
        pub custom_fields: BTreeMap<String, String> = BTreeMap::new(),
        /// Read every issue's worklogs (embedded in the search; the worklog endpoint only for issues with more
        /// than the search embeds). Default false.
        pub worklogs: bool = false,
    }
    token_env = "JIRA_API_TOKEN";
}

impl JiraConfig {
    /// Checks values that parse but cannot work; the message names the key.
    pub fn validate(&self) -> Result<(), ConfigError> {
        crate::check_base_url("base_url", &self.base_url)?;
        if self.projects.is_empty() && self.jql.is_none() {
            return Err(ConfigError::value(
                "projects or jql",
                "name the issues to sync",
            ));
        }
        if !(1..=100).contains(&self.page_size) {
            return Err(ConfigError::value(
                "page_size",
                format!("{} is outside 1 to 100", self.page_size),
            ));
        }
        if let Some(tz) = &self.time_zone {
            tz.parse::<chrono_tz::Tz>().map_err(|_| {
                ConfigError::value("time_zone", format!("`{tz}` is not an IANA time zone"))
            })?;
        }
        self.check_api_keys()?;
        match self.custom_fields.iter().find(|(_, v)| v.trim().is_empty()) {
            Some((k, _)) => Err(ConfigError::value(
                format!("custom_fields.{k}"),
                "empty; give a JSON pointer (`/fields/customfield_10016`) or a field name",
            )),
            None => Ok(()),
        }
    }

    /// Cloud or Server, `auto` resolved by the host name.
    pub fn flavor(&self) -> Flavor {
        match self.flavor {
            Flavor::Auto => {
                let host = self
                    .base_url
                    .split("://")
                    .nth(1)
                    .unwrap_or_default()
                    .split(['/', ':'])
                    .next()
                    .unwrap_or_default();
                if host.ends_with(".atlassian.net") {
                    Flavor::Cloud
                } else {
                    Flavor::Server
                }
            }
            f => f,
        }
    }
}

impl crate::ApiConfig for JiraConfig {
    fn validate(&self) -> Result<(), ConfigError> {
        self.validate()
    }

    /// Basic auth needs the token; without an e-mail the token is a bearer one, and an instance may show
    /// some projects to anonymous users.
    fn without_token(&self) -> crate::Without {
        if self.email.is_some() {
            crate::Without::Fails("basic auth with `email` needs the account's API token".into())
        } else {
            crate::Without::Anonymous(
                "requests go without credentials, so only what the instance shows anonymous users is read"
                    .into(),
            )
        }
    }

    /// The HTTP client settings: basic auth with the e-mail when set, else a bearer token.
    fn http(&self, token: Option<String>, tape: Tape) -> HttpConfig {
        let (scheme, token) = match (&self.email, token) {
            (Some(email), Some(t)) => (
                "Basic",
                Some(base64::engine::general_purpose::STANDARD.encode(format!("{email}:{t}"))),
            ),
            (_, token) => ("Bearer", token),
        };
        let headers = vec![("Accept".into(), "application/json".into())];
        self.api()
            .client(&self.base_url, scheme, token, headers, tape)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ApiConfig as _;

    #[test]
    fn flavor_by_host_and_validation_by_key() {
        let c = JiraConfig {
            base_url: "https://acme.atlassian.net".into(),
            projects: vec!["CORE".into()],
            ..JiraConfig::default()
        };
        assert_eq!(c.flavor(), Flavor::Cloud);
        assert_eq!(c.validate(), Ok(()));
        let c = JiraConfig {
            base_url: "https://jira.example.com:8443/jira".into(),
            ..c
        };
        assert_eq!(c.flavor(), Flavor::Server);
        let bad = JiraConfig {
            time_zone: Some("Mars/Olympus".into()),
            ..c.clone()
        };
        assert!(bad
            .validate()
            .unwrap_err()
            .to_string()
            .starts_with("time_zone"));
        let bad = JiraConfig {
            projects: vec![],
            ..c
        };
        assert!(bad
            .validate()
            .unwrap_err()
            .to_string()
            .starts_with("projects or jql"));
    }

    #[test]
    fn basic_auth_with_an_email_and_bearer_without() {
        let c = JiraConfig {
            email: Some("a@acme.test".into()),
            ..JiraConfig::default()
        };
        let h = c.http(Some("tok".into()), Tape::Off);
        assert_eq!(h.auth_scheme, "Basic");
        assert_eq!(h.token.unwrap().expose(), "YUBhY21lLnRlc3Q6dG9r");
        let h = JiraConfig::default().http(Some("pat".into()), Tape::Off);
        assert_eq!(
            (h.auth_scheme.as_str(), h.token.unwrap().expose()),
            ("Bearer", "pat")
        );
    }

    #[test]
    fn a_base_url_with_a_query_string_or_fragment_is_refused_by_every_api_source() {
        let bad = "https://x/jira?foo=1";
        let jira = JiraConfig {
            base_url: bad.into(),
            projects: vec!["CORE".into()],
            ..JiraConfig::default()
        };
        let github = crate::github::GithubConfig {
            base_url: bad.into(),
            repositories: vec!["o/r".into()],
            ..Default::default()
        };
        let gitlab = crate::gitlab::GitlabConfig {
            base_url: "https://gitlab.example.com#top".into(),
            projects: vec!["g/p".into()],
            ..Default::default()
        };
        let tracker = crate::yandex_tracker::YandexTrackerConfig {
            base_url: bad.into(),
            org_id: Some("1".into()),
            ..Default::default()
        };
        for e in [
            jira.validate(),
            github.validate(),
            gitlab.validate(),
            tracker.validate(),
        ] {
            let e = e.unwrap_err().to_string();
            assert!(
                e.starts_with("base_url: `") && e.contains("has a query string or fragment"),
                "{e}"
            );
        }
    }
}
