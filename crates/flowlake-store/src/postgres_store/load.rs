//! Loads into a PostgreSQL store: each table of a batch `COPY … (FORMAT binary)` into a temporary stage, the
//! stored rows sharing a replace key deleted and the stage inserted, moved items retired, bad records
//! cleared and the page's cursors saved, all in one transaction.

use arrow::array::{Array, AsArray, StringArray};
use arrow::datatypes::ArrowNativeType;
use chrono::DateTime;
use postgres::binary_copy::BinaryCopyInWriter;
use postgres::types::{ToSql, Type};
use postgres::Transaction;

use super::state::write_cursor;
use super::PostgresStore;
use crate::batch::column::HandOverColumn;
use crate::batch::{HandOver, LoadBatch, MovedItem, RecordKey, TableRows};
use crate::error::StoreError;
use crate::schema::{self, ColType};
use crate::state::CursorUpdate;

impl PostgresStore {
    /// The body of [`crate::Store::load`].
    pub(super) fn load_in_one_transaction(
        &mut self,
        batch: &mut LoadBatch,
        cursors: Option<&[CursorUpdate]>,
    ) -> Result<(), StoreError> {
        let HandOver { tables, plan } = batch.hand_over()?;
        let client = self.client.get_mut();
        let mut tx = client
            .transaction()
            .map_err(StoreError::pg("starting a load"))?;
        clear_bad_records(&mut tx, &plan.normalized)?;
        // When every item of the batch is new (a first load, a backfill), its work items and item-level rows
        // are copied straight into their tables: nothing to replace, and no second copy through a stage.
        let fresh_items = plan.items_complete && !any_stored(&mut tx, &plan.items)?;
        for t in &tables {
            let item_level =
                t.def.replace_key == ["item_id"] || t.def.name == schema::WORK_ITEMS.name;
            match fresh_items && item_level {
                true => copy_in(&mut tx, t.def.name, t, &plan.items)?,
                false => replace(&mut tx, t, &plan.items)?,
            }
        }
        for m in &plan.moved {
            retire_moved(&mut tx, m)?;
        }
        for u in cursors.unwrap_or_default() {
            write_cursor(&mut tx, u)?;
        }
        tx.commit().map_err(StoreError::pg("committing a load"))
    }
}

/// Whether any of `items` is a stored work item.
fn any_stored(tx: &mut Transaction<'_>, items: &StringArray) -> Result<bool, StoreError> {
    if items.is_empty() {
        return Ok(false);
    }
    let ids: Vec<&str> = items.iter().flatten().collect();
    tx.query_one(
        "SELECT EXISTS (SELECT 1 FROM work_items WHERE id = ANY($1::text[]))",
        &[&ids],
    )
    .map(|r| r.get(0))
    .map_err(StoreError::pg("looking up the batch's items"))
}

/// Replaces the rows of `t`'s table sharing a replace key with `t`'s by `t`'s, through a stage.
fn replace(tx: &mut Transaction<'_>, t: &TableRows, items: &StringArray) -> Result<(), StoreError> {
    let def = t.def;
    let name = def.name;
    let stage = format!("_stage_{name}");
    let context = || format!("loading {name}");
    tx.batch_execute(&format!(
        "CREATE TEMP TABLE IF NOT EXISTS {stage} (LIKE {name}) ON COMMIT DELETE ROWS"
    ))
    .map_err(StoreError::pg(context()))?;
    copy_in(tx, &stage, t, items)?;
    let on: Vec<String> = def
        .replace_key
        .iter()
        .map(|k| format!("t.{k} = s.{k}"))
        .collect();
    let on = on.join(" AND ");
    if name == schema::BAD_RECORDS.name {
        // A record that fails again keeps the time it was first seen failing.
        tx.batch_execute(&format!(
            "UPDATE {stage} s SET first_seen = t.first_seen FROM {name} t \
             WHERE {on} AND t.first_seen < s.first_seen"
        ))
        .map_err(StoreError::pg("keeping first_seen of bad_records"))?;
    }
    let keys = def.replace_key.join(", ");
    tx.batch_execute(&format!(
        "DELETE FROM {name} t USING (SELECT DISTINCT {keys} FROM {stage}) s WHERE {on}; \
         INSERT INTO {name} SELECT * FROM {stage}; TRUNCATE {stage};"
    ))
    .map_err(StoreError::pg(format!("replacing rows of {name}")))
}

/// The PostgreSQL type a column is copied as.
fn copy_type(ty: ColType) -> Type {
    match ty {
        ColType::Text | ColType::Json | ColType::Label | ColType::Item => Type::TEXT,
        ColType::Int => Type::INT8,
        ColType::Float => Type::FLOAT8,
        ColType::Bool => Type::BOOL,
        ColType::Timestamp => Type::TIMESTAMP,
        ColType::TextList => Type::TEXT_ARRAY,
    }
}

/// One value of a row being copied.
enum Value<'a> {
    Text(Option<&'a str>),
    Int(Option<i64>),
    Float(Option<f64>),
    Bool(Option<bool>),
    Timestamp(Option<chrono::NaiveDateTime>),
    TextList(Option<Vec<Option<&'a str>>>),
}

impl Value<'_> {
    fn as_sql(&self) -> &(dyn ToSql + Sync) {
        match self {
            Self::Text(v) => v,
            Self::Int(v) => v,
            Self::Float(v) => v,
            Self::Bool(v) => v,
            Self::Timestamp(v) => v,
            Self::TextList(v) => v,
        }
    }
}

/// Copies the rows of `t` into `stage` in PostgreSQL's binary format; label and item columns are decoded from
/// their dictionaries (item ids are `items`).
fn copy_in(
    tx: &mut Transaction<'_>,
    stage: &str,
    t: &TableRows,
    items: &StringArray,
) -> Result<(), StoreError> {
    let def = t.def;
    let columns: Vec<&str> = def.columns.iter().map(|c| c.name).collect();
    let types: Vec<Type> = def.columns.iter().map(|c| copy_type(c.ty)).collect();
    let context = || format!("copying rows of {}", def.name);
    let sink = tx
        .copy_in(&format!(
            "COPY {stage} ({}) FROM STDIN (FORMAT binary)",
            columns.join(", ")
        ))
        .map_err(StoreError::pg(context()))?;
    let mut writer = BinaryCopyInWriter::new(sink, &types);
    let readers: Vec<HandOverColumn<'_>> = def
        .columns
        .iter()
        .zip(t.record.columns())
        .map(|(c, array)| HandOverColumn::new(def, c.ty, array, items))
        .collect::<Result<_, _>>()?;
    let mut row: Vec<Value<'_>> = Vec::with_capacity(readers.len());
    for i in 0..t.record.num_rows() {
        row.clear();
        row.extend(readers.iter().map(|r| r.value(i)));
        let values: Vec<&(dyn ToSql + Sync)> = row.iter().map(Value::as_sql).collect();
        writer.write(&values).map_err(StoreError::pg(context()))?;
    }
    writer.finish().map_err(StoreError::pg(context()))?;
    Ok(())
}

impl<'a> HandOverColumn<'a> {
    fn value(&self, i: usize) -> Value<'a> {
        fn get<A: Array>(a: &A, i: usize) -> bool {
            a.is_valid(i)
        }
        match self {
            Self::Text(a) => Value::Text(get(*a, i).then(|| a.value(i))),
            Self::Coded { .. } => Value::Text(self.coded(i)),
            Self::Int(a) => Value::Int(get(*a, i).then(|| a.value(i))),
            Self::Float(a) => Value::Float(get(*a, i).then(|| a.value(i))),
            Self::Bool(a) => Value::Bool(get(*a, i).then(|| a.value(i))),
            Self::Timestamp(a) => Value::Timestamp(
                get(*a, i)
                    .then(|| DateTime::from_timestamp_micros(a.value(i)))
                    .flatten()
                    .map(|t| t.naive_utc()),
            ),
            Self::TextList(a) => Value::TextList(get(*a, i).then(|| {
                let offsets = a.value_offsets();
                let (start, end) = (offsets[i].as_usize(), offsets[i + 1].as_usize());
                a.values()
                    .as_string_opt::<i32>()
                    .map(|s| {
                        (start..end)
                            .map(|j| s.is_valid(j).then(|| s.value(j)))
                            .collect()
                    })
                    .unwrap_or_default()
            })),
        }
    }
}

/// Removes the `bad_records` rows of `keys` (records that normalized), inside the load's transaction.
fn clear_bad_records(tx: &mut Transaction<'_>, keys: &[RecordKey]) -> Result<(), StoreError> {
    if keys.is_empty() {
        return Ok(());
    }
    let column = |pick: fn(&RecordKey) -> &str| -> Vec<&str> { keys.iter().map(pick).collect() };
    tx.execute(
        "DELETE FROM bad_records t USING unnest($1::text[], $2::text[], $3::text[]) AS s(source, stream, key) \
         WHERE t.source = s.source AND t.stream = s.stream AND t.key = s.key",
        &[
            &column(|k| &k.source),
            &column(|k| &k.stream),
            &column(|k| &k.key),
        ],
    )
    .map(|_| ())
    .map_err(StoreError::pg("clearing bad_records of records that normalized"))
}

/// Removes the stored items of `source` that are `keep` under an older key (same `custom_fields.node_id`),
/// with their item-level rows and raw records, inside the load's transaction.
fn retire_moved(tx: &mut Transaction<'_>, moved: &MovedItem) -> Result<(), StoreError> {
    let MovedItem {
        source,
        node_id,
        keep,
    } = moved;
    let context = || format!("removing the old key of moved item {keep}");
    let old = tx
        .query(
            "SELECT id, key FROM work_items WHERE source = $1 AND id <> $2 \
             AND custom_fields::jsonb ->> 'node_id' = $3",
            &[source, keep, node_id],
        )
        .map_err(StoreError::pg(context()))?;
    for row in old {
        let id: String = row.get(0);
        let key: String = row.get(1);
        for t in schema::loaded_tables() {
            if t.replace_key == ["item_id"] {
                tx.execute(
                    &format!("DELETE FROM {} WHERE item_id = $1", t.name),
                    &[&id],
                )
                .map_err(StoreError::pg(context()))?;
            }
        }
        tx.execute("DELETE FROM work_items WHERE id = $1", &[&id])
            .map_err(StoreError::pg(context()))?;
        for table in ["raw_records", "bad_records"] {
            tx.execute(
                &format!("DELETE FROM {table} WHERE source = $1 AND key = $2"),
                &[source, &key],
            )
            .map_err(StoreError::pg(context()))?;
        }
        tracing::info!(old = %id, new = %keep, "moved item: its old key is removed");
    }
    Ok(())
}
