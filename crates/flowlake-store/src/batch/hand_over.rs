//! What a [`LoadBatch`](super::LoadBatch) hands a store: Arrow record batches, one per table, and beside them
//! the replace plan. Nothing in it is particular to one store: label and item columns are dictionary arrays
//! (see [`super::rows`]), the replace keys are the tables' own ([`TableDef::replace_key`]).

use arrow::array::StringArray;
use arrow::record_batch::RecordBatch;

use crate::schema::TableDef;

/// A batch ready to load: every non-empty table's rows, in load order, and what else the load must do.
pub struct HandOver {
    /// The rows of each table that has any, in the order the tables load ([`crate::schema::DATA_TABLES`],
    /// then the tables of registered entity kinds).
    pub tables: Vec<TableRows>,
    /// What the load replaces or removes besides the rows sharing a replace key with the batch's.
    pub plan: ReplacePlan,
}

/// The rows of one table.
pub struct TableRows {
    /// The table: its columns (in the record's order), replace key and indexes.
    pub def: &'static TableDef,
    /// The rows. Each [`ColType::Label`](crate::schema::ColType::Label) column is a dictionary of `Int32`
    /// keys over the table's labels, each [`ColType::Item`](crate::schema::ColType::Item) column a dictionary
    /// of `Int64` keys over [`ReplacePlan::items`].
    pub record: RecordBatch,
}

/// What a load does besides replacing rows by key. Why a plan beside the rows: a store that cannot run it
/// in the rows' transaction (ClickHouse) still needs to know it, and a store that can (DuckDB, PostgreSQL)
/// runs it there so that a failed load changes nothing.
pub struct ReplacePlan {
    /// The batch's item ids: its work items' and those its item-level rows name, the values of its item
    /// columns' dictionaries. DuckDB gives each one its integer code.
    pub items: StringArray,
    /// Whether every item-level row came with its work item in the batch: when none of [`Self::items`] is
    /// stored yet, the work items and their item-level rows can then be appended without looking for old
    /// rows (a first load, a backfill).
    pub items_complete: bool,
    /// Records that normalized: their `bad_records` rows, if an earlier load left some, go.
    pub normalized: Vec<RecordKey>,
    /// Items that moved: every other stored item of the source with the same node id goes, with its rows.
    pub moved: Vec<MovedItem>,
}

/// A landed record's key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordKey {
    /// The source's name.
    pub source: String,
    /// The stream the record came from.
    pub stream: String,
    /// The record's key in the stream.
    pub key: String,
}

/// An item seen under a new key: stored items of `source` whose `custom_fields.node_id` is `node_id` and
/// whose id is not `keep` are the same item under an old key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MovedItem {
    /// The source's name.
    pub source: String,
    /// The item's node id, the same under every key.
    pub node_id: String,
    /// The item's id now.
    pub keep: String,
}
