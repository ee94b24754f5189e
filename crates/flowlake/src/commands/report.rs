//! `flowlake metrics` and `flowlake export`: the report read back from the store, rendered or written out.

use std::path::Path;

use anyhow::{bail, Context, Result};
use chrono::{NaiveDate, Utc};
use flowlake_core::metrics::Bucket;
use flowlake_engine::report::{metrics_report, MetricsReport, ReportOptions};
use flowlake_engine::Config;
use flowlake_store::schema::DATA_TABLES;
use flowlake_store::{ItemFilter, OpenMode};

use crate::cli::{BucketArg, ExportFormat, MetricsArgs, OutputFormat};
use crate::render;

use super::{console, open};

pub(super) fn metrics(config: &Config, args: &MetricsArgs) -> Result<()> {
    let report = build_metrics_report(config, args)?;
    render::metrics_report(&report, args.format)
}

/// Why a metrics report could not be made: the arguments, or the store.
#[derive(Debug, thiserror::Error)]
pub(super) enum MetricsFailure {
    /// The arguments (a range, a filter that matches nothing): the caller can fix them.
    #[error(transparent)]
    Arguments(anyhow::Error),
    /// The store could not be opened or read.
    #[error(transparent)]
    Store(anyhow::Error),
}

/// The `flowlake metrics` report `args` ask for, read from the configured store.
pub(super) fn build_metrics_report(
    config: &Config,
    args: &MetricsArgs,
) -> Result<MetricsReport, MetricsFailure> {
    let options = report_options(config, args).map_err(MetricsFailure::Arguments)?;
    let store = open(config, OpenMode::ReadOnly).map_err(MetricsFailure::Store)?;
    metrics_report(store.as_ref(), &options).map_err(|e| match e {
        flowlake_engine::report::ReportError::Store(e) => MetricsFailure::Store(e.into()),
        other => MetricsFailure::Arguments(other.into()),
    })
}

/// What `args` ask of the report, checked before the store is opened.
fn report_options(config: &Config, args: &MetricsArgs) -> Result<ReportOptions> {
    use chrono::Days;
    use flowlake_engine::report::{check_range, ReportError, MAX_RANGE_DAYS};
    let tz = config.calendar.time_zone();
    let now = args.as_of.unwrap_or_else(Utc::now);
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
    Ok(ReportOptions {
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
    })
}

pub(super) fn export(
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
