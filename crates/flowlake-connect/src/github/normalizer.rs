//! GitHub's normalizer: built from the config alone (its status rules), no client.

use flowlake_core::{Normalized, RawRecord};

use super::config::GithubConfig;
use super::deployment::{normalize_deployment, GithubDeployment};
use super::release::{normalize_member, normalize_release, GithubMember, GithubRelease};
use super::source::MEMBERS;
use super::{normalize_issue, GithubIssue, StatusRules};
use crate::{Normalizer, SourceError};

/// Issues, pull requests, deployments, releases and members of one GitHub source, normalized. No lookups.
#[derive(Debug, Clone)]
pub struct GithubNormalizer {
    name: String,
    rules: StatusRules,
}

impl GithubNormalizer {
    /// The normalizer of `config`'s source.
    pub fn new(config: &GithubConfig) -> Self {
        Self {
            name: config.name.clone(),
            rules: config.status_rules(),
        }
    }
}

impl Normalizer for GithubNormalizer {
    fn lookup_streams(&self) -> &[&str] {
        &[]
    }

    fn normalize(&self, raw: &RawRecord) -> Result<Normalized, SourceError> {
        let name = &self.name;
        match raw.stream.as_str() {
            "deployments" => {
                let d: GithubDeployment = crate::parse_payload(raw)?;
                return Ok(Normalized::entity(normalize_deployment(name, &d)));
            }
            "releases" => {
                let r: GithubRelease = crate::parse_payload(raw)?;
                return Ok(Normalized::entity(normalize_release(name, &r)));
            }
            MEMBERS => {
                let m: GithubMember = crate::parse_payload(raw)?;
                return Ok(Normalized::entity(normalize_member(name, &m)));
            }
            _ => {}
        }
        let issue: GithubIssue = crate::parse_payload(raw)?;
        Ok(normalize_issue(name, &issue, &self.rules).into())
    }

    /// The statuses the status rules name themselves (labels' statuses are the config's to map).
    fn known_statuses(&self) -> Vec<(String, flowlake_core::StatusCategory)> {
        self.rules.known()
    }
}
