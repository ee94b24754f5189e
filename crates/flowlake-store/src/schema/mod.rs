//! The one schema description every store renders to its dialect: tables, columns, portable types and keys.
//! DuckDB's rendering (DDL, views, migrations) is [`crate::duckdb_store::ddl`]'s.
//!
//! Each loaded table is declared once with [`declare_table!`](crate::declare_table), which gives its
//! [`TableDef`] and its row writer from the same lines: the tables of the work-item flow, its metrics and the
//! landing tables in [`flow`], the entity kinds a normalizer may emit on their own in [`entities`].
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
    /// A short text from a small set (status names, categories, person ids): a dictionary array in the
    /// hand-over, so a store may keep it as a code. DuckDB does (an `INTEGER` into its `labels` table, with a
    /// view giving the text back), since repeated strings are most of what it spends loading the two 20M-row
    /// tables of a million issues.
    Label,
    /// The id of a work item, in the tables with a row per status move or stay, where the same long id would
    /// otherwise repeat on twenty rows per item: a dictionary array over the batch's item ids in the
    /// hand-over. DuckDB stores a `BIGINT` code into its `item_codes` table, with a view giving the id back.
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

mod declare;
mod entities;
mod flow;

pub use entities::*;
pub use flow::*;

const fn col(name: &'static str, ty: ColType) -> Column {
    Column {
        name,
        ty,
        nullable: false,
    }
}

use ColType::*;

/// Time in status per item. A table in schema 1 to 5; since schema 6 a view over `status_intervals`
/// ([`crate::duckdb_store::ddl::ITEM_STATUS_TIME_VIEW`]) with these columns, so it is never loaded.
pub const ITEM_STATUS_TIME: TableDef = TableDef {
    name: "item_status_time",
    doc: "Total time of each item in each status, the current stay up to computed_at included",
    columns: &[
        col("item_id", Text),
        col("status", Text),
        col("category", Text),
        col("visits", Int),
        col("calendar_seconds", Int),
        col("business_seconds", Int),
    ],
    primary_key: &["item_id", "status"],
    replace_key: &["item_id"],
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
    fn every_entity_kind_is_a_loaded_table() {
        for k in ENTITY_TABLES {
            assert!(loaded_tables().any(|t| t == k.table), "{}", k.table.name);
        }
    }

    #[test]
    fn keys_name_existing_columns() {
        for t in loaded_tables() {
            for k in t.primary_key.iter().chain(t.replace_key) {
                assert!(t.columns.iter().any(|c| c.name == *k), "{}.{k}", t.name);
            }
        }
    }
}
