//! Batches of rows on their way into a store, built column by column (Arrow) so loads are bulk appends.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use arrow::array::{ArrayRef, StringArray};

use chrono::{DateTime, Utc};
use flowlake_core::metrics::tracker_exporter::StatusRow;
use flowlake_core::metrics::{ItemMetrics, PullRequestMetrics, StatusInterval};
use flowlake_core::{
    AnyEntity, FieldChange, PullRequest, RawRecord, Review, Sprint, StatusCategory, StatusChange,
    WorkItem, Worklog,
};

use crate::entity::TableRow;
use crate::error::StoreError;
use crate::schema::{self, TableDef};

pub(crate) mod column;
mod copy;
mod hand_over;
mod rows;

pub use hand_over::{HandOver, MovedItem, RecordKey, ReplacePlan, TableRows};
pub use rows::{arrow_type, Row, RowBatch};

/// Everything one page brings: raw records, entities and metric rows, loaded in one transaction.
///
/// Item-level rows (changelog, intervals, metrics) are replaced per item. When every item-level row comes
/// with its work item in the same batch (what the engine always does) and none of those items is stored
/// yet, the store appends them without looking for old rows to delete, which keeps first loads fast.
pub struct LoadBatch {
    tables: BTreeMap<&'static str, RowBatch>,
    /// Stored items of the source with the node id and another id go.
    moved: Vec<MovedItem>,
    items: ItemIds,
    has_work_items: bool,
    orphans: bool,
    /// Records that normalized: their `bad_records` rows, if any, go.
    normalized: Vec<RecordKey>,
}

/// The item ids of one batch (its work items' and those its item-level rows name), numbered from 0 in order
/// of first use: the keys of the [`ColType::Item`](crate::schema::ColType::Item) columns' dictionary.
#[derive(Default)]
struct ItemIds {
    ids: Vec<String>,
    numbers: HashMap<String, i64>,
}

impl ItemIds {
    /// The number of `id`, and whether the batch had it before.
    fn number(&mut self, id: &str) -> (i64, bool) {
        // Rows mostly follow their own work item, so the last id answers before the map is asked.
        if self.ids.last().is_some_and(|last| last == id) {
            return (self.ids.len() as i64 - 1, true);
        }
        if let Some(n) = self.numbers.get(id) {
            return (*n, true);
        }
        let n = self.ids.len() as i64;
        self.ids.push(id.to_string());
        self.numbers.insert(id.to_string(), n);
        (n, false)
    }
}

impl Default for LoadBatch {
    fn default() -> Self {
        Self::new()
    }
}

impl LoadBatch {
    /// An empty batch with every data table.
    pub fn new() -> Self {
        Self {
            tables: schema::loaded_tables()
                .map(|t| (t.name, RowBatch::new(t)))
                .collect(),
            moved: Vec::new(),
            items: ItemIds::default(),
            has_work_items: false,
            orphans: false,
            normalized: Vec::new(),
        }
    }

    /// The batch's number of the item of an item-level row; a row whose work item the batch lacks is an
    /// orphan.
    fn item_row(&mut self, item_id: &str) -> i64 {
        let (number, known) = self.items.number(item_id);
        if !known {
            self.orphans = true;
        }
        number
    }

    /// The rows of `def`: every data table has its batch from the start; a table declared outside this crate
    /// (a [registered](crate::entity::register) entity kind) gets one with its first row.
    fn table(&mut self, def: &'static TableDef) -> &mut RowBatch {
        self.tables
            .entry(def.name)
            .or_insert_with(|| RowBatch::new(def))
    }

    /// Rows per table, non-empty tables only.
    pub fn counts(&self) -> Vec<(&'static str, usize)> {
        self.tables
            .iter()
            .filter(|(_, b)| !b.is_empty())
            .map(|(n, b)| (*n, b.len()))
            .collect()
    }

    /// Total rows.
    pub fn total_rows(&self) -> usize {
        self.tables.values().map(RowBatch::len).sum()
    }

    /// Takes everything out for a load, leaving the batch empty: the rows of each non-empty table in load
    /// order and the replace plan (see [`HandOver`]).
    pub fn hand_over(&mut self) -> Result<HandOver, StoreError> {
        let items = StringArray::from(std::mem::take(&mut self.items).ids);
        let values: ArrayRef = Arc::new(items.clone());
        let order: Vec<&str> = schema::DATA_TABLES.iter().map(|t| t.name).collect();
        let mut batches: Vec<&mut RowBatch> =
            self.tables.values_mut().filter(|b| !b.is_empty()).collect();
        // Tables of registered entity kinds, in no list, load last.
        batches.sort_by_key(|b| {
            order
                .iter()
                .position(|o| *o == b.def().name)
                .unwrap_or(usize::MAX)
        });
        let tables = batches
            .into_iter()
            .map(|b| {
                Ok(TableRows {
                    def: b.def(),
                    record: b.take(&values)?,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        let plan = ReplacePlan {
            items,
            items_complete: std::mem::take(&mut self.has_work_items)
                && !std::mem::take(&mut self.orphans),
            normalized: std::mem::take(&mut self.normalized),
            moved: std::mem::take(&mut self.moved),
        };
        Ok(HandOver { tables, plan })
    }

    /// A landed API record.
    pub fn raw(&mut self, r: &RawRecord) {
        schema::write_raw(self.table(&schema::RAW_RECORDS).row(), r);
    }

    /// A landed record its source could not normalize, with the source's message, seen failing at `seen_at`.
    /// The load replaces the record's `bad_records` row and keeps the `first_seen` of the row it replaces.
    pub fn bad_record(&mut self, r: &RawRecord, error: &str, seen_at: DateTime<Utc>) {
        schema::write_bad_record(self.table(&schema::BAD_RECORDS).row(), r, error, seen_at);
    }

    /// A record that normalized: the load removes its `bad_records` row, if an earlier load left one, so a
    /// record fixed by a later sync or a rebuild leaves the table.
    pub fn normalized(&mut self, r: &RawRecord) {
        self.normalized.push(RecordKey {
            source: r.source.clone(),
            stream: r.stream.clone(),
            key: r.key.clone(),
        });
    }

    /// A work item.
    pub fn work_item(&mut self, w: &WorkItem) {
        self.items.number(&w.id);
        self.has_work_items = true;
        schema::write_work_item(self.table(&schema::WORK_ITEMS).row(), w);
    }

    /// A status move.
    pub fn status_change(&mut self, c: &StatusChange) {
        let item = self.item_row(&c.item_id);
        schema::write_status_change(self.table(&schema::STATUS_CHANGES).row(), c, item);
    }

    /// A changed field.
    pub fn field_change(&mut self, c: &FieldChange) {
        self.item_row(&c.item_id);
        schema::write_field_change(self.table(&schema::FIELD_CHANGES).row(), c);
    }

    /// An entity of a kind declared with [`crate::declare_table!`], in its table: a person, a deployment, a
    /// release, a pipeline… Kinds declared `once by` a key (people, sprints) keep one row per key within the
    /// batch, the first.
    pub fn entity<T: TableRow>(&mut self, e: &T) {
        self.table(T::TABLE).write(e);
    }

    /// An entity of any kind, as a normalizer emitted it: written by the declaration of its type, found in
    /// [`schema::ENTITY_TABLES`] or among the [registered](crate::entity::register) kinds. A type no table is
    /// declared for is [`StoreError::UnknownEntity`].
    pub fn any_entity(&mut self, e: &dyn AnyEntity) -> Result<(), StoreError> {
        let any = e.as_any();
        let kind = crate::entity::entity_table(any).ok_or_else(|| StoreError::UnknownEntity {
            kind: e.kind().to_string(),
        })?;
        kind.write(any, self.table(kind.table));
        Ok(())
    }

    /// Marks `keep` as the item that moved: every other stored item of `source` whose
    /// `custom_fields.node_id` is `node_id` (the same item under its old key) is removed by the load, with its
    /// rows and raw records.
    pub fn moved(&mut self, source: &str, node_id: &str, keep: &str) {
        self.moved.push(MovedItem {
            source: source.to_string(),
            node_id: node_id.to_string(),
            keep: keep.to_string(),
        });
    }

    /// A pull request with its review metrics.
    pub fn pull_request(&mut self, pr: &PullRequest, m: &PullRequestMetrics) {
        self.item_row(&pr.id);
        schema::write_pull_request(self.table(&schema::PULL_REQUESTS).row(), pr, m);
    }

    /// A worklog of an item.
    pub fn worklog(&mut self, w: &Worklog) {
        self.item_row(&w.item_id);
        schema::write_worklog(self.table(&schema::WORKLOGS).row(), w);
    }

    /// A sprint, and that `item_id` is in it.
    pub fn item_sprint(&mut self, item_id: &str, s: &Sprint) {
        self.item_row(item_id);
        schema::write_item_sprint(self.table(&schema::ITEM_SPRINTS).row(), item_id, &s.id);
        self.entity(s);
    }

    /// A submitted review.
    pub fn review(&mut self, r: &Review) {
        self.item_row(&r.pull_request_id);
        schema::write_review(self.table(&schema::PULL_REQUEST_REVIEWS).row(), r);
    }

    /// An item's metrics, with the item's attributes used for filtering and the statuses whose category was
    /// guessed on its stays ([`flowlake_core::StatusMap::guessed`]), kept as a JSON object `{status: category}`
    /// (NULL when none) so `flowlake metrics` can list them.
    pub fn item_metrics(
        &mut self,
        item: &WorkItem,
        m: &ItemMetrics,
        guessed: &[(String, StatusCategory)],
        computed_at: DateTime<Utc>,
    ) {
        let guessed = (!guessed.is_empty()).then(|| {
            let object: BTreeMap<&str, &str> = guessed
                .iter()
                .map(|(s, c)| (s.as_str(), c.as_str()))
                .collect();
            serde_json::to_string(&object).unwrap_or_default()
        });
        self.item_row(&m.item_id);
        schema::write_item_metrics(
            self.table(&schema::ITEM_METRICS).row(),
            item,
            m,
            guessed.as_deref(),
            computed_at,
        );
    }

    /// An item's status intervals.
    pub fn status_interval(&mut self, item_id: &str, i: &StatusInterval) {
        let item = self.item_row(item_id);
        schema::write_status_interval(self.table(&schema::STATUS_INTERVALS).row(), i, item);
    }

    /// A tracker-exporter compatible row.
    pub fn tracker_exporter_row(&mut self, item_id: &str, r: &StatusRow) {
        let item = self.item_row(item_id);
        schema::write_tracker_exporter_row(
            self.table(&schema::TRACKER_EXPORTER_ISSUE_METRICS).row(),
            r,
            item,
        );
    }
}
