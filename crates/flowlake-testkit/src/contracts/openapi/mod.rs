//! The vendors' REST contracts (OpenAPI 3.0): a request is matched to an operation of the vendor's published
//! document and its query checked against the operation's declared parameters ([`check_request`]), and an
//! answer's body is validated against the operation's response schema for its status ([`check_response`]).
//! The fakes run both on every REST exchange, so neither flowlake's requests nor the fakes' answers can drift
//! from what the vendor documents.
//!
//! OpenAPI 3.0's schema dialect is not JSON Schema; each schema is translated before it is compiled: a
//! `nullable: true` schema becomes `anyOf: [{type: null}, <schema>]`, the `#/components/...` it refers to are
//! copied next to it (so only what one operation's answer needs is compiled), and it is compiled with Draft 4
//! semantics (3.0's `exclusiveMinimum` is a boolean, as in Draft 4). Validators are compiled on first use, one
//! per operation and status, and kept.
//!
//! Each document is read once per process ([`github`], [`jira`]), with the documented corrections its
//! vendor's real answers need (see [`Options`] and each `patch_*` function).

mod request;
mod response;
mod spec;
mod vendors;

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};

use jsonschema::Validator;
use serde_json::Value;

use request::Route;

pub use request::check_request;
pub use response::check_response;
pub use vendors::{github, jira, GITHUB, JIRA};

/// The most validation errors reported for one body; past it, a count.
const MAX_ERRORS: usize = 25;

/// One operation of a document: what [`check_request`] matched and [`check_response`] validates against.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OperationId {
    /// The document's `operationId` (`issues/list-for-repo`, `getChangeLogs`).
    pub id: String,
    /// The path template it is declared under (`/repos/{owner}/{repo}/issues`).
    pub path: String,
    /// The method, lower case, as the document keys it (`get`).
    pub method: String,
}

impl fmt::Display for OperationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} ({} {})",
            self.id,
            self.method.to_uppercase(),
            self.path
        )
    }
}

/// How a vendor's document is read: which file, which requests map onto which paths, and the corrections
/// its real answers need. Each is a documented difference between the document and the vendor's server.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Whose contract it is, for messages (`GitHub REST`).
    pub name: &'static str,
    /// The document, relative to [`super::dir`].
    pub file: &'static str,
    /// Base paths a server may serve the document's paths under (GitHub Enterprise Server's `/api/v3`).
    pub prefixes: &'static [&'static str],
    /// Path starts checked as another (`/rest/api/2/` as `/rest/api/3/`: Jira Server's v2 against Cloud's v3
    /// document, which has the same shapes for the operations flowlake uses).
    pub aliases: &'static [(&'static str, &'static str)],
    /// Every property of every object may be null, whatever the document says: Atlassian's schemas mark
    /// nothing `nullable`, while real Jira answers carry nulls everywhere (`from`, `to` of a changelog item,
    /// an unassigned `assignee`).
    pub all_nullable: bool,
    /// `format: date-time` also accepts an offset without a colon (`2024-01-15T10:30:00.000+0300`), which is
    /// how Jira writes every time, its own documents' examples included; RFC 3339 requires `+03:00`.
    pub offset_without_colon: bool,
    /// Corrections applied to the parsed document before use.
    pub patch: fn(&mut Value),
}

/// A parsed OpenAPI 3.0 document with its compiled validators.
pub struct Spec {
    options: Options,
    doc: Value,
    routes: Vec<Route>,
    validators: Mutex<HashMap<String, Arc<Validator>>>,
}

impl fmt::Debug for Spec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Spec")
            .field("name", &self.options.name)
            .field("routes", &self.routes.len())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::request::decode;
    use super::vendors::jira_date_time;
    use super::*;

    /// A small document with what the checks need: a templated path, an enum, a bounded integer, a required
    /// parameter, a required property and a nullable one.
    const DOC: &str = r##"{
      "openapi": "3.0.3",
      "paths": {
        "/repos/{owner}/{repo}/issues": {"get": {
          "operationId": "issues/list-for-repo",
          "parameters": [
            {"$ref": "#/components/parameters/owner"},
            {"name": "repo", "in": "path", "required": true, "schema": {"type": "string"}},
            {"name": "state", "in": "query", "schema": {"type": "string", "enum": ["open", "closed", "all"]}},
            {"name": "per_page", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 100}},
            {"name": "q", "in": "query", "required": true, "schema": {"type": "string"}}
          ],
          "responses": {"200": {"description": "", "content": {"application/json": {"schema":
            {"type": "array", "items": {"$ref": "#/components/schemas/issue"}}}}}}
        }},
        "/repos/{owner}/{repo}/issues/events": {"get": {"operationId": "issues/list-events-for-repo",
          "responses": {"default": {"description": ""}}}}
      },
      "components": {
        "parameters": {"owner": {"name": "owner", "in": "path", "required": true, "schema": {"type": "string"}}},
        "schemas": {
          "issue": {"type": "object", "required": ["number", "closed_at"], "properties": {
            "number": {"type": "integer"},
            "closed_at": {"type": "string", "format": "date-time", "nullable": true},
            "user": {"$ref": "#/components/schemas/user"}}},
          "user": {"type": "object", "required": ["login"], "properties": {"login": {"type": "string"}}}
        }
      }
    }"##;

    fn spec(all_nullable: bool) -> Spec {
        Spec::parse(
            Options {
                name: "test",
                file: "test.json",
                all_nullable,
                ..GITHUB
            },
            DOC,
        )
    }

    #[test]
    fn a_request_with_an_undeclared_parameter_is_refused() {
        let s = spec(false);
        let errors =
            check_request(&s, "GET", "/repos/acme/app/issues?q=x&sort=updated").unwrap_err();
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(errors[0].contains("`sort` is not declared"), "{errors:?}");
    }

    #[test]
    fn a_request_with_a_value_outside_its_schema_or_without_a_required_parameter_is_refused() {
        let s = spec(false);
        let errors = check_request(
            &s,
            "GET",
            "/repos/acme/app/issues?state=any&per_page=500&q=x",
        )
        .unwrap_err();
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert!(errors[0].contains("`per_page=500`"), "{errors:?}");
        assert!(errors[1].contains("`state=any`"), "{errors:?}");
        let errors = check_request(&s, "GET", "/repos/acme/app/issues?per_page=ten").unwrap_err();
        assert!(
            errors
                .iter()
                .any(|e| e.contains("\"ten\" is not of type \"integer\"")),
            "{errors:?}"
        );
        assert!(
            errors
                .iter()
                .any(|e| e.contains("required query parameter `q` is missing")),
            "{errors:?}"
        );
    }

    #[test]
    fn a_request_is_matched_to_its_most_specific_path_under_a_base_path() {
        let s = spec(false);
        let op = check_request(
            &s,
            "get",
            "http://127.0.0.1:9/api/v3/repos/acme/my%20app/issues?state=all&per_page=100&q=a+b",
        )
        .unwrap();
        assert_eq!(op.id, "issues/list-for-repo");
        let op = check_request(&s, "GET", "/repos/acme/app/issues/events").unwrap();
        assert_eq!(
            op.id, "issues/list-events-for-repo",
            "a literal beats {{param}}"
        );
        assert!(check_request(&s, "POST", "/repos/acme/app/issues?q=x").is_err());
        assert!(check_request(&s, "GET", "/repos/acme/issues").is_err());
    }

    #[test]
    fn a_body_missing_a_required_field_is_refused() {
        let s = spec(false);
        let op = check_request(&s, "GET", "/repos/a/b/issues?q=x").unwrap();
        let errors = check_response(&s, &op, 200, &json!([{"number": 1}])).unwrap_err();
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(
            errors[0].contains("/0: \"closed_at\" is a required property"),
            "{errors:?}"
        );
        let errors = check_response(
            &s,
            &op,
            200,
            &json!([{"number": 1, "closed_at": null, "user": {}}]),
        )
        .unwrap_err();
        assert!(
            errors[0].contains("/0/user: \"login\" is a required property"),
            "a referenced schema is checked too: {errors:?}"
        );
    }

    #[test]
    fn a_nullable_field_set_to_null_passes_and_a_wrong_type_or_format_does_not() {
        let s = spec(false);
        let op = check_request(&s, "GET", "/repos/a/b/issues?q=x").unwrap();
        check_response(&s, &op, 200, &json!([{"number": 1, "closed_at": null}])).unwrap();
        check_response(
            &s,
            &op,
            200,
            &json!([{"number": 1, "closed_at": "2026-01-05T09:00:00Z"}]),
        )
        .unwrap();
        let errors = check_response(
            &s,
            &op,
            200,
            &json!([{"number": "1", "closed_at": "yesterday"}]),
        )
        .unwrap_err();
        assert_eq!(errors.len(), 2, "{errors:?}");
        let errors = check_response(
            &s,
            &op,
            200,
            &json!([{"number": 1, "closed_at": null, "user": {"login": null}}]),
        )
        .unwrap_err();
        assert!(
            errors[0].contains("/0/user/login"),
            "not nullable: {errors:?}"
        );
        let lenient = spec(true);
        check_response(
            &lenient,
            &op,
            200,
            &json!([{"number": 1, "closed_at": null, "user": {"login": null}}]),
        )
        .unwrap();
    }

    #[test]
    fn an_undeclared_status_is_refused_and_a_declared_one_without_content_passes() {
        let s = spec(false);
        let op = check_request(&s, "GET", "/repos/a/b/issues?q=x").unwrap();
        assert!(check_response(&s, &op, 201, &json!([])).is_err());
        let events = check_request(&s, "GET", "/repos/a/b/issues/events").unwrap();
        check_response(&s, &events, 200, &json!({"anything": 1})).unwrap();
    }

    #[test]
    fn jira_times_with_an_offset_without_a_colon_are_date_times() {
        assert!(jira_date_time("2024-01-15T10:30:00.000+0300"));
        assert!(jira_date_time("2024-01-15T10:30:00+03:00"));
        assert!(!jira_date_time("2024-01-15 10:30"));
    }

    #[test]
    fn percent_decoding_keeps_what_is_not_an_escape() {
        assert_eq!(decode("a%20b%2Fc"), "a b/c");
        assert_eq!(decode("100%"), "100%");
        assert_eq!(decode("%zz"), "%zz");
        assert_eq!(decode("%D0%9E"), "О");
    }

    /// The document's own example answer of `path` (GET) for `status`: `examples.default` (GitHub, a
    /// reference to `components/examples`) or `example` (Jira, JSON inside a string).
    fn example(spec: &Spec, path: &str, status: &str) -> Value {
        let media =
            &spec.doc["paths"][path]["get"]["responses"][status]["content"]["application/json"];
        if let Some(text) = media["example"].as_str() {
            return serde_json::from_str(text).unwrap();
        }
        spec.resolve(&media["examples"]["default"])["value"].clone()
    }

    #[test]
    fn githubs_own_examples_pass_its_contract_and_the_requests_flowlake_sends_match_operations() {
        let s = github();
        for (url, id, path) in [
            (
                "/repos/acme/repo-00/issues?state=all&sort=updated&direction=desc&per_page=1",
                "issues/list-for-repo",
                "/repos/{owner}/{repo}/issues",
            ),
            (
                "/repos/acme/repo-00/deployments?per_page=1",
                "repos/list-deployments",
                "/repos/{owner}/{repo}/deployments",
            ),
            (
                "/repos/acme/repo-00/releases?per_page=1",
                "repos/list-releases",
                "/repos/{owner}/{repo}/releases",
            ),
            (
                "/orgs/acme/members?per_page=100",
                "orgs/list-members",
                "/orgs/{org}/members",
            ),
            (
                "/api/v3/orgs/acme/repos?type=all&sort=created&direction=desc&per_page=100&page=2",
                "repos/list-for-org",
                "/orgs/{org}/repos",
            ),
        ] {
            let op = check_request(s, "GET", url).unwrap_or_else(|e| panic!("{url}: {e:#?}"));
            assert_eq!(op.id, id);
            check_response(s, &op, 200, &example(s, path, "200"))
                .unwrap_or_else(|e| panic!("{id}: {e:#?}"));
        }
        let errors = check_request(s, "GET", "/orgs/acme/members?per_page=101").unwrap_err();
        assert!(
            errors[0].contains("101 is greater than the maximum of 100"),
            "{errors:?}"
        );
    }

    #[test]
    fn jiras_changelog_example_needs_to_string_added_and_every_property_nullable() {
        let text = super::super::read(JIRA.file);
        let path = "/rest/api/3/issue/{issueIdOrKey}/changelog";
        let body = |s: &Spec| example(s, path, "200");
        let check = |s: &Spec| {
            let op = check_request(
                s,
                "GET",
                "/rest/api/3/issue/CORE-1/changelog?startAt=0&maxResults=100",
            )
            .unwrap();
            check_response(s, &op, 200, &body(s))
        };
        check(jira()).unwrap();
        let unpatched = Spec::parse(
            Options {
                patch: |_| {},
                ..JIRA
            },
            &text,
        );
        let errors = check(&unpatched).unwrap_err();
        assert!(
            errors.iter().all(|e| e.contains("toString")),
            "only the missing `toString` breaks Atlassian's own example: {errors:#?}"
        );
        let strict = Spec::parse(
            Options {
                all_nullable: false,
                ..JIRA
            },
            &text,
        );
        let errors = check(&strict).unwrap_err();
        assert!(
            errors
                .iter()
                .any(|e| e.contains("null is not of type \"string\"")),
            "Atlassian's own example carries `from: null`: {errors:#?}"
        );
    }

    #[test]
    fn jira_cloud_search_jql_and_server_v2_paths_are_checked_against_the_v3_document() {
        let s = jira();
        let jql = "project%20in%20(%22CORE%22)%20ORDER%20BY%20updated%20ASC";
        let op = check_request(
            s,
            "GET",
            &format!("/rest/api/3/search/jql?jql={jql}&maxResults=50&fields=*navigable,worklog&expand=changelog&nextPageToken=tok-50"),
        )
        .unwrap();
        assert_eq!(op.id, "searchAndReconsileIssuesUsingJql");
        let issue = json!({"id": "10000", "key": "CORE-1", "self": "https://acme.atlassian.net/rest/api/3/issue/10000",
            "fields": {"status": {"name": "Open"}},
            "changelog": {"startAt": 0, "maxResults": 1, "total": 1, "histories": [{"id": "1", "created": "2026-02-02T10:00:00.000+0300",
                "items": [{"field": "status", "fieldtype": "jira", "fieldId": "status", "from": "1", "fromString": "Open", "to": "3", "toString": "В работе"}]}]}});
        check_response(s, &op, 200, &json!({"issues": [issue], "isLast": true})).unwrap();
        let mut bad = issue.clone();
        bad["changelog"]["histories"][0]["items"][0]["fromString"] = json!(1);
        let errors = check_response(s, &op, 200, &json!({"issues": [bad]})).unwrap_err();
        assert!(
            errors[0].contains("/issues/0/changelog/histories/0/items/0/fromString"),
            "each issue is checked against IssueBean: {errors:?}"
        );
        let errors = check_request(s, "GET", "/rest/api/3/search/jql?jql=x&startAt=0").unwrap_err();
        assert!(
            errors[0].contains("`startAt` is not declared"),
            "{errors:?}"
        );

        let op = check_request(
            s,
            "GET",
            &format!("/rest/api/2/search?jql={jql}&startAt=40&maxResults=40&fields=*navigable&expand=changelog"),
        )
        .unwrap();
        assert_eq!(op.id, "searchForIssuesUsingJql");
        let op = check_request(
            s,
            "GET",
            "/rest/api/2/issue/CORE-1?fields=none&expand=changelog",
        )
        .unwrap();
        assert_eq!(op.id, "getIssue");
    }
}
