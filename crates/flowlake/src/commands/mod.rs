//! One function per subcommand: load config, open the store, call the engine, render the result.

mod benchmark;
mod demo;
mod report;
mod service;
mod store;
mod sync;
mod tracker_exporter;

use std::path::Path;

use anyhow::{bail, Context, Result};
use chrono::Utc;
use flowlake_connect::github::Backfill;
use flowlake_connect::http::Tape;
use flowlake_engine::config::template;
use flowlake_engine::sync::{rebuild_with, RebuildOptions};
use flowlake_engine::{Config, SourceConfig};
use flowlake_store::{OpenMode, SqlConsole, Store};

use crate::cli::{Cli, Command, DemoSource, StoreCommand};
use crate::progress_bar::Bar;
use crate::render;

use benchmark::run_bench;
use demo::{demo, demo_github, release_scratch_store};
use report::{export, metrics};
use sync::{fail_after_pages, report_outcomes, sync, sync_all, RunOptions};

/// Runs the parsed command line.
pub fn run(cli: Cli) -> Result<()> {
    // `tracker-exporter` reads its `--env-file` before `.env`, so it loads both itself.
    if !matches!(cli.command, Command::TrackerExporter { .. }) {
        match dotenvy::dotenv() {
            Ok(_) => {}
            Err(e) if e.not_found() => {}
            Err(e) => bail!(".env: {e}"),
        }
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
                ..RunOptions::default()
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
                ..RunOptions::default()
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
        Command::Run {
            once,
            jobs,
            no_server,
        } => {
            let config = required_config(&config_path)?;
            service::run(config, &jobs, once, no_server)
        }
        Command::TrackerExporter {
            env_file,
            run_once,
            print_config,
        } => tracker_exporter::run(env_file.as_deref(), run_once, print_config),
        Command::Serve => {
            let config = Config::load(&config_path, false)?;
            service::serve(config)
        }
        Command::Metrics(args) => {
            let config = Config::load(&config_path, false)?;
            metrics(&config, &args)
        }
        Command::Store { command } => {
            let config = Config::load(&config_path, false)?;
            match command {
                StoreCommand::Check => store::check(&config),
                StoreCommand::Copy { to } => store::copy(&config, &to, quiet),
            }
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
            store,
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
                (store, db.as_deref()),
                (&memory_limit, &duckdb_settings),
                format,
                quiet,
            )
        }
    }
}

/// The config of a command that cannot run without one (`sync`, `backfill`, `rebuild`). A missing file
/// points to `flowlake init`, which writes one, and to `flowlake demo`, which needs none.
pub(super) fn required_config(path: &Path) -> Result<Config> {
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
pub(super) fn open(config: &Config, mode: OpenMode) -> Result<Box<dyn Store>> {
    let options = config.store.options(mode)?;
    let store: Box<dyn Store> = flowlake_store::open(&options)?;
    // Once per run: `sync` and `demo` open the store twice.
    static WARNED: std::sync::Once = std::sync::Once::new();
    if let Some(since) = store.unfinished_rebuild()? {
        WARNED.call_once(|| tracing::warn!(
            "store {} is mid-rebuild: the `flowlake rebuild` begun at {since} did not finish, so some items are computed with the old config and some with the new; run `flowlake rebuild` to finish it",
            store.describe()
        ));
    }
    Ok(store)
}

/// The SQL console of `store`, for `query` and `export`; a store without SQL says so.
pub(super) fn console(store: &dyn Store) -> Result<&dyn SqlConsole> {
    store.console().with_context(|| {
        format!(
            "store {} has no SQL console: `query` and `export` need one",
            store.describe()
        )
    })
}

pub(super) fn init(path: &Path, force: bool, quiet: bool) -> Result<()> {
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
