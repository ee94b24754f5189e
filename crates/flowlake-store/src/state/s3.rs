//! Cursors in one JSON object on S3 (or any S3-compatible server), written with conditional PUTs.
//!
//! Each write sends `If-Match` with the ETag read just before (or `If-None-Match: *` when the object does not
//! exist yet), so two runs racing on the same object cannot overwrite each other: the loser re-reads, and if
//! the other run moved the same cursor, stops with [`StoreError::StateConflict`].

use std::sync::Arc;
use std::time::Duration;

use object_store::aws::{AmazonS3Builder, S3ConditionalPut};
use object_store::path::Path as ObjectPath;
use object_store::{
    BackoffConfig, GetOptions, ObjectStore, PutMode, PutOptions, PutPayload, RetryConfig,
    UpdateVersion,
};

use flowlake_core::redact_url;

use super::{CursorUpdate, Seen, StateBackend, StateDoc, StateKey};
use crate::error::StoreError;

/// Where the state object lives. Credentials come from the usual `AWS_ACCESS_KEY_ID`,
/// `AWS_SECRET_ACCESS_KEY` (and `AWS_SESSION_TOKEN`) environment variables unless given here.
#[derive(Clone, Default, PartialEq)]
pub struct S3StateConfig {
    /// `s3://bucket/path/to/state.json`.
    pub url: String,
    /// Endpoint of an S3-compatible server (MinIO, moto, R2); unset for AWS.
    pub endpoint: Option<String>,
    /// Region; unset: `AWS_REGION` or `us-east-1`.
    pub region: Option<String>,
    /// Allow plain HTTP endpoints (local servers).
    pub allow_http: bool,
    /// Access key id, when not from the environment.
    pub access_key_id: Option<String>,
    /// Secret access key, when not from the environment.
    pub secret_access_key: Option<String>,
}

impl std::fmt::Debug for S3StateConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3StateConfig")
            .field("url", &redact_url(&self.url))
            .field("endpoint", &self.endpoint.as_deref().map(redact_url))
            .field("region", &self.region)
            .field("allow_http", &self.allow_http)
            .field("access_key_id", &self.access_key_id.as_ref().map(|_| "***"))
            .field(
                "secret_access_key",
                &self.secret_access_key.as_ref().map(|_| "***"),
            )
            .finish()
    }
}

/// The S3 back-end.
pub struct S3State {
    store: Arc<dyn ObjectStore>,
    path: ObjectPath,
    location: String,
    runtime: tokio::runtime::Runtime,
    seen: Seen,
}

impl std::fmt::Debug for S3State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3State")
            .field("location", &self.location)
            .finish_non_exhaustive()
    }
}

/// Attempts of one conditional write before giving up (each retry follows a concurrent write).
const MAX_CAS_ATTEMPTS: usize = 16;

impl S3State {
    /// Connects lazily: nothing is sent until the first read.
    pub fn new(config: &S3StateConfig) -> Result<Self, StoreError> {
        let location = redact_url(&config.url);
        let err = |message: String| StoreError::State {
            location: location.clone(),
            message,
        };
        let rest = config.url.strip_prefix("s3://").ok_or_else(|| {
            err("the state URL must look like s3://bucket/path/state.json".into())
        })?;
        let (bucket, key) = rest
            .split_once('/')
            .filter(|(b, k)| !b.is_empty() && !k.is_empty())
            .ok_or_else(|| err("the state URL needs a bucket and an object key".into()))?;
        let mut builder = AmazonS3Builder::from_env()
            .with_bucket_name(bucket)
            .with_conditional_put(S3ConditionalPut::ETagMatch)
            .with_allow_http(config.allow_http)
            .with_retry(RetryConfig {
                backoff: BackoffConfig::default(),
                max_retries: 5,
                retry_timeout: Duration::from_secs(60),
            });
        if let Some(e) = &config.endpoint {
            builder = builder.with_endpoint(e);
        }
        if let Some(r) = &config.region {
            builder = builder.with_region(r);
        }
        if let Some(k) = &config.access_key_id {
            builder = builder.with_access_key_id(k);
        }
        if let Some(s) = &config.secret_access_key {
            builder = builder.with_secret_access_key(s);
        }
        let store = builder.build().map_err(|e| err(e.to_string()))?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| err(format!("starting the I/O runtime: {e}")))?;
        Ok(Self {
            store: Arc::new(store),
            path: ObjectPath::from(key),
            location,
            runtime,
            seen: Seen::default(),
        })
    }

    fn err(&self, message: impl std::fmt::Display) -> StoreError {
        StoreError::State {
            location: self.location.clone(),
            message: message.to_string(),
        }
    }

    /// The document and the version to replace, `None` when the object does not exist yet.
    fn read(&self) -> Result<(StateDoc, Option<UpdateVersion>), StoreError> {
        let got = self.runtime.block_on(async {
            match self.store.get_opts(&self.path, GetOptions::default()).await {
                Ok(r) => {
                    let version = UpdateVersion {
                        e_tag: r.meta.e_tag.clone(),
                        version: r.meta.version.clone(),
                    };
                    r.bytes().await.map(|b| Some((b, version)))
                }
                Err(object_store::Error::NotFound { .. }) => Ok(None),
                Err(e) => Err(e),
            }
        });
        match got.map_err(|e| self.err(e))? {
            Some((bytes, version)) => Ok((
                StateDoc::parse(&bytes).map_err(|m| self.err(m))?,
                Some(version),
            )),
            None => Ok((StateDoc::default(), None)),
        }
    }

    /// Writes `doc` if the object is still at `version`; `Ok(false)` when another write came first.
    fn write(&self, doc: &StateDoc, version: Option<UpdateVersion>) -> Result<bool, StoreError> {
        let mode = match version {
            Some(v) => PutMode::Update(v),
            None => PutMode::Create,
        };
        let payload = PutPayload::from(doc.to_bytes());
        let put = self.runtime.block_on(self.store.put_opts(
            &self.path,
            payload,
            PutOptions::from(mode),
        ));
        match put {
            Ok(_) => Ok(true),
            Err(
                object_store::Error::Precondition { .. }
                | object_store::Error::AlreadyExists { .. },
            ) => Ok(false),
            Err(e) => Err(self.err(e)),
        }
    }

    /// Read, change, conditional write; again from the read when another run wrote in between. Every key of
    /// `updates` is compared with what this back-end last saw of it (`checked`), and all are written by one
    /// conditional PUT of the object.
    fn update(&mut self, updates: &[CursorUpdate], checked: bool) -> Result<(), StoreError> {
        for _ in 0..MAX_CAS_ATTEMPTS {
            let (mut doc, version) = self.read()?;
            if checked {
                doc.apply(&self.seen, updates)?;
            } else {
                for u in updates {
                    doc.set(&u.key, u.cursor.as_deref());
                }
            }
            if self.write(&doc, version)? {
                self.seen.record_all(updates);
                return Ok(());
            }
            tracing::debug!(location = %self.location, "state object changed while writing; reading it again");
        }
        Err(self.err(format!(
            "gave up after {MAX_CAS_ATTEMPTS} conditional writes lost to other writers"
        )))
    }
}

impl StateBackend for S3State {
    fn get(&mut self, key: &StateKey) -> Result<Option<String>, StoreError> {
        let value = self.read()?.0.get(key).cloned();
        self.seen.record(key, value.as_deref());
        Ok(value)
    }

    fn put(&mut self, key: &StateKey, cursor: &str) -> Result<(), StoreError> {
        self.update(&[CursorUpdate::put(key.clone(), cursor)], true)
    }

    fn clear(&mut self, key: &StateKey) -> Result<(), StoreError> {
        self.update(&[CursorUpdate::clear(key.clone())], false)
    }

    fn put_all(&mut self, updates: &[CursorUpdate]) -> Result<(), StoreError> {
        self.update(updates, true)
    }

    fn list(&mut self) -> Result<Vec<(StateKey, String)>, StoreError> {
        Ok(self.read()?.0.list())
    }
}
