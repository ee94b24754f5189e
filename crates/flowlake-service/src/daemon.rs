//! `flowlake run`'s loop: starts due jobs on threads of their own up to the limit, wakes when one is due, one
//! ends or one is asked for, and on a stop lets running jobs commit their page and end within the grace
//! period.

use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use chrono::Utc;
use flowlake_engine::config::JobConfig;
use flowlake_engine::sync::StopSignal;

use crate::board::{Board, JobStatus, RetryPolicy, TriggerError};
use crate::runner::{JobOutcome, JobRunner};
use crate::telemetry::{RunEnd, RunOutcome, Telemetry};

/// The longest the loop sleeps without looking at the clock (a clock that jumps is noticed by then).
const MAX_NAP: Duration = Duration::from_secs(30);

/// How the daemon was told to work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Until stopped, each job on its schedule.
    Forever,
    /// Every job once, then end (`flowlake run --once`, for cron or serverless triggers).
    Once,
}

/// How a daemon's run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ended {
    /// Whether every running job ended within the grace period (false: some were left running when the
    /// process leaves; each committed page stays, the next run resumes from it).
    pub clean: bool,
    /// The jobs whose last run failed, with why (for `--once`'s exit code).
    pub failed: Vec<(String, String)>,
}

struct Shared {
    board: Mutex<Board>,
    wake: Condvar,
    runner: Arc<dyn JobRunner>,
    telemetry: Arc<Telemetry>,
    limit: usize,
    stop: StopSignal,
    runs: AtomicU64,
    /// Runs ended: what the store holds may have changed each time (cached reports are then stale).
    ended: AtomicU64,
}

impl Shared {
    fn board(&self) -> MutexGuard<'_, Board> {
        // A job thread that panicked while holding the lock left the board consistent (each method
        // updates it in one go), so its poison is ignored.
        self.board.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// What the HTTP server may ask of a running daemon.
#[derive(Clone)]
pub struct DaemonHandle(Arc<Shared>);

impl std::fmt::Debug for DaemonHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DaemonHandle")
    }
}

impl DaemonHandle {
    /// Every job's status.
    pub fn statuses(&self) -> Vec<JobStatus> {
        self.0.board().statuses()
    }

    /// Runs `name` at the next chance.
    pub fn trigger(&self, name: &str) -> Result<(), TriggerError> {
        self.0.board().trigger(name)?;
        self.0.wake.notify_all();
        Ok(())
    }

    /// How many job runs have ended: a report made before the last one may be stale.
    pub fn generation(&self) -> u64 {
        self.0.ended.load(Ordering::SeqCst)
    }

    /// Takes no new job, and asks running ones to stop after their current page.
    pub fn stop(&self) {
        self.0.stop.stop();
        self.0.wake.notify_all();
    }
}

/// The scheduler of `flowlake run`.
pub struct Daemon {
    shared: Arc<Shared>,
    grace: Duration,
}

impl Daemon {
    /// A daemon for `jobs` (validated with the config), starting now; `limit` jobs at once, or one when the
    /// runner's store has one writer.
    pub fn new(
        jobs: &[JobConfig],
        runner: Arc<dyn JobRunner>,
        telemetry: Arc<Telemetry>,
        limit: usize,
        retry: RetryPolicy,
        grace: Duration,
    ) -> Result<Self, String> {
        let limit = if runner.concurrent_jobs() {
            limit.max(1)
        } else {
            1
        };
        let board = Board::new(jobs, Utc::now(), retry)?;
        Ok(Self {
            shared: Arc::new(Shared {
                board: Mutex::new(board),
                wake: Condvar::new(),
                runner,
                telemetry,
                limit,
                stop: StopSignal::default(),
                runs: AtomicU64::new(0),
                ended: AtomicU64::new(0),
            }),
            grace,
        })
    }

    /// A handle for the HTTP server and the signal handler.
    pub fn handle(&self) -> DaemonHandle {
        DaemonHandle(self.shared.clone())
    }

    /// Runs jobs until stopped (or, in [`Mode::Once`], until each ran once), then waits up to the grace
    /// period for running ones to end.
    pub fn run(&self, mode: Mode) -> Ended {
        let shared = &self.shared;
        let mut board = shared.board();
        if mode == Mode::Once {
            board.trigger_all();
        }
        tracing::info!(jobs = %board.names().join(", "), limit = shared.limit, "daemon started");
        while !shared.stop.is_stopped() {
            let now = Utc::now();
            let room = shared.limit.saturating_sub(board.running());
            let mut skipped = Vec::new();
            for job in board.take_due(now, room, &mut skipped) {
                spawn_job(shared.clone(), job);
            }
            for name in skipped {
                tracing::warn!(job = %name, "due while its previous run is still going: skipped");
                shared.telemetry.skipped(&name, 1);
            }
            if mode == Mode::Once && !board.busy() {
                break;
            }
            let nap = match (mode, board.next_wake()) {
                (Mode::Forever, Some(at)) => (at - now).to_std().unwrap_or(Duration::ZERO),
                _ => MAX_NAP,
            }
            .clamp(Duration::from_millis(10), MAX_NAP);
            board = shared
                .wake
                .wait_timeout(board, nap)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
        if shared.stop.is_stopped() && board.running() > 0 {
            tracing::info!(
                running = board.running(),
                grace_seconds = self.grace.as_secs(),
                "stopping: running jobs end after the page they are on"
            );
        }
        let deadline = Instant::now() + self.grace;
        while board.running() > 0 {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            board = shared
                .wake
                .wait_timeout(board, left)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
        let clean = board.running() == 0;
        if !clean {
            tracing::warn!(
                running = board.running(),
                "grace period over with jobs still running; what they committed stays, the next run resumes"
            );
        }
        let failed = board
            .statuses()
            .into_iter()
            .filter_map(|s| s.last_error.map(|e| (s.name, e)))
            .collect();
        Ended { clean, failed }
    }
}

/// Runs `job` on a thread of its own, and puts what it did on the board and in the telemetry.
fn spawn_job(shared: Arc<Shared>, job: JobConfig) {
    let n = shared.runs.fetch_add(1, Ordering::Relaxed) + 1;
    let run_id = format!("{}-{n}", Utc::now().format("%Y%m%dT%H%M%S"));
    // Before the thread starts, and under the board's lock the caller holds: whoever sees the job running
    // on the board sees it running in the scrape too.
    shared.telemetry.started(&job.name);
    let spawned = std::thread::Builder::new()
        .name(format!("job {}", job.name))
        .spawn({
            let shared = shared.clone();
            let job = job.clone();
            move || {
                let span = tracing::info_span!("job", job = %job.name, run = %run_id);
                let _entered = span.enter();
                tracing::info!("job started");
                let began = Instant::now();
                let runner = shared.runner.clone();
                let outcome =
                    std::panic::catch_unwind(AssertUnwindSafe(|| runner.run(&job, &shared.stop)))
                        .unwrap_or_else(|_| JobOutcome {
                            reports: Vec::new(),
                            error: Some(
                                "the job panicked (a bug: please report it with the log)".into(),
                            ),
                            failed_sources: Vec::new(),
                        });
                let seconds = began.elapsed().as_secs_f64();
                let end = Utc::now();
                let run_outcome = match (&outcome.error, outcome.stopped()) {
                    (Some(_), _) => RunOutcome::Failure,
                    (None, true) => RunOutcome::Stopped,
                    (None, false) => RunOutcome::Success,
                };
                shared.telemetry.ended(&RunEnd {
                    job: &job.name,
                    kind: job.kind.name(),
                    sources: &job.sources,
                    run: &run_id,
                    outcome: run_outcome,
                    seconds,
                    end,
                    result: &outcome,
                });
                match &outcome.error {
                    None => tracing::info!(seconds, stopped = outcome.stopped(), "job ended"),
                    Some(e) => {
                        tracing::error!(seconds, error = %e, "job failed; it will be retried")
                    }
                }
                shared.ended.fetch_add(1, Ordering::SeqCst);
                shared
                    .board()
                    .finished(&job.name, end, outcome.error.map_or(Ok(()), Err));
                shared.wake.notify_all();
            }
        });
    if let Err(e) = spawned {
        let mut board = shared.board();
        board.finished(
            &job.name,
            Utc::now(),
            Err(format!("could not start a thread for it: {e}")),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runner::{ReportFailure, ReportQuery};
    use flowlake_engine::sync::SyncReport;

    /// Runs jobs by sleeping, counting them; fails jobs named `bad`.
    #[derive(Default)]
    struct Sleeper {
        runs: Mutex<Vec<String>>,
        concurrent: bool,
    }

    impl JobRunner for Sleeper {
        fn run(&self, job: &JobConfig, stop: &StopSignal) -> JobOutcome {
            self.runs.lock().unwrap().push(job.name.clone());
            for _ in 0..50 {
                if stop.is_stopped() {
                    return JobOutcome {
                        reports: vec![SyncReport {
                            stopped: true,
                            ..SyncReport::default()
                        }],
                        ..JobOutcome::default()
                    };
                }
                std::thread::sleep(Duration::from_millis(2));
            }
            JobOutcome {
                error: (job.name == "bad").then(|| "it is bad".to_string()),
                ..JobOutcome::default()
            }
        }
        fn ready(&self) -> Result<(), String> {
            Ok(())
        }
        fn report(&self, _: &ReportQuery) -> Result<String, ReportFailure> {
            Ok("{}".into())
        }
        fn concurrent_jobs(&self) -> bool {
            self.concurrent
        }
    }

    fn job(name: &str) -> JobConfig {
        toml::from_str(&format!("name = \"{name}\"\nschedule = \"@every 1h\"\n")).unwrap()
    }

    fn daemon(runner: Arc<Sleeper>, jobs: &[JobConfig]) -> Daemon {
        let retry = RetryPolicy {
            base: Duration::from_secs(60),
            max: Duration::from_secs(60),
        };
        Daemon::new(
            jobs,
            runner,
            Arc::new(Telemetry::default()),
            2,
            retry,
            Duration::from_secs(5),
        )
        .unwrap()
    }

    #[test]
    fn once_runs_every_job_one_time_and_reports_the_failed_ones() {
        let runner = Arc::new(Sleeper::default());
        let d = daemon(runner.clone(), &[job("a"), job("bad"), job("c")]);
        let ended = d.run(Mode::Once);
        let mut runs = runner.runs.lock().unwrap().clone();
        runs.sort();
        assert_eq!(runs, ["a", "bad", "c"]);
        assert!(ended.clean);
        assert_eq!(ended.failed, [("bad".to_string(), "it is bad".to_string())]);
        let statuses = d.handle().statuses();
        assert!(statuses
            .iter()
            .all(|s| s.runs == 1 && s.running_since.is_none()));
        let scrape = d.shared.telemetry.render();
        assert!(scrape.contains("flowlake_job_runs_total{job=\"bad\",outcome=\"failure\"} 1"));
    }

    #[test]
    fn a_stop_ends_running_jobs_at_their_next_page_and_the_loop_with_them() {
        let runner = Arc::new(Sleeper {
            concurrent: true,
            ..Sleeper::default()
        });
        let mut on_start = job("a");
        on_start.on_start = true;
        let d = daemon(runner.clone(), &[on_start]);
        let handle = d.handle();
        let stopper = std::thread::spawn(move || {
            while handle.statuses()[0].running_since.is_none() {
                std::thread::sleep(Duration::from_millis(1));
            }
            handle.stop();
        });
        let ended = d.run(Mode::Forever);
        stopper.join().unwrap();
        assert!(ended.clean);
        assert!(ended.failed.is_empty());
        assert!(d
            .shared
            .telemetry
            .render()
            .contains("flowlake_job_runs_total{job=\"a\",outcome=\"stopped\"} 1"));
    }

    #[test]
    fn a_triggered_job_runs_and_an_unknown_one_is_refused() {
        let runner = Arc::new(Sleeper::default());
        let d = daemon(runner.clone(), &[job("a")]);
        let handle = d.handle();
        assert!(matches!(
            handle.trigger("zzz"),
            Err(TriggerError::Unknown { .. })
        ));
        handle.trigger("a").unwrap();
        let h = handle.clone();
        let waiter = std::thread::spawn(move || {
            while h.statuses()[0].runs == 0 {
                std::thread::sleep(Duration::from_millis(1));
            }
            h.stop();
        });
        d.run(Mode::Forever);
        waiter.join().unwrap();
        assert_eq!(*runner.runs.lock().unwrap(), ["a"]);
    }
}
