//! Cursors in a Redis hash, with a per-source lock so two runs of one source never interleave.
//!
//! `lock` takes `SET {prefix}:lock:{source} <token> NX PX <ttl>`; every `put` (and `put_all`, a page's cursors
//! of several streams) runs one Lua script that checks the lock is still this run's, compares each stored
//! cursor with the one this run last saw, writes the new ones and renews the lease, atomically. A run that dies keeps the lock only until the lease runs out.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use redis::{Connection, Script};

use flowlake_core::redact_url;

use super::{CursorUpdate, Seen, StateBackend, StateKey};
use crate::error::StoreError;

/// Where the cursors live.
#[derive(Clone, PartialEq)]
pub struct RedisStateConfig {
    /// `redis://[user:password@]host:port/db`.
    pub url: String,
    /// Prefix of every key flowlake writes. Default `flowlake`.
    pub key_prefix: String,
    /// Lease of a source lock; renewed by every cursor write. Default 600 s.
    pub lock_ttl: Duration,
}

impl Default for RedisStateConfig {
    fn default() -> Self {
        Self {
            url: "redis://127.0.0.1:6379/0".into(),
            key_prefix: "flowlake".into(),
            lock_ttl: Duration::from_secs(600),
        }
    }
}

impl std::fmt::Debug for RedisStateConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStateConfig")
            .field("url", &redact_url(&self.url))
            .field("key_prefix", &self.key_prefix)
            .field("lock_ttl", &self.lock_ttl)
            .finish()
    }
}

/// Checks the lease (`ARGV[1]`: this run's token, or empty when it holds none), then every cursor of the page
/// against the value this run last saw of it, and only if all match writes them all and renews the lease
/// (`ARGV[2]` ms). Each cursor is five arguments from `ARGV[3]` on: hash field, what is expected (`any`,
/// `absent`, `value`), the expected value, `set` or `del`, and the new value.
const PUT_SCRIPT: &str = r"
local holder = redis.call('GET', KEYS[2])
if ARGV[1] ~= '' then
  if holder ~= ARGV[1] then return {'lock', holder or ''} end
elseif holder then
  return {'lock', holder}
end
for i = 3, #ARGV, 5 do
  local cur = redis.call('HGET', KEYS[1], ARGV[i])
  if (ARGV[i + 1] == 'absent' and cur) or (ARGV[i + 1] == 'value' and cur ~= ARGV[i + 2]) then
    if cur then return {'conflict', ARGV[i], cur} end
    return {'conflict', ARGV[i]}
  end
end
for i = 3, #ARGV, 5 do
  if ARGV[i + 3] == 'set' then
    redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 4])
  else
    redis.call('HDEL', KEYS[1], ARGV[i])
  end
end
if ARGV[1] ~= '' then redis.call('PEXPIRE', KEYS[2], ARGV[2]) end
return {'ok'}
";

const UNLOCK_SCRIPT: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
";

/// The Redis back-end.
pub struct RedisState {
    client: redis::Client,
    conn: Option<Connection>,
    config: RedisStateConfig,
    location: String,
    token: String,
    locked: Vec<String>,
    seen: Seen,
}

impl std::fmt::Debug for RedisState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisState")
            .field("location", &self.location)
            .field("locked", &self.locked)
            .finish_non_exhaustive()
    }
}

impl RedisState {
    /// Checks the URL; connects on first use.
    pub fn new(config: &RedisStateConfig) -> Result<Self, StoreError> {
        let location = redact_url(&config.url);
        let client = redis::Client::open(config.url.as_str()).map_err(|e| StoreError::State {
            location: location.clone(),
            message: format!("invalid Redis URL: {e}"),
        })?;
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "localhost".into());
        Ok(Self {
            client,
            conn: None,
            config: config.clone(),
            location,
            token: format!("{host}:{}:{nanos:09}", std::process::id()),
            locked: Vec::new(),
            seen: Seen::default(),
        })
    }

    fn err(&self, message: impl std::fmt::Display) -> StoreError {
        StoreError::State {
            location: self.location.clone(),
            message: message.to_string(),
        }
    }

    fn conn(&mut self) -> Result<&mut Connection, StoreError> {
        let conn = match self.conn.take() {
            Some(c) => c,
            None => {
                let c = self
                    .client
                    .get_connection_with_timeout(Duration::from_secs(5))
                    .map_err(|e| self.err(e))?;
                c.set_read_timeout(Some(Duration::from_secs(10)))
                    .and_then(|()| c.set_write_timeout(Some(Duration::from_secs(10))))
                    .map_err(|e| self.err(e))?;
                c
            }
        };
        Ok(self.conn.insert(conn))
    }

    /// Runs `f` on the connection; a broken connection is dropped so the next call reconnects.
    fn with_conn<T>(
        &mut self,
        f: impl FnOnce(&mut Connection) -> redis::RedisResult<T>,
    ) -> Result<T, StoreError> {
        let result = f(self.conn()?);
        result.map_err(|e| {
            if e.is_connection_dropped() || e.is_io_error() || e.is_timeout() {
                self.conn = None;
            }
            self.err(e)
        })
    }

    fn cursors_key(&self) -> String {
        format!("{}:cursors", self.config.key_prefix)
    }

    fn lock_key(&self, source: &str) -> String {
        format!("{}:lock:{source}", self.config.key_prefix)
    }

    fn field(key: &StateKey) -> String {
        format!("{}/{}", key.source, key.stream)
    }

    fn ttl_ms(&self) -> u64 {
        u64::try_from(self.config.lock_ttl.as_millis())
            .unwrap_or(u64::MAX)
            .max(1)
    }

    fn locked_error(&mut self, source: &str, holder: String) -> StoreError {
        let key = self.lock_key(source);
        let ttl: i64 = self
            .with_conn(|c| redis::cmd("PTTL").arg(&key).query(c))
            .unwrap_or(-1);
        StoreError::StateLocked {
            source_name: source.to_string(),
            holder,
            expires_in_seconds: (ttl.max(0) + 999) / 1000,
        }
    }
}

impl StateBackend for RedisState {
    fn get(&mut self, key: &StateKey) -> Result<Option<String>, StoreError> {
        let (hash, field) = (self.cursors_key(), Self::field(key));
        let value: Option<String> =
            self.with_conn(|c| redis::cmd("HGET").arg(&hash).arg(&field).query(c))?;
        self.seen.record(key, value.as_deref());
        Ok(value)
    }

    fn put(&mut self, key: &StateKey, cursor: &str) -> Result<(), StoreError> {
        self.put_all(&[CursorUpdate::put(key.clone(), cursor)])
    }

    /// One script run for the page's cursors when they are one source's (always, from a sync): the lease and
    /// every compare are checked before anything is written.
    fn put_all(&mut self, updates: &[CursorUpdate]) -> Result<(), StoreError> {
        let Some(first) = updates.first() else {
            return Ok(());
        };
        let source = first.key.source.clone();
        if updates.iter().any(|u| u.key.source != source) {
            for u in updates {
                self.put_all(std::slice::from_ref(u))?;
            }
            return Ok(());
        }
        let token = if self.locked.contains(&source) {
            self.token.clone()
        } else {
            String::new()
        };
        let (hash, lock, ttl) = (self.cursors_key(), self.lock_key(&source), self.ttl_ms());
        let script = Script::new(PUT_SCRIPT);
        let mut invocation = script.key(&hash);
        invocation.key(&lock).arg(&token).arg(ttl);
        for u in updates {
            let (mode, expected) = match self.seen.expected(&u.key) {
                None => ("any", ""),
                Some(None) => ("absent", ""),
                Some(Some(v)) => ("value", v),
            };
            invocation
                .arg(Self::field(&u.key))
                .arg(mode)
                .arg(expected)
                .arg(if u.cursor.is_some() { "set" } else { "del" })
                .arg(u.cursor.as_deref().unwrap_or_default());
        }
        let reply: Vec<String> = self.with_conn(|c| invocation.invoke(c))?;
        match reply.first().map(String::as_str) {
            Some("ok") => {
                self.seen.record_all(updates);
                Ok(())
            }
            Some("conflict") => {
                let field = reply.get(1).cloned().unwrap_or_default();
                let key = updates
                    .iter()
                    .map(|u| &u.key)
                    .find(|k| Self::field(k) == field)
                    .unwrap_or(&first.key);
                Err(StoreError::StateConflict {
                    key: key.to_string(),
                    expected: self.seen.expected(key).flatten().map(str::to_string),
                    found: reply.get(2).cloned(),
                })
            }
            Some("lock") => {
                let holder = reply
                    .get(1)
                    .filter(|h| !h.is_empty())
                    .cloned()
                    .unwrap_or_else(|| "nobody (this run's lease ran out)".into());
                Err(self.locked_error(&source, holder))
            }
            _ => Err(self.err(format!(
                "unexpected reply from the cursor script: {reply:?}"
            ))),
        }
    }

    fn clear(&mut self, key: &StateKey) -> Result<(), StoreError> {
        let (hash, field) = (self.cursors_key(), Self::field(key));
        self.with_conn(|c| redis::cmd("HDEL").arg(&hash).arg(&field).query::<i64>(c))?;
        self.seen.record(key, None);
        Ok(())
    }

    fn list(&mut self) -> Result<Vec<(StateKey, String)>, StoreError> {
        let hash = self.cursors_key();
        let all: Vec<(String, String)> =
            self.with_conn(|c| redis::cmd("HGETALL").arg(&hash).query(c))?;
        let mut out: Vec<(StateKey, String)> = all
            .into_iter()
            .filter_map(|(field, cursor)| {
                let (source, stream) = field.rsplit_once('/')?;
                Some((StateKey::new(source, stream), cursor))
            })
            .collect();
        out.sort();
        Ok(out)
    }

    fn lock(&mut self, source: &str) -> Result<(), StoreError> {
        let (key, token, ttl) = (self.lock_key(source), self.token.clone(), self.ttl_ms());
        let taken: Option<String> = self.with_conn(|c| {
            redis::cmd("SET")
                .arg(&key)
                .arg(&token)
                .arg("NX")
                .arg("PX")
                .arg(ttl)
                .query(c)
        })?;
        if taken.is_some() {
            self.locked.push(source.to_string());
            return Ok(());
        }
        let holder: Option<String> = self.with_conn(|c| redis::cmd("GET").arg(&key).query(c))?;
        Err(self.locked_error(source, holder.unwrap_or_default()))
    }

    fn unlock(&mut self, source: &str) -> Result<(), StoreError> {
        let (key, token) = (self.lock_key(source), self.token.clone());
        self.locked.retain(|s| s != source);
        self.with_conn(|c| {
            Script::new(UNLOCK_SCRIPT)
                .key(&key)
                .arg(&token)
                .invoke::<i64>(c)
        })?;
        Ok(())
    }
}

impl Drop for RedisState {
    fn drop(&mut self) {
        for source in std::mem::take(&mut self.locked) {
            let _ = self.unlock(&source);
        }
    }
}
