//! Normalizers: landed records in, the domain model out. Pure: built from a source's config alone, with no
//! HTTP client and no token, so a rebuild re-normalizes the raw landing table without any API.

use flowlake_core::{Normalized, RawRecord, StatusCategory};

use crate::SourceError;

/// Turns one source's landed records into work items with their histories, deployments, people…
///
/// Some streams are lookups (a tracker's statuses, fields or users) that normalizing the other records
/// needs: the normalizer names them in [`Normalizer::lookup_streams`], and the engine hands it every record
/// of those streams ([`Normalizer::absorb`]) before the records of any other stream — in a sync, before the
/// rest of their page; in a rebuild, before the first page of items.
pub trait Normalizer {
    /// The lookup streams, absorbed before the other streams (none is an answer: `&[]`).
    fn lookup_streams(&self) -> &[&str];
    /// Normalizes one landed record (a lookup record too: it may carry rows of its own, as users do).
    fn normalize(&self, raw: &RawRecord) -> Result<Normalized, SourceError>;
    /// Takes in a record of one of the [lookup streams](Normalizer::lookup_streams).
    fn absorb(&mut self, raw: &RawRecord) -> Result<(), SourceError> {
        let _ = raw;
        Ok(())
    }
    /// Status name → category from the tracker's own metadata (absorbed, or fixed by the config), for
    /// statuses the config does not map.
    fn known_statuses(&self) -> Vec<(String, StatusCategory)> {
        Vec::new()
    }
}

/// A record the normalizer cannot read: `message` (a serde error, a missing field) names what is wrong.
pub(crate) fn bad_record(raw: &RawRecord, message: impl std::fmt::Display) -> SourceError {
    SourceError::BadRecord {
        source_name: raw.source.clone(),
        stream: raw.stream.clone(),
        key: raw.key.clone(),
        message: message.to_string(),
    }
}

/// A record's payload read as `T`, without copying it (serde reads a `&Value` in place); a payload that
/// does not fit is a [`bad_record`] naming the field.
pub(crate) fn parse_payload<'a, T: serde::Deserialize<'a>>(
    raw: &'a RawRecord,
) -> Result<T, SourceError> {
    T::deserialize(&raw.payload).map_err(|e| bad_record(raw, e))
}

/// Implements [`Normalizer`] for a source by handing every call to its `normalizer` field.
macro_rules! normalizes_with {
    ($source:ty) => {
        impl $crate::Normalizer for $source {
            fn lookup_streams(&self) -> &[&str] {
                self.normalizer.lookup_streams()
            }
            fn normalize(
                &self,
                raw: &flowlake_core::RawRecord,
            ) -> Result<flowlake_core::Normalized, $crate::SourceError> {
                self.normalizer.normalize(raw)
            }
            fn absorb(
                &mut self,
                raw: &flowlake_core::RawRecord,
            ) -> Result<(), $crate::SourceError> {
                self.normalizer.absorb(raw)
            }
            fn known_statuses(&self) -> Vec<(String, flowlake_core::StatusCategory)> {
                self.normalizer.known_statuses()
            }
        }
    };
}
pub(crate) use normalizes_with;
