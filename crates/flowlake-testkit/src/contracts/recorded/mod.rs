//! Contracts built from recorded real answers, for the vendors that publish no OpenAPI document: GitLab's REST
//! API v4 and Yandex Tracker's API v2. The recordings and their sources are in `fixtures/{gitlab,
//! yandex_tracker}/` (each folder's `SOURCES.md` names repository, path, commit and licence of every file).
//!
//! A request is matched to one of the [`Endpoint`]s flowlake is documented to call and its query checked
//! against the parameters the vendor documents for it ([`check_request`]): a parameter not listed, or a value
//! outside what the vendor accepts (`per_page` 1-100, `updated_after` ISO 8601, `perScroll` at most 1000), is
//! a breach, and so are Tracker's organization and authorization headers when missing or doubled.
//!
//! An answer is checked against the recorded answer of its endpoint ([`check_response`]): every key that every
//! recorded item has must be there, with one of the JSON types the recordings show (`null` only where a
//! recording shows `null`), and no key may appear that no recording has. Each endpoint lists, explicitly and
//! with the reason, the keys the fake may leave out ([`Endpoint::may_omit`]), the keys that may be `null`
//! beyond the recordings ([`Endpoint::also_null`]), the values whose type varies by content
//! ([`Endpoint::any`]) and the keys the vendor documents beyond the recordings ([`Endpoint::extra`]). For
//! GitLab the answer is also validated against the JSON schema GitLab's own test suite holds that entity to
//! (`spec/fixtures/api/schemas/public_api/v4`), with the corrections its recorded answers need
//! ([`patch_gitlab_schema`](gitlab_schema)).

mod gitlab_endpoints;
mod gitlab_schema;
mod load;
mod request;
mod response;
mod tracker_endpoints;

use std::fmt;
use std::sync::Arc;

use jsonschema::Validator;

use response::Node;

pub use gitlab_endpoints::GITLAB;
pub use load::{gitlab, yandex_tracker};
pub use request::check_request;
pub use response::check_response;
pub use tracker_endpoints::TRACKER;

/// The most errors reported for one answer; past it, a count.
const MAX_ERRORS: usize = 25;

/// How a query parameter's value is checked.
#[derive(Debug, Clone, Copy)]
pub enum Check {
    /// Any non-empty text (a cursor, an id).
    Text,
    /// `true` or `false`.
    Bool,
    /// An integer in the range.
    Int(i64, i64),
    /// One of the values.
    OneOf(&'static [&'static str]),
    /// An ISO 8601 date-time with an offset (`2026-03-02T09:00:00.000Z`).
    DateTime,
}

impl Check {
    fn check(self, name: &str, value: &str) -> Result<(), String> {
        let bad = |why: String| Err(format!("`{name}={value}`: {why}"));
        match self {
            Self::Text if value.is_empty() => bad("is empty".into()),
            Self::Text => Ok(()),
            Self::Bool if matches!(value, "true" | "false") => Ok(()),
            Self::Bool => bad("is neither true nor false".into()),
            Self::Int(lo, hi) => match value.parse::<i64>() {
                Ok(n) if (lo..=hi).contains(&n) => Ok(()),
                Ok(n) => bad(format!("{n} is outside {lo} to {hi}")),
                Err(_) => bad("is not an integer".into()),
            },
            Self::OneOf(values) if values.contains(&value) => Ok(()),
            Self::OneOf(values) => bad(format!("is not one of {values:?}")),
            Self::DateTime if chrono::DateTime::parse_from_rfc3339(value).is_ok() => Ok(()),
            Self::DateTime => bad("is not an ISO 8601 date-time with an offset".into()),
        }
    }
}

/// What a recorded answer's schema applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applies {
    /// The whole body.
    Body,
    /// Each item of the body's array.
    Each,
}

/// An endpoint flowlake calls, with what the vendor documents for it and what it was recorded answering.
#[derive(Debug)]
pub struct Endpoint {
    /// Short name for messages (`issues`).
    pub name: &'static str,
    /// Upper-case method.
    pub method: &'static str,
    /// Path template, `{name}` standing for one segment (`/api/v4/projects/{project}/issues`).
    pub path: &'static str,
    /// Query parameters that pick this endpoint among those of the same path (Tracker's scroll requests);
    /// they are required.
    pub requires: &'static [&'static str],
    /// Every query parameter the vendor documents for it that flowlake may send, with its check.
    pub query: &'static [(&'static str, Check)],
    /// Where the parameters are documented.
    pub documented: &'static str,
    /// The recorded answer (a JSON array of items), relative to `fixtures`.
    pub recording: Option<&'static str>,
    /// The vendor's JSON schema for the answer, relative to `fixtures/gitlab/schemas`.
    pub schema: Option<(&'static str, Applies)>,
    /// Keys of the recordings the fake may leave out, by path (`deployable.failure_reason`; `[]` for an array's
    /// items, `*.` for any depth), each with why.
    pub may_omit: &'static [(&'static str, &'static str)],
    /// Keys that may be `null` though no recording shows it, each with the vendor's word for it.
    pub also_null: &'static [(&'static str, &'static str)],
    /// Values whose type varies with their content (a changelog's `from`/`to`): not checked below that path.
    pub any: &'static [(&'static str, &'static str)],
    /// Keys the vendor documents beyond the recordings, each with where (`tags` of a Tracker issue).
    pub extra: &'static [(&'static str, &'static str)],
}

/// Checks a request's headers (asked by lower-case name) and lists the breaches.
type HeaderCheck = fn(&dyn Fn(&str) -> Option<String>) -> Vec<String>;

/// One vendor's endpoints, with its recordings loaded and its schemas compiled.
pub struct Contract {
    name: &'static str,
    endpoints: Vec<Loaded>,
    headers: HeaderCheck,
}

struct Loaded {
    endpoint: &'static Endpoint,
    shape: Option<Node>,
    validator: Option<Arc<Validator>>,
}

impl fmt::Debug for Contract {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Contract")
            .field("name", &self.name)
            .field("endpoints", &self.endpoints.len())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use jsonschema::Draft;
    use serde_json::{json, Value};

    use super::load::{fixture, recorded};
    use super::*;

    fn no_headers(_: &str) -> Option<String> {
        None
    }

    fn org(name: &str) -> Option<String> {
        (name == "x-org-id").then(|| "123".to_string())
    }

    fn endpoint(contract: &'static Contract, name: &str) -> &'static Endpoint {
        contract
            .endpoints
            .iter()
            .map(|l| l.endpoint)
            .find(|e| e.name == name)
            .expect("an endpoint of that name")
    }

    #[test]
    fn every_recording_passes_its_own_contract_and_gitlabs_corrected_schemas() {
        for (contract, _) in [(gitlab(), ()), (yandex_tracker(), ())] {
            for loaded in &contract.endpoints {
                let Some(file) = loaded.endpoint.recording else {
                    continue;
                };
                check_response(contract, loaded.endpoint, &recorded(file))
                    .unwrap_or_else(|e| panic!("{file}: {e:#?}"));
            }
        }
    }

    #[test]
    fn gitlabs_schemas_refuse_the_recordings_without_their_corrections() {
        let raw = |name: &str| -> Value {
            serde_json::from_str(fixture(&format!("gitlab/schemas/{name}")).unwrap()).unwrap()
        };
        let deployments = recorded("gitlab/recorded/deployments.json");
        let job = &deployments[0]["deployable"];
        let strict = jsonschema::options()
            .with_draft(Draft::Draft4)
            .build(&raw("artifact.json"))
            .unwrap();
        assert!(
            !strict.is_valid(&job["artifacts"][0]),
            "the recorded trace artifact has file_format: null"
        );
        let mut unpatched_job = raw("job.json");
        unpatched_job["properties"]["artifacts"] = json!({"type": "array"});
        for key in [
            "user",
            "commit",
            "pipeline",
            "artifacts_file",
            "runner",
            "runner_manager",
        ] {
            unpatched_job["properties"][key] = json!({});
        }
        let strict = jsonschema::options()
            .with_draft(Draft::Draft4)
            .build(&unpatched_job)
            .unwrap();
        let errors: Vec<String> = strict.iter_errors(job).map(|e| e.to_string()).collect();
        assert!(errors.iter().any(|e| e.contains("archived")), "{errors:?}");
        assert!(
            errors.iter().any(|e| e.contains("failure_reason")),
            "{errors:?}"
        );
    }

    #[test]
    fn an_answer_missing_a_recorded_key_or_adding_an_unrecorded_one_is_refused() {
        let c = gitlab();
        let e = endpoint(c, "pipelines");
        let mut item = recorded("gitlab/recorded/pipelines.json")[1].clone();
        check_response(c, e, &json!([item.clone()])).unwrap();
        item.as_object_mut().unwrap().remove("web_url");
        item["finished_at"] = json!("2026-01-01T00:00:00Z");
        let errors = check_response(c, e, &json!([item])).unwrap_err();
        assert!(
            errors.iter().any(|e| e.contains("web_url is missing")),
            "{errors:?}"
        );
        assert!(
            errors
                .iter()
                .any(|e| e.contains("finished_at is in no recorded answer")),
            "{errors:?}"
        );
    }

    #[test]
    fn a_null_only_where_a_recording_or_the_endpoint_allows_it() {
        let c = gitlab();
        let e = endpoint(c, "pipelines");
        let mut item = recorded("gitlab/recorded/pipelines.json")[1].clone();
        item["updated_at"] = Value::Null;
        check_response(c, e, &json!([item.clone()])).unwrap();
        item["ref"] = Value::Null;
        let errors = check_response(c, e, &json!([item])).unwrap_err();
        assert!(
            errors.iter().any(|e| e.contains("ref is null")),
            "{errors:?}"
        );

        let d = endpoint(c, "deployments");
        let mut dep = recorded("gitlab/recorded/deployments.json")[1].clone();
        dep["deployable"] = Value::Null;
        check_response(c, d, &json!([dep.clone()])).unwrap();
        dep["environment"] = Value::Null;
        assert!(check_response(c, d, &json!([dep])).is_err());
    }

    #[test]
    fn a_wrong_type_deep_in_an_item_is_refused_by_the_recording_and_the_schema() {
        let c = gitlab();
        let e = endpoint(c, "issues");
        let mut item = recorded("gitlab/recorded/issues.json")[0].clone();
        item["author"]["id"] = json!("1942272");
        let errors = check_response(c, e, &json!([item])).unwrap_err();
        assert!(
            errors.iter().any(|e| e.contains("author.id is string")),
            "{errors:?}"
        );
        assert!(
            errors
                .iter()
                .any(|e| e.contains("/author/id") && e.contains("issue.json")),
            "{errors:?}"
        );
    }

    #[test]
    fn gitlabs_schemas_follow_their_refs_to_the_entities_they_name() {
        let c = gitlab();
        let e = endpoint(c, "merge requests");
        let mut mr = recorded("gitlab/recorded/merge_requests.json")[0].clone();
        mr["merged_by"]["username"] = json!(17);
        let errors = check_response(c, e, &json!([mr])).unwrap_err();
        assert!(
            errors
                .iter()
                .any(|e| e.contains("/merged_by/username") && e.contains("merge_request.json")),
            "user/basic.json is not applied: {errors:?}"
        );
        let d = endpoint(c, "deployments");
        let mut dep = recorded("gitlab/recorded/deployments.json")[0].clone();
        dep["deployable"]["pipeline"]["id"] = json!("1");
        let errors = check_response(c, d, &json!([dep])).unwrap_err();
        // `deployable` is `oneOf` null or job.json, so the schema reports the job as a whole.
        assert!(
            errors.iter().any(|e| e.contains("item 0 /deployable:")
                && e.contains("oneOf")
                && e.contains("deployment.json")),
            "job.json and pipeline/basic.json are not applied: {errors:?}"
        );
    }

    #[test]
    fn gitlab_requests_are_held_to_the_documented_parameters() {
        let c = gitlab();
        let ok = [
            "/api/v4/groups/acme/projects?include_subgroups=true&with_shared=false&archived=false&order_by=path&sort=asc&per_page=100",
            "/api/v4/projects/acme%2Fapi/issues?order_by=updated_at&sort=asc&per_page=100&pagination=keyset&updated_after=2026-03-02T08%3A50%3A00.000Z",
            "/api/v4/projects/acme%2Fapi/merge_requests?order_by=updated_at&sort=asc&per_page=100&page=2",
            "/api/v4/projects/acme%2Fapi/pipelines?order_by=id&sort=desc&per_page=100",
            "/api/v4/projects/acme%2Fapi/issues/1/notes?per_page=100&sort=asc&order_by=created_at",
            "/api/v4/projects/acme%2Fapi/merge_requests/3/resource_label_events?per_page=100",
        ];
        for target in ok {
            check_request(c, "GET", target, &no_headers)
                .unwrap_or_else(|e| panic!("{target}: {e:?}"));
        }
        let errors = check_request(
            c,
            "GET",
            "/api/v4/projects/a%2Fb/issues?per_page=101&updated_after=yesterday&state=all",
            &no_headers,
        )
        .unwrap_err();
        assert_eq!(errors.len(), 3, "{errors:?}");
        assert!(errors[0].contains("101 is outside 1 to 100"), "{errors:?}");
        assert!(errors[1].contains("ISO 8601"), "{errors:?}");
        assert!(
            errors[2].contains("`state` is not a parameter"),
            "{errors:?}"
        );
        assert!(check_request(c, "GET", "/api/v4/projects/a%2Fb/labels", &no_headers).is_err());
        let errors = check_request(
            c,
            "GET",
            "/api/v4/groups/acme/projects?with_shared=no",
            &no_headers,
        )
        .unwrap_err();
        assert!(errors[0].contains("neither true nor false"), "{errors:?}");
    }

    #[test]
    fn tracker_scroll_requests_carry_per_scroll_only_on_the_first_and_one_organization_header() {
        let c = yandex_tracker();
        let first = check_request(
            c,
            "POST",
            "/v2/issues/_search?scrollType=sorted&perScroll=100&scrollTTLMillis=60000",
            &org,
        )
        .unwrap();
        assert_eq!(first.name, "search (scroll, first page)");
        let next = check_request(
            c,
            "POST",
            "/v2/issues/_search?scrollId=abc&scrollTTLMillis=60000",
            &org,
        )
        .unwrap();
        assert_eq!(next.name, "search (scroll, next page)");
        let errors = check_request(
            c,
            "POST",
            "/v2/issues/_search?scrollId=abc&perScroll=100&scrollTTLMillis=60000",
            &org,
        )
        .unwrap_err();
        assert!(
            errors[0].contains("`perScroll` is not a parameter"),
            "{errors:?}"
        );
        let errors = check_request(
            c,
            "POST",
            "/v2/issues/_search?scrollType=sorted&perScroll=2000",
            &org,
        )
        .unwrap_err();
        assert!(
            errors[0].contains("2000 is outside 1 to 1000"),
            "{errors:?}"
        );
        let errors = check_request(c, "GET", "/v2/statuses", &no_headers).unwrap_err();
        assert!(
            errors[0].contains("neither X-Org-ID nor X-Cloud-Org-ID"),
            "{errors:?}"
        );
        let both = |n: &str| matches!(n, "x-org-id" | "x-cloud-org-id").then(|| "1".to_string());
        assert!(check_request(c, "GET", "/v2/statuses", &both).is_err());
        let errors =
            check_request(c, "GET", "/v2/issues/DEV-1/worklog?perPage=100", &org).unwrap_err();
        assert!(
            errors[0].contains("`perPage` is not a parameter of worklog"),
            "{errors:?}"
        );
    }

    #[test]
    fn tracker_answers_may_leave_out_unset_fields_but_not_add_unrecorded_ones() {
        let c = yandex_tracker();
        let e = endpoint(c, "search (pages)");
        let mut issue = recorded("yandex_tracker/recorded/issues.json")[0].clone();
        for key in ["resolvedAt", "resolvedBy", "resolution", "assignee"] {
            issue.as_object_mut().unwrap().remove(key);
        }
        issue["tags"] = json!(["flowlake"]);
        issue["createdBy"]
            .as_object_mut()
            .unwrap()
            .remove("cloudUid");
        check_response(c, e, &json!([issue.clone()])).unwrap();
        issue.as_object_mut().unwrap().remove("queue");
        issue["sprint"] = json!([]);
        let errors = check_response(c, e, &json!([issue])).unwrap_err();
        assert!(
            errors.iter().any(|e| e.contains("queue is missing")),
            "{errors:?}"
        );
        assert!(
            errors
                .iter()
                .any(|e| e.contains("sprint is in no recorded")),
            "{errors:?}"
        );
    }
}
