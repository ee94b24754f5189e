//! Pagination styles as data: each says how the request after a page is made, from that page's response.

use serde_json::Value;

use super::{Request, Response};

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
    /// `offset`/`limit` query parameters (Jira's `startAt`/`maxResults`).
    OffsetLimit {
        /// Offset parameter name.
        offset_param: String,
        /// Page size.
        limit: u32,
    },
    /// A token in the body (`nextPageToken`) sent back as a query parameter; absent on the last page.
    Token {
        /// JSON pointer to the token in the body, e.g. `/nextPageToken`.
        pointer: String,
        /// Query parameter that carries it.
        param: String,
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

fn set_query(url: &str, name: &str, value: &str) -> String {
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    let mut pairs: Vec<String> = query
        .split('&')
        .filter(|p| !p.is_empty() && p.split('=').next() != Some(name))
        .map(str::to_string)
        .collect();
    pairs.push(format!("{name}={}", encode(value)));
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

fn encode(v: &str) -> String {
    v.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

impl Pagination {
    /// The request for the page after `response`, or `None` on the last page. `items` is the number of
    /// records the page held (for page-number and offset styles).
    pub fn next(&self, request: &Request, response: &Response, items: usize) -> Option<Request> {
        let mut next = request.clone();
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
            Self::OffsetLimit {
                offset_param,
                limit,
            } => {
                if items < *limit as usize {
                    return None;
                }
                next.url = advance(&request.url, offset_param, 0, items as u64);
            }
            Self::Token { pointer, param } => {
                let body: Value = serde_json::from_str(&response.body).ok()?;
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

        let offsets = Pagination::OffsetLimit {
            offset_param: "startAt".into(),
            limit: 50,
        };
        let req = Request::get("x", "https://h/search?jql=a&maxResults=50");
        let n = offsets.next(&req, &r, 50).unwrap();
        assert_eq!(n.url, "https://h/search?jql=a&maxResults=50&startAt=50");
        assert_eq!(
            offsets.next(&n, &r, 50).unwrap().url,
            "https://h/search?jql=a&maxResults=50&startAt=100"
        );

        let tokens = Pagination::Token {
            pointer: "/nextPageToken".into(),
            param: "nextPageToken".into(),
        };
        let req = Request::get("x", "https://h/search?jql=a");
        let n = tokens
            .next(&req, &response(&[], r#"{"nextPageToken":"a b/c"}"#), 50)
            .unwrap();
        assert_eq!(n.url, "https://h/search?jql=a&nextPageToken=a%20b%2Fc");
        assert!(tokens
            .next(&req, &response(&[], r#"{"isLast":true}"#), 50)
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
