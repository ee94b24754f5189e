//! What `validate` finds wrong in a config that parsed: the key path at fault and why. `positions::semantic`
//! turns it into an error at that key's line, or at the variable that set it.

use std::fmt::Display;

/// A value that parses but does not fit: `key` (`sources[0].rework_rate`) is where to point, and the error
/// reads `key: why`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{text}")]
pub(super) struct Unfit {
    /// The key path at fault, as the file writes it (`store.memory_limit`, `sources[1].name`).
    pub(super) key: String,
    text: String,
}

impl Unfit {
    /// `key`'s value is wrong: `why`.
    pub(super) fn new(key: impl Into<String>, why: impl Display) -> Self {
        let key = key.into();
        Self {
            text: format!("{key}: {why}"),
            key,
        }
    }

    /// What the `i`th source's validation found, its keys under `sources[i]`.
    pub(super) fn of_source(i: usize, e: flowlake_connect::ConfigError) -> Self {
        match e {
            flowlake_connect::ConfigError::Value { key, message } => {
                Self::new(format!("sources[{i}].{key}"), message)
            }
            together @ flowlake_connect::ConfigError::Together { .. } => Self {
                key: format!("sources[{i}]"),
                text: format!("sources[{i}].{together}"),
            },
        }
    }
}
