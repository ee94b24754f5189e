//! GitLab (gitlab.com or self-managed): issues and merge requests with their resource state and label
//! events (and notes), statuses derived from labels as on GitHub; deployments and pipelines for DORA.

mod config;
mod cursor;
mod deployment;
mod normalize;
mod normalizer;
mod source;

pub use config::GitlabConfig;
pub use cursor::FORMER_STREAM;
pub use normalize::{normalize_item, GitlabRecord};
pub use normalizer::GitlabNormalizer;
pub use source::GitlabSource;

crate::registry::api_connector! {
    /// The `gitlab` kind of the [registry](crate::registry).
    pub struct GitlabConnector {
        label: "GitLab",
        config: GitlabConfig,
        source: GitlabSource,
        normalizer: GitlabNormalizer,
        example: include_str!("example.toml"),
    }
}
