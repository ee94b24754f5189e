//! The open set of entity kinds a normalizer emits besides work-item histories: deployments, releases,
//! pipelines, people, and whatever kind comes next (incidents, alerts, SLA events, KPI values).
//!
//! A kind is a type implementing [`Entity`]; [`Normalized`](crate::Normalized) carries its values as
//! [`AnyEntity`] trait objects, so a new kind needs no new field anywhere and no edit to the engine. The store
//! finds the table declared for the value's type (`flowlake_store::entity`).

use std::any::Any;
use std::fmt::Debug;

use crate::model::{Deployment, Person, Pipeline, Release, Sprint};

/// A kind of record outside the work-item flow, stored as one row of its own table.
///
/// Implementing it is the whole of a kind's part in the model (`impl Entity for Incident {}`): the store
/// declares the kind's table, and the engine hands every entity of a [`Normalized`](crate::Normalized) to the
/// store without knowing its kind.
pub trait Entity: Any + Debug + Clone + PartialEq + Send + Sync {}

impl Entity for Person {}
impl Entity for Deployment {}
impl Entity for Release {}
impl Entity for Sprint {}
impl Entity for Pipeline {}

/// An [`Entity`] of any kind, as a trait object: what [`Normalized::entities`](crate::Normalized::entities)
/// holds. Implemented for every [`Entity`]; it gives the value as [`Any`] (for the store to find its table
/// and read it) and keeps `Normalized` cloneable and comparable.
pub trait AnyEntity: Debug + Send + Sync {
    /// The value, for a downcast to its type.
    fn as_any(&self) -> &dyn Any;
    /// The name of its type, for messages.
    fn kind(&self) -> &'static str;
    /// A boxed copy.
    fn clone_boxed(&self) -> Box<dyn AnyEntity>;
    /// Whether `other` is of the same kind and equal.
    fn eq_any(&self, other: &dyn AnyEntity) -> bool;
}

impl<T: Entity> AnyEntity for T {
    fn as_any(&self) -> &dyn Any {
        self
    }

    fn kind(&self) -> &'static str {
        std::any::type_name::<T>()
    }

    fn clone_boxed(&self) -> Box<dyn AnyEntity> {
        Box::new(self.clone())
    }

    fn eq_any(&self, other: &dyn AnyEntity) -> bool {
        other.as_any().downcast_ref::<T>() == Some(self)
    }
}

impl Clone for Box<dyn AnyEntity> {
    fn clone(&self) -> Self {
        self.clone_boxed()
    }
}

impl PartialEq for dyn AnyEntity {
    fn eq(&self, other: &Self) -> bool {
        self.eq_any(other)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn deployment(id: &str) -> Deployment {
        Deployment {
            id: id.into(),
            source: "gh".into(),
            service: "app".into(),
            environment: "production".into(),
            commit_sha: None,
            status: "success".into(),
            created_at: chrono::Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap(),
            finished_at: None,
        }
    }

    #[test]
    fn boxed_entities_clone_compare_and_downcast_to_their_kind() {
        let a: Box<dyn AnyEntity> = Box::new(deployment("gh:1"));
        let b = a.clone();
        assert!(*a == *b);
        let other: Box<dyn AnyEntity> = Box::new(deployment("gh:2"));
        assert!(*a != *other);
        let person = Person {
            id: "gh:1".into(),
            source: "gh".into(),
            login: "ann".into(),
            name: None,
            email: None,
        };
        assert!(
            a != Box::new(person) as Box<dyn AnyEntity>,
            "another kind is never equal"
        );
        assert_eq!(
            b.as_any()
                .downcast_ref::<Deployment>()
                .map(|d| d.id.as_str()),
            Some("gh:1")
        );
        assert!(b.kind().ends_with("Deployment"));
    }
}
