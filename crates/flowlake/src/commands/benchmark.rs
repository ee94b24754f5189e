//! `flowlake bench`: the generator's issues synced into a throw-away store, timed stage by stage.

use std::path::Path;

use anyhow::{bail, Context, Result};
use flowlake_connect::generator::GeneratorConfig;
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
        BenchStore::Postgres => postgres_bench_store(config)?,
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

/// The schema `bench --store postgres` loads into, dropped and created afresh on every run.
const POSTGRES_BENCH_SCHEMA: &str = "flowlake_bench";

/// The configured PostgreSQL server's [`POSTGRES_BENCH_SCHEMA`], emptied: a bench never touches the
/// configured schema.
fn postgres_bench_store(config: &Config) -> Result<Box<dyn flowlake_store::Store + Send>> {
    let context = "bench --store postgres";
    if config.store.kind != flowlake_engine::config::StoreKind::Postgres {
        bail!("{context}: the config's [store] must be kind = \"postgres\", with its url");
    }
    let mut options = config.store.options(OpenMode::ReadWrite).context(context)?;
    if let Some(postgres) = options.postgres.as_mut() {
        postgres.schema = POSTGRES_BENCH_SCHEMA.into();
    }
    let store = flowlake_store::open(&options).context(context)?;
    if let Some(console) = store.console() {
        console
            .query(&format!("DROP SCHEMA {POSTGRES_BENCH_SCHEMA} CASCADE"))
            .context(context)?;
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
