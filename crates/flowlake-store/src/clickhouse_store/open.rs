//! Opening a ClickHouse store: the options checked, the server reached as the user, and in read-write mode
//! the database created and the missing migrations applied (each statement idempotent: ClickHouse has no
//! transaction to undo a migration cut short, so the next open runs it again).

use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::Value;

use super::ddl::{self, Layout};
use super::http::{quote, untrusted_certificate, Failure, Http};
use super::{json_i64, plain_name, ClickHouseOptions, ClickHouseStore, LAST_VERSION};
use crate::error::StoreError;
use crate::open::OpenMode;

impl ClickHouseStore {
    /// Connects, then in [`OpenMode::ReadWrite`] creates the database and applies the missing migrations;
    /// other modes only check the version. A schema from a newer flowlake is refused.
    ///
    /// In [`OpenMode::ReadOnly`] and [`OpenMode::Sandboxed`] every statement goes as a `GET`, which ClickHouse
    /// runs read-only (`readonly=2`): nothing is written, whatever the user may. A sandbox beyond that (no
    /// table functions reading the server's files or URLs) is the ClickHouse user's profile to give: a
    /// client cannot take it.
    pub fn open(options: &ClickHouseOptions, mode: OpenMode) -> Result<Self, StoreError> {
        let shown = flowlake_core::redact_url(&options.url);
        let refuse = |reason: String| StoreError::Open {
            path: PathBuf::from(&shown),
            reason,
        };
        if !plain_name(&options.database) {
            return Err(refuse(format!(
                "database `{}` is not a plain name (letters, digits and _)",
                options.database
            )));
        }
        if let Some(c) = options.cluster.as_deref().filter(|c| !plain_name(c)) {
            return Err(refuse(format!(
                "cluster `{c}` is not a plain name (letters, digits and _)"
            )));
        }
        let mut base =
            reqwest::Url::parse(&options.url).map_err(|e| refuse(format!("not a URL: {e}")))?;
        if !matches!(base.scheme(), "http" | "https") {
            return Err(refuse(format!(
                "the URL's scheme is {}; ClickHouse's HTTP interface is http:// or https://",
                base.scheme()
            )));
        }
        if base.password().is_some() || !base.username().is_empty() {
            return Err(refuse(
                "the URL holds credentials; give the user as store.user and the password as \
                 FLOWLAKE_STORE__PASSWORD or store.password_file"
                    .into(),
            ));
        }
        base.set_query(None);
        base.set_fragment(None);
        let describe = format!(
            "{}://{}@{}{} (database {})",
            base.scheme(),
            options.user,
            base.host_str().unwrap_or("localhost"),
            base.port().map_or_else(String::new, |p| format!(":{p}")),
            options.database
        );
        let http = Http::new(base, options).map_err(|e| StoreError::Open {
            path: PathBuf::from(&describe),
            reason: e,
        })?;
        let mut store = Self {
            http,
            describe,
            options: options.clone(),
            writes: mode == OpenMode::ReadWrite,
            loaded: Default::default(),
        };
        if mode != OpenMode::ReadWrite {
            store.http.set_read_only();
        }
        let layout = Layout {
            cluster: options.cluster.as_deref(),
        };
        store.connect()?;
        match mode {
            OpenMode::ReadWrite => {
                store.migrate(layout)?;
                store.catch_up_versions()?;
            }
            OpenMode::ReadOnly | OpenMode::Sandboxed => store.check_version()?,
        }
        Ok(store)
    }

    /// Makes every later `_version` greater than every stored one, so a writer whose clock is behind an
    /// earlier one's (another host, a clock set back) still replaces what that one wrote.
    fn catch_up_versions(&self) -> Result<(), StoreError> {
        let tables: Vec<String> = crate::schema::loaded_tables()
            .map(|t| t.name)
            .chain(["sync_state", "store_marks"])
            .map(|t| format!("SELECT max(_version) AS v FROM {t}_rows"))
            .collect();
        let rows = self.json_rows(
            &format!("SELECT max(v) FROM ({})", tables.join(" UNION ALL ")),
            "reading the newest row version",
        )?;
        let newest = rows
            .first()
            .and_then(|r| r.first())
            .and_then(Value::as_u64)
            .unwrap_or(0);
        LAST_VERSION.fetch_max(newest, Ordering::Relaxed);
        Ok(())
    }

    fn open_error(&self, reason: String) -> StoreError {
        StoreError::Open {
            path: PathBuf::from(&self.describe),
            reason,
        }
    }

    /// Reaches the server as the user, to tell a wrong address or password from anything later.
    fn connect(&self) -> Result<(), StoreError> {
        self.http
            .try_send("SELECT 1", None, &[], false)
            .map(|_| ())
            .map_err(|f| self.open_error(connect_reason(&f)))
    }

    /// Creates the database and applies the missing migrations. Each statement is idempotent, so two runs
    /// starting together, or a run after one cut short, end with the same tables.
    fn migrate(&self, layout: Layout<'_>) -> Result<(), StoreError> {
        let on = layout
            .cluster
            .map_or_else(String::new, |c| format!(" ON CLUSTER {c}"));
        self.http
            .try_send(
                &format!("CREATE DATABASE IF NOT EXISTS {}{on}", self.http.database()),
                None,
                &[],
                false,
            )
            .map_err(|f| self.open_error(connect_reason(&f)))?;
        self.http.run(
            &ddl::schema_migrations_ddl(layout),
            "creating schema_migrations",
        )?;
        let found = self.schema_version()?;
        let known = ddl::migrations(layout).last().map_or(0, |m| m.version);
        if found > known {
            return Err(StoreError::TooNew {
                path: PathBuf::from(&self.describe),
                found,
                known,
            });
        }
        for m in ddl::migrations(layout)
            .into_iter()
            .filter(|m| m.version > found)
        {
            for s in &m.statements {
                self.http.run(s, &format!("migration {}", m.version))?;
            }
            self.http.run(
                &format!(
                    "INSERT INTO schema_migrations VALUES ({}, {}, now64(6, 'UTC'))",
                    m.version,
                    quote(m.description)
                ),
                &format!("recording migration {}", m.version),
            )?;
        }
        Ok(())
    }

    fn schema_version(&self) -> Result<i64, StoreError> {
        let rows = self.json_rows(
            "SELECT toInt64(max(version)) FROM schema_migrations",
            "reading schema_migrations",
        )?;
        Ok(rows
            .first()
            .and_then(|r| r.first())
            .and_then(json_i64)
            .unwrap_or(0))
    }

    /// Refuses a database that is missing, holds no flowlake tables, or is newer than this flowlake.
    fn check_version(&self) -> Result<(), StoreError> {
        let exists = self
            .http
            .try_send("EXISTS TABLE schema_migrations", None, &[], true)
            .map_err(|f| self.open_error(connect_reason(&f)))?;
        if String::from_utf8_lossy(&exists).trim() != "1" {
            return Err(self.open_error(format!(
                "database {} holds no flowlake tables; run `flowlake sync` first",
                self.http.database()
            )));
        }
        let found = self.schema_version()?;
        let known = ddl::migrations(Layout { cluster: None })
            .last()
            .map_or(0, |m| m.version);
        if found > known {
            return Err(StoreError::TooNew {
                path: PathBuf::from(&self.describe),
                found,
                known,
            });
        }
        Ok(())
    }

    /// A `_version` greater than every one this process handed out before, and than the clock's
    /// microseconds (so a later process's are greater still).
    pub(super) fn next_version(&self) -> u64 {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_micros() as u64);
        let mut last = LAST_VERSION.load(Ordering::Relaxed);
        loop {
            let next = now.max(last + 1);
            match LAST_VERSION.compare_exchange_weak(
                last,
                next,
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => return next,
                Err(seen) => last = seen,
            }
        }
    }

    /// The rows of `sql`, as JSON values (numbers as numbers, timestamps as text), collected: for answers
    /// of a few rows; [`ClickHouseStore::each_row`] streams.
    pub(super) fn json_rows(
        &self,
        sql: &str,
        context: &str,
    ) -> Result<Vec<Vec<Value>>, StoreError> {
        let mut rows = Vec::new();
        self.each_row(sql, context, &mut |r| {
            rows.push(r);
            Ok(())
        })?;
        Ok(rows)
    }

    /// Hands each row of `sql` to `f` as it arrives (`JSONCompactEachRow`: one JSON array a line), so a
    /// report over millions of items holds one row at a time.
    pub(super) fn each_row(
        &self,
        sql: &str,
        context: &str,
        f: &mut dyn FnMut(Vec<Value>) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let settings = [
            ("default_format", "JSONCompactEachRow".to_string()),
            ("output_format_json_quote_64bit_integers", "0".to_string()),
        ];
        self.http.each_line(sql, &settings, context, &mut |line| {
            let row: Vec<Value> = serde_json::from_slice(line).map_err(|e| StoreError::Sql {
                context: context.to_string(),
                message: format!("ClickHouse's answer is not JSONCompactEachRow: {e}"),
            })?;
            f(row)
        })
    }
}

/// Why the server could not be used, in words a user can act on.
fn connect_reason(f: &Failure) -> String {
    match f {
        Failure::Server { code: 516, message } => format!(
            "{}; check store.user and FLOWLAKE_STORE__PASSWORD (or the password file)",
            message.lines().next().unwrap_or(message)
        ),
        Failure::Server { code: 81, message } => {
            format!("{message}; create it, or open the store read-write once (`flowlake sync`)")
        }
        Failure::Server { message, .. } => message.clone(),
        Failure::Transport(m) if untrusted_certificate(m) => format!(
            "{m}: the server's certificate is not trusted; set store.ca_file to the CA certificate it \
             chains to, or check the url's host name"
        ),
        Failure::Transport(m) => format!("{m}; is ClickHouse running and listening there?"),
    }
}
