//! `flowlake bench`: generated issues through computation and loading, measuring throughput and peak memory.
//!
//! Generation and metric computation run on `workers` threads, each taking a share of every batch and turning
//! one history at a time into rows, and loading on another. Shares are handed over without a queue slot (a
//! rendezvous channel): while one share loads, the workers build the next batch, so memory stays bounded by
//! about two batches of rows whatever the issue count.

use std::sync::mpsc::sync_channel;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

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
    /// Threads generating and computing each batch, side by side (loading has its own thread).
    pub workers: usize,
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
    /// Seconds spent generating histories (summed over the workers).
    pub generate_seconds: f64,
    /// Seconds spent computing metrics and building rows (summed over the workers).
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

/// One worker's share of a batch: issues `[from, to)` generated, computed and turned into rows.
struct Part {
    batch: LoadBatch,
    issues: u64,
    changes: u64,
    generate_seconds: f64,
    compute_seconds: f64,
}

fn build_part(
    source: &GeneratorSource,
    from: u64,
    to: u64,
    settings: &FlowSettings,
    now: DateTime<Utc>,
) -> Part {
    // One history at a time: holding a whole part's histories next to its rows would double the memory.
    let mut batch = LoadBatch::new();
    let (mut changes, mut generate, mut compute) = (0, Duration::ZERO, Duration::ZERO);
    let mut histories = source.histories(from, to);
    loop {
        let t0 = Instant::now();
        let Some(history) = histories.next() else {
            generate += t0.elapsed();
            break;
        };
        let t1 = Instant::now();
        changes += add_history(&mut batch, &history, settings, now) as u64;
        drop(history);
        generate += t1 - t0;
        compute += t1.elapsed();
    }
    Part {
        batch,
        issues: to - from,
        changes,
        generate_seconds: generate.as_secs_f64(),
        compute_seconds: compute.as_secs_f64(),
    }
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
    let (tx, rx) = sync_channel::<(LoadBatch, u64, u64)>(0);
    let mut report = BenchReport {
        issues: options.issues,
        ..BenchReport::default()
    };
    progress.start("bench", Some(options.issues));

    let workers = options.workers.max(1) as u64;
    let (generate_seconds, compute_seconds) =
        std::thread::scope(|scope| -> Result<(f64, f64), StoreError> {
            let producer = scope.spawn(|| {
                let (mut gen_s, mut comp_s) = (0.0, 0.0);
                let mut from = 0;
                while from < options.issues {
                    let to = (from + batch_issues).min(options.issues);
                    let share = (to - from).div_ceil(workers);
                    let parts: Vec<Part> = std::thread::scope(|inner| {
                        let handles: Vec<_> = (0..workers)
                            .map(|w| (from + w * share, (from + (w + 1) * share).min(to)))
                            .filter(|(a, b)| a < b)
                            .map(|(a, b)| {
                                let source = &source;
                                inner.spawn(move || build_part(source, a, b, settings, now))
                            })
                            .collect();
                        handles.into_iter().filter_map(|h| h.join().ok()).collect()
                    });
                    for part in parts {
                        gen_s += part.generate_seconds;
                        comp_s += part.compute_seconds;
                        if tx.send((part.batch, part.issues, part.changes)).is_err() {
                            return (gen_s, comp_s);
                        }
                    }
                    from = to;
                }
                drop(tx);
                (gen_s, comp_s)
            });
            store.set_bulk(true)?;
            for (mut batch, issues, changes) in rx.iter() {
                let t0 = Instant::now();
                report.rows_loaded += batch.total_rows() as u64;
                store.load(&mut batch, None)?;
                report.load_seconds += t0.elapsed().as_secs_f64();
                report.status_changes += changes;
                progress.advance(issues);
            }
            let t0 = Instant::now();
            store.set_bulk(false)?;
            report.load_seconds += t0.elapsed().as_secs_f64();
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::progress::NoProgress;
    use flowlake_store::schema::loaded_tables;

    fn bench_into_memory(workers: usize) -> (BenchReport, Vec<(&'static str, i64)>) {
        let mut store = DuckDbStore::open_in_memory().unwrap();
        let options = BenchOptions {
            issues: 1_500,
            batch_issues: 400,
            generator: GeneratorConfig::default(),
            workers,
        };
        let settings = FlowSettings::default();
        let report = run(&mut store, &options, &settings, &NoProgress).unwrap();
        let counts = loaded_tables()
            .map(|t| (t.name, store.count(t.name).unwrap()))
            .collect();
        (report, counts)
    }

    #[test]
    fn every_issue_and_row_reaches_the_store_whatever_the_workers() {
        let (report, counts) = bench_into_memory(2);
        let count = |name: &str| counts.iter().find(|(n, _)| *n == name).unwrap().1;
        assert_eq!(report.issues, 1_500);
        assert_eq!(count("work_items"), 1_500);
        assert_eq!(count("item_metrics"), 1_500);
        assert_eq!(count("status_changes") as u64, report.status_changes);
        assert!(report.status_changes > 1_500);
        // Each of the 8 shares (4 batches, 2 workers) reloads the people it mentions, replacing them: only
        // people may be counted more than once.
        let stored: i64 = counts.iter().map(|(_, c)| c).sum();
        let people = count("people") as u64;
        assert!(people > 0);
        assert!(stored as u64 <= report.rows_loaded);
        assert!(report.rows_loaded - stored as u64 <= people * 8);

        // The split among workers changes nothing stored: same rows with one worker.
        let (single, single_counts) = bench_into_memory(1);
        assert_eq!(single_counts, counts);
        assert_eq!(single.status_changes, report.status_changes);
    }
}
