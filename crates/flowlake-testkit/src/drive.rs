//! Driving a [`Source`] in-process as the engine does, for the connectors' tests: page after page from a
//! saved cursors, each page's cursors set over them for the next call.

use std::path::{Path, PathBuf};

use flowlake_connect::{Page, Source, SourceError, StreamCursors};

/// Most pages a run may take before a test calls it a loop.
pub const MAX_PAGES: usize = 1000;

/// Every page of a run from `saved` (empty: the first run), until the source says there is no more.
/// Panics on an error, or when the run takes more than [`MAX_PAGES`] pages.
pub fn pages(source: &mut dyn Source, saved: StreamCursors) -> Vec<Page> {
    match pages_until_error(source, saved) {
        (pages, None) => pages,
        (_, Some(e)) => panic!("the run fails: {e}"),
    }
}

/// The pages of a run from `saved` up to the first error, and that error.
pub fn pages_until_error(
    source: &mut dyn Source,
    mut saved: StreamCursors,
) -> (Vec<Page>, Option<SourceError>) {
    let mut pages = Vec::new();
    loop {
        match source.next_page(&saved) {
            Ok(Some(page)) => {
                saved.advance(&page.cursors);
                pages.push(page);
                assert!(pages.len() <= MAX_PAGES, "the run never ends");
            }
            Ok(None) => return (pages, None),
            Err(e) => return (pages, Some(e)),
        }
    }
}

/// The error a run from the first page ends with; panics when it ends without one.
pub fn first_error(source: &mut dyn Source) -> SourceError {
    match pages_until_error(source, StreamCursors::new()) {
        (_, Some(e)) => e,
        (pages, None) => panic!("the run ended after {} pages without an error", pages.len()),
    }
}

/// The cursors saved once `pages` (a run's, in order) have committed, starting from none.
pub fn saved_after(pages: &[Page]) -> StreamCursors {
    let mut saved = StreamCursors::new();
    for p in pages {
        saved.advance(&p.cursors);
    }
    saved
}

/// The keys of a page's records of `stream`, in order.
pub fn keys(page: &Page, stream: &str) -> Vec<String> {
    page.records
        .iter()
        .filter(|r| r.stream == stream)
        .map(|r| r.key.clone())
        .collect()
}

/// Writes `token` to a file in `dir` and returns its path, for a config's `token_file`: no test touches the
/// process environment.
pub fn token_file(dir: &Path, token: &str) -> PathBuf {
    let path = dir.join("token");
    std::fs::write(&path, token).expect("a token file in the test's folder");
    path
}
