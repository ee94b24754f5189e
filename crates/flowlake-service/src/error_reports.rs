//! Failed job runs to Sentry, when `service.sentry_dsn` names a project: one event per failure, tagged with
//! the job, its kind, the failed sources and the run id, so an on-call sees which source broke and since
//! when, grouped per job and source rather than per message (messages carry counts and times that vary).
//!
//! Only what flowlake puts in the event is sent: no default integrations (no panic hook, no OS or process
//! context, no environment variables), no personal data, and the message scrubbed of URL credentials and of
//! the secrets the service knows (API tokens, the store password), although flowlake's errors leave them
//! out already.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use flowlake_core::redact::redact_url;
use sentry::protocol::{Event, Level};

/// Where failures go and what is taken out of them first.
pub struct ErrorReports {
    client: Arc<sentry::Client>,
    secrets: Vec<String>,
}

impl std::fmt::Debug for ErrorReports {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ErrorReports(<dsn>)")
    }
}

/// What [`ErrorReports::connect`] needs.
pub struct SentryConfig {
    /// The project's DSN (`https://<key>@<host>/<project id>`).
    pub dsn: String,
    /// The `environment` of the events (`production`, `staging`); Sentry's default when `None`.
    pub environment: Option<String>,
    /// Values never to be sent, such as API tokens and passwords.
    pub secrets: Vec<String>,
}

/// One failed run of a job, as it is reported.
#[derive(Debug, Clone, Copy)]
pub struct Failure<'a> {
    /// The job's name.
    pub job: &'a str,
    /// `sync`, `backfill` or `rebuild`.
    pub kind: &'a str,
    /// The run's id, as the log lines of the run carry it.
    pub run: &'a str,
    /// The sources that failed (all of the job's when the failure was not one source's).
    pub sources: &'a [String],
    /// Why.
    pub error: &'a str,
}

impl ErrorReports {
    /// A client for `config.dsn`; the DSN's text stays out of the error (it holds the project's key).
    pub fn connect(config: &SentryConfig) -> Result<Self, String> {
        let dsn: sentry::types::Dsn = config.dsn.trim().parse().map_err(|_| {
            "service.sentry_dsn: not a Sentry DSN; it looks like https://<key>@o0.ingest.sentry.io/<project id>"
                .to_string()
        })?;
        let mut secrets: Vec<String> = config
            .secrets
            .iter()
            .filter(|s| s.len() >= 4)
            .cloned()
            .collect();
        secrets.push(dsn.public_key().to_string());
        let mut options = sentry::ClientOptions::default();
        options.dsn = Some(dsn);
        options.release = Some(Cow::Borrowed(concat!(
            "flowlake@",
            env!("CARGO_PKG_VERSION")
        )));
        options.environment = config.environment.clone().map(Cow::Owned);
        options.send_default_pii = false;
        options.default_integrations = false;
        let client = sentry::Client::with_options(sentry::apply_defaults(options));
        Ok(Self {
            client: Arc::new(client),
            secrets,
        })
    }

    /// Sends `failure` (in the background; [`ErrorReports::flush`] waits for it).
    pub fn job_failed(&self, failure: &Failure<'_>) {
        let sources = failure.sources.join(",");
        let tags: BTreeMap<String, String> = [
            ("job", failure.job),
            ("job_kind", failure.kind),
            ("run", failure.run),
            ("source", sources.as_str()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let event = Event {
            level: Level::Error,
            logger: Some("flowlake.job".into()),
            message: Some(self.scrub(&format!("job `{}` failed: {}", failure.job, failure.error))),
            fingerprint: Cow::Owned(vec![
                Cow::Borrowed("flowlake-job"),
                Cow::Owned(failure.job.to_string()),
                Cow::Owned(sources),
            ]),
            tags,
            ..Event::default()
        };
        self.client.capture_event(event, None);
    }

    /// Waits up to `timeout` for the events sent so far to leave; false if some had not.
    pub fn flush(&self, timeout: Duration) -> bool {
        self.client.flush(Some(timeout))
    }

    /// `text` with credentials of URLs and the known secrets masked.
    fn scrub(&self, text: &str) -> String {
        let mut out: String = text
            .split(' ')
            .map(|word| {
                if word.contains("://") {
                    Cow::Owned(redact_url(word))
                } else {
                    Cow::Borrowed(word)
                }
            })
            .collect::<Vec<_>>()
            .join(" ");
        for secret in &self.secrets {
            out = out.replace(secret.as_str(), "REDACTED");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reports(secrets: &[&str]) -> ErrorReports {
        ErrorReports::connect(&SentryConfig {
            dsn: "http://abcdef0123@127.0.0.1:9/42".into(),
            environment: None,
            secrets: secrets.iter().map(|s| s.to_string()).collect(),
        })
        .unwrap()
    }

    #[test]
    fn messages_lose_url_credentials_and_known_secrets() {
        let r = reports(&["s3cr3t-token", "ab"]);
        let cases = [
            (
                "GET https://user:pw@host/x?access_token=zzz failed",
                "GET https://host/x?access_token=REDACTED failed",
            ),
            ("Bearer s3cr3t-token refused", "Bearer REDACTED refused"),
            // Values too short to be secrets are left alone, or every `ab` of a message would go.
            ("about ab", "about ab"),
            ("key abcdef0123 of the DSN", "key REDACTED of the DSN"),
        ];
        for (text, want) in cases {
            assert_eq!(r.scrub(text), want, "{text}");
        }
    }

    #[test]
    fn a_bad_dsn_is_refused_without_repeating_it() {
        let err = ErrorReports::connect(&SentryConfig {
            dsn: "not-a-dsn-with-key-xyz".into(),
            environment: None,
            secrets: Vec::new(),
        })
        .unwrap_err();
        assert!(
            err.starts_with("service.sentry_dsn: not a Sentry DSN"),
            "{err}"
        );
        assert!(!err.contains("xyz"), "{err}");
    }
}
