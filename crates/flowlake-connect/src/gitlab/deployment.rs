//! GitLab deployments and pipelines into the delivery side of the model ([`Deployment`], [`Pipeline`]), for
//! DORA metrics: what reached which environment when, and how builds went.

use chrono::{DateTime, Utc};
use flowlake_core::{qualified_id, Deployment, Pipeline};
use serde::Deserialize;
use serde_json::Value;

/// An environment reference.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct EnvironmentRef {
    /// Name (`production`, `staging`, `review/fix-42`).
    pub name: String,
}

/// The job that ran a deployment.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Deployable {
    /// When the job finished: `null` for a job that never ran (`skipped`, `canceled` before it started).
    #[serde(default)]
    pub finished_at: Option<DateTime<Utc>>,
}

/// A deployment as `/projects/:id/deployments` lists it.
///
/// The fields are GitLab's `API::Entities::Deployment` (gitlabhq/gitlabhq `lib/api/entities/deployment.rb`:
/// id, iid, ref, sha, created_at, updated_at, user, environment, deployable, status). There is no top-level
/// `finished_at`: a deployment finishes when its job does. `deployable` is `null` for a deployment created
/// through the API (`doc/api/deployments.md`, whose create and update examples also leave out `updated_at`), and
/// the job's `finished_at` is `null` when it never ran (apache/incubator-devlake
/// `backend/plugins/gitlab/e2e/raw_tables/_raw_gitlab_api_deployments.csv`, a `skipped` job). Everything but
/// the id and the status may therefore be missing or `null`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct GitlabDeployment {
    /// Global id.
    pub id: i64,
    /// Deployed commit.
    #[serde(default)]
    pub sha: Option<String>,
    /// `created`, `running`, `success`, `failed`, `canceled`, `skipped`, `blocked`.
    pub status: String,
    /// Creation.
    #[serde(default)]
    pub created_at: Option<DateTime<Utc>>,
    /// Last update.
    #[serde(default)]
    pub updated_at: Option<DateTime<Utc>>,
    /// Target environment.
    #[serde(default)]
    pub environment: Option<EnvironmentRef>,
    /// The job that ran it; `null` for deployments created through the API.
    #[serde(default)]
    pub deployable: Option<Deployable>,
}

impl GitlabDeployment {
    /// The time its changes are read by: the last update, else the creation.
    pub fn changed_at(&self) -> Option<DateTime<Utc>> {
        self.updated_at.or(self.created_at)
    }
}

/// A pipeline as `/projects/:id/pipelines` lists it.
///
/// `updated_at` is `null` on real pipelines (apache/incubator-devlake
/// `backend/plugins/gitlab/e2e/raw_tables/_raw_gitlab_api_pipeline.csv`, pipelines 457474837 and 457475337,
/// `running`, source `external`); ordering and the cursor then use `created_at`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct GitlabPipeline {
    /// Global id.
    pub id: i64,
    /// Commit.
    #[serde(default)]
    pub sha: Option<String>,
    /// Branch or tag.
    #[serde(default, rename = "ref")]
    pub git_ref: Option<String>,
    /// `created`, `pending`, `running`, `success`, `failed`, `canceled`, `skipped`, `manual`, …
    pub status: String,
    /// What started it: `push`, `merge_request_event`, `schedule`, `web`, `external`, …
    #[serde(default)]
    pub source: Option<String>,
    /// Creation.
    #[serde(default)]
    pub created_at: Option<DateTime<Utc>>,
    /// Last update; `null` on some real pipelines.
    #[serde(default)]
    pub updated_at: Option<DateTime<Utc>>,
    /// Web URL.
    #[serde(default)]
    pub web_url: Option<String>,
}

/// The landed record of a deployment or pipeline: the project it belongs to and the object as listed.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct DeliveryRecord<T> {
    /// `group/project`.
    pub project: String,
    /// The object.
    pub item: T,
}

/// GitLab's deployment status in the words GitHub's deployments use, so DORA queries read one vocabulary.
fn deployment_status(s: &str) -> String {
    match s {
        "failed" => "failure",
        "running" => "in_progress",
        "created" => "pending",
        other => other,
    }
    .to_string()
}

/// What a delivery record lacks that a row needs.
const NO_TIME: &str = "neither `created_at` nor `updated_at` is set";

/// Normalizes one deployment; it was created at `created_at` (else its last update), and finished when its
/// job did (`deployable.finished_at`), else — once in a final state — at its last update (else its
/// creation). A deployment without any time is an error naming the fields.
pub fn normalize_deployment(
    source: &str,
    r: &DeliveryRecord<GitlabDeployment>,
) -> Result<Deployment, String> {
    let d = &r.item;
    let final_state = matches!(d.status.as_str(), "success" | "failed" | "canceled");
    let created_at = d.created_at.or(d.updated_at).ok_or(NO_TIME)?;
    Ok(Deployment {
        id: qualified_id(source, &format!("{}/deployments/{}", r.project, d.id)),
        source: source.to_string(),
        service: r.project.clone(),
        environment: d
            .environment
            .as_ref()
            .map_or_else(|| "production".into(), |e| e.name.clone()),
        commit_sha: d.sha.clone(),
        status: deployment_status(&d.status),
        created_at,
        finished_at: d
            .deployable
            .as_ref()
            .and_then(|j| j.finished_at)
            .or(final_state.then(|| d.changed_at()).flatten()),
    })
}

/// Normalizes one pipeline; without `updated_at` it reads as updated when created (and the reverse). A
/// pipeline without any time is an error naming the fields.
pub fn normalize_pipeline(
    source: &str,
    r: &DeliveryRecord<GitlabPipeline>,
) -> Result<Pipeline, String> {
    let p = &r.item;
    let created_at = p.created_at.or(p.updated_at).ok_or(NO_TIME)?;
    Ok(Pipeline {
        id: qualified_id(source, &format!("{}/pipelines/{}", r.project, p.id)),
        source: source.to_string(),
        project: r.project.clone(),
        git_ref: p.git_ref.clone(),
        commit_sha: p.sha.clone(),
        status: p.status.clone(),
        trigger: p.source.clone(),
        created_at,
        updated_at: p.updated_at.unwrap_or(created_at),
        url: p.web_url.clone(),
    })
}

/// The record a source lands for one deployment or pipeline.
pub fn delivery_payload(project: &str, item: Value) -> Value {
    serde_json::json!({"project": project, "item": item})
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn secs(t: Option<DateTime<Utc>>) -> Option<String> {
        t.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
    }

    #[test]
    fn deployments_speak_githubs_status_words_and_finish_when_their_job_does() {
        let cases = [
            // (status, job's finish (None: no job), expected status, expected finish)
            (
                "success",
                Some(Some("2026-03-03T10:05:00Z")),
                "success",
                Some("2026-03-03T10:05:00Z"),
            ),
            (
                "failed",
                Some(Some("2026-03-03T10:04:00Z")),
                "failure",
                Some("2026-03-03T10:04:00Z"),
            ),
            // A job that never ran, and a deployment created through the API (no job): the last update.
            (
                "canceled",
                Some(None),
                "canceled",
                Some("2026-03-03T10:09:00Z"),
            ),
            ("success", None, "success", Some("2026-03-03T10:09:00Z")),
            ("running", Some(None), "in_progress", None),
            ("created", None, "pending", None),
        ];
        for (status, job, want_status, want_fin) in cases {
            let deployable = job.map(|fin| json!({"id": 9, "status": status, "finished_at": fin}));
            let r: DeliveryRecord<GitlabDeployment> = serde_json::from_value(json!({
                "project": "acme/api",
                "item": {"id": 41, "iid": 3, "ref": "main", "sha": "abc123", "status": status,
                         "created_at": "2026-03-03T10:00:00Z", "updated_at": "2026-03-03T10:09:00Z",
                         "environment": {"id": 1, "name": "production"}, "deployable": deployable}
            }))
            .unwrap();
            let d = normalize_deployment("gl", &r).unwrap();
            assert_eq!(d.id, "gl:acme/api/deployments/41");
            assert_eq!(d.status, want_status, "{status}");
            assert_eq!(
                secs(d.finished_at),
                want_fin.map(str::to_string),
                "{status} {job:?}"
            );
        }
    }

    /// `doc/api/deployments.md` (gitlabhq/gitlabhq), "Create a deployment": the answer has no `updated_at`
    /// and `deployable: null`.
    #[test]
    fn a_deployment_created_through_the_api_without_a_job_or_updated_at_is_read() {
        let r: DeliveryRecord<GitlabDeployment> = serde_json::from_value(json!({
            "project": "acme/api",
            "item": {"id": 42, "iid": 2, "ref": "main", "sha": "a91957a858320c0e17f3a0eca7cfacbff50ea29a",
                     "created_at": "2016-08-11T11:32:35.444Z", "status": "success",
                     "user": {"name": "Administrator", "username": "root", "id": 1, "state": "active"},
                     "environment": {"id": 9, "name": "production", "external_url": "https://about.gitlab.com"},
                     "deployable": null}
        }))
        .unwrap();
        let d = normalize_deployment("gl", &r).unwrap();
        assert_eq!(
            (secs(Some(d.created_at)), secs(d.finished_at)),
            (
                Some("2016-08-11T11:32:35Z".into()),
                Some("2016-08-11T11:32:35Z".into())
            )
        );
    }

    #[test]
    fn pipelines_keep_ref_trigger_and_times() {
        let r: DeliveryRecord<GitlabPipeline> = serde_json::from_value(json!({
            "project": "acme/api",
            "item": {"id": 77, "iid": 12, "project_id": 1, "sha": "abc", "ref": "main", "status": "failed",
                     "source": "push", "created_at": "2026-03-03T10:00:00Z", "updated_at": "2026-03-03T10:12:00Z",
                     "web_url": "https://gitlab.example.com/acme/api/-/pipelines/77"}
        }))
        .unwrap();
        let p = normalize_pipeline("gl", &r).unwrap();
        assert_eq!(
            (
                p.id.as_str(),
                p.git_ref.as_deref(),
                p.trigger.as_deref(),
                p.status.as_str()
            ),
            (
                "gl:acme/api/pipelines/77",
                Some("main"),
                Some("push"),
                "failed"
            )
        );
    }

    /// Pipeline 457474837 as recorded in apache/incubator-devlake
    /// `backend/plugins/gitlab/e2e/raw_tables/_raw_gitlab_api_pipeline.csv` (row 152).
    #[test]
    fn a_pipeline_without_updated_at_reads_as_updated_when_created() {
        let r: DeliveryRecord<GitlabPipeline> = serde_json::from_value(json!({
            "project": "merico-dev/ee/charts",
            "item": {"id": 457474837, "iid": 1, "project_id": 12345678,
                     "sha": "b1b82852d48b516a18e56c5bab0ebf54b8f4ccfd", "ref": "renovate/pin-dependencies",
                     "status": "running", "source": "external", "created_at": "2022-01-27T10:07:09.429Z",
                     "updated_at": null, "web_url": "https://gitlab.com/merico-dev/ee/charts/-/pipelines/457474837"}
        }))
        .unwrap();
        let p = normalize_pipeline("gl", &r).unwrap();
        assert_eq!(p.updated_at, p.created_at);
        assert_eq!(p.trigger.as_deref(), Some("external"));
    }

    #[test]
    fn a_delivery_record_without_any_time_names_the_fields() {
        let r: DeliveryRecord<GitlabPipeline> = serde_json::from_value(json!({
            "project": "acme/api", "item": {"id": 1, "status": "success", "created_at": null, "updated_at": null}
        }))
        .unwrap();
        let e = normalize_pipeline("gl", &r).unwrap_err();
        assert!(e.contains("created_at") && e.contains("updated_at"), "{e}");
    }
}
