//! The SQL console of a DuckDB store: `flowlake query` and `flowlake export`.

use std::path::Path;
use std::sync::Arc;

use arrow::array::AsArray;
use arrow::datatypes::{i256, DataType, Decimal128Type, Decimal256Type, FieldRef, Schema};
use arrow::record_batch::RecordBatch;
use duckdb::core::LogicalTypeId;

use super::DuckDbStore;
use crate::console::{write_atomically, QueryResult, SqlConsole};
use crate::error::StoreError;

/// `batch` with its `columns` (index, unsigned) of DuckDB's HUGEINT and UHUGEINT as `Decimal256(39, 0)`.
/// DuckDB hands both to Arrow as `Decimal128(38, 0)`, which holds neither: a HUGEINT has up to 39 digits (the
/// formatter drops the last one), and a UHUGEINT's bits read as a signed number (its maximum shows as -1).
/// `sum()` of integers is a HUGEINT, so this is common. Nested ones (a list of HUGEINT) are left as they are.
fn widen_128(batch: RecordBatch, columns: &[(usize, bool)]) -> Result<RecordBatch, StoreError> {
    if columns.is_empty() {
        return Ok(batch);
    }
    let failed = |e: arrow::error::ArrowError| StoreError::Batch {
        table: "query".into(),
        message: e.to_string(),
    };
    let schema = batch.schema();
    let mut fields: Vec<FieldRef> = schema.fields().iter().cloned().collect();
    let mut arrays = batch.columns().to_vec();
    for &(i, unsigned) in columns {
        let (Some(field), Some(array)) = (fields.get_mut(i), arrays.get_mut(i)) else {
            continue;
        };
        let Some(narrow) = array.as_primitive_opt::<Decimal128Type>() else {
            continue;
        };
        let exact = narrow
            .unary::<_, Decimal256Type>(|v| match unsigned {
                true => i256::from_parts(v as u128, 0),
                false => i256::from_i128(v),
            })
            .with_precision_and_scale(39, 0)
            .map_err(failed)?;
        *field = Arc::new(
            field
                .as_ref()
                .clone()
                .with_data_type(DataType::Decimal256(39, 0)),
        );
        *array = Arc::new(exact);
    }
    RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays).map_err(failed)
}

/// Whether `sql` holds nothing but blanks and `;`.
fn is_blank(sql: &str) -> bool {
    sql.chars().all(|c| c.is_whitespace() || c == ';')
}

/// The error of preparing `sql`: DuckDB gives no message when the text holds no statement (only comments).
fn prepare_error(context: &'static str) -> impl FnOnce(duckdb::Error) -> StoreError {
    move |e| match e {
        duckdb::Error::DuckDBFailure(_, None) => StoreError::EmptyQuery {
            context: context.into(),
        },
        e => StoreError::sql(context)(e),
    }
}

impl DuckDbStore {
    /// DuckDB's `COPY (sql) TO 'partial'` in `format`.
    fn copy_to(
        &self,
        sql: &str,
        partial: &Path,
        format: &str,
        context: &str,
    ) -> Result<(), StoreError> {
        let target = partial.to_string_lossy().replace('\'', "''");
        let options = match format {
            "parquet" => "FORMAT PARQUET",
            _ => "FORMAT CSV, HEADER",
        };
        self.conn
            .execute_batch(&format!("COPY ({sql}) TO '{target}' ({options})"))
            .map_err(StoreError::sql(context))
    }
}

impl SqlConsole for DuckDbStore {
    fn dialect(&self) -> &'static str {
        "duckdb"
    }

    /// Runs SQL and returns its rows. Several statements separated by `;` run in order; the rows are the
    /// last one's. What the SQL may do is the open mode's: on a store opened [`OpenMode::ReadOnly`] it can
    /// still read and write files and install extensions; [`OpenMode::Sandboxed`] refuses all of that.
    fn query(&self, sql: &str) -> Result<QueryResult, StoreError> {
        const CONTEXT: &str = "query";
        if is_blank(sql) {
            return Err(StoreError::EmptyQuery {
                context: CONTEXT.into(),
            });
        }
        let mut stmt = self.conn.prepare(sql).map_err(prepare_error(CONTEXT))?;
        stmt.execute([]).map_err(StoreError::sql(CONTEXT))?;
        // `step` rather than the `Arrow` iterator, which panics when a chunk cannot be fetched.
        let wide: Vec<(usize, bool)> = (0..stmt.column_count())
            .filter_map(|i| match stmt.column_logical_type(i).id() {
                LogicalTypeId::Hugeint => Some((i, false)),
                LogicalTypeId::UHugeint => Some((i, true)),
                _ => None,
            })
            .collect();
        let mut batches = Vec::new();
        while let Some(rows) = stmt.step().map_err(StoreError::sql(CONTEXT))? {
            batches.push(widen_128(RecordBatch::from(&rows), &wide)?);
        }
        let columns = stmt.column_names();
        Ok(QueryResult { columns, batches })
    }

    /// Writes the result of `sql` to `path` as `csv` or `parquet`, all or nothing (see
    /// [`write_atomically`]): DuckDB's `COPY … TO` writes the partial file.
    fn export(&self, sql: &str, path: &Path, format: &str) -> Result<(), StoreError> {
        let context = format!("exporting to {}", path.display());
        if is_blank(sql) {
            return Err(StoreError::EmptyQuery { context });
        }
        write_atomically(path, |partial| self.copy_to(sql, partial, format, &context))
    }
}
