//! flowlake as a long-running service: the daemon that runs the configured `[[jobs]]` on their schedules
//! (`flowlake run`) and the HTTP server beside it (`flowlake serve`): health and readiness, the jobs and a
//! way to run one now, the metrics report, and the Prometheus scrape; StatsD pushes and Sentry error reports.
//!
//! The program it serves comes in through [`JobRunner`] (run a job, check the store, make a report), so
//! the scheduling and the routes here know no store and no source, and are tested with fakes.
// A panic on input a user or an API controls is a bug: code returns errors instead (tests may unwrap).
#![cfg_attr(not(test), deny(clippy::unwrap_used))]

pub mod board;
pub mod cache;
pub mod daemon;
pub mod error_reports;
pub mod http;
pub mod runner;
pub mod statsd;
pub mod telemetry;

pub use board::{JobStatus, RetryPolicy, TriggerError};
pub use cache::ReportCache;
pub use daemon::{Daemon, DaemonHandle, Ended, Mode};
pub use error_reports::{ErrorReports, SentryConfig};
pub use http::{router, ServerState};
pub use runner::{JobOutcome, JobRunner, ReportFailure, ReportQuery};
pub use statsd::{Statsd, StatsdConfig};
pub use telemetry::Telemetry;

/// Serves `router` on `listener` until `shutdown` completes, then lets requests in flight finish.
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: axum::Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown)
        .await
}
