//! The keys every API source's `[[sources]]` block has, declared once.
//!
//! They stay flat in the block (`max_attempts = 5` beside `projects`), as users have always written them.
//! `#[serde(flatten)]` could hold them in one nested struct, but it cannot go with `deny_unknown_fields`
//! and loses the positions of values that config errors point at; so [`api_config!`] writes them into each
//! config struct instead, and [`ApiKeys`] hands them out as one [`ApiSettings`].

use std::path::Path;
use std::time::Duration;

use super::{read_token, HttpConfig, Secret, Tape};
use crate::ConfigError;

/// How hard a source pushes its API and how long it waits for it: the HTTP keys every API source shares.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ApiSettings {
    /// Requests in flight at once (`max_concurrency`; 0 is read as 1).
    pub max_concurrency: usize,
    /// Client-side cap, requests per second (`requests_per_second`); `None`: the API's headers pace the
    /// client.
    pub requests_per_second: Option<f64>,
    /// Attempts per request for 5xx, timeouts and cut bodies (`max_attempts`; 0 is read as 1).
    pub max_attempts: u32,
    /// Longest rate-limit wait before the sync fails instead (`max_rate_limit_wait_seconds`).
    pub max_rate_limit_wait_seconds: u64,
}

impl ApiSettings {
    /// The client settings for an API at `base_url` with these limits; the source says how it
    /// authenticates (`auth_scheme`, `token`) and which headers every request carries.
    pub fn client(
        &self,
        base_url: &str,
        auth_scheme: &str,
        token: Option<String>,
        headers: Vec<(String, String)>,
        tape: Tape,
    ) -> HttpConfig {
        HttpConfig {
            base_url: base_url.to_string(),
            token: token.map(Secret::new),
            auth_scheme: auth_scheme.into(),
            headers,
            max_attempts: self.max_attempts.max(1),
            max_rate_limit_wait: Duration::from_secs(self.max_rate_limit_wait_seconds),
            requests_per_second: self.requests_per_second,
            max_concurrency: self.max_concurrency.max(1),
            tape,
            ..HttpConfig::default()
        }
    }
}

/// The longest `lookback_minutes`: a hundred years (of 365 days), so the look-back always ends at a date.
const MAX_LOOKBACK_MINUTES: u64 = 100 * 365 * 24 * 60;

/// The most requests in flight `max_concurrency` allows; far more than any API accepts from one client.
const MAX_CONCURRENCY: usize = 1000;

/// The lowest `requests_per_second`: one request every 1000 s. A lower rate cannot sync anything (and its
/// interval overflows a `Duration`).
const MIN_REQUESTS_PER_SECOND: f64 = 0.001;

/// The shared keys of an API source's config (written by [`api_config!`]), so the constructor, the token
/// and the client settings are read the same way for every API source.
pub trait ApiKeys {
    /// `name`: the source name, which prefixes the errors of its config.
    fn name(&self) -> &str;
    /// `token_env`: the environment variable holding the token.
    fn token_env(&self) -> &str;
    /// `token_file`: a file holding the token, which wins over `token_env`.
    fn token_file(&self) -> Option<&Path>;
    /// `lookback_minutes`: how far before the saved cursor a run reads again.
    fn lookback_minutes(&self) -> u64;
    /// The HTTP keys.
    fn api(&self) -> ApiSettings;

    /// The token from `token_file` or `token_env`; `None` when neither holds one. Errors name the key.
    fn token(&self) -> Result<Option<String>, String> {
        read_token(self.token_file(), self.token_env())
    }

    /// Checks the shared keys that parse but cannot work (look-back, concurrency, rate); the message
    /// names the key.
    fn check_api_keys(&self) -> Result<(), ConfigError> {
        let lookback = self.lookback_minutes();
        if lookback > MAX_LOOKBACK_MINUTES {
            return Err(ConfigError::value(
                "lookback_minutes",
                format!("{lookback} is more than {MAX_LOOKBACK_MINUTES} (100 years)"),
            ));
        }
        let ApiSettings {
            max_concurrency,
            requests_per_second,
            ..
        } = self.api();
        if max_concurrency > MAX_CONCURRENCY {
            return Err(ConfigError::value(
                "max_concurrency",
                format!("{max_concurrency} is more than {MAX_CONCURRENCY} requests in flight"),
            ));
        }
        match requests_per_second {
            Some(r) if !(r.is_finite() && r >= MIN_REQUESTS_PER_SECOND) => {
                Err(ConfigError::value(
                    "requests_per_second",
                    format!(
                        "{r} is not a rate of at least {MIN_REQUESTS_PER_SECOND}; leave it unset for no cap"
                    ),
                ))
            }
            _ => Ok(()),
        }
    }
}

/// Declares an API source's config struct: its own keys, each `pub key: Type = default,` with its doc
/// comment (`name`, the source name, among them), then `token_env = "VARIABLE";`, the default of
/// `token_env`. It adds the keys every API source shares (`token_env`, `token_file`, `lookback_minutes`,
/// `max_concurrency`, `requests_per_second`, `max_attempts`, `max_rate_limit_wait_seconds`), flat in the
/// block, and derives serde with `deny_unknown_fields` and defaults, `Default` and [`ApiKeys`].
macro_rules! api_config {
    (
        $(#[$attr:meta])*
        pub struct $config:ident {
            $($(#[$field_attr:meta])* pub $field:ident: $ty:ty = $default:expr,)*
        }
        token_env = $token_env:literal;
    ) => {
        $(#[$attr])*
        #[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, flowlake_core::KeyDocs)]
        #[serde(deny_unknown_fields, default)]
        pub struct $config {
            $($(#[$field_attr])* pub $field: $ty,)*
            #[doc = concat!("Environment variable holding the token. Default `", $token_env, "`.")]
            pub token_env: String,
            /// File holding the token (wins over `token_env`), e.g. a mounted secret.
            pub token_file: Option<std::path::PathBuf>,
            /// Re-read this many minutes before the saved cursor, to catch writes that landed late.
            /// Default 10.
            pub lookback_minutes: u64,
            /// Requests in flight at once (nested pages, concurrent lists). Default 4.
            pub max_concurrency: usize,
            /// Client-side cap, requests per second. Default none (the API's own rate-limit headers pace
            /// the client).
            pub requests_per_second: Option<f64>,
            /// Attempts per request for 5xx, timeouts and cut bodies. Default 5.
            pub max_attempts: u32,
            /// Longest wait for a rate limit before the sync fails instead. Default 3600 s.
            pub max_rate_limit_wait_seconds: u64,
        }

        impl Default for $config {
            fn default() -> Self {
                Self {
                    $($field: $default,)*
                    token_env: $token_env.into(),
                    token_file: None,
                    lookback_minutes: 10,
                    max_concurrency: 4,
                    requests_per_second: None,
                    max_attempts: 5,
                    max_rate_limit_wait_seconds: 3600,
                }
            }
        }

        impl $crate::http::ApiKeys for $config {
            fn name(&self) -> &str {
                &self.name
            }
            fn token_env(&self) -> &str {
                &self.token_env
            }
            fn token_file(&self) -> Option<&std::path::Path> {
                self.token_file.as_deref()
            }
            fn lookback_minutes(&self) -> u64 {
                self.lookback_minutes
            }
            fn api(&self) -> $crate::http::ApiSettings {
                $crate::http::ApiSettings {
                    max_concurrency: self.max_concurrency,
                    requests_per_second: self.requests_per_second,
                    max_attempts: self.max_attempts,
                    max_rate_limit_wait_seconds: self.max_rate_limit_wait_seconds,
                }
            }
        }
    };
}
pub(crate) use api_config;
