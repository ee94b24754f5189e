//! Yandex Tracker (Yandex 360 and Yandex Cloud organizations): issues with their whole changelogs, so time
//! in status and tracker-exporter's per-status rows work; comments, worklogs and the organization's users.

mod activity;
mod config;
mod normalize;
mod source;

pub use config::{parse_range, YandexTrackerConfig};
pub use normalize::{
    normalize_issue, workflow_exits, IssueWithChangelog, SkippedExit, TrackerIssue,
};
pub use source::YandexTrackerSource;
