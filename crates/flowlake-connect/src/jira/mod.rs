//! Jira Cloud and Server/Data Center: issues with their full changelogs.
//!
//! `source` searches issues updated since the cursor with the changelog embedded (and completes cut
//! changelogs from the changelog endpoint); `normalize` turns an issue into a work item with its status
//! and field history, its sprints and worklogs; `fields` reads the instance's field list (custom field names,
//! the sprint field).

mod config;
mod fields;
mod normalize;
mod normalizer;
mod source;

pub use config::{Flavor, JiraConfig};
pub use fields::{parse_sprint, FieldIndex};
pub use normalize::{normalize_issue, parse_time, JiraIssue};
pub use normalizer::JiraNormalizer;
pub use source::JiraSource;

/// The `jira` kind of the [registry](crate::registry).
pub struct JiraConnector;

impl crate::registry::Connector for JiraConnector {
    type Config = JiraConfig;
    const LABEL: &'static str = "Jira";
    const EXAMPLE: &'static str = include_str!("example.toml");

    fn name(config: &JiraConfig) -> &str {
        &config.name
    }

    fn validate(config: &JiraConfig) -> Result<(), crate::ConfigError> {
        config.validate()
    }

    fn source(
        config: &JiraConfig,
        tape: &crate::http::Tape,
        observer: std::sync::Arc<dyn crate::http::HttpObserver>,
    ) -> Result<Box<dyn crate::Source>, crate::SourceError> {
        Ok(Box::new(JiraSource::new(
            config.clone(),
            tape.clone(),
            observer,
        )?))
    }

    fn normalizer(config: &JiraConfig) -> Box<dyn crate::Normalizer> {
        Box::new(JiraNormalizer::new(config))
    }
}
