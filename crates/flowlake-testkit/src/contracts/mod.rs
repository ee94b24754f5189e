//! The vendors' published API contracts, for tests: every request flowlake sends and every
//! answer a fake gives is checked against them, so a misreading of an API cannot pass in both the connector
//! and its fake.
//!
//! GitLab and Yandex Tracker publish no such document; their contracts are recorded real answers kept in
//! `fixtures` ([`recorded`]).
//!
//! The other contract files are not in the repository: `scripts/fetch-contracts.sh` fetches them from the npm
//! registry, pinned by version, into `.contracts/` (`scripts/test` runs it and sets `FLOWLAKE_CONTRACTS`).

use std::path::PathBuf;

pub mod graphql;
pub mod openapi;
pub mod recorded;

/// The folder holding the contract files: `FLOWLAKE_CONTRACTS`, else `.contracts` at the workspace root.
pub fn dir() -> PathBuf {
    match std::env::var_os("FLOWLAKE_CONTRACTS") {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../.contracts")),
    }
}

/// The text of a contract file (`github/schema.graphql`). A missing file is a broken test setup, not bad
/// input, so it panics with the command that fetches it.
pub fn read(relative: &str) -> String {
    let path = dir().join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "API contract {} is missing ({e}); run scripts/fetch-contracts.sh (scripts/test does)",
            path.display()
        )
    })
}
