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
    /// When the job finished.
    pub finished_at: Option<DateTime<Utc>>,
}

/// A deployment as `/projects/:id/deployments` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct GitlabDeployment {
    /// Global id.
    pub id: i64,
    /// Deployed commit.
    pub sha: Option<String>,
    /// `created`, `running`, `success`, `failed`, `canceled`, `skipped`, `blocked`.
    pub status: String,
    /// Creation.
    pub created_at: DateTime<Utc>,
    /// Last update.
    pub updated_at: DateTime<Utc>,
    /// Finish (newer GitLab versions).
    #[serde(default)]
    pub finished_at: Option<DateTime<Utc>>,
    /// Target environment.
    pub environment: Option<EnvironmentRef>,
    /// The job that ran it.
    #[serde(default)]
    pub deployable: Option<Deployable>,
}

/// A pipeline as `/projects/:id/pipelines` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct GitlabPipeline {
    /// Global id.
    pub id: i64,
    /// Commit.
    pub sha: Option<String>,
    /// Branch or tag.
    #[serde(rename = "ref")]
    pub git_ref: Option<String>,
    /// `created`, `pending`, `running`, `success`, `failed`, `canceled`, `skipped`, `manual`, …
    pub status: String,
    /// What started it: `push`, `merge_request_event`, `schedule`, `web`, …
    pub source: Option<String>,
    /// Creation.
    pub created_at: DateTime<Utc>,
    /// Last update.
    pub updated_at: DateTime<Utc>,
    /// Web URL.
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

/// Normalizes one deployment; it finished at `finished_at` (else its job's finish, else — once in a final
/// state — its last update).
pub fn normalize_deployment(source: &str, r: &DeliveryRecord<GitlabDeployment>) -> Deployment {
    let d = &r.item;
    let final_state = matches!(d.status.as_str(), "success" | "failed" | "canceled");
    Deployment {
        id: qualified_id(source, &format!("{}/deployments/{}", r.project, d.id)),
        source: source.to_string(),
        service: r.project.clone(),
        environment: d
            .environment
            .as_ref()
            .map_or_else(|| "production".into(), |e| e.name.clone()),
        commit_sha: d.sha.clone(),
        status: deployment_status(&d.status),
        created_at: d.created_at,
        finished_at: d
            .finished_at
            .or_else(|| d.deployable.as_ref().and_then(|j| j.finished_at))
            .or(final_state.then_some(d.updated_at)),
    }
}

/// Normalizes one pipeline.
pub fn normalize_pipeline(source: &str, r: &DeliveryRecord<GitlabPipeline>) -> Pipeline {
    let p = &r.item;
    Pipeline {
        id: qualified_id(source, &format!("{}/pipelines/{}", r.project, p.id)),
        source: source.to_string(),
        project: r.project.clone(),
        git_ref: p.git_ref.clone(),
        commit_sha: p.sha.clone(),
        status: p.status.clone(),
        trigger: p.source.clone(),
        created_at: p.created_at,
        updated_at: p.updated_at,
        url: p.web_url.clone(),
    }
}

/// The record a source lands for one deployment or pipeline.
pub fn delivery_payload(project: &str, item: Value) -> Value {
    serde_json::json!({"project": project, "item": item})
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn deployments_speak_githubs_status_words_and_finish_when_final() {
        let cases = [
            // (status, finished_at, deployable finish, expected status, expected finish)
            (
                "success",
                Some("2026-03-03T10:05:00Z"),
                None,
                "success",
                Some("2026-03-03T10:05:00Z"),
            ),
            (
                "failed",
                None,
                Some("2026-03-03T10:04:00Z"),
                "failure",
                Some("2026-03-03T10:04:00Z"),
            ),
            (
                "canceled",
                None,
                None,
                "canceled",
                Some("2026-03-03T10:09:00Z"),
            ),
            ("running", None, None, "in_progress", None),
            ("created", None, None, "pending", None),
        ];
        for (status, fin, job, want_status, want_fin) in cases {
            let r: DeliveryRecord<GitlabDeployment> = serde_json::from_value(json!({
                "project": "acme/api",
                "item": {"id": 41, "iid": 3, "ref": "main", "sha": "abc123", "status": status,
                         "created_at": "2026-03-03T10:00:00Z", "updated_at": "2026-03-03T10:09:00Z",
                         "finished_at": fin, "environment": {"id": 1, "name": "production"},
                         "deployable": {"id": 9, "status": status, "finished_at": job}}
            }))
            .unwrap();
            let d = normalize_deployment("gl", &r);
            assert_eq!(d.id, "gl:acme/api/deployments/41");
            assert_eq!(d.status, want_status, "{status}");
            assert_eq!(
                d.finished_at
                    .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
                want_fin.map(str::to_string),
                "{status}"
            );
        }
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
        let p = normalize_pipeline("gl", &r);
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
}
