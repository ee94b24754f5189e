//! `flowlake demo`: a scratch store in a folder of its own (claimed, checked and released so no user file is
//! ever overwritten), filled from the synthetic tracker or a recorded GitHub exchange replayed offline.

use std::path::Path;

use anyhow::{bail, Context, Result};
use chrono::{NaiveDate, Utc};
use flowlake_connect::generator::GeneratorConfig;
use flowlake_connect::github::GithubConfig;
use flowlake_connect::http::Tape;
use flowlake_engine::config::StateConfig;
use flowlake_engine::{Config, SourceConfig};
use flowlake_store::{OpenMode, StateKey, Store, StoreOptions};

use crate::cli::{BucketArg, MetricsArgs, OutputFormat};

use super::report::metrics;
use super::sync::{report_outcomes, sync_all, RunOptions};

/// The commands that write synthetic data, each into a store file of its own that it marks as such.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Scratch {
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
pub(super) enum Holds {
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
pub(super) fn inspect_store(path: &Path) -> Holds {
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
pub(super) fn remove_store(path: &Path) -> Result<()> {
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
pub(super) fn claim_scratch_store(
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
pub(super) fn release_scratch_store(config: &Config) -> Result<()> {
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
pub(super) fn demo_config(config: &mut Config, source: SourceConfig) {
    config.sources = vec![source];
    config.state = StateConfig::default();
}

pub(super) fn demo(
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
    sync_and_show(
        &config,
        &run,
        (until, 90),
        "flowlake metrics --project CORE --by day · flowlake query \"select * from item_metrics limit 5\" · flowlake export --format parquet",
        quiet,
    )
}

/// The demo's sync into its scratch store, then the metrics of the `days` up to `until` and what to try
/// `next`.
fn sync_and_show(
    config: &Config,
    run: &RunOptions,
    (until, days): (NaiveDate, u32),
    next: &str,
    quiet: bool,
) -> Result<()> {
    let outcomes = sync_all(config, &[], run, None, quiet)?;
    report_outcomes(config, outcomes, quiet)?;
    if !quiet {
        outln!();
    }
    let args = MetricsArgs {
        from: None,
        to: Some(until),
        days,
        source: None,
        project: None,
        item_type: None,
        assignee: None,
        by: BucketArg::Week,
        top: 5,
        format: OutputFormat::Table,
        as_of: None,
    };
    metrics(config, &args)?;
    if !quiet {
        outln!("\nNext: {next}");
    }
    Ok(())
}

/// The GitHub organization `demo --source github` replays: the fake GitHub of the tests, recorded by
/// `tests/github.rs::the_embedded_demo_tape_matches_the_fake` (`FLOWLAKE_UPDATE_DEMO_TAPE=1` rewrites it).
pub(super) const DEMO_GITHUB_TAPE: &str = include_str!("../demo_github.jsonl");
/// Where the tape says it was recorded; never contacted.
pub(super) const DEMO_GITHUB_URL: &str = "http://github.demo.invalid";

/// The config block the GitHub demo tape was recorded with.
pub(super) fn demo_github_source() -> GithubConfig {
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

pub(super) fn demo_github(mut config: Config, quiet: bool) -> Result<()> {
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
        ..RunOptions::default()
    };
    sync_and_show(
        &config,
        &run,
        (until, 365),
        "flowlake query \"select repository, count(*), median(seconds_to_first_review)/3600 as h_to_review, median(seconds_to_merge)/3600 as h_to_merge from pull_requests group by 1\"",
        quiet,
    )
}
