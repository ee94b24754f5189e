//! A source whose records are normalized through a check of the caller's: `flowlake sync --as-of` refuses an
//! item created after the instant (its metrics as of then would all be zero), and tests make one record fail.
//! Every other call goes to the source it wraps, so the engine cannot tell the two apart.

use std::collections::BTreeMap;

use flowlake_core::{Normalized, RawRecord, StatusCategory};

use crate::http::RequestStats;
use crate::{Normalizer, Page, Source, SourceError, StreamCursors};

/// How a [`Checked`] source normalizes a record: given the wrapped source's normalizer and the record.
pub type Check = dyn Fn(&dyn Normalizer, &RawRecord) -> Result<Normalized, SourceError> + Send;

/// `inner`, its records normalized through `check`.
pub struct Checked {
    inner: Box<dyn Source>,
    check: Box<Check>,
}

impl Checked {
    /// `inner` with every record normalized by `check` (which calls `inner`'s normalizer as it sees fit).
    pub fn new(
        inner: Box<dyn Source>,
        check: impl Fn(&dyn Normalizer, &RawRecord) -> Result<Normalized, SourceError> + Send + 'static,
    ) -> Self {
        Self {
            inner,
            check: Box::new(check),
        }
    }
}

impl Source for Checked {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn streams(&self) -> Vec<String> {
        self.inner.streams()
    }

    fn former_streams(&self) -> Vec<String> {
        self.inner.former_streams()
    }

    fn size_hint(&self, cursors: &StreamCursors) -> Option<u64> {
        self.inner.size_hint(cursors)
    }

    fn next_page(&mut self, cursors: &StreamCursors) -> Result<Option<Page>, SourceError> {
        self.inner.next_page(cursors)
    }

    fn request_stats(&self) -> BTreeMap<String, RequestStats> {
        self.inner.request_stats()
    }
}

impl Normalizer for Checked {
    fn lookup_streams(&self) -> &[&str] {
        self.inner.lookup_streams()
    }

    fn normalize(&self, raw: &RawRecord) -> Result<Normalized, SourceError> {
        let inner: &dyn Source = &*self.inner;
        (self.check)(inner, raw)
    }

    fn absorb(&mut self, raw: &RawRecord) -> Result<(), SourceError> {
        self.inner.absorb(raw)
    }

    fn known_statuses(&self) -> Vec<(String, StatusCategory)> {
        self.inner.known_statuses()
    }
}
