//! What `/metrics` shows Prometheus: job runs, durations and last successes, and per source the pages,
//! records and items synced and the API requests, 304s, retries and rate-limit waits, per stream.

use std::sync::atomic::AtomicU64;

use chrono::{DateTime, Utc};
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

use crate::error_reports::{ErrorReports, Failure};
use crate::runner::JobOutcome;
use crate::statsd::{Kind, Statsd};

type Labels = Vec<(&'static str, String)>;
type Histograms = Family<Labels, Histogram, fn() -> Histogram>;

/// How a job's run ended, as the `outcome` label says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunOutcome {
    /// Every source of it succeeded.
    Success,
    /// At least one failed.
    Failure,
    /// A stop (SIGTERM) ended it after a committed page.
    Stopped,
}

impl RunOutcome {
    fn label(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::Failure => "failure",
            Self::Stopped => "stopped",
        }
    }
}

/// One ended run of a job, as the telemetry records and pushes it.
#[derive(Debug, Clone, Copy)]
pub struct RunEnd<'a> {
    /// The job's name.
    pub job: &'a str,
    /// `sync`, `backfill` or `rebuild`.
    pub kind: &'a str,
    /// The sources the job names (empty: every configured source).
    pub sources: &'a [String],
    /// The run's id, as its log lines carry it.
    pub run: &'a str,
    /// How it ended.
    pub outcome: RunOutcome,
    /// How long it took.
    pub seconds: f64,
    /// When it ended.
    pub end: DateTime<Utc>,
    /// What it did: the reports of the sources it synced, and why it failed.
    pub result: &'a JobOutcome,
}

/// The service's Prometheus metrics, and where runs are pushed (StatsD) and failures reported (Sentry).
pub struct Telemetry {
    registry: Registry,
    job_runs: Family<Labels, Counter>,
    job_skipped: Family<Labels, Counter>,
    job_running: Family<Labels, Gauge>,
    job_duration: Histograms,
    job_last_success: Family<Labels, Gauge<f64, AtomicU64>>,
    pages: Family<Labels, Counter>,
    records: Family<Labels, Counter>,
    items: Family<Labels, Counter>,
    bad_records: Family<Labels, Counter>,
    requests: Family<Labels, Counter>,
    not_modified: Family<Labels, Counter>,
    retries: Family<Labels, Counter>,
    rate_limit_waits: Family<Labels, Counter>,
    rate_limit_wait_seconds: Family<Labels, Counter>,
    fetch_seconds: Family<Labels, Counter<f64, AtomicU64>>,
    load_seconds: Family<Labels, Counter<f64, AtomicU64>>,
    rows: Family<Labels, Counter>,
    statsd: Option<Statsd>,
    errors: Option<ErrorReports>,
}

impl std::fmt::Debug for Telemetry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Telemetry")
    }
}

fn job_duration_histogram() -> Histogram {
    // 1 s to about 9 hours.
    Histogram::new(exponential_buckets(1.0, 2.0, 16))
}

impl Default for Telemetry {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("flowlake");
        let mut family = |name: &str, help: &str| {
            let f = Family::<Labels, Counter>::default();
            registry.register(name, help, f.clone());
            f
        };
        let job_runs = family("job_runs", "Job runs ended, by job and outcome.");
        let job_skipped = family(
            "job_skipped",
            "Times a job was due while its previous run was still going.",
        );
        let pages = family("sync_pages", "Pages committed, by source.");
        let records = family("sync_records", "Raw records landed, by source.");
        let items = family("sync_items", "Work items loaded, by source.");
        let bad_records = family(
            "sync_bad_records",
            "Records landed raw that could not be normalized, by source.",
        );
        let requests = family(
            "api_requests",
            "API requests sent, retries included, by source and stream.",
        );
        let not_modified = family(
            "api_not_modified",
            "API requests answered 304 Not Modified, by source and stream.",
        );
        let retries = family(
            "api_retries",
            "Retries after transient API failures, by source and stream.",
        );
        let rate_limit_waits = family(
            "api_rate_limit_waits",
            "Waits for API rate limits, by source and stream.",
        );
        let rate_limit_wait_seconds = family(
            "api_rate_limit_wait_seconds",
            "Seconds spent waiting for API rate limits, by source and stream.",
        );
        let rows = family(
            "store_rows",
            "Rows handed to the store, by source and table (raw landing included).",
        );
        let mut seconds = |name: &str, help: &str| {
            let f = Family::<Labels, Counter<f64, AtomicU64>>::default();
            registry.register(name, help, f.clone());
            f
        };
        let fetch_seconds = seconds(
            "sync_fetch_seconds",
            "Seconds spent getting pages from the source, rate-limit waits included, by source.",
        );
        let load_seconds = seconds(
            "store_load_seconds",
            "Seconds spent loading pages and their cursors into the store, by source.",
        );
        let job_running = Family::<Labels, Gauge>::default();
        registry.register(
            "job_running",
            "1 while a job runs, by job.",
            job_running.clone(),
        );
        let job_duration: Histograms = Family::new_with_constructor(job_duration_histogram);
        registry.register(
            "job_duration_seconds",
            "How long job runs took, by job.",
            job_duration.clone(),
        );
        let job_last_success = Family::<Labels, Gauge<f64, AtomicU64>>::default();
        registry.register(
            "job_last_success_timestamp_seconds",
            "When each job last ended successfully, as a Unix time.",
            job_last_success.clone(),
        );
        Self {
            registry,
            job_runs,
            job_skipped,
            job_running,
            job_duration,
            job_last_success,
            pages,
            records,
            items,
            bad_records,
            requests,
            not_modified,
            retries,
            rate_limit_waits,
            rate_limit_wait_seconds,
            fetch_seconds,
            load_seconds,
            rows,
            statsd: None,
            errors: None,
        }
    }
}

fn job(name: &str) -> Labels {
    vec![("job", name.to_string())]
}

impl Telemetry {
    /// Also pushes each job's figures to a StatsD agent.
    pub fn with_statsd(mut self, statsd: Statsd) -> Self {
        self.statsd = Some(statsd);
        self
    }

    /// Also reports failed runs to Sentry.
    pub fn with_error_reports(mut self, errors: ErrorReports) -> Self {
        self.errors = Some(errors);
        self
    }

    /// Waits up to `timeout` for error reports still being sent (before the process exits).
    pub fn flush(&self, timeout: std::time::Duration) {
        if let Some(errors) = &self.errors {
            if !errors.flush(timeout) {
                tracing::warn!("some error reports to Sentry were not sent in time");
            }
        }
    }

    /// `job` started.
    pub fn started(&self, name: &str) {
        self.job_running.get_or_create(&job(name)).set(1);
    }

    /// `job` was due while running.
    pub fn skipped(&self, name: &str, times: u64) {
        self.job_skipped.get_or_create(&job(name)).inc_by(times);
    }

    /// A run ended: counted, timed, pushed to StatsD and, if it failed, reported to Sentry.
    pub fn ended(&self, run: &RunEnd<'_>) {
        let RunEnd {
            job: name,
            outcome,
            seconds,
            end,
            ..
        } = *run;
        let reports = &run.result.reports;
        self.job_running.get_or_create(&job(name)).set(0);
        self.job_runs
            .get_or_create(&vec![
                ("job", name.to_string()),
                ("outcome", outcome.label().to_string()),
            ])
            .inc();
        self.job_duration.get_or_create(&job(name)).observe(seconds);
        if outcome == RunOutcome::Success {
            self.job_last_success
                .get_or_create(&job(name))
                .set(end.timestamp_millis() as f64 / 1000.0);
        }
        self.push(run);
        self.report_failure(run);
        for r in reports {
            let source = vec![("source", r.source.clone())];
            self.fetch_seconds
                .get_or_create(&source)
                .inc_by(r.fetch_seconds);
            self.load_seconds
                .get_or_create(&source)
                .inc_by(r.load_seconds);
            for (table, n) in &r.rows {
                let at = vec![("source", r.source.clone()), ("table", table.clone())];
                self.rows.get_or_create(&at).inc_by(*n);
            }
            self.pages.get_or_create(&source).inc_by(r.pages);
            self.records.get_or_create(&source).inc_by(r.records);
            self.items.get_or_create(&source).inc_by(r.items);
            self.bad_records
                .get_or_create(&source)
                .inc_by(r.bad_records);
            for (stream, s) in &r.requests {
                let at = vec![("source", r.source.clone()), ("stream", stream.clone())];
                self.requests.get_or_create(&at).inc_by(s.requests);
                self.not_modified.get_or_create(&at).inc_by(s.not_modified);
                self.retries.get_or_create(&at).inc_by(s.retries);
                self.rate_limit_waits
                    .get_or_create(&at)
                    .inc_by(s.rate_limit_waits);
                self.rate_limit_wait_seconds
                    .get_or_create(&at)
                    .inc_by(s.rate_limit_wait_seconds);
            }
        }
    }

    /// The run's figures to StatsD, under tracker-exporter's names where it has one for them.
    fn push(&self, run: &RunEnd<'_>) {
        let Some(statsd) = &self.statsd else {
            return;
        };
        let (name, outcome) = (run.job, run.outcome);
        let job = [("job", name)];
        statsd.send("etl_duration_seconds", run.seconds, Kind::Timing, &job);
        let status = if outcome == RunOutcome::Failure {
            2.0
        } else {
            1.0
        };
        statsd.send("etl_upload_status", status, Kind::Gauge, &job);
        if outcome != RunOutcome::Failure {
            statsd.send(
                "last_update_timestamp",
                run.end.timestamp() as f64,
                Kind::Gauge,
                &job,
            );
        }
        let runs = [("job", name), ("outcome", outcome.label())];
        statsd.send("job_runs", 1.0, Kind::Count, &runs);
        for r in &run.result.reports {
            let tags = [("job", name), ("source", r.source.as_str())];
            statsd.send(
                "issues_total_processed_count",
                r.items as f64,
                Kind::Count,
                &tags,
            );
            statsd.send(
                "issues_search_time_seconds",
                r.fetch_seconds,
                Kind::Timing,
                &tags,
            );
            statsd.send(
                "upload_to_storage_time_seconds",
                r.load_seconds,
                Kind::Timing,
                &tags,
            );
            statsd.send(
                "records_processed_count",
                r.records as f64,
                Kind::Count,
                &tags,
            );
            for (table, n) in &r.rows {
                let tags = [
                    ("job", name),
                    ("source", r.source.as_str()),
                    ("table", table.as_str()),
                ];
                statsd.send("clickhouse_inserted_rows", *n as f64, Kind::Count, &tags);
            }
        }
    }

    /// A failed run to Sentry, tagged with the sources that failed (the job's when none is named).
    fn report_failure(&self, run: &RunEnd<'_>) {
        let (Some(errors), Some(error)) = (&self.errors, &run.result.error) else {
            return;
        };
        let sources = if run.result.failed_sources.is_empty() {
            run.sources
        } else {
            &run.result.failed_sources
        };
        let all = ["all".to_string()];
        errors.job_failed(&Failure {
            job: run.job,
            kind: run.kind,
            run: run.run,
            sources: if sources.is_empty() { &all } else { sources },
            error,
        });
    }

    /// The scrape, in the OpenMetrics text format Prometheus reads.
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = encode(&mut out, &self.registry);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flowlake_engine::sync::SyncReport;

    /// A successful run of job `sync` that ended at `end`, with `report`.
    fn ended_run(end: DateTime<Utc>, report: SyncReport) -> RunEnd<'static> {
        let result = Box::leak(Box::new(JobOutcome {
            reports: vec![report],
            ..JobOutcome::default()
        }));
        RunEnd {
            job: "sync",
            kind: "sync",
            sources: &[],
            run: "r1",
            outcome: RunOutcome::Success,
            seconds: 2.5,
            end,
            result,
        }
    }

    #[test]
    fn a_run_shows_as_counters_a_histogram_and_a_last_success_time() {
        let t = Telemetry::default();
        let mut report = SyncReport {
            source: "gh".into(),
            pages: 3,
            records: 250,
            items: 120,
            ..SyncReport::default()
        };
        report.requests.insert(
            "issues".into(),
            flowlake_connect::http::RequestStats {
                requests: 4,
                not_modified: 1,
                retries: 2,
                rate_limit_waits: 1,
                rate_limit_wait_seconds: 7,
            },
        );
        t.started("sync");
        let end = DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        t.ended(&ended_run(end, report));
        t.skipped("sync", 2);
        let text = t.render();
        for line in [
            "flowlake_job_runs_total{job=\"sync\",outcome=\"success\"} 1",
            "flowlake_job_skipped_total{job=\"sync\"} 2",
            "flowlake_job_running{job=\"sync\"} 0",
            "flowlake_job_duration_seconds_count{job=\"sync\"} 1",
            "flowlake_job_last_success_timestamp_seconds{job=\"sync\"} 1767225600.0",
            "flowlake_sync_pages_total{source=\"gh\"} 3",
            "flowlake_sync_records_total{source=\"gh\"} 250",
            "flowlake_api_requests_total{source=\"gh\",stream=\"issues\"} 4",
            "flowlake_api_not_modified_total{source=\"gh\",stream=\"issues\"} 1",
            "flowlake_api_rate_limit_wait_seconds_total{source=\"gh\",stream=\"issues\"} 7",
            "# TYPE flowlake_job_duration_seconds histogram",
            "# EOF",
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "{line} missing in:\n{text}"
            );
        }
    }

    #[test]
    fn a_run_is_pushed_to_statsd_under_tracker_exporters_names() {
        let agent = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        agent
            .set_read_timeout(Some(std::time::Duration::from_secs(5)))
            .unwrap();
        let statsd = crate::statsd::Statsd::connect(&crate::statsd::StatsdConfig {
            host: "127.0.0.1".into(),
            port: agent.local_addr().unwrap().port(),
            prefix: "tracker_exporter".into(),
            tags: vec!["project:internal".into()],
        })
        .unwrap();
        let t = Telemetry::default().with_statsd(statsd);
        let mut report = SyncReport {
            source: "tracker".into(),
            items: 120,
            records: 130,
            fetch_seconds: 1.5,
            load_seconds: 0.25,
            ..SyncReport::default()
        };
        report.rows.insert("work_items".into(), 120);
        let end = DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        t.ended(&ended_run(end, report));
        let mut got = Vec::new();
        let mut buf = [0u8; 1024];
        while let Ok(n) = agent.recv(&mut buf) {
            got.push(String::from_utf8_lossy(&buf[..n]).into_owned());
            if got.len() == 9 {
                break;
            }
        }
        let want = [
            "tracker_exporter_etl_duration_seconds:2.5|ms|#project:internal,job:sync",
            "tracker_exporter_etl_upload_status:1|g|#project:internal,job:sync",
            "tracker_exporter_last_update_timestamp:1767225600|g|#project:internal,job:sync",
            "tracker_exporter_job_runs:1|c|#project:internal,job:sync,outcome:success",
            "tracker_exporter_issues_total_processed_count:120|c|#project:internal,job:sync,source:tracker",
            "tracker_exporter_issues_search_time_seconds:1.5|ms|#project:internal,job:sync,source:tracker",
            "tracker_exporter_upload_to_storage_time_seconds:0.25|ms|#project:internal,job:sync,source:tracker",
            "tracker_exporter_records_processed_count:130|c|#project:internal,job:sync,source:tracker",
            "tracker_exporter_clickhouse_inserted_rows:120|c|#project:internal,job:sync,source:tracker,table:work_items",
        ];
        assert_eq!(got, want);
        let scrape = t.render();
        assert!(
            scrape
                .contains("flowlake_store_rows_total{source=\"tracker\",table=\"work_items\"} 120"),
            "{scrape}"
        );
        assert!(
            scrape.contains("flowlake_store_load_seconds_total{source=\"tracker\"} 0.25"),
            "{scrape}"
        );
    }
}
