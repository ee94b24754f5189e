//! Batches of rows on their way into a store, built column by column (Arrow) so loads are bulk appends.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Utc};
use flowlake_core::metrics::tracker_exporter::StatusRow;
use flowlake_core::metrics::{ItemMetrics, PullRequestMetrics, StatusInterval};
use flowlake_core::{
    Deployment, FieldChange, Person, Pipeline, PullRequest, PullRequestState, RawRecord, Release,
    Review, Sprint, StatusCategory, StatusChange, WorkItem, Worklog,
};

use crate::schema::{self, TableDef};

mod rows;

pub use rows::{Row, RowBatch, TakenRows};

/// Everything one page brings: raw records, entities and metric rows, loaded in one transaction.
///
/// Item-level rows (changelog, intervals, metrics) are replaced per item. When every item-level row comes
/// with its work item in the same batch (what the engine always does) and none of those items is stored
/// yet, the store appends them without looking for old rows to delete, which keeps first loads fast.
pub struct LoadBatch {
    tables: BTreeMap<&'static str, RowBatch>,
    /// (source, node id, id to keep): stored items of the source with the node id and another id go.
    moved: Vec<(String, String, String)>,
    items: ItemIds,
    has_work_items: bool,
    person_ids: HashSet<String>,
    sprint_ids: HashSet<String>,
    orphans: bool,
    /// (source, stream, key) of records that normalized: their `bad_records` rows, if any, go.
    normalized: Vec<(String, String, String)>,
}

/// The item ids of one batch (its work items' and those its item-level rows name), numbered from 0 in order
/// of first use: [`ColType::Item`](crate::schema::ColType::Item) columns hold these numbers until the store maps them to its item codes.
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
            person_ids: HashSet::new(),
            sprint_ids: HashSet::new(),
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

    /// Whether some item-level row came without its work item.
    pub fn has_orphans(&self) -> bool {
        self.orphans
    }

    /// Whether the batch holds work items.
    pub fn has_work_items(&self) -> bool {
        self.has_work_items
    }

    /// The batch's item ids, in the order of the numbers its [`ColType::Item`](crate::schema::ColType::Item) columns hold; without
    /// orphans, these are its work items' ids.
    pub(crate) fn take_item_ids(&mut self) -> Vec<String> {
        std::mem::take(&mut self.items).ids
    }

    fn table(&mut self, def: &TableDef) -> &mut RowBatch {
        self.tables
            .get_mut(def.name)
            .expect("every data table has a batch")
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

    /// The batches, in load order.
    pub(crate) fn tables_mut(&mut self) -> impl Iterator<Item = &mut RowBatch> {
        let order: Vec<&str> = schema::DATA_TABLES.iter().map(|t| t.name).collect();
        let mut by_name: Vec<(&'static str, &mut RowBatch)> =
            self.tables.iter_mut().map(|(k, v)| (*k, v)).collect();
        by_name.sort_by_key(|(n, _)| order.iter().position(|o| o == n));
        by_name.into_iter().map(|(_, b)| b)
    }

    /// A landed API record.
    pub fn raw(&mut self, r: &RawRecord) {
        let payload = r.payload.to_string();
        self.table(&schema::RAW_RECORDS)
            .row()
            .text(Some(&r.source))
            .text(Some(&r.stream))
            .text(Some(&r.key))
            .ts(r.updated_at)
            .ts(Some(r.fetched_at))
            .text(Some(&payload))
            .end();
    }

    /// A landed record its source could not normalize, with the source's message, seen failing at `seen_at`.
    /// The load replaces the record's `bad_records` row and keeps the `first_seen` of the row it replaces.
    pub fn bad_record(&mut self, r: &RawRecord, error: &str, seen_at: DateTime<Utc>) {
        self.table(&schema::BAD_RECORDS)
            .row()
            .text(Some(&r.source))
            .text(Some(&r.stream))
            .text(Some(&r.key))
            .text(Some(error))
            .ts(Some(seen_at))
            .ts(Some(seen_at))
            .end();
    }

    /// A record that normalized: the load removes its `bad_records` row, if an earlier load left one, so a
    /// record fixed by a later sync or a rebuild leaves the table.
    pub fn normalized(&mut self, r: &RawRecord) {
        self.normalized
            .push((r.source.clone(), r.stream.clone(), r.key.clone()));
    }

    /// The records marked by [`LoadBatch::normalized`].
    pub(crate) fn take_normalized(&mut self) -> Vec<(String, String, String)> {
        std::mem::take(&mut self.normalized)
    }

    /// A work item.
    pub fn work_item(&mut self, w: &WorkItem) {
        self.items.number(&w.id);
        self.has_work_items = true;
        let custom = w.custom_fields.to_string();
        self.table(&schema::WORK_ITEMS)
            .row()
            .text(Some(&w.id))
            .text(Some(&w.source))
            .text(Some(&w.project))
            .text(Some(&w.key))
            .text(Some(&w.title))
            .text(Some(&w.item_type))
            .text(Some(w.standard_type.as_str()))
            .text(Some(&w.status))
            .text(Some(w.status_category.as_str()))
            .text(w.priority.as_deref())
            .text(w.author.as_deref())
            .text(w.assignee.as_deref())
            .list(&w.labels)
            .list(&w.components)
            .text(w.parent.as_deref())
            .ts(Some(w.created_at))
            .ts(Some(w.updated_at))
            .ts(w.resolved_at)
            .text(w.url.as_deref())
            .text(Some(&custom))
            .end();
    }

    /// A status move.
    pub fn status_change(&mut self, c: &StatusChange) {
        let item = self.item_row(&c.item_id);
        self.table(&schema::STATUS_CHANGES)
            .row()
            .item(item)
            .text(Some(&c.change_id))
            .ts(Some(c.at))
            .label(c.author.as_deref())
            .label(c.from_status.as_deref())
            .label(Some(&c.to_status))
            .end();
    }

    /// A changed field.
    pub fn field_change(&mut self, c: &FieldChange) {
        self.item_row(&c.item_id);
        self.table(&schema::FIELD_CHANGES)
            .row()
            .text(Some(&c.item_id))
            .text(Some(&c.change_id))
            .ts(Some(c.at))
            .text(c.author.as_deref())
            .text(Some(&c.field))
            .text(c.from_value.as_deref())
            .text(c.to_value.as_deref())
            .end();
    }

    /// A person; repeated ids within the batch are kept once.
    pub fn person(&mut self, p: &Person) {
        if !self.person_ids.insert(p.id.clone()) {
            return;
        }
        self.table(&schema::PEOPLE)
            .row()
            .text(Some(&p.id))
            .text(Some(&p.source))
            .text(Some(&p.login))
            .text(p.name.as_deref())
            .text(p.email.as_deref())
            .end();
    }

    /// Marks `keep` as the item that moved: every other stored item of `source` whose
    /// `custom_fields.node_id` is `node_id` (the same item under its old key) is removed by the load, with its
    /// rows and raw records.
    pub fn moved(&mut self, source: &str, node_id: &str, keep: &str) {
        self.moved
            .push((source.to_string(), node_id.to_string(), keep.to_string()));
    }

    /// The moves recorded by [`LoadBatch::moved`].
    pub(crate) fn take_moves(&mut self) -> Vec<(String, String, String)> {
        std::mem::take(&mut self.moved)
    }

    /// A pull request with its review metrics.
    pub fn pull_request(&mut self, pr: &PullRequest, m: &PullRequestMetrics) {
        self.item_row(&pr.id);
        let state = match pr.state {
            PullRequestState::Open => "open",
            PullRequestState::Closed => "closed",
            PullRequestState::Merged => "merged",
        };
        self.table(&schema::PULL_REQUESTS)
            .row()
            .text(Some(&pr.id))
            .text(Some(&pr.source))
            .text(Some(&pr.repository))
            .int(Some(pr.number))
            .text(Some(&pr.title))
            .text(pr.author.as_deref())
            .text(Some(state))
            .bool(Some(pr.draft))
            .ts(Some(pr.created_at))
            .ts(pr.ready_at)
            .ts(m.first_review_at)
            .ts(m.approved_at)
            .ts(pr.merged_at)
            .ts(pr.closed_at)
            .int(m.seconds_to_first_review)
            .int(m.seconds_to_merge)
            .int(Some(m.review_count))
            .text(pr.base_branch.as_deref())
            .text(pr.head_branch.as_deref())
            .int(pr.additions)
            .int(pr.deletions)
            .text(pr.url.as_deref())
            .end();
    }

    /// A deployment.
    pub fn deployment(&mut self, d: &Deployment) {
        self.table(&schema::DEPLOYMENTS)
            .row()
            .text(Some(&d.id))
            .text(Some(&d.source))
            .text(Some(&d.service))
            .text(Some(&d.environment))
            .text(d.commit_sha.as_deref())
            .text(Some(&d.status))
            .ts(Some(d.created_at))
            .ts(d.finished_at)
            .end();
    }

    /// A release.
    pub fn release(&mut self, r: &Release) {
        self.table(&schema::RELEASES)
            .row()
            .text(Some(&r.id))
            .text(Some(&r.source))
            .text(Some(&r.repository))
            .text(Some(&r.tag))
            .text(r.name.as_deref())
            .text(r.author.as_deref())
            .ts(Some(r.created_at))
            .ts(r.published_at)
            .bool(Some(r.draft))
            .bool(Some(r.prerelease))
            .text(r.url.as_deref())
            .end();
    }

    /// A worklog of an item.
    pub fn worklog(&mut self, w: &Worklog) {
        self.item_row(&w.item_id);
        self.table(&schema::WORKLOGS)
            .row()
            .text(Some(&w.item_id))
            .text(Some(&w.id))
            .text(w.author.as_deref())
            .ts(Some(w.started_at))
            .int(Some(w.seconds))
            .ts(w.created_at)
            .ts(w.updated_at)
            .end();
    }

    /// A sprint, and that `item_id` is in it.
    pub fn item_sprint(&mut self, item_id: &str, s: &Sprint) {
        self.item_row(item_id);
        self.table(&schema::ITEM_SPRINTS)
            .row()
            .text(Some(item_id))
            .text(Some(&s.id))
            .end();
        if !self.sprint_ids.insert(s.id.clone()) {
            return;
        }
        self.table(&schema::SPRINTS)
            .row()
            .text(Some(&s.id))
            .text(Some(&s.source))
            .int(s.board_id)
            .text(Some(&s.name))
            .text(Some(&s.state))
            .text(s.goal.as_deref())
            .ts(s.start_at)
            .ts(s.end_at)
            .ts(s.complete_at)
            .end();
    }

    /// A CI pipeline run.
    pub fn pipeline(&mut self, p: &Pipeline) {
        self.table(&schema::PIPELINES)
            .row()
            .text(Some(&p.id))
            .text(Some(&p.source))
            .text(Some(&p.project))
            .text(p.git_ref.as_deref())
            .text(p.commit_sha.as_deref())
            .text(Some(&p.status))
            .text(p.trigger.as_deref())
            .ts(Some(p.created_at))
            .ts(Some(p.updated_at))
            .text(p.url.as_deref())
            .end();
    }

    /// A submitted review.
    pub fn review(&mut self, r: &Review) {
        self.item_row(&r.pull_request_id);
        self.table(&schema::PULL_REQUEST_REVIEWS)
            .row()
            .text(Some(&r.pull_request_id))
            .text(Some(&r.id))
            .text(r.author.as_deref())
            .text(Some(&r.state))
            .ts(Some(r.submitted_at))
            .end();
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
        self.table(&schema::ITEM_METRICS)
            .row()
            .text(Some(&m.item_id))
            .text(Some(&item.source))
            .text(Some(&item.project))
            .text(Some(&item.item_type))
            .text(Some(item.standard_type.as_str()))
            .text(item.assignee.as_deref())
            .ts(Some(m.created_at))
            .ts(m.started_at)
            .ts(m.completed_at)
            .int(m.lead_seconds)
            .int(m.lead_business_seconds)
            .int(m.cycle_seconds)
            .int(m.cycle_business_seconds)
            .int(Some(m.reopen_count.into()))
            .int(m.active_seconds)
            .float(m.flow_efficiency)
            .ts(m.first_response_at)
            .int(m.first_response_seconds)
            .text(Some(&m.status_path))
            .int(Some(m.status_changes.into()))
            .text(Some(&m.current_status))
            .text(Some(m.current_category.as_str()))
            .int(m.age_seconds)
            .ts(Some(computed_at))
            .text(guessed.as_deref())
            .end();
    }

    /// An item's status intervals.
    pub fn status_interval(&mut self, item_id: &str, i: &StatusInterval) {
        let item = self.item_row(item_id);
        self.table(&schema::STATUS_INTERVALS)
            .row()
            .item(item)
            .int(Some(i.seq.into()))
            .label(Some(&i.status))
            .label(Some(i.category.as_str()))
            .ts(Some(i.start))
            .ts(i.end)
            .int(Some(i.calendar_seconds))
            .int(Some(i.business_seconds))
            .end();
    }

    /// A tracker-exporter compatible row.
    pub fn tracker_exporter_row(&mut self, item_id: &str, r: &StatusRow) {
        let item = self.item_row(item_id);
        self.table(&schema::TRACKER_EXPORTER_ISSUE_METRICS)
            .row()
            .item(item)
            .ts(Some(r.last_seen))
            .text(Some(&r.issue_key))
            .label(Some(&r.status_name))
            .int(Some(r.status_transitions_count.into()))
            .int(Some(r.duration))
            .text(Some(&r.human_readable_duration))
            .int(Some(r.busdays_duration))
            .text(Some(&r.human_readable_busdays_duration))
            .end();
    }
}
