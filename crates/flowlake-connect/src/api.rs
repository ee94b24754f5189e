//! What every API source's constructor does, once: check the config, read the token, build the client, and
//! know what its first request must say about a missing token; and a `Debug` that shows no secret.

use std::sync::Arc;

use crate::http::{ApiKeys, BlockingClient, HttpConfig, HttpObserver, Tape};
use crate::{ConfigError, SourceError};

/// What an API source does without a token.
pub(crate) enum Without {
    /// It reads what the API shows anonymously (public projects), after a warning saying so.
    Anonymous(String),
    /// It cannot work: the message says why (`GitHub's GraphQL API answers only authenticated requests`).
    Fails(String),
}

/// An API source's config as [`api_client`] reads it: the shared keys ([`ApiKeys`], written by
/// [`api_config!`](crate::http::api_config)) and what differs between APIs.
pub(crate) trait ApiConfig: ApiKeys {
    /// Checks values that parse but cannot work, naming the key.
    fn validate(&self) -> Result<(), ConfigError>;
    /// What the source does when neither `token_file` nor `token_env` holds a token.
    fn without_token(&self) -> Without;
    /// The client settings with `token` (how this API wants it sent) and `tape`.
    fn http(&self, token: Option<String>, tape: Tape) -> HttpConfig;
}

/// The client of an API source, once its config is valid, and why it cannot send its first request, if
/// so: a token that could not be read, or none where the API needs one (the variable `token_env` named). A
/// bad config fails here, naming the key (`jira.page_size: …`); a token problem fails only the first request
/// (see [`token_ready`]), before anything is sent, since rebuilds and replays need no token.
pub(crate) fn api_client(
    config: &impl ApiConfig,
    tape: Tape,
    observer: Arc<dyn HttpObserver>,
) -> Result<(BlockingClient, TokenCheck), SourceError> {
    let name = config.name();
    config
        .validate()
        .map_err(|m| SourceError::Config(format!("{name}.{m}")))?;
    let (token, unreadable, missing) = match config.token() {
        Ok(Some(t)) => (Some(t), None, false),
        Ok(None) => (None, None, true),
        Err(m) => (None, Some(format!("{name}.{m}")), false),
    };
    let http = config.http(token, tape);
    let replay = matches!(http.tape, Tape::Replay(_) | Tape::ReplayLines(_));
    let token_env = config.token_env();
    let mut check = TokenCheck::default();
    match (unreadable, missing, config.without_token()) {
        // A replay sends nothing, so needs no token.
        _ if replay => {}
        (Some(e), _, _) => check.error = Some(e),
        (None, true, Without::Fails(why)) => {
            check.error = Some(format!(
                "{name}.token_env: the environment variable {token_env} is not set (or is empty) and no \
                 token_file is configured: {why}"
            ))
        }
        (None, true, Without::Anonymous(what)) => {
            check.warning = Some(format!(
                "{name}.token_env: {token_env} is not set and no token_file is configured: {what}"
            ))
        }
        (None, false, _) => {}
    }
    Ok((BlockingClient::new(http, observer)?, check))
}

/// What an API source's first request must know about its token: why it cannot be sent, or what to warn
/// about once.
#[derive(Debug, Default)]
pub(crate) struct TokenCheck {
    error: Option<String>,
    warning: Option<String>,
    warned: std::sync::atomic::AtomicBool,
}

/// Fails with the token error [`api_client`] found, if any, before any request is sent; warns (once) of a
/// missing token the source can do without.
pub(crate) fn token_ready(check: &TokenCheck) -> Result<(), SourceError> {
    if let Some(e) = &check.error {
        return Err(SourceError::Config(e.clone()));
    }
    if let Some(w) = &check.warning {
        if !check
            .warned
            .swap(true, std::sync::atomic::Ordering::Relaxed)
        {
            tracing::warn!("{w}");
        }
    }
    Ok(())
}

/// Implements `Debug` for an API source (fields `config` and `client`): its name and its client, whose
/// token is never printed; the rest (run state, normalizer) is left out.
macro_rules! api_source_debug {
    ($source:ident) => {
        impl std::fmt::Debug for $source {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($source))
                    .field("name", &self.config.name)
                    .field("client", &self.client)
                    .finish_non_exhaustive()
            }
        }
    };
}
pub(crate) use api_source_debug;
