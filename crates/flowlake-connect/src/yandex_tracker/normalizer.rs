//! The normalizer of this source: built from the config alone, no client; it learns the instance's
//! statuses (and more) from the lookup records landed before the items.

use std::collections::BTreeMap;

use flowlake_core::{Normalized, Person, RawRecord, StatusCategory};
use serde_json::Value;

use super::activity::user_person;
use super::config::YandexTrackerConfig;
use super::normalize::{category_of, normalize_issue, IssueWithChangelog};
use super::source::{LOOKUPS, STATUSES, USERS};
use crate::{Normalizer, SourceError};

/// Normalizes one source's landed records; absorbs its lookup streams first.
#[derive(Debug, Clone)]
pub struct YandexTrackerNormalizer {
    name: String,
    web_url: String,
    custom_fields: BTreeMap<String, String>,
    known: BTreeMap<String, StatusCategory>,
    users: BTreeMap<String, Person>,
}

impl YandexTrackerNormalizer {
    /// The normalizer of `config`'s source, knowing no lookup yet.
    pub fn new(config: &YandexTrackerConfig) -> Self {
        Self {
            name: config.name.clone(),
            web_url: config.web_url.clone(),
            custom_fields: config.custom_fields.clone(),
            known: BTreeMap::new(),
            users: BTreeMap::new(),
        }
    }
}

impl Normalizer for YandexTrackerNormalizer {
    fn lookup_streams(&self) -> &[&str] {
        LOOKUPS
    }

    fn normalize(&self, raw: &RawRecord) -> Result<Normalized, SourceError> {
        if raw.stream == USERS {
            return Ok(Normalized::entities(user_person(&self.name, &raw.payload)));
        }
        if LOOKUPS.contains(&raw.stream.as_str()) {
            return Ok(Normalized::default());
        }
        let record: IssueWithChangelog = crate::parse_payload(raw)?;
        let (mut h, skipped) = normalize_issue(&self.name, &self.web_url, &record);
        for s in &skipped {
            tracing::warn!(
                source = %raw.source,
                issue = %record.issue.key,
                entry = %s.entry_id,
                "changelog entry left out of tracker_exporter_issue_metrics: {}",
                s.reason
            );
        }
        h.item.custom_fields = Value::Object(crate::pick_fields(&raw.payload, &self.custom_fields));
        if let Some(c) = self.known.get(&h.item.status) {
            h.item.status_category = *c;
        }
        // An issue names people by id and display name only; the users lookup knows their login and e-mail.
        for p in &mut h.people {
            if let Some(known) = self.users.get(&p.id) {
                p.clone_from(known);
            }
        }
        Ok(h.into())
    }

    fn absorb(&mut self, raw: &RawRecord) -> Result<(), SourceError> {
        if raw.stream == STATUSES {
            let name = raw.payload["display"]
                .as_str()
                .or_else(|| raw.payload["name"].as_str());
            let category = raw.payload["type"].as_str().and_then(category_of);
            if let (Some(name), Some(category)) = (name, category) {
                self.known.insert(name.to_string(), category);
            }
        }
        if raw.stream == USERS {
            if let Some(p) = user_person(&self.name, &raw.payload) {
                self.users.insert(p.id.clone(), p);
            }
        }
        Ok(())
    }

    fn known_statuses(&self) -> Vec<(String, StatusCategory)> {
        self.known.iter().map(|(k, v)| (k.clone(), *v)).collect()
    }
}
