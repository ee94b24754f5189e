//! One function per subcommand: load config, open the store, call the engine, render the result.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{bail, Context, Result};
use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use flowlake_connect::generator::GeneratorConfig;
use flowlake_connect::github::{Backfill, GithubConfig};
use flowlake_connect::http::{RequestStats, Tape};
use flowlake_connect::{Page, Source, SourceError, StreamCursors};
use flowlake_core::metrics::Bucket;
use flowlake_core::{Normalized, RawRecord, StatusCategory};
use flowlake_engine::compute::FlowSettings;
use flowlake_engine::config::{template, StateConfig};
use flowlake_engine::report::{metrics_report, ReportOptions};
use flowlake_engine::sync::{
    build_backfill_source, build_source, rebuild_with, sync_source, RebuildOptions, StateTarget,
    SyncOptions, SyncReport,
};
use flowlake_engine::{bench, Config, SourceConfig};
use flowlake_store::schema::DATA_TABLES;
use flowlake_store::{
    ItemFilter, OpenMode, SqlConsole, StateBackend, StateKey, Store, StoreOptions,
};

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
            let config = required_config(&config_path)?;
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
            let config = required_config(&config_path)?;
            let able = |s: &SourceConfig| matches!(s, SourceConfig::Github(_));
            let sources = if sources.is_empty() {
                let able: Vec<String> = config
                    .sources
                    .iter()
                    .filter(|s| able(s))
                    .map(|s| s.name().to_string())
                    .collect();
                if able.is_empty() {
                    bail!("no configured source supports backfill (GitHub sources do)");
                }
                able
            } else {
                for name in &sources {
                    if let Some(s) = config.sources.iter().find(|s| s.name() == name) {
                        if !able(s) {
                            bail!(
                                "source `{name}` has no windowed backfill (GitHub sources do); `flowlake sync --source {name} --full-refresh` reads its whole history"
                            );
                        }
                    }
                }
                sources
            };
            let to = to.unwrap_or_else(|| Utc::now().date_naive());
            if to < from {
                bail!("--to {to} is before --from {from}");
            }
            let backfill = Backfill {
                from,
                to: to
                    .succ_opt()
                    .context("--to: a date before the calendar's end")?,
                window_days: window,
            };
            let run = RunOptions {
                full_refresh: restart,
                tape: Tape::Off,
                as_of,
            };
            release_scratch_store(&config)?;
            let outcomes = sync_all(&config, &sources, &run, Some(&backfill), quiet)?;
            report_outcomes(&config, outcomes, quiet).map(|_| ())
        }
        Command::Rebuild => {
            let config = required_config(&config_path)?;
            let mut store = open(&config, OpenMode::ReadWrite)?;
            let options = RebuildOptions {
                fail_after_pages: fail_after_pages()?,
            };
            let r = rebuild_with(
                store.as_mut(),
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
            let result = console(store.as_ref())?.query(&sql)?;
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

/// The config of a command that cannot run without one (`sync`, `backfill`, `rebuild`). A missing file
/// points to `flowlake init`, which writes one, and to `flowlake demo`, which needs none.
fn required_config(path: &Path) -> Result<Config> {
    Config::load(path, true).map_err(|e| {
        if path.exists() {
            e.into()
        } else {
            anyhow::anyhow!(
                "config {}: no such file. `flowlake init` writes one with a block for each kind of source \
                 (set its [[sources]], then run this again); `flowlake demo` needs none",
                path.display()
            )
        }
    })
}

/// Opens the configured store (its settings are applied before the file is created, so a bad one leaves
/// nothing behind) and warns when a rebuild was cut short: until one completes, its items mix two configs.
/// The one place a command picks the kind of store; everything after talks to the [`Store`] trait.
fn open(config: &Config, mode: OpenMode) -> Result<Box<dyn Store>> {
    let options = StoreOptions {
        memory_limit: config.store.memory_limit.clone(),
        ..StoreOptions::new(&config.store.path, mode)
    };
    let store: Box<dyn Store> = flowlake_store::open(&options)?;
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

/// The SQL console of `store`, for `query` and `export`; a store without SQL says so.
fn console(store: &dyn Store) -> Result<&dyn SqlConsole> {
    store.console().with_context(|| {
        format!(
            "store {} has no SQL console: `query` and `export` need one",
            store.describe()
        )
    })
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

/// One source's run: its name, and its report or why it failed.
type Outcome = (String, Result<SyncReport>);

/// Runs the sources (`only` those, when given): incrementally, or over `backfill`'s range. A source that
/// fails does not stop the others: every selected source runs, and each one's outcome is returned (see
/// [`report_outcomes`]). Only what no source can run without (the store, the state back-end) fails it all.
fn sync_all(
    config: &Config,
    only: &[String],
    run: &RunOptions,
    backfill: Option<&Backfill>,
    quiet: bool,
) -> Result<Vec<Outcome>> {
    for name in only {
        if !config.sources.iter().any(|s| s.name() == name) {
            bail!("no source named `{name}` in the config");
        }
    }
    if config.sources.is_empty() {
        bail!("no [[sources]] configured; run `flowlake init` for an example, or `flowlake demo`");
    }
    let fail_after_pages = fail_after_pages()?;
    // The state back-end is reached before the store file is created: an unreachable one changes nothing.
    let mut external = config.state.backend()?;
    if let Some(b) = external.as_deref_mut() {
        b.check()?;
    }
    let mut store = open(config, OpenMode::ReadWrite)?;
    let settings = config.flow_settings();
    let bar = Bar::new(quiet);
    let selected: Vec<&SourceConfig> = config
        .sources
        .iter()
        .filter(|s| only.is_empty() || only.iter().any(|o| o == s.name()))
        .collect();
    let mut outcomes = Vec::new();
    for cfg in &selected {
        let result = sync_one(
            cfg,
            store.as_mut(),
            external.as_mut(),
            &settings,
            &bar,
            run,
            backfill,
            fail_after_pages,
        );
        match &result {
            Ok(report) => {
                tracing::info!(source = %report.source, pages = report.pages, records = report.records, "synced");
            }
            Err(e) if selected.len() > 1 => {
                tracing::error!(source = %cfg.name(), error = %format!("{e:#}"), "sync failed; going on with the other sources");
            }
            Err(_) => {}
        }
        outcomes.push((cfg.name().to_string(), result));
    }
    Ok(outcomes)
}

/// Syncs one source, with cursors in `external` when set, else in the store.
#[allow(clippy::too_many_arguments)]
fn sync_one(
    cfg: &SourceConfig,
    store: &mut dyn Store,
    external: Option<&mut Box<dyn StateBackend>>,
    settings: &FlowSettings,
    bar: &Bar,
    run: &RunOptions,
    backfill: Option<&Backfill>,
    fail_after_pages: Option<u64>,
) -> Result<SyncReport> {
    let source = match backfill {
        None => build_source(cfg, &run.tape, bar.observer()),
        Some(b) => build_backfill_source(cfg, &run.tape, bar.observer(), b.clone()),
    }?;
    let mut source: Box<dyn Source> = match run.as_of {
        Some(as_of) => Box::new(AsOfGuard {
            inner: source,
            as_of,
        }),
        None => source,
    };
    let mut target = match external {
        None => StateTarget::Store,
        Some(b) => StateTarget::External(b.as_mut()),
    };
    let now = run.as_of.unwrap_or_else(|| cfg.now(Utc::now()));
    let options = SyncOptions {
        full_refresh: run.full_refresh,
        fail_after_pages,
    };
    Ok(sync_source(
        source.as_mut(),
        store,
        &mut target,
        settings,
        now,
        bar,
        options,
    )?)
}

/// Prints the summary of a run (the successful sources' table, then each failed source with its error) and
/// fails when any source failed: with that source's error when it was the only one, else naming them all.
fn report_outcomes(
    config: &Config,
    outcomes: Vec<Outcome>,
    quiet: bool,
) -> Result<Vec<SyncReport>> {
    let total = outcomes.len();
    let mut reports = Vec::new();
    let mut failures = Vec::new();
    for (name, result) in outcomes {
        match result {
            Ok(r) => reports.push(r),
            Err(e) => failures.push((name, e)),
        }
    }
    if !quiet && !reports.is_empty() {
        let summary = || -> Result<()> {
            let store = open(config, OpenMode::ReadOnly)?;
            render::sync_summary(&reports, store.as_ref())?;
            for (name, e) in &failures {
                outln!("FAILED source `{name}`: {e:#}");
            }
            Ok(())
        };
        match summary() {
            Ok(()) => {}
            Err(e) if failures.is_empty() => return Err(e),
            // The failures matter more than the summary.
            Err(e) => tracing::warn!(error = %format!("{e:#}"), "could not print the summary"),
        }
    }
    if failures.is_empty() {
        return Ok(reports);
    }
    if total == 1 {
        if let Some((name, e)) = failures.pop() {
            return Err(e.context(format!("source `{name}`")));
        }
    }
    let list: Vec<String> = failures
        .iter()
        .map(|(name, e)| format!("  source `{name}`: {e:#}"))
        .collect();
    bail!(
        "{} of {total} sources failed (the others synced):\n{}",
        failures.len(),
        list.join("\n")
    )
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

/// A source run with `--as-of`: it refuses an item created after that instant instead of loading it, since
/// metrics computed as of a time before an item existed are all zero (no lead time, no age, no time in any
/// status). The page holding such an item is not loaded; pages before it are.
struct AsOfGuard {
    inner: Box<dyn Source>,
    as_of: DateTime<Utc>,
}

impl Source for AsOfGuard {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn streams(&self) -> Vec<String> {
        self.inner.streams()
    }
    fn former_streams(&self) -> Vec<String> {
        self.inner.former_streams()
    }

    fn size_hint(&self, cursors: &StreamCursors) -> Option<u64> {
        self.inner.size_hint(cursors)
    }

    fn next_page(&mut self, cursors: &StreamCursors) -> Result<Option<Page>, SourceError> {
        self.inner.next_page(cursors)
    }

    fn request_stats(&self) -> BTreeMap<String, RequestStats> {
        self.inner.request_stats()
    }
}

impl flowlake_connect::Normalizer for AsOfGuard {
    fn lookup_streams(&self) -> &[&str] {
        self.inner.lookup_streams()
    }

    fn normalize(&self, raw: &RawRecord) -> Result<Normalized, SourceError> {
        let normalized = flowlake_connect::Normalizer::normalize(&*self.inner, raw)?;
        if let Some(h) = normalized
            .histories
            .iter()
            .find(|h| h.item.created_at > self.as_of)
        {
            return Err(SourceError::Config(format!(
                "--as-of {} is before {} was created ({}): its metrics as of then would all be zero. \
                 Give an --as-of after the data, or none (now)",
                self.as_of.to_rfc3339_opts(SecondsFormat::Secs, true),
                h.item.key,
                h.item.created_at.to_rfc3339_opts(SecondsFormat::Secs, true),
            )));
        }
        Ok(normalized)
    }

    fn absorb(&mut self, raw: &RawRecord) -> Result<(), SourceError> {
        flowlake_connect::Normalizer::absorb(&mut *self.inner, raw)
    }

    fn known_statuses(&self) -> Vec<(String, StatusCategory)> {
        flowlake_connect::Normalizer::known_statuses(&*self.inner)
    }
}

fn sync(config: &Config, only: &[String], run: &RunOptions, quiet: bool) -> Result<()> {
    release_scratch_store(config)?;
    let outcomes = sync_all(config, only, run, None, quiet)?;
    report_outcomes(config, outcomes, quiet).map(|_| ())
}

/// The commands that write synthetic data, each into a store file of its own that it marks as such.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scratch {
    /// `flowlake demo`.
    Demo,
    /// `flowlake bench --db FILE`.
    Bench,
}

impl Scratch {
    /// The mark: a `sync_state` row whose source name no configured source can have (names hold no `:`),
    /// with what was generated as its value.
    fn key(self) -> StateKey {
        let source = match self {
            Self::Demo => "flowlake:demo",
            Self::Bench => "flowlake:bench",
        };
        StateKey::new(source, "store")
    }

    fn command(self) -> &'static str {
        match self {
            Self::Demo => "flowlake demo",
            Self::Bench => "flowlake bench",
        }
    }
}

/// What a store file holds, as far as replacing it goes.
#[derive(Debug)]
enum Holds {
    /// No file, an empty file, or a store with no data and no cursor.
    Nothing,
    /// Only what `demo` or `bench` generated into it, as its mark describes.
    Scratch(Scratch, String),
    /// Synced data.
    Data {
        items: i64,
        records: i64,
        sources: Vec<String>,
    },
    /// Something flowlake cannot read as one of its stores (another kind of file, another schema version, a
    /// store locked by another process), and why.
    Unknown(String),
}

impl std::fmt::Display for Holds {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Nothing => write!(f, "nothing"),
            Self::Scratch(s, what) => {
                write!(f, "the data of an earlier `{}` ({what})", s.command())
            }
            Self::Data {
                items,
                records,
                sources,
            } => {
                let sources: Vec<String> = sources.iter().map(|s| format!("`{s}`")).collect();
                write!(
                    f,
                    "synced data: {items} work items and {records} raw records of source{} {}",
                    if sources.len() == 1 { "" } else { "s" },
                    sources.join(", ")
                )
            }
            Self::Unknown(why) => write!(
                f,
                "something that is not a flowlake store it may replace ({why})"
            ),
        }
    }
}

/// Looks into the store file at `path` without changing it.
fn inspect_store(path: &Path) -> Holds {
    match std::fs::metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Holds::Nothing,
        Err(e) => return Holds::Unknown(e.to_string()),
        Ok(m) if !m.is_file() => return Holds::Unknown("it is not a regular file".into()),
        Ok(m) if m.len() == 0 => return Holds::Nothing,
        Ok(_) => {}
    }
    let read = || -> Result<Holds, flowlake_store::StoreError> {
        let mut store = flowlake_store::open(&StoreOptions::new(path, OpenMode::ReadOnly))?;
        for scratch in [Scratch::Demo, Scratch::Bench] {
            if let Some(what) = store.get(&scratch.key())? {
                return Ok(Holds::Scratch(scratch, what));
            }
        }
        let items = store.count("work_items")?;
        let records = store.count("raw_records")?;
        let mut sources = store.raw_sources()?;
        for (key, _) in store.list()? {
            if !sources.contains(&key.source) {
                sources.push(key.source);
            }
        }
        Ok(if items == 0 && records == 0 && sources.is_empty() {
            Holds::Nothing
        } else {
            Holds::Data {
                items,
                records,
                sources,
            }
        })
    };
    read().unwrap_or_else(|e| Holds::Unknown(e.to_string()))
}

/// Removes a store file and its write-ahead log (DuckDB keeps it beside the file as `FILE.wal`).
fn remove_store(path: &Path) -> Result<()> {
    let mut wal = path.as_os_str().to_owned();
    wal.push(".wal");
    for p in [path.to_path_buf(), std::path::PathBuf::from(wal)] {
        match std::fs::remove_file(&p) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e).with_context(|| format!("removing {}", p.display())),
        }
    }
    Ok(())
}

/// Makes `path` a new store for `scratch`'s synthetic data, marked with `what`: a new file, an empty one or
/// the store of an earlier run of the same command (replaced, so two runs never add up). Anything else is
/// refused, naming what the file holds and how to run the command anyway. The store is opened with
/// `options` (its path is `path`).
fn claim_scratch_store(
    path: &Path,
    scratch: Scratch,
    what: &str,
    options: StoreOptions,
) -> Result<Box<dyn Store + Send>> {
    match inspect_store(path) {
        Holds::Nothing => {}
        Holds::Scratch(s, _) if s == scratch => {}
        holds => {
            let how = match scratch {
                Scratch::Demo => {
                    "run the demo into a file of its own: `FLOWLAKE_STORE__PATH=demo.duckdb flowlake demo` \
                     (then `FLOWLAKE_STORE__PATH=demo.duckdb flowlake metrics`), or in an empty directory"
                }
                Scratch::Bench => "give --db a new file, or leave it out (a temporary file)",
            };
            bail!(
                "{} holds {holds}; `{}` writes only into a new file, an empty one or its own earlier store, \
                 and leaves this one alone: {how}",
                path.display(),
                scratch.command()
            );
        }
    }
    remove_store(path)?;
    let mut store = flowlake_store::open(&StoreOptions {
        path: path.to_path_buf(),
        mode: OpenMode::ReadWrite,
        ..options
    })?;
    store.put(&scratch.key(), what)?;
    Ok(store)
}

/// Before configured sources write into the store: a store holding only `demo`'s or `bench`'s synthetic
/// data is started afresh (it can be generated again any time), so synthetic items never mix with synced
/// ones.
fn release_scratch_store(config: &Config) -> Result<()> {
    let path = &config.store.path;
    if let Holds::Scratch(scratch, what) = inspect_store(path) {
        crate::term::notice(&format!(
            "{} held only the synthetic data of `{}` ({what}); starting it afresh for the configured sources",
            path.display(),
            scratch.command()
        ));
        remove_store(path)?;
    }
    Ok(())
}

/// Sets up `config` for a demo run: the demo's own source, and cursors in the store (never a configured
/// state back-end).
fn demo_config(config: &mut Config, source: SourceConfig) {
    config.sources = vec![source];
    config.state = StateConfig::default();
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
    demo_config(&mut config, SourceConfig::Generator(generator));
    if config.metrics.active_statuses.is_none() {
        config.metrics.active_statuses = Some(vec!["In Progress".into(), "Testing".into()]);
    }
    let what = format!("generator: {issues} issues, seed {seed}, history to {until}");
    let options = StoreOptions::new(&config.store.path, OpenMode::ReadWrite);
    drop(claim_scratch_store(&config.store.path, Scratch::Demo, &what, options).context("demo")?);
    if !quiet {
        crate::term::notice(&format!(
            "flowlake demo: {issues} synthetic issues (seed {seed}, history to {until}) into {}",
            config.store.path.display()
        ));
    }
    let run = RunOptions {
        full_refresh: true,
        ..RunOptions::default()
    };
    let outcomes = sync_all(&config, &[], &run, None, quiet)?;
    report_outcomes(&config, outcomes, quiet)?;
    if !quiet {
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
    demo_config(&mut config, SourceConfig::Github(demo_github_source()));
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
    let what = "github: the recorded organization acme";
    let options = StoreOptions::new(&config.store.path, OpenMode::ReadWrite);
    drop(claim_scratch_store(&config.store.path, Scratch::Demo, what, options).context("demo")?);
    if !quiet {
        crate::term::notice(&format!(
            "flowlake demo --source github: a recorded GitHub organization (acme: issues, pull requests, reviews, deployments) replayed offline into {}",
            config.store.path.display()
        ));
    }
    let run = RunOptions {
        full_refresh: true,
        tape: Tape::ReplayLines(DEMO_GITHUB_TAPE.to_string()),
        as_of: until
            .succ_opt()
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map(|t| t.and_utc()),
    };
    let outcomes = sync_all(&config, &[], &run, None, quiet)?;
    report_outcomes(&config, outcomes, quiet)?;
    if !quiet {
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
    let report = metrics_report(store.as_ref(), &options)?;
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
    let console = console(store.as_ref())?;
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
    // Each file is written aside and renamed once complete (see `SqlConsole::export`): a failure leaves the
    // files of earlier runs as they were and no partial one.
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    for (name, sql) in jobs {
        let path = out.join(format!("{name}.{ext}"));
        console.export(&sql, &path, ext)?;
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
    // Without --db, a file in a directory of this run's own, removed however the run ends.
    let tmp = match db {
        Some(_) => None,
        None => Some(BenchDir::new()?),
    };
    let path = match (db, &tmp) {
        (Some(db), _) => db.to_path_buf(),
        (None, Some(dir)) => dir.0.join("bench.duckdb"),
        (None, None) => bail!("bench: no file to load into"),
    };
    let what = format!("{issues} generated issues, rework rate {rework_rate}, {batch} per batch");
    let mut settings = Vec::new();
    for setting in duckdb_settings {
        let (name, value) = setting
            .split_once('=')
            .with_context(|| format!("--duckdb-setting {setting:?}: expected NAME=VALUE"))?;
        settings.push((name.trim().to_string(), value.trim().to_string()));
    }
    let options = StoreOptions {
        memory_limit: Some(memory_limit.to_string()),
        settings,
        ..StoreOptions::new(&path, OpenMode::ReadWrite)
    };
    let mut store = claim_scratch_store(&path, Scratch::Bench, &what, options)
        .with_context(|| format!("bench --db {}", path.display()))?;
    let options = bench::BenchOptions {
        issues,
        batch_issues: batch,
        generator,
        workers,
        loaders,
    };
    let report = bench::run(
        store.as_mut(),
        &options,
        &config.flow_settings(),
        &Bar::new(quiet),
    )?;
    drop(store);
    drop(tmp);
    render::bench_report(&report, format)
}

/// The temporary directory of a bench run without `--db`, removed when dropped.
struct BenchDir(std::path::PathBuf);

impl BenchDir {
    fn new() -> Result<Self> {
        let dir = std::env::temp_dir().join(format!("flowlake-bench-{}", std::process::id()));
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        Ok(Self(dir))
    }
}

impl Drop for BenchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
