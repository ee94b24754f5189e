//! The rows of one table built column by column as Arrow arrays, in the column order of its
//! [`TableDef`]: what [`super::LoadBatch`]'s writers fill.
//!
//! Label and item columns become dictionary arrays: the keys are numbers the batch gives out in order of
//! first use, the values the labels (one dictionary per table, shared by its label columns) or the batch's
//! item ids (one dictionary per batch, shared by every item column). A store takes them as it likes: DuckDB
//! maps the dictionaries to its integer codes, a server store may cast them to text.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use arrow::array::{
    ArrayRef, BooleanBuilder, DictionaryArray, Float64Builder, Int32Builder, Int64Builder,
    ListBuilder, StringArray, StringBuilder, TimestampMicrosecondBuilder,
};
use arrow::datatypes::{DataType, Field, Int32Type, Int64Type, Schema, TimeUnit};
use arrow::error::ArrowError;
use arrow::record_batch::RecordBatch;
use chrono::{DateTime, Utc};

use crate::entity::TableRow;
use crate::error::StoreError;
use crate::schema::{ColType, TableDef};

enum ColumnBuilder {
    Text(StringBuilder),
    Int(Int64Builder),
    Float(Float64Builder),
    Bool(BooleanBuilder),
    Ts(TimestampMicrosecondBuilder),
    List(ListBuilder<StringBuilder>),
    /// Keys into the table's labels: the dictionary's values when the rows are taken.
    Label(Int32Builder),
    /// Keys into the [`LoadBatch`](super::LoadBatch)'s item ids: the dictionary's values when the rows are
    /// taken.
    Item(Int64Builder),
}

impl ColumnBuilder {
    fn new(ty: ColType) -> Self {
        match ty {
            ColType::Text | ColType::Json => Self::Text(StringBuilder::new()),
            ColType::Int => Self::Int(Int64Builder::new()),
            ColType::Float => Self::Float(Float64Builder::new()),
            ColType::Bool => Self::Bool(BooleanBuilder::new()),
            ColType::Timestamp => Self::Ts(TimestampMicrosecondBuilder::new()),
            ColType::TextList => Self::List(ListBuilder::new(StringBuilder::new())),
            ColType::Label => Self::Label(Int32Builder::new()),
            ColType::Item => Self::Item(Int64Builder::new()),
        }
    }

    /// The column's array; label and item keys get `labels` and `items` as their dictionary's values.
    fn finish(&mut self, labels: &ArrayRef, items: &ArrayRef) -> Result<ArrayRef, ArrowError> {
        Ok(match self {
            Self::Text(b) => Arc::new(b.finish()),
            Self::Int(b) => Arc::new(b.finish()),
            Self::Float(b) => Arc::new(b.finish()),
            Self::Bool(b) => Arc::new(b.finish()),
            Self::Ts(b) => Arc::new(b.finish()),
            Self::List(b) => Arc::new(b.finish()),
            Self::Label(b) => Arc::new(DictionaryArray::<Int32Type>::try_new(
                b.finish(),
                Arc::clone(labels),
            )?),
            Self::Item(b) => Arc::new(DictionaryArray::<Int64Type>::try_new(
                b.finish(),
                Arc::clone(items),
            )?),
        })
    }
}

/// The Arrow type of a column of `ty` in a taken batch.
pub fn arrow_type(ty: ColType) -> DataType {
    match ty {
        ColType::Text | ColType::Json => DataType::Utf8,
        ColType::Int => DataType::Int64,
        ColType::Float => DataType::Float64,
        ColType::Bool => DataType::Boolean,
        ColType::Timestamp => DataType::Timestamp(TimeUnit::Microsecond, None),
        ColType::TextList => DataType::List(Arc::new(Field::new("item", DataType::Utf8, true))),
        ColType::Label => DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8)),
        ColType::Item => DataType::Dictionary(Box::new(DataType::Int64), Box::new(DataType::Utf8)),
    }
}

/// The rows of one table, column by column.
pub struct RowBatch {
    def: &'static TableDef,
    columns: Vec<ColumnBuilder>,
    rows: usize,
    labels: Labels,
    /// The keys of the rows kept once per batch ([`TableRow::once_key`]).
    seen: HashSet<String>,
}

/// The labels of one table's rows, numbered from 0 in order of first use: the keys of its
/// [`ColType::Label`] columns' dictionary.
#[derive(Default)]
struct Labels {
    names: Vec<String>,
    numbers: HashMap<String, i32>,
}

impl Labels {
    fn number(&mut self, label: &str) -> i32 {
        // Most label columns hold a handful of statuses: a scan beats hashing until there are dozens.
        if self.names.len() <= 32 {
            if let Some(n) = self.names.iter().position(|l| l == label) {
                return n as i32;
            }
        } else if let Some(n) = self.numbers.get(label) {
            return *n;
        }
        let n = self.names.len() as i32;
        self.names.push(label.to_string());
        self.numbers.insert(label.to_string(), n);
        n
    }
}

/// One row being written: call one setter per column, in column order.
pub struct Row<'a> {
    batch: &'a mut RowBatch,
    next: usize,
}

impl Row<'_> {
    fn col(&mut self) -> &mut ColumnBuilder {
        let i = self.next;
        self.next += 1;
        &mut self.batch.columns[i]
    }

    /// A text (or JSON text) column.
    pub fn text(mut self, v: Option<&str>) -> Self {
        match self.col() {
            ColumnBuilder::Text(b) => b.append_option(v),
            _ => panic!("column type mismatch in {}", self.batch.def.name),
        }
        self
    }

    /// A label column (text from a small set, stored as a code).
    pub fn label(mut self, v: Option<&str>) -> Self {
        let number = v.map(|l| self.batch.labels.number(l));
        match self.col() {
            ColumnBuilder::Label(b) => b.append_option(number),
            _ => panic!("column type mismatch in {}", self.batch.def.name),
        }
        self
    }

    /// An item id column, given as the [`LoadBatch`](super::LoadBatch)'s number of the id.
    pub(crate) fn item(mut self, number: i64) -> Self {
        match self.col() {
            ColumnBuilder::Item(b) => b.append_value(number),
            _ => panic!("column type mismatch in {}", self.batch.def.name),
        }
        self
    }

    /// An integer column.
    pub fn int(mut self, v: Option<i64>) -> Self {
        match self.col() {
            ColumnBuilder::Int(b) => b.append_option(v),
            _ => panic!("column type mismatch in {}", self.batch.def.name),
        }
        self
    }

    /// A float column.
    pub fn float(mut self, v: Option<f64>) -> Self {
        match self.col() {
            ColumnBuilder::Float(b) => b.append_option(v),
            _ => panic!("column type mismatch in {}", self.batch.def.name),
        }
        self
    }

    /// A boolean column.
    pub fn bool(mut self, v: Option<bool>) -> Self {
        match self.col() {
            ColumnBuilder::Bool(b) => b.append_option(v),
            _ => panic!("column type mismatch in {}", self.batch.def.name),
        }
        self
    }

    /// A timestamp column.
    pub fn ts(mut self, v: Option<DateTime<Utc>>) -> Self {
        match self.col() {
            ColumnBuilder::Ts(b) => b.append_option(v.map(|t| t.timestamp_micros())),
            _ => panic!("column type mismatch in {}", self.batch.def.name),
        }
        self
    }

    /// A list-of-text column.
    pub fn list(mut self, v: &[String]) -> Self {
        match self.col() {
            ColumnBuilder::List(b) => {
                for s in v {
                    b.values().append_value(s);
                }
                b.append(true);
            }
            _ => panic!("column type mismatch in {}", self.batch.def.name),
        }
        self
    }

    /// Ends the row; every column must have been set.
    pub fn end(self) {
        assert_eq!(
            self.next,
            self.batch.columns.len(),
            "row of {} is missing columns",
            self.batch.def.name
        );
        self.batch.rows += 1;
    }
}

impl RowBatch {
    /// An empty batch for `def`.
    pub fn new(def: &'static TableDef) -> Self {
        Self {
            def,
            columns: def
                .columns
                .iter()
                .map(|c| ColumnBuilder::new(c.ty))
                .collect(),
            rows: 0,
            labels: Labels::default(),
            seen: HashSet::new(),
        }
    }

    /// Writes `value`'s row, unless its [once key](TableRow::once_key) is in the batch already.
    #[inline]
    pub fn write<T: TableRow>(&mut self, value: &T) {
        if let Some(key) = value.once_key() {
            if self.seen.contains(key) {
                return;
            }
            self.seen.insert(key.to_string());
        }
        value.write_row(self.row());
    }

    /// The table.
    pub fn def(&self) -> &'static TableDef {
        self.def
    }

    /// Rows so far.
    pub fn len(&self) -> usize {
        self.rows
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    /// Starts a row.
    pub fn row(&mut self) -> Row<'_> {
        Row {
            batch: self,
            next: 0,
        }
    }

    /// Takes the rows as an Arrow record batch, leaving the batch empty. `items` are the batch's item ids,
    /// the values of the item columns' dictionaries.
    pub(crate) fn take(&mut self, items: &ArrayRef) -> Result<RecordBatch, StoreError> {
        let table = self.def.name;
        let error = |e: ArrowError| StoreError::Batch {
            table: table.to_string(),
            message: e.to_string(),
        };
        let fields: Vec<Field> = self
            .def
            .columns
            .iter()
            .map(|c| Field::new(c.name, arrow_type(c.ty), c.nullable))
            .collect();
        let labels: ArrayRef = Arc::new(StringArray::from(std::mem::take(&mut self.labels).names));
        let arrays = self
            .columns
            .iter_mut()
            .map(|c| c.finish(&labels, items))
            .collect::<Result<Vec<_>, _>>()
            .map_err(error)?;
        self.rows = 0;
        RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays).map_err(error)
    }
}
