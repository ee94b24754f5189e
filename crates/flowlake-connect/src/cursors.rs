//! The cursors of a source's streams: what a run resumes from, and what each page advances.
//!
//! A source with several streams (GitLab's issues, merge requests, deployments and pipelines) keeps one cursor
//! per stream, saved under the state key `{source}/{stream}`, rather than one document that folds them all
//! together: a page carries the cursors of the streams it moves, and the engine commits them with the page.

use std::collections::BTreeMap;

/// Cursors by stream name. A run starts from the saved ones (every stream of
/// [`Source::streams`](crate::Source::streams) with a saved cursor, plus what its
/// [`former_streams`](crate::Source::former_streams) still hold); a [`Page`](crate::Page) holds those it
/// advances.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StreamCursors(BTreeMap<String, String>);

impl StreamCursors {
    /// No cursor: a first run.
    pub fn new() -> Self {
        Self::default()
    }

    /// The cursor of one stream, e.g. a single-stream source's.
    pub fn one(stream: impl Into<String>, cursor: impl Into<String>) -> Self {
        let mut c = Self::new();
        c.set(stream, cursor);
        c
    }

    /// The cursor of `stream`, if saved.
    pub fn get(&self, stream: &str) -> Option<&str> {
        self.0.get(stream).map(String::as_str)
    }

    /// Sets the cursor of `stream`.
    pub fn set(&mut self, stream: impl Into<String>, cursor: impl Into<String>) {
        self.0.insert(stream.into(), cursor.into());
    }

    /// Forgets the cursor of `stream`, returning it.
    pub fn remove(&mut self, stream: &str) -> Option<String> {
        self.0.remove(stream)
    }

    /// Whether no stream has a cursor.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// How many streams have a cursor.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// `(stream, cursor)` in stream order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(s, c)| (s.as_str(), c.as_str()))
    }

    /// Sets every cursor of `newer` over these: what the saved cursors are once a page has committed.
    pub fn advance(&mut self, newer: &StreamCursors) {
        for (s, c) in newer.iter() {
            self.set(s, c);
        }
    }

    /// The cursors as one JSON object `{stream: cursor}`, for reports of a run of several streams.
    pub fn to_json(&self) -> String {
        serde_json::to_string(&self.0).unwrap_or_default()
    }
}

impl FromIterator<(String, String)> for StreamCursors {
    fn from_iter<I: IntoIterator<Item = (String, String)>>(iter: I) -> Self {
        Self(iter.into_iter().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::StreamCursors;

    #[test]
    fn a_page_s_cursors_replace_only_the_streams_it_advanced() {
        let mut saved: StreamCursors = [("a", "1"), ("b", "1")]
            .into_iter()
            .map(|(s, c)| (s.to_string(), c.to_string()))
            .collect();
        saved.advance(&StreamCursors::one("b", "2"));
        assert_eq!(saved.get("a"), Some("1"));
        assert_eq!(saved.get("b"), Some("2"));
        assert_eq!(saved.to_json(), r#"{"a":"1","b":"2"}"#);
        assert_eq!(saved.remove("a").as_deref(), Some("1"));
        assert_eq!(saved.len(), 1);
    }
}
