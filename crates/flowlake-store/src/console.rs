//! The SQL console of a store that has one (`flowlake query`, `flowlake export`), and the result of a query as
//! Arrow batches with their text rendering, which knows nothing of the store that produced them.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{Array, ArrayRef};
use arrow::compute::cast;
use arrow::datatypes::{DataType, FieldRef};
use arrow::record_batch::RecordBatch;
use arrow::util::display::{ArrayFormatter, FormatOptions};

use crate::error::StoreError;

/// Ad-hoc SQL against a store, in the store's own dialect: what `flowlake query` and `flowlake export` run.
/// What the SQL may reach is the store's to decide at open (DuckDB's `OpenMode::Sandboxed`; a read-only
/// role for PostgreSQL).
pub trait SqlConsole {
    /// The dialect, for messages (`duckdb`, `postgresql`, `clickhouse`).
    fn dialect(&self) -> &'static str;

    /// Runs `sql` and returns the last statement's rows as Arrow batches.
    fn query(&self, sql: &str) -> Result<QueryResult, StoreError>;

    /// Writes the rows of `sql` to `path` as `format` (`csv` or `parquet`), all or nothing: `path` is
    /// either the complete new file or what it was before. DuckDB writes with `COPY … TO`; a server store
    /// would stream the query's Arrow batches into a local file.
    fn export(&self, sql: &str, path: &Path, format: &str) -> Result<(), StoreError>;
}

/// The result of an ad-hoc query, as Arrow batches.
#[derive(Debug)]
pub struct QueryResult {
    /// Column names.
    pub columns: Vec<String>,
    /// The rows.
    pub batches: Vec<RecordBatch>,
}

impl QueryResult {
    /// Rows as display strings (`None` for NULL; NULL inside a list or struct reads `NULL`), for tables and
    /// CSV. `TIMESTAMPTZ` values are shown in UTC (`2026-05-01T12:00:00Z`): DuckDB labels them with
    /// its session time zone by name (`Etc/UTC`, `Europe/Berlin`), which Arrow's formatter cannot read
    /// without a time-zone database; the instant is the same.
    pub fn rows_as_text(&self) -> Result<Vec<Vec<Option<String>>>, StoreError> {
        self.rows_formatted(&FormatOptions::default().with_null("NULL"))
    }

    /// Rows as DuckDB's `COPY … TO (FORMAT CSV)` writes their values: timestamps `2026-05-01 09:00:00`
    /// (fractions only when there are some; zoned ones in UTC with `+00`), for a store that writes CSV itself.
    pub(crate) fn rows_as_csv_text(&self) -> Result<Vec<Vec<Option<String>>>, StoreError> {
        self.rows_formatted(
            &FormatOptions::default()
                .with_null("NULL")
                .with_timestamp_format(Some("%Y-%m-%d %H:%M:%S%.f"))
                .with_timestamp_tz_format(Some("%Y-%m-%d %H:%M:%S%.f+00")),
        )
    }

    fn rows_formatted(
        &self,
        opts: &FormatOptions<'_>,
    ) -> Result<Vec<Vec<Option<String>>>, StoreError> {
        let failed = |e: arrow::error::ArrowError| StoreError::Batch {
            table: "query".into(),
            message: e.to_string(),
        };
        let mut out = Vec::new();
        for b in &self.batches {
            let columns = b
                .columns()
                .iter()
                .map(displayable)
                .collect::<Result<Vec<_>, _>>()
                .map_err(failed)?;
            let fmts = columns
                .iter()
                .map(|c| ArrayFormatter::try_new(c.as_ref(), opts))
                .collect::<Result<Vec<_>, _>>()
                .map_err(failed)?;
            let nulls: Vec<_> = columns.iter().map(|c| c.logical_nulls()).collect();
            for r in 0..b.num_rows() {
                out.push(
                    fmts.iter()
                        .zip(&nulls)
                        .map(|(f, n)| match n {
                            Some(n) if n.is_null(r) => None,
                            _ => Some(f.value(r).to_string()),
                        })
                        .collect(),
                );
            }
        }
        Ok(out)
    }
}

/// `array` with every time zone in its type (nested ones too) replaced by UTC as an offset, which Arrow's
/// formatter reads without a time-zone database; the values (instants in UTC) do not change.
fn displayable(array: &ArrayRef) -> Result<ArrayRef, arrow::error::ArrowError> {
    match utc_type(array.data_type()) {
        Some(ty) => cast(array.as_ref(), &ty),
        None => Ok(Arc::clone(array)),
    }
}

/// The offset every zoned timestamp is shown in.
const UTC_OFFSET: &str = "+00:00";

/// `ty` with each zoned timestamp in UTC, or `None` when nothing in it needs to change.
fn utc_type(ty: &DataType) -> Option<DataType> {
    match ty {
        DataType::Timestamp(unit, Some(tz)) if tz.as_ref() != UTC_OFFSET => {
            Some(DataType::Timestamp(*unit, Some(UTC_OFFSET.into())))
        }
        DataType::List(f) => utc_field(f).map(DataType::List),
        DataType::LargeList(f) => utc_field(f).map(DataType::LargeList),
        DataType::FixedSizeList(f, n) => utc_field(f).map(|f| DataType::FixedSizeList(f, *n)),
        DataType::Map(f, sorted) => utc_field(f).map(|f| DataType::Map(f, *sorted)),
        DataType::Dictionary(k, v) => {
            utc_type(v).map(|v| DataType::Dictionary(k.clone(), Box::new(v)))
        }
        DataType::Struct(fields) => {
            let changed: Vec<Option<FieldRef>> = fields.iter().map(utc_field).collect();
            changed.iter().any(Option::is_some).then(|| {
                DataType::Struct(
                    fields
                        .iter()
                        .zip(changed)
                        .map(|(f, c)| c.unwrap_or_else(|| Arc::clone(f)))
                        .collect(),
                )
            })
        }
        _ => None,
    }
}

fn utc_field(f: &FieldRef) -> Option<FieldRef> {
    utc_type(f.data_type()).map(|ty| Arc::new(f.as_ref().clone().with_data_type(ty)))
}

/// The name of `path`'s partial file: hidden, beside it (so the rename stays on one file system), and
/// unique to this process.
fn partial_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map_or_else(|| "export".into(), |n| n.to_string_lossy().into_owned());
    path.with_file_name(format!(".{name}.partial-{}", std::process::id()))
}

/// Writes `path` all or nothing: `write` fills a partial file beside it (`.NAME.partial-PID`), which is
/// flushed to disk and renamed over `path` only once complete, and removed when anything fails (a query
/// error midway, a full disk), so `path` is either the new file or what it was before.
pub(crate) fn write_atomically(
    path: &Path,
    write: impl FnOnce(&Path) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    let partial = partial_path(path);
    let io = |what: &str, e: std::io::Error| StoreError::Write {
        path: partial.clone(),
        message: format!("{what}: {e}"),
    };
    let written = write(&partial).and_then(|()| {
        std::fs::File::open(&partial)
            .and_then(|f| f.sync_all())
            .map_err(|e| io("flushing it to disk", e))?;
        std::fs::rename(&partial, path)
            .map_err(|e| io(&format!("renaming it to {}", path.display()), e))
    });
    if written.is_err() {
        if let Err(e) = std::fs::remove_file(&partial) {
            if e.kind() != std::io::ErrorKind::NotFound {
                tracing::warn!(file = %partial.display(), error = %e, "could not remove a partial export");
            }
        }
    }
    written
}

/// `rows` as CSV with a header: fields quoted when they hold a comma, quote or line break, NULL empty.
pub(crate) fn write_csv(
    out: &mut impl std::io::Write,
    columns: &[String],
    rows: &[Vec<Option<String>>],
) -> std::io::Result<()> {
    fn field(v: &str) -> std::borrow::Cow<'_, str> {
        if v.contains([',', '"', '\n', '\r']) {
            format!("\"{}\"", v.replace('"', "\"\"")).into()
        } else {
            v.into()
        }
    }
    let header: Vec<_> = columns.iter().map(|c| field(c)).collect();
    writeln!(out, "{}", header.join(","))?;
    for row in rows {
        let fields: Vec<_> = row
            .iter()
            .map(|v| field(v.as_deref().unwrap_or("")))
            .collect();
        writeln!(out, "{}", fields.join(","))?;
    }
    Ok(())
}

/// `export` of a store that writes files itself (PostgreSQL, ClickHouse): the rows of `sql` as CSV, written
/// all or nothing, with values as DuckDB's `COPY … TO` writes them. `store` names the store in the refusal of
/// another format: Parquet needs the DuckDB store.
pub(crate) fn export_csv(
    console: &dyn SqlConsole,
    store: &str,
    sql: &str,
    path: &Path,
    format: &str,
) -> Result<(), StoreError> {
    if format != "csv" {
        return Err(StoreError::Sql {
            context: format!("exporting to {}", path.display()),
            message: format!(
                "the {store} store exports csv only, not {format}; export from a DuckDB store for Parquet"
            ),
        });
    }
    let result = console.query(sql)?;
    let rows = result.rows_as_csv_text()?;
    write_atomically(path, |partial| {
        let io = |e: std::io::Error| StoreError::Write {
            path: partial.to_path_buf(),
            message: e.to_string(),
        };
        let mut file = std::io::BufWriter::new(std::fs::File::create(partial).map_err(io)?);
        write_csv(&mut file, &result.columns, &rows).map_err(io)?;
        std::io::Write::flush(&mut file).map_err(io)
    })
}
