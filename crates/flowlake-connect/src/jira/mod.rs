//! Jira Cloud and Server/Data Center: issues with their full changelogs.
//!
//! `source` searches issues updated since the cursor with the changelog embedded (and completes cut
//! changelogs from the changelog endpoint); `normalize` turns an issue into a work item with its status
//! and field history.

mod config;
#[cfg(feature = "fakes")]
pub mod fake;
mod normalize;
mod source;

pub use config::{Flavor, JiraConfig};
pub use normalize::{normalize_issue, parse_time, JiraIssue};
pub(crate) use source::encode;
pub use source::JiraSource;
