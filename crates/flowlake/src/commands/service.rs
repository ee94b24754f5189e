//! `flowlake run` (the daemon: `[[jobs]]` on their schedules, with the HTTP server beside it) and `flowlake
//! serve` (the HTTP server alone), over the configured store and sources.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{bail, Context, Result};
use chrono::Utc;
use flowlake_connect::github::Backfill;
use flowlake_engine::config::StoreKind;
use flowlake_engine::config::{JobConfig, JobKind};
use flowlake_engine::sync::{rebuild_with, RebuildOptions, StopSignal};
use flowlake_engine::{Config, NoProgress};
use flowlake_service::{
    Daemon, DaemonHandle, ErrorReports, JobOutcome, JobRunner, Mode, ReportCache, ReportFailure,
    ReportQuery, RetryPolicy, SentryConfig, ServerState, Statsd, StatsdConfig, Telemetry,
};
use flowlake_store::OpenMode;

use crate::cli::{BucketArg, MetricsArgs, OutputFormat, DEFAULT_OLDEST_SHOWN, DEFAULT_REPORT_DAYS};

use super::demo::release_scratch_store;
use super::open;
use super::report::{build_metrics_report, MetricsFailure};
use super::sync::{sync_all, RunOptions};

/// Runs jobs and serves reports over the configured store.
struct Runner {
    config: Config,
    /// A DuckDB file has one writer and is not opened twice in one process: every use of it takes this
    /// (servers are shared by their own locks).
    duckdb: Option<Mutex<()>>,
}

impl Runner {
    fn new(config: Config) -> Self {
        let duckdb = (config.store.kind == StoreKind::Duckdb).then(|| Mutex::new(()));
        Self { config, duckdb }
    }

    fn exclusive(&self) -> Option<std::sync::MutexGuard<'_, ()>> {
        self.duckdb
            .as_ref()
            .map(|m| m.lock().unwrap_or_else(|p| p.into_inner()))
    }

    fn run_job(&self, job: &JobConfig, stop: &StopSignal) -> Result<JobOutcome> {
        let config = &self.config;
        let run = RunOptions {
            full_refresh: job.full_refresh,
            stop: stop.clone(),
            ..RunOptions::default()
        };
        let backfill = match job.kind {
            JobKind::Rebuild => {
                let mut store = open(config, OpenMode::ReadWrite)?;
                rebuild_with(
                    store.as_mut(),
                    &config.sources,
                    &config.flow_settings(),
                    Utc::now(),
                    &NoProgress,
                    RebuildOptions::default(),
                )?;
                return Ok(JobOutcome::default());
            }
            JobKind::Sync => None,
            JobKind::Backfill => {
                let today = Utc::now().date_naive();
                Some(Backfill {
                    from: job.from.context("a backfill job needs `from`")?,
                    to: today.succ_opt().context("today is the calendar's end")?,
                    window_days: job.window_days,
                })
            }
        };
        release_scratch_store(config)?;
        let outcomes = sync_all(config, &job.sources, &run, backfill.as_ref(), true)?;
        let mut outcome = JobOutcome::default();
        let mut failures = Vec::new();
        for (name, result) in outcomes {
            match result {
                Ok(report) => outcome.reports.push(report),
                Err(e) => {
                    failures.push(format!("source `{name}`: {e:#}"));
                    outcome.failed_sources.push(name);
                }
            }
        }
        if !failures.is_empty() {
            outcome.error = Some(failures.join("; "));
        }
        Ok(outcome)
    }
}

impl JobRunner for Runner {
    fn run(&self, job: &JobConfig, stop: &StopSignal) -> JobOutcome {
        let _exclusive = self.exclusive();
        self.run_job(job, stop).unwrap_or_else(|e| JobOutcome {
            error: Some(format!("{e:#}")),
            ..JobOutcome::default()
        })
    }

    fn ready(&self) -> Result<(), String> {
        if let Some(lock) = &self.duckdb {
            // A job writing the file has it open: it is reachable, and its schema is the one it migrated.
            if lock.try_lock().is_err() {
                return Ok(());
            }
        }
        let _exclusive = self.exclusive();
        open(&self.config, OpenMode::ReadOnly)
            .map(drop)
            .map_err(|e| format!("{e:#}"))
    }

    fn report(&self, q: &ReportQuery) -> Result<String, ReportFailure> {
        let by = match q.by.as_deref() {
            None | Some("week") => BucketArg::Week,
            Some("day") => BucketArg::Day,
            Some(other) => {
                return Err(ReportFailure::BadQuery(format!(
                    "by={other}: `day` or `week`"
                )))
            }
        };
        let args = MetricsArgs {
            from: q.from,
            to: q.to,
            days: q.days.unwrap_or(DEFAULT_REPORT_DAYS),
            source: q.source.clone(),
            project: q.project.clone(),
            item_type: q.item_type.clone(),
            assignee: q.assignee.clone(),
            by,
            top: q.top.unwrap_or(DEFAULT_OLDEST_SHOWN),
            format: OutputFormat::Json,
            as_of: q.as_of,
        };
        let _exclusive = self.exclusive();
        let report = build_metrics_report(&self.config, &args).map_err(|e| match e {
            MetricsFailure::Arguments(e) => ReportFailure::BadQuery(format!("{e:#}")),
            MetricsFailure::Store(e) => ReportFailure::Store(format!("{e:#}")),
        })?;
        serde_json::to_string_pretty(&report).map_err(|e| ReportFailure::Store(e.to_string()))
    }

    fn concurrent_jobs(&self) -> bool {
        self.duckdb.is_none()
    }
}

/// `flowlake run`: the jobs (`only` those, when given) on their schedules, or each once, with the HTTP
/// server beside them unless `no_server` or `once`.
pub(super) fn run(config: Config, only: &[String], once: bool, no_server: bool) -> Result<()> {
    let jobs: Vec<JobConfig> = if only.is_empty() {
        config.jobs.clone()
    } else {
        let mut picked = Vec::new();
        for name in only {
            match config.jobs.iter().find(|j| &j.name == name) {
                Some(j) => picked.push(j.clone()),
                None => bail!(
                    "no job named `{name}` in the config (jobs: {})",
                    names(&config.jobs)
                ),
            }
        }
        picked
    };
    if jobs.is_empty() {
        bail!(
            "no [[jobs]] configured: add one, e.g.\n\n[[jobs]]\nname = \"sync\"\nschedule = \"@every 30m\"\non_start = true\n\n(`flowlake init` writes a config with it)"
        );
    }
    let service = &config.service;
    let retry = RetryPolicy {
        base: Duration::from_secs(service.retry_base_delay_seconds),
        max: Duration::from_secs(service.retry_max_delay_seconds),
    };
    let grace = service.grace_period();
    let limit = service.max_concurrent_jobs;
    let runner: Arc<Runner> = Arc::new(Runner::new(config.clone()));
    let telemetry = Arc::new(telemetry(&config)?);
    let daemon = Daemon::new(
        &jobs,
        runner.clone(),
        telemetry.clone(),
        limit,
        retry,
        grace,
    )
    .map_err(anyhow::Error::msg)?;
    let handle = daemon.handle();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let server = if once || no_server {
        None
    } else {
        Some(runtime.block_on(bind(&config))?)
    };
    let shutdown = Arc::new(tokio::sync::Notify::new());
    runtime.spawn(on_signals(handle.clone(), shutdown.clone(), grace));
    if let Some(listener) = server {
        let state = server_state(&config, Some(handle), runner, telemetry.clone())?;
        let done = shutdown.clone();
        runtime.spawn(async move {
            let served =
                flowlake_service::serve(listener, flowlake_service::router(state), async move {
                    done.notified().await
                })
                .await;
            if let Err(e) = served {
                tracing::error!(error = %e, "the HTTP server stopped");
            }
        });
    }
    let mode = if once { Mode::Once } else { Mode::Forever };
    let ended = daemon.run(mode);
    telemetry.flush(Duration::from_secs(5));
    shutdown.notify_one();
    runtime.shutdown_timeout(Duration::from_secs(5));
    if !ended.clean {
        bail!(
            "stopped with jobs still running after the {}s grace period (service.grace_period_seconds); what they committed stays and the next run resumes from it",
            grace.as_secs()
        );
    }
    if once && !ended.failed.is_empty() {
        let list: Vec<String> = ended
            .failed
            .iter()
            .map(|(job, why)| format!("job `{job}`: {why}"))
            .collect();
        bail!("{}", list.join("\n"));
    }
    Ok(())
}

/// `flowlake serve`: the HTTP server alone, until SIGTERM or SIGINT.
pub(super) fn serve(config: Config) -> Result<()> {
    let runner: Arc<Runner> = Arc::new(Runner::new(config.clone()));
    let telemetry = Arc::new(Telemetry::default());
    let state = server_state(&config, None, runner, telemetry)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async {
        let listener = bind(&config).await?;
        let router = flowlake_service::router(state);
        flowlake_service::serve(listener, router, async {
            let _ = terminate().await;
            tracing::info!("stopping: requests in flight finish");
        })
        .await
        .context("serving HTTP")
    })
}

/// The Prometheus families, the StatsD agent when `service.statsd_host` names one, and Sentry when
/// `service.sentry_dsn` does.
fn telemetry(config: &Config) -> Result<Telemetry> {
    let service = &config.service;
    let mut telemetry = Telemetry::default();
    if let Some(host) = &service.statsd_host {
        telemetry = telemetry.with_statsd(
            Statsd::connect(&StatsdConfig {
                host: host.clone(),
                port: service.statsd_port,
                prefix: service.statsd_prefix.clone(),
                tags: service.statsd_tags.clone(),
            })
            .map_err(anyhow::Error::msg)?,
        );
    }
    if let Some(dsn) = service.sentry_dsn.as_ref().filter(|d| !d.trim().is_empty()) {
        let mut secrets = service.api_tokens().map_err(anyhow::Error::msg)?;
        secrets.extend(config.store.password.clone());
        secrets.extend(config.state.url.clone());
        telemetry = telemetry.with_error_reports(
            ErrorReports::connect(&SentryConfig {
                dsn: dsn.clone(),
                environment: service.sentry_environment.clone(),
                secrets,
            })
            .map_err(anyhow::Error::msg)?,
        );
    }
    Ok(telemetry)
}

fn names(jobs: &[JobConfig]) -> String {
    let names: Vec<&str> = jobs.iter().map(|j| j.name.as_str()).collect();
    if names.is_empty() {
        "none".into()
    } else {
        names.join(", ")
    }
}

fn server_state(
    config: &Config,
    daemon: Option<DaemonHandle>,
    runner: Arc<Runner>,
    telemetry: Arc<Telemetry>,
) -> Result<ServerState> {
    let service = &config.service;
    let tokens = service.api_tokens().map_err(anyhow::Error::msg)?;
    if tokens.is_empty() {
        tracing::warn!("no API token (service.tokens, service.token_file): /api/v1 answers 401 to every request");
    }
    Ok(ServerState {
        daemon,
        runner,
        telemetry,
        tokens: Arc::new(tokens),
        metrics_need_token: service.metrics_need_token,
        timeout: Duration::from_secs(service.request_timeout_seconds),
        max_request_bytes: service.max_request_bytes,
        reports: Arc::new(ReportCache::new(Duration::from_secs(
            service.report_cache_seconds,
        ))),
    })
}

/// Binds `service.listen`, saying where it listens (with the port the system picked for `:0`).
async fn bind(config: &Config) -> Result<tokio::net::TcpListener> {
    let listen = &config.service.listen;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| {
            format!(
                "service.listen {listen}: cannot listen there (another process on that port? set another in [service] listen)"
            )
        })?;
    let at = listener.local_addr().context("the listening address")?;
    crate::term::notice(&format!("listening on http://{at}"));
    tracing::info!(address = %at, "HTTP server listening");
    Ok(listener)
}

/// Resolves at the first SIGTERM or SIGINT.
async fn terminate() -> std::io::Result<()> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate())?;
    tokio::select! {
        _ = term.recv() => {}
        r = tokio::signal::ctrl_c() => r?,
    }
    Ok(())
}

/// The first signal stops the daemon gracefully (running jobs end after their page, within `grace`) and
/// the HTTP server; a second one ends the process at once: each page's commit keeps the data consistent.
async fn on_signals(daemon: DaemonHandle, shutdown: Arc<tokio::sync::Notify>, grace: Duration) {
    if let Err(e) = terminate().await {
        tracing::error!(error = %e, "cannot listen for signals; stop the process with SIGKILL");
        return;
    }
    tracing::info!(
        grace_seconds = grace.as_secs(),
        "stopping: no new jobs; running ones end after the page they are on (a second signal stops at once)"
    );
    daemon.stop();
    shutdown.notify_one();
    if terminate().await.is_ok() {
        tracing::warn!(
            "second signal: stopping at once; the next run resumes after the last committed page"
        );
        std::process::exit(130);
    }
}
