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

/// The `gitlab` kind of the [registry](crate::registry).
pub struct GitlabConnector;

impl crate::registry::Connector for GitlabConnector {
    type Config = GitlabConfig;
    const LABEL: &'static str = "GitLab";
    const EXAMPLE: &'static str = include_str!("example.toml");

    fn name(config: &GitlabConfig) -> &str {
        &config.name
    }

    fn validate(config: &GitlabConfig) -> Result<(), crate::ConfigError> {
        config.validate()
    }

    fn source(
        config: &GitlabConfig,
        tape: &crate::http::Tape,
        observer: std::sync::Arc<dyn crate::http::HttpObserver>,
    ) -> Result<Box<dyn crate::Source>, crate::SourceError> {
        Ok(Box::new(GitlabSource::new(
            config.clone(),
            tape.clone(),
            observer,
        )?))
    }

    fn normalizer(config: &GitlabConfig) -> Box<dyn crate::Normalizer> {
        Box::new(GitlabNormalizer::new(config))
    }
}
