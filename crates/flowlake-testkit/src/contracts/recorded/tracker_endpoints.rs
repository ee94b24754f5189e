//! Yandex Tracker's API v2 endpoints flowlake calls ([`TRACKER`]): the query parameters Tracker documents for
//! each, its recording, the keys the fake may leave out or add with the reason, and the check of the
//! organization and authorization headers every request carries ([`tracker_headers`]).

use super::{Check, Endpoint};

/// Why a Tracker answer may lack a key: Tracker leaves a field without a value out of the answer.
const UNSET: &str =
    "Tracker leaves a field without a value out of the answer; the recorded issue is resolved, \
                     assigned, on a board and moved between statuses";
/// Why a Tracker user reference may lack `cloudUid` and `passportUid`.
const V3_REF: &str = "the recorded issue is a v3 answer, whose user references add cloudUid and passportUid; v2's \
                      (flowlake's) are self, id and display, as every v2 example of yandex-cloud/docs shows";

/// The Tracker endpoints flowlake calls (flowlake-connect's `src/yandex_tracker/source.rs`), with the parameters Yandex documents in
/// yandex-cloud/docs `ru/tracker/concepts/…` (the pages are named per endpoint).
pub static TRACKER: &[Endpoint] = &[
    Endpoint {
        name: "statuses",
        method: "GET",
        path: "/v2/statuses",
        requires: &[],
        query: &[],
        documented: "Tracker API reference, statuses: no parameters",
        recording: None,
        schema: None,
        may_omit: &[],
        also_null: &[],
        any: &[],
        extra: &[],
    },
    Endpoint {
        name: "users",
        method: "GET",
        path: "/v2/users",
        requires: &[],
        query: &[
            ("perPage", Check::Int(1, 1000)),
            ("page", Check::Int(1, i64::MAX)),
        ],
        documented: "Tracker API reference, users, paged as common-format.md says (perPage, page)",
        recording: Some("yandex_tracker/recorded/users.json"),
        schema: None,
        may_omit: &[
            (
                "cloudUid",
                "only users of a Yandex Cloud organization have one; the fake is a Yandex 360 organization",
            ),
            ("position", UNSET),
        ],
        also_null: &[],
        any: &[],
        extra: &[],
    },
    Endpoint {
        name: "search (scroll, next page)",
        method: "POST",
        path: "/v2/issues/_search",
        requires: &["scrollId"],
        query: &[
            ("scrollId", Check::Text),
            ("scrollTTLMillis", Check::Int(1, i64::MAX)),
            ("scrollToken", Check::Text),
        ],
        documented: "search-issues.md, scroll: the second and later requests carry scrollId (and scrollTTLMillis); \
                     scrollType and perScroll are used only in the first",
        recording: Some("yandex_tracker/recorded/issues.json"),
        schema: None,
        may_omit: TRACKER_ISSUE_MAY_OMIT,
        also_null: &[],
        any: &[],
        extra: TRACKER_ISSUE_EXTRA,
    },
    Endpoint {
        name: "search (scroll, first page)",
        method: "POST",
        path: "/v2/issues/_search",
        requires: &["scrollType"],
        query: &[
            ("scrollType", Check::OneOf(&["sorted", "unsorted"])),
            ("perScroll", Check::Int(1, 1000)),
            ("scrollTTLMillis", Check::Int(1, i64::MAX)),
            ("expand", Check::Text),
        ],
        documented: "search-issues.md, scroll: scrollType sorted or unsorted, perScroll at most 1000, scrollTTLMillis",
        recording: Some("yandex_tracker/recorded/issues.json"),
        schema: None,
        may_omit: TRACKER_ISSUE_MAY_OMIT,
        also_null: &[],
        any: &[],
        extra: TRACKER_ISSUE_EXTRA,
    },
    Endpoint {
        name: "search (pages)",
        method: "POST",
        path: "/v2/issues/_search",
        requires: &[],
        query: &[
            ("perPage", Check::Int(1, 1000)),
            ("page", Check::Int(1, i64::MAX)),
            ("expand", Check::Text),
        ],
        documented: "search-issues.md: expand, perPage; pages as common-format.md says",
        recording: Some("yandex_tracker/recorded/issues.json"),
        schema: None,
        may_omit: TRACKER_ISSUE_MAY_OMIT,
        also_null: &[],
        any: &[],
        extra: TRACKER_ISSUE_EXTRA,
    },
    Endpoint {
        name: "changelog",
        method: "GET",
        path: "/v2/issues/{key}/changelog",
        requires: &[],
        query: &[
            ("id", Check::Text),
            ("perPage", Check::Int(1, 100)),
            ("field", Check::Text),
            ("type", Check::Text),
        ],
        documented: "get-changelog.md: id, perPage, field, type",
        recording: Some("yandex_tracker/recorded/changelog.json"),
        schema: None,
        may_omit: &[],
        also_null: &[],
        any: &[
            (
                "fields[].from",
                "get-changelog.md: a reference, a list of them, a string or null, by field",
            ),
            (
                "fields[].to",
                "get-changelog.md: a reference, a list of them, a string or null, by field",
            ),
        ],
        extra: &[],
    },
    Endpoint {
        name: "comments",
        method: "GET",
        path: "/v2/issues/{key}/comments",
        requires: &[],
        query: &[
            ("expand", Check::OneOf(&["attachments", "html", "all"])),
            ("perPage", Check::Int(1, 100)),
            ("id", Check::Text),
        ],
        documented: "get-comments.md: expand; perPage and id for pages",
        recording: Some("yandex_tracker/recorded/comments.json"),
        schema: None,
        may_omit: &[
            (
                "textHtml",
                "only with expand=html (the documented answer asked expand=all; flowlake does not expand)",
            ),
            (
                "attachments",
                "only with expand=attachments (as above), and only for a comment with attachments",
            ),
        ],
        also_null: &[],
        any: &[],
        extra: &[],
    },
    Endpoint {
        name: "worklog",
        method: "GET",
        path: "/v2/issues/{key}/worklog",
        requires: &[],
        query: &[],
        documented: "issue-worklog.md: no parameters",
        recording: Some("yandex_tracker/recorded/worklog.json"),
        schema: None,
        may_omit: &[],
        also_null: &[],
        any: &[],
        extra: &[],
    },
];

const TRACKER_ISSUE_MAY_OMIT: &[(&str, &str)] = &[
    ("resolvedAt", UNSET),
    ("resolvedBy", UNSET),
    ("resolution", UNSET),
    ("boards", UNSET),
    ("previousStatus", UNSET),
    ("previousStatusLastAssignee", UNSET),
    ("assignee", UNSET),
    ("*.cloudUid", V3_REF),
    ("*.passportUid", V3_REF),
];

const TRACKER_ISSUE_EXTRA: &[(&str, &str)] = &[(
    "tags",
    "an issue field of strings: get-changelog.md records a change of field `tags` to [\"Новый тег\"]",
)];

/// Tracker's request headers: the organization as exactly one of `X-Org-ID` (Yandex 360) and `X-Cloud-Org-ID`
/// (Yandex Cloud), and `Authorization: OAuth <token>` or `Bearer <IAM token>` (yandex-cloud/docs
/// `ru/tracker/concepts/access.md`).
pub(super) fn tracker_headers(header: &dyn Fn(&str) -> Option<String>) -> Vec<String> {
    let mut errors = Vec::new();
    match (header("x-org-id"), header("x-cloud-org-id")) {
        (None, None) => errors.push("neither X-Org-ID nor X-Cloud-Org-ID is sent".to_string()),
        (Some(_), Some(_)) => {
            errors.push("both X-Org-ID and X-Cloud-Org-ID are sent; Tracker takes one".to_string())
        }
        (Some(v), None) | (None, Some(v)) if v.trim().is_empty() => {
            errors.push("the organization header is empty".to_string())
        }
        _ => {}
    }
    if let Some(auth) = header("authorization") {
        if !auth.starts_with("OAuth ") && !auth.starts_with("Bearer ") {
            errors.push("Authorization is neither `OAuth <token>` nor `Bearer <IAM token>`".into());
        }
    }
    errors
}
