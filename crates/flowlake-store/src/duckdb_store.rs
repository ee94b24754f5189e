//! The embedded default store: a single DuckDB file, nothing to set up.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use chrono::{DateTime, Utc};
use duckdb::arrow::array::{ArrayRef, AsArray, Int64Array, StringArray};
use duckdb::arrow::datatypes::{
    i256, ArrowNativeType, ArrowPrimitiveType, DataType, Decimal128Type, Decimal256Type, FieldRef,
    Int32Type, Int64Type, Schema,
};
use duckdb::arrow::record_batch::RecordBatch;
use duckdb::core::LogicalTypeId;
use duckdb::{params, params_from_iter, AccessMode, Config, Connection};
use flowlake_core::metrics::ItemMetrics;
use flowlake_core::{GuessedStatus, RawRecord, StatusCategory};

use crate::batch::{LoadBatch, TakenRows};
use crate::console::{QueryResult, SqlConsole};
use crate::error::{duckdb_message, StoreError};
use crate::schema::{self, duckdb_migrations, ColType, TableDef, SCHEMA_MIGRATIONS_DDL};
use crate::state::{StateBackend, StateKey};
pub use crate::store::{FilterField, ItemFilter};
use crate::store::{OnInterval, OnStatusTime, Store};

pub use crate::open::OpenMode;

/// The DuckDB settings of [`OpenMode::Sandboxed`], in order: the last one locks them all.
const SANDBOX: &[&str] = &[
    "SET enable_external_access = false",
    "SET allow_community_extensions = false",
    "SET autoinstall_known_extensions = false",
    "SET autoload_known_extensions = false",
    "SET lock_configuration = true",
];

/// The `store_marks` row of a rebuild under way.
const REBUILD_MARK: &str = "rebuild";

/// Settings applied when a store is opened, before the file is created.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OpenOptions {
    /// DuckDB's `memory_limit` (e.g. `"1GB"`, `"80%"`); checked before anything is created.
    pub memory_limit: Option<String>,
}

/// Checks `limit` as DuckDB's `memory_limit` would take it (`"512MB"`, `"1GiB"`, `"75%"`), on a throwaway
/// in-memory database, so a bad value is refused before any file is created (`flowlake` checks it when it
/// loads the config). The error is DuckDB's, which lists the units it knows.
pub fn check_memory_limit(limit: &str) -> Result<(), StoreError> {
    let context = format!("memory_limit `{limit}`");
    let conn = Connection::open_in_memory().map_err(StoreError::sql(context.clone()))?;
    conn.execute_batch(&format!(
        "SET memory_limit = '{}'",
        limit.replace('\'', "''")
    ))
    .map_err(StoreError::sql(context))
}

/// A DuckDB database file holding every flowlake table.
pub struct DuckDbStore {
    conn: Connection,
    path: PathBuf,
    staged: HashSet<&'static str>,
    /// What the store knows of its codes, shared with its clones.
    codes: Arc<SharedCodes>,
}

/// What a store and all its clones know of the codes they give out, so that loads side by side on cloned
/// connections never give a label or an item two codes, nor two of them one.
#[derive(Default)]
struct SharedCodes {
    /// The `labels` table (`None` until read at the first load that needs it), extended as new labels commit.
    labels: Mutex<Option<HashMap<String, i32>>>,
    /// The last item code given out (`None` until read from `item_codes`), committed or not: a code of a
    /// load that rolled back is never given again, which leaves a harmless gap.
    last_item_code: Mutex<Option<i64>>,
}

impl std::fmt::Debug for DuckDbStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DuckDbStore")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

/// `batch` with its `columns` (index, unsigned) of DuckDB's HUGEINT and UHUGEINT as `Decimal256(39, 0)`.
/// DuckDB hands both to Arrow as `Decimal128(38, 0)`, which holds neither: a HUGEINT has up to 39 digits (the
/// formatter drops the last one), and a UHUGEINT's bits read as a signed number (its maximum shows as -1).
/// `sum()` of integers is a HUGEINT, so this is common. Nested ones (a list of HUGEINT) are left as they are.
fn widen_128(batch: RecordBatch, columns: &[(usize, bool)]) -> Result<RecordBatch, StoreError> {
    if columns.is_empty() {
        return Ok(batch);
    }
    let failed = |e: duckdb::arrow::error::ArrowError| StoreError::Batch {
        table: "query".into(),
        message: e.to_string(),
    };
    let schema = batch.schema();
    let mut fields: Vec<FieldRef> = schema.fields().iter().cloned().collect();
    let mut arrays = batch.columns().to_vec();
    for &(i, unsigned) in columns {
        let (Some(field), Some(array)) = (fields.get_mut(i), arrays.get_mut(i)) else {
            continue;
        };
        let Some(narrow) = array.as_primitive_opt::<Decimal128Type>() else {
            continue;
        };
        let exact = narrow
            .unary::<_, Decimal256Type>(|v| match unsigned {
                true => i256::from_parts(v as u128, 0),
                false => i256::from_i128(v),
            })
            .with_precision_and_scale(39, 0)
            .map_err(failed)?;
        *field = Arc::new(
            field
                .as_ref()
                .clone()
                .with_data_type(DataType::Decimal256(39, 0)),
        );
        *array = Arc::new(exact);
    }
    RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays).map_err(failed)
}

/// Whether `sql` holds nothing but blanks and `;`.
fn is_blank(sql: &str) -> bool {
    sql.chars().all(|c| c.is_whitespace() || c == ';')
}

/// The error of preparing `sql`: DuckDB gives no message when the text holds no statement (only comments).
fn prepare_error(context: &'static str) -> impl FnOnce(duckdb::Error) -> StoreError {
    move |e| match e {
        duckdb::Error::DuckDBFailure(_, None) => StoreError::EmptyQuery {
            context: context.into(),
        },
        e => StoreError::sql(context)(e),
    }
}

fn open_reason(e: &duckdb::Error) -> String {
    let msg = duckdb_message(e);
    let lower = msg.to_lowercase();
    if lower.contains("lock") {
        format!("it is locked by another process (another flowlake run?): {msg}")
    } else if lower.contains("not a valid duckdb database") || lower.contains("corrupt") {
        format!(
            "the file is not a valid DuckDB database (corrupted, or another kind of file): {msg}"
        )
    } else if lower.contains("permission denied")
        || lower.contains("read-only")
        || lower.contains("read only")
    {
        format!("permission denied (is the file or its directory read-only?): {msg}")
    } else {
        msg
    }
}

/// The name of `path`'s partial file: hidden, beside it (so the rename stays on one file system), and
/// unique to this process.
fn partial_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map_or_else(|| "export".into(), |n| n.to_string_lossy().into_owned());
    path.with_file_name(format!(".{name}.partial-{}", std::process::id()))
}

/// An [`ItemFilter`] in DuckDB's SQL.
trait FilterSql {
    /// `AND …` conditions over `item_metrics` aliased `m`, and their parameters.
    fn sql(&self) -> (String, Vec<String>);
}

impl FilterSql for ItemFilter {
    fn sql(&self) -> (String, Vec<String>) {
        let mut sql = String::new();
        let mut params = Vec::new();
        // Every value is matched ignoring case (`--project core` finds CORE), and the assignee's login suffix
        // literally (a `%` or `_` in it is no wildcard).
        if let Some(s) = &self.source {
            sql.push_str(" AND lower(m.source) = lower(?)");
            params.push(s.clone());
        }
        if let Some(p) = &self.project {
            sql.push_str(" AND lower(m.project) = lower(?)");
            params.push(p.clone());
        }
        if let Some(t) = &self.item_type {
            sql.push_str(
                " AND (lower(m.item_type) = lower(?) OR lower(m.standard_type) = lower(?))",
            );
            params.push(t.clone());
            params.push(t.clone());
        }
        if let Some(a) = &self.assignee {
            sql.push_str(
                " AND (lower(m.assignee) = lower(?) OR suffix(lower(m.assignee), ':' || lower(?)))",
            );
            params.push(a.clone());
            params.push(a.clone());
        }
        (sql, params)
    }
}

fn ts(us: Option<i64>) -> Option<DateTime<Utc>> {
    us.and_then(DateTime::from_timestamp_micros)
}

fn category(s: &str) -> StatusCategory {
    s.parse().unwrap_or(StatusCategory::InProgress)
}

impl DuckDbStore {
    /// Opens (and in read-write mode creates and migrates) the store at `path`.
    pub fn open(path: impl AsRef<Path>, mode: OpenMode) -> Result<Self, StoreError> {
        Self::open_with(path, mode, &OpenOptions::default())
    }

    /// [`DuckDbStore::open`] with `options`, which are checked before the file is created: a bad setting
    /// leaves nothing behind.
    pub fn open_with(
        path: impl AsRef<Path>,
        mode: OpenMode,
        options: &OpenOptions,
    ) -> Result<Self, StoreError> {
        let path = path.as_ref().to_path_buf();
        let open_err = |reason: String| StoreError::Open {
            path: path.clone(),
            reason,
        };
        if mode != OpenMode::ReadWrite && !path.exists() {
            return Err(open_err(
                "no such file (run `flowlake sync` or `flowlake demo` first)".into(),
            ));
        }
        if path.is_dir() {
            return Err(open_err("it is a directory, not a database file".into()));
        }
        let access = match mode {
            OpenMode::ReadWrite => AccessMode::ReadWrite,
            OpenMode::ReadOnly | OpenMode::Sandboxed => AccessMode::ReadOnly,
        };
        let mut config = Config::default()
            .access_mode(access)
            .and_then(|c| c.enable_autoload_extension(false))
            .map_err(|e| open_err(duckdb_message(&e)))?;
        if let Some(limit) = &options.memory_limit {
            check_memory_limit(limit)?;
            config = config
                .max_memory(limit)
                .map_err(|e| open_err(duckdb_message(&e)))?;
        }
        let conn =
            Connection::open_with_flags(&path, config).map_err(|e| open_err(open_reason(&e)))?;
        let mut store = Self {
            conn,
            path,
            staged: HashSet::new(),
            codes: Arc::default(),
        };
        match mode {
            OpenMode::ReadWrite => store.migrate()?,
            OpenMode::ReadOnly => store.check_version()?,
            OpenMode::Sandboxed => {
                store.check_version()?;
                for setting in SANDBOX {
                    store
                        .conn
                        .execute_batch(setting)
                        .map_err(StoreError::sql(format!("sandboxing: {setting}")))?;
                }
            }
        }
        Ok(store)
    }

    /// An in-memory store, for tests and benchmarks of the engine.
    pub fn open_in_memory() -> Result<Self, StoreError> {
        let conn = Connection::open_in_memory().map_err(|e| StoreError::Open {
            path: ":memory:".into(),
            reason: duckdb_message(&e),
        })?;
        let mut store = Self {
            conn,
            path: ":memory:".into(),
            staged: HashSet::new(),
            codes: Arc::default(),
        };
        store.migrate()?;
        Ok(store)
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Limits DuckDB's own memory (e.g. `"512MB"`), for bounded-memory bulk loads. On an open store: to
    /// refuse a bad value before a file exists, pass it in [`OpenOptions`] or check it with
    /// [`check_memory_limit`] first.
    pub fn set_memory_limit(&self, limit: &str) -> Result<(), StoreError> {
        self.conn
            .execute_batch(&format!(
                "SET memory_limit = '{}'",
                limit.replace('\'', "''")
            ))
            .map_err(StoreError::sql("setting memory_limit"))
    }

    /// Runs a `SET` statement (tuning for bulk loads: `checkpoint_threshold`, `threads`, …).
    pub fn set(&self, setting: &str, value: &str) -> Result<(), StoreError> {
        let name: String = setting
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        self.conn
            .execute_batch(&format!("SET {name} = '{}'", value.replace('\'', "")))
            .map_err(StoreError::sql(format!("setting {name}")))
    }

    /// The applied schema version (0 for an empty file).
    pub fn schema_version(&self) -> Result<i64, StoreError> {
        let exists: i64 = self
            .conn
            .query_row(
                "SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_migrations'",
                [],
                |r| r.get(0),
            )
            .map_err(StoreError::sql("reading the schema version"))?;
        if exists == 0 {
            return Ok(0);
        }
        self.conn
            .query_row(
                "SELECT coalesce(max(version), 0) FROM schema_migrations",
                [],
                |r| r.get(0),
            )
            .map_err(StoreError::sql("reading the schema version"))
    }

    fn check_version(&self) -> Result<(), StoreError> {
        let found = self.schema_version()?;
        let known = duckdb_migrations().last().map_or(0, |m| m.version);
        if found > known {
            return Err(StoreError::TooNew {
                path: self.path.clone(),
                found,
                known,
            });
        }
        if found < known {
            return Err(StoreError::Open {
                path: self.path.clone(),
                reason: format!("schema version {found} is older than {known}; run `flowlake sync` once to upgrade it"),
            });
        }
        Ok(())
    }

    /// Applies the migrations not applied yet, each in its own transaction.
    pub fn migrate(&mut self) -> Result<(), StoreError> {
        self.conn
            .execute_batch(SCHEMA_MIGRATIONS_DDL)
            .map_err(StoreError::sql("creating schema_migrations"))?;
        let current = self.schema_version()?;
        let migrations = duckdb_migrations();
        let known = migrations.last().map_or(0, |m| m.version);
        if current > known {
            return Err(StoreError::TooNew {
                path: self.path.clone(),
                found: current,
                known,
            });
        }
        for m in migrations.into_iter().filter(|m| m.version > current) {
            let context = format!("applying migration {} ({})", m.version, m.description);
            let tx = self
                .conn
                .transaction()
                .map_err(StoreError::sql(context.clone()))?;
            for s in &m.statements {
                tx.execute_batch(s)
                    .map_err(StoreError::sql(context.clone()))?;
            }
            tx.execute(
                "INSERT INTO schema_migrations VALUES (?, ?, current_timestamp::TIMESTAMP)",
                params![m.version, m.description],
            )
            .map_err(StoreError::sql(context.clone()))?;
            tx.commit().map_err(StoreError::sql(context))?;
        }
        Ok(())
    }

    /// Another connection to the same database, for loading batches side by side: DuckDB writes the row
    /// groups of concurrent transactions in parallel. Loads on clones must not touch the same rows (their
    /// transactions would conflict); batches of disjoint items do not.
    pub fn try_clone(&self) -> Result<Self, StoreError> {
        let conn = self.conn.try_clone().map_err(|e| StoreError::Open {
            path: self.path.clone(),
            reason: duckdb_message(&e),
        })?;
        Ok(Self {
            conn,
            path: self.path.clone(),
            staged: HashSet::new(),
            codes: Arc::clone(&self.codes),
        })
    }

    /// The store's codes for the labels of each taken table (empty for tables without label columns). Labels
    /// the store lacks are added in a transaction of their own before the load's: a label no row uses is
    /// harmless, and committing new labels first (under the shared map's lock) lets loads on cloned
    /// connections run side by side without giving one label two codes.
    fn label_codes(
        &mut self,
        taken: &[(&'static TableDef, TakenRows)],
    ) -> Result<Vec<Vec<i32>>, StoreError> {
        let wanted: Vec<&[String]> = taken
            .iter()
            .map(|(def, rows)| match def.is_coded() {
                true => rows.labels.as_slice(),
                false => &[],
            })
            .collect();
        if wanted.iter().all(|labels| labels.is_empty()) {
            return Ok(vec![Vec::new(); taken.len()]);
        }
        let mut guard = self
            .codes
            .labels
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let known = match guard.as_mut() {
            Some(known) => known,
            None => guard.insert(read_labels(&self.conn)?),
        };
        let mut new: Vec<(String, i32)> = Vec::new();
        for label in wanted.iter().copied().flatten() {
            if !known.contains_key(label) && !new.iter().any(|(l, _)| l == label) {
                let next = match new.last() {
                    Some((_, code)) => code + 1,
                    None => known.values().copied().max().unwrap_or(0) + 1,
                };
                new.push((label.clone(), next));
            }
        }
        if !new.is_empty() {
            let tx = self
                .conn
                .transaction()
                .map_err(StoreError::sql("adding labels"))?;
            for (label, code) in &new {
                tx.execute(
                    "INSERT INTO main.labels VALUES (?, ?)",
                    params![code, label],
                )
                .map_err(StoreError::sql("adding labels"))?;
            }
            tx.commit().map_err(StoreError::sql("adding labels"))?;
            known.extend(new);
        }
        Ok(wanted
            .iter()
            .map(|labels| {
                labels
                    .iter()
                    .map(|l| known.get(l).copied().unwrap_or(0))
                    .collect()
            })
            .collect())
    }

    fn write_partial(
        &self,
        sql: &str,
        partial: &Path,
        path: &Path,
        format: &str,
        context: &str,
    ) -> Result<(), StoreError> {
        let target = partial.to_string_lossy().replace('\'', "''");
        let options = match format {
            "parquet" => "FORMAT PARQUET",
            _ => "FORMAT CSV, HEADER",
        };
        self.conn
            .execute_batch(&format!("COPY ({sql}) TO '{target}' ({options})"))
            .map_err(StoreError::sql(context))?;
        let io = |what: &str, e: std::io::Error| StoreError::Write {
            path: partial.to_path_buf(),
            message: format!("{what}: {e}"),
        };
        std::fs::File::open(partial)
            .and_then(|f| f.sync_all())
            .map_err(|e| io("flushing it to disk", e))?;
        std::fs::rename(partial, path)
            .map_err(|e| io(&format!("renaming it to {}", path.display()), e))
    }
}

/// The stored labels and their codes.
fn read_labels(conn: &Connection) -> Result<HashMap<String, i32>, StoreError> {
    let context = "reading labels";
    let mut stmt = conn
        .prepare("SELECT label, code FROM main.labels")
        .map_err(StoreError::sql(context))?;
    let rows = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .map_err(StoreError::sql(context))?;
    rows.collect::<Result<_, _>>()
        .map_err(StoreError::sql(context))
}

/// `record` with its label and item columns turned from the batch's numbers into the store's codes
/// (`labels` and `items`, indexed by those numbers).
fn with_store_codes(
    def: &TableDef,
    record: RecordBatch,
    labels: &[i32],
    items: &[i64],
) -> Result<RecordBatch, StoreError> {
    if !def.is_coded() {
        return Ok(record);
    }
    let columns: Vec<ArrayRef> = def
        .columns
        .iter()
        .zip(record.columns())
        .map(|(c, array)| match c.ty {
            ColType::Label => recode::<Int32Type>(array, labels),
            ColType::Item => recode::<Int64Type>(array, items),
            _ => Arc::clone(array),
        })
        .collect();
    RecordBatch::try_new(record.schema(), columns).map_err(|e| StoreError::Batch {
        table: def.name.to_string(),
        message: e.to_string(),
    })
}

/// `array` of a batch's numbers as the store's `codes` (indexed by those numbers).
fn recode<T: ArrowPrimitiveType>(array: &ArrayRef, codes: &[T::Native]) -> ArrayRef {
    match array.as_primitive_opt::<T>() {
        Some(numbers) => Arc::new(
            numbers.unary::<_, T>(|n| codes.get(n.as_usize()).copied().unwrap_or_default()),
        ),
        None => Arc::clone(array),
    }
}

/// The store's codes of `ids` (a batch's item ids, in the order of its numbers), and whether any was known
/// before. Ids the store lacks get new codes, appended to `item_codes` inside the load's transaction `tx`.
/// The lookup is one hash join of the ids, staged in a temporary table, with `item_codes`: as cheap as
/// asking `work_items` whether the items are stored, which it also answers, since every work item a load
/// brings gets a code.
fn item_codes(
    tx: &duckdb::Transaction<'_>,
    shared: &SharedCodes,
    ids: &[String],
) -> Result<(Vec<i64>, bool), StoreError> {
    let context = "looking up item codes";
    if ids.is_empty() {
        return Ok((Vec::new(), false));
    }
    tx.execute_batch("CREATE TEMP TABLE IF NOT EXISTS _stage_item_ids (n BIGINT, item_id VARCHAR)")
        .map_err(StoreError::sql(context))?;
    let numbers: ArrayRef = Arc::new(Int64Array::from_iter_values(0..ids.len() as i64));
    let names: ArrayRef = Arc::new(StringArray::from_iter_values(ids));
    let stage = record_of("_stage_item_ids", [("n", numbers), ("item_id", names)])?;
    append(tx, "_stage_item_ids", true, stage)?;
    let mut codes = vec![0_i64; ids.len()];
    let mut any_known = false;
    {
        let mut stmt = tx
            .prepare(
                "SELECT s.n, c.code FROM temp.main._stage_item_ids s JOIN main.item_codes c USING (item_id)",
            )
            .map_err(StoreError::sql(context))?;
        let mut rows = stmt.query([]).map_err(StoreError::sql(context))?;
        while let Some(r) = rows.next().map_err(StoreError::sql(context))? {
            let n: i64 = r.get(0).map_err(StoreError::sql(context))?;
            if let Some(code) = codes.get_mut(n as usize) {
                *code = r.get(1).map_err(StoreError::sql(context))?;
                any_known = true;
            }
        }
    }
    tx.execute_batch("DELETE FROM temp.main._stage_item_ids")
        .map_err(StoreError::sql(context))?;
    let new = codes.iter().filter(|c| **c == 0).count() as i64;
    if new > 0 {
        let first = {
            let mut last = shared
                .last_item_code
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            let last = match last.as_mut() {
                Some(last) => last,
                None => last.insert(
                    tx.query_row(
                        "SELECT coalesce(max(code), 0) FROM main.item_codes",
                        [],
                        |r| r.get(0),
                    )
                    .map_err(StoreError::sql(context))?,
                ),
            };
            *last += new;
            *last - new + 1
        };
        let mut new_codes = Vec::with_capacity(new as usize);
        let mut new_ids = Vec::with_capacity(new as usize);
        let unknown = codes.iter_mut().zip(ids).filter(|(c, _)| **c == 0);
        for (next, (code, id)) in (first..).zip(unknown) {
            *code = next;
            new_codes.push(next);
            new_ids.push(id.as_str());
        }
        let code_column: ArrayRef = Arc::new(Int64Array::from(new_codes));
        let id_column: ArrayRef = Arc::new(StringArray::from(new_ids));
        let new = record_of(
            "item_codes",
            [("code", code_column), ("item_id", id_column)],
        )?;
        append(tx, "item_codes", false, new)?;
    }
    Ok((codes, any_known))
}

/// Appends `record` to `table` inside `tx`: a temporary table (a stage) or one of the database's.
fn append(
    tx: &duckdb::Transaction<'_>,
    table: &str,
    temporary: bool,
    record: RecordBatch,
) -> Result<(), StoreError> {
    let context = || StoreError::sql(format!("appending to {table}"));
    let mut app = match temporary {
        true => tx.appender_to_catalog_and_db(table, "temp", "main"),
        false => tx.appender(table),
    }
    .map_err(context())?;
    app.append_record_batch(record).map_err(context())?;
    app.flush().map_err(context())
}

/// A record batch of `columns`, for the store's own bookkeeping tables.
fn record_of<const N: usize>(
    table: &str,
    columns: [(&str, ArrayRef); N],
) -> Result<RecordBatch, StoreError> {
    RecordBatch::try_from_iter(columns).map_err(|e| StoreError::Batch {
        table: table.to_string(),
        message: e.to_string(),
    })
}

/// Removes the `bad_records` rows of `keys` (source, stream, key: records that normalized), inside the load's
/// transaction. The table is empty unless something failed, so a load asks first whether it has rows at all.
fn clear_bad_records(
    tx: &duckdb::Transaction<'_>,
    keys: &[(String, String, String)],
) -> Result<(), StoreError> {
    let context = "clearing bad_records of records that normalized";
    if keys.is_empty() {
        return Ok(());
    }
    let any: bool = tx
        .query_row("SELECT EXISTS (SELECT 1 FROM main.bad_records)", [], |r| {
            r.get(0)
        })
        .map_err(StoreError::sql(context))?;
    if !any {
        return Ok(());
    }
    tx.execute_batch(
        "CREATE TEMP TABLE IF NOT EXISTS _stage_normalized (source VARCHAR, stream VARCHAR, key VARCHAR)",
    )
    .map_err(StoreError::sql(context))?;
    let column = |pick: fn(&(String, String, String)) -> &str| -> ArrayRef {
        Arc::new(StringArray::from_iter_values(keys.iter().map(pick)))
    };
    let stage = record_of(
        "_stage_normalized",
        [
            ("source", column(|k| &k.0)),
            ("stream", column(|k| &k.1)),
            ("key", column(|k| &k.2)),
        ],
    )?;
    append(tx, "_stage_normalized", true, stage)?;
    tx.execute_batch(
        "DELETE FROM main.bad_records t USING temp.main._stage_normalized s \
         WHERE t.source = s.source AND t.stream = s.stream AND t.key = s.key; \
         DELETE FROM temp.main._stage_normalized;",
    )
    .map_err(StoreError::sql(context))
}

/// Removes the stored items of `source` that are `keep` under an older key (same `custom_fields.node_id`),
/// with their item-level rows and raw records, inside the load's transaction.
fn retire_moved(
    tx: &duckdb::Transaction<'_>,
    source: &str,
    node_id: &str,
    keep: &str,
) -> Result<(), StoreError> {
    let context = || format!("removing the old key of moved item {keep}");
    let mut stmt = tx
        .prepare(
            "SELECT id, key FROM main.work_items WHERE source = ? AND id <> ? \
             AND json_extract_string(custom_fields, '$.node_id') = ?",
        )
        .map_err(StoreError::sql(context()))?;
    let old: Vec<(String, String)> = stmt
        .query_map(duckdb::params![source, keep, node_id], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .map_err(StoreError::sql(context()))?
        .collect::<Result<_, _>>()
        .map_err(StoreError::sql(context()))?;
    for (id, key) in old {
        for t in schema::loaded_tables() {
            if t.replace_key == ["item_id"] {
                let rows_of_item = match t.has_item_codes() {
                    true => "item_id IN (SELECT code FROM main.item_codes WHERE item_id = ?)",
                    false => "item_id = ?",
                };
                tx.execute(
                    &format!("DELETE FROM main.{} WHERE {rows_of_item}", t.stored_name()),
                    [&id],
                )
                .map_err(StoreError::sql(context()))?;
            }
        }
        tx.execute("DELETE FROM main.work_items WHERE id = ?", [&id])
            .map_err(StoreError::sql(context()))?;
        for table in ["raw_records", "bad_records"] {
            tx.execute(
                &format!("DELETE FROM main.{table} WHERE source = ? AND key = ?"),
                [source, key.as_str()],
            )
            .map_err(StoreError::sql(context()))?;
        }
        tracing::info!(old = %id, new = %keep, "moved item: its old key is removed");
    }
    Ok(())
}

fn put_cursor(conn: &Connection, key: &StateKey, cursor: &str) -> Result<(), StoreError> {
    conn.execute(
        "INSERT OR REPLACE INTO sync_state VALUES (?, ?, ?, current_timestamp::TIMESTAMP)",
        params![key.source, key.stream, cursor],
    )
    .map(|_| ())
    .map_err(StoreError::sql("saving the sync cursor"))
}

impl StateBackend for DuckDbStore {
    fn get(&mut self, key: &StateKey) -> Result<Option<String>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT cursor FROM sync_state WHERE source = ? AND stream = ?")
            .map_err(StoreError::sql("reading the sync cursor"))?;
        let mut rows = stmt
            .query(params![key.source, key.stream])
            .map_err(StoreError::sql("reading the sync cursor"))?;
        match rows
            .next()
            .map_err(StoreError::sql("reading the sync cursor"))?
        {
            Some(r) => Ok(Some(
                r.get(0)
                    .map_err(StoreError::sql("reading the sync cursor"))?,
            )),
            None => Ok(None),
        }
    }

    fn put(&mut self, key: &StateKey, cursor: &str) -> Result<(), StoreError> {
        put_cursor(&self.conn, key, cursor)
    }

    fn clear(&mut self, key: &StateKey) -> Result<(), StoreError> {
        self.conn
            .execute(
                "DELETE FROM sync_state WHERE source = ? AND stream = ?",
                params![key.source, key.stream],
            )
            .map(|_| ())
            .map_err(StoreError::sql("clearing the sync cursor"))
    }

    fn list(&mut self) -> Result<Vec<(StateKey, String)>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT source, stream, cursor FROM sync_state ORDER BY 1, 2")
            .map_err(StoreError::sql("listing sync cursors"))?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    StateKey::new(r.get::<_, String>(0)?, r.get::<_, String>(1)?),
                    r.get(2)?,
                ))
            })
            .map_err(StoreError::sql("listing sync cursors"))?;
        rows.collect::<Result<_, _>>()
            .map_err(StoreError::sql("listing sync cursors"))
    }
}

/// The engine's and the CLI's view of the store: each method is the inherent one of the same name.
impl Store for DuckDbStore {
    fn describe(&self) -> String {
        self.path.display().to_string()
    }

    /// Rows, moves and cursor commit in one DuckDB transaction.
    fn keeps_cursors_in_the_load_transaction(&self) -> bool {
        true
    }

    /// Switches bulk-load mode on or off. DuckDB checkpoints whenever its write-ahead log passes
    /// `checkpoint_threshold` (16 MB by default), and a checkpoint rewrites the last, partly filled row group and
    /// the metadata of every table it touches: on a backfill of millions of rows that is one rewrite per batch,
    /// growing with the table. In bulk mode the log may grow to 4 GB before a checkpoint; leaving bulk mode
    /// checkpoints once. The log is durable either way: a crash in bulk mode loses nothing committed.
    fn set_bulk(&mut self, on: bool) -> Result<(), StoreError> {
        if on {
            self.set("checkpoint_threshold", "4GB")
        } else {
            let started = std::time::Instant::now();
            self.conn
                .execute_batch("RESET checkpoint_threshold; CHECKPOINT;")
                .map_err(StoreError::sql("checkpointing after a bulk load"))?;
            tracing::debug!(
                micros = started.elapsed().as_micros() as u64,
                "checkpointed"
            );
            Ok(())
        }
    }

    /// A clone of the connection ([`DuckDbStore::try_clone`]): DuckDB writes the row groups of concurrent
    /// transactions in parallel.
    fn loader(&self) -> Result<Option<Box<dyn Store + Send>>, StoreError> {
        Ok(Some(Box::new(self.try_clone()?)))
    }

    /// Loads a batch in one transaction: for each table, the rows sharing a replace key with the batch are
    /// deleted and the batch inserted, so a replay leaves the table as it was. When `cursor` is given it is
    /// saved in `sync_state` in the same transaction, so data and cursor commit together or not at all.
    fn load(
        &mut self,
        batch: &mut LoadBatch,
        cursor: Option<(&StateKey, &str)>,
    ) -> Result<(), StoreError> {
        let mut taken = Vec::new();
        for rb in batch.tables_mut() {
            if rb.is_empty() {
                continue;
            }
            let name = rb.def().name;
            if !self.staged.contains(name) {
                let stored = rb.def().stored_name();
                self.conn
                    .execute_batch(&format!(
                        "CREATE TEMP TABLE IF NOT EXISTS _stage_{name} AS SELECT * FROM main.{stored} LIMIT 0"
                    ))
                    .map_err(StoreError::sql(format!("staging {name}")))?;
                self.staged.insert(name);
            }
            taken.push((rb.def(), rb.take()?));
        }
        let label_codes = self.label_codes(&taken)?;
        let item_ids = batch.take_item_ids();
        let tx = self
            .conn
            .transaction()
            .map_err(StoreError::sql("starting a load"))?;
        let started = std::time::Instant::now();
        let (item_codes, any_stored) = item_codes(&tx, &self.codes, &item_ids)?;
        // When every item of the batch is new (a first load, a backfill), the work items and their item-level
        // rows are appended straight to their tables: nothing to replace, and no second copy through a stage.
        let fresh_items = batch.has_work_items() && !batch.has_orphans() && !any_stored;
        tracing::debug!(
            fresh_items,
            micros = started.elapsed().as_micros() as u64,
            "looked up item codes"
        );
        clear_bad_records(&tx, &batch.take_normalized())?;
        for ((def, rows), label_codes) in taken.into_iter().zip(&label_codes) {
            let name = def.name;
            let stored = def.stored_name();
            let item_level = def.replace_key == ["item_id"] || name == schema::WORK_ITEMS.name;
            let direct = fresh_items && item_level;
            let record = with_store_codes(def, rows.record, label_codes, &item_codes)?;
            let rows = record.num_rows();
            let started = std::time::Instant::now();
            match direct {
                true => append(&tx, &stored, false, record)?,
                false => append(&tx, &format!("_stage_{name}"), true, record)?,
            }
            if direct {
                tracing::debug!(
                    table = name,
                    rows,
                    micros = started.elapsed().as_micros() as u64,
                    "appended"
                );
                continue;
            }
            let stage = format!("temp.main._stage_{name}");
            let keys = def.replace_key.join(", ");
            let on: Vec<String> = def
                .replace_key
                .iter()
                .map(|k| format!("t.{k} = s.{k}"))
                .collect();
            if name == schema::BAD_RECORDS.name {
                // A record that fails again keeps the time it was first seen failing.
                tx.execute_batch(&format!(
                    "UPDATE {stage} s SET first_seen = t.first_seen FROM main.{stored} t \
                     WHERE {} AND t.first_seen < s.first_seen",
                    on.join(" AND ")
                ))
                .map_err(StoreError::sql("keeping first_seen of bad_records"))?;
            }
            let delete = format!(
                "DELETE FROM main.{stored} t USING (SELECT DISTINCT {keys} FROM {stage}) s WHERE {};",
                on.join(" AND ")
            );
            tx.execute_batch(&format!(
                "{delete} INSERT INTO main.{stored} SELECT * FROM {stage}; DELETE FROM {stage};"
            ))
            .map_err(StoreError::sql(format!("replacing rows of {name}")))?;
            tracing::debug!(
                table = name,
                rows,
                micros = started.elapsed().as_micros() as u64,
                "replaced"
            );
        }
        for (source, node_id, keep) in batch.take_moves() {
            retire_moved(&tx, &source, &node_id, &keep)?;
        }
        if let Some((key, c)) = cursor {
            put_cursor(&tx, key, c)?;
        }
        let started = std::time::Instant::now();
        tx.commit().map_err(StoreError::sql("committing a load"))?;
        tracing::debug!(micros = started.elapsed().as_micros() as u64, "committed");
        Ok(())
    }

    /// Names of the sources with landed raw records.
    fn raw_sources(&self) -> Result<Vec<String>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT DISTINCT source FROM raw_records ORDER BY 1")
            .map_err(StoreError::sql("listing raw sources"))?;
        let rows = stmt
            .query_map([], |r| r.get::<_, String>(0))
            .map_err(StoreError::sql("listing raw sources"))?;
        rows.collect::<Result<_, _>>()
            .map_err(StoreError::sql("listing raw sources"))
    }

    /// Raw records of `source`.
    fn count_raw(&self, source: &str) -> Result<u64, StoreError> {
        self.conn
            .query_row(
                "SELECT count(*) FROM raw_records WHERE source = ?",
                params![source],
                |r| r.get::<_, i64>(0),
            )
            .map(|n| n as u64)
            .map_err(StoreError::sql(format!("counting raw records of {source}")))
    }

    /// Up to `limit` raw records of `source` after `(stream, key)`, in key order (keyset paging).
    fn raw_page(
        &self,
        source: &str,
        after: Option<(&str, &str)>,
        limit: usize,
    ) -> Result<Vec<RawRecord>, StoreError> {
        let (stream, key) = after.unwrap_or(("", ""));
        let ctx = || StoreError::sql(format!("reading raw records of {source}"));
        let mut stmt = self
            .conn
            .prepare(
                "SELECT stream, key, epoch_us(updated_at), epoch_us(fetched_at), payload FROM raw_records
                 WHERE source = ? AND (stream, key) > (?, ?) ORDER BY stream, key LIMIT ?",
            )
            .map_err(ctx())?;
        let rows = stmt
            .query_map(params![source, stream, key, limit as i64], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, Option<i64>>(2)?,
                    r.get::<_, i64>(3)?,
                    r.get::<_, String>(4)?,
                ))
            })
            .map_err(ctx())?;
        let mut out = Vec::new();
        for row in rows {
            let (stream, key, updated, fetched, payload) = row.map_err(ctx())?;
            let payload = serde_json::from_str(&payload).map_err(|e| StoreError::Batch {
                table: "raw_records".into(),
                message: format!("{source}/{stream}/{key}: payload is not JSON: {e}"),
            })?;
            out.push(RawRecord {
                source: source.to_string(),
                stream,
                key,
                updated_at: ts(updated),
                fetched_at: ts(Some(fetched)).unwrap_or_default(),
                payload,
            });
        }
        Ok(out)
    }

    /// Marks the store as being rebuilt, committed before the rebuild changes anything: a rebuild loads its
    /// pages in transactions of their own, so one cut short leaves some items computed with the old config
    /// and some with the new, and the mark says so until [`Store::end_rebuild`]. Marking again (the
    /// rebuild that finishes an interrupted one) keeps the first time.
    fn begin_rebuild(&mut self) -> Result<(), StoreError> {
        self.conn
            .execute(
                "INSERT INTO store_marks VALUES (?, current_timestamp::TIMESTAMP) ON CONFLICT DO NOTHING",
                params![REBUILD_MARK],
            )
            .map(|_| ())
            .map_err(StoreError::sql("marking the store as being rebuilt"))
    }

    /// Removes the mark of [`Store::begin_rebuild`]: every item is computed with one config again.
    fn end_rebuild(&mut self) -> Result<(), StoreError> {
        self.conn
            .execute(
                "DELETE FROM store_marks WHERE mark = ?",
                params![REBUILD_MARK],
            )
            .map(|_| ())
            .map_err(StoreError::sql("unmarking the finished rebuild"))
    }

    /// When the rebuild that has not finished began, if one has not: its items mix two configs until a
    /// rebuild completes.
    fn unfinished_rebuild(&self) -> Result<Option<DateTime<Utc>>, StoreError> {
        let context = "reading store_marks";
        let mut stmt = self
            .conn
            .prepare("SELECT epoch_us(since) FROM store_marks WHERE mark = ?")
            .map_err(StoreError::sql(context))?;
        let mut rows = stmt
            .query(params![REBUILD_MARK])
            .map_err(StoreError::sql(context))?;
        match rows.next().map_err(StoreError::sql(context))? {
            Some(r) => Ok(ts(Some(r.get(0).map_err(StoreError::sql(context))?))),
            None => Ok(None),
        }
    }

    /// Rows in `table`.
    fn count(&self, table: &str) -> Result<i64, StoreError> {
        self.conn
            .query_row(
                &format!("SELECT count(*) FROM \"{}\"", table.replace('"', "")),
                [],
                |r| r.get(0),
            )
            .map_err(StoreError::sql(format!("counting {table}")))
    }

    /// How many items match `filter`: what a report says when nothing matched.
    fn count_items(&self, filter: &ItemFilter) -> Result<u64, StoreError> {
        let (cond, p) = filter.sql();
        let sql = format!("SELECT count(*) FROM item_metrics m WHERE true{cond}");
        let ctx = || StoreError::sql("counting item_metrics");
        let n: i64 = self
            .conn
            .query_row(&sql, params_from_iter(p), |r| r.get(0))
            .map_err(ctx())?;
        Ok(n.unsigned_abs())
    }

    /// The distinct stored values of `field` (both type columns for [`FilterField::ItemType`]), sorted
    /// ignoring case: the values a filter that matched nothing could have named.
    fn filter_values(&self, field: FilterField) -> Result<Vec<String>, StoreError> {
        let from = match field {
            FilterField::Source => "SELECT source AS v FROM item_metrics",
            FilterField::Project => "SELECT project AS v FROM item_metrics",
            FilterField::ItemType => {
                "SELECT item_type AS v FROM item_metrics UNION SELECT standard_type FROM item_metrics"
            }
            FilterField::Assignee => "SELECT assignee AS v FROM item_metrics",
        };
        let sql =
            format!("SELECT DISTINCT v FROM ({from}) WHERE v IS NOT NULL ORDER BY lower(v), v");
        let ctx = || StoreError::sql("reading item_metrics");
        let mut stmt = self.conn.prepare(&sql).map_err(ctx())?;
        let rows = stmt.query_map([], |r| r.get(0)).map_err(ctx())?;
        rows.collect::<Result<_, _>>().map_err(ctx())
    }

    /// Streams the `item_metrics` rows matching `filter`, as the core's [`ItemMetrics`].
    fn for_each_item_metrics(
        &self,
        filter: &ItemFilter,
        f: &mut dyn FnMut(ItemMetrics),
    ) -> Result<(), StoreError> {
        let (cond, p) = filter.sql();
        let sql = format!(
            "SELECT item_id, epoch_us(created_at), epoch_us(started_at), epoch_us(completed_at),
                    lead_seconds, lead_business_seconds, cycle_seconds, cycle_business_seconds, reopen_count,
                    active_seconds, flow_efficiency, epoch_us(first_response_at), first_response_seconds,
                    status_path, status_changes, current_status, current_category, age_seconds
             FROM item_metrics m WHERE true{cond}"
        );
        let ctx = || StoreError::sql("reading item_metrics");
        let mut stmt = self.conn.prepare(&sql).map_err(ctx())?;
        let mut rows = stmt.query(params_from_iter(p)).map_err(ctx())?;
        while let Some(r) = rows.next().map_err(ctx())? {
            let cat: String = r.get(16).map_err(ctx())?;
            f(ItemMetrics {
                item_id: r.get(0).map_err(ctx())?,
                created_at: ts(r.get(1).map_err(ctx())?).unwrap_or_default(),
                started_at: ts(r.get(2).map_err(ctx())?),
                completed_at: ts(r.get(3).map_err(ctx())?),
                lead_seconds: r.get(4).map_err(ctx())?,
                lead_business_seconds: r.get(5).map_err(ctx())?,
                cycle_seconds: r.get(6).map_err(ctx())?,
                cycle_business_seconds: r.get(7).map_err(ctx())?,
                reopen_count: r
                    .get::<_, i64>(8)
                    .map_err(ctx())?
                    .try_into()
                    .unwrap_or(u32::MAX),
                active_seconds: r.get(9).map_err(ctx())?,
                flow_efficiency: r.get(10).map_err(ctx())?,
                first_response_at: ts(r.get(11).map_err(ctx())?),
                first_response_seconds: r.get(12).map_err(ctx())?,
                status_path: r.get(13).map_err(ctx())?,
                status_changes: r
                    .get::<_, i64>(14)
                    .map_err(ctx())?
                    .try_into()
                    .unwrap_or(u32::MAX),
                current_status: r.get(15).map_err(ctx())?,
                current_category: category(&cat),
                age_seconds: r.get(17).map_err(ctx())?,
            });
        }
        Ok(())
    }

    /// Streams status intervals of matching items that overlap `[from, to)`:
    /// `(status, category, started_at, ended_at)`.
    fn for_each_interval(
        &self,
        filter: &ItemFilter,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        f: &mut OnInterval<'_>,
    ) -> Result<(), StoreError> {
        let (cond, mut p) = filter.sql();
        let sql = format!(
            "SELECT i.status, i.category, epoch_us(i.started_at), epoch_us(i.ended_at)
             FROM status_intervals i JOIN item_metrics m USING (item_id)
             WHERE i.started_at < make_timestamp(?::BIGINT) AND (i.ended_at IS NULL OR i.ended_at >= make_timestamp(?::BIGINT)){cond}"
        );
        p.insert(0, from.timestamp_micros().to_string());
        p.insert(0, to.timestamp_micros().to_string());
        let ctx = || StoreError::sql("reading status_intervals");
        let mut stmt = self.conn.prepare(&sql).map_err(ctx())?;
        let mut rows = stmt.query(params_from_iter(p)).map_err(ctx())?;
        while let Some(r) = rows.next().map_err(ctx())? {
            let status: String = r.get(0).map_err(ctx())?;
            let cat: String = r.get(1).map_err(ctx())?;
            let start = ts(r.get(2).map_err(ctx())?).unwrap_or_default();
            f(&status, category(&cat), start, ts(r.get(3).map_err(ctx())?));
        }
        Ok(())
    }

    /// Streams time in status of matching items: `(status, category, visits, calendar s, business s)`.
    fn for_each_status_time(
        &self,
        filter: &ItemFilter,
        f: &mut OnStatusTime<'_>,
    ) -> Result<(), StoreError> {
        let (cond, p) = filter.sql();
        let sql = format!(
            "SELECT t.status, t.category, t.visits, t.calendar_seconds, t.business_seconds
             FROM item_status_time t JOIN item_metrics m USING (item_id) WHERE true{cond}"
        );
        let ctx = || StoreError::sql("reading item_status_time");
        let mut stmt = self.conn.prepare(&sql).map_err(ctx())?;
        let mut rows = stmt.query(params_from_iter(p)).map_err(ctx())?;
        while let Some(r) = rows.next().map_err(ctx())? {
            let status: String = r.get(0).map_err(ctx())?;
            let cat: String = r.get(1).map_err(ctx())?;
            f(
                &status,
                category(&cat),
                r.get(2).map_err(ctx())?,
                r.get(3).map_err(ctx())?,
                r.get(4).map_err(ctx())?,
            );
        }
        Ok(())
    }

    /// The statuses whose category was guessed on the stays of matching items (`item_metrics.guessed_statuses`),
    /// per source with the number of items, most items first. A stored object that is not JSON is an error
    /// naming the item.
    fn guessed_statuses(&self, filter: &ItemFilter) -> Result<Vec<GuessedStatus>, StoreError> {
        let (cond, p) = filter.sql();
        let sql = format!(
            "SELECT m.item_id, m.source, m.guessed_statuses FROM item_metrics m
             WHERE m.guessed_statuses IS NOT NULL{cond}"
        );
        let ctx = || StoreError::sql("reading item_metrics.guessed_statuses");
        let mut stmt = self.conn.prepare(&sql).map_err(ctx())?;
        let mut rows = stmt.query(params_from_iter(p)).map_err(ctx())?;
        let mut per_status: BTreeMap<(String, String), (StatusCategory, u64)> = BTreeMap::new();
        while let Some(r) = rows.next().map_err(ctx())? {
            let item: String = r.get(0).map_err(ctx())?;
            let source: String = r.get(1).map_err(ctx())?;
            let json: String = r.get(2).map_err(ctx())?;
            let object: BTreeMap<String, String> =
                serde_json::from_str(&json).map_err(|e| StoreError::Batch {
                    table: "item_metrics".into(),
                    message: format!("{item}: guessed_statuses is not a JSON object of names: {e}"),
                })?;
            for (status, cat) in object {
                per_status
                    .entry((source.clone(), status))
                    .or_insert((category(&cat), 0))
                    .1 += 1;
            }
        }
        let mut out: Vec<GuessedStatus> = per_status
            .into_iter()
            .map(|((source, status), (cat, items))| {
                GuessedStatus::new(&source, &status, cat, items)
            })
            .collect();
        out.sort_by_key(|g| std::cmp::Reverse(g.items));
        Ok(out)
    }

    fn console(&self) -> Option<&dyn SqlConsole> {
        Some(self)
    }
}

impl SqlConsole for DuckDbStore {
    fn dialect(&self) -> &'static str {
        "duckdb"
    }

    /// Runs SQL and returns its rows. Several statements separated by `;` run in order; the rows are the
    /// last one's. What the SQL may do is the open mode's: on a store opened [`OpenMode::ReadOnly`] it can
    /// still read and write files and install extensions; [`OpenMode::Sandboxed`] refuses all of that.
    fn query(&self, sql: &str) -> Result<QueryResult, StoreError> {
        const CONTEXT: &str = "query";
        if is_blank(sql) {
            return Err(StoreError::EmptyQuery {
                context: CONTEXT.into(),
            });
        }
        let mut stmt = self.conn.prepare(sql).map_err(prepare_error(CONTEXT))?;
        stmt.execute([]).map_err(StoreError::sql(CONTEXT))?;
        // `step` rather than the `Arrow` iterator, which panics when a chunk cannot be fetched.
        let wide: Vec<(usize, bool)> = (0..stmt.column_count())
            .filter_map(|i| match stmt.column_logical_type(i).id() {
                LogicalTypeId::Hugeint => Some((i, false)),
                LogicalTypeId::UHugeint => Some((i, true)),
                _ => None,
            })
            .collect();
        let mut batches = Vec::new();
        while let Some(rows) = stmt.step().map_err(StoreError::sql(CONTEXT))? {
            batches.push(widen_128(RecordBatch::from(&rows), &wide)?);
        }
        let columns = stmt.column_names();
        Ok(QueryResult { columns, batches })
    }

    /// Writes the result of `sql` to `path` as `csv` or `parquet`, all or nothing: DuckDB writes a partial
    /// file beside it (`.NAME.partial-PID`), which is flushed to disk and renamed over `path` only once
    /// complete, and removed when anything fails (a query error midway, a full disk), so `path` is either the
    /// new file or what it was before.
    fn export(&self, sql: &str, path: &Path, format: &str) -> Result<(), StoreError> {
        let context = format!("exporting to {}", path.display());
        if is_blank(sql) {
            return Err(StoreError::EmptyQuery { context });
        }
        let partial = partial_path(path);
        let written = self.write_partial(sql, &partial, path, format, &context);
        if written.is_err() {
            if let Err(e) = std::fs::remove_file(&partial) {
                if e.kind() != std::io::ErrorKind::NotFound {
                    tracing::warn!(file = %partial.display(), error = %e, "could not remove a partial export");
                }
            }
        }
        written
    }
}
