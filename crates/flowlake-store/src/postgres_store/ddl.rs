//! PostgreSQL's dialect of [`crate::schema`]: column types, the DDL of every table (labels and item ids as
//! plain text: PostgreSQL's TOAST and dictionary-free heap gain nothing from DuckDB's codes), the views, and
//! the store's schema versions.
//!
//! Text columns are `COLLATE "C"`: byte order, as DuckDB compares strings, so keyset paging over raw records
//! and every `ORDER BY` agree between the stores.

use crate::schema::{self, ColType, TableDef};

/// The PostgreSQL type of a column.
pub fn sql_type(ty: ColType) -> &'static str {
    match ty {
        ColType::Text | ColType::Json | ColType::Label | ColType::Item => "TEXT COLLATE \"C\"",
        ColType::Int => "BIGINT",
        ColType::Float => "DOUBLE PRECISION",
        ColType::Bool => "BOOLEAN",
        ColType::Timestamp => "TIMESTAMP",
        ColType::TextList => "TEXT[] COLLATE \"C\"",
    }
}

/// `CREATE TABLE IF NOT EXISTS` of `def`, with its primary key when every key column is `NOT NULL`, and an
/// index on its replace key (what every load deletes by) when that is not the primary key's prefix.
pub fn table_ddl(def: &TableDef) -> Vec<String> {
    let mut cols: Vec<String> = def
        .columns
        .iter()
        .map(|c| {
            format!(
                "    {} {}{}",
                c.name,
                sql_type(c.ty),
                if c.nullable { "" } else { " NOT NULL" }
            )
        })
        .collect();
    let key_not_null = def
        .primary_key
        .iter()
        .all(|k| def.columns.iter().any(|c| c.name == *k && !c.nullable));
    if key_not_null && !def.primary_key.is_empty() {
        cols.push(format!("    PRIMARY KEY ({})", def.primary_key.join(", ")));
    }
    let mut out = vec![format!(
        "CREATE TABLE IF NOT EXISTS {} (\n{}\n)",
        def.name,
        cols.join(",\n")
    )];
    let covered = key_not_null && def.primary_key.starts_with(def.replace_key);
    if !covered && !def.replace_key.is_empty() {
        out.push(format!(
            "CREATE INDEX IF NOT EXISTS {}_replace_key ON {} ({})",
            def.name,
            def.name,
            def.replace_key.join(", ")
        ));
    }
    out.push(format!(
        "COMMENT ON TABLE {} IS '{}'",
        def.name,
        def.doc.replace('\'', "''")
    ));
    out
}

/// `item_status_time`: [`flowlake_core::metrics::time_in_status`] in SQL, the same rows as DuckDB's view
/// ([`crate::duckdb_store::ddl::ITEM_STATUS_TIME_VIEW`]).
const ITEM_STATUS_TIME_VIEW: &str = "CREATE OR REPLACE VIEW item_status_time AS
    SELECT item_id, status, (array_agg(category ORDER BY seq))[1] AS category, count(*) AS visits,
           sum(calendar_seconds)::BIGINT AS calendar_seconds, sum(business_seconds)::BIGINT AS business_seconds
    FROM status_intervals GROUP BY item_id, status";

/// Every changelog entry, status moves and other fields alike (as DuckDB's `changelog`).
const CHANGELOG_VIEW: &str = "CREATE OR REPLACE VIEW changelog AS
    SELECT item_id, change_id, changed_at, author, 'status'::TEXT COLLATE \"C\" AS field, from_status AS from_value,
           to_status AS to_value
    FROM status_changes
    UNION ALL
    SELECT item_id, change_id, changed_at, author, field, from_value, to_value FROM field_changes";

/// Cursor per source and stream.
const SYNC_STATE_DDL: &str = "CREATE TABLE IF NOT EXISTS sync_state (
    source TEXT COLLATE \"C\" NOT NULL,
    stream TEXT COLLATE \"C\" NOT NULL,
    cursor TEXT NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (source, stream)
)";

/// Operations begun and not finished (a rebuild), as DuckDB's `store_marks`.
const STORE_MARKS_DDL: &str = "CREATE TABLE IF NOT EXISTS store_marks (
    mark TEXT PRIMARY KEY,
    since TIMESTAMP NOT NULL
)";

/// Applied migrations.
pub const SCHEMA_MIGRATIONS_DDL: &str = "CREATE TABLE IF NOT EXISTS schema_migrations (
    version BIGINT PRIMARY KEY,
    description TEXT NOT NULL,
    applied_at TIMESTAMP NOT NULL
)";

/// One schema version of a PostgreSQL store: the statements that bring the previous version to it.
pub struct Migration {
    /// From 1, without gaps.
    pub version: i64,
    /// What it does.
    pub description: &'static str,
    /// Run in one transaction.
    pub statements: Vec<String>,
}

/// Indexes for what `flowlake metrics` filters and a dashboard groups by: items by source and project, and
/// status stays by time (WIP, cumulative flow).
const READ_INDEXES: &[&str] = &[
    "CREATE INDEX IF NOT EXISTS work_items_source_project ON work_items (source, project)",
    "CREATE INDEX IF NOT EXISTS item_metrics_source_project ON item_metrics (source, project)",
    "CREATE INDEX IF NOT EXISTS status_intervals_started_at ON status_intervals (started_at)",
];

/// Every migration in order. A released migration is never edited; a change is a new migration. The
/// PostgreSQL store starts at today's tables: it has no history of DuckDB's codings to replay.
pub fn migrations() -> Vec<Migration> {
    let mut v1: Vec<String> = schema::loaded_tables().flat_map(table_ddl).collect();
    v1.extend(READ_INDEXES.iter().map(|s| s.to_string()));
    v1.extend(
        [
            SYNC_STATE_DDL,
            STORE_MARKS_DDL,
            ITEM_STATUS_TIME_VIEW,
            CHANGELOG_VIEW,
        ]
        .map(String::from),
    );
    vec![Migration {
        version: 1,
        description:
            "every table of schema 11 of the DuckDB store, sync state, store marks and views",
        statements: v1,
    }]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_render_types_keys_and_the_replace_index() {
        let ddl = table_ddl(&schema::STATUS_CHANGES).join(";\n");
        assert!(
            ddl.starts_with("CREATE TABLE IF NOT EXISTS status_changes ("),
            "{ddl}"
        );
        assert!(ddl.contains("changed_at TIMESTAMP NOT NULL"), "{ddl}");
        assert!(ddl.contains("from_status TEXT COLLATE \"C\","), "{ddl}");
        assert!(ddl.contains("PRIMARY KEY (item_id, change_id)"), "{ddl}");
        assert!(!ddl.contains("CREATE INDEX"), "{ddl}");
    }

    #[test]
    fn every_loaded_table_is_created() {
        let statements: Vec<String> = migrations()
            .into_iter()
            .flat_map(|m| m.statements)
            .collect();
        for t in schema::loaded_tables() {
            let created = format!("CREATE TABLE IF NOT EXISTS {} (", t.name);
            assert!(
                statements.iter().any(|s| s.starts_with(&created)),
                "{}",
                t.name
            );
        }
    }
}
