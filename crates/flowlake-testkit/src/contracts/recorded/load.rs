//! Loading a contract: each vendor's endpoints with their recordings read into shapes and their schemas
//! compiled, once ([`gitlab`], [`yandex_tracker`]), from the fixture files compiled into the crate.

use std::sync::{Arc, LazyLock};

use serde_json::Value;

use super::gitlab_endpoints::GITLAB;
use super::gitlab_schema::gitlab_validator;
use super::response::Node;
use super::tracker_endpoints::{tracker_headers, TRACKER};
use super::{Contract, Endpoint, HeaderCheck, Loaded};

impl Contract {
    fn load(name: &'static str, endpoints: &'static [Endpoint], headers: HeaderCheck) -> Self {
        let endpoints = endpoints
            .iter()
            .map(|endpoint| {
                let shape = endpoint.recording.map(|file| {
                    let items = recorded(file);
                    let mut node = Node::default();
                    node.absorb(&items);
                    node
                });
                let validator = endpoint
                    .schema
                    .map(|(file, _)| Arc::new(gitlab_validator(file)));
                Loaded {
                    endpoint,
                    shape,
                    validator,
                }
            })
            .collect();
        Self {
            name,
            endpoints,
            headers,
        }
    }

    /// Whose contract this is.
    pub fn name(&self) -> &'static str {
        self.name
    }

    pub(super) fn loaded(&self, endpoint: &Endpoint) -> Option<&Loaded> {
        self.endpoints
            .iter()
            .find(|l| std::ptr::eq(l.endpoint, endpoint))
    }
}

static GITLAB_CONTRACT: LazyLock<Contract> =
    LazyLock::new(|| Contract::load("GitLab REST v4", GITLAB, |_| Vec::new()));
static TRACKER_CONTRACT: LazyLock<Contract> =
    LazyLock::new(|| Contract::load("Yandex Tracker API v2", TRACKER, tracker_headers));

/// GitLab's contract, loaded once.
pub fn gitlab() -> &'static Contract {
    &GITLAB_CONTRACT
}

/// Yandex Tracker's contract, loaded once.
pub fn yandex_tracker() -> &'static Contract {
    &TRACKER_CONTRACT
}

/// A recorded answer (a fixture is part of the source tree: one that does not parse is a broken build).
pub(super) fn recorded(file: &str) -> Value {
    let text = fixture(file).unwrap_or_else(|| panic!("no recorded answer {file}"));
    serde_json::from_str(text).unwrap_or_else(|e| panic!("recorded answer {file} is not JSON: {e}"))
}

/// The fixture files, compiled in so the fakes need no path at run time.
pub(super) fn fixture(file: &str) -> Option<&'static str> {
    macro_rules! files {
        ($($name:literal),* $(,)?) => {
            match file {
                $($name => Some(include_str!(concat!("../../../fixtures/", $name))),)*
                _ => None,
            }
        };
    }
    files!(
        "gitlab/recorded/issues.json",
        "gitlab/recorded/merge_requests.json",
        "gitlab/recorded/notes.json",
        "gitlab/recorded/deployments.json",
        "gitlab/recorded/pipelines.json",
        "gitlab/recorded/resource_state_events.json",
        "gitlab/recorded/resource_label_events.json",
        "gitlab/schemas/issue.json",
        "gitlab/schemas/merge_request.json",
        "gitlab/schemas/milestone.json",
        "gitlab/schemas/notes.json",
        "gitlab/schemas/deployment.json",
        "gitlab/schemas/job.json",
        "gitlab/schemas/pipelines.json",
        "gitlab/schemas/pipeline/basic.json",
        "gitlab/schemas/user/basic.json",
        "gitlab/schemas/commit/basic.json",
        "gitlab/schemas/artifact.json",
        "gitlab/schemas/artifact_file.json",
        "gitlab/schemas/runner.json",
        "gitlab/schemas/runner_manager.json",
        "yandex_tracker/recorded/issues.json",
        "yandex_tracker/recorded/changelog.json",
        "yandex_tracker/recorded/comments.json",
        "yandex_tracker/recorded/worklog.json",
        "yandex_tracker/recorded/users.json",
    )
}
