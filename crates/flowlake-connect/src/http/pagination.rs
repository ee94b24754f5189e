//! Pagination styles as data: each says how the request after a page is made, from that page's response.

use serde_json::Value;

use super::{encode_component, Request, Response};

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

impl Pagination {
    /// What names the position `request` asks for, as a [`PageGuard`] compares and shows it: the URL of a
    /// `Link` page, the page number, offset or token parameter, GraphQL's `after` (`None`: the first page).
    pub(super) fn cursor(&self, request: &Request) -> Option<String> {
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
}
