//! Reports already made, so a dashboard's many clients asking the same thing cost one read of the store.
//!
//! An entry serves while it is younger than the configured time and no job run has ended since it was made
//! (a run may have changed the store). Reports made without `as_of` run their ages to the instant they were
//! made, so a cached one is at most that old.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::runner::ReportQuery;

/// The most entries kept; when full, everything is dropped (a dashboard asks a handful of queries).
const MAX_ENTRIES: usize = 256;

struct Entry {
    made: Instant,
    generation: u64,
    body: Arc<String>,
}

/// Reports by query.
pub struct ReportCache {
    ttl: Duration,
    entries: Mutex<HashMap<ReportQuery, Entry>>,
    /// Held while a missing report is made, so concurrent misses make it once.
    pub(crate) making: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for ReportCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReportCache")
            .field("ttl", &self.ttl)
            .finish()
    }
}

impl ReportCache {
    /// Entries serve for `ttl`; zero keeps nothing.
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            entries: Mutex::new(HashMap::new()),
            making: tokio::sync::Mutex::new(()),
        }
    }

    /// The report for `query` made less than the time ago and at `generation`, if there is one.
    pub fn get(&self, query: &ReportQuery, generation: u64, now: Instant) -> Option<Arc<String>> {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries
            .get(query)
            .filter(|e| e.generation == generation && now.duration_since(e.made) < self.ttl)
            .map(|e| e.body.clone())
    }

    /// Keeps `body` as the report for `query` made at `made` and `generation`.
    pub fn put(&self, query: ReportQuery, generation: u64, made: Instant, body: Arc<String>) {
        if self.ttl.is_zero() {
            return;
        }
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(
            query,
            Entry {
                made,
                generation,
                body,
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_serves_until_it_is_old_or_a_run_has_ended() {
        let cache = ReportCache::new(Duration::from_secs(60));
        let q = ReportQuery {
            project: Some("CORE".into()),
            ..ReportQuery::default()
        };
        let t0 = Instant::now();
        cache.put(q.clone(), 3, t0, Arc::new("r".into()));
        assert_eq!(
            cache
                .get(&q, 3, t0 + Duration::from_secs(59))
                .as_deref()
                .map(String::as_str),
            Some("r")
        );
        assert!(cache.get(&q, 3, t0 + Duration::from_secs(60)).is_none());
        assert!(cache.get(&q, 4, t0).is_none());
        assert!(cache.get(&ReportQuery::default(), 3, t0).is_none());
        let off = ReportCache::new(Duration::ZERO);
        off.put(q.clone(), 0, t0, Arc::new("r".into()));
        assert!(off.get(&q, 0, t0).is_none());
    }
}
