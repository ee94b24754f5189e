//! GitLab (gitlab.com or self-managed): issues and merge requests with their resource state and label
//! events (and notes), statuses derived from labels as on GitHub; deployments and pipelines for DORA.

mod config;
mod deployment;
mod normalize;
mod source;

pub use config::GitlabConfig;
pub use normalize::{normalize_item, GitlabRecord};
pub use source::GitlabSource;
