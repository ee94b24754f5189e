//! Rows read back from a store written into a batch for another: what `flowlake store copy` moves tables
//! with. A store's console returns a table's rows as Arrow with labels and item ids as text; they are
//! written here as a normalizer's rows would be, so any store loads them.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray};
use arrow::compute::cast;
use arrow::datatypes::{
    DataType, Field, Float64Type, Int64Type, TimeUnit, TimestampMicrosecondType,
};
use arrow::record_batch::RecordBatch;
use chrono::DateTime;

use super::LoadBatch;
use crate::error::StoreError;
use crate::schema::{self, ColType, TableDef};

/// The Arrow type a copied column is read as.
fn read_type(ty: ColType) -> DataType {
    match ty {
        ColType::Text | ColType::Json | ColType::Label | ColType::Item => DataType::Utf8,
        ColType::Int => DataType::Int64,
        ColType::Float => DataType::Float64,
        ColType::Bool => DataType::Boolean,
        ColType::Timestamp => DataType::Timestamp(TimeUnit::Microsecond, None),
        ColType::TextList => DataType::List(Arc::new(Field::new("item", DataType::Utf8, true))),
    }
}

impl LoadBatch {
    /// Appends `record`'s rows to `def`'s table: its columns are `def`'s, in order (what a console returns
    /// for `SELECT <def's columns> FROM <def.name>`), of any type Arrow casts to theirs. Item ids are
    /// numbered as the batch's other rows are, so the load replaces the rows of their items.
    pub fn copied_rows(
        &mut self,
        def: &'static TableDef,
        record: &RecordBatch,
    ) -> Result<(), StoreError> {
        let error = |message: String| StoreError::Batch {
            table: def.name.to_string(),
            message,
        };
        if record.num_columns() != def.columns.len() {
            return Err(error(format!(
                "{} columns read, {} expected",
                record.num_columns(),
                def.columns.len()
            )));
        }
        let columns: Vec<ArrayRef> = def
            .columns
            .iter()
            .zip(record.columns())
            .map(|(c, a)| cast(a, &read_type(c.ty)).map_err(|e| error(format!("{}: {e}", c.name))))
            .collect::<Result<_, _>>()?;
        let is_work_items = def.name == schema::WORK_ITEMS.name;
        let item_level = def.replace_key == ["item_id"];
        let text = |a: &ArrayRef, i: usize| -> Option<String> {
            let s = a.as_string::<i32>();
            s.is_valid(i).then(|| s.value(i).to_string())
        };
        for i in 0..record.num_rows() {
            // The batch's bookkeeping of items first, as `work_item` and the item-level writers do it.
            let mut numbers = Vec::new();
            for (c, a) in def.columns.iter().zip(&columns) {
                if !matches!(c.ty, ColType::Text | ColType::Item) {
                    continue;
                }
                match (c.ty, c.name, text(a, i)) {
                    (_, "id", Some(id)) if is_work_items => {
                        self.items.number(&id);
                        self.has_work_items = true;
                    }
                    (ColType::Item, _, Some(id)) => numbers.push(self.item_row(&id)),
                    (ColType::Text, "item_id", Some(id)) if item_level => {
                        self.item_row(&id);
                    }
                    _ => {}
                }
            }
            let mut numbers = numbers.into_iter();
            let mut row = self.table(def).row();
            for (c, a) in def.columns.iter().zip(&columns) {
                row = match c.ty {
                    ColType::Text | ColType::Json => row.text(text(a, i).as_deref()),
                    ColType::Label => row.label(text(a, i).as_deref()),
                    ColType::Item => row.item(numbers.next().unwrap_or_default()),
                    ColType::Int => {
                        let v = a.as_primitive::<Int64Type>();
                        row.int(v.is_valid(i).then(|| v.value(i)))
                    }
                    ColType::Float => {
                        let v = a.as_primitive::<Float64Type>();
                        row.float(v.is_valid(i).then(|| v.value(i)))
                    }
                    ColType::Bool => {
                        let v = a.as_boolean();
                        row.bool(v.is_valid(i).then(|| v.value(i)))
                    }
                    ColType::Timestamp => {
                        let v = a.as_primitive::<TimestampMicrosecondType>();
                        row.ts(v
                            .is_valid(i)
                            .then(|| DateTime::from_timestamp_micros(v.value(i)))
                            .flatten())
                    }
                    ColType::TextList => {
                        let v = a.as_list::<i32>();
                        let items: Vec<String> = match v.is_valid(i) {
                            true => {
                                let values = v.value(i);
                                let s = values.as_string::<i32>();
                                (0..s.len()).map(|j| s.value(j).to_string()).collect()
                            }
                            false => Vec::new(),
                        };
                        row.list(&items)
                    }
                };
            }
            row.end();
        }
        Ok(())
    }
}
