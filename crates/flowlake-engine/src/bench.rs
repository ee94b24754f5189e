//! `flowlake bench`: generated issues through computation and loading, measuring throughput and peak memory.
//!
//! Generation and metric computation run on `workers` threads, each taking a share of every batch and turning
//! one history at a time into rows; loading runs on `loaders` threads, each with its own connection to the
//! store (DuckDB writes concurrent transactions side by side). Shares are handed over without a queue slot (a
//! rendezvous channel): while the shares of one batch load, the workers build the next, so memory stays
//! bounded by about two batches of rows whatever the issue count.
//!
//! It takes any [`Store`]: bulk mode ([`Store::set_bulk`]) is on for the run, and the other loaders load on
//! handles of their own ([`Store::loader`]; DuckDB clones its connection). A store without a second handle
//! loads every share on the one it was given.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::sync_channel;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use flowlake_connect::generator::{GeneratorConfig, GeneratorSource};
use flowlake_store::{LoadBatch, Store, StoreError};
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
    /// Threads generating and computing each batch, side by side.
    pub workers: usize,
    /// Threads loading shares side by side, each on its own connection.
    pub loaders: usize,
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
    /// Seconds spent loading (summed over the loaders).
    pub load_seconds: f64,
    /// Wall-clock seconds for the whole run.
    pub wall_seconds: f64,
    /// Status changes per second of computation.
    pub compute_changes_per_second: f64,
    /// Rows per second of loading (per loader-second).
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
    people_seen: &Mutex<HashSet<String>>,
) -> Part {
    // One history at a time: holding a whole part's histories next to its rows would double the memory.
    let mut batch = LoadBatch::new();
    let (mut changes, mut generate, mut compute) = (0, Duration::ZERO, Duration::ZERO);
    let mut histories = source.histories(from, to);
    loop {
        let t0 = Instant::now();
        let Some(mut history) = histories.next() else {
            generate += t0.elapsed();
            break;
        };
        let t1 = Instant::now();
        // Each person goes to the store once, with the first share that mentions them: shares loading side
        // by side would otherwise replace the same rows in two transactions, which conflict.
        {
            let mut seen = people_seen.lock().unwrap_or_else(PoisonError::into_inner);
            history
                .people
                .retain(|p| !seen.contains(&p.id) && seen.insert(p.id.clone()));
        }
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
    store: &mut dyn Store,
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
    // As a sync does: the generator's workflow is its status metadata, so no stay is a guess.
    let settings = &settings.with_known(&flowlake_connect::Normalizer::known_statuses(&source));
    let started = Instant::now();
    let batch_issues = options.batch_issues.max(1);
    let (tx, rx) = sync_channel::<(LoadBatch, u64, u64)>(0);
    progress.start("bench", Some(options.issues));

    let workers = options.workers.max(1) as u64;
    let people_seen = Mutex::new(HashSet::new());
    store.set_bulk(true)?;
    let mut loaders = Vec::new();
    for _ in 1..options.loaders.max(1) {
        match store.loader()? {
            Some(loader) => loaders.push(loader),
            None => break,
        }
    }
    let rx = Mutex::new(Some(rx));
    let report = Mutex::new(BenchReport {
        issues: options.issues,
        ..BenchReport::default()
    });
    let failed = AtomicBool::new(false);
    // One loader: takes the next share until the producer is done or some loader has failed.
    let load = |store: &mut dyn Store| -> Result<(), StoreError> {
        while !failed.load(Ordering::Relaxed) {
            let next = match rx.lock().unwrap_or_else(PoisonError::into_inner).as_ref() {
                Some(rx) => rx.recv(),
                None => return Ok(()),
            };
            let Ok((mut batch, issues, changes)) = next else {
                return Ok(());
            };
            let t0 = Instant::now();
            let rows = batch.total_rows() as u64;
            if let Err(e) = store.load(&mut batch, None) {
                failed.store(true, Ordering::Relaxed);
                return Err(e);
            }
            let mut r = report.lock().unwrap_or_else(PoisonError::into_inner);
            r.load_seconds += t0.elapsed().as_secs_f64();
            r.rows_loaded += rows;
            r.status_changes += changes;
            progress.advance(issues);
        }
        Ok(())
    };
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
                                let (source, seen) = (&source, &people_seen);
                                inner.spawn(move || build_part(source, a, b, settings, now, seen))
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
            let others: Vec<_> = loaders
                .iter_mut()
                .map(|clone| scope.spawn(|| load(clone.as_mut())))
                .collect();
            let mut result = load(store);
            for other in others {
                result = result.and(
                    other
                        .join()
                        .unwrap_or_else(|p| std::panic::resume_unwind(p)),
                );
            }
            // After a failure the producer may still be waiting to hand over a share: closing the channel
            // ends it.
            drop(rx.lock().unwrap_or_else(PoisonError::into_inner).take());
            result?;
            let t0 = Instant::now();
            store.set_bulk(false)?;
            report
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .load_seconds += t0.elapsed().as_secs_f64();
            Ok(producer.join().unwrap_or((0.0, 0.0)))
        })?;
    let mut report = report.into_inner().unwrap_or_else(PoisonError::into_inner);
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

    /// The report, the row count of each table, and how many status rows name a code `labels` lacks.
    fn bench_into_memory(
        workers: usize,
        loaders: usize,
    ) -> (BenchReport, Vec<(&'static str, i64)>, String) {
        let mut store = flowlake_store::open_in_memory().unwrap();
        let options = BenchOptions {
            issues: 1_500,
            batch_issues: 400,
            generator: GeneratorConfig::default(),
            workers,
            loaders,
        };
        let settings = FlowSettings::default();
        let report = run(store.as_mut(), &options, &settings, &NoProgress).unwrap();
        let counts = loaded_tables()
            .map(|t| (t.name, store.count(t.name).unwrap()))
            .collect();
        let unknown = store
            .console()
            .unwrap()
            .query(
                "SELECT (SELECT count(*) FROM status_changes WHERE to_status IS NULL)
                      + (SELECT count(*) FROM status_intervals WHERE status IS NULL OR category IS NULL)",
            )
            .unwrap()
            .rows_as_text()
            .unwrap()[0][0]
            .clone()
            .unwrap();
        (report, counts, unknown)
    }

    #[test]
    fn every_issue_and_row_reaches_the_store_whatever_the_workers_and_loaders() {
        let (report, counts, unknown_labels) = bench_into_memory(2, 2);
        let count = |name: &str| counts.iter().find(|(n, _)| *n == name).unwrap().1;
        assert_eq!(report.issues, 1_500);
        assert_eq!(count("work_items"), 1_500);
        assert_eq!(count("item_metrics"), 1_500);
        assert_eq!(count("status_changes") as u64, report.status_changes);
        assert!(report.status_changes > 1_500);
        assert!(count("people") > 0);
        // Each person is loaded once, with the first share that mentions them: every row loaded is stored.
        let stored: i64 = counts.iter().map(|(_, c)| c).sum();
        assert_eq!(stored as u64, report.rows_loaded);
        // Labels first seen by loads side by side got codes the store knows.
        assert_eq!(unknown_labels, "0");

        // The split among workers and loaders changes nothing stored.
        let (single, single_counts, _) = bench_into_memory(1, 1);
        assert_eq!(single_counts, counts);
        assert_eq!(single.status_changes, report.status_changes);
    }

    #[test]
    fn a_failed_load_ends_the_run_with_its_error() {
        let mut store = flowlake_store::open_in_memory().unwrap();
        let console = store.console().unwrap();
        console.query("DROP VIEW status_intervals").unwrap();
        console.query("DROP TABLE status_intervals_coded").unwrap();
        let options = BenchOptions {
            issues: 2_000,
            batch_issues: 200,
            generator: GeneratorConfig::default(),
            workers: 2,
            loaders: 2,
        };
        let err = run(
            store.as_mut(),
            &options,
            &FlowSettings::default(),
            &NoProgress,
        )
        .unwrap_err();
        assert!(err.to_string().contains("status_intervals"), "{err}");
    }
}
