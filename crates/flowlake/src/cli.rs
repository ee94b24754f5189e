//! Command-line arguments: every option explained in `--help`.

use std::path::PathBuf;

use chrono::{DateTime, NaiveDate, Utc};
use clap::{Args, Parser, Subcommand, ValueEnum};

/// flowlake: extract issues and their full changelogs, compute flow metrics (lead and cycle time, time in
/// status in calendar and business hours, throughput, WIP, aging), and load them into an analytical store.
#[derive(Debug, Parser)]
#[command(name = "flowlake", version, about, long_about = None, max_term_width = 110)]
pub struct Cli {
    /// Configuration file. Missing is fine for `demo`, `metrics`, `query` and `export` (defaults apply).
    #[arg(
        long,
        short = 'c',
        global = true,
        env = "FLOWLAKE_CONFIG",
        default_value = "flowlake.toml"
    )]
    pub config: PathBuf,
    /// Print only results and errors: no progress bars, no summaries.
    #[arg(long, short = 'q', global = true)]
    pub quiet: bool,
    /// Log format on stderr: `text` for people, `json` (one object per line) for scripts and log shippers.
    #[arg(long, global = true, env = "FLOWLAKE_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// More logging: -v for info, -vv for debug. RUST_LOG overrides.
    #[arg(long, short = 'v', global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Log formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// JSON lines.
    Json,
}

/// `flowlake store …`.
#[derive(Debug, Subcommand)]
pub enum StoreCommand {
    /// Report the schema version, the rows of every table and view, and whether the tables hold together
    /// (no key with two rows, no rows of an item that is gone). Exits with 1 when something is wrong.
    Check,
    /// Copy everything the configured store holds (raw landing, every table, the sync cursors) into
    /// another, empty store, without reading any API: how a team moves from the DuckDB file to PostgreSQL
    /// (or back). The configured store is only read.
    Copy {
        /// The target: a DuckDB file (`new.duckdb`), or another config file (`postgres.toml`) whose
        /// `[store]` section names it, with its password from that config's `password_file` or
        /// `FLOWLAKE_STORE__PASSWORD`.
        #[arg(long, value_name = "FILE")]
        to: PathBuf,
    },
}

/// The store `bench` loads into.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BenchStore {
    /// A throw-away DuckDB file (or `--db`).
    Duckdb,
    /// The PostgreSQL server of the config's `[store]` (kind = "postgres"), in a schema of its own,
    /// `flowlake_bench`, dropped and created afresh; the configured schema is not touched.
    Postgres,
    /// The ClickHouse server of the config's `[store]` (kind = "clickhouse"), in a database of its own,
    /// `flowlake_bench`, dropped and created afresh; the configured database is not touched.
    Clickhouse,
}

/// Output formats of results.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// Aligned tables for people.
    Table,
    /// JSON for programs.
    Json,
    /// CSV for spreadsheets.
    Csv,
}

/// Export file formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    /// Comma-separated values with a header row.
    Csv,
    /// Apache Parquet.
    Parquet,
}

/// What `demo` syncs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DemoSource {
    /// The synthetic tracker.
    Generator,
    /// A recorded GitHub organization.
    Github,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write a commented flowlake.toml: every key with its meaning and default.
    Init {
        /// Overwrite an existing file.
        #[arg(long)]
        force: bool,
    },
    /// Generate a realistic synthetic tracker (or replay a recorded GitHub organization), sync it into the
    /// store and print its metrics. Offline. Writes only into a new store, an empty one or an earlier
    /// demo's (replaced); a store with synced data is left alone.
    Demo {
        /// `generator`: the synthetic tracker; `github`: a GitHub organization (2 repositories, issues, pull
        /// requests with reviews, deployments) replayed from a tape inside the binary through the real
        /// GitHub connector.
        #[arg(long, value_enum, default_value_t = DemoSource::Generator)]
        source: DemoSource,
        /// Issues to generate (generator).
        #[arg(long, default_value_t = 2000)]
        issues: u64,
        /// Random seed; the same seed gives the same data (generator).
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// Last day of generated history (generator; default: today, UTC).
        #[arg(long)]
        until: Option<NaiveDate>,
    },
    /// Run the configured sources: extract, land raw, normalize, compute metrics, load. Incremental: each
    /// source resumes from its saved cursor.
    Sync {
        /// Only this source (by name); repeatable. Default: all.
        #[arg(long = "source", short = 's')]
        sources: Vec<String>,
        /// Ignore saved cursors and read everything again (rows are replaced, never duplicated).
        #[arg(long)]
        full_refresh: bool,
        /// Save every API exchange (method, URL, status, headers, body; secrets redacted) into DIR, one
        /// numbered JSON file each: for bug reports and for --replay.
        #[arg(long, value_name = "DIR", conflicts_with = "replay")]
        record: Option<PathBuf>,
        /// Answer API requests from exchanges saved with --record instead of the network.
        #[arg(long, value_name = "DIR")]
        replay: Option<PathBuf>,
        /// Compute time-dependent metrics (age, the current stay of unfinished items) as of this instant,
        /// RFC 3339 (`2026-11-01T00:00:00Z`), instead of now; two runs with the same value load identical
        /// rows.
        #[arg(long, value_name = "TIME")]
        as_of: Option<DateTime<Utc>>,
    },
    /// Load the history of the sources created between two dates, one window at a time (GitHub search
    /// returns at most 1,000 results per query, so each window is searched apart and halved when it holds
    /// more). Resumable: a second run of the same range continues where the first stopped. The incremental
    /// cursor of `sync` is not touched.
    Backfill {
        /// First day (creation date), e.g. 2024-01-01.
        #[arg(long)]
        from: NaiveDate,
        /// Last day, inclusive. Default: today (UTC).
        #[arg(long)]
        to: Option<NaiveDate>,
        /// Window length: days (`30d`, `30`) or weeks (`4w`), at most 100 years.
        #[arg(long, default_value = "30d", value_parser = parse_window)]
        window: u32,
        /// Only this source (by name); repeatable. Default: every source that supports backfill.
        #[arg(long = "source", short = 's')]
        sources: Vec<String>,
        /// Start over instead of resuming an interrupted backfill of the same range.
        #[arg(long)]
        restart: bool,
        /// As for `sync`.
        #[arg(long, value_name = "TIME")]
        as_of: Option<DateTime<Utc>>,
    },
    /// Recompute everything from the raw landing table with the current config; no API calls.
    Rebuild,
    /// Inspect the configured store, or move everything it holds into another store.
    Store {
        /// What to do.
        #[command(subcommand)]
        command: StoreCommand,
    },
    /// Print flow metrics: lead/cycle time percentiles, throughput, WIP, time per status, aging.
    Metrics(MetricsArgs),
    /// Run as a service: the config's [[jobs]] (syncs, backfills, rebuilds) on their schedules, and the
    /// HTTP server ([service] listen: /healthz, /readyz, /metrics for Prometheus, /api/v1/jobs,
    /// /api/v1/metrics) beside them. SIGTERM or SIGINT takes no new job and lets running ones commit
    /// their page and end within [service] grace_period_seconds; a second signal stops at once.
    Run {
        /// Run every job once (in config order, [service] max_concurrent_jobs at a time), then exit,
        /// non-zero when one failed: for cron or serverless triggers. No HTTP server.
        #[arg(long)]
        once: bool,
        /// Only this job (by name); repeatable. Default: every [[jobs]] block.
        #[arg(long = "job", short = 'j', value_name = "NAME")]
        jobs: Vec<String>,
        /// Do not start the HTTP server.
        #[arg(long)]
        no_server: bool,
    },
    /// Run from tracker-exporter 2.0.0's environment: read its EXPORTER_* variables (the process
    /// environment, --env-file, then `.env`) instead of flowlake.toml, and sync Yandex Tracker into the
    /// ClickHouse they name every EXPORTER_ETL_INTERVAL_MINUTES. flowlake's tables, not yet
    /// tracker-exporter's own three (docs/tracker-exporter.md). Variables flowlake does not honour are
    /// named in warnings; a bad value is an error naming its variable. FLOWLAKE_* overrides still apply.
    TrackerExporter {
        /// Read the variables from this file (before the process environment, which wins, as
        /// tracker-exporter's settings do).
        #[arg(long, short = 'e', value_name = "PATH")]
        env_file: Option<std::path::PathBuf>,
        /// Run once and exit (tracker-exporter's --run-once), non-zero when the run failed.
        #[arg(long)]
        run_once: bool,
        /// Print the flowlake config the variables translate to (no secrets in it) and exit: a
        /// starting flowlake.toml.
        #[arg(long)]
        print_config: bool,
    },
    /// Serve the HTTP API over the configured store without running jobs: /healthz, /readyz, /metrics,
    /// /api/v1/metrics (the `metrics` report as JSON, its options as query parameters). Until SIGTERM or
    /// SIGINT.
    Serve,
    /// Run SQL against the store and print the result.
    ///
    /// The store is opened read-only, but the SQL runs with your rights: DuckDB's `COPY … TO` writes any
    /// file you can write, `read_csv('…')` reads any file you can read, and `INSTALL`/`LOAD` fetch
    /// extensions from the network. Never pass it SQL you did not write; `--safe` refuses all of that.
    Query {
        /// The SQL, e.g. "select count(*) from work_items".
        sql: String,
        /// Output format.
        #[arg(long, short = 'f', value_enum, default_value_t = OutputFormat::Table)]
        format: OutputFormat,
        /// Let the SQL reach nothing but the store: no files read or written, no extensions, no
        /// environment variables, no settings changed.
        #[arg(long)]
        safe: bool,
    },
    /// Export tables (or a query) to CSV or Parquet files.
    Export {
        /// File format.
        #[arg(long, short = 'f', value_enum, default_value_t = ExportFormat::Csv)]
        format: ExportFormat,
        /// Directory to write into (created if missing).
        #[arg(long, short = 'o', default_value = "exports")]
        out: PathBuf,
        /// Tables to export; repeatable. Default: every data table.
        #[arg(long = "table", short = 't')]
        tables: Vec<String>,
        /// Export the result of this SQL instead, as `query.<format>`.
        #[arg(long, conflicts_with = "tables")]
        query: Option<String>,
    },
    /// Measure generation, metric computation and loading throughput, and peak memory.
    Bench {
        /// Issues to generate.
        #[arg(long, default_value_t = 100_000, value_parser = clap::value_parser!(u64).range(1..))]
        issues: u64,
        /// Issues per load batch.
        #[arg(long, default_value_t = 25_000, value_parser = clap::value_parser!(u64).range(1..))]
        batch: u64,
        /// Chance that review or testing sends work back; 0.65 gives about 20 status changes per issue.
        #[arg(long, default_value_t = 0.65)]
        rework_rate: f64,
        /// Store to load into.
        #[arg(long, value_enum, default_value_t = BenchStore::Duckdb)]
        store: BenchStore,
        /// DuckDB file to load into: a new file, an empty one or an earlier bench store (replaced); a store
        /// with synced data or another kind of file is refused. Default: a temporary file, removed afterwards.
        #[arg(long)]
        db: Option<PathBuf>,
        /// Cap on DuckDB's memory.
        #[arg(long, default_value = "512MB")]
        memory_limit: String,
        /// A DuckDB setting for the load, as NAME=VALUE (repeatable), e.g.
        /// `disabled_compression_methods=fsst` to trade file size for load speed.
        #[arg(long = "duckdb-setting", value_name = "NAME=VALUE")]
        duckdb_settings: Vec<String>,
        /// Threads generating and computing issues (1 to 1024). Default: one per core.
        #[arg(long, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=1024))]
        workers: Option<usize>,
        /// Threads loading the computed shares side by side, each on its own DuckDB connection. Two
        /// shorten 100k-issue runs by about a tenth but cost CPU and memory at 1M (docs/performance.md).
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=64))]
        loaders: u16,
        /// Output format.
        #[arg(long, short = 'f', value_enum, default_value_t = OutputFormat::Table)]
        format: OutputFormat,
    },
}

/// `metrics --days` when not given (also the service's `/api/v1/metrics`).
pub const DEFAULT_REPORT_DAYS: u32 = 90;

/// `metrics --top` when not given (also the service's `/api/v1/metrics`).
pub const DEFAULT_OLDEST_SHOWN: usize = 5;

/// Options of `flowlake metrics`.
#[derive(Debug, Args)]
pub struct MetricsArgs {
    /// First day of the range (default: `--days` before `--to`).
    #[arg(long)]
    pub from: Option<NaiveDate>,
    /// Last day of the range (default: today in the calendar's time zone). Days that have not ended yet
    /// are not sampled for WIP.
    #[arg(long)]
    pub to: Option<NaiveDate>,
    /// Length of the range in days when `--from` is not given: 1 to 36525 (100 years, the longest range).
    #[arg(long, default_value_t = DEFAULT_REPORT_DAYS)]
    pub days: u32,
    /// Only items of this source. Filters ignore case; one that matches nothing is an error listing the
    /// known values.
    #[arg(long)]
    pub source: Option<String>,
    /// Only items of this project (case ignored, as for every filter).
    #[arg(long)]
    pub project: Option<String>,
    /// Only items of this type (tracker type name or standard type: bug, feature, task, …; case ignored).
    #[arg(long = "type")]
    pub item_type: Option<String>,
    /// Only items assigned to this person (id or login; case ignored).
    #[arg(long)]
    pub assignee: Option<String>,
    /// Throughput per day or per week. A table prints at most 1000 rows (1000 days by day): for longer
    /// ranges use `--by week` or `--format csv`/`json`.
    #[arg(long, value_enum, default_value_t = BucketArg::Week)]
    pub by: BucketArg,
    /// How many of the oldest open items to list.
    #[arg(long, default_value_t = DEFAULT_OLDEST_SHOWN)]
    pub top: usize,
    /// Output format: JSON and CSV hold every figure of the table plus per-day WIP and cumulative flow
    /// (docs/metrics.md).
    #[arg(long, short = 'f', value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,
    /// Make the report as of this instant, RFC 3339 (`2026-07-01T00:00:00Z`), instead of now: the ages of
    /// open items run to it, days not ended by it are not sampled for WIP, and `--to` defaults to its day.
    /// Two runs with the same value print the same report, on any store.
    #[arg(long, value_name = "TIME")]
    pub as_of: Option<DateTime<Utc>>,
}

/// Throughput buckets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BucketArg {
    /// Per day.
    Day,
    /// Per ISO week.
    Week,
}

/// The longest backfill window: 100 years, far past any tracker's history, and small enough that date
/// arithmetic on it cannot overflow.
pub const MAX_WINDOW_DAYS: u32 = 36_525;

/// `30d`, `30` or `4w` → days, from 1 to [`MAX_WINDOW_DAYS`].
fn parse_window(s: &str) -> Result<u32, String> {
    let t = s.trim();
    let (n, unit) = match t.strip_suffix('w') {
        Some(n) => (n, 7),
        None => (t.strip_suffix('d').unwrap_or(t), 1),
    };
    let not_a_window = || {
        format!("`{s}` is not a window length: a positive number of days (`30d`) or weeks (`4w`)")
    };
    let v = n.trim().parse::<u32>().map_err(|_| not_a_window())?;
    if v == 0 {
        return Err(not_a_window());
    }
    match v.checked_mul(unit) {
        Some(days) if days <= MAX_WINDOW_DAYS => Ok(days),
        _ => Err(format!(
            "`{s}` is longer than the longest window, {MAX_WINDOW_DAYS} days (100 years)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_too_long_for_date_arithmetic_is_refused_not_overflowed() {
        assert_eq!(parse_window("30d"), Ok(30));
        assert_eq!(parse_window("4w"), Ok(28));
        assert_eq!(parse_window("36525"), Ok(MAX_WINDOW_DAYS));
        for bad in ["500000000w", "4294967295d", "5218w", "36526"] {
            let err = parse_window(bad).unwrap_err();
            assert!(err.contains("longest window"), "{bad}: {err}");
        }
        for bad in ["0", "0w", "-3d", "x", "99999999999999999999d"] {
            assert!(parse_window(bad)
                .unwrap_err()
                .contains("not a window length"));
        }
    }
}
