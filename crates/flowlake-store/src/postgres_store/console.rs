//! The SQL console of a PostgreSQL store: `flowlake query` and `flowlake export`, in PostgreSQL's dialect,
//! with results as Arrow batches typed as DuckDB would type the same columns, so both render alike.

use std::path::Path;
use std::sync::Arc;

use arrow::array::{
    ArrayRef, BooleanBuilder, Date32Builder, Float64Builder, Int64Builder, ListBuilder,
    StringBuilder, TimestampMicrosecondBuilder,
};
use arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use arrow::record_batch::RecordBatch;
use chrono::{NaiveDate, NaiveDateTime};
use postgres::fallible_iterator::FallibleIterator;
use postgres::types::Type;

use super::PostgresStore;
use crate::console::{export_csv, QueryResult, SqlConsole};
use crate::error::StoreError;

/// Rows per Arrow batch.
const BATCH_ROWS: usize = 8192;

/// How a result column becomes an Arrow array; a type not listed is read as its text.
#[derive(Clone, Copy)]
enum Kind {
    Bool,
    Int,
    Float,
    Text,
    Timestamp,
    TimestampTz,
    Date,
    TextList,
}

impl Kind {
    fn of(ty: &Type) -> Option<Self> {
        Some(match *ty {
            Type::BOOL => Self::Bool,
            Type::INT2 | Type::INT4 | Type::INT8 => Self::Int,
            Type::FLOAT4 | Type::FLOAT8 => Self::Float,
            Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME => Self::Text,
            Type::TIMESTAMP => Self::Timestamp,
            Type::TIMESTAMPTZ => Self::TimestampTz,
            Type::DATE => Self::Date,
            Type::TEXT_ARRAY | Type::VARCHAR_ARRAY => Self::TextList,
            _ => return None,
        })
    }

    fn data_type(self) -> DataType {
        match self {
            Self::Bool => DataType::Boolean,
            Self::Int => DataType::Int64,
            Self::Float => DataType::Float64,
            Self::Text => DataType::Utf8,
            Self::Timestamp => DataType::Timestamp(TimeUnit::Microsecond, None),
            Self::TimestampTz => DataType::Timestamp(TimeUnit::Microsecond, Some("+00:00".into())),
            Self::Date => DataType::Date32,
            Self::TextList => DataType::List(Arc::new(Field::new("item", DataType::Utf8, true))),
        }
    }
}

/// One column being built.
enum Builder {
    Bool(BooleanBuilder),
    Int(Int64Builder),
    Float(Float64Builder),
    Text(StringBuilder),
    Timestamp(TimestampMicrosecondBuilder, bool),
    Date(Date32Builder),
    TextList(ListBuilder<StringBuilder>),
}

impl Builder {
    fn new(kind: Kind) -> Self {
        match kind {
            Kind::Bool => Self::Bool(BooleanBuilder::new()),
            Kind::Int => Self::Int(Int64Builder::new()),
            Kind::Float => Self::Float(Float64Builder::new()),
            Kind::Text => Self::Text(StringBuilder::new()),
            Kind::Timestamp => Self::Timestamp(TimestampMicrosecondBuilder::new(), false),
            Kind::TimestampTz => Self::Timestamp(TimestampMicrosecondBuilder::new(), true),
            Kind::Date => Self::Date(Date32Builder::new()),
            Kind::TextList => Self::TextList(ListBuilder::new(StringBuilder::new())),
        }
    }

    fn push(&mut self, row: &postgres::Row, i: usize, ty: &Type) -> Result<(), postgres::Error> {
        match self {
            Self::Bool(b) => b.append_option(row.try_get::<_, Option<bool>>(i)?),
            Self::Int(b) => b.append_option(match *ty {
                Type::INT2 => row.try_get::<_, Option<i16>>(i)?.map(i64::from),
                Type::INT4 => row.try_get::<_, Option<i32>>(i)?.map(i64::from),
                _ => row.try_get::<_, Option<i64>>(i)?,
            }),
            Self::Float(b) => b.append_option(match *ty {
                Type::FLOAT4 => row.try_get::<_, Option<f32>>(i)?.map(f64::from),
                _ => row.try_get::<_, Option<f64>>(i)?,
            }),
            Self::Text(b) => b.append_option(row.try_get::<_, Option<&str>>(i)?),
            Self::Timestamp(b, zoned) => b.append_option(match zoned {
                true => row
                    .try_get::<_, Option<chrono::DateTime<chrono::Utc>>>(i)?
                    .map(|t| t.timestamp_micros()),
                false => row
                    .try_get::<_, Option<NaiveDateTime>>(i)?
                    .map(|t| t.and_utc().timestamp_micros()),
            }),
            Self::Date(b) => b.append_option(row.try_get::<_, Option<NaiveDate>>(i)?.map(|d| {
                let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default();
                (d - epoch).num_days() as i32
            })),
            Self::TextList(b) => match row.try_get::<_, Option<Vec<Option<String>>>>(i)? {
                Some(items) => {
                    for item in items {
                        b.values().append_option(item);
                    }
                    b.append(true);
                }
                None => b.append(false),
            },
        }
        Ok(())
    }

    fn finish(&mut self) -> ArrayRef {
        match self {
            Self::Bool(b) => Arc::new(b.finish()),
            Self::Int(b) => Arc::new(b.finish()),
            Self::Float(b) => Arc::new(b.finish()),
            Self::Text(b) => Arc::new(b.finish()),
            Self::Timestamp(b, zoned) => {
                let a = b.finish();
                match zoned {
                    true => Arc::new(a.with_timezone("+00:00")),
                    false => Arc::new(a),
                }
            }
            Self::Date(b) => Arc::new(b.finish()),
            Self::TextList(b) => Arc::new(b.finish()),
        }
    }
}

/// Whether `sql` holds nothing but blanks and `;`.
fn is_blank(sql: &str) -> bool {
    sql.chars().all(|c| c.is_whitespace() || c == ';')
}

impl SqlConsole for PostgresStore {
    fn dialect(&self) -> &'static str {
        "postgresql"
    }

    /// Runs one statement and returns its rows. Columns of types without an Arrow counterpart here (numeric,
    /// json, intervals, …) are read as their text: the statement is run wrapped in a `SELECT` that casts them.
    fn query(&self, sql: &str) -> Result<QueryResult, StoreError> {
        const CONTEXT: &str = "query";
        let sql = sql.trim().trim_end_matches(';');
        if is_blank(sql) {
            return Err(StoreError::EmptyQuery {
                context: CONTEXT.into(),
            });
        }
        let mut client = self.client.borrow_mut();
        let statement = client.prepare(sql).map_err(StoreError::pg(CONTEXT))?;
        let columns: Vec<String> = statement
            .columns()
            .iter()
            .map(|c| c.name().to_string())
            .collect();
        if columns.is_empty() {
            client
                .execute(&statement, &[])
                .map_err(StoreError::pg(CONTEXT))?;
            return Ok(QueryResult {
                columns,
                batches: Vec::new(),
            });
        }
        let kinds: Vec<Option<Kind>> = statement
            .columns()
            .iter()
            .map(|c| Kind::of(c.type_()))
            .collect();
        let statement = if kinds.iter().all(Option::is_some) {
            statement
        } else {
            let aliases: Vec<String> = (0..columns.len()).map(|i| format!("c{i}")).collect();
            let select: Vec<String> = kinds
                .iter()
                .zip(&aliases)
                .map(|(k, a)| match k {
                    Some(_) => a.clone(),
                    None => format!("{a}::TEXT"),
                })
                .collect();
            let wrapped = format!(
                "SELECT {} FROM ({sql}) AS q({})",
                select.join(", "),
                aliases.join(", ")
            );
            client.prepare(&wrapped).map_err(StoreError::pg(CONTEXT))?
        };
        let kinds: Vec<Kind> = kinds.into_iter().map(|k| k.unwrap_or(Kind::Text)).collect();
        let types: Vec<Type> = statement
            .columns()
            .iter()
            .map(|c| c.type_().clone())
            .collect();
        let schema = Arc::new(Schema::new(
            columns
                .iter()
                .zip(&kinds)
                .map(|(name, k)| Field::new(name, k.data_type(), true))
                .collect::<Vec<_>>(),
        ));
        let mut builders: Vec<Builder> = kinds.iter().map(|k| Builder::new(*k)).collect();
        let mut batches = Vec::new();
        let mut in_batch = 0;
        let flush = |builders: &mut Vec<Builder>| {
            let arrays: Vec<ArrayRef> = builders.iter_mut().map(Builder::finish).collect();
            RecordBatch::try_new(Arc::clone(&schema), arrays).map_err(|e| StoreError::Batch {
                table: CONTEXT.into(),
                message: e.to_string(),
            })
        };
        let mut rows = client
            .query_raw(&statement, std::iter::empty::<&str>())
            .map_err(StoreError::pg(CONTEXT))?;
        while let Some(row) = rows.next().map_err(StoreError::pg(CONTEXT))? {
            for (i, (b, ty)) in builders.iter_mut().zip(&types).enumerate() {
                b.push(&row, i, ty).map_err(StoreError::pg(CONTEXT))?;
            }
            in_batch += 1;
            if in_batch == BATCH_ROWS {
                batches.push(flush(&mut builders)?);
                in_batch = 0;
            }
        }
        if in_batch > 0 || batches.is_empty() {
            batches.push(flush(&mut builders)?);
        }
        Ok(QueryResult { columns, batches })
    }

    /// Writes the rows of `sql` to `path` as CSV, all or nothing (see `console::export_csv`). Parquet needs the
    /// DuckDB store (or `flowlake store copy` to one): this build has no Parquet writer of its own.
    fn export(&self, sql: &str, path: &Path, format: &str) -> Result<(), StoreError> {
        export_csv(self, "PostgreSQL", sql, path, format)
    }
}
