//! `flowlake store check`: what a store holds and whether it holds together, asked through its SQL console
//! in SQL every store speaks, so the same checks run on DuckDB, PostgreSQL and ClickHouse.

use crate::error::StoreError;
use crate::schema;
use crate::store::Store;

/// What [`check_store`] found.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct CheckReport {
    /// The newest applied schema version.
    pub schema_version: i64,
    /// `(table or view, rows)` of every documented table and view, then `sync_state`.
    pub counts: Vec<(&'static str, i64)>,
    /// Each inconsistency, in words: rows sharing a primary key (a replacement that left two), item-level
    /// rows whose work item is gone. Empty when the store is consistent.
    pub problems: Vec<String>,
}

/// Reads the schema version and row counts of `store` and looks for duplicate keys and orphaned rows.
pub fn check_store(store: &dyn Store) -> Result<CheckReport, StoreError> {
    let console = store.console().ok_or_else(|| StoreError::Sql {
        context: format!("checking {}", store.describe()),
        message: "the store has no SQL console to check it with".into(),
    })?;
    let scalar = |sql: &str| -> Result<i64, StoreError> {
        let rows = console.query(sql)?.rows_as_text()?;
        let text = rows
            .first()
            .and_then(|r| r.first().cloned().flatten())
            .unwrap_or_default();
        text.parse().map_err(|_| StoreError::Sql {
            context: sql.to_string(),
            message: format!("expected a number, got `{text}`"),
        })
    };
    let mut report = CheckReport {
        schema_version: scalar("SELECT max(version) FROM schema_migrations")?,
        ..CheckReport::default()
    };
    for t in schema::DATA_TABLES {
        report.counts.push((t.name, store.count(t.name)?));
    }
    report
        .counts
        .push(("sync_state", store.count("sync_state")?));
    for t in schema::loaded_tables() {
        let key = t.primary_key.join(", ");
        let doubled = scalar(&format!(
            "SELECT count(*) FROM (SELECT {key} FROM {} GROUP BY {key} HAVING count(*) > 1) d",
            t.name
        ))?;
        if doubled > 0 {
            report.problems.push(format!(
                "{}: {doubled} keys ({key}) have more than one row",
                t.name
            ));
        }
        if t.replace_key == ["item_id"] {
            let orphans = scalar(&format!(
                "SELECT count(*) FROM {} WHERE item_id NOT IN (SELECT id FROM work_items)",
                t.name
            ))?;
            if orphans > 0 {
                report.problems.push(format!(
                    "{}: {orphans} rows of items not in work_items",
                    t.name
                ));
            }
        }
    }
    Ok(report)
}
