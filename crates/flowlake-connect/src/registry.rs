//! The connector registry: every source kind flowlake knows, one line each.
//!
//! A [`Connector`] says how a `kind` of `[[sources]]` block becomes a running source: its config type (read
//! with its documented keys, then [validated](Connector::validate)), its source, its pure
//! [normalizer](Connector::normalizer) (built from the config alone, for rebuilds), an optional history
//! backfill, the "now" its metrics are computed at, and the commented example block `flowlake init` writes.
//! The [`registry!`] line at the bottom of this file turns the list into [`SourceConfig`], the enum a config
//! file's blocks are read into, and every method the engine calls on it: no other file matches on kinds.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize};

use flowlake_core::{KeyDoc, KeyDocs};

use crate::github::Backfill;
use crate::http::{HttpObserver, Tape};
use crate::{ConfigError, Normalizer, Source, SourceError};

/// One kind of source.
pub trait Connector {
    /// Its `[[sources]]` block, without `kind`.
    /// Its keys' doc comments ([`KeyDocs`]) are what `flowlake init` writes above them.
    type Config: Clone + std::fmt::Debug + PartialEq + Serialize + DeserializeOwned + KeyDocs;
    /// What the system is called in prose (`Yandex Tracker`).
    const LABEL: &'static str;
    /// Its block in `flowlake init`'s template: `[[sources]]`, `kind` and example values, optional keys
    /// commented out (`# key = value`), `{until}` standing for the generator's default last day. No key's
    /// meaning: the template writes each key's doc comment above it (see [`Example`]).
    const EXAMPLE: &'static str;
    /// The source name the block sets.
    fn name(config: &Self::Config) -> &str;
    /// Checks values that parse but do not fit, naming the key.
    fn validate(config: &Self::Config) -> Result<(), ConfigError>;
    /// The "now" metrics are computed at: the wall clock, unless the source's history has its own end.
    fn now(config: &Self::Config, wall_clock: DateTime<Utc>) -> DateTime<Utc> {
        let _ = config;
        wall_clock
    }
    /// The source; no request is made until its first page. API sources read their token here.
    fn source(
        config: &Self::Config,
        tape: &Tape,
        observer: Arc<dyn HttpObserver>,
    ) -> Result<Box<dyn Source>, SourceError>;
    /// The normalizer alone: no client, no token.
    fn normalizer(config: &Self::Config) -> Box<dyn Normalizer>;
    /// The source reading the history of `backfill` instead, when the kind has such a backfill (`None`).
    fn backfill(
        config: &Self::Config,
        tape: &Tape,
        observer: Arc<dyn HttpObserver>,
        backfill: &Backfill,
    ) -> Option<Result<Box<dyn Source>, SourceError>> {
        let _ = (config, tape, observer, backfill);
        None
    }
}

/// Declares an API source's [`Connector`]: its name and checks are its config's (`name`, `validate()`), its
/// source is `Source::new(config, tape, observer)` (the constructor `crate::api_client` serves), its normalizer
/// `Normalizer::new(&config)`; `impl { … }` adds items such as [`Connector::backfill`].
macro_rules! api_connector {
    (
        $(#[$doc:meta])*
        pub struct $connector:ident {
            label: $label:literal,
            config: $config:ty,
            source: $source:ty,
            normalizer: $normalizer:ty,
            example: $example:expr,
        }
        $(impl { $($extra:tt)* })?
    ) => {
        $(#[$doc])*
        pub struct $connector;

        impl $crate::registry::Connector for $connector {
            type Config = $config;
            const LABEL: &'static str = $label;
            const EXAMPLE: &'static str = $example;

            fn name(config: &$config) -> &str {
                &config.name
            }

            fn validate(config: &$config) -> Result<(), $crate::ConfigError> {
                config.validate()
            }

            fn source(
                config: &$config,
                tape: &$crate::http::Tape,
                observer: std::sync::Arc<dyn $crate::http::HttpObserver>,
            ) -> Result<Box<dyn $crate::Source>, $crate::SourceError> {
                Ok(Box::new(<$source>::new(config.clone(), tape.clone(), observer)?))
            }

            fn normalizer(config: &$config) -> Box<dyn $crate::Normalizer> {
                Box::new(<$normalizer>::new(config))
            }

            $($($extra)*)?
        }
    };
}
pub(crate) use api_connector;

/// A kind's block in `flowlake init`'s template, with what documents it.
#[derive(Debug, Clone, Copy)]
pub struct Example {
    /// The `kind`.
    pub kind: &'static str,
    /// What the system is called in prose.
    pub label: &'static str,
    /// [`Connector::EXAMPLE`].
    pub block: &'static str,
    /// The config type's keys and their doc comments: each written above its key.
    pub keys: &'static [KeyDoc],
}

/// Declares [`SourceConfig`] from `"kind" => Variant(Connector)` lines.
macro_rules! registry {
    ($($(#[$doc:meta])* $kind:literal => $variant:ident($connector:ty),)*) => {
        /// One source block, `[[sources]]` with a `kind`: one variant per [registered](self) connector.
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        #[serde(tag = "kind")]
        pub enum SourceConfig {
            $($(#[$doc])* #[serde(rename = $kind)] $variant(<$connector as Connector>::Config),)*
        }

        impl SourceConfig {
            /// The `kind`s a `[[sources]]` block may have, in registry order.
            pub const KINDS: &'static [&'static str] = &[$($kind),*];

            /// The kind of this block.
            pub fn kind(&self) -> &'static str {
                match self { $(Self::$variant(_) => $kind,)* }
            }

            /// The source's name.
            pub fn name(&self) -> &str {
                match self { $(Self::$variant(c) => <$connector as Connector>::name(c),)* }
            }

            /// The "now" metrics of this source are computed at: the wall clock for live systems, the
            /// simulated end of history for the generator (so its rows are identical on every run).
            pub fn now(&self, wall_clock: DateTime<Utc>) -> DateTime<Utc> {
                match self { $(Self::$variant(c) => <$connector as Connector>::now(c, wall_clock),)* }
            }

            /// Checks values that parse but do not fit; the error names the key inside the block.
            pub fn validate(&self) -> Result<(), ConfigError> {
                match self { $(Self::$variant(c) => <$connector as Connector>::validate(c),)* }
            }

            /// The source this block describes (see [`Connector::source`]).
            pub fn source(
                &self,
                tape: &Tape,
                observer: Arc<dyn HttpObserver>,
            ) -> Result<Box<dyn Source>, SourceError> {
                match self {
                    $(Self::$variant(c) => <$connector as Connector>::source(c, tape, observer),)*
                }
            }

            /// The normalizer of this block's source, built from the config alone.
            pub fn normalizer(&self) -> Box<dyn Normalizer> {
                match self { $(Self::$variant(c) => <$connector as Connector>::normalizer(c),)* }
            }

            /// The backfilling source, `None` when the kind has no backfill.
            pub fn backfill(
                &self,
                tape: &Tape,
                observer: Arc<dyn HttpObserver>,
                backfill: &Backfill,
            ) -> Option<Result<Box<dyn Source>, SourceError>> {
                match self {
                    $(Self::$variant(c) => <$connector as Connector>::backfill(c, tape, observer, backfill),)*
                }
            }

            /// Reads a block whose `kind` is `kind` (already taken out of `d`) into that kind's config, so
            /// errors keep the positions of its values; an unknown kind is refused naming the kinds.
            pub fn deserialize_kind<'de, D: Deserializer<'de>>(
                kind: &str,
                d: D,
            ) -> Result<Self, D::Error> {
                match kind {
                    $($kind => <<$connector as Connector>::Config as Deserialize>::deserialize(d)
                        .map(Self::$variant),)*
                    other => Err(serde::de::Error::unknown_variant(other, Self::KINDS)),
                }
            }

            /// Every kind's block for `flowlake init`, in registry order.
            pub fn examples() -> Vec<Example> {
                vec![$(Example {
                    kind: $kind,
                    label: <$connector as Connector>::LABEL,
                    block: <$connector as Connector>::EXAMPLE,
                    keys: <<$connector as Connector>::Config as KeyDocs>::KEYS,
                },)*]
            }
        }
    };
}

registry! {
    /// The synthetic tracker.
    "generator" => Generator(crate::generator::GeneratorConnector),
    /// GitHub (or GitHub Enterprise Server) repositories.
    "github" => Github(crate::github::GithubConnector),
    /// Jira Cloud or Server/Data Center.
    "jira" => Jira(crate::jira::JiraConnector),
    /// Yandex Tracker.
    "yandex_tracker" => YandexTracker(crate::yandex_tracker::YandexTrackerConnector),
    /// GitLab.
    "gitlab" => Gitlab(crate::gitlab::GitlabConnector),
}
