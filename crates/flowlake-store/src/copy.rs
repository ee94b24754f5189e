//! `flowlake store copy`: everything one store holds — raw landing, every loaded table, the sync cursors —
//! moved into another store of any kind, so a team that starts on the DuckDB file moves to PostgreSQL (or
//! back) without reading any API again. Rows go through the stores' own seams: the source's SQL console
//! reads them, the target's [`Store::load`] writes them.

use arrow::array::{Array, ArrayRef, AsArray};
use arrow::compute::cast;
use arrow::datatypes::DataType;
use arrow::record_batch::RecordBatch;

use crate::batch::LoadBatch;
use crate::error::StoreError;
use crate::schema::{self, TableDef};
use crate::state::CursorUpdate;
use crate::store::Store;

/// Rows read per query (and loaded per batch, give or take one replace key's group).
const PAGE_ROWS: usize = 20_000;

/// What a copy moved: rows per table, then the number of cursors.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct CopyReport {
    /// `(table, rows)` in load order.
    pub tables: Vec<(&'static str, u64)>,
    /// Sync cursors.
    pub cursors: usize,
}

/// Copies every loaded table and the cursors of `from` into `to`, which must hold nothing yet (no work
/// item, raw record or cursor): a copy never mixes two stores' data. `progress` hears each table's rows as
/// they load. Each page of a table loads in a transaction of its own (where the store has them), with the
/// rows of one replace key (an item's changelog) always in one page, so an interrupted copy can be run
/// again into an emptied target.
pub fn copy_store(
    from: &mut dyn Store,
    to: &mut dyn Store,
    mut progress: impl FnMut(&str, u64),
) -> Result<CopyReport, StoreError> {
    let occupied = to.count(schema::WORK_ITEMS.name)? > 0
        || to.count(schema::RAW_RECORDS.name)? > 0
        || !to.list()?.is_empty();
    if occupied {
        return Err(StoreError::Sql {
            context: format!("copying into {}", to.describe()),
            message: "the target already holds data; copy into a new or empty store".into(),
        });
    }
    let mut report = CopyReport::default();
    for def in schema::loaded_tables() {
        let rows = copy_table(from, to, def, &mut progress)?;
        report.tables.push((def.name, rows));
    }
    let cursors: Vec<CursorUpdate> = from
        .list()?
        .into_iter()
        .map(|(key, cursor)| CursorUpdate::put(key, cursor))
        .collect();
    to.put_all(&cursors)?;
    report.cursors = cursors.len();
    Ok(report)
}

/// Copies one table page by page, in primary-key order; a page ends before the last replace key it
/// reached, unless that key's rows fill the page (then the page grows).
fn copy_table(
    from: &dyn Store,
    to: &mut dyn Store,
    def: &'static TableDef,
    progress: &mut impl FnMut(&str, u64),
) -> Result<u64, StoreError> {
    let console = from.console().ok_or_else(|| StoreError::Sql {
        context: format!("copying from {}", from.describe()),
        message: "the store has no SQL console to read its tables with".into(),
    })?;
    let columns: Vec<&str> = def.columns.iter().map(|c| c.name).collect();
    let mut copied = 0_u64;
    let mut limit = PAGE_ROWS;
    loop {
        let sql = format!(
            "SELECT {} FROM {} ORDER BY {} LIMIT {limit} OFFSET {copied}",
            columns.join(", "),
            def.name,
            def.primary_key.join(", ")
        );
        let page = console.query(&sql)?;
        let rows: usize = page.batches.iter().map(RecordBatch::num_rows).sum();
        let last_page = rows < limit;
        let keep = match last_page {
            true => rows,
            false => rows - trailing_group(def, &page.batches)?,
        };
        if keep == 0 {
            if last_page {
                return Ok(copied);
            }
            // One replace key's rows fill the page: read a larger one.
            limit *= 2;
            continue;
        }
        let mut batch = LoadBatch::new();
        let mut left = keep;
        for b in &page.batches {
            let take = left.min(b.num_rows());
            batch.copied_rows(def, &b.slice(0, take))?;
            left -= take;
        }
        to.load(&mut batch, None)?;
        copied += keep as u64;
        progress(def.name, copied);
        limit = PAGE_ROWS;
        if last_page {
            return Ok(copied);
        }
    }
}

/// How many rows at the end of `batches` share the last row's replace key.
fn trailing_group(def: &TableDef, batches: &[RecordBatch]) -> Result<usize, StoreError> {
    let indexes: Vec<usize> = def
        .replace_key
        .iter()
        .filter_map(|k| def.columns.iter().position(|c| c.name == *k))
        .collect();
    // Each batch's key columns as text, cast once.
    let keys: Vec<Vec<ArrayRef>> = batches
        .iter()
        .map(|b| {
            indexes
                .iter()
                .map(|&i| cast(b.column(i), &DataType::Utf8))
                .collect::<Result<_, _>>()
        })
        .collect::<Result<_, _>>()
        .map_err(|e| StoreError::Batch {
            table: def.name.to_string(),
            message: e.to_string(),
        })?;
    let key_at = |b: usize, row: usize| -> Vec<Option<&str>> {
        keys[b]
            .iter()
            .map(|a| {
                let s = a.as_string::<i32>();
                s.is_valid(row).then(|| s.value(row))
            })
            .collect()
    };
    let mut rows = (0..batches.len())
        .rev()
        .flat_map(|b| (0..batches[b].num_rows()).rev().map(move |r| (b, r)));
    let Some((b, r)) = rows.next() else {
        return Ok(0);
    };
    let last = key_at(b, r);
    Ok(1 + rows.take_while(|&(b, r)| key_at(b, r) == last).count())
}
