//! flowlake's orchestration: configuration, sync with per-page checkpoints, rebuild from the raw landing
//! table, metric reports and benchmarks.
//!
//! The engine wires sources to stores; it never parses API JSON (sources do) and never writes SQL for metrics
//! (the core computes, the store loads).
// A panic on input a user or an API controls is a bug: code returns errors instead (tests may unwrap).
#![cfg_attr(not(test), deny(clippy::unwrap_used))]

pub mod bench;
pub mod compute;
pub mod config;
pub mod progress;
pub mod report;
pub mod schedule;
pub mod sync;

pub use compute::FlowSettings;
pub use config::{Config, ConfigError, SourceConfig};
pub use progress::{NoProgress, Progress};
