//! One function per subcommand: load config, open the store, call the engine, render the result.

use std::path::Path;

use anyhow::{bail, Context, Result};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use flowlake_connect::generator::GeneratorConfig;
use flowlake_connect::github::{Backfill, GithubConfig};
use flowlake_connect::http::Tape;
use flowlake_core::metrics::Bucket;
use flowlake_engine::config::template;
use flowlake_engine::report::{metrics_report, ReportOptions};
use flowlake_engine::sync::{
    build_backfill_source, build_source, rebuild_with, sync_source, RebuildOptions, StateTarget,
    SyncOptions, SyncReport,
};
use flowlake_engine::{bench, Config, SourceConfig};
use flowlake_store::duckdb_store::{ItemFilter, OpenMode, OpenOptions};
use flowlake_store::schema::DATA_TABLES;
use flowlake_store::DuckDbStore;

use crate::cli::{BucketArg, Cli, Command, DemoSource, ExportFormat, MetricsArgs, OutputFormat};
use crate::progress_bar::Bar;
use crate::render;

/// Runs the parsed command line.
pub fn run(cli: Cli) -> Result<()> {
    match dotenvy::dotenv() {
        Ok(_) => {}
        Err(e) if e.not_found() => {}
        Err(e) => bail!(".env: {e}"),
    }
    let quiet = cli.quiet;
    let config_path = cli.config.clone();
    match cli.command {
        Command::Init { force } => init(&config_path, force, quiet),
        Command::Demo {
            source: DemoSource::Github,
            ..
        } => {
            let config = Config::load(&config_path, false)?;
            demo_github(config, quiet)
        }
        Command::Demo {
            source: DemoSource::Generator,
            issues,
            seed,
            until,
        } => {
            let config = Config::load(&config_path, false)?;
            demo(config, issues, seed, until, quiet)
        }
        Command::Sync {
            sources,
            full_refresh,
            record,
            replay,
            as_of,
        } => {
            let config = Config::load(&config_path, true)?;
            let tape = match (record, replay) {
                (Some(dir), _) => Tape::Record(dir),
                (_, Some(dir)) => Tape::Replay(dir),
                _ => Tape::Off,
            };
            let options = RunOptions {
                full_refresh,
                tape,
                as_of,
            };
            sync(&config, &sources, &options, quiet)
        }
        Command::Backfill {
            from,
            to,
            window,
            sources,
            restart,
            as_of,
        } => {
            let config = Config::load(&config_path, true)?;
            let sources = if sources.is_empty() {
                let able: Vec<String> = config
                    .sources
                    .iter()
                    .filter(|s| matches!(s, SourceConfig::Github(_)))
                    .map(|s| s.name().to_string())
                    .collect();
                if able.is_empty() {
                    bail!("no configured source supports backfill (GitHub sources do)");
                }
                able
            } else {
                sources
            };
            let to = to.unwrap_or_else(|| Utc::now().date_naive());
            if to < from {
                bail!("--to {to} is before --from {from}");
            }
            let backfill = Backfill {
                from,
                to: to + Duration::days(1),
                window_days: window,
            };
            let run = RunOptions {
                full_refresh: restart,
                tape: Tape::Off,
                as_of,
            };
            let reports = sync_all(&config, &sources, &run, Some(&backfill), quiet)?;
            if !quiet {
                let store = open(&config, OpenMode::ReadOnly)?;
                render::sync_summary(&reports, &store)?;
            }
            Ok(())
        }
        Command::Rebuild => {
            let config = Config::load(&config_path, true)?;
            let mut store = open(&config, OpenMode::ReadWrite)?;
            let options = RebuildOptions {
                fail_after_pages: fail_after_pages()?,
            };
            let r = rebuild_with(
                &mut store,
                &config.sources,
                &config.flow_settings(),
                Utc::now(),
                &Bar::new(quiet),
                options,
            )?;
            if !quiet {
                outln!("rebuilt {} items from {} raw records", r.items, r.records);
                if r.bad_records > 0 {
                    outln!("{}", render::bad_records_hint(r.bad_records));
                }
            }
            Ok(())
        }
        Command::Metrics(args) => {
            let config = Config::load(&config_path, false)?;
            metrics(&config, &args)
        }
        Command::Query { sql, format, safe } => {
            let config = Config::load(&config_path, false)?;
            let mode = match safe {
                true => OpenMode::Sandboxed,
                false => OpenMode::ReadOnly,
            };
            let store = open(&config, mode)?;
            let result = store.query(&sql)?;
            render::query_result(&result, format)
        }
        Command::Export {
            format,
            out,
            tables,
            query,
        } => {
            let config = Config::load(&config_path, false)?;
            export(&config, format, &out, &tables, query.as_deref(), quiet)
        }
        Command::Bench {
            issues,
            batch,
            rework_rate,
            db,
            memory_limit,
            duckdb_settings,
            workers,
            loaders,
            format,
        } => {
            let config = Config::load(&config_path, false)?;
            let workers = workers.unwrap_or_else(|| {
                std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
            });
            run_bench(
                &config,
                (issues, batch, workers, usize::from(loaders)),
                rework_rate,
                db.as_deref(),
                (&memory_limit, &duckdb_settings),
                format,
                quiet,
            )
        }
    }
}

/// Opens the configured store (its settings are applied before the file is created, so a bad one leaves
/// nothing behind) and warns when a rebuild was cut short: until one completes, its items mix two configs.
fn open(config: &Config, mode: OpenMode) -> Result<DuckDbStore> {
    let options = OpenOptions {
        memory_limit: config.store.memory_limit.clone(),
    };
    let store = DuckDbStore::open_with(&config.store.path, mode, &options)?;
    // Once per run: `sync` and `demo` open the store twice.
    static WARNED: std::sync::Once = std::sync::Once::new();
    if let Some(since) = store.unfinished_rebuild()? {
        WARNED.call_once(|| tracing::warn!(
            "store {} is mid-rebuild: the `flowlake rebuild` begun at {since} did not finish, so some items are computed with the old config and some with the new; run `flowlake rebuild` to finish it",
            config.store.path.display()
        ));
    }
    Ok(store)
}

fn init(path: &Path, force: bool, quiet: bool) -> Result<()> {
    if path.exists() && !force {
        bail!("{} exists; use --force to overwrite it", path.display());
    }
    std::fs::write(path, template(Utc::now().date_naive()))
        .with_context(|| format!("writing {}", path.display()))?;
    if !quiet {
        outln!(
            "wrote {} — edit it, then run `flowlake sync`",
            path.display()
        );
    }
    Ok(())
}

/// How `sync` (and `demo`) run the sources.
#[derive(Debug, Default)]
struct RunOptions {
    full_refresh: bool,
    tape: Tape,
    as_of: Option<DateTime<Utc>>,
}

/// Runs the sources (`only` those, when given): incrementally, or over `backfill`'s range.
fn sync_all(
    config: &Config,
    only: &[String],
    run: &RunOptions,
    backfill: Option<&Backfill>,
    quiet: bool,
) -> Result<Vec<SyncReport>> {
    for name in only {
        if !config.sources.iter().any(|s| s.name() == name) {
            bail!("no source named `{name}` in the config");
        }
    }
    if config.sources.is_empty() {
        bail!("no [[sources]] configured; run `flowlake init` for an example, or `flowlake demo`");
    }
    // The state back-end is reached before the store file is created: an unreachable one changes nothing.
    let mut external = config.state.backend()?;
    if let Some(b) = external.as_deref_mut() {
        b.check()?;
    }
    let mut store = open(config, OpenMode::ReadWrite)?;
    let settings = config.flow_settings();
    let bar = Bar::new(quiet);
    let mut reports = Vec::new();
    for cfg in config
        .sources
        .iter()
        .filter(|s| only.is_empty() || only.iter().any(|o| o == s.name()))
    {
        let mut source = match backfill {
            None => build_source(cfg, &run.tape, bar.observer()),
            Some(b) => build_backfill_source(cfg, &run.tape, bar.observer(), b.clone()),
        }
        .with_context(|| format!("source `{}`", cfg.name()))?;
        let mut target = match external.as_deref_mut() {
            None => StateTarget::Store,
            Some(b) => StateTarget::External(b),
        };
        let now = run.as_of.unwrap_or_else(|| cfg.now(Utc::now()));
        let options = SyncOptions {
            full_refresh: run.full_refresh,
            fail_after_pages: fail_after_pages()?,
        };
        let report = sync_source(
            source.as_mut(),
            &mut store,
            &mut target,
            &settings,
            now,
            &bar,
            options,
        )
        .with_context(|| format!("syncing source `{}`", cfg.name()))?;
        tracing::info!(source = %report.source, pages = report.pages, records = report.records, "synced");
        reports.push(report);
    }
    Ok(reports)
}

/// `FLOWLAKE_FAIL_AFTER_PAGES=N` makes sync (and rebuild) fail after committing N pages: the crash tests'
/// kill switch.
fn fail_after_pages() -> Result<Option<u64>> {
    match std::env::var("FLOWLAKE_FAIL_AFTER_PAGES") {
        Ok(v) => Ok(Some(v.parse().with_context(|| {
            format!("FLOWLAKE_FAIL_AFTER_PAGES: `{v}` is not a number")
        })?)),
        Err(_) => Ok(None),
    }
}

fn sync(config: &Config, only: &[String], run: &RunOptions, quiet: bool) -> Result<()> {
    let reports = sync_all(config, only, run, None, quiet)?;
    if !quiet {
        let store = open(config, OpenMode::ReadOnly)?;
        render::sync_summary(&reports, &store)?;
    }
    Ok(())
}

fn demo(
    mut config: Config,
    issues: u64,
    seed: u64,
    until: Option<NaiveDate>,
    quiet: bool,
) -> Result<()> {
    let until = until.unwrap_or_else(|| Utc::now().date_naive());
    let generator = GeneratorConfig {
        issues,
        seed,
        until,
        ..GeneratorConfig::default()
    };
    generator
        .validate()
        .map_err(|m| anyhow::anyhow!("demo: {m}"))?;
    config.sources = vec![SourceConfig::Generator(generator)];
    if config.metrics.active_statuses.is_none() {
        config.metrics.active_statuses = Some(vec!["In Progress".into(), "Testing".into()]);
    }
    if !quiet {
        eprintln!(
            "flowlake demo: {issues} synthetic issues (seed {seed}, history to {until}) into {}",
            config.store.path.display()
        );
    }
    let run = RunOptions {
        full_refresh: true,
        ..RunOptions::default()
    };
    let reports = sync_all(&config, &[], &run, None, quiet)?;
    if !quiet {
        let store = open(&config, OpenMode::ReadOnly)?;
        render::sync_summary(&reports, &store)?;
        outln!();
    }
    let args = MetricsArgs {
        from: None,
        to: Some(until),
        days: 90,
        source: None,
        project: None,
        item_type: None,
        assignee: None,
        by: BucketArg::Week,
        top: 5,
        format: OutputFormat::Table,
    };
    metrics(&config, &args)?;
    if !quiet {
        outln!(
            "\nNext: flowlake metrics --project CORE --by day · flowlake query \"select * from item_metrics limit 5\" · flowlake export --format parquet"
        );
    }
    Ok(())
}

/// The GitHub organization `demo --source github` replays: the fake GitHub of the tests, recorded by
/// `tests/github.rs::the_embedded_demo_tape_matches_the_fake` (`FLOWLAKE_UPDATE_DEMO_TAPE=1` rewrites it).
const DEMO_GITHUB_TAPE: &str = include_str!("demo_github.jsonl");
/// Where the tape says it was recorded; never contacted.
const DEMO_GITHUB_URL: &str = "http://github.demo.invalid";

/// The config block the GitHub demo tape was recorded with.
fn demo_github_source() -> GithubConfig {
    GithubConfig {
        name: "github".into(),
        organization: Some("acme".into()),
        base_url: DEMO_GITHUB_URL.into(),
        status_labels: [
            ("status: in progress", "In Progress"),
            ("status: review", "Review"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect(),
        ..GithubConfig::default()
    }
}

fn demo_github(mut config: Config, quiet: bool) -> Result<()> {
    config.sources = vec![SourceConfig::Github(demo_github_source())];
    if config.metrics.active_statuses.is_none() {
        // Waiting for a reviewer or for a merge is not work.
        config.metrics.active_statuses = Some(
            ["In Progress", "Draft", "In Review"]
                .map(String::from)
                .to_vec(),
        );
    }
    // The statuses of the demo's labels are work, mapped as a user would, so none of them is a guess.
    for status in ["In Progress", "Review"] {
        config
            .metrics
            .status_categories
            .entry(status.into())
            .or_insert(flowlake_core::StatusCategory::InProgress);
    }
    let until = NaiveDate::from_ymd_opt(2026, 12, 31).context("a valid date")?;
    if !quiet {
        eprintln!(
            "flowlake demo --source github: a recorded GitHub organization (acme: issues, pull requests, reviews, deployments) replayed offline into {}",
            config.store.path.display()
        );
    }
    let run = RunOptions {
        full_refresh: true,
        tape: Tape::ReplayLines(DEMO_GITHUB_TAPE.to_string()),
        as_of: until
            .succ_opt()
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map(|t| t.and_utc()),
    };
    let reports = sync_all(&config, &[], &run, None, quiet)?;
    if !quiet {
        let store = open(&config, OpenMode::ReadOnly)?;
        render::sync_summary(&reports, &store)?;
        outln!();
    }
    let args = MetricsArgs {
        from: None,
        to: Some(until),
        days: 365,
        source: None,
        project: None,
        item_type: None,
        assignee: None,
        by: BucketArg::Week,
        top: 5,
        format: OutputFormat::Table,
    };
    metrics(&config, &args)?;
    if !quiet {
        outln!(
            "\nNext: flowlake query \"select repository, count(*), median(seconds_to_first_review)/3600 as h_to_review, median(seconds_to_merge)/3600 as h_to_merge from pull_requests group by 1\""
        );
    }
    Ok(())
}

fn metrics(config: &Config, args: &MetricsArgs) -> Result<()> {
    use chrono::Days;
    use flowlake_engine::report::{check_range, ReportError, MAX_RANGE_DAYS};
    let tz = config.calendar.time_zone();
    let now = Utc::now();
    let to = args
        .to
        .unwrap_or_else(|| now.with_timezone(&tz).date_naive());
    let from = match args.from {
        Some(from) => from,
        None => {
            let days = u64::from(args.days);
            if days == 0 {
                bail!("--days 0: a range is at least one day long");
            }
            if days > MAX_RANGE_DAYS {
                bail!(
                    "--days {days}: a report covers at most {MAX_RANGE_DAYS} days (100 years); give fewer days, or --from"
                );
            }
            to.checked_sub_days(Days::new(days - 1)).with_context(|| {
                format!(
                    "--days {days} before --to {to} starts before {}, the earliest date flowlake handles",
                    NaiveDate::MIN
                )
            })?
        }
    };
    match check_range(from, to) {
        Err(ReportError::Reversed { .. }) => bail!("--from {from} is after --to {to}"),
        Err(e) => bail!("--from {from} --to {to}: {e}"),
        Ok(()) => {}
    }
    let bucket = match args.by {
        BucketArg::Day => Bucket::Day,
        BucketArg::Week => Bucket::Week,
    };
    let rows = bucket.count(from, to);
    if args.format == OutputFormat::Table && rows > render::MAX_TABLE_BUCKETS {
        let (by, coarser) = match bucket {
            Bucket::Day => ("day", "--by week, "),
            Bucket::Week => ("week", ""),
        };
        bail!(
            "--by {by} over {from} … {to} gives {rows} throughput rows, more than the {} a table prints: use {coarser}a shorter range, or --format csv or json for every {by}",
            render::MAX_TABLE_BUCKETS
        );
    }
    let store = open(config, OpenMode::ReadOnly)?;
    let options = ReportOptions {
        filter: ItemFilter {
            source: args.source.clone(),
            project: args.project.clone(),
            item_type: args.item_type.clone(),
            assignee: args.assignee.clone(),
        },
        from,
        to,
        bucket,
        tz,
        now,
        aging_top: args.top,
        business_calendar: config.calendar.to_string(),
    };
    let report = metrics_report(&store, &options)?;
    render::metrics_report(&report, args.format)
}

fn export(
    config: &Config,
    format: ExportFormat,
    out: &Path,
    tables: &[String],
    query: Option<&str>,
    quiet: bool,
) -> Result<()> {
    let store = open(config, OpenMode::ReadOnly)?;
    let ext = match format {
        ExportFormat::Csv => "csv",
        ExportFormat::Parquet => "parquet",
    };
    let mut jobs: Vec<(String, String)> = Vec::new();
    if let Some(sql) = query {
        jobs.push(("query".into(), sql.to_string()));
    } else if tables.is_empty() {
        jobs.extend(
            DATA_TABLES
                .iter()
                .map(|t| (t.name.to_string(), format!("SELECT * FROM {}", t.name))),
        );
    } else {
        for t in tables {
            if flowlake_store::schema::table(t).is_none() && t != "sync_state" {
                let known: Vec<&str> = DATA_TABLES.iter().map(|t| t.name).collect();
                bail!("unknown table `{t}` (known: {})", known.join(", "));
            }
            jobs.push((t.clone(), format!("SELECT * FROM {t}")));
        }
    }
    // Each file is written aside and renamed once complete (see `DuckDbStore::export`): a failure leaves the
    // files of earlier runs as they were and no partial one.
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    for (name, sql) in jobs {
        let path = out.join(format!("{name}.{ext}"));
        store.export(&sql, &path, ext)?;
        if !quiet {
            outln!("{}", path.display());
        }
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn run_bench(
    config: &Config,
    (issues, batch, workers, loaders): (u64, u64, usize, usize),
    rework_rate: f64,
    db: Option<&Path>,
    (memory_limit, duckdb_settings): (&str, &[String]),
    format: OutputFormat,
    quiet: bool,
) -> Result<()> {
    let generator = GeneratorConfig {
        rework_rate,
        days: 3 * 365,
        ..GeneratorConfig::default()
    };
    generator
        .validate()
        .map_err(|m| anyhow::anyhow!("bench: {m}"))?;
    let tmp = tempfile_dir()?;
    let path = db
        .map(Path::to_path_buf)
        .unwrap_or_else(|| tmp.join("bench.duckdb"));
    for p in [path.clone(), path.with_extension("duckdb.wal")] {
        if p.exists() {
            std::fs::remove_file(&p).with_context(|| format!("removing {}", p.display()))?;
        }
    }
    let mut store = DuckDbStore::open(&path, OpenMode::ReadWrite)?;
    store.set_memory_limit(memory_limit)?;
    for setting in duckdb_settings {
        let (name, value) = setting
            .split_once('=')
            .with_context(|| format!("--duckdb-setting {setting:?}: expected NAME=VALUE"))?;
        store.set(name.trim(), value.trim())?;
    }
    let options = bench::BenchOptions {
        issues,
        batch_issues: batch,
        generator,
        workers,
        loaders,
    };
    let report = bench::run(
        &mut store,
        &options,
        &config.flow_settings(),
        &Bar::new(quiet),
    )?;
    drop(store);
    if db.is_none() {
        let _ = std::fs::remove_dir_all(&tmp);
    }
    render::bench_report(&report, format)
}

fn tempfile_dir() -> Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!("flowlake-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    Ok(dir)
}
