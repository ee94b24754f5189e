//! The job board: which job is due, running, or waiting for a retry, and what each one did last. Pure:
//! every method takes the instant it acts at, so the daemon's clock and the tests' are the same code.

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use flowlake_engine::config::JobConfig;
use flowlake_engine::schedule::Schedule;
use serde::Serialize;

/// How failed jobs are retried: the first retry after `base`, each next one twice as long, up to `max`,
/// unless the job's schedule comes first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// The wait before the first retry.
    pub base: Duration,
    /// The longest wait.
    pub max: Duration,
}

impl RetryPolicy {
    /// The wait after the `failures`th failure in a row (1 for the first).
    pub fn delay(&self, failures: u32) -> Duration {
        let factor = 2u32.saturating_pow(failures.saturating_sub(1).min(30));
        self.base.saturating_mul(factor).min(self.max)
    }
}

/// What a job did last and what it will do next, as `/api/v1/jobs` shows it.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct JobStatus {
    /// The job's name.
    pub name: String,
    /// `sync`, `backfill` or `rebuild`.
    pub kind: String,
    /// Its schedule as configured (a cron schedule with its time zone).
    pub schedule: String,
    /// Since when it runs, when it does.
    pub running_since: Option<DateTime<Utc>>,
    /// When it runs next: its schedule, or an earlier retry after a failure; `None` when a cron schedule
    /// never matches again.
    pub next_run: Option<DateTime<Utc>>,
    /// When its last run started.
    pub last_run: Option<DateTime<Utc>>,
    /// When its last successful run ended.
    pub last_success: Option<DateTime<Utc>>,
    /// Why its last run failed, when it did (cleared by a success).
    pub last_error: Option<String>,
    /// Runs ended, failed ones included.
    pub runs: u64,
    /// Runs that failed.
    pub failures: u64,
    /// Failures since the last success.
    pub consecutive_failures: u32,
    /// Times it was due while its previous run was still going, and so skipped.
    pub skipped: u64,
}

/// Why a job cannot be run now on request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TriggerError {
    /// No job has that name.
    #[error("no job named `{name}` (jobs: {known})")]
    Unknown {
        /// The name asked for.
        name: String,
        /// The configured jobs, comma-separated.
        known: String,
    },
    /// It is running; one run of a job at a time.
    #[error("job `{0}` is running; one run of a job at a time")]
    Running(String),
}

struct Entry {
    config: JobConfig,
    schedule: Schedule,
    status: JobStatus,
    /// Asked to run now (the API, or `--once`).
    triggered: bool,
}

/// Every job of the daemon with its state.
pub struct Board {
    entries: Vec<Entry>,
    /// Where `@every` schedules count their slots from: when the daemon started.
    anchor: DateTime<Utc>,
    retry: RetryPolicy,
}

impl Board {
    /// The jobs of `configs` (already validated) as of `now`: each due at its first scheduled instant, or
    /// at once when it runs on start.
    pub fn new(
        configs: &[JobConfig],
        now: DateTime<Utc>,
        retry: RetryPolicy,
    ) -> Result<Self, String> {
        let mut entries = Vec::new();
        for config in configs {
            let schedule = config
                .schedule()
                .map_err(|e| format!("job `{}`: {e}", config.name))?;
            let next_run = if config.on_start {
                Some(now)
            } else {
                schedule.next_after(now, now)
            };
            entries.push(Entry {
                status: JobStatus {
                    name: config.name.clone(),
                    kind: kind_name(config),
                    schedule: schedule.to_string(),
                    running_since: None,
                    next_run,
                    last_run: None,
                    last_success: None,
                    last_error: None,
                    runs: 0,
                    failures: 0,
                    consecutive_failures: 0,
                    skipped: 0,
                },
                config: config.clone(),
                schedule,
                triggered: false,
            });
        }
        Ok(Self {
            entries,
            anchor: now,
            retry,
        })
    }

    /// The jobs to start at `now`, at most `room` of them, in config order, each marked running. A job due
    /// while it is still running is skipped (counted, and named in `skipped`) and moved to its next slot; a
    /// due job with no room left stays due.
    pub fn take_due(
        &mut self,
        now: DateTime<Utc>,
        room: usize,
        skipped: &mut Vec<String>,
    ) -> Vec<JobConfig> {
        let mut room = room;
        let mut start = Vec::new();
        for e in &mut self.entries {
            let scheduled = e.status.next_run.is_some_and(|t| t <= now);
            if e.status.running_since.is_some() {
                if scheduled {
                    e.status.skipped += 1;
                    e.status.next_run = e.schedule.next_after(now, self.anchor);
                    skipped.push(e.config.name.clone());
                }
                continue;
            }
            if !(scheduled || e.triggered) || room == 0 {
                continue;
            }
            room -= 1;
            e.triggered = false;
            e.status.running_since = Some(now);
            e.status.last_run = Some(now);
            if scheduled {
                e.status.next_run = e.schedule.next_after(now, self.anchor);
            }
            start.push(e.config.clone());
        }
        start
    }

    /// The run of `name` ended at `now`: `Ok` or why it failed. A failure brings the next run forward to
    /// the retry delay when that comes before the schedule.
    pub fn finished(&mut self, name: &str, now: DateTime<Utc>, result: Result<(), String>) {
        let Some(e) = self.entries.iter_mut().find(|e| e.config.name == name) else {
            return;
        };
        let s = &mut e.status;
        s.running_since = None;
        s.runs += 1;
        match result {
            Ok(()) => {
                s.last_success = Some(now);
                s.last_error = None;
                s.consecutive_failures = 0;
            }
            Err(why) => {
                s.failures += 1;
                s.consecutive_failures = s.consecutive_failures.saturating_add(1);
                s.last_error = Some(why);
                let wait = self.retry.delay(s.consecutive_failures);
                let retry = TimeDelta::from_std(wait)
                    .ok()
                    .and_then(|d| now.checked_add_signed(d));
                s.next_run = match (s.next_run, retry) {
                    (Some(next), Some(retry)) => Some(next.min(retry)),
                    (next, retry) => next.or(retry),
                };
            }
        }
    }

    /// Asks `name` to run at the next chance, whatever its schedule.
    pub fn trigger(&mut self, name: &str) -> Result<(), TriggerError> {
        let known = self.names().join(", ");
        let Some(e) = self.entries.iter_mut().find(|e| e.config.name == name) else {
            return Err(TriggerError::Unknown {
                name: name.to_string(),
                known: if known.is_empty() {
                    "none".into()
                } else {
                    known
                },
            });
        };
        if e.status.running_since.is_some() {
            return Err(TriggerError::Running(name.to_string()));
        }
        e.triggered = true;
        Ok(())
    }

    /// Asks every job to run at the next chance (`flowlake run --once`).
    pub fn trigger_all(&mut self) {
        for e in &mut self.entries {
            e.triggered = true;
        }
    }

    /// How many jobs run.
    pub fn running(&self) -> usize {
        self.entries
            .iter()
            .filter(|e| e.status.running_since.is_some())
            .count()
    }

    /// Whether any job runs, or was asked to run and has not started.
    pub fn busy(&self) -> bool {
        self.entries
            .iter()
            .any(|e| e.triggered || e.status.running_since.is_some())
    }

    /// The earliest instant a job becomes due; `None` when none ever will.
    pub fn next_wake(&self) -> Option<DateTime<Utc>> {
        self.entries.iter().filter_map(|e| e.status.next_run).min()
    }

    /// Every job's status, in config order.
    pub fn statuses(&self) -> Vec<JobStatus> {
        self.entries.iter().map(|e| e.status.clone()).collect()
    }

    /// The jobs' names, in config order.
    pub fn names(&self) -> Vec<String> {
        self.entries.iter().map(|e| e.config.name.clone()).collect()
    }
}

fn kind_name(config: &JobConfig) -> String {
    serde_json::to_value(config.kind)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn job(name: &str, schedule: &str, on_start: bool) -> JobConfig {
        toml::from_str(&format!(
            "name = \"{name}\"\nschedule = \"{schedule}\"\non_start = {on_start}\n"
        ))
        .unwrap()
    }

    const RETRY: RetryPolicy = RetryPolicy {
        base: Duration::from_secs(30),
        max: Duration::from_secs(600),
    };

    fn names(jobs: &[JobConfig]) -> Vec<&str> {
        jobs.iter().map(|j| j.name.as_str()).collect()
    }

    #[test]
    fn jobs_start_when_due_on_start_or_on_schedule_up_to_the_room_there_is() {
        let start = t("2026-01-01T00:00:00Z");
        let jobs = [
            job("a", "@every 10m", true),
            job("b", "@every 10m", false),
            job("c", "@every 10m", true),
        ];
        let mut board = Board::new(&jobs, start, RETRY).unwrap();
        // On start: a and c, but room for one.
        assert_eq!(names(&board.take_due(start, 1, &mut vec![])), ["a"]);
        assert_eq!(names(&board.take_due(start, 1, &mut vec![])), ["c"]);
        assert!(board.take_due(start, 5, &mut vec![]).is_empty());
        board.finished("a", t("2026-01-01T00:01:00Z"), Ok(()));
        board.finished("c", t("2026-01-01T00:01:00Z"), Ok(()));
        // At 00:10 all three are due.
        let at = t("2026-01-01T00:10:00Z");
        assert_eq!(names(&board.take_due(at, 5, &mut vec![])), ["a", "b", "c"]);
        assert_eq!(
            board.statuses()[1].next_run,
            Some(t("2026-01-01T00:20:00Z"))
        );
    }

    #[test]
    fn a_job_due_while_it_runs_is_skipped_and_counted() {
        let start = t("2026-01-01T00:00:00Z");
        let mut board = Board::new(&[job("a", "@every 10m", true)], start, RETRY).unwrap();
        assert_eq!(board.take_due(start, 1, &mut vec![]).len(), 1);
        // Still running at 00:10 and 00:20.
        assert!(board
            .take_due(t("2026-01-01T00:10:00Z"), 1, &mut vec![])
            .is_empty());
        assert!(board
            .take_due(t("2026-01-01T00:20:05Z"), 1, &mut vec![])
            .is_empty());
        let s = &board.statuses()[0];
        assert_eq!(s.skipped, 2);
        assert_eq!(s.next_run, Some(t("2026-01-01T00:30:00Z")));
        assert_eq!(board.trigger("a"), Err(TriggerError::Running("a".into())));
    }

    #[test]
    fn a_failing_job_retries_with_growing_waits_that_the_schedule_may_beat() {
        let start = t("2026-01-01T00:00:00Z");
        let mut board = Board::new(&[job("a", "@every 1h", true)], start, RETRY).unwrap();
        let mut at = start;
        let mut waits = Vec::new();
        for _ in 0..7 {
            assert_eq!(board.take_due(at, 1, &mut vec![]).len(), 1, "due at {at}");
            board.finished("a", at, Err("boom".into()));
            let next = board.statuses()[0].next_run.unwrap();
            waits.push((next - at).num_seconds());
            at = next;
        }
        // 30 s, 60, 120, 240, 480, then capped at 600; the hourly slot at 01:00 is later still.
        assert_eq!(waits, [30, 60, 120, 240, 480, 600, 600]);
        let s = &board.statuses()[0];
        assert_eq!((s.failures, s.consecutive_failures, s.runs), (7, 7, 7));
        assert_eq!(s.last_error.as_deref(), Some("boom"));
        board.take_due(at, 1, &mut vec![]);
        board.finished("a", at, Ok(()));
        let s = &board.statuses()[0];
        assert_eq!((s.consecutive_failures, s.last_error.as_deref()), (0, None));
        assert_eq!(s.last_success, Some(at));
    }

    #[test]
    fn a_triggered_job_runs_at_once_and_keeps_its_schedule() {
        let start = t("2026-01-01T00:00:00Z");
        let mut board = Board::new(&[job("a", "0 5 * * *", false)], start, RETRY).unwrap();
        let five = t("2026-01-01T05:00:00Z");
        assert_eq!(board.next_wake(), Some(five));
        assert!(board.take_due(start, 1, &mut vec![]).is_empty());
        board.trigger("a").unwrap();
        assert!(board.busy());
        assert_eq!(board.take_due(start, 1, &mut vec![]).len(), 1);
        board.finished("a", start, Ok(()));
        assert!(!board.busy());
        assert_eq!(board.statuses()[0].next_run, Some(five));
        let e = board.trigger("nope").unwrap_err().to_string();
        assert_eq!(e, "no job named `nope` (jobs: a)");
    }

    #[test]
    fn retry_delays_double_up_to_the_cap() {
        let cases = [
            (1, 30),
            (2, 60),
            (3, 120),
            (5, 480),
            (6, 600),
            (40, 600),
            (0, 30),
        ];
        for (failures, secs) in cases {
            assert_eq!(
                RETRY.delay(failures),
                Duration::from_secs(secs),
                "{failures}"
            );
        }
    }
}
