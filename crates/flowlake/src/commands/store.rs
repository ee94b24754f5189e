//! `flowlake store check` and `flowlake store copy`.

use std::collections::HashMap;
use std::path::Path;

use anyhow::{bail, Context, Result};
use flowlake_engine::{Config, Progress};
use flowlake_store::{check_store, copy_store, OpenMode, StoreOptions};

use super::open;
use crate::progress_bar::Bar;

/// Prints what [`check_store`] finds; an error when the store does not hold together.
pub(super) fn check(config: &Config) -> Result<()> {
    let store = open(config, OpenMode::ReadOnly)?;
    let report = check_store(store.as_ref()).context("store check")?;
    println!(
        "store {} · schema version {}",
        store.describe(),
        report.schema_version
    );
    let mut table = comfy_table::Table::new();
    table
        .load_preset(comfy_table::presets::UTF8_FULL_CONDENSED)
        .set_header(["table", "rows"]);
    for (name, rows) in &report.counts {
        table.add_row([name.to_string(), rows.to_string()]);
    }
    println!("{table}");
    if report.problems.is_empty() {
        println!("consistent: every key has one row and every item-level row its work item");
        return Ok(());
    }
    for p in &report.problems {
        println!("problem: {p}");
    }
    bail!(
        "store {} is not consistent ({} problems above); `flowlake rebuild` rewrites every table from the raw landing",
        store.describe(),
        report.problems.len()
    )
}

/// The store `--to` names: a config file's `[store]`, or a DuckDB file.
fn target_options(to: &Path) -> Result<StoreOptions> {
    if to.extension().is_some_and(|e| e == "toml") {
        let target =
            Config::load(to, true).with_context(|| format!("store copy --to {}", to.display()))?;
        return Ok(target.store.options(OpenMode::ReadWrite)?);
    }
    Ok(StoreOptions::new(to, OpenMode::ReadWrite))
}

/// Copies the configured store into `to`, with a progress bar per table.
pub(super) fn copy(config: &Config, to: &Path, quiet: bool) -> Result<()> {
    let mut from = open(config, OpenMode::ReadOnly)?;
    let target = target_options(to)?;
    let mut into = flowlake_store::open(&target)
        .with_context(|| format!("store copy --to {}", to.display()))?;
    if into.describe() == from.describe() {
        bail!("store copy: --to names the configured store itself");
    }
    let totals: HashMap<&str, i64> = flowlake_store::schema::loaded_tables()
        .map(|t| Ok((t.name, from.count(t.name)?)))
        .collect::<Result<_, flowlake_store::StoreError>>()?;
    let bar = Bar::new(quiet);
    let mut current = String::new();
    let mut done = 0;
    let report = copy_store(from.as_mut(), into.as_mut(), |table, copied| {
        if table != current {
            bar.finish();
            bar.start(table, totals.get(table).map(|n| n.unsigned_abs()));
            current = table.to_string();
            done = 0;
        }
        bar.advance(copied - done);
        done = copied;
    })?;
    bar.finish();
    let rows: u64 = report.tables.iter().map(|(_, n)| n).sum();
    println!(
        "copied {rows} rows in {} tables and {} sync cursors from {} into {}",
        report.tables.iter().filter(|(_, n)| *n > 0).count(),
        report.cursors,
        from.describe(),
        into.describe()
    );
    Ok(())
}
