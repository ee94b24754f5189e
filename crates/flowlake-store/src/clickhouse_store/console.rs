//! The SQL console of a ClickHouse store: `flowlake query` and `flowlake export`, in ClickHouse's dialect,
//! with results as Arrow batches typed as DuckDB would type the same columns (from the column types of
//! `FORMAT JSONCompact`'s `meta`), so both render alike: integers of any width as `Int64`, `DateTime64` as a
//! timestamp without zone (what DuckDB's `TIMESTAMP` columns hold: UTC), `Array(String)` as a list of text.

use std::path::Path;
use std::sync::Arc;

use arrow::array::{
    ArrayRef, BooleanBuilder, Date32Builder, Float64Builder, Int64Builder, ListBuilder,
    StringBuilder, TimestampMicrosecondBuilder,
};
use arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use arrow::record_batch::RecordBatch;
use chrono::NaiveDate;
use serde_json::Value;

use super::{json_i64, json_timestamp, ClickHouseStore};
use crate::console::{export_csv, QueryResult, SqlConsole};
use crate::error::StoreError;

/// How a result column becomes an Arrow array; a type not listed is read as its text.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    Bool,
    Int,
    Float,
    Text,
    Timestamp,
    Date,
    TextList,
}

/// `ty` without `Nullable(…)` and `LowCardinality(…)` around it.
fn bare(ty: &str) -> &str {
    let mut ty = ty.trim();
    loop {
        let inner = ["Nullable(", "LowCardinality("]
            .iter()
            .find_map(|w| ty.strip_prefix(w).and_then(|t| t.strip_suffix(')')));
        match inner {
            Some(t) => ty = t.trim(),
            None => return ty,
        }
    }
}

impl Kind {
    fn of(ty: &str) -> Self {
        let ty = bare(ty);
        let head = ty.split('(').next().unwrap_or(ty);
        match head {
            "Bool" => Self::Bool,
            "Int8" | "Int16" | "Int32" | "Int64" | "UInt8" | "UInt16" | "UInt32" | "UInt64" => {
                Self::Int
            }
            "Float32" | "Float64" => Self::Float,
            "String" | "FixedString" | "UUID" | "Enum8" | "Enum16" | "IPv4" | "IPv6" => Self::Text,
            "DateTime" | "DateTime64" => Self::Timestamp,
            "Date" | "Date32" => Self::Date,
            "Array" => match Kind::of(
                ty.strip_prefix("Array(")
                    .and_then(|t| t.strip_suffix(')'))
                    .unwrap_or(""),
            ) {
                Self::Text => Self::TextList,
                _ => Self::Text,
            },
            _ => Self::Text,
        }
    }

    fn data_type(self) -> DataType {
        match self {
            Self::Bool => DataType::Boolean,
            Self::Int => DataType::Int64,
            Self::Float => DataType::Float64,
            Self::Text => DataType::Utf8,
            Self::Timestamp => DataType::Timestamp(TimeUnit::Microsecond, None),
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
    Timestamp(TimestampMicrosecondBuilder),
    Date(Date32Builder),
    TextList(ListBuilder<StringBuilder>),
}

/// A JSON value as text: a string as it is, anything else as JSON.
fn text(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

impl Builder {
    fn new(kind: Kind) -> Self {
        match kind {
            Kind::Bool => Self::Bool(BooleanBuilder::new()),
            Kind::Int => Self::Int(Int64Builder::new()),
            Kind::Float => Self::Float(Float64Builder::new()),
            Kind::Text => Self::Text(StringBuilder::new()),
            Kind::Timestamp => Self::Timestamp(TimestampMicrosecondBuilder::new()),
            Kind::Date => Self::Date(Date32Builder::new()),
            Kind::TextList => Self::TextList(ListBuilder::new(StringBuilder::new())),
        }
    }

    fn push(&mut self, v: &Value) {
        match self {
            Self::Bool(b) => b.append_option(match v {
                Value::Bool(x) => Some(*x),
                Value::Number(n) => n.as_i64().map(|n| n != 0),
                _ => None,
            }),
            Self::Int(b) => b.append_option(json_i64(v)),
            Self::Float(b) => b.append_option(match v {
                Value::Number(n) => n.as_f64(),
                Value::String(s) => match s.as_str() {
                    "inf" | "+inf" => Some(f64::INFINITY),
                    "-inf" => Some(f64::NEG_INFINITY),
                    "nan" | "-nan" => Some(f64::NAN),
                    s => s.parse().ok(),
                },
                _ => None,
            }),
            Self::Text(b) => b.append_option(text(v)),
            Self::Timestamp(b) => {
                b.append_option(json_timestamp(v).map(|t| t.and_utc().timestamp_micros()));
            }
            Self::Date(b) => b.append_option(v.as_str().and_then(|s| {
                let d = NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()?;
                let epoch = NaiveDate::from_ymd_opt(1970, 1, 1)?;
                i32::try_from((d - epoch).num_days()).ok()
            })),
            Self::TextList(b) => match v {
                Value::Array(items) => {
                    for item in items {
                        b.values().append_option(text(item));
                    }
                    b.append(true);
                }
                _ => b.append(false),
            },
        }
    }

    fn finish(&mut self) -> ArrayRef {
        match self {
            Self::Bool(b) => Arc::new(b.finish()),
            Self::Int(b) => Arc::new(b.finish()),
            Self::Float(b) => Arc::new(b.finish()),
            Self::Text(b) => Arc::new(b.finish()),
            Self::Timestamp(b) => Arc::new(b.finish()),
            Self::Date(b) => Arc::new(b.finish()),
            Self::TextList(b) => Arc::new(b.finish()),
        }
    }
}

/// Whether `sql` holds nothing but blanks and `;`.
fn is_blank(sql: &str) -> bool {
    sql.chars().all(|c| c.is_whitespace() || c == ';')
}

/// Rows per Arrow batch.
const BATCH_ROWS: usize = 8192;

impl SqlConsole for ClickHouseStore {
    fn dialect(&self) -> &'static str {
        "clickhouse"
    }

    /// Runs one statement and returns its rows (none for a statement without a result).
    fn query(&self, sql: &str) -> Result<QueryResult, StoreError> {
        const CONTEXT: &str = "query";
        let sql = sql.trim().trim_end_matches(';').trim_end();
        if is_blank(sql) {
            return Err(StoreError::EmptyQuery {
                context: CONTEXT.into(),
            });
        }
        let body = self.http.send(sql, None, &json_settings(), true, CONTEXT)?;
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(QueryResult {
                columns: Vec::new(),
                batches: Vec::new(),
            });
        }
        let (columns, types, rows) = parse_json_compact(&body, CONTEXT)?;
        let kinds: Vec<Kind> = types.iter().map(|t| Kind::of(t)).collect();
        let schema = Arc::new(Schema::new(
            columns
                .iter()
                .zip(&kinds)
                .map(|(name, k)| Field::new(name, k.data_type(), true))
                .collect::<Vec<_>>(),
        ));
        let mut builders: Vec<Builder> = kinds.iter().map(|k| Builder::new(*k)).collect();
        let mut batches = Vec::new();
        let flush = |builders: &mut Vec<Builder>| {
            let arrays: Vec<ArrayRef> = builders.iter_mut().map(Builder::finish).collect();
            RecordBatch::try_new(Arc::clone(&schema), arrays).map_err(|e| StoreError::Batch {
                table: CONTEXT.into(),
                message: e.to_string(),
            })
        };
        let mut in_batch = 0;
        for row in &rows {
            for (i, b) in builders.iter_mut().enumerate() {
                b.push(row.get(i).unwrap_or(&Value::Null));
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
    /// DuckDB store (or `flowlake store copy` to one).
    fn export(&self, sql: &str, path: &Path, format: &str) -> Result<(), StoreError> {
        export_csv(self, "ClickHouse", sql, path, format)
    }
}

/// The URL parameters of a query read as `JSONCompact` with numbers as numbers.
pub(super) fn json_settings() -> Vec<(&'static str, String)> {
    vec![
        ("default_format", "JSONCompact".into()),
        ("output_format_json_quote_64bit_integers", "0".into()),
    ]
}

/// Column names, types and rows of a `JSONCompact` answer.
pub(super) type JsonCompact = (Vec<String>, Vec<String>, Vec<Vec<Value>>);

pub(super) fn parse_json_compact(body: &[u8], context: &str) -> Result<JsonCompact, StoreError> {
    #[derive(serde::Deserialize)]
    struct Meta {
        name: String,
        #[serde(rename = "type")]
        ty: String,
    }
    #[derive(serde::Deserialize)]
    struct Answer {
        meta: Vec<Meta>,
        #[serde(default)]
        data: Vec<Vec<Value>>,
    }
    let answer: Answer = serde_json::from_slice(body).map_err(|e| StoreError::Sql {
        context: context.to_string(),
        message: format!("ClickHouse's answer is not JSONCompact: {e}"),
    })?;
    let (names, types) = answer.meta.into_iter().map(|m| (m.name, m.ty)).unzip();
    Ok((names, types, answer.data))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_types_map_to_what_duckdb_gives() {
        assert_eq!(Kind::of("Nullable(Int64)"), Kind::Int);
        assert_eq!(Kind::of("UInt64"), Kind::Int);
        assert_eq!(Kind::of("LowCardinality(Nullable(String))"), Kind::Text);
        assert_eq!(Kind::of("DateTime64(6, 'UTC')"), Kind::Timestamp);
        assert_eq!(Kind::of("Array(String)"), Kind::TextList);
        assert_eq!(Kind::of("Array(UInt8)"), Kind::Text);
        assert_eq!(Kind::of("Decimal(10, 2)"), Kind::Text);
    }
}
