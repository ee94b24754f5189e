//! `flowlake bench`: the generator's issues synced into a throw-away store, timed stage by stage.

use std::path::Path;

use anyhow::{bail, Context, Result};
use flowlake_connect::generator::GeneratorConfig;
use flowlake_engine::config::StoreKind;
use flowlake_engine::{bench, Config};
use flowlake_store::{OpenMode, StoreOptions};

use crate::cli::{BenchStore, OutputFormat};
use crate::progress_bar::Bar;
use crate::render;

use super::demo::{claim_scratch_store, Scratch};

#[allow(clippy::too_many_arguments)]
pub(super) fn run_bench(
    config: &Config,
    (issues, batch, workers, loaders): (u64, u64, usize, usize),
    rework_rate: f64,
    (kind, db): (BenchStore, Option<&Path>),
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
    let mut store = match kind {
        BenchStore::Duckdb => claim_scratch_store(&path, Scratch::Bench, &what, options)
            .with_context(|| format!("bench --db {}", path.display()))?,
        BenchStore::Postgres => server_bench_store(config, StoreKind::Postgres)?,
        BenchStore::Clickhouse => server_bench_store(config, StoreKind::Clickhouse)?,
    };
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

/// The schema (PostgreSQL) or database (ClickHouse) `bench --store postgres|clickhouse` loads into, dropped
/// and created afresh on every run.
const BENCH_NAMESPACE: &str = "flowlake_bench";

/// The configured server's [`BENCH_NAMESPACE`], emptied: a bench never touches the configured schema or
/// database.
fn server_bench_store(
    config: &Config,
    kind: StoreKind,
) -> Result<Box<dyn flowlake_store::Store + Send>> {
    let (name, drop_sql) = match kind {
        StoreKind::Postgres => ("postgres", format!("DROP SCHEMA {BENCH_NAMESPACE} CASCADE")),
        StoreKind::Clickhouse => ("clickhouse", format!("DROP DATABASE {BENCH_NAMESPACE}")),
        StoreKind::Duckdb => bail!("bench: a DuckDB store is a file (--db)"),
    };
    let context = format!("bench --store {name}");
    if config.store.kind != kind {
        bail!("{context}: the config's [store] must be kind = \"{name}\", with its url");
    }
    let mut options = config
        .store
        .options(OpenMode::ReadWrite)
        .context(context.clone())?;
    if let Some(postgres) = options.postgres.as_mut() {
        postgres.schema = BENCH_NAMESPACE.into();
    }
    if let Some(clickhouse) = options.clickhouse.as_mut() {
        clickhouse.database = BENCH_NAMESPACE.into();
    }
    let store = flowlake_store::open(&options).context(context.clone())?;
    if let Some(console) = store.console() {
        console.query(&drop_sql).context(context.clone())?;
    }
    drop(store);
    flowlake_store::open(&options).context(context)
}

/// The temporary directory of a bench run without `--db`, removed when dropped.
pub(super) struct BenchDir(std::path::PathBuf);

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
