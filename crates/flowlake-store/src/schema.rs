//! The one schema description every store renders to its dialect: tables, columns, portable types and keys.
//! DuckDB's rendering (DDL, views, migrations) is [`crate::duckdb_store::ddl`]'s.
//!
//! Each table names its primary key (row identity) and its replace key: the group of rows a load replaces as
//! a whole. Item-level tables are replaced per item, so a history that shrinks (a deleted changelog entry, a
//! status no longer visited) leaves no stale rows.

/// A column type, portable across DuckDB, PostgreSQL and ClickHouse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColType {
    /// Text.
    Text,
    /// 64-bit integer.
    Int,
    /// 64-bit float.
    Float,
    /// Boolean.
    Bool,
    /// UTC timestamp, microseconds.
    Timestamp,
    /// List of text.
    TextList,
    /// JSON document stored as text.
    Json,
    /// A short text from a small set (status names, categories, person ids), stored as an `INTEGER` code into
    /// [`crate::duckdb_store::ddl::LABELS_DDL`]'s table (in DuckDB); the table's view gives the text back under the column's name. Repeated strings
    /// are most of what DuckDB spends loading the two 20M-row tables of a million issues, and a code costs a
    /// fraction of that.
    Label,
    /// The id of a work item, stored as a `BIGINT` code into [`crate::duckdb_store::ddl::ITEM_CODES_DDL`]'s table (in DuckDB); the table's view
    /// gives the id back under the column's name. Only in the tables with a row per status move or stay,
    /// where the same long id would otherwise be compressed again on twenty rows per item.
    Item,
}

/// One column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    /// Name.
    pub name: &'static str,
    /// Type.
    pub ty: ColType,
    /// Whether it may be NULL.
    pub nullable: bool,
}

/// One table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TableDef {
    /// Name.
    pub name: &'static str,
    /// What a row is, for docs and `COMMENT ON TABLE`.
    pub doc: &'static str,
    /// Columns in order.
    pub columns: &'static [Column],
    /// Columns identifying a row.
    pub primary_key: &'static [&'static str],
    /// Columns identifying the group of rows a load replaces.
    pub replace_key: &'static [&'static str],
}

impl TableDef {
    /// Whether some column is a [`ColType::Label`] or a [`ColType::Item`]: the rows are then stored in
    /// [`TableDef::stored_name`] and read through a view named [`TableDef::name`].
    pub fn is_coded(&self) -> bool {
        self.columns
            .iter()
            .any(|c| matches!(c.ty, ColType::Label | ColType::Item))
    }

    /// Whether `item_id` is a [`ColType::Item`] code: rows of an item are then found through `item_codes`.
    pub fn has_item_codes(&self) -> bool {
        self.columns.iter().any(|c| c.ty == ColType::Item)
    }

    /// The table that holds the rows: `name` itself, or `{name}_coded` behind the view of a coded table.
    pub fn stored_name(&self) -> String {
        if self.is_coded() {
            format!("{}_coded", self.name)
        } else {
            self.name.to_string()
        }
    }
}

const fn c(name: &'static str, ty: ColType) -> Column {
    Column {
        name,
        ty,
        nullable: false,
    }
}

const fn n(name: &'static str, ty: ColType) -> Column {
    Column {
        name,
        ty,
        nullable: true,
    }
}

use ColType::*;

/// API payloads exactly as received.
pub const RAW_RECORDS: TableDef = TableDef {
    name: "raw_records",
    doc: "Every API record as received, for rebuilds without API calls",
    columns: &[
        c("source", Text),
        c("stream", Text),
        c("key", Text),
        n("updated_at", Timestamp),
        c("fetched_at", Timestamp),
        c("payload", Json),
    ],
    primary_key: &["source", "stream", "key"],
    replace_key: &["source", "stream", "key"],
};

/// Work items.
pub const WORK_ITEMS: TableDef = TableDef {
    name: "work_items",
    doc: "Issues, tickets and stories from every tracker",
    columns: &[
        c("id", Text),
        c("source", Text),
        c("project", Text),
        c("key", Text),
        c("title", Text),
        c("item_type", Text),
        c("standard_type", Text),
        c("status", Text),
        c("status_category", Text),
        n("priority", Text),
        n("author", Text),
        n("assignee", Text),
        c("labels", TextList),
        c("components", TextList),
        n("parent", Text),
        c("created_at", Timestamp),
        c("updated_at", Timestamp),
        n("resolved_at", Timestamp),
        n("url", Text),
        c("custom_fields", Json),
    ],
    primary_key: &["id"],
    replace_key: &["id"],
};

/// Status moves.
pub const STATUS_CHANGES: TableDef = TableDef {
    name: "status_changes",
    doc: "Every status move of every work item",
    columns: &[
        c("item_id", Item),
        c("change_id", Text),
        c("changed_at", Timestamp),
        n("author", Label),
        n("from_status", Label),
        c("to_status", Label),
    ],
    primary_key: &["item_id", "change_id"],
    replace_key: &["item_id"],
};

/// Other field changes.
pub const FIELD_CHANGES: TableDef = TableDef {
    name: "field_changes",
    doc: "Every changed field other than status (status moves are in status_changes)",
    columns: &[
        c("item_id", Text),
        c("change_id", Text),
        c("changed_at", Timestamp),
        n("author", Text),
        c("field", Text),
        n("from_value", Text),
        n("to_value", Text),
    ],
    primary_key: &["item_id", "change_id", "field"],
    replace_key: &["item_id"],
};

/// People.
pub const PEOPLE: TableDef = TableDef {
    name: "people",
    doc: "People as each source knows them",
    columns: &[
        c("id", Text),
        c("source", Text),
        c("login", Text),
        n("name", Text),
        n("email", Text),
    ],
    primary_key: &["id"],
    replace_key: &["id"],
};

/// Per-item flow metrics.
pub const ITEM_METRICS: TableDef = TableDef {
    name: "item_metrics",
    doc: "Flow metrics of each work item (docs/metrics.md), as of computed_at",
    columns: &[
        c("item_id", Text),
        c("source", Text),
        c("project", Text),
        c("item_type", Text),
        c("standard_type", Text),
        n("assignee", Text),
        c("created_at", Timestamp),
        n("started_at", Timestamp),
        n("completed_at", Timestamp),
        n("lead_seconds", Int),
        n("lead_business_seconds", Int),
        n("cycle_seconds", Int),
        n("cycle_business_seconds", Int),
        c("reopen_count", Int),
        n("active_seconds", Int),
        n("flow_efficiency", Float),
        n("first_response_at", Timestamp),
        n("first_response_seconds", Int),
        c("status_path", Text),
        c("status_changes", Int),
        c("current_status", Text),
        c("current_category", Text),
        n("age_seconds", Int),
        c("computed_at", Timestamp),
        n("guessed_statuses", Json),
    ],
    primary_key: &["item_id"],
    replace_key: &["item_id"],
};

/// Status intervals.
pub const STATUS_INTERVALS: TableDef = TableDef {
    name: "status_intervals",
    doc: "Each stay of each item in one status; ended_at is NULL for the current status",
    columns: &[
        c("item_id", Item),
        c("seq", Int),
        c("status", Label),
        c("category", Label),
        c("started_at", Timestamp),
        n("ended_at", Timestamp),
        c("calendar_seconds", Int),
        c("business_seconds", Int),
    ],
    primary_key: &["item_id", "seq"],
    replace_key: &["item_id"],
};

/// Time in status per item. A table in schema 1 to 5; since schema 6 a view over `status_intervals`
/// ([`crate::duckdb_store::ddl::ITEM_STATUS_TIME_VIEW`]) with these columns, so it is never loaded.
pub const ITEM_STATUS_TIME: TableDef = TableDef {
    name: "item_status_time",
    doc: "Total time of each item in each status, the current stay up to computed_at included",
    columns: &[
        c("item_id", Text),
        c("status", Text),
        c("category", Text),
        c("visits", Int),
        c("calendar_seconds", Int),
        c("business_seconds", Int),
    ],
    primary_key: &["item_id", "status"],
    replace_key: &["item_id"],
};

/// tracker-exporter compatible rows.
pub const TRACKER_EXPORTER_ISSUE_METRICS: TableDef = TableDef {
    name: "tracker_exporter_issue_metrics",
    doc:
        "tracker-exporter 2.0.0 compatible issue_metrics rows (closed stays only, counted per exit)",
    columns: &[
        c("item_id", Item),
        c("last_seen", Timestamp),
        c("issue_key", Text),
        c("status_name", Label),
        c("status_transitions_count", Int),
        c("duration", Int),
        c("human_readable_duration", Text),
        c("busdays_duration", Int),
        c("human_readable_busdays_duration", Text),
    ],
    primary_key: &["item_id", "status_name"],
    replace_key: &["item_id"],
};

/// Pull requests and their review metrics.
pub const PULL_REQUESTS: TableDef = TableDef {
    name: "pull_requests",
    doc: "Pull and merge requests with their review metrics (docs/metrics.md); the same id is a work item",
    columns: &[
        c("item_id", Text),
        c("source", Text),
        c("repository", Text),
        c("number", Int),
        c("title", Text),
        n("author", Text),
        c("state", Text),
        c("draft", Bool),
        c("created_at", Timestamp),
        n("ready_at", Timestamp),
        n("first_review_at", Timestamp),
        n("approved_at", Timestamp),
        n("merged_at", Timestamp),
        n("closed_at", Timestamp),
        n("seconds_to_first_review", Int),
        n("seconds_to_merge", Int),
        c("review_count", Int),
        n("base_branch", Text),
        n("head_branch", Text),
        n("additions", Int),
        n("deletions", Int),
        n("url", Text),
    ],
    primary_key: &["item_id"],
    replace_key: &["item_id"],
};

/// Submitted reviews.
pub const PULL_REQUEST_REVIEWS: TableDef = TableDef {
    name: "pull_request_reviews",
    doc: "Every submitted review of every pull request",
    columns: &[
        c("item_id", Text),
        c("review_id", Text),
        n("author", Text),
        c("state", Text),
        c("submitted_at", Timestamp),
    ],
    primary_key: &["item_id", "review_id"],
    replace_key: &["item_id"],
};

/// Deployments.
pub const DEPLOYMENTS: TableDef = TableDef {
    name: "deployments",
    doc: "Deployments of a service to an environment, with their latest status (for DORA metrics)",
    columns: &[
        c("id", Text),
        c("source", Text),
        c("service", Text),
        c("environment", Text),
        n("commit_sha", Text),
        c("status", Text),
        c("created_at", Timestamp),
        n("finished_at", Timestamp),
    ],
    primary_key: &["id"],
    replace_key: &["id"],
};

/// Releases.
pub const RELEASES: TableDef = TableDef {
    name: "releases",
    doc: "Releases of each repository",
    columns: &[
        c("id", Text),
        c("source", Text),
        c("repository", Text),
        c("tag", Text),
        n("name", Text),
        n("author", Text),
        c("created_at", Timestamp),
        n("published_at", Timestamp),
        c("draft", Bool),
        c("prerelease", Bool),
        n("url", Text),
    ],
    primary_key: &["id"],
    replace_key: &["id"],
};

/// Worklogs.
pub const WORKLOGS: TableDef = TableDef {
    name: "worklogs",
    doc: "Time logged on work items (Jira, Yandex Tracker worklogs)",
    columns: &[
        c("item_id", Text),
        c("worklog_id", Text),
        n("author", Text),
        c("started_at", Timestamp),
        c("seconds", Int),
        n("created_at", Timestamp),
        n("updated_at", Timestamp),
    ],
    primary_key: &["item_id", "worklog_id"],
    replace_key: &["item_id"],
};

/// Sprints.
pub const SPRINTS: TableDef = TableDef {
    name: "sprints",
    doc: "Sprints as the latest issue in them describes them",
    columns: &[
        c("id", Text),
        c("source", Text),
        n("board_id", Int),
        c("name", Text),
        c("state", Text),
        n("goal", Text),
        n("start_at", Timestamp),
        n("end_at", Timestamp),
        n("complete_at", Timestamp),
    ],
    primary_key: &["id"],
    replace_key: &["id"],
};

/// Items in sprints.
pub const ITEM_SPRINTS: TableDef = TableDef {
    name: "item_sprints",
    doc: "Which sprints each work item is in now (its sprint history is in field_changes, field `Sprint`)",
    columns: &[c("item_id", Text), c("sprint_id", Text)],
    primary_key: &["item_id", "sprint_id"],
    replace_key: &["item_id"],
};

/// CI pipelines.
pub const PIPELINES: TableDef = TableDef {
    name: "pipelines",
    doc: "CI pipeline runs (GitLab pipelines)",
    columns: &[
        c("id", Text),
        c("source", Text),
        c("project", Text),
        n("ref", Text),
        n("commit_sha", Text),
        c("status", Text),
        n("trigger", Text),
        c("created_at", Timestamp),
        c("updated_at", Timestamp),
        n("url", Text),
    ],
    primary_key: &["id"],
    replace_key: &["id"],
};

/// Landed records their source could not normalize. A record that fails is never dropped: it is in
/// `raw_records` and here, with the error, until a load normalizes it (a later sync, or a `rebuild` with a fixed
/// binary or config), which removes its row.
pub const BAD_RECORDS: TableDef = TableDef {
    name: "bad_records",
    doc: "Landed records the source could not normalize, with the error; a row goes once its record normalizes",
    columns: &[
        c("source", Text),
        c("stream", Text),
        c("key", Text),
        c("error", Text),
        c("first_seen", Timestamp),
        c("last_seen", Timestamp),
    ],
    primary_key: &["source", "stream", "key"],
    replace_key: &["source", "stream", "key"],
};

/// The entries of [`DATA_TABLES`] that are views computed from other tables: read, exported, never loaded.
pub const VIEWS: &[&str] = &["item_status_time"];

/// The tables a load writes, in load order: [`DATA_TABLES`] without the [`VIEWS`].
pub fn loaded_tables() -> impl Iterator<Item = &'static TableDef> {
    DATA_TABLES.iter().filter(|t| !VIEWS.contains(&t.name))
}

/// Every table and view with data, in load order.
pub const DATA_TABLES: &[TableDef] = &[
    RAW_RECORDS,
    WORK_ITEMS,
    STATUS_CHANGES,
    FIELD_CHANGES,
    PEOPLE,
    ITEM_METRICS,
    STATUS_INTERVALS,
    ITEM_STATUS_TIME,
    TRACKER_EXPORTER_ISSUE_METRICS,
    PULL_REQUESTS,
    PULL_REQUEST_REVIEWS,
    DEPLOYMENTS,
    RELEASES,
    WORKLOGS,
    SPRINTS,
    ITEM_SPRINTS,
    PIPELINES,
    BAD_RECORDS,
];

/// A table by name.
pub fn table(name: &str) -> Option<&'static TableDef> {
    DATA_TABLES.iter().find(|t| t.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_name_existing_columns() {
        for t in loaded_tables() {
            for k in t.primary_key.iter().chain(t.replace_key) {
                assert!(t.columns.iter().any(|c| c.name == *k), "{}.{k}", t.name);
            }
        }
    }
}
