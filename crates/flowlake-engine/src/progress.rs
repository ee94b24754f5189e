//! Progress reporting, so long work can show a bar without the engine knowing about terminals.

/// Receives progress of long work.
pub trait Progress: Sync {
    /// A new phase begins, with its total units when known.
    fn start(&self, label: &str, total: Option<u64>);
    /// `n` more units are done.
    fn advance(&self, n: u64);
    /// The phase ended.
    fn finish(&self);
}

/// Reports nothing (`--quiet`, tests).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoProgress;

impl Progress for NoProgress {
    fn start(&self, _: &str, _: Option<u64>) {}
    fn advance(&self, _: u64) {}
    fn finish(&self) {}
}
