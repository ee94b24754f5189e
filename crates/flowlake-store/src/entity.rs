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

#[cfg(test)]
mod tests {
    use flowlake_core::{AnyEntity, Deployment, Entity, Person};

    use crate::error::StoreError;
    use crate::schema;
    use crate::LoadBatch;

    #[derive(Debug, Clone, PartialEq)]
    struct Undeclared(i64);

    impl Entity for Undeclared {}

    fn person(name: &str) -> Person {
        Person {
            id: "gh:ann".into(),
            source: "gh".into(),
            login: "ann".into(),
            name: Some(name.into()),
            email: None,
        }
    }

    #[test]
    fn entities_find_their_table_by_type_and_people_are_kept_once_per_batch() {
        let mut batch = LoadBatch::new();
        let member: Box<dyn AnyEntity> = Box::new(person("Ann"));
        batch.any_entity(member.as_ref()).unwrap();
        batch.entity(&person("Ann B."));
        let deployment = Deployment {
            id: "gh:1".into(),
            source: "gh".into(),
            service: "app".into(),
            environment: "production".into(),
            commit_sha: None,
            status: "success".into(),
            created_at: chrono::DateTime::UNIX_EPOCH,
            finished_at: None,
        };
        batch.any_entity(&deployment).unwrap();
        assert_eq!(
            batch.counts(),
            [(schema::DEPLOYMENTS.name, 1), (schema::PEOPLE.name, 1)],
            "the second copy of the person is not written"
        );
    }

    #[test]
    fn an_entity_of_a_kind_without_a_table_is_an_error_naming_it() {
        let err = LoadBatch::new().any_entity(&Undeclared(1)).unwrap_err();
        assert!(
            matches!(&err, StoreError::UnknownEntity { kind } if kind.ends_with("Undeclared")),
            "{err}"
        );
    }
}
