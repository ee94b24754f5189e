//! Sync and rebuild: pages in, rows out, one transaction per page, cursor last.

use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use flowlake_connect::github::Backfill;
use flowlake_connect::http::{HttpObserver, RequestStats, Tape};
use flowlake_connect::{Normalizer, Source, SourceError, StreamCursors};
use flowlake_core::{GuessedStatus, ItemHistory, RawRecord};
use flowlake_store::{CursorUpdate, LoadBatch, StateBackend, StateKey, Store, StoreError};

use crate::compute::{add_history, FlowSettings};
use crate::config::SourceConfig;
use crate::progress::Progress;
use crate::report::warn_guessed_statuses;

/// What stopped a sync or rebuild.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The source failed.
    #[error(transparent)]
    Source(#[from] SourceError),
    /// The store or state back-end failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Raw records exist for a source the config does not define.
    #[error("raw records of source `{0}` are stored, but no [[sources]] block is named `{0}`; add it to rebuild")]
    UnknownSource(String),
    /// A failure injected by a test (`SyncOptions::fail_after_pages`, `RebuildOptions::fail_after_pages`).
    #[error("injected failure after page {0}")]
    Injected(u64),
}

/// Where the cursor goes.
pub enum StateTarget<'a> {
    /// The store's own cursors: in the page's transaction when the store
    /// [keeps them there](Store::keeps_cursors_in_the_load_transaction), else right after the page commits.
    Store,
    /// Another back-end, written right after the page commits.
    External(&'a mut dyn StateBackend),
}

/// Options of one sync run.
#[derive(Debug, Clone, Default)]
pub struct SyncOptions {
    /// Ignore the saved cursor and read everything again.
    pub full_refresh: bool,
    /// Fail after committing this many pages (crash tests).
    pub fail_after_pages: Option<u64>,
    /// Asked to stop (`flowlake run` on SIGTERM): the run ends after the page it is on commits, and the
    /// next run resumes from that page's cursor.
    pub stop: StopSignal,
}

/// A request to stop a run at its next page boundary, shared by whoever asks and the runs that heed it.
#[derive(Debug, Clone, Default)]
pub struct StopSignal(std::sync::Arc<std::sync::atomic::AtomicBool>);

impl StopSignal {
    /// Asks every run holding this signal to stop after its current page.
    pub fn stop(&self) {
        self.0.store(true, std::sync::atomic::Ordering::SeqCst);
    }

    /// Whether a stop was asked.
    pub fn is_stopped(&self) -> bool {
        self.0.load(std::sync::atomic::Ordering::SeqCst)
    }
}

/// What one sync did.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct SyncReport {
    /// Source name.
    pub source: String,
    /// Pages committed.
    pub pages: u64,
    /// Raw records landed.
    pub records: u64,
    /// Work items loaded.
    pub items: u64,
    /// Status changes loaded.
    pub status_changes: u64,
    /// Records landed raw that could not be normalized (each one listed in `bad_records`, with its error); the
    /// run went on without them.
    pub bad_records: u64,
    /// Cursor after the run.
    pub cursor: Option<String>,
    /// API requests per stream (API sources only).
    pub requests: BTreeMap<String, RequestStats>,
    /// The source's statuses whose category was guessed, on stored items (each warned about once).
    pub guessed_statuses: Vec<GuessedStatus>,
    /// Whether the run stopped early because a stop was asked ([`SyncOptions::stop`]); what it committed
    /// stays, and the next run goes on from there.
    pub stopped: bool,
    /// Seconds spent getting pages from the source (API requests and rate-limit waits included).
    pub fetch_seconds: f64,
    /// Seconds spent loading pages and their cursors into the store.
    pub load_seconds: f64,
    /// Rows handed to the store, per table (raw landing included).
    pub rows: BTreeMap<String, u64>,
}

/// Builds the source a config block describes. Constructors make no request; API sources read their token
/// here. `tape` records or replays API exchanges.
/// `observer` is told about rate-limit waits (the CLI shows them above its progress bar).
pub fn build_source(
    cfg: &SourceConfig,
    tape: &Tape,
    observer: Arc<dyn HttpObserver>,
) -> Result<Box<dyn Source>, EngineError> {
    Ok(cfg.source(tape, observer)?)
}

/// Builds the source of `cfg` reading the history of `backfill` instead of syncing incrementally; its cursor
/// is kept under its own state key, so an interrupted backfill resumes and the incremental cursor is untouched.
pub fn build_backfill_source(
    cfg: &SourceConfig,
    tape: &Tape,
    observer: Arc<dyn HttpObserver>,
    backfill: Backfill,
) -> Result<Box<dyn Source>, EngineError> {
    match cfg.backfill(tape, observer, &backfill) {
        Some(source) => Ok(source?),
        // The caller names the source (`source `jira`: …`), so the message does not.
        None => Err(EngineError::Source(SourceError::Config(
            "no windowed backfill for this kind of source (GitHub sources have one); \
             `sync --full-refresh` reads its whole history"
                .into(),
        ))),
    }
}

/// The rows of one page, and what went into them.
struct PageRows {
    batch: LoadBatch,
    /// Work items.
    items: u64,
    /// Status changes.
    changes: u64,
    /// Records that could not be normalized.
    bad: u64,
}

/// Normalizes records and computes every row of them into one batch. Records repeated in a page (an item
/// updated while paging) are kept once, the latest.
///
/// A record the source cannot normalize (`SourceError::BadRecord`) costs only itself: it is landed raw like the
/// others (when `land_raw`), recorded in `bad_records` with the source's message, seen failing at `seen_at`,
/// and the page goes on. A record that normalizes clears its `bad_records` row, so a rebuild after a fix
/// empties the table. Any other error stops the page.
fn page_batch<'r>(
    source: &mut dyn Normalizer,
    records: &'r [RawRecord],
    land_raw: bool,
    settings: &FlowSettings,
    now: DateTime<Utc>,
    seen_at: DateTime<Utc>,
) -> Result<PageRows, EngineError> {
    let mut latest_raw: HashMap<(&str, &str), &RawRecord> = HashMap::new();
    for r in records {
        latest_raw.insert((r.stream.as_str(), r.key.as_str()), r);
    }
    let is_latest = |r: &RawRecord| {
        latest_raw
            .get(&(r.stream.as_str(), r.key.as_str()))
            .is_some_and(|l| std::ptr::eq(*l, r))
    };
    // (record, message) of the records that failed and are the ones landed for their key.
    let mut bad: Vec<(&RawRecord, String)> = Vec::new();
    let mut failed = |r: &'r RawRecord, e: SourceError| -> Result<(), EngineError> {
        match e {
            SourceError::BadRecord { message, .. } => {
                if is_latest(r) {
                    bad.push((r, message));
                } else {
                    tracing::debug!(source = %r.source, stream = %r.stream, key = %r.key, error = %message,
                        "a record that could not be normalized was replaced by a later copy in its page");
                }
                Ok(())
            }
            other => Err(other.into()),
        }
    };
    // The normalizer's lookup records first, wherever they are in the page. Indexes of those that could not
    // be absorbed: they are not normalized either.
    let mut absorbed_bad: Vec<usize> = Vec::new();
    let lookups: Vec<String> = source
        .lookup_streams()
        .iter()
        .map(|s| s.to_string())
        .collect();
    for (n, r) in records.iter().enumerate() {
        if !lookups.contains(&r.stream) {
            continue;
        }
        if let Err(e) = source.absorb(r) {
            failed(r, e)?;
            absorbed_bad.push(n);
        }
    }
    let known = source.known_statuses();
    let with_known;
    let settings = if known.is_empty() {
        settings
    } else {
        with_known = settings.with_known(&known);
        &with_known
    };
    let source: &dyn Normalizer = source;
    let mut batch = LoadBatch::new();
    let mut histories: HashMap<String, ItemHistory> = HashMap::new();
    for (n, r) in records.iter().enumerate() {
        if land_raw && is_latest(r) {
            batch.raw(r);
        }
        if absorbed_bad.contains(&n) {
            continue;
        }
        let normalized = match source.normalize(r) {
            Ok(n) => n,
            Err(e) => {
                failed(r, e)?;
                continue;
            }
        };
        if is_latest(r) {
            batch.normalized(r);
        }
        for e in &normalized.entities {
            batch.any_entity(e.as_ref())?;
        }
        for h in normalized.histories {
            match histories.get(&h.item.id) {
                Some(old) if old.item.updated_at > h.item.updated_at => {}
                _ => {
                    histories.insert(h.item.id.clone(), h);
                }
            }
        }
    }
    for (r, message) in &bad {
        batch.bad_record(r, message, seen_at);
    }
    if let Some((r, message)) = bad.first() {
        tracing::warn!(
            source = %r.source,
            records = bad.len(),
            first = %format!("{}/{}", r.stream, r.key),
            error = %message,
            "records could not be normalized; they are landed raw and listed in bad_records"
        );
    }
    let mut changes = 0;
    for h in histories.values() {
        changes += add_history(&mut batch, h, settings, now) as u64;
    }
    Ok(PageRows {
        batch,
        items: histories.len() as u64,
        changes,
        bad: bad.len() as u64,
    })
}

/// Syncs one source: each page lands raw, is normalized, has its metrics computed and is loaded in one
/// transaction; only then does the cursor advance. A killed run resumes after the last committed page, and a
/// replayed page replaces its own rows, so nothing is lost or duplicated.
///
/// An external state back-end is locked for the source during the run (Redis takes a lease; the others rely
/// on compare-and-set cursor writes), and unlocked at the end whether the run succeeded or not.
pub fn sync_source(
    source: &mut dyn Source,
    store: &mut dyn Store,
    state: &mut StateTarget<'_>,
    settings: &FlowSettings,
    now: DateTime<Utc>,
    progress: &dyn Progress,
    options: SyncOptions,
) -> Result<SyncReport, EngineError> {
    let name = source.name().to_string();
    if let StateTarget::External(b) = state {
        b.lock(&name)?;
    }
    let mut result = sync_pages(source, store, state, settings, now, progress, options);
    if let Ok(report) = &mut result {
        report.requests = source.request_stats();
    }
    for (stream, s) in source.request_stats() {
        tracing::info!(source = %name, stream, requests = s.requests, not_modified = s.not_modified, retries = s.retries, rate_limit_waits = s.rate_limit_waits, "requests");
    }
    if let StateTarget::External(b) = state {
        if let Err(e) = b.unlock(&name) {
            tracing::warn!(source = %name, error = %e, "could not release the state lock; it expires by itself");
        }
    }
    if let Ok(report) = &mut result {
        report.guessed_statuses = warn_guessed_statuses(store, &name)?;
    }
    result
}

fn sync_pages(
    source: &mut dyn Source,
    store: &mut dyn Store,
    state: &mut StateTarget<'_>,
    settings: &FlowSettings,
    now: DateTime<Utc>,
    progress: &dyn Progress,
    options: SyncOptions,
) -> Result<SyncReport, EngineError> {
    let name = source.name().to_string();
    let streams = source.streams();
    let (mut cursors, mut former) = saved_cursors(&*source, store, state, options.full_refresh)?;
    let mut report = SyncReport {
        source: name.clone(),
        ..SyncReport::default()
    };
    progress.start(&format!("sync {name}"), source.size_hint(&cursors));
    let mut fetch_started = std::time::Instant::now();
    while let Some(page) = source.next_page(&cursors)? {
        report.fetch_seconds += fetch_started.elapsed().as_secs_f64();
        let PageRows {
            mut batch,
            items,
            changes,
            bad,
        } = page_batch(&mut *source, &page.records, true, settings, now, Utc::now())?;
        let mut updates: Vec<CursorUpdate> = page
            .cursors
            .iter()
            .map(|(stream, c)| CursorUpdate::put(StateKey::new(&name, stream), c))
            .collect();
        if !updates.is_empty() {
            // The first page holds every stream's cursor converted from the former keys: they go with it.
            for stream in former.drain(..) {
                cursors.remove(&stream);
                updates.push(CursorUpdate::clear(StateKey::new(&name, stream)));
            }
        }
        for (table, n) in batch.counts() {
            *report.rows.entry(table.to_string()).or_default() += n as u64;
        }
        let load_started = std::time::Instant::now();
        match state {
            StateTarget::Store if store.keeps_cursors_in_the_load_transaction() => {
                store.load(&mut batch, Some(&updates))?;
            }
            StateTarget::Store => {
                store.load(&mut batch, None)?;
                store.put_all(&updates)?;
            }
            StateTarget::External(b) => {
                store.load(&mut batch, None)?;
                b.put_all(&updates)?;
            }
        }
        report.load_seconds += load_started.elapsed().as_secs_f64();
        report.pages += 1;
        report.records += page.records.len() as u64;
        report.items += items;
        report.status_changes += changes;
        report.bad_records += bad;
        progress.advance(page.records.len() as u64);
        tracing::debug!(source = %name, cursors = ?page.cursors, records = page.records.len(), "page committed");
        cursors.advance(&page.cursors);
        if options.fail_after_pages == Some(report.pages) {
            progress.finish();
            return Err(EngineError::Injected(report.pages));
        }
        if options.stop.is_stopped() {
            tracing::info!(source = %name, pages = report.pages, "stopping as asked, after a committed page");
            report.stopped = true;
            break;
        }
        fetch_started = std::time::Instant::now();
    }
    progress.finish();
    // Every page and cursor is saved: what the store does once per run (ClickHouse's optimize_after_sync).
    store.finish_sync()?;
    report.cursor = match streams.as_slice() {
        [one] => cursors.get(one).map(str::to_string),
        _ if cursors.is_empty() => None,
        _ => Some(cursors.to_json()),
    };
    Ok(report)
}

/// The cursors a run of `source` starts from — none with `full_refresh` — and the former streams that hold
/// a cursor (to delete with the first page). Every key is read through the back-end, so each later write of
/// it compares with what was read.
fn saved_cursors(
    source: &dyn Source,
    store: &mut dyn Store,
    state: &mut StateTarget<'_>,
    full_refresh: bool,
) -> Result<(StreamCursors, Vec<String>), EngineError> {
    let mut get = |stream: &str| -> Result<Option<String>, StoreError> {
        let key = StateKey::new(source.name(), stream);
        match state {
            StateTarget::Store => store.get(&key),
            StateTarget::External(b) => b.get(&key),
        }
    };
    let mut cursors = StreamCursors::new();
    if !full_refresh {
        for stream in source.streams() {
            if let Some(c) = get(&stream)? {
                cursors.set(stream, c);
            }
        }
    }
    let mut former = Vec::new();
    for stream in source.former_streams() {
        if let Some(c) = get(&stream)? {
            if !full_refresh {
                cursors.set(stream.clone(), c);
            }
            former.push(stream);
        }
    }
    Ok((cursors, former))
}

/// What a rebuild did.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct RebuildReport {
    /// Raw records re-normalized.
    pub records: u64,
    /// Items recomputed.
    pub items: u64,
    /// Raw records that still could not be normalized (listed in `bad_records`).
    pub bad_records: u64,
    /// Statuses whose category was guessed, per source (each warned about once).
    pub guessed_statuses: Vec<GuessedStatus>,
}

/// Options of one rebuild.
#[derive(Debug, Clone, Copy, Default)]
pub struct RebuildOptions {
    /// Fail after loading this many pages, over all sources (crash tests).
    pub fail_after_pages: Option<u64>,
}

/// Re-normalizes every landed raw record and recomputes every metric with the current config, without
/// calling any API. `now` is the wall clock (see [`SourceConfig::now`]).
pub fn rebuild(
    store: &mut dyn Store,
    sources: &[SourceConfig],
    settings: &FlowSettings,
    now: DateTime<Utc>,
    progress: &dyn Progress,
) -> Result<RebuildReport, EngineError> {
    rebuild_with(
        store,
        sources,
        settings,
        now,
        progress,
        RebuildOptions::default(),
    )
}

/// [`rebuild`] with `options`.
///
/// A rebuild loads page after page, each in its own transaction, so one cut short (killed, a full disk)
/// would leave items computed with two configs. The store is marked before the first page loads
/// ([`Store::begin_rebuild`]) and unmarked only after the last: the CLI warns about a marked store
/// on every command, and the next rebuild, which recomputes everything, finishes the job. Every stored
/// source must be configured and buildable before the mark is set, so a rebuild that cannot start changes
/// nothing.
pub fn rebuild_with(
    store: &mut dyn Store,
    sources: &[SourceConfig],
    settings: &FlowSettings,
    now: DateTime<Utc>,
    progress: &dyn Progress,
    options: RebuildOptions,
) -> Result<RebuildReport, EngineError> {
    let mut built = Vec::new();
    for name in store.raw_sources()? {
        let cfg = sources
            .iter()
            .find(|s| s.name() == name)
            .ok_or_else(|| EngineError::UnknownSource(name.clone()))?;
        // Normalizers only: built from the config, with no client and no token.
        built.push((cfg, cfg.normalizer()));
    }
    if let Some(since) = store.unfinished_rebuild()? {
        tracing::info!(%since, "finishing the rebuild that did not complete");
    }
    store.begin_rebuild()?;
    let mut report = RebuildReport::default();
    let mut pages = 0;
    for (cfg, mut normalizer) in built {
        let one = rebuild_pages(
            store,
            cfg.name(),
            normalizer.as_mut(),
            settings,
            cfg.now(now),
            progress,
            (&mut pages, options.fail_after_pages),
        )?;
        report.records += one.records;
        report.items += one.items;
        report.bad_records += one.bad_records;
        report
            .guessed_statuses
            .extend(warn_guessed_statuses(store, cfg.name())?);
    }
    store.end_rebuild()?;
    Ok(report)
}

/// Re-normalizes the landed raw records of `source` (those stored under its name) with `source` and loads
/// their rows again: what [`rebuild`] does for each configured source. Records that normalize now leave
/// `bad_records`; those that still fail stay there with their new message.
pub fn rebuild_source(
    store: &mut dyn Store,
    source: &mut dyn Source,
    settings: &FlowSettings,
    now: DateTime<Utc>,
    progress: &dyn Progress,
) -> Result<RebuildReport, EngineError> {
    let name = source.name().to_string();
    rebuild_pages(
        store,
        &name,
        source,
        settings,
        now,
        progress,
        (&mut 0, None),
    )
}

/// [`rebuild_source`] with `normalizer` for the records of source `name`, counting the pages loaded in `pages`
/// and failing once it reaches `fail_after`.
///
/// The normalizer's lookup streams are read and loaded first, each on its own (the raw table is read in
/// (stream, key) order, from just before the stream), so every lookup is absorbed before the first item is
/// normalized; the other streams' pages follow, without those records.
fn rebuild_pages(
    store: &mut dyn Store,
    name: &str,
    normalizer: &mut dyn Normalizer,
    settings: &FlowSettings,
    now: DateTime<Utc>,
    progress: &dyn Progress,
    (pages, fail_after): (&mut u64, Option<u64>),
) -> Result<RebuildReport, EngineError> {
    let mut report = RebuildReport::default();
    let total = store.count_raw(name)?;
    progress.start(&format!("rebuild {name}"), Some(total));
    let lookups: Vec<String> = normalizer
        .lookup_streams()
        .iter()
        .map(|s| s.to_string())
        .collect();
    // Each lookup stream alone (from the empty key, the first of the stream), then every other stream.
    let passes = lookups
        .iter()
        .map(|s| Some(s.as_str()))
        .chain(std::iter::once(None));
    for only in passes {
        let mut after: Option<(String, String)> = only.map(|s| (s.to_string(), String::new()));
        loop {
            let mut page = store.raw_page(
                name,
                after.as_ref().map(|(s, k)| (s.as_str(), k.as_str())),
                2000,
            )?;
            let Some(last) = page.last() else { break };
            after = Some((last.stream.clone(), last.key.clone()));
            let read = page.len();
            let ends = match only {
                Some(stream) => page.iter().any(|r| r.stream != stream),
                None => false,
            };
            page.retain(|r| match only {
                Some(stream) => r.stream == stream,
                None => !lookups.contains(&r.stream),
            });
            if !page.is_empty() {
                let mut rows =
                    page_batch(&mut *normalizer, &page, false, settings, now, Utc::now())?;
                store.load(&mut rows.batch, None)?;
                report.records += page.len() as u64;
                report.items += rows.items;
                report.bad_records += rows.bad;
                progress.advance(page.len() as u64);
                *pages += 1;
                if fail_after == Some(*pages) {
                    progress.finish();
                    return Err(EngineError::Injected(*pages));
                }
            }
            if ends || read < 2000 {
                break;
            }
        }
    }
    progress.finish();
    Ok(report)
}
