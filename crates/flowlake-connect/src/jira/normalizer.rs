//! The normalizer of this source: built from the config alone, no client; it learns the instance's
//! statuses (and more) from the lookup records landed before the items.

use std::collections::BTreeMap;

use flowlake_core::{Normalized, RawRecord, StatusCategory};
use serde_json::Value;

use super::config::JiraConfig;
use super::fields::FieldIndex;
use super::normalize::{category_of, normalize_issue, JiraIssue};
use super::source::{FIELDS, LOOKUPS, STATUSES};
use crate::{Normalizer, SourceError};

/// Normalizes one source's landed records; absorbs its lookup streams first.
#[derive(Debug, Clone)]
pub struct JiraNormalizer {
    name: String,
    base_url: String,
    custom_fields: BTreeMap<String, String>,
    known: BTreeMap<String, StatusCategory>,
    fields: FieldIndex,
}

impl JiraNormalizer {
    /// The normalizer of `config`'s source, knowing no lookup yet.
    pub fn new(config: &JiraConfig) -> Self {
        Self {
            name: config.name.clone(),
            base_url: config.base_url.clone(),
            custom_fields: config.custom_fields.clone(),
            known: BTreeMap::new(),
            fields: FieldIndex::default(),
        }
    }
}

impl Normalizer for JiraNormalizer {
    fn lookup_streams(&self) -> &[&str] {
        LOOKUPS
    }

    fn normalize(&self, raw: &RawRecord) -> Result<Normalized, SourceError> {
        if LOOKUPS.contains(&raw.stream.as_str()) {
            return Ok(Normalized::default());
        }
        let issue: JiraIssue = crate::parse_payload(raw)?;
        Ok(normalize_issue(
            &self.name,
            &self.base_url,
            &issue,
            &raw.payload,
            &self.custom_fields,
            &self.fields,
        )
        .into())
    }

    fn absorb(&mut self, raw: &RawRecord) -> Result<(), SourceError> {
        if raw.stream == STATUSES {
            let name = raw.payload["name"].as_str();
            let category = raw
                .payload
                .pointer("/statusCategory/key")
                .and_then(Value::as_str)
                .and_then(category_of);
            if let (Some(name), Some(category)) = (name, category) {
                self.known.insert(name.to_string(), category);
            }
        }
        if raw.stream == FIELDS {
            self.fields.absorb(&raw.payload);
        }
        Ok(())
    }

    fn known_statuses(&self) -> Vec<(String, StatusCategory)> {
        self.known.iter().map(|(k, v)| (k.clone(), *v)).collect()
    }
}
