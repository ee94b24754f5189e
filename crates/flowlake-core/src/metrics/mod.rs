//! Every metric as a pure function of the domain model, a calendar and `now`.
//!
//! The definitions are written down in `docs/metrics.md`; each one has table tests here.

pub mod aggregate;
pub mod duration;
pub mod intervals;
pub mod item;
pub mod pull_request;
pub mod tracker_exporter;

pub use aggregate::{
    percentile, Aging, AgingEntry, Bucket, DailyFlow, FlowSeries, Percentiles, StatusTimeSummary,
    Throughput,
};
pub use intervals::{status_intervals, StatusInterval};
pub use item::{item_metrics, time_in_status, ItemMetrics, StatusTime};
pub use pull_request::{pull_request_metrics, PullRequestMetrics};
