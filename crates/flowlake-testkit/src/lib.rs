//! flowlake's test fakes: stateful fake GitHub, GitLab, Jira and Yandex Tracker APIs served on loopback, with
//! faults on demand and a book of the requests they answered, for the connectors' tests and the sync
//! benchmarks. Not published: the crates take it as a dev-dependency.
//!
//! Each fake is held to its vendor's contract ([`contracts`]): GitHub's GraphQL schema and REST OpenAPI
//! document, Jira's OpenAPI document, and answers recorded from GitLab and Yandex Tracker (in `fixtures/`), so
//! a misreading of an API cannot pass in both a connector and its fake ([`sentry`], a fake Sentry ingest, is
//! held to Sentry's envelope format the same way). [`shared`] holds what the fakes share:
//! the loopback server, the fault type, the request [`Ledger`] and the contract check of an exchange; [`drive`]
//! runs a connector's `Source` in-process against a fake.

pub mod contracts;
pub mod drive;
pub mod github;
pub mod gitlab;
pub mod jira;
pub mod sentry;
pub mod servers;
pub mod shared;
pub mod yandex_tracker;

pub use shared::{KeyedFault, Ledger, StatusFault, STUCK_PAGES};
