//! The rows of one table built column by column as Arrow arrays, in the column order of its
//! [`TableDef`]: what [`super::LoadBatch`]'s writers fill.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use arrow::array::{
    ArrayRef, BooleanBuilder, Float64Builder, Int32Builder, Int64Builder, ListBuilder,
    StringBuilder, TimestampMicrosecondBuilder,
};
use arrow::datatypes::{DataType, Field, Schema, TimeUnit};
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
    /// Codes into the batch's own [`RowBatch::labels`], turned into the store's codes at load.
    Label(Int32Builder),
    /// Numbers into the [`LoadBatch`]'s item ids, turned into the store's item codes at load.
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

    fn finish(&mut self) -> ArrayRef {
        match self {
            Self::Text(b) => Arc::new(b.finish()),
            Self::Int(b) => Arc::new(b.finish()),
            Self::Float(b) => Arc::new(b.finish()),
            Self::Bool(b) => Arc::new(b.finish()),
            Self::Ts(b) => Arc::new(b.finish()),
            Self::List(b) => Arc::new(b.finish()),
            Self::Label(b) => Arc::new(b.finish()),
            Self::Item(b) => Arc::new(b.finish()),
        }
    }
}

fn arrow_type(ty: ColType) -> DataType {
    match ty {
        ColType::Text | ColType::Json => DataType::Utf8,
        ColType::Int => DataType::Int64,
        ColType::Float => DataType::Float64,
        ColType::Bool => DataType::Boolean,
        ColType::Timestamp => DataType::Timestamp(TimeUnit::Microsecond, None),
        ColType::TextList => DataType::List(Arc::new(Field::new("item", DataType::Utf8, true))),
        ColType::Label => DataType::Int32,
        ColType::Item => DataType::Int64,
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

/// The labels of one batch, numbered from 0 in order of first use: the [`ColType::Label`] columns hold these
/// numbers until the store maps them to its own codes.
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

/// The rows taken out of a [`RowBatch`]: label columns hold indexes into `labels`.
pub struct TakenRows {
    /// The rows.
    pub record: RecordBatch,
    /// The labels the label columns number from 0.
    pub labels: Vec<String>,
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

    /// An item id column, given as the [`LoadBatch`]'s number of the id.
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

    /// Takes the rows as an Arrow record batch with the labels its label columns number, leaving the batch
    /// empty.
    pub fn take(&mut self) -> Result<TakenRows, StoreError> {
        let fields: Vec<Field> = self
            .def
            .columns
            .iter()
            .map(|c| Field::new(c.name, arrow_type(c.ty), c.nullable))
            .collect();
        let arrays: Vec<ArrayRef> = self.columns.iter_mut().map(ColumnBuilder::finish).collect();
        self.rows = 0;
        let labels = std::mem::take(&mut self.labels).names;
        let record = RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays).map_err(|e| {
            StoreError::Batch {
                table: self.def.name.to_string(),
                message: e.to_string(),
            }
        })?;
        Ok(TakenRows { record, labels })
    }
}
