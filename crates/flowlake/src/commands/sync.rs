//! `flowlake sync`, `backfill` and `rebuild`'s shared run: each configured source synced into the store with
//! its cursors in the configured state back-end, the outcomes summed up, and the test hooks (`--as-of`'s guard,
//! `FLOWLAKE_FAIL_AFTER_PAGES`) that stop a run where a test needs it.

use anyhow::{bail, Context, Result};
use chrono::{DateTime, SecondsFormat, Utc};
use flowlake_connect::github::Backfill;
use flowlake_connect::http::Tape;
use flowlake_connect::{Checked, Source, SourceError};
use flowlake_engine::compute::FlowSettings;
use flowlake_engine::sync::{
    build_backfill_source, build_source, sync_source, StateTarget, StopSignal, SyncOptions,
    SyncReport,
};
use flowlake_engine::{Config, SourceConfig};
use flowlake_store::{OpenMode, StateBackend, Store};

use crate::progress_bar::Bar;
use crate::render;

use super::demo::release_scratch_store;
use super::open;

/// One source's run: its name, and its report or why it failed.
pub(super) type Outcome = (String, Result<SyncReport>);

/// How `sync` (and `demo`) run the sources.
#[derive(Debug, Default)]
pub(super) struct RunOptions {
    pub(super) full_refresh: bool,
    pub(super) tape: Tape,
    pub(super) as_of: Option<DateTime<Utc>>,
    /// Asked to stop after the current page (`flowlake run` on SIGTERM).
    pub(super) stop: StopSignal,
}

/// Runs the sources (`only` those, when given): incrementally, or over `backfill`'s range. A source that
/// fails does not stop the others: every selected source runs, and each one's outcome is returned (see
/// [`report_outcomes`]). Only what no source can run without (the store, the state back-end) fails it all.
pub(super) fn sync_all(
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
        // Every line logged while this source syncs names it (with the job and run of `flowlake run`).
        let span = tracing::info_span!("source", source = %cfg.name());
        let _entered = span.enter();
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
                tracing::info!(pages = report.pages, records = report.records, "synced");
            }
            Err(e) if selected.len() > 1 => {
                tracing::error!(error = %format!("{e:#}"), "sync failed; going on with the other sources");
            }
            Err(_) => {}
        }
        outcomes.push((cfg.name().to_string(), result));
    }
    Ok(outcomes)
}

/// Syncs one source, with cursors in `external` when set, else in the store.
#[allow(clippy::too_many_arguments)]
pub(super) fn sync_one(
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
        Some(as_of) => Box::new(as_of_guard(source, as_of)),
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
        stop: run.stop.clone(),
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
pub(super) fn report_outcomes(
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
pub(super) fn fail_after_pages() -> Result<Option<u64>> {
    match std::env::var("FLOWLAKE_FAIL_AFTER_PAGES") {
        Ok(v) => Ok(Some(v.parse().with_context(|| {
            format!("FLOWLAKE_FAIL_AFTER_PAGES: `{v}` is not a number")
        })?)),
        Err(_) => Ok(None),
    }
}

/// `source` run with `--as-of`: it refuses an item created after that instant instead of loading it, since
/// metrics computed as of a time before an item existed are all zero (no lead time, no age, no time in any
/// status). The page holding such an item is not loaded; pages before it are.
fn as_of_guard(source: Box<dyn Source>, as_of: DateTime<Utc>) -> Checked {
    Checked::new(source, move |inner, raw| {
        let normalized = inner.normalize(raw)?;
        if let Some(h) = normalized
            .histories
            .iter()
            .find(|h| h.item.created_at > as_of)
        {
            return Err(SourceError::Config(format!(
                "--as-of {} is before {} was created ({}): its metrics as of then would all be zero. \
                 Give an --as-of after the data, or none (now)",
                as_of.to_rfc3339_opts(SecondsFormat::Secs, true),
                h.item.key,
                h.item.created_at.to_rfc3339_opts(SecondsFormat::Secs, true),
            )));
        }
        Ok(normalized)
    })
}

pub(super) fn sync(config: &Config, only: &[String], run: &RunOptions, quiet: bool) -> Result<()> {
    release_scratch_store(config)?;
    let outcomes = sync_all(config, only, run, None, quiet)?;
    report_outcomes(config, outcomes, quiet).map(|_| ())
}
