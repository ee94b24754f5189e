//! ClickHouse's dialect of [`crate::schema`]: column types, the DDL of every table, the views under the
//! documented names, and the store's schema versions.
//!
//! Each loaded table `T` is stored as `T_rows`, a `ReplacingMergeTree(_version, _deleted)` ordered by `T`'s
//! primary key, with two hidden columns: `_version` (a load's, greater than every earlier one) and
//! `_deleted` (1 for a tombstone). `T` itself is a view `SELECT <T's columns> FROM T_rows FINAL WHERE
//! _deleted = 0`: the newest row of each key, tombstones dropped, so it reads like DuckDB's table whatever
//! ClickHouse has merged so far. `sync_state` and `store_marks` are kept the same way.
//!
//! With a cluster (`[store] cluster = "name"`), each statement runs `ON CLUSTER name`, the rows live in
//! `T_local` tables of `ReplicatedReplacingMergeTree` (the replica path and name from the server's
//! `default_replica_path` and `default_replica_name`), and `T_rows` is a `Distributed` table over them
//! sharded by the replace key, so every row a load replaces together sits on one shard, where `FINAL`
//! finds it. No cluster can run in flowlake's tests (the test server is one chDB engine): this rendering is
//! checked as text only, by the unit tests below.

use crate::schema::{self, ColType, TableDef};

/// How many recent inserts per table a plain (non-replicated) `MergeTree` remembers for
/// `insert_deduplication_token`: a retried insert within this window lands once.
const DEDUPLICATION_WINDOW: u32 = 1000;

/// The ClickHouse type of a column. A `TextList` is never NULL (ClickHouse has no nullable arrays).
pub fn sql_type(ty: ColType, nullable: bool) -> String {
    let base = match ty {
        ColType::Text | ColType::Json | ColType::Item => "String",
        ColType::Label => {
            return match nullable {
                true => "LowCardinality(Nullable(String))".into(),
                false => "LowCardinality(String)".into(),
            }
        }
        ColType::Int => "Int64",
        ColType::Float => "Float64",
        ColType::Bool => "Bool",
        ColType::Timestamp => "DateTime64(6, 'UTC')",
        ColType::TextList => return "Array(String)".into(),
    };
    match nullable {
        true => format!("Nullable({base})"),
        false => base.to_string(),
    }
}

/// Where the tables go: one server, or a cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout<'a> {
    /// The cluster's name, if the store spans one.
    pub cluster: Option<&'a str>,
}

impl Layout<'_> {
    /// ` ON CLUSTER name`, or nothing.
    fn on(&self) -> String {
        self.cluster
            .map_or_else(String::new, |c| format!(" ON CLUSTER {c}"))
    }
}

/// Merges `name`'s stored row versions down to the newest per key: `OPTIMIZE TABLE … FINAL` on the table
/// holding the rows (on a cluster the replicated `_local` one on every shard; `Distributed` cannot merge).
pub fn optimize_final(name: &str, layout: Layout<'_>) -> String {
    match layout.cluster {
        None => format!("OPTIMIZE TABLE {name}_rows FINAL"),
        Some(_) => format!("OPTIMIZE TABLE {name}_local{} FINAL", layout.on()),
    }
}

/// The statements creating a table kept as versioned rows: `{name}_rows` (and on a cluster `{name}_local`)
/// with `columns`, ordered by `order_by`, and the view `{name}` of its live rows.
fn versioned(
    layout: Layout<'_>,
    name: &str,
    doc: &str,
    columns: &[(String, String)],
    order_by: &[&str],
    shard_by: &[&str],
) -> Vec<String> {
    let mut cols: Vec<String> = columns
        .iter()
        .map(|(n, t)| format!("    {n} {t}"))
        .collect();
    cols.push("    _version UInt64".into());
    cols.push("    _deleted UInt8".into());
    let cols = cols.join(",\n");
    let order = order_by.join(", ");
    let nullable_key = order_by.iter().any(|k| {
        columns
            .iter()
            .any(|(n, t)| n == k && t.contains("Nullable"))
    });
    let key_setting = match nullable_key {
        true => ", allow_nullable_key = 1",
        false => "",
    };
    let comment = doc.replace('\\', "\\\\").replace('\'', "\\'");
    let on = layout.on();
    let mut out = Vec::new();
    match layout.cluster {
        None => out.push(format!(
            "CREATE TABLE IF NOT EXISTS {name}_rows{on} (\n{cols}\n) ENGINE = ReplacingMergeTree(_version, _deleted)\n\
             ORDER BY ({order})\nSETTINGS non_replicated_deduplication_window = {DEDUPLICATION_WINDOW}{key_setting}\n\
             COMMENT '{comment}'"
        )),
        Some(cluster) => {
            out.push(format!(
                "CREATE TABLE IF NOT EXISTS {name}_local{on} (\n{cols}\n) \
                 ENGINE = ReplicatedReplacingMergeTree(_version, _deleted)\nORDER BY ({order})\
                 {}\nCOMMENT '{comment}'",
                match nullable_key {
                    true => "\nSETTINGS allow_nullable_key = 1",
                    false => "",
                }
            ));
            out.push(format!(
                "CREATE TABLE IF NOT EXISTS {name}_rows{on} AS {name}_local \
                 ENGINE = Distributed({cluster}, currentDatabase(), {name}_local, cityHash64({}))",
                shard_by.join(", ")
            ));
        }
    }
    let names: Vec<&str> = columns.iter().map(|(n, _)| n.as_str()).collect();
    out.push(format!(
        "CREATE OR REPLACE VIEW {name}{on} AS SELECT {} FROM {name}_rows FINAL WHERE _deleted = 0",
        names.join(", ")
    ));
    out
}

/// The statements of a loaded table: its rows and its view.
pub fn table_ddl(layout: Layout<'_>, def: &TableDef) -> Vec<String> {
    let columns: Vec<(String, String)> = def
        .columns
        .iter()
        .map(|c| (c.name.to_string(), sql_type(c.ty, c.nullable)))
        .collect();
    versioned(
        layout,
        def.name,
        def.doc,
        &columns,
        def.primary_key,
        def.replace_key,
    )
}

/// The columns of `sync_state`, as DuckDB's.
fn sync_state_ddl(layout: Layout<'_>) -> Vec<String> {
    let columns = [
        ("source", "String"),
        ("stream", "String"),
        ("cursor", "String"),
        ("updated_at", "DateTime64(6, 'UTC')"),
    ]
    .map(|(n, t)| (n.to_string(), t.to_string()));
    versioned(
        layout,
        "sync_state",
        "Cursor per source and stream",
        &columns,
        &["source", "stream"],
        &["source"],
    )
}

/// Operations begun and not finished (a rebuild), as DuckDB's `store_marks`.
fn store_marks_ddl(layout: Layout<'_>) -> Vec<String> {
    let columns = [("mark", "String"), ("since", "DateTime64(6, 'UTC')")]
        .map(|(n, t)| (n.to_string(), t.to_string()));
    versioned(
        layout,
        "store_marks",
        "Operations begun and not finished",
        &columns,
        &["mark"],
        &["mark"],
    )
}

/// Applied migrations: a plain `MergeTree` (rows are only added). On a cluster, replicated, so every
/// host sees one history.
pub fn schema_migrations_ddl(layout: Layout<'_>) -> String {
    let engine = match layout.cluster {
        None => "MergeTree",
        Some(_) => "ReplicatedMergeTree",
    };
    format!(
        "CREATE TABLE IF NOT EXISTS schema_migrations{} (\n    version Int64,\n    description String,\n    \
         applied_at DateTime64(6, 'UTC')\n) ENGINE = {engine} ORDER BY version",
        layout.on()
    )
}

/// `item_status_time`: [`flowlake_core::metrics::time_in_status`] in SQL, the same rows as DuckDB's view.
fn item_status_time_view(layout: Layout<'_>) -> String {
    format!(
        "CREATE OR REPLACE VIEW item_status_time{} AS
    SELECT item_id, toString(status) AS status, toString(argMin(category, seq)) AS category,
           toInt64(count()) AS visits, toInt64(sum(calendar_seconds)) AS calendar_seconds,
           toInt64(sum(business_seconds)) AS business_seconds
    FROM status_intervals GROUP BY item_id, status",
        layout.on()
    )
}

/// Every changelog entry, status moves and other fields alike (as DuckDB's `changelog`).
fn changelog_view(layout: Layout<'_>) -> String {
    format!(
        "CREATE OR REPLACE VIEW changelog{} AS
    SELECT item_id, change_id, changed_at, CAST(author AS Nullable(String)) AS author, 'status' AS field,
           CAST(from_status AS Nullable(String)) AS from_value, CAST(to_status AS Nullable(String)) AS to_value
    FROM status_changes
    UNION ALL
    SELECT item_id, change_id, changed_at, author, field, from_value, to_value FROM field_changes",
        layout.on()
    )
}

/// One schema version of a ClickHouse store: the statements that bring the previous version to it.
pub struct Migration {
    /// From 1, without gaps.
    pub version: i64,
    /// What it does.
    pub description: &'static str,
    /// Run in order; each is idempotent (`IF NOT EXISTS`, `OR REPLACE`), since ClickHouse has no
    /// transaction to undo a migration cut short: the next open runs it again.
    pub statements: Vec<String>,
}

/// Every migration in order. A released migration is never edited; a change is a new migration.
pub fn migrations(layout: Layout<'_>) -> Vec<Migration> {
    let mut v1: Vec<String> = schema::loaded_tables()
        .flat_map(|t| table_ddl(layout, t))
        .collect();
    v1.extend(sync_state_ddl(layout));
    v1.extend(store_marks_ddl(layout));
    v1.push(item_status_time_view(layout));
    v1.push(changelog_view(layout));
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

    const ONE: Layout<'static> = Layout { cluster: None };

    #[test]
    fn a_table_is_versioned_rows_ordered_by_its_key_and_a_view_of_the_live_ones() {
        let ddl = table_ddl(ONE, &schema::STATUS_CHANGES).join(";\n");
        assert!(
            ddl.starts_with("CREATE TABLE IF NOT EXISTS status_changes_rows ("),
            "{ddl}"
        );
        assert!(ddl.contains("changed_at DateTime64(6, 'UTC'),"), "{ddl}");
        assert!(
            ddl.contains("from_status LowCardinality(Nullable(String)),"),
            "{ddl}"
        );
        assert!(ddl.contains("item_id String,"), "{ddl}");
        assert!(
            ddl.contains(
                "ENGINE = ReplacingMergeTree(_version, _deleted)\nORDER BY (item_id, change_id)"
            ),
            "{ddl}"
        );
        assert!(
            ddl.contains("non_replicated_deduplication_window = 1000"),
            "{ddl}"
        );
        assert!(
            ddl.contains(
                "CREATE OR REPLACE VIEW status_changes AS SELECT item_id, change_id, changed_at, author, \
                 from_status, to_status FROM status_changes_rows FINAL WHERE _deleted = 0"
            ),
            "{ddl}"
        );
    }

    #[test]
    fn every_loaded_table_is_created() {
        let statements: Vec<String> = migrations(ONE)
            .into_iter()
            .flat_map(|m| m.statements)
            .collect();
        for t in schema::loaded_tables() {
            let created = format!("CREATE TABLE IF NOT EXISTS {}_rows (", t.name);
            assert!(
                statements.iter().any(|s| s.starts_with(&created)),
                "{}",
                t.name
            );
        }
    }

    /// Checked as text only: no cluster runs in the tests.
    #[test]
    fn optimize_merges_the_rows_table_or_on_a_cluster_the_local_ones() {
        assert_eq!(
            optimize_final("work_items", Layout { cluster: None }),
            "OPTIMIZE TABLE work_items_rows FINAL"
        );
        assert_eq!(
            optimize_final(
                "work_items",
                Layout {
                    cluster: Some("analytics")
                }
            ),
            "OPTIMIZE TABLE work_items_local ON CLUSTER analytics FINAL"
        );
    }

    #[test]
    fn on_a_cluster_rows_are_replicated_and_distributed_by_the_replace_key() {
        let layout = Layout {
            cluster: Some("analytics"),
        };
        let ddl = table_ddl(layout, &schema::STATUS_INTERVALS);
        assert_eq!(ddl.len(), 3, "{ddl:?}");
        assert!(
            ddl[0].starts_with(
                "CREATE TABLE IF NOT EXISTS status_intervals_local ON CLUSTER analytics ("
            ),
            "{}",
            ddl[0]
        );
        assert!(
            ddl[0].contains("ENGINE = ReplicatedReplacingMergeTree(_version, _deleted)\nORDER BY (item_id, seq)"),
            "{}",
            ddl[0]
        );
        assert!(!ddl[0].contains("non_replicated"), "{}", ddl[0]);
        assert_eq!(
            ddl[1],
            "CREATE TABLE IF NOT EXISTS status_intervals_rows ON CLUSTER analytics AS status_intervals_local \
             ENGINE = Distributed(analytics, currentDatabase(), status_intervals_local, cityHash64(item_id))"
        );
        assert!(
            ddl[2].starts_with(
                "CREATE OR REPLACE VIEW status_intervals ON CLUSTER analytics AS SELECT"
            ),
            "{}",
            ddl[2]
        );
        assert!(schema_migrations_ddl(layout).contains("ON CLUSTER analytics"));
        assert!(schema_migrations_ddl(layout).contains("ENGINE = ReplicatedMergeTree"));
        for m in migrations(layout) {
            for s in m.statements {
                assert!(s.contains(" ON CLUSTER analytics"), "{s}");
            }
        }
    }
}
