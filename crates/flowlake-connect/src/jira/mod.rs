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

crate::registry::api_connector! {
    /// The `jira` kind of the [registry](crate::registry).
    pub struct JiraConnector {
        label: "Jira",
        config: JiraConfig,
        source: JiraSource,
        normalizer: JiraNormalizer,
        example: include_str!("example.toml"),
    }
}
