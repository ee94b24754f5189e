//! The entity set is open: a kind declared here, outside flowlake's crates — its type, its table and the
//! normalizer that emits it — loads through the engine's normal sync path into DuckDB, with no edit to the
//! engine, the model's `Normalized` or the store's own lists.

use chrono::{DateTime, TimeZone, Utc};
use flowlake_connect::{Normalizer, Page, Source, SourceError, StreamCursors};
use flowlake_core::{Entity, Normalized, RawRecord};
use flowlake_engine::sync::{sync_source, StateTarget, SyncOptions};
use flowlake_engine::{FlowSettings, NoProgress};
use flowlake_store::{DuckDbStore, SqlConsole, Store};

/// An on-call alert: a kind flowlake does not have (yet).
#[derive(Debug, Clone, PartialEq)]
struct Alert {
    id: String,
    source: String,
    monitor: String,
    severity: Option<String>,
    fired_at: DateTime<Utc>,
    resolved_at: Option<DateTime<Utc>>,
    flapping: bool,
}

impl Entity for Alert {}

flowlake_store::declare_table! {
    /// Alerts, as the test's monitoring system raises them.
    ALERTS = "test_alerts", "Alerts of a test-only monitoring source";
    key [id], replace [id];
    entity ALERT for a: Alert;
    {
        id: Text = &a.id,
        source: Text = &a.source,
        monitor: Text = &a.monitor,
        severity: Text? = a.severity.as_deref(),
        fired_at: Timestamp = a.fired_at,
        resolved_at: Timestamp? = a.resolved_at,
        flapping: Bool = a.flapping,
    }
}

/// One page of alert records, `{"id", "monitor", "severity", "minute", "resolved"}`.
struct Alerts {
    records: Vec<serde_json::Value>,
    done: bool,
}

impl Source for Alerts {
    fn name(&self) -> &str {
        "pager"
    }
    fn streams(&self) -> Vec<String> {
        vec!["alerts".into()]
    }
    fn size_hint(&self, _: &StreamCursors) -> Option<u64> {
        None
    }
    fn next_page(&mut self, _: &StreamCursors) -> Result<Option<Page>, SourceError> {
        if std::mem::replace(&mut self.done, true) {
            return Ok(None);
        }
        let records = self
            .records
            .iter()
            .map(|p| RawRecord {
                source: "pager".into(),
                stream: "alerts".into(),
                key: p["id"].as_str().unwrap_or_default().into(),
                updated_at: None,
                fetched_at: Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap(),
                payload: p.clone(),
            })
            .collect();
        Ok(Some(Page::of("alerts", records, "end", None)))
    }
}

impl Normalizer for Alerts {
    fn lookup_streams(&self) -> &[&str] {
        &[]
    }
    fn normalize(&self, raw: &RawRecord) -> Result<Normalized, SourceError> {
        let p = &raw.payload;
        let at = |minute: i64| {
            Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0).unwrap() + chrono::Duration::minutes(minute)
        };
        Ok(Normalized::entity(Alert {
            id: format!("pager:{}", raw.key),
            source: raw.source.clone(),
            monitor: p["monitor"].as_str().unwrap_or_default().into(),
            severity: p["severity"].as_str().map(str::to_string),
            fired_at: at(p["minute"].as_i64().unwrap_or_default()),
            resolved_at: p["resolved"].as_i64().map(at),
            flapping: p["resolved"].as_i64().is_some_and(|r| r < 2),
        }))
    }
}

fn sync(store: &mut dyn Store, records: Vec<serde_json::Value>) {
    let mut source = Alerts {
        records,
        done: false,
    };
    sync_source(
        &mut source,
        store,
        &mut StateTarget::Store,
        &FlowSettings::default(),
        Utc::now(),
        &NoProgress,
        SyncOptions {
            full_refresh: true,
            ..SyncOptions::default()
        },
    )
    .unwrap();
}

#[test]
fn a_kind_declared_outside_flowlake_loads_through_sync_and_replaces_by_its_key() {
    flowlake_store::entity::register(&ALERT);
    let dir = tempfile::tempdir().unwrap();
    let mut store = DuckDbStore::open(
        dir.path().join("a.duckdb"),
        flowlake_store::duckdb_store::OpenMode::ReadWrite,
    )
    .unwrap();
    // What a migration does for flowlake's own kinds: the table, rendered from the same declaration.
    store.query(&ALERTS.duckdb_ddl()).unwrap();
    let alert = |id: &str, minute: i64, resolved: Option<i64>| serde_json::json!({"id": id, "monitor": "api-latency", "severity": "p2", "minute": minute, "resolved": resolved});
    sync(
        &mut store,
        vec![alert("1", 0, None), alert("2", 5, Some(1))],
    );
    // The same alert again, resolved: its row is replaced, not doubled.
    sync(&mut store, vec![alert("1", 0, Some(30))]);
    let rows = store
        .query(
            "SELECT id, source, monitor, severity, fired_at::VARCHAR, resolved_at::VARCHAR, flapping::VARCHAR \
             FROM test_alerts ORDER BY id",
        )
        .unwrap()
        .rows_as_text()
        .unwrap();
    let text =
        |v: &[&str]| -> Vec<Option<String>> { v.iter().map(|s| Some(s.to_string())).collect() };
    assert_eq!(
        rows,
        vec![
            text(&[
                "pager:1",
                "pager",
                "api-latency",
                "p2",
                "2026-03-01 09:00:00",
                "2026-03-01 09:30:00",
                "false"
            ]),
            text(&[
                "pager:2",
                "pager",
                "api-latency",
                "p2",
                "2026-03-01 09:05:00",
                "2026-03-01 09:01:00",
                "true"
            ]),
        ]
    );
    let raw = store
        .query("SELECT count(*) FROM raw_records WHERE source = 'pager'")
        .unwrap()
        .rows_as_text()
        .unwrap();
    assert_eq!(
        raw,
        vec![text(&["2"])],
        "the records are landed like any source's"
    );
}
