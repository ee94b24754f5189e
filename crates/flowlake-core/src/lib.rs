//! flowlake's domain model, business calendar and every metric as a pure function.
//!
//! Nothing here does I/O or reads the clock: callers pass `now`. Every function is deterministic, so every
//! metric can be tested to the second with hand-computed tables (see `docs/metrics.md`).
// A panic on input a user or an API controls is a bug: code returns errors instead (tests may unwrap).
#![cfg_attr(not(test), deny(clippy::unwrap_used))]

// `#[derive(KeyDocs)]` names `::flowlake_core`, here too.
extern crate self as flowlake_core;

pub mod calendar;
pub mod entity;
pub mod key_docs;
pub mod metrics;
pub mod model;
pub mod redact;
pub mod status;

pub use calendar::{BusinessCalendar, CalendarError, CalendarSpec};
pub use entity::{AnyEntity, Entity};
pub use key_docs::{KeyDoc, KeyDocs};
pub use model::*;
pub use redact::redact_url;
pub use status::{CategoryOrigin, GuessedStatus, StatusCategory, StatusMap};
