//! GitLab's REST v4 endpoints flowlake calls ([`GITLAB`]): the query parameters GitLab documents for each, its
//! recording, its schema, and the keys the fake may leave out, leave `null` or add, each with the reason.

use super::{Applies, Check, Endpoint};

const PER_PAGE: (&str, Check) = ("per_page", Check::Int(1, 100));
const PAGE: (&str, Check) = ("page", Check::Int(1, i64::MAX));
const SORT: (&str, Check) = ("sort", Check::OneOf(&["asc", "desc"]));
const UPDATED_AFTER: (&str, Check) = ("updated_after", Check::DateTime);

/// Why a GitLab user may lack a key: the same entity, `API::Entities::UserBasic`, is recorded with
/// `locked` in deployments only (DevLake's 2023 recording; its 2022 issue recordings predate the field).
const NO_LOCKED: &str =
    "`locked` is in the 2023 deployment recording only: GitLab added it to UserBasic after \
                         the 2022 issue and merge request recordings";

/// The keys of a merge request that are `null` until it is merged: the recordings hold merged ones only, and
/// merge_request.json allows `null` for each (`merged_by`, `merge_user`: user/basic.json, an object or null;
/// `merged_at`, `merge_commit_sha`: a string or null); a description may be `null` too (merge_request.json).
const MR_NOT_MERGED: &[(&str, &str)] = &[
    (
        "merged_by",
        "null until merged (merge_request.json: user/basic.json, an object or null)",
    ),
    (
        "merge_user",
        "null until merged (merge_request.json: user/basic.json, an object or null)",
    ),
    (
        "merged_at",
        "null until merged (merge_request.json: a string or null)",
    ),
    (
        "merge_commit_sha",
        "null until merged (merge_request.json: a string or null)",
    ),
    ("description", "merge_request.json: a string or null"),
];

/// The GitLab endpoints flowlake calls (`src/gitlab/source.rs`), with the parameters GitLab documents for
/// each in gitlabhq/gitlabhq `doc/api/<page>.md` and the pagination parameters of `doc/api/rest/index.md`.
pub static GITLAB: &[Endpoint] = &[
    Endpoint {
        name: "group projects",
        method: "GET",
        path: "/api/v4/groups/{group}/projects",
        requires: &[],
        query: &[
            ("include_subgroups", Check::Bool),
            ("with_shared", Check::Bool),
            ("archived", Check::Bool),
            (
                "order_by",
                Check::OneOf(&[
                    "id",
                    "name",
                    "path",
                    "created_at",
                    "updated_at",
                    "similarity",
                    "star_count",
                    "last_activity_at",
                ]),
            ),
            SORT,
            PER_PAGE,
            PAGE,
        ],
        documented: "doc/api/groups.md, List a group's projects",
        recording: None,
        schema: None,
        may_omit: &[],
        also_null: &[],
        any: &[],
        extra: &[],
    },
    Endpoint {
        name: "issues",
        method: "GET",
        path: "/api/v4/projects/{project}/issues",
        requires: &[],
        query: &[
            (
                "order_by",
                Check::OneOf(&[
                    "created_at",
                    "updated_at",
                    "priority",
                    "due_date",
                    "relative_position",
                    "label_priority",
                    "milestone_due",
                    "popularity",
                    "weight",
                    "title",
                ]),
            ),
            SORT,
            PER_PAGE,
            PAGE,
            UPDATED_AFTER,
            ("pagination", Check::OneOf(&["keyset"])),
            ("cursor", Check::Text),
        ],
        documented: "doc/api/issues.md, List project issues; keyset pagination: doc/api/rest/index.md",
        recording: Some("gitlab/recorded/issues.json"),
        schema: Some(("issue.json", Applies::Each)),
        may_omit: &[],
        also_null: &[(
            "description",
            "issue.json: a string or null; airbyte's recorded gitlab.com issues have `description: null`",
        )],
        any: &[],
        extra: &[],
    },
    Endpoint {
        name: "merge requests",
        method: "GET",
        path: "/api/v4/projects/{project}/merge_requests",
        requires: &[],
        query: &[
            (
                "order_by",
                Check::OneOf(&["created_at", "updated_at", "merged_at", "title"]),
            ),
            SORT,
            PER_PAGE,
            PAGE,
            UPDATED_AFTER,
        ],
        documented: "doc/api/merge_requests.md, List project merge requests",
        recording: Some("gitlab/recorded/merge_requests.json"),
        schema: Some(("merge_request.json", Applies::Each)),
        may_omit: &[],
        also_null: MR_NOT_MERGED,
        any: &[],
        extra: &[],
    },
    Endpoint {
        name: "deployments",
        method: "GET",
        path: "/api/v4/projects/{project}/deployments",
        requires: &[],
        query: &[
            (
                "order_by",
                Check::OneOf(&["id", "iid", "created_at", "updated_at", "finished_at", "ref"]),
            ),
            SORT,
            PER_PAGE,
            PAGE,
            UPDATED_AFTER,
        ],
        documented: "doc/api/deployments.md, List project deployments",
        recording: Some("gitlab/recorded/deployments.json"),
        schema: Some(("deployment.json", Applies::Each)),
        may_omit: &[("user.locked", NO_LOCKED)],
        also_null: &[(
            "deployable",
            "doc/api/deployments.md: a deployment created through the API has `deployable: null`, and \
             deployment.json allows it",
        )],
        any: &[],
        extra: &[],
    },
    Endpoint {
        name: "pipelines",
        method: "GET",
        path: "/api/v4/projects/{project}/pipelines",
        requires: &[],
        query: &[
            (
                "order_by",
                Check::OneOf(&["id", "status", "ref", "updated_at", "user_id"]),
            ),
            SORT,
            PER_PAGE,
            PAGE,
            UPDATED_AFTER,
        ],
        documented: "doc/api/pipelines.md, List project pipelines",
        recording: Some("gitlab/recorded/pipelines.json"),
        schema: Some(("pipelines.json", Applies::Body)),
        may_omit: &[],
        also_null: &[],
        any: &[],
        extra: &[],
    },
    Endpoint {
        name: "notes",
        method: "GET",
        path: "/api/v4/projects/{project}/{kind}/{iid}/notes",
        requires: &[],
        query: &[
            ("sort", Check::OneOf(&["asc", "desc"])),
            ("order_by", Check::OneOf(&["created_at", "updated_at"])),
            PER_PAGE,
            PAGE,
        ],
        documented: "doc/api/notes.md, List project issue notes / List all merge request notes",
        recording: Some("gitlab/recorded/notes.json"),
        schema: Some(("notes.json", Applies::Body)),
        may_omit: &[],
        also_null: &[],
        any: &[],
        extra: &[],
    },
    Endpoint {
        name: "resource state events",
        method: "GET",
        path: "/api/v4/projects/{project}/{kind}/{iid}/resource_state_events",
        requires: &[],
        query: &[PER_PAGE, PAGE],
        documented: "doc/api/resource_state_events.md (paginated as doc/api/rest/index.md says)",
        recording: Some("gitlab/recorded/resource_state_events.json"),
        schema: None,
        may_omit: &[],
        also_null: &[],
        any: &[],
        extra: &[],
    },
    Endpoint {
        name: "resource label events",
        method: "GET",
        path: "/api/v4/projects/{project}/{kind}/{iid}/resource_label_events",
        requires: &[],
        query: &[PER_PAGE, PAGE],
        documented: "doc/api/resource_label_events.md (paginated as doc/api/rest/index.md says)",
        recording: Some("gitlab/recorded/resource_label_events.json"),
        schema: None,
        may_omit: &[],
        also_null: &[],
        any: &[],
        extra: &[],
    },
];
