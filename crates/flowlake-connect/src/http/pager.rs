//! A paged list being read ([`Pager`]: the request for its next page, made by its [`Pagination`] style from
//! each answer) and the watch that stops a stream whose server's paging does not advance ([`PageGuard`],
//! [`StuckPaging`]).

use std::collections::HashSet;
use std::hash::{Hash, Hasher};

use serde_json::Value;

use super::pagination::Pagination;
use super::{redact_url, Request, Response};

/// A pager stopped by [`PageGuard`] instead of asking for the same page forever.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{source_name}/{stream}: {problem} (after {pages} {}); stopped instead of asking again, since the \
     server's paging does not advance",
    if *pages == 1 { "page" } else { "pages" }
)]
pub struct StuckPaging {
    /// Source name.
    pub source_name: String,
    /// The stream or list being paged (`issues of acme/api`, `changelog of CORE-1`).
    pub stream: String,
    /// Pages read in it before stopping.
    pub pages: u64,
    /// What did not advance.
    pub problem: Stuck,
}

/// One paged list being read: the request for its next page, made by its [`Pagination`] style from each
/// answer, and the [`PageGuard`] that stops the list when the server's paging does not advance. The
/// connector sends the requests (one at a time, or many lists' at once with `send_all`) and reads the
/// items; the pager only says what to ask next.
#[derive(Debug, Clone)]
pub struct Pager {
    style: Pagination,
    next: Option<Request>,
    guard: PageGuard,
    stop_at_empty: bool,
}

impl Pager {
    /// A list whose first page is asked by `first`, paged in `style`, watched by `guard`.
    pub fn new(style: Pagination, first: Request, guard: PageGuard) -> Self {
        Self {
            style,
            next: Some(first),
            guard,
            stop_at_empty: false,
        }
    }

    /// The same pager, ending the list at an empty page whatever the page says of more (GitLab and Tracker
    /// send `rel="next"` on an empty last page).
    pub fn stop_at_empty(mut self) -> Self {
        self.stop_at_empty = true;
        self
    }

    /// The request for the next page, taken out: `None` once the list is read.
    pub fn next_request(&mut self) -> Option<Request> {
        self.next.take()
    }

    /// Whether a page is left to ask for.
    pub fn has_next(&self) -> bool {
        self.next.is_some()
    }

    /// Takes `response`, the answer to `request`, whose items have `keys` (see [`item_key`]): the request
    /// after it is made, unless the list is over; a next page that could only bring this page, or nothing,
    /// again is refused ([`StuckPaging`]).
    pub fn read(
        &mut self,
        request: &Request,
        response: &Response,
        keys: Vec<String>,
    ) -> Result<(), StuckPaging> {
        let next = self
            .style
            .next(request, response, keys.len())
            .filter(|_| !(self.stop_at_empty && keys.is_empty()));
        if let Some(next) = &next {
            self.guard.advance(
                self.style.cursor(request).as_deref(),
                self.style.cursor(next).as_deref(),
                keys,
            )?;
        }
        self.next = next;
        Ok(())
    }
}

/// Why a pager was stopped: the server said more pages follow, but the next one could not bring anything new.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stuck {
    /// The next page's cursor (URL, token, offset) was already asked for in this stream.
    Repeated(String),
    /// More pages follow, but no cursor says where.
    NoCursor,
    /// A page with no items says more follow.
    Empty,
    /// A page holds exactly the items of the one before it (the server ignored the cursor).
    SamePage,
}

impl std::fmt::Display for Stuck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Repeated(c) => write!(f, "the next-page cursor `{c}` was already read"),
            Self::NoCursor => f.write_str("the server says more pages follow but gives no cursor"),
            Self::Empty => f.write_str("a page with no items says more pages follow"),
            Self::SamePage => f.write_str("a page repeats the items of the page before it"),
        }
    }
}

/// Longest cursor quoted in an error.
const SHOWN_CURSOR: usize = 120;

/// Guards one paged list against a server whose pages do not advance (a GraphQL `endCursor` that repeats or
/// is `null` with `hasNextPage: true`, a `Link: rel="next"` back to a page already read, a token handed out
/// twice, an offset or page number the server ignores): fed each page that says another follows, it fails
/// with [`StuckPaging`] rather than let the loop send the same request forever. Every pager of every
/// source goes through one, whatever its style.
#[derive(Debug, Clone)]
pub struct PageGuard {
    source_name: String,
    stream: String,
    /// Cursors of the pages read so far (`None`: the first page, asked without one).
    read: HashSet<Option<String>>,
    /// Fingerprint of the previous page's item keys.
    previous: Option<u64>,
    pages: u64,
    /// Whether the style hands out one cursor for the whole list (Tracker's `X-Scroll-Id` names the scroll,
    /// not a position), so only empty and repeated pages count as stuck.
    cursor_names_the_list: bool,
}

impl PageGuard {
    /// A guard for `stream` of source `source_name`, whose cursors name positions (each page has its own).
    pub fn new(source_name: &str, stream: impl Into<String>) -> Self {
        Self {
            source_name: source_name.to_string(),
            stream: stream.into(),
            read: HashSet::new(),
            previous: None,
            pages: 0,
            cursor_names_the_list: false,
        }
    }

    /// A guard for a scroll, whose cursor may stay the same from page to page.
    pub fn scroll(source_name: &str, stream: impl Into<String>) -> Self {
        Self {
            cursor_names_the_list: true,
            ..Self::new(source_name, stream)
        }
    }

    /// The stream this guard watches.
    pub fn stream(&self) -> &str {
        &self.stream
    }

    /// Checks a page that says another follows: it was asked with cursor `at` (`None`: the first page), the
    /// next one is at `next` (`None` when the server gave no cursor), and it held items with `keys` (ids, in
    /// page order). Fails when the next request could only bring this page, or nothing, again.
    pub fn advance<K: Hash>(
        &mut self,
        at: Option<&str>,
        next: Option<&str>,
        keys: impl IntoIterator<Item = K>,
    ) -> Result<(), StuckPaging> {
        self.pages += 1;
        self.read.insert(at.map(str::to_string));
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        let mut items = 0usize;
        for k in keys {
            k.hash(&mut hasher);
            items += 1;
        }
        let fingerprint = hasher.finish();
        let problem = match next {
            _ if items == 0 => Some(Stuck::Empty),
            None => Some(Stuck::NoCursor),
            Some(c) if !self.cursor_names_the_list && self.read.contains(&Some(c.to_string())) => {
                Some(Stuck::Repeated(shown_cursor(c)))
            }
            _ if self.previous == Some(fingerprint) => Some(Stuck::SamePage),
            _ => None,
        };
        self.previous = Some(fingerprint);
        match problem {
            None => Ok(()),
            Some(problem) => Err(StuckPaging {
                source_name: self.source_name.clone(),
                stream: self.stream.clone(),
                pages: self.pages,
                problem,
            }),
        }
    }
}

/// What a [`PageGuard`] fingerprints an item of a JSON page by: its `id` (`key` for Tracker issues and Jira
/// issues have both), else the whole item (timeline events have no id).
pub fn item_key(item: &Value) -> String {
    match item.get("id").or_else(|| item.get("key")) {
        Some(Value::String(id)) => id.clone(),
        Some(id @ Value::Number(_)) => id.to_string(),
        _ => item.to_string(),
    }
}

/// A cursor as an error may show it: secrets masked (a next-page URL may carry a token), cut when long.
fn shown_cursor(c: &str) -> String {
    let c = redact_url(c);
    if c.chars().count() <= SHOWN_CURSOR {
        return c;
    }
    let cut: String = c.chars().take(SHOWN_CURSOR).collect();
    format!("{cut}…")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pager_whose_cursor_does_not_advance_is_stopped() {
        let stuck = |g: &mut PageGuard, at: Option<&str>, next: Option<&str>, keys: &[&str]| {
            g.advance(at, next, keys.iter()).err().map(|e| e.problem)
        };
        // GraphQL `hasNextPage: true` with the cursor it was asked with, or with `null`.
        let mut g = PageGuard::new("gh", "issues of o/r");
        assert_eq!(stuck(&mut g, None, Some("c1"), &["a", "b"]), None);
        assert_eq!(
            stuck(&mut g, Some("c1"), Some("c1"), &["c"]),
            Some(Stuck::Repeated("c1".into()))
        );
        let mut g = PageGuard::new("gh", "issues of o/r");
        assert_eq!(stuck(&mut g, None, None, &["a"]), Some(Stuck::NoCursor));
        // A cursor handed out again later (a Link back to the first page).
        let mut g = PageGuard::new("gl", "issues");
        assert_eq!(
            stuck(&mut g, Some("/p?page=1"), Some("/p?page=2"), &["a"]),
            None
        );
        assert_eq!(
            stuck(&mut g, Some("/p?page=2"), Some("/p?page=3"), &["b"]),
            None
        );
        let again = g
            .advance(Some("/p?page=3"), Some("/p?page=1"), ["c"])
            .unwrap_err();
        assert_eq!(again.problem, Stuck::Repeated("/p?page=1".into()));
        assert_eq!(again.pages, 3);
        assert!(
            again.to_string().starts_with(
                "gl/issues: the next-page cursor `/p?page=1` was already read (after 3 pages)"
            ),
            "{again}"
        );
        // No items, yet more to come; an offset the server ignores (the same items again).
        let mut g = PageGuard::new("jira", "issues");
        assert_eq!(stuck(&mut g, None, Some("t1"), &[]), Some(Stuck::Empty));
        let mut g = PageGuard::new("jira", "issues");
        assert_eq!(stuck(&mut g, Some("0"), Some("2"), &["A-1", "A-2"]), None);
        assert_eq!(
            stuck(&mut g, Some("2"), Some("4"), &["A-1", "A-2"]),
            Some(Stuck::SamePage)
        );
        // A scroll keeps its id while its pages move on; the same page twice is still stuck.
        let mut g = PageGuard::scroll("tracker", "issues");
        assert_eq!(stuck(&mut g, None, Some("s"), &["1"]), None);
        assert_eq!(stuck(&mut g, Some("s"), Some("s"), &["2"]), None);
        assert_eq!(
            stuck(&mut g, Some("s"), Some("s"), &["2"]),
            Some(Stuck::SamePage)
        );
        // Secrets in a next-page URL stay out of the message.
        let mut g = PageGuard::new("gl", "issues");
        let url = "https://h/p?page=1&access_token=glpat-secret";
        let e = g
            .advance(Some(url), Some(url), ["a"])
            .unwrap_err()
            .to_string();
        assert!(!e.contains("glpat-secret"), "{e}");
    }
}
