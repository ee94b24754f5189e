//! Loads into a DuckDB store: a batch in one transaction, with the store's label and item codes.

use std::collections::HashMap;
use std::sync::{Arc, PoisonError};

use arrow::array::{Array, ArrayRef, AsArray, Int64Array, StringArray};
use arrow::datatypes::{
    ArrowDictionaryKeyType, ArrowNativeType, ArrowPrimitiveType, Field, Int32Type, Int64Type,
    Schema,
};
use arrow::record_batch::RecordBatch;
use duckdb::{params, Connection};

use super::state::write_cursor;
use super::{DuckDbStore, SharedCodes};
use crate::batch::{HandOver, LoadBatch, MovedItem, RecordKey, TableRows};
use crate::error::StoreError;
use crate::schema::{self, ColType, TableDef};
use crate::state::CursorUpdate;

impl DuckDbStore {
    /// Loads a batch in one transaction: for each table, the rows sharing a replace key with the batch are
    /// deleted and the batch inserted, so a replay leaves the table as it was. When `cursors` are given they
    /// are saved in (or, for a source's old key, deleted from) `sync_state` in the same transaction, so data
    /// and cursors commit together or not at all.
    /// Loads `batch` in one transaction (the body of [`Store::load`]).
    pub(super) fn load_in_one_transaction(
        &mut self,
        batch: &mut LoadBatch,
        cursors: Option<&[CursorUpdate]>,
    ) -> Result<(), StoreError> {
        let HandOver { tables, plan } = batch.hand_over()?;
        for t in &tables {
            let name = t.def.name;
            if !self.staged.contains(name) {
                let stored = t.def.stored_name();
                self.conn
                    .execute_batch(&format!(
                        "CREATE TEMP TABLE IF NOT EXISTS _stage_{name} AS SELECT * FROM main.{stored} LIMIT 0"
                    ))
                    .map_err(StoreError::sql(format!("staging {name}")))?;
                self.staged.insert(name);
            }
        }
        let label_codes = self.label_codes(&tables)?;
        let tx = self
            .conn
            .transaction()
            .map_err(StoreError::sql("starting a load"))?;
        let started = std::time::Instant::now();
        let (item_codes, any_stored) = item_codes(&tx, &self.codes, &plan.items)?;
        // When every item of the batch is new (a first load, a backfill), the work items and their item-level
        // rows are appended straight to their tables: nothing to replace, and no second copy through a stage.
        let fresh_items = plan.items_complete && !any_stored;
        tracing::debug!(
            fresh_items,
            micros = started.elapsed().as_micros() as u64,
            "looked up item codes"
        );
        clear_bad_records(&tx, &plan.normalized)?;
        for (TableRows { def, record }, label_codes) in tables.into_iter().zip(&label_codes) {
            let name = def.name;
            let stored = def.stored_name();
            let item_level = def.replace_key == ["item_id"] || name == schema::WORK_ITEMS.name;
            let direct = fresh_items && item_level;
            let record = with_store_codes(def, record, label_codes, &item_codes)?;
            let rows = record.num_rows();
            let started = std::time::Instant::now();
            match direct {
                true => append(&tx, &stored, false, record)?,
                false => append(&tx, &format!("_stage_{name}"), true, record)?,
            }
            if direct {
                tracing::debug!(
                    table = name,
                    rows,
                    micros = started.elapsed().as_micros() as u64,
                    "appended"
                );
                continue;
            }
            let stage = format!("temp.main._stage_{name}");
            let keys = def.replace_key.join(", ");
            let on: Vec<String> = def
                .replace_key
                .iter()
                .map(|k| format!("t.{k} = s.{k}"))
                .collect();
            if name == schema::BAD_RECORDS.name {
                // A record that fails again keeps the time it was first seen failing.
                tx.execute_batch(&format!(
                    "UPDATE {stage} s SET first_seen = t.first_seen FROM main.{stored} t \
                     WHERE {} AND t.first_seen < s.first_seen",
                    on.join(" AND ")
                ))
                .map_err(StoreError::sql("keeping first_seen of bad_records"))?;
            }
            let delete = format!(
                "DELETE FROM main.{stored} t USING (SELECT DISTINCT {keys} FROM {stage}) s WHERE {};",
                on.join(" AND ")
            );
            tx.execute_batch(&format!(
                "{delete} INSERT INTO main.{stored} SELECT * FROM {stage}; DELETE FROM {stage};"
            ))
            .map_err(StoreError::sql(format!("replacing rows of {name}")))?;
            tracing::debug!(
                table = name,
                rows,
                micros = started.elapsed().as_micros() as u64,
                "replaced"
            );
        }
        for m in &plan.moved {
            retire_moved(&tx, m)?;
        }
        for u in cursors.unwrap_or_default() {
            write_cursor(&tx, u)?;
        }
        let started = std::time::Instant::now();
        tx.commit().map_err(StoreError::sql("committing a load"))?;
        tracing::debug!(micros = started.elapsed().as_micros() as u64, "committed");
        Ok(())
    }

    /// The store's codes for the labels of each table (indexed by the keys of its label dictionary; empty for
    /// tables without label columns). Labels the store lacks are added in a transaction of their own before
    /// the load's: a label no row uses is harmless, and committing new labels first (under the shared map's
    /// lock) lets loads on cloned connections run side by side without giving one label two codes.
    fn label_codes(&mut self, tables: &[TableRows]) -> Result<Vec<Vec<i32>>, StoreError> {
        let wanted: Vec<Vec<&str>> = tables.iter().map(labels_of).collect();
        if wanted.iter().all(Vec::is_empty) {
            return Ok(vec![Vec::new(); tables.len()]);
        }
        let mut guard = self
            .codes
            .labels
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let known = match guard.as_mut() {
            Some(known) => known,
            None => guard.insert(read_labels(&self.conn)?),
        };
        let mut new: Vec<(String, i32)> = Vec::new();
        for label in wanted.iter().flatten().copied() {
            if !known.contains_key(label) && !new.iter().any(|(l, _)| l == label) {
                let next = match new.last() {
                    Some((_, code)) => code + 1,
                    None => known.values().copied().max().unwrap_or(0) + 1,
                };
                new.push((label.to_string(), next));
            }
        }
        if !new.is_empty() {
            let tx = self
                .conn
                .transaction()
                .map_err(StoreError::sql("adding labels"))?;
            for (label, code) in &new {
                tx.execute(
                    "INSERT INTO main.labels VALUES (?, ?)",
                    params![code, label],
                )
                .map_err(StoreError::sql("adding labels"))?;
            }
            tx.commit().map_err(StoreError::sql("adding labels"))?;
            known.extend(new);
        }
        Ok(wanted
            .iter()
            .map(|labels| {
                labels
                    .iter()
                    .map(|l| known.get(*l).copied().unwrap_or(0))
                    .collect()
            })
            .collect())
    }
}

/// The labels of a table's rows: the values of its label columns' dictionary (one per table, shared by its
/// label columns), in key order.
fn labels_of(table: &TableRows) -> Vec<&str> {
    let column = table
        .def
        .columns
        .iter()
        .position(|c| c.ty == ColType::Label);
    let values = column
        .and_then(|i| table.record.column(i).as_dictionary_opt::<Int32Type>())
        .and_then(|d| d.values().as_string_opt::<i32>());
    values.map_or_else(Vec::new, |v| {
        v.iter().map(Option::unwrap_or_default).collect()
    })
}

/// The stored labels and their codes.
fn read_labels(conn: &Connection) -> Result<HashMap<String, i32>, StoreError> {
    let context = "reading labels";
    let mut stmt = conn
        .prepare("SELECT label, code FROM main.labels")
        .map_err(StoreError::sql(context))?;
    let rows = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .map_err(StoreError::sql(context))?;
    rows.collect::<Result<_, _>>()
        .map_err(StoreError::sql(context))
}

/// `record` with its label and item columns turned from dictionaries into the store's codes (`labels` and
/// `items`, indexed by the dictionaries' keys), as the coded table stores them.
fn with_store_codes(
    def: &TableDef,
    record: RecordBatch,
    labels: &[i32],
    items: &[i64],
) -> Result<RecordBatch, StoreError> {
    if !def.is_coded() {
        return Ok(record);
    }
    let schema = record.schema();
    let (fields, columns): (Vec<Field>, Vec<ArrayRef>) = def
        .columns
        .iter()
        .zip(schema.fields().iter().zip(record.columns()))
        .map(|(c, (field, array))| {
            let coded = match c.ty {
                ColType::Label => recode::<Int32Type, Int32Type>(array, labels),
                ColType::Item => recode::<Int64Type, Int64Type>(array, items),
                _ => None,
            };
            match coded {
                Some(codes) => (
                    Field::new(c.name, codes.data_type().clone(), c.nullable),
                    codes,
                ),
                None => (field.as_ref().clone(), Arc::clone(array)),
            }
        })
        .unzip();
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).map_err(|e| StoreError::Batch {
        table: def.name.to_string(),
        message: e.to_string(),
    })
}

/// The keys of dictionary `array` as the store's `codes` (indexed by those keys); `None` when `array` is not
/// a dictionary with `K` keys.
fn recode<K: ArrowDictionaryKeyType, C: ArrowPrimitiveType>(
    array: &ArrayRef,
    codes: &[C::Native],
) -> Option<ArrayRef> {
    let keys = array.as_dictionary_opt::<K>()?.keys();
    Some(Arc::new(keys.unary::<_, C>(|k| {
        codes.get(k.as_usize()).copied().unwrap_or_default()
    })))
}

/// The store's codes of `ids` (a batch's item ids, in the order of its numbers), and whether any was known
/// before. Ids the store lacks get new codes, appended to `item_codes` inside the load's transaction `tx`.
/// The lookup is one hash join of the ids, staged in a temporary table, with `item_codes`: as cheap as
/// asking `work_items` whether the items are stored, which it also answers, since every work item a load
/// brings gets a code.
fn item_codes(
    tx: &duckdb::Transaction<'_>,
    shared: &SharedCodes,
    ids: &StringArray,
) -> Result<(Vec<i64>, bool), StoreError> {
    let context = "looking up item codes";
    if ids.is_empty() {
        return Ok((Vec::new(), false));
    }
    tx.execute_batch("CREATE TEMP TABLE IF NOT EXISTS _stage_item_ids (n BIGINT, item_id VARCHAR)")
        .map_err(StoreError::sql(context))?;
    let numbers: ArrayRef = Arc::new(Int64Array::from_iter_values(0..ids.len() as i64));
    let names: ArrayRef = Arc::new(ids.clone());
    let stage = record_of("_stage_item_ids", [("n", numbers), ("item_id", names)])?;
    append(tx, "_stage_item_ids", true, stage)?;
    let mut codes = vec![0_i64; ids.len()];
    let mut any_known = false;
    {
        let mut stmt = tx
            .prepare(
                "SELECT s.n, c.code FROM temp.main._stage_item_ids s JOIN main.item_codes c USING (item_id)",
            )
            .map_err(StoreError::sql(context))?;
        let mut rows = stmt.query([]).map_err(StoreError::sql(context))?;
        while let Some(r) = rows.next().map_err(StoreError::sql(context))? {
            let n: i64 = r.get(0).map_err(StoreError::sql(context))?;
            if let Some(code) = codes.get_mut(n as usize) {
                *code = r.get(1).map_err(StoreError::sql(context))?;
                any_known = true;
            }
        }
    }
    tx.execute_batch("DELETE FROM temp.main._stage_item_ids")
        .map_err(StoreError::sql(context))?;
    let new = codes.iter().filter(|c| **c == 0).count() as i64;
    if new > 0 {
        let first = {
            let mut last = shared
                .last_item_code
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            let last = match last.as_mut() {
                Some(last) => last,
                None => last.insert(
                    tx.query_row(
                        "SELECT coalesce(max(code), 0) FROM main.item_codes",
                        [],
                        |r| r.get(0),
                    )
                    .map_err(StoreError::sql(context))?,
                ),
            };
            *last += new;
            *last - new + 1
        };
        let mut new_codes = Vec::with_capacity(new as usize);
        let mut new_ids = Vec::with_capacity(new as usize);
        let unknown = codes.iter_mut().zip(ids).filter(|(c, _)| **c == 0);
        for (next, (code, id)) in (first..).zip(unknown) {
            *code = next;
            new_codes.push(next);
            new_ids.push(id.unwrap_or_default());
        }
        let code_column: ArrayRef = Arc::new(Int64Array::from(new_codes));
        let id_column: ArrayRef = Arc::new(StringArray::from(new_ids));
        let new = record_of(
            "item_codes",
            [("code", code_column), ("item_id", id_column)],
        )?;
        append(tx, "item_codes", false, new)?;
    }
    Ok((codes, any_known))
}

/// Appends `record` to `table` inside `tx`: a temporary table (a stage) or one of the database's.
fn append(
    tx: &duckdb::Transaction<'_>,
    table: &str,
    temporary: bool,
    record: RecordBatch,
) -> Result<(), StoreError> {
    let context = || StoreError::sql(format!("appending to {table}"));
    let mut app = match temporary {
        true => tx.appender_to_catalog_and_db(table, "temp", "main"),
        false => tx.appender(table),
    }
    .map_err(context())?;
    app.append_record_batch(record).map_err(context())?;
    app.flush().map_err(context())
}

/// A record batch of `columns`, for the store's own bookkeeping tables.
fn record_of<const N: usize>(
    table: &str,
    columns: [(&str, ArrayRef); N],
) -> Result<RecordBatch, StoreError> {
    RecordBatch::try_from_iter(columns).map_err(|e| StoreError::Batch {
        table: table.to_string(),
        message: e.to_string(),
    })
}

/// Removes the `bad_records` rows of `keys` (source, stream, key: records that normalized), inside the load's
/// transaction. The table is empty unless something failed, so a load asks first whether it has rows at all.
fn clear_bad_records(tx: &duckdb::Transaction<'_>, keys: &[RecordKey]) -> Result<(), StoreError> {
    let context = "clearing bad_records of records that normalized";
    if keys.is_empty() {
        return Ok(());
    }
    let any: bool = tx
        .query_row("SELECT EXISTS (SELECT 1 FROM main.bad_records)", [], |r| {
            r.get(0)
        })
        .map_err(StoreError::sql(context))?;
    if !any {
        return Ok(());
    }
    tx.execute_batch(
        "CREATE TEMP TABLE IF NOT EXISTS _stage_normalized (source VARCHAR, stream VARCHAR, key VARCHAR)",
    )
    .map_err(StoreError::sql(context))?;
    let column = |pick: fn(&RecordKey) -> &str| -> ArrayRef {
        Arc::new(StringArray::from_iter_values(keys.iter().map(pick)))
    };
    let stage = record_of(
        "_stage_normalized",
        [
            ("source", column(|k| &k.source)),
            ("stream", column(|k| &k.stream)),
            ("key", column(|k| &k.key)),
        ],
    )?;
    append(tx, "_stage_normalized", true, stage)?;
    tx.execute_batch(
        "DELETE FROM main.bad_records t USING temp.main._stage_normalized s \
         WHERE t.source = s.source AND t.stream = s.stream AND t.key = s.key; \
         DELETE FROM temp.main._stage_normalized;",
    )
    .map_err(StoreError::sql(context))
}

/// Removes the stored items of `source` that are `keep` under an older key (same `custom_fields.node_id`),
/// with their item-level rows and raw records, inside the load's transaction.
fn retire_moved(tx: &duckdb::Transaction<'_>, moved: &MovedItem) -> Result<(), StoreError> {
    let MovedItem {
        source,
        node_id,
        keep,
    } = moved;
    let context = || format!("removing the old key of moved item {keep}");
    let mut stmt = tx
        .prepare(
            "SELECT id, key FROM main.work_items WHERE source = ? AND id <> ? \
             AND json_extract_string(custom_fields, '$.node_id') = ?",
        )
        .map_err(StoreError::sql(context()))?;
    let old: Vec<(String, String)> = stmt
        .query_map(duckdb::params![source, keep, node_id], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .map_err(StoreError::sql(context()))?
        .collect::<Result<_, _>>()
        .map_err(StoreError::sql(context()))?;
    for (id, key) in old {
        for t in schema::loaded_tables() {
            if t.replace_key == ["item_id"] {
                let rows_of_item = match t.has_item_codes() {
                    true => "item_id IN (SELECT code FROM main.item_codes WHERE item_id = ?)",
                    false => "item_id = ?",
                };
                tx.execute(
                    &format!("DELETE FROM main.{} WHERE {rows_of_item}", t.stored_name()),
                    [&id],
                )
                .map_err(StoreError::sql(context()))?;
            }
        }
        tx.execute("DELETE FROM main.work_items WHERE id = ?", [&id])
            .map_err(StoreError::sql(context()))?;
        for table in ["raw_records", "bad_records"] {
            tx.execute(
                &format!("DELETE FROM main.{table} WHERE source = ? AND key = ?"),
                [source, key.as_str()],
            )
            .map_err(StoreError::sql(context()))?;
        }
        tracing::info!(old = %id, new = %keep, "moved item: its old key is removed");
    }
    Ok(())
}
