//! Connecting to the PostgreSQL server (TLS per `sslmode`, errors a user can act on) and bringing its schema
//! to this flowlake's version.

use std::cell::RefCell;
use std::path::PathBuf;
use std::time::Duration;

use postgres::{Client, GenericClient, NoTls};

use super::{ddl, tls, PostgresOptions, PostgresStore};
use crate::error::StoreError;
use crate::open::OpenMode;

/// Whether `schema` is a name flowlake creates and quotes without surprises: lower-case letters, digits and
/// `_`, not starting with a digit.
fn plain_name(schema: &str) -> bool {
    let mut chars = schema.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && schema.len() <= 63
}

impl PostgresStore {
    /// Connects, then in [`OpenMode::ReadWrite`] creates the schema and applies the missing migrations (under
    /// an advisory lock, so two runs starting together migrate once); other modes only check the version and
    /// make every transaction read-only. A schema from a newer flowlake is refused.
    pub fn open(options: &PostgresOptions, mode: OpenMode) -> Result<Self, StoreError> {
        let shown = flowlake_core::redact_url(&options.url);
        let refuse = |reason: String| StoreError::Open {
            path: PathBuf::from(&shown),
            reason,
        };
        if !plain_name(&options.schema) {
            return Err(refuse(format!(
                "schema `{}` is not a plain name (lower-case letters, digits and _)",
                options.schema
            )));
        }
        let mut config: postgres::Config = options
            .url
            .parse()
            .map_err(|e| refuse(format!("not a PostgreSQL URL: {e}")))?;
        if let Some(password) = &options.password {
            config.password(password);
        }
        config.application_name("flowlake");
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(Duration::from_secs(10));
        }
        let describe = describe(&config, &options.schema);
        let failed = |e: postgres::Error| StoreError::Open {
            path: PathBuf::from(&describe),
            reason: connect_reason(&e),
        };
        let mut client = match config.get_ssl_mode() {
            postgres::config::SslMode::Disable => config.connect(NoTls).map_err(failed)?,
            _ => {
                let tls = tls::connector(options.ca_file.as_deref()).map_err(|reason| {
                    StoreError::Open {
                        path: PathBuf::from(&describe),
                        reason,
                    }
                })?;
                config.connect(tls).map_err(failed)?
            }
        };
        let schema = &options.schema;
        match mode {
            OpenMode::ReadWrite => migrate(&mut client, schema, &describe)?,
            OpenMode::ReadOnly | OpenMode::Sandboxed => {
                client
                    .batch_execute(&format!(
                        "SET search_path TO \"{schema}\"; SET default_transaction_read_only = on"
                    ))
                    .map_err(StoreError::pg("opening the store read-only"))?;
                check_version(&mut client, schema, &describe)?;
            }
        }
        Ok(Self {
            client: RefCell::new(client),
            describe,
            options: options.clone(),
        })
    }
}

/// `postgres://user@host:port/database (schema s)`.
fn describe(config: &postgres::Config, schema: &str) -> String {
    let host = match config.get_hosts().first() {
        Some(postgres::config::Host::Tcp(h)) => h.clone(),
        Some(postgres::config::Host::Unix(p)) => p.display().to_string(),
        None => "localhost".into(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    let user = config.get_user().unwrap_or("");
    let db = config.get_dbname().unwrap_or(user);
    format!("postgres://{user}@{host}:{port}/{db} (schema {schema})")
}

/// Why a connection failed, in words a user can act on.
fn connect_reason(e: &postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        let hint = match db.code().code() {
            "28P01" | "28000" => {
                "; check the user and FLOWLAKE_STORE__PASSWORD (or the password file)"
            }
            "3D000" => "; create it (createdb) or name another in the URL",
            _ => "",
        };
        return format!("{}{hint}", db.message());
    }
    let text = e.to_string();
    let cause = std::error::Error::source(e).map(ToString::to_string);
    if cause
        .as_deref()
        .is_some_and(|c| c.contains("password missing"))
    {
        return "the server asks for a password and none is set: set FLOWLAKE_STORE__PASSWORD or \
                store.password_file"
            .into();
    }
    let detail = cause.unwrap_or_default();
    if detail.contains("invalid peer certificate") {
        return format!(
            "{detail}: the server's certificate is not trusted; set store.ca_file to its CA certificate, \
             or sslmode=disable in the url on a trusted network"
        );
    }
    if text.contains("error connecting") || detail.contains("refused") {
        format!("{text} {detail}; is PostgreSQL running and listening there?")
    } else {
        format!("{text} {detail}").trim().to_string()
    }
}

/// Creates the schema and applies the missing migrations in one transaction, under a lock per schema.
fn migrate(client: &mut Client, schema: &str, describe: &str) -> Result<(), StoreError> {
    let mut tx = client
        .transaction()
        .map_err(StoreError::pg("migrating the store"))?;
    tx.execute(
        "SELECT pg_advisory_xact_lock(hashtext('flowlake schema ' || $1))",
        &[&schema],
    )
    .map_err(StoreError::pg("locking the schema for migration"))?;
    tx.batch_execute(&format!(
        "CREATE SCHEMA IF NOT EXISTS \"{schema}\"; SET LOCAL search_path TO \"{schema}\"; {}",
        ddl::SCHEMA_MIGRATIONS_DDL
    ))
    .map_err(StoreError::pg(format!("creating schema {schema}")))?;
    let found = applied_version(&mut tx, describe)?;
    for m in ddl::migrations().into_iter().filter(|m| m.version > found) {
        for s in &m.statements {
            tx.batch_execute(s)
                .map_err(StoreError::pg(format!("migration {}", m.version)))?;
        }
        tx.execute(
            "INSERT INTO schema_migrations VALUES ($1, $2, now() AT TIME ZONE 'UTC')",
            &[&m.version, &m.description],
        )
        .map_err(StoreError::pg(format!("recording migration {}", m.version)))?;
    }
    tx.commit().map_err(StoreError::pg("migrating the store"))?;
    client
        .batch_execute(&format!("SET search_path TO \"{schema}\""))
        .map_err(StoreError::pg("opening the store"))
}

/// Refuses a schema that is missing or newer than this flowlake.
fn check_version(client: &mut Client, schema: &str, describe: &str) -> Result<(), StoreError> {
    let found: Option<i64> = client
        .query_one(
            "SELECT CASE WHEN to_regclass(format('%I.schema_migrations', $1::text)) IS NULL THEN NULL
                    ELSE 0 END::BIGINT",
            &[&schema],
        )
        .map_err(StoreError::pg("reading schema_migrations"))?
        .get(0);
    if found.is_none() {
        return Err(StoreError::Open {
            path: PathBuf::from(describe),
            reason: format!("schema {schema} holds no flowlake tables; run `flowlake sync` first"),
        });
    }
    applied_version(client, describe).map(|_| ())
}

/// The newest applied migration; a version newer than this flowlake knows is [`StoreError::TooNew`].
fn applied_version(client: &mut impl GenericClient, describe: &str) -> Result<i64, StoreError> {
    let known = ddl::migrations().last().map_or(0, |m| m.version);
    let found: i64 = client
        .query_one(
            "SELECT coalesce(max(version), 0) FROM schema_migrations",
            &[],
        )
        .map_err(StoreError::pg("reading schema_migrations"))?
        .get(0);
    if found > known {
        return Err(StoreError::TooNew {
            path: PathBuf::from(describe),
            found,
            known,
        });
    }
    Ok(found)
}
