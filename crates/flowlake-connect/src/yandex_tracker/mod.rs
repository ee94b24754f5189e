//! Yandex Tracker (Yandex 360 and Yandex Cloud organizations): issues with their whole changelogs, so time
//! in status and tracker-exporter's per-status rows work; comments, worklogs and the organization's users.

mod activity;
mod config;
mod normalize;
mod normalizer;
mod source;

pub use config::{parse_range, YandexTrackerConfig};
pub use normalize::{
    normalize_issue, workflow_exits, IssueWithChangelog, SkippedExit, TrackerIssue,
};
pub use normalizer::YandexTrackerNormalizer;
pub use source::YandexTrackerSource;

/// The `yandex_tracker` kind of the [registry](crate::registry).
pub struct YandexTrackerConnector;

impl crate::registry::Connector for YandexTrackerConnector {
    type Config = YandexTrackerConfig;
    const LABEL: &'static str = "Yandex Tracker";
    const EXAMPLE: &'static str = include_str!("example.toml");

    fn name(config: &YandexTrackerConfig) -> &str {
        &config.name
    }

    fn validate(config: &YandexTrackerConfig) -> Result<(), crate::ConfigError> {
        config.validate()
    }

    fn source(
        config: &YandexTrackerConfig,
        tape: &crate::http::Tape,
        observer: std::sync::Arc<dyn crate::http::HttpObserver>,
    ) -> Result<Box<dyn crate::Source>, crate::SourceError> {
        Ok(Box::new(YandexTrackerSource::new(
            config.clone(),
            tape.clone(),
            observer,
        )?))
    }

    fn normalizer(config: &YandexTrackerConfig) -> Box<dyn crate::Normalizer> {
        Box::new(YandexTrackerNormalizer::new(config))
    }
}
