//! GitLab's normalizer: built from the config alone (its status rules and custom fields), no client.

use std::collections::BTreeMap;

use flowlake_core::{Normalized, RawRecord};
use serde_json::Value;

use super::config::GitlabConfig;
use super::deployment::{normalize_deployment, normalize_pipeline, DeliveryRecord};
use super::normalize::{normalize_item, GitlabRecord};
use crate::github::StatusRules;
use crate::{Normalizer, SourceError};

/// Issues, merge requests, deployments and pipelines of one GitLab source, normalized. No lookups.
#[derive(Debug, Clone)]
pub struct GitlabNormalizer {
    name: String,
    custom_fields: BTreeMap<String, String>,
    rules: StatusRules,
}

impl GitlabNormalizer {
    /// The normalizer of `config`'s source.
    pub fn new(config: &GitlabConfig) -> Self {
        Self {
            name: config.name.clone(),
            custom_fields: config.custom_fields.clone(),
            rules: config.status_rules(),
        }
    }
}

impl Normalizer for GitlabNormalizer {
    fn lookup_streams(&self) -> &[&str] {
        &[]
    }

    fn normalize(&self, raw: &RawRecord) -> Result<Normalized, SourceError> {
        let bad_row = |message: String| crate::bad_record(raw, message);
        match raw.stream.as_str() {
            "deployments" => {
                let r: DeliveryRecord<_> = crate::parse_payload(raw)?;
                return Ok(Normalized::entity(
                    normalize_deployment(&self.name, &r).map_err(bad_row)?,
                ));
            }
            "pipelines" => {
                let r: DeliveryRecord<_> = crate::parse_payload(raw)?;
                return Ok(Normalized::entity(
                    normalize_pipeline(&self.name, &r).map_err(bad_row)?,
                ));
            }
            _ => {}
        }
        let record: GitlabRecord = crate::parse_payload(raw)?;
        let mut h = normalize_item(&self.name, &record, &self.rules);
        if let Value::Object(fields) = &mut h.item.custom_fields {
            fields.extend(crate::pick_fields(&raw.payload, &self.custom_fields));
        }
        Ok(h.into())
    }

    /// The statuses the status rules name themselves (labels' statuses are the config's to map).
    fn known_statuses(&self) -> Vec<(String, flowlake_core::StatusCategory)> {
        self.rules.known()
    }
}
