//! Loads into a ClickHouse store, which has no multi-statement transactions: each step is one idempotent
//! statement, so a load cut short anywhere and replayed leaves the views as one uninterrupted load would.
//!
//! Per table of a batch: its rows are inserted as `RowBinary` (encoded here from the Arrow columns) with a
//! fresh `_version`, and an `insert_deduplication_token` of the body, so a retried request lands once. Then
//! the stored live rows sharing a replace key with the batch that the batch did not bring (a shrinking
//! history) get tombstones, at a higher version, by one `INSERT … SELECT` on the server. Moved items and the
//! bad records of records that normalized are tombstoned the same way.

use std::collections::hash_map::DefaultHasher;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};

use arrow::array::{Array, AsArray, StringArray};
use arrow::datatypes::ArrowNativeType;

use super::http::quote;
use super::ClickHouseStore;
use crate::batch::column::HandOverColumn;
use crate::batch::{HandOver, LoadBatch, MovedItem, RecordKey, TableRows};
use crate::error::StoreError;
use crate::schema::{self, TableDef};

impl ClickHouseStore {
    /// The body of [`crate::Store::load`].
    pub(super) fn load_batch(&mut self, batch: &mut LoadBatch) -> Result<(), StoreError> {
        let HandOver { tables, plan } = batch.hand_over()?;
        // What optimize_after_sync merges at the end of the run: every table this load may write to.
        if !plan.normalized.is_empty() {
            self.loaded.insert(schema::BAD_RECORDS.name);
        }
        if !plan.moved.is_empty() {
            self.loaded.extend(schema::loaded_tables().map(|t| t.name));
        }
        self.loaded.extend(tables.iter().map(|t| t.def.name));
        clear_bad_records(self, &plan.normalized)?;
        for t in &tables {
            self.replace(t, &plan.items)?;
        }
        for m in &plan.moved {
            retire_moved(self, m)?;
        }
        Ok(())
    }

    /// Inserts `t`'s rows, then tombstones the stored rows of their replace keys they do not bring.
    fn replace(&self, t: &TableRows, items: &StringArray) -> Result<(), StoreError> {
        let def = t.def;
        let name = def.name;
        let first_seen = match name == schema::BAD_RECORDS.name {
            true => self.stored_first_seen(t)?,
            false => HashMap::new(),
        };
        let version = self.next_version();
        let body = encode(t, items, version, &first_seen)?;
        let mut hasher = DefaultHasher::new();
        body.hash(&mut hasher);
        let token = format!("{name}-{version}-{:016x}-{}", hasher.finish(), body.len());
        let columns: Vec<&str> = def.columns.iter().map(|c| c.name).collect();
        let columns = columns.join(", ");
        self.http.send(
            &format!("INSERT INTO {name}_rows ({columns}, _version, _deleted) FORMAT RowBinary"),
            Some(&body),
            &[("insert_deduplication_token", token)],
            true,
            &format!("loading {name}"),
        )?;
        let keys = def.replace_key.join(", ");
        let tombstone = self.next_version();
        self.http.run(
            &format!(
                "INSERT INTO {name}_rows ({columns}, _version, _deleted) \
                 SELECT {columns}, {tombstone}, 1 FROM {name}_rows FINAL \
                 WHERE _deleted = 0 AND _version < {version} \
                 AND ({keys}) IN (SELECT {keys} FROM {name}_rows WHERE _version = {version})"
            ),
            &format!("removing stale rows of {name}"),
        )?;
        Ok(())
    }

    /// The stored `first_seen` of the bad records in `t`: a record that fails again keeps the time it was
    /// first seen failing.
    fn stored_first_seen(&self, t: &TableRows) -> Result<HashMap<[String; 3], i64>, StoreError> {
        let keys = record_keys(t)?;
        if keys.is_empty() {
            return Ok(HashMap::new());
        }
        let list: Vec<String> = keys
            .iter()
            .map(|[a, b, c]| format!("({}, {}, {})", quote(a), quote(b), quote(c)))
            .collect();
        let rows = self.json_rows(
            &format!(
                "SELECT source, stream, key, toUnixTimestamp64Micro(first_seen) FROM bad_records \
                 WHERE (source, stream, key) IN ({})",
                list.join(", ")
            ),
            "reading first_seen of bad_records",
        )?;
        Ok(rows
            .into_iter()
            .filter_map(|r| {
                let s = |i: usize| r.get(i).and_then(|v| v.as_str()).map(String::from);
                let micros = r.get(3).and_then(super::json_i64)?;
                Some(([s(0)?, s(1)?, s(2)?], micros))
            })
            .collect())
    }

    /// Tombstones, at a new version, the live rows of `table` that `condition` selects.
    pub(super) fn tombstone(
        &self,
        table: &str,
        columns: &[&str],
        condition: &str,
        context: &str,
    ) -> Result<(), StoreError> {
        let columns = columns.join(", ");
        let version = self.next_version();
        self.http
            .run(
                &format!(
                    "INSERT INTO {table}_rows ({columns}, _version, _deleted) \
                     SELECT {columns}, {version}, 1 FROM {table}_rows FINAL \
                     WHERE _deleted = 0 AND ({condition})"
                ),
                context,
            )
            .map(|_| ())
    }
}

/// The `(source, stream, key)` of each row of a `bad_records` batch.
fn record_keys(t: &TableRows) -> Result<Vec<[String; 3]>, StoreError> {
    let column = |i: usize| -> Result<&StringArray, StoreError> {
        t.record
            .column(i)
            .as_string_opt()
            .ok_or_else(|| StoreError::Batch {
                table: t.def.name.into(),
                message: "a key column is not text".into(),
            })
    };
    let (a, b, c) = (column(0)?, column(1)?, column(2)?);
    Ok((0..t.record.num_rows())
        .map(|i| [a.value(i), b.value(i), c.value(i)].map(String::from))
        .collect())
}

/// Tombstones the `bad_records` rows of `keys` (records that normalized).
fn clear_bad_records(store: &ClickHouseStore, keys: &[RecordKey]) -> Result<(), StoreError> {
    if keys.is_empty() {
        return Ok(());
    }
    let list: Vec<String> = keys
        .iter()
        .map(|k| {
            format!(
                "({}, {}, {})",
                quote(&k.source),
                quote(&k.stream),
                quote(&k.key)
            )
        })
        .collect();
    store.tombstone(
        "bad_records",
        &column_names(&schema::BAD_RECORDS),
        &format!("(source, stream, key) IN ({})", list.join(", ")),
        "clearing bad_records of records that normalized",
    )
}

fn column_names(def: &TableDef) -> Vec<&'static str> {
    def.columns.iter().map(|c| c.name).collect()
}

/// Tombstones the stored items of `source` that are `keep` under an older key (same
/// `custom_fields.node_id`), with their item-level rows, raw and bad records.
fn retire_moved(store: &ClickHouseStore, moved: &MovedItem) -> Result<(), StoreError> {
    let MovedItem {
        source,
        node_id,
        keep,
    } = moved;
    let context = format!("removing the old key of moved item {keep}");
    let old = store.json_rows(
        &format!(
            "SELECT id, key FROM work_items WHERE source = {} AND id != {} \
             AND JSONExtractString(custom_fields, 'node_id') = {}",
            quote(source),
            quote(keep),
            quote(node_id)
        ),
        &context,
    )?;
    for row in old {
        let text = |i: usize| row.get(i).and_then(|v| v.as_str()).unwrap_or_default();
        let (id, key) = (text(0), text(1));
        for t in schema::loaded_tables() {
            if t.replace_key == ["item_id"] {
                store.tombstone(
                    t.name,
                    &column_names(t),
                    &format!("item_id = {}", quote(id)),
                    &context,
                )?;
            }
        }
        store.tombstone(
            "work_items",
            &column_names(&schema::WORK_ITEMS),
            &format!("id = {}", quote(id)),
            &context,
        )?;
        for t in [&schema::RAW_RECORDS, &schema::BAD_RECORDS] {
            store.tombstone(
                t.name,
                &column_names(t),
                &format!("source = {} AND key = {}", quote(source), quote(key)),
                &context,
            )?;
        }
        tracing::info!(old = %id, new = %keep, "moved item: its old key is removed");
    }
    Ok(())
}

/// LEB128, as `RowBinary` prefixes strings and arrays.
fn varint(out: &mut Vec<u8>, mut n: u64) {
    loop {
        let byte = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

fn string(out: &mut Vec<u8>, s: &str) {
    varint(out, s.len() as u64);
    out.extend_from_slice(s.as_bytes());
}

/// The rows of `t` in `RowBinary`, each followed by `_version` and `_deleted = 0`; label and item columns
/// decoded from their dictionaries (item ids are `items`).
fn encode(
    t: &TableRows,
    items: &StringArray,
    version: u64,
    first_seen: &HashMap<[String; 3], i64>,
) -> Result<Vec<u8>, StoreError> {
    let def = t.def;
    let readers: Vec<HandOverColumn<'_>> = def
        .columns
        .iter()
        .zip(t.record.columns())
        .map(|(c, array)| HandOverColumn::new(def, c.ty, array, items))
        .collect::<Result<_, _>>()?;
    let first_seen_column = def.columns.iter().position(|c| c.name == "first_seen");
    let keys = match first_seen.is_empty() {
        true => Vec::new(),
        false => record_keys(t)?,
    };
    let mut out = Vec::with_capacity(t.record.num_rows() * 64);
    for i in 0..t.record.num_rows() {
        for (n, (r, c)) in readers.iter().zip(def.columns).enumerate() {
            let earlier = (Some(n) == first_seen_column)
                .then(|| keys.get(i).and_then(|k| first_seen.get(k)))
                .flatten();
            match earlier {
                Some(e) => r.write_min_timestamp(&mut out, i, *e),
                None => r.write(&mut out, i, c.nullable),
            }
        }
        out.extend_from_slice(&version.to_le_bytes());
        out.push(0);
    }
    Ok(out)
}

impl HandOverColumn<'_> {
    /// Row `i`'s value; a nullable column's with the `Nullable` marker byte first. A NULL in a column that
    /// is not nullable is written as the type's default (the schema never produces one).
    fn write(&self, out: &mut Vec<u8>, i: usize, nullable: bool) {
        let null = self.is_null(i);
        if nullable && !matches!(self, Self::TextList(_)) {
            out.push(u8::from(null));
            if null {
                return;
            }
        }
        match self {
            Self::Text(a) => string(out, if null { "" } else { a.value(i) }),
            Self::Coded { .. } => string(out, self.coded(i).unwrap_or_default()),
            Self::Int(a) => {
                out.extend_from_slice(&(if null { 0 } else { a.value(i) }).to_le_bytes())
            }
            Self::Float(a) => {
                out.extend_from_slice(&(if null { 0.0 } else { a.value(i) }).to_le_bytes());
            }
            Self::Bool(a) => out.push(u8::from(!null && a.value(i))),
            Self::Timestamp(a) => {
                out.extend_from_slice(&(if null { 0 } else { a.value(i) }).to_le_bytes());
            }
            Self::TextList(a) => {
                if null {
                    varint(out, 0);
                    return;
                }
                let offsets = a.value_offsets();
                let (start, end) = (offsets[i].as_usize(), offsets[i + 1].as_usize());
                varint(out, (end - start) as u64);
                let values = a.values().as_string_opt::<i32>();
                for j in start..end {
                    let v = values.filter(|s| s.is_valid(j)).map_or("", |s| s.value(j));
                    string(out, v);
                }
            }
        }
    }

    /// A (non-nullable) timestamp: the earlier of row `i`'s and `earlier`.
    fn write_min_timestamp(&self, out: &mut Vec<u8>, i: usize, earlier: i64) {
        let v = match self {
            Self::Timestamp(a) if a.is_valid(i) => a.value(i).min(earlier),
            _ => earlier,
        };
        out.extend_from_slice(&v.to_le_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_are_leb128() {
        let mut out = Vec::new();
        varint(&mut out, 0);
        varint(&mut out, 127);
        varint(&mut out, 300);
        assert_eq!(out, vec![0, 127, 0xac, 0x02]);
    }

    /// What makes a retried insert harmless: the same body under the same token lands once, which needs the
    /// tables' `non_replicated_deduplication_window`.
    #[test]
    fn a_retried_insert_with_the_same_token_lands_once() {
        use flowlake_testkit::servers::{
            clickhouse_database, CLICKHOUSE_PASSWORD, CLICKHOUSE_USER,
        };
        let db = clickhouse_database();
        let options = super::super::ClickHouseOptions {
            user: CLICKHOUSE_USER.into(),
            password: Some(CLICKHOUSE_PASSWORD.into()),
            ..super::super::ClickHouseOptions::new(db.url(), db.name.clone())
        };
        let store = ClickHouseStore::open(&options, crate::OpenMode::ReadWrite).unwrap();
        let mut body = Vec::new();
        string(&mut body, "mark");
        body.extend_from_slice(&1_700_000_000_000_000_i64.to_le_bytes());
        body.extend_from_slice(&7_u64.to_le_bytes());
        body.push(0);
        let count = || {
            store
                .json_rows("SELECT count() FROM store_marks_rows", "counting")
                .unwrap()[0][0]
                .as_i64()
                .unwrap()
        };
        for token in ["page-1", "page-1", "page-2"] {
            store
                .http
                .send(
                    "INSERT INTO store_marks_rows (mark, since, _version, _deleted) FORMAT RowBinary",
                    Some(&body),
                    &[("insert_deduplication_token", token.into())],
                    true,
                    "inserting",
                )
                .unwrap();
        }
        assert_eq!(count(), 2, "page-1 once, page-2 once");
    }
}
