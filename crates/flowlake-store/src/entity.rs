//! The open set of entity kinds: how a load finds, from an entity a normalizer emitted as a trait object, the
//! table declared for its type ([`crate::declare_table!`]) and writes its row.
//!
//! The kinds of flowlake itself are listed in [`crate::schema::ENTITY_TABLES`]; a kind declared outside this
//! crate (a plugin, a test) is [`register`]ed before its first load. Dispatch is per entity, through a function
//! pointer: the work items, changelog and metric rows of the hot path never come here.

use std::any::{Any, TypeId};
use std::sync::{PoisonError, RwLock};

use crate::batch::{Row, RowBatch};
use crate::schema::{TableDef, ENTITY_TABLES};

/// A value written as one row of its own table, by the writer [`crate::declare_table!`] generates from the
/// table's declaration.
pub trait TableRow: Any {
    /// The table the rows go to.
    const TABLE: &'static TableDef;
    /// Sets every column of `row`, in the declaration's order.
    fn write_row(&self, row: Row<'_>);
    /// The key a batch keeps one row per (`once by` in the declaration): `None` keeps every row.
    fn once_key(&self) -> Option<&str> {
        None
    }
}

/// One entity kind: its table and its writer, reached from a `&dyn Any` of the entity.
pub struct EntityTable {
    /// The table.
    pub table: &'static TableDef,
    type_id: fn() -> TypeId,
    write: fn(&dyn Any, &mut RowBatch),
}

impl EntityTable {
    /// The kind of `T`, as [`crate::declare_table!`] declares it.
    pub const fn of<T: TableRow>() -> Self {
        Self {
            table: T::TABLE,
            type_id: TypeId::of::<T>,
            write: write_any::<T>,
        }
    }

    /// Whether `entity` is of this kind.
    pub fn accepts(&self, entity: &dyn Any) -> bool {
        entity.type_id() == (self.type_id)()
    }

    /// Writes `entity`'s row into `rows` (a batch of [`EntityTable::table`]); an entity of another kind writes
    /// nothing.
    pub fn write(&self, entity: &dyn Any, rows: &mut RowBatch) {
        (self.write)(entity, rows)
    }
}

fn write_any<T: TableRow>(entity: &dyn Any, rows: &mut RowBatch) {
    if let Some(e) = entity.downcast_ref::<T>() {
        rows.write(e);
    }
}

/// Entity kinds declared outside this crate, in the order registered.
static REGISTERED: RwLock<Vec<&'static EntityTable>> = RwLock::new(Vec::new());

/// Adds an entity kind declared outside this crate, so loads write its entities. Registering a kind twice
/// changes nothing. Its table must exist in the store (what a migration does for flowlake's own kinds).
pub fn register(kind: &'static EntityTable) {
    let mut registered = REGISTERED.write().unwrap_or_else(PoisonError::into_inner);
    if !registered.iter().any(|k| std::ptr::eq(*k, kind)) {
        registered.push(kind);
    }
}

/// The kind of `entity`: flowlake's own first, then the registered ones. `None` for a type no table is
/// declared for.
pub fn entity_table(entity: &dyn Any) -> Option<&'static EntityTable> {
    if let Some(k) = ENTITY_TABLES.iter().find(|k| k.accepts(entity)) {
        return Some(k);
    }
    REGISTERED
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .iter()
        .find(|k| k.accepts(entity))
        .copied()
}
