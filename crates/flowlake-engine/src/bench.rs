//! `flowlake bench`: generated issues through computation and loading, measuring throughput and peak memory.
//!
//! Generation and metric computation run on one thread and loading on another, joined by a channel that holds
//! one batch, so memory stays bounded by about two batches whatever the issue count.

use std::sync::mpsc::sync_channel;
use std::time::Instant;

use flowlake_connect::generator::{GeneratorConfig, GeneratorSource};
use flowlake_store::{DuckDbStore, LoadBatch, StoreError};
use serde::Serialize;

use crate::compute::{add_history, FlowSettings};
use crate::progress::Progress;

/// What to run.
#[derive(Debug, Clone)]
pub struct BenchOptions {
    /// Issues to generate.
    pub issues: u64,
    /// Issues per load batch.
    pub batch_issues: u64,
    /// Generator settings (the rework rate sets the status changes per issue).
    pub generator: GeneratorConfig,
}

/// Measured figures.
#[derive(Debug, Clone, Default, Serialize)]
pub struct BenchReport {
    /// Issues processed.
    pub issues: u64,
    /// Status changes processed.
    pub status_changes: u64,
    /// Rows loaded into the store (every table).
    pub rows_loaded: u64,
    /// Seconds spent generating histories.
    pub generate_seconds: f64,
    /// Seconds spent computing metrics and building rows.
    pub compute_seconds: f64,
    /// Seconds spent loading.
    pub load_seconds: f64,
    /// Wall-clock seconds for the whole run.
    pub wall_seconds: f64,
    /// Status changes per second of computation.
    pub compute_changes_per_second: f64,
    /// Rows per second of loading.
    pub load_rows_per_second: f64,
    /// Peak resident memory of the process, bytes.
    pub peak_rss_bytes: u64,
}

/// Peak resident set size of this process (VmHWM), in bytes; 0 where /proc is not available.
pub fn peak_rss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<u64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

/// Runs the benchmark into `store`.
pub fn run(
    store: &mut DuckDbStore,
    options: &BenchOptions,
    settings: &FlowSettings,
    progress: &dyn Progress,
) -> Result<BenchReport, StoreError> {
    let generator = GeneratorConfig {
        issues: options.issues,
        ..options.generator.clone()
    };
    let now = generator.now();
    let source = GeneratorSource::new(generator.name.clone(), generator);
    let started = Instant::now();
    let batch_issues = options.batch_issues.max(1);
    let (tx, rx) = sync_channel::<(LoadBatch, u64, u64)>(1);
    let mut report = BenchReport {
        issues: options.issues,
        ..BenchReport::default()
    };
    progress.start("bench", Some(options.issues));

    let (generate_seconds, compute_seconds) =
        std::thread::scope(|scope| -> Result<(f64, f64), StoreError> {
            let producer = scope.spawn(|| {
                let (mut gen_s, mut comp_s) = (0.0, 0.0);
                let mut from = 0;
                while from < options.issues {
                    let to = (from + batch_issues).min(options.issues);
                    let t0 = Instant::now();
                    let histories: Vec<_> = source.histories(from, to).collect();
                    let t1 = Instant::now();
                    let mut batch = LoadBatch::new();
                    let changes: u64 = histories
                        .iter()
                        .map(|h| add_history(&mut batch, h, settings, now) as u64)
                        .sum();
                    gen_s += (t1 - t0).as_secs_f64();
                    comp_s += t1.elapsed().as_secs_f64();
                    drop(histories);
                    if tx.send((batch, to - from, changes)).is_err() {
                        break;
                    }
                    from = to;
                }
                drop(tx);
                (gen_s, comp_s)
            });
            for (mut batch, issues, changes) in rx.iter() {
                let t0 = Instant::now();
                report.rows_loaded += batch.total_rows() as u64;
                store.load(&mut batch, None)?;
                report.load_seconds += t0.elapsed().as_secs_f64();
                report.status_changes += changes;
                progress.advance(issues);
            }
            Ok(producer.join().unwrap_or((0.0, 0.0)))
        })?;
    progress.finish();
    report.generate_seconds = generate_seconds;
    report.compute_seconds = compute_seconds;
    report.wall_seconds = started.elapsed().as_secs_f64();
    report.compute_changes_per_second = report.status_changes as f64 / compute_seconds.max(1e-9);
    report.load_rows_per_second = report.rows_loaded as f64 / report.load_seconds.max(1e-9);
    report.peak_rss_bytes = peak_rss_bytes();
    Ok(report)
}
