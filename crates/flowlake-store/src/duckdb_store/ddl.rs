//! DuckDB's dialect of [`crate::schema`]: column types, the DDL of stored tables and the views over coded
//! ones, the store's own tables (labels, item codes, cursors, marks) and every migration.

use crate::schema::*;

/// How DuckDB stores a table whose rows hold codes.
impl TableDef {
    /// Whether some column is a [`ColType::Label`] or a [`ColType::Item`]: the rows are then stored in
    /// [`TableDef::stored_name`] and read through a view named [`TableDef::name`].
    pub(crate) fn is_coded(&self) -> bool {
        self.columns
            .iter()
            .any(|c| matches!(c.ty, ColType::Label | ColType::Item))
    }

    /// Whether `item_id` is a [`ColType::Item`] code: rows of an item are then found through `item_codes`.
    pub(crate) fn has_item_codes(&self) -> bool {
        self.columns.iter().any(|c| c.ty == ColType::Item)
    }

    /// The table that holds the rows: `name` itself, or `{name}_coded` behind the view of a coded table.
    pub(crate) fn stored_name(&self) -> String {
        if self.is_coded() {
            format!("{}_coded", self.name)
        } else {
            self.name.to_string()
        }
    }
}

impl ColType {
    /// The DuckDB type.
    pub fn duckdb(self) -> &'static str {
        match self {
            Self::Text | Self::Json => "VARCHAR",
            Self::Int => "BIGINT",
            Self::Float => "DOUBLE",
            Self::Bool => "BOOLEAN",
            Self::Timestamp => "TIMESTAMP",
            Self::TextList => "VARCHAR[]",
            Self::Label => "INTEGER",
            Self::Item => "BIGINT",
        }
    }
}

/// How a schema version stores [`ColType::Label`] and [`ColType::Item`] columns: the DDL of a migration is
/// rendered as of its version, so a released migration keeps doing what it did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Coding {
    /// Schema 1 to 6: both as text, in a table named like the table.
    Text,
    /// Schema 7: labels as codes, item ids as text, in `{name}_coded` behind a view.
    Labels,
    /// Schema 8 on: both as codes.
    LabelsAndItems,
}

impl Coding {
    fn sql_type(self, ty: ColType) -> &'static str {
        match (self, ty) {
            (Self::Text, ColType::Label | ColType::Item) | (Self::Labels, ColType::Item) => {
                "VARCHAR"
            }
            (_, other) => other.duckdb(),
        }
    }
}

/// DuckDB's rendering of a table.
impl TableDef {
    /// `CREATE TABLE IF NOT EXISTS` of the stored table in DuckDB's dialect (labels and item ids as codes).
    pub fn duckdb_ddl(&self) -> String {
        self.render_ddl(&self.stored_name(), Coding::LabelsAndItems)
    }

    /// `CREATE TABLE IF NOT EXISTS` of the table as schema versions 1 to 6 had it: labels and item ids as
    /// text, under `name`. Only for the migrations that predate coded columns.
    pub fn duckdb_text_ddl(&self) -> String {
        self.render_ddl(self.name, Coding::Text)
    }

    fn render_ddl(&self, table: &str, coding: Coding) -> String {
        let cols: Vec<String> = self
            .columns
            .iter()
            .map(|c| {
                format!(
                    "    {} {}{}",
                    c.name,
                    coding.sql_type(c.ty),
                    if c.nullable { "" } else { " NOT NULL" }
                )
            })
            .collect();
        format!(
            "CREATE TABLE IF NOT EXISTS {table} (\n{}\n)",
            cols.join(",\n")
        )
    }

    /// The view that gives a coded table its columns as text, under `name`; `None` for other tables.
    pub fn duckdb_view(&self) -> Option<String> {
        self.render_view(Coding::LabelsAndItems)
    }

    fn render_view(&self, coding: Coding) -> Option<String> {
        if !self.is_coded() {
            return None;
        }
        let mut select = Vec::new();
        let mut joins = String::new();
        for c in self.columns {
            match (c.ty, coding) {
                (ColType::Label, _) => {
                    select.push(format!("l_{0}.label AS {0}", c.name));
                    joins.push_str(&format!(
                        "\n    LEFT JOIN labels l_{0} ON l_{0}.code = t.{0}",
                        c.name
                    ));
                }
                (ColType::Item, Coding::LabelsAndItems) => {
                    select.push(format!("i_{0}.item_id AS {0}", c.name));
                    joins.push_str(&format!(
                        "\n    JOIN item_codes i_{0} ON i_{0}.code = t.{0}",
                        c.name
                    ));
                }
                _ => select.push(format!("t.{}", c.name)),
            }
        }
        Some(format!(
            "CREATE OR REPLACE VIEW {} AS SELECT {}\n    FROM {} t{joins}",
            self.name,
            select.join(", "),
            self.stored_name()
        ))
    }

    /// Statements that turn the text table `name` (schema 1 to 6) into its stored table and view of schema 7,
    /// codes for new labels included. Only for coded tables.
    fn label_coding_statements(&self) -> Vec<String> {
        let labels: Vec<&str> = self
            .columns
            .iter()
            .filter(|c| c.ty == ColType::Label)
            .map(|c| c.name)
            .collect();
        let values: Vec<String> = labels
            .iter()
            .map(|l| format!("SELECT {l} AS label FROM {}", self.name))
            .collect();
        let copy: Vec<String> = self
            .columns
            .iter()
            .map(|c| {
                if c.ty == ColType::Label {
                    format!(
                        "(SELECT code FROM labels WHERE label = t.{0}) AS {0}",
                        c.name
                    )
                } else {
                    format!("t.{}", c.name)
                }
            })
            .collect();
        vec![
            format!(
                "INSERT INTO labels SELECT (SELECT coalesce(max(code), 0) FROM labels) + row_number() OVER (ORDER BY label), label \
                 FROM ({}) WHERE label IS NOT NULL AND label NOT IN (SELECT label FROM labels) GROUP BY label",
                values.join(" UNION ")
            ),
            self.render_ddl(&self.stored_name(), Coding::Labels),
            format!(
                "INSERT INTO {} SELECT {} FROM {} t",
                self.stored_name(),
                copy.join(", "),
                self.name
            ),
            format!("DROP TABLE {}", self.name),
            self.render_view(Coding::Labels).unwrap_or_default(),
        ]
    }

    /// Statements that rebuild the stored table of schema 7 with item ids as codes (given out beforehand into
    /// `item_codes`), and its view. Only for tables with a [`ColType::Item`] column.
    fn item_coding_statements(&self) -> Vec<String> {
        let stored = self.stored_name();
        let copy: Vec<String> = self
            .columns
            .iter()
            .map(|c| match c.ty {
                ColType::Item => format!("i_{0}.code AS {0}", c.name),
                _ => format!("t.{}", c.name),
            })
            .collect();
        let joins: String = self
            .columns
            .iter()
            .filter(|c| c.ty == ColType::Item)
            .map(|c| format!(" JOIN item_codes i_{0} ON i_{0}.item_id = t.{0}", c.name))
            .collect();
        vec![
            format!("ALTER TABLE {stored} RENAME TO {stored}_v7"),
            self.duckdb_ddl(),
            format!(
                "INSERT INTO {stored} SELECT {} FROM {stored}_v7 t{joins}",
                copy.join(", ")
            ),
            format!("DROP TABLE {stored}_v7"),
            self.duckdb_view().unwrap_or_default(),
        ]
    }
}

/// The tables of schema version 1. Frozen: later tables go in later migrations.
const V1_TABLES: &[TableDef] = &[
    RAW_RECORDS,
    WORK_ITEMS,
    STATUS_CHANGES,
    FIELD_CHANGES,
    PEOPLE,
    ITEM_METRICS,
    STATUS_INTERVALS,
    ITEM_STATUS_TIME,
    TRACKER_EXPORTER_ISSUE_METRICS,
];

/// `item_status_time` as a view: [`flowlake_core::metrics::time_in_status`] in SQL (one row per item and
/// status, the category of the first visit). Storing it cost a fifth of the rows of every load for data the
/// intervals already hold.
pub const ITEM_STATUS_TIME_VIEW: &str = "CREATE OR REPLACE VIEW item_status_time AS
    SELECT item_id, status, arg_min(category, seq) AS category, count(*) AS visits,
           sum(calendar_seconds)::BIGINT AS calendar_seconds, sum(business_seconds)::BIGINT AS business_seconds
    FROM status_intervals GROUP BY item_id, status";

/// Cursor per source and stream.
pub const SYNC_STATE_DDL: &str = "CREATE TABLE IF NOT EXISTS sync_state (
    source VARCHAR NOT NULL,
    stream VARCHAR NOT NULL,
    cursor VARCHAR NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (source, stream)
)";

/// Operations that change many rows over many transactions, marked when they begin and unmarked when they
/// end: a mark that stays says the run was cut short and what it left (a `rebuild`: items computed with two
/// configs). Not a data table: never exported.
pub const STORE_MARKS_DDL: &str = "CREATE TABLE IF NOT EXISTS store_marks (
    mark VARCHAR PRIMARY KEY,
    since TIMESTAMP NOT NULL
)";

/// Applied migrations.
pub const SCHEMA_MIGRATIONS_DDL: &str = "CREATE TABLE IF NOT EXISTS schema_migrations (
    version BIGINT PRIMARY KEY,
    description VARCHAR NOT NULL,
    applied_at TIMESTAMP NOT NULL
)";

/// Every changelog entry, status moves and other fields alike.
const CHANGELOG_VIEW: &str = "CREATE OR REPLACE VIEW changelog AS
         SELECT item_id, change_id, changed_at, author, 'status' AS field, from_status AS from_value, to_status AS to_value
         FROM status_changes
         UNION ALL
         SELECT item_id, change_id, changed_at, author, field, from_value, to_value FROM field_changes";

/// The codes of [`ColType::Label`] columns: dense from 1, assigned by the store as new labels arrive, never
/// reused or changed.
pub const LABELS_DDL: &str = "CREATE TABLE IF NOT EXISTS labels (
    code INTEGER PRIMARY KEY,
    label VARCHAR NOT NULL UNIQUE
)";

/// The codes of [`ColType::Item`] columns: one per item id a load brought (work items included, so a load
/// learns from one lookup both the codes of its items and whether any is stored), given out from 1 by the
/// store, never reused or changed. No index: loads append to it and look codes up with one hash join.
pub const ITEM_CODES_DDL: &str = "CREATE TABLE IF NOT EXISTS item_codes (
    code BIGINT NOT NULL,
    item_id VARCHAR NOT NULL
)";

/// One schema version: the statements that bring the previous version to it.
#[derive(Debug, Clone)]
pub struct Migration {
    /// Version number, from 1, without gaps.
    pub version: i64,
    /// What it does.
    pub description: &'static str,
    /// Statements, run in one transaction.
    pub statements: Vec<String>,
}

/// Every migration in order. A released migration is never edited; a change is a new migration.
pub fn duckdb_migrations() -> Vec<Migration> {
    let mut v1: Vec<String> = V1_TABLES.iter().map(TableDef::duckdb_text_ddl).collect();
    v1.push(SYNC_STATE_DDL.to_string());
    v1.push(CHANGELOG_VIEW.to_string());
    vec![
        Migration {
            version: 1,
            description: "work items, changelogs, flow metrics, raw landing, sync state",
            statements: v1,
        },
        Migration {
            version: 2,
            description: "pull requests and their reviews",
            statements: vec![
                PULL_REQUESTS.duckdb_text_ddl(),
                PULL_REQUEST_REVIEWS.duckdb_text_ddl(),
            ],
        },
        Migration {
            version: 3,
            description: "deployments",
            statements: vec![DEPLOYMENTS.duckdb_text_ddl()],
        },
        Migration {
            version: 4,
            description: "releases",
            statements: vec![RELEASES.duckdb_text_ddl()],
        },
        Migration {
            version: 5,
            description: "worklogs, sprints, items in sprints, CI pipelines",
            statements: vec![
                WORKLOGS.duckdb_text_ddl(),
                SPRINTS.duckdb_text_ddl(),
                ITEM_SPRINTS.duckdb_text_ddl(),
                PIPELINES.duckdb_text_ddl(),
            ],
        },
        Migration {
            version: 6,
            description: "item_status_time becomes a view over status_intervals",
            statements: vec![
                "DROP TABLE item_status_time".to_string(),
                ITEM_STATUS_TIME_VIEW.to_string(),
            ],
        },
        Migration {
            version: 7,
            description:
                "status names, categories and people of the status tables as codes into labels",
            statements: label_coding_migration(),
        },
        Migration {
            version: 8,
            description: "work item ids of the status tables as codes into item_codes",
            statements: item_coding_migration(),
        },
        Migration {
            version: 9,
            description: "records that could not be normalized, with their error",
            statements: vec![BAD_RECORDS.duckdb_ddl()],
        },
        // --- migration of the guessed statuses (issue 15, finding 8) ---
        Migration {
            version: 10,
            description: "item_metrics.guessed_statuses: the statuses whose category was guessed",
            // Migration 1 renders today's item_metrics, so a new store has the column already; one made
            // before this version gets it, NULL (nothing known to be guessed) until rebuilt.
            statements: vec![
                "ALTER TABLE item_metrics ADD COLUMN IF NOT EXISTS guessed_statuses VARCHAR"
                    .to_string(),
            ],
        },
        // --- end of the migration of the guessed statuses ---
        // --- migration of the store marks (issue 16, finding 3) ---
        Migration {
            version: 11,
            description: "store_marks: operations begun and not finished (a rebuild)",
            statements: vec![STORE_MARKS_DDL.to_string()],
        },
        // --- end of the migration of the store marks ---
    ]
}

/// Schema 7: the labels table, then each coded table rebuilt from its text form, then the views that read it.
fn label_coding_migration() -> Vec<String> {
    let mut statements = vec![LABELS_DDL.to_string()];
    for t in loaded_tables().filter(|t| t.is_coded()) {
        statements.extend(t.label_coding_statements());
    }
    statements.push(ITEM_STATUS_TIME_VIEW.to_string());
    statements.push(CHANGELOG_VIEW.to_string());
    statements
}

/// Schema 8: codes for every stored item id (work items and the rows of the tables with item codes), then
/// those tables rebuilt with the codes, then the views that read them.
fn item_coding_migration() -> Vec<String> {
    let coded: Vec<&TableDef> = loaded_tables().filter(|t| t.has_item_codes()).collect();
    let ids: Vec<String> = std::iter::once("SELECT id AS item_id FROM work_items".to_string())
        .chain(
            coded
                .iter()
                .map(|t| format!("SELECT item_id FROM {}", t.stored_name())),
        )
        .collect();
    let mut statements = vec![
        ITEM_CODES_DDL.to_string(),
        format!(
            "INSERT INTO item_codes SELECT row_number() OVER (ORDER BY item_id), item_id FROM ({})",
            ids.join(" UNION ")
        ),
    ];
    for t in coded {
        statements.extend(t.item_coding_statements());
    }
    statements.push(ITEM_STATUS_TIME_VIEW.to_string());
    statements.push(CHANGELOG_VIEW.to_string());
    statements
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ddl_renders_types_and_nullability() {
        let ddl = STATUS_CHANGES.duckdb_ddl();
        assert!(ddl.starts_with("CREATE TABLE IF NOT EXISTS status_changes_coded ("));
        assert!(ddl.contains("changed_at TIMESTAMP NOT NULL"));
        assert!(ddl.contains("from_status INTEGER,"));
        assert!(ddl.contains("item_id BIGINT NOT NULL"));
        let text = STATUS_CHANGES.duckdb_text_ddl();
        assert!(text.starts_with("CREATE TABLE IF NOT EXISTS status_changes ("));
        assert!(text.contains("from_status VARCHAR,"));
        assert!(text.contains("item_id VARCHAR NOT NULL"));
        assert_eq!(WORK_ITEMS.duckdb_ddl(), WORK_ITEMS.duckdb_text_ddl());
    }

    /// What `docs/adding-a-source.md` ("Adding an entity kind") relies on: a table declared and listed but
    /// never created would fail its first load.
    #[test]
    fn every_loaded_table_is_created_by_a_migration() {
        let statements: Vec<String> = duckdb_migrations()
            .into_iter()
            .flat_map(|m| m.statements)
            .collect();
        for t in loaded_tables() {
            let created = |name: &str| format!("CREATE TABLE IF NOT EXISTS {name} (");
            assert!(
                statements
                    .iter()
                    .any(|s| s.contains(&created(t.name)) || s.contains(&created(&t.stored_name()))),
                "no migration creates {}",
                t.name
            );
        }
    }

    #[test]
    fn coded_tables_read_through_a_view_with_their_columns() {
        let view = STATUS_INTERVALS.duckdb_view().unwrap();
        assert!(view.starts_with("CREATE OR REPLACE VIEW status_intervals AS SELECT i_item_id.item_id AS item_id, t.seq, l_status.label AS status"));
        assert!(view.contains("FROM status_intervals_coded t"));
        assert!(view.contains("JOIN item_codes i_item_id ON i_item_id.code = t.item_id"));
        assert!(view.contains("LEFT JOIN labels l_category ON l_category.code = t.category"));
        assert!(WORK_ITEMS.duckdb_view().is_none());
    }
}
