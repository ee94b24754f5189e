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

crate::registry::api_connector! {
    /// The `yandex_tracker` kind of the [registry](crate::registry).
    pub struct YandexTrackerConnector {
        label: "Yandex Tracker",
        config: YandexTrackerConfig,
        source: YandexTrackerSource,
        normalizer: YandexTrackerNormalizer,
        example: include_str!("example.toml"),
    }
}
