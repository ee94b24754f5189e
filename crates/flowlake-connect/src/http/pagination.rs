//! Pagination styles as data: each says how the request after a page is made, from that page's response.

use std::collections::HashSet;
use std::hash::{Hash, Hasher};

use serde_json::Value;

use super::{encode_component, redact_url, Request, Response};

/// How an API pages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pagination {
    /// RFC 8288 `Link` header with `rel="next"` (GitHub, GitLab): the next URL is followed literally.
    LinkHeader,
    /// `page` and `per_page` query parameters; the last page is the first one shorter than `per_page`.
    PageNumber {
        /// Page parameter name.
        page_param: String,
        /// Page size.
        per_page: u32,
    },
    /// Page numbers up to the total a response header gives (Tracker's `X-Total-Pages`; without it, one
    /// page); a page with no items is the last too.
    TotalPages {
        /// Page parameter name.
        page_param: String,
        /// Header holding the number of pages (lower-case).
        header: String,
    },
    /// `offset`/`limit` query parameters (Jira's `startAt`/`maxResults`), the offset moved on by the items
    /// each page held.
    OffsetLimit {
        /// Offset parameter name.
        offset_param: String,
        /// Page size asked for.
        limit: u32,
        /// JSON pointer to the list's total in the body (Jira Server's `/total`). With it, the list ends once
        /// the offset reaches the total — a server that caps the page below `limit` is still read to the end,
        /// and a total that is a multiple of the page size costs no empty page; without it, at the first page
        /// shorter than `limit`.
        total: Option<String>,
        /// JSON pointer to a flag that says whether the page is the last (Jira Cloud's changelog `/isLast`);
        /// where the body has it, it decides over the total.
        last: Option<String>,
    },
    /// A token in the body (`nextPageToken`) sent back as a query parameter; absent on the last page.
    Token {
        /// JSON pointer to the token in the body, e.g. `/nextPageToken`.
        pointer: String,
        /// Query parameter that carries it.
        param: String,
        /// JSON pointer to a flag that says the page is the last whatever token it carries (Jira Cloud's
        /// `/isLast`).
        last: Option<String>,
    },
    /// GraphQL connections: `pageInfo { hasNextPage endCursor }` at a JSON pointer; the next request sets the
    /// `after` variable.
    GraphQlCursor {
        /// JSON pointer to the `pageInfo` object, e.g. `/data/repository/issues/pageInfo`.
        page_info: String,
    },
}

/// The `rel="next"` target of a `Link` header.
pub fn next_link(link: &str) -> Option<String> {
    link.split(',').find_map(|part| {
        let (target, params) = part.split_once(';')?;
        let is_next = params.split(';').any(|p| {
            let p = p.trim();
            p == "rel=\"next\"" || p == "rel=next"
        });
        let target = target.trim();
        (is_next && target.starts_with('<') && target.ends_with('>'))
            .then(|| target[1..target.len() - 1].to_string())
    })
}

/// `url` with the query parameter `name` set to `value`: in its place when the URL has it, else last.
fn set_query(url: &str, name: &str, value: &str) -> String {
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    let pair = format!("{name}={}", encode_component(value));
    let mut pairs: Vec<String> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(str::to_string)
        .collect();
    match pairs.iter().position(|p| p.split('=').next() == Some(name)) {
        Some(i) => pairs[i] = pair,
        None => pairs.push(pair),
    }
    format!("{base}?{}", pairs.join("&"))
}

fn query_value(url: &str, name: &str) -> Option<String> {
    url.split_once('?')?.1.split('&').find_map(|p| {
        p.split_once('=')
            .filter(|(k, _)| *k == name)
            .map(|(_, v)| v.to_string())
    })
}

/// `url` with the numeric parameter `name` (absent: `first`) moved on by `step`.
fn advance(url: &str, name: &str, first: u64, step: u64) -> String {
    let current: u64 = query_value(url, name)
        .and_then(|p| p.parse().ok())
        .unwrap_or(first);
    set_query(url, name, &(current + step).to_string())
}

impl Pagination {
    /// The request for the page after `response`, or `None` on the last page. `items` is the number of
    /// records the page held (for page-number and offset styles).
    /// The next request is never conditional: a validator stands for one answer, which a list's first
    /// page (whose `304` says the list did not change) has and the pages after it do not.
    pub fn next(&self, request: &Request, response: &Response, items: usize) -> Option<Request> {
        let mut next = request.clone();
        next.conditional = false;
        match self {
            Self::LinkHeader => {
                next.url = next_link(response.header("link")?)?;
            }
            Self::PageNumber {
                page_param,
                per_page,
            } => {
                if items < *per_page as usize {
                    return None;
                }
                next.url = advance(&request.url, page_param, 1, 1);
            }
            Self::TotalPages { page_param, header } => {
                let total: u64 = response
                    .header(header)
                    .and_then(|v| v.trim().parse().ok())
                    .unwrap_or(1);
                let page: u64 = query_value(&request.url, page_param)
                    .and_then(|p| p.parse().ok())
                    .unwrap_or(1);
                if items == 0 || page >= total {
                    return None;
                }
                next.url = advance(&request.url, page_param, 1, 1);
            }
            Self::OffsetLimit {
                offset_param,
                limit,
                total,
                last,
            } => {
                let offset: u64 = query_value(&request.url, offset_param)
                    .and_then(|p| p.parse().ok())
                    .unwrap_or(0);
                let body = || serde_json::from_str::<Value>(&response.body).ok();
                let flagged = last.as_deref().and_then(|l| body()?.pointer(l)?.as_bool());
                let more = match (flagged, total) {
                    (Some(is_last), _) => items > 0 && !is_last,
                    (None, Some(pointer)) => {
                        let total = body()?.pointer(pointer)?.as_u64().unwrap_or(0);
                        items > 0 && offset + (items as u64) < total
                    }
                    (None, None) => items >= *limit as usize,
                };
                if !more {
                    return None;
                }
                next.url = advance(&request.url, offset_param, 0, items as u64);
            }
            Self::Token {
                pointer,
                param,
                last,
            } => {
                let body: Value = serde_json::from_str(&response.body).ok()?;
                if last
                    .as_deref()
                    .is_some_and(|l| body.pointer(l) == Some(&Value::Bool(true)))
                {
                    return None;
                }
                let token = body.pointer(pointer)?.as_str().filter(|t| !t.is_empty())?;
                next.url = set_query(&request.url, param, token);
            }
            Self::GraphQlCursor { page_info } => {
                let body: Value = serde_json::from_str(&response.body).ok()?;
                let info = body.pointer(page_info)?;
                if info.get("hasNextPage")?.as_bool() != Some(true) {
                    return None;
                }
                let cursor = info.get("endCursor")?.as_str()?;
                let mut query: Value = serde_json::from_str(request.body.as_deref()?).ok()?;
                query
                    .as_object_mut()?
                    .entry("variables")
                    .or_insert_with(|| Value::Object(Default::default()))
                    .as_object_mut()?
                    .insert("after".into(), Value::String(cursor.into()));
                next.body = Some(query.to_string());
            }
        }
        Some(next)
    }
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

impl Pagination {
    /// What names the position `request` asks for, as a [`PageGuard`] compares and shows it: the URL of a
    /// `Link` page, the page number, offset or token parameter, GraphQL's `after` (`None`: the first page).
    fn cursor(&self, request: &Request) -> Option<String> {
        match self {
            Self::LinkHeader => Some(request.url.clone()),
            Self::PageNumber { page_param, .. } | Self::TotalPages { page_param, .. } => {
                query_value(&request.url, page_param)
            }
            Self::OffsetLimit { offset_param, .. } => query_value(&request.url, offset_param),
            Self::Token { param, .. } => query_value(&request.url, param),
            Self::GraphQlCursor { .. } => {
                let body: Value = serde_json::from_str(request.body.as_deref()?).ok()?;
                body.pointer("/variables/after")?
                    .as_str()
                    .map(str::to_string)
            }
        }
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
    use std::collections::BTreeMap;

    fn response(headers: &[(&str, &str)], body: &str) -> Response {
        Response {
            status: 200,
            url: String::new(),
            redirected_from: None,
            headers: headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<BTreeMap<_, _>>(),
            body: body.into(),
        }
    }

    #[test]
    fn link_headers_as_github_sends_them() {
        let link = r#"<https://api.github.com/repositories/1300192/issues?page=2>; rel="prev", <https://api.github.com/repositories/1300192/issues?page=4>; rel="next", <https://api.github.com/repositories/1300192/issues?page=515>; rel="last", <https://api.github.com/repositories/1300192/issues?page=1>; rel="first""#;
        assert_eq!(
            next_link(link).as_deref(),
            Some("https://api.github.com/repositories/1300192/issues?page=4")
        );
        assert_eq!(next_link(r#"<https://x/?page=1>; rel="first""#), None);
        assert_eq!(next_link(""), None);
        let req = Request::get(
            "issues",
            "https://api.github.com/repos/o/r/issues?per_page=100",
        );
        let next = Pagination::LinkHeader
            .next(&req, &response(&[("link", link)], "[]"), 100)
            .unwrap();
        assert_eq!(
            next.url,
            "https://api.github.com/repositories/1300192/issues?page=4"
        );
        assert!(Pagination::LinkHeader
            .next(&req, &response(&[], "[]"), 100)
            .is_none());
    }

    #[test]
    fn page_number_offset_and_token_styles() {
        let pages = Pagination::PageNumber {
            page_param: "page".into(),
            per_page: 2,
        };
        let req = Request::get("x", "https://h/items?per_page=2");
        let r = response(&[], "");
        let second = pages.next(&req, &r, 2).unwrap();
        assert_eq!(second.url, "https://h/items?per_page=2&page=2");
        assert_eq!(
            pages.next(&second, &r, 2).unwrap().url,
            "https://h/items?per_page=2&page=3"
        );
        assert!(pages.next(&second, &r, 1).is_none());

        let totals = Pagination::TotalPages {
            page_param: "page".into(),
            header: "x-total-pages".into(),
        };
        let req = Request::get("x", "https://h/v2/users?perPage=2&page=1");
        let of_two = response(&[("x-total-pages", "2")], "");
        let second = totals.next(&req, &of_two, 2).unwrap();
        assert_eq!(second.url, "https://h/v2/users?perPage=2&page=2");
        assert!(totals.next(&second, &of_two, 2).is_none());
        assert!(totals.next(&req, &of_two, 0).is_none());
        assert!(totals.next(&req, &r, 2).is_none());

        let offsets = Pagination::OffsetLimit {
            offset_param: "startAt".into(),
            limit: 50,
            total: None,
            last: None,
        };
        let req = Request::get("x", "https://h/search?jql=a&maxResults=50");
        let n = offsets.next(&req, &r, 50).unwrap();
        assert_eq!(n.url, "https://h/search?jql=a&maxResults=50&startAt=50");
        assert_eq!(
            offsets.next(&n, &r, 50).unwrap().url,
            "https://h/search?jql=a&maxResults=50&startAt=100"
        );
        assert!(offsets.next(&n, &r, 49).is_none());

        // Jira Server: to the total, in place, whatever the page size the server chose.
        let to_total = Pagination::OffsetLimit {
            offset_param: "startAt".into(),
            limit: 100,
            total: Some("/total".into()),
            last: Some("/isLast".into()),
        };
        let req = Request::get("x", "https://h/search?jql=a&startAt=0&maxResults=100");
        let of_120 = response(&[], r#"{"total":120}"#);
        let n = to_total.next(&req, &of_120, 50).unwrap();
        assert_eq!(n.url, "https://h/search?jql=a&startAt=50&maxResults=100");
        let n = to_total.next(&n, &of_120, 50).unwrap();
        assert!(to_total.next(&n, &of_120, 20).is_none(), "120 read");
        assert!(to_total.next(&req, &of_120, 0).is_none(), "an empty page");
        let of_100 = response(&[], r#"{"total":100}"#);
        assert!(
            to_total.next(&req, &of_100, 100).is_none(),
            "no empty page after the last"
        );
        // Where the page says whether it is the last, that decides.
        let not_last = response(&[], r#"{"total":100,"isLast":false}"#);
        assert!(to_total.next(&req, &not_last, 100).is_some());
        let last = response(&[], r#"{"total":120,"isLast":true}"#);
        assert!(to_total.next(&req, &last, 50).is_none());

        let tokens = Pagination::Token {
            pointer: "/nextPageToken".into(),
            param: "nextPageToken".into(),
            last: Some("/isLast".into()),
        };
        let req = Request::get("x", "https://h/search?jql=a");
        let n = tokens
            .next(&req, &response(&[], r#"{"nextPageToken":"a b/c"}"#), 50)
            .unwrap();
        assert_eq!(n.url, "https://h/search?jql=a&nextPageToken=a%20b%2Fc");
        assert!(tokens
            .next(&req, &response(&[], r#"{"isLast":true}"#), 50)
            .is_none());
        assert!(tokens
            .next(
                &req,
                &response(&[], r#"{"nextPageToken":"t","isLast":true}"#),
                50
            )
            .is_none());
    }

    #[test]
    fn graphql_cursors_set_the_after_variable() {
        let style = Pagination::GraphQlCursor {
            page_info: "/data/repository/issues/pageInfo".into(),
        };
        let req = Request::post_json(
            "issues",
            "/graphql",
            r#"{"query":"q","variables":{"owner":"o"}}"#.into(),
        );
        let body = r#"{"data":{"repository":{"issues":{"pageInfo":{"hasNextPage":true,"endCursor":"Y3Vyc29y"}}}}}"#;
        let next = style.next(&req, &response(&[], body), 100).unwrap();
        let vars: Value = serde_json::from_str(next.body.as_deref().unwrap()).unwrap();
        assert_eq!(vars["variables"]["after"], "Y3Vyc29y");
        assert_eq!(vars["variables"]["owner"], "o");
        let last = body.replace("true", "false");
        assert!(style.next(&req, &response(&[], &last), 100).is_none());
    }

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
