//! The HTTP server of `flowlake serve` and `flowlake run`: health and readiness for orchestrators, the jobs
//! and the metrics report for people and scripts (behind API tokens), and the Prometheus scrape.
//!
//! Routes:
//! - `GET /healthz`: 200 while the process serves (no token).
//! - `GET /readyz`: 200 when the store is reachable with a current schema, else 503 with why (no token).
//! - `GET /api/v1/jobs`: every job's last run, last success, next run, last error and counts.
//! - `POST /api/v1/jobs/{name}/run`: run a job now (202; 404 unknown; 409 running; 503 without jobs).
//! - `GET /api/v1/metrics?from=&to=&days=&source=&project=&type=&assignee=&by=&top=&as_of=`: the
//!   `flowlake metrics` report as JSON.
//! - `GET /metrics`: OpenMetrics text for Prometheus (a token only with `service.metrics_need_token`).
//! - `GET /openapi.json`: the OpenAPI 3.1 document of these routes, generated from the handlers below
//!   (utoipa), so it cannot describe a route that is not served (a test checks both ways).
//!
//! Errors are JSON, `{"error": "…"}`, and never carry a token.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::rejection::QueryRejection;
use axum::extract::{DefaultBodyLimit, Path, Query, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::json;
use subtle::ConstantTimeEq;

use crate::board::{JobStatus, TriggerError};
use crate::cache::ReportCache;
use crate::daemon::DaemonHandle;
use crate::runner::{JobRunner, ReportFailure, ReportQuery};
use crate::telemetry::Telemetry;

/// What the routes work with.
#[derive(Clone)]
pub struct ServerState {
    /// The daemon whose jobs `/api/v1/jobs` shows; `None` for `flowlake serve`, which runs none.
    pub daemon: Option<DaemonHandle>,
    /// The store's reports and readiness.
    pub runner: Arc<dyn JobRunner>,
    /// What `/metrics` shows.
    pub telemetry: Arc<Telemetry>,
    /// The accepted API tokens.
    pub tokens: Arc<Vec<String>>,
    /// Whether `/metrics` needs a token.
    pub metrics_need_token: bool,
    /// How long a report or readiness check may take before the answer is 503.
    pub timeout: Duration,
    /// The largest request body accepted.
    pub max_request_bytes: usize,
    /// Reports already made.
    pub reports: Arc<ReportCache>,
}

impl std::fmt::Debug for ServerState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerState")
            .field("tokens", &format_args!("<{} set>", self.tokens.len()))
            .field("metrics_need_token", &self.metrics_need_token)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// The OpenAPI document of the routes.
#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "flowlake",
        description = "flowlake's service API: health, jobs, the metrics report, the Prometheus scrape."
    ),
    paths(healthz, readyz, jobs, run_job, metrics_report, scrape, openapi),
    components(schemas(JobStatus, ErrorBody, Jobs, Queued, Status)),
    modifiers(&BearerAuth)
)]
pub struct ApiDoc;

/// Adds the bearer-token scheme the `/api/v1` routes name.
struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// An error's body.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// What went wrong, and what to do about it.
    pub error: String,
}

/// `/healthz` and `/readyz`'s body.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct Status {
    /// `ok` or `ready`.
    pub status: String,
}

/// `/api/v1/jobs`'s body.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct Jobs {
    /// Every job, in config order.
    pub jobs: Vec<JobStatus>,
}

/// `POST /api/v1/jobs/{name}/run`'s body.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct Queued {
    /// The job.
    pub job: String,
    /// `queued`: it starts at the next chance.
    pub status: String,
}

/// The service's routes over `state`.
pub fn router(state: ServerState) -> Router {
    let limit = state.max_request_bytes;
    let guarded = Router::new()
        .route("/api/v1/jobs", get(jobs))
        .route("/api/v1/jobs/{name}/run", post(run_job))
        .route("/api/v1/metrics", get(metrics_report));
    let guarded = if state.metrics_need_token {
        guarded.route("/metrics", get(scrape))
    } else {
        guarded
    };
    let guarded = guarded.route_layer(axum::middleware::from_fn_with_state(
        state.clone(),
        require_token,
    ));
    let open = Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/openapi.json", get(openapi));
    let open = if state.metrics_need_token {
        open
    } else {
        open.route("/metrics", get(scrape))
    };
    open.merge(guarded)
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(limit))
        .with_state(state)
}

fn error(status: StatusCode, message: impl std::fmt::Display) -> Response {
    (status, Json(json!({ "error": message.to_string() }))).into_response()
}

async fn not_found() -> Response {
    error(
        StatusCode::NOT_FOUND,
        "no such route (see /healthz, /readyz, /metrics, /api/v1/jobs, /api/v1/metrics)",
    )
}

/// Lets the request through when it carries `Authorization: Bearer <token>` with an accepted token; the
/// comparison takes the same time wherever the tokens differ.
async fn require_token(State(state): State<ServerState>, request: Request, next: Next) -> Response {
    let given = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    let Some(given) = given else {
        return unauthorized("this route needs `Authorization: Bearer <token>`");
    };
    let mut accepted = subtle::Choice::from(0);
    for token in state.tokens.iter() {
        accepted |= token.as_bytes().ct_eq(given.as_bytes());
    }
    if bool::from(accepted) {
        next.run(request).await
    } else {
        unauthorized("the token is not one of service.tokens or service.token_file")
    }
}

fn unauthorized(why: &str) -> Response {
    let mut r = error(StatusCode::UNAUTHORIZED, why);
    r.headers_mut()
        .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    r
}

/// The process serves.
#[utoipa::path(get, path = "/healthz", tag = "health", responses((status = 200, description = "up", body = Status)))]
async fn healthz() -> Response {
    Json(json!({ "status": "ok" })).into_response()
}

/// Runs `work` off the async threads, answering 503 when it takes longer than the state's timeout.
async fn blocking<T: Send + 'static>(
    state: &ServerState,
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, Response> {
    match tokio::time::timeout(state.timeout, tokio::task::spawn_blocking(work)).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(_)) => Err(error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "the request's work panicked (a bug: please report it with the log)",
        )),
        Err(_) => Err(too_slow(state)),
    }
}

/// 503 with `Retry-After`: the work did not end within the request timeout.
fn too_slow(state: &ServerState) -> Response {
    let mut r = error(
        StatusCode::SERVICE_UNAVAILABLE,
        format!(
            "no answer within {}s (service.request_timeout_seconds); a job may hold the store",
            state.timeout.as_secs()
        ),
    );
    r.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("10"));
    r
}

/// The store is reachable and its schema current.
#[utoipa::path(get, path = "/readyz", tag = "health", responses(
    (status = 200, description = "ready", body = Status),
    (status = 503, description = "the store cannot be reached or its schema is not current", body = ErrorBody)
))]
async fn readyz(State(state): State<ServerState>) -> Response {
    let runner = state.runner.clone();
    match blocking(&state, move || runner.ready()).await {
        Ok(Ok(())) => Json(json!({ "status": "ready" })).into_response(),
        Ok(Err(why)) => error(StatusCode::SERVICE_UNAVAILABLE, why),
        Err(r) => r,
    }
}

/// Every job: schedule, running since, next run, last run, last success, last error, counts.
#[utoipa::path(get, path = "/api/v1/jobs", tag = "jobs", security(("bearer" = [])), responses(
    (status = 200, description = "the jobs (none under `flowlake serve`)", body = Jobs),
    (status = 401, description = "no or a wrong token", body = ErrorBody)
))]
async fn jobs(State(state): State<ServerState>) -> Response {
    let jobs = state
        .daemon
        .as_ref()
        .map(DaemonHandle::statuses)
        .unwrap_or_default();
    Json(json!({ "jobs": jobs })).into_response()
}

/// Runs a job at the next chance, whatever its schedule.
#[utoipa::path(post, path = "/api/v1/jobs/{name}/run", tag = "jobs", security(("bearer" = [])),
    params(("name" = String, Path, description = "the job's name")),
    responses(
        (status = 202, description = "queued", body = Queued),
        (status = 401, description = "no or a wrong token", body = ErrorBody),
        (status = 404, description = "no job of that name", body = ErrorBody),
        (status = 409, description = "the job is running", body = ErrorBody),
        (status = 503, description = "`flowlake serve` runs no jobs", body = ErrorBody)
))]
async fn run_job(State(state): State<ServerState>, Path(name): Path<String>) -> Response {
    let Some(daemon) = &state.daemon else {
        return error(
            StatusCode::SERVICE_UNAVAILABLE,
            "`flowlake serve` runs no jobs; start `flowlake run` to run them",
        );
    };
    match daemon.trigger(&name) {
        Ok(()) => (
            StatusCode::ACCEPTED,
            Json(json!({ "job": name, "status": "queued" })),
        )
            .into_response(),
        Err(e @ TriggerError::Unknown { .. }) => error(StatusCode::NOT_FOUND, e),
        Err(e @ TriggerError::Running(_)) => error(StatusCode::CONFLICT, e),
    }
}

/// The `flowlake metrics --format json` report (docs/metrics.md), its options as query parameters.
#[utoipa::path(get, path = "/api/v1/metrics", tag = "metrics", security(("bearer" = [])),
    params(ReportQuery),
    responses(
        (status = 200, description = "the report", body = Object, content_type = "application/json"),
        (status = 400, description = "a bad parameter, or a filter that matches nothing (the known values are named)", body = ErrorBody),
        (status = 401, description = "no or a wrong token", body = ErrorBody),
        (status = 503, description = "the store did not answer in time, or could not be read", body = ErrorBody)
))]
async fn metrics_report(
    State(state): State<ServerState>,
    query: Result<Query<ReportQuery>, QueryRejection>,
) -> Response {
    let query = match query {
        Ok(Query(q)) => q,
        Err(e) => return error(StatusCode::BAD_REQUEST, e.body_text()),
    };
    let generation = state.daemon.as_ref().map_or(0, DaemonHandle::generation);
    let cache = state.reports.clone();
    let cached = |cache: &ReportCache| cache.get(&query, generation, std::time::Instant::now());
    let answer = |body: Arc<String>| {
        (
            [(header::CONTENT_TYPE, "application/json")],
            body.as_str().to_owned(),
        )
            .into_response()
    };
    if let Some(body) = cached(&cache) {
        return answer(body);
    }
    // Concurrent misses wait for the first to make the report, then find it made.
    let Ok(_making) = tokio::time::timeout(state.timeout, cache.making.lock()).await else {
        return too_slow(&state);
    };
    if let Some(body) = cached(&cache) {
        return answer(body);
    }
    let runner = state.runner.clone();
    let made = std::time::Instant::now();
    let q = query.clone();
    match blocking(&state, move || runner.report(&q)).await {
        Ok(Ok(report)) => {
            let body = Arc::new(report);
            cache.put(query, generation, made, body.clone());
            answer(body)
        }
        Ok(Err(e @ ReportFailure::BadQuery(_))) => error(StatusCode::BAD_REQUEST, e),
        Ok(Err(e @ ReportFailure::Store(_))) => error(StatusCode::SERVICE_UNAVAILABLE, e),
        Err(r) => r,
    }
}

/// The Prometheus scrape.
#[utoipa::path(get, path = "/metrics", tag = "metrics", responses(
    (status = 200, description = "OpenMetrics text", body = String, content_type = "application/openmetrics-text; version=1.0.0; charset=utf-8"),
    (status = 401, description = "a token is needed (`service.metrics_need_token`) and none or a wrong one came", body = ErrorBody)
))]
async fn scrape(State(state): State<ServerState>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.telemetry.render(),
    )
        .into_response()
}

/// This document.
#[utoipa::path(get, path = "/openapi.json", tag = "health", responses((status = 200, description = "the OpenAPI document", body = Object)))]
async fn openapi() -> Response {
    use utoipa::OpenApi;
    Json(ApiDoc::openapi()).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::board::RetryPolicy;
    use crate::daemon::Daemon;
    use crate::runner::JobOutcome;
    use axum::body::Body;
    use flowlake_engine::config::JobConfig;
    use flowlake_engine::sync::StopSignal;
    use tower::ServiceExt;

    struct Fake {
        ready: Result<(), String>,
        reports: std::sync::atomic::AtomicUsize,
    }

    impl JobRunner for Fake {
        fn run(&self, _: &JobConfig, _: &StopSignal) -> JobOutcome {
            JobOutcome::default()
        }
        fn ready(&self) -> Result<(), String> {
            self.ready.clone()
        }
        fn report(&self, q: &ReportQuery) -> Result<String, ReportFailure> {
            self.reports
                .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            match q.project.as_deref() {
                Some("nosuch") => Err(ReportFailure::BadQuery(
                    "no item has project `nosuch`; known projects: CORE".into(),
                )),
                p => Ok(json!({ "items": 3, "project": p }).to_string()),
            }
        }
        fn concurrent_jobs(&self) -> bool {
            true
        }
    }

    fn state(
        ready: Result<(), String>,
        with_daemon: bool,
        metrics_need_token: bool,
    ) -> ServerState {
        let runner: Arc<dyn JobRunner> = Arc::new(Fake {
            ready,
            reports: Default::default(),
        });
        let telemetry = Arc::new(Telemetry::default());
        let daemon = with_daemon.then(|| {
            let job: JobConfig =
                toml::from_str("name = \"nightly\"\nschedule = \"0 5 * * *\"\n").unwrap();
            let retry = RetryPolicy {
                base: Duration::from_secs(1),
                max: Duration::from_secs(1),
            };
            Daemon::new(
                &[job],
                runner.clone(),
                telemetry.clone(),
                1,
                retry,
                Duration::from_secs(1),
            )
            .unwrap()
            .handle()
        });
        ServerState {
            daemon,
            runner,
            telemetry,
            tokens: Arc::new(vec!["s3cret".into()]),
            metrics_need_token,
            timeout: Duration::from_secs(5),
            max_request_bytes: 1024,
            reports: Arc::new(ReportCache::new(Duration::from_secs(60))),
        }
    }

    async fn call(
        state: ServerState,
        method: &str,
        uri: &str,
        token: Option<&str>,
    ) -> (StatusCode, String) {
        let mut request = Request::builder().method(method).uri(uri);
        if let Some(t) = token {
            request = request.header("authorization", format!("Bearer {t}"));
        }
        let response = router(state)
            .oneshot(request.body(Body::empty()).unwrap())
            .await
            .unwrap();
        let status = response.status();
        let body = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .unwrap();
        (status, String::from_utf8_lossy(&body).into_owned())
    }

    #[tokio::test]
    async fn health_and_readiness_need_no_token_and_say_why_the_store_is_not_ready() {
        let (s, body) = call(state(Ok(()), false, false), "GET", "/healthz", None).await;
        assert_eq!((s, body.as_str()), (StatusCode::OK, r#"{"status":"ok"}"#));
        let (s, _) = call(state(Ok(()), false, false), "GET", "/readyz", None).await;
        assert_eq!(s, StatusCode::OK);
        let down = Err("store postgres://db/flowlake: connection refused".to_string());
        let (s, body) = call(state(down, false, false), "GET", "/readyz", None).await;
        assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE);
        assert!(body.contains("connection refused"), "{body}");
    }

    #[tokio::test]
    async fn api_routes_need_one_of_the_tokens() {
        for (token, want) in [
            (None, StatusCode::UNAUTHORIZED),
            (Some("wrong"), StatusCode::UNAUTHORIZED),
            (Some("s3cre"), StatusCode::UNAUTHORIZED),
            (Some("s3cret"), StatusCode::OK),
        ] {
            let (s, body) = call(state(Ok(()), true, false), "GET", "/api/v1/jobs", token).await;
            assert_eq!(s, want, "{token:?}: {body}");
            assert!(!body.contains("s3cret"), "{body}");
        }
    }

    #[tokio::test]
    async fn the_scrape_is_open_unless_configured_otherwise() {
        let (s, body) = call(state(Ok(()), false, false), "GET", "/metrics", None).await;
        assert_eq!(s, StatusCode::OK);
        assert!(body.ends_with("# EOF\n"), "{body}");
        let (s, _) = call(state(Ok(()), false, true), "GET", "/metrics", None).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
        let (s, _) = call(
            state(Ok(()), false, true),
            "GET",
            "/metrics",
            Some("s3cret"),
        )
        .await;
        assert_eq!(s, StatusCode::OK);
    }

    #[tokio::test]
    async fn jobs_are_listed_and_run_on_request() {
        let st = state(Ok(()), true, false);
        let (s, body) = call(st.clone(), "GET", "/api/v1/jobs", Some("s3cret")).await;
        assert_eq!(s, StatusCode::OK);
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["jobs"][0]["name"], "nightly");
        assert_eq!(v["jobs"][0]["schedule"], "0 5 * * * (UTC)");
        let (s, body) = call(
            st.clone(),
            "POST",
            "/api/v1/jobs/nightly/run",
            Some("s3cret"),
        )
        .await;
        assert_eq!(
            (s, body.as_str()),
            (
                StatusCode::ACCEPTED,
                r#"{"job":"nightly","status":"queued"}"#
            )
        );
        let (s, body) = call(st.clone(), "POST", "/api/v1/jobs/other/run", Some("s3cret")).await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        assert!(
            body.contains("no job named `other` (jobs: nightly)"),
            "{body}"
        );
        let (s, _) = call(st, "GET", "/api/v1/jobs/nightly/run", Some("s3cret")).await;
        assert_eq!(s, StatusCode::METHOD_NOT_ALLOWED);
        let (s, body) = call(
            state(Ok(()), false, false),
            "POST",
            "/api/v1/jobs/nightly/run",
            Some("s3cret"),
        )
        .await;
        assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE);
        assert!(body.contains("flowlake run"), "{body}");
    }

    #[tokio::test]
    async fn the_report_takes_the_cli_filters_and_names_a_bad_one() {
        let st = state(Ok(()), false, false);
        let (s, body) = call(
            st.clone(),
            "GET",
            "/api/v1/metrics?project=CORE&days=30",
            Some("s3cret"),
        )
        .await;
        assert_eq!(
            (s, body.as_str()),
            (StatusCode::OK, r#"{"items":3,"project":"CORE"}"#)
        );
        let (s, body) = call(
            st.clone(),
            "GET",
            "/api/v1/metrics?project=nosuch",
            Some("s3cret"),
        )
        .await;
        assert_eq!(s, StatusCode::BAD_REQUEST);
        assert!(body.contains("known projects: CORE"), "{body}");
        let (s, body) = call(
            st.clone(),
            "GET",
            "/api/v1/metrics?frm=2026-01-01",
            Some("s3cret"),
        )
        .await;
        assert_eq!(s, StatusCode::BAD_REQUEST);
        assert!(body.contains("frm"), "{body}");
        let (s, body) = call(
            st.clone(),
            "GET",
            "/api/v1/metrics?to=yesterday",
            Some("s3cret"),
        )
        .await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{body}");
        let (s, body) = call(st, "GET", "/nowhere", None).await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        assert!(body.contains("/api/v1/jobs"), "{body}");
    }

    /// Every route the router serves, as `(method, path)`; a route added to one and not the other fails here.
    const SERVED: &[(&str, &str)] = &[
        ("get", "/healthz"),
        ("get", "/readyz"),
        ("get", "/openapi.json"),
        ("get", "/api/v1/jobs"),
        ("post", "/api/v1/jobs/{name}/run"),
        ("get", "/api/v1/metrics"),
        ("get", "/metrics"),
    ];

    #[tokio::test]
    async fn the_openapi_document_lists_exactly_the_routes_served() {
        let (s, body) = call(state(Ok(()), true, false), "GET", "/openapi.json", None).await;
        assert_eq!(s, StatusCode::OK);
        let doc: serde_json::Value = serde_json::from_str(&body).unwrap();
        let mut documented: Vec<(String, String)> = doc["paths"]
            .as_object()
            .unwrap()
            .iter()
            .flat_map(|(path, ops)| {
                ops.as_object()
                    .unwrap()
                    .keys()
                    .map(move |m| (m.clone(), path.clone()))
            })
            .collect();
        documented.sort();
        let mut served: Vec<(String, String)> = SERVED
            .iter()
            .map(|(m, p)| (m.to_string(), p.to_string()))
            .collect();
        served.sort();
        assert_eq!(documented, served);
        // And each is served: not the fallback's 404 or a 405.
        for (method, path) in SERVED {
            let path = path.replace("{name}", "nightly");
            let (s, body) = call(
                state(Ok(()), true, false),
                &method.to_uppercase(),
                &path,
                Some("s3cret"),
            )
            .await;
            assert!(
                s != StatusCode::NOT_FOUND && s != StatusCode::METHOD_NOT_ALLOWED,
                "{method} {path}: {s} {body}"
            );
        }
        assert_eq!(
            doc["components"]["securitySchemes"]["bearer"]["scheme"],
            "bearer"
        );
        let params: Vec<&str> = doc["paths"]["/api/v1/metrics"]["get"]["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap())
            .collect();
        assert!(
            params.contains(&"type") && params.contains(&"as_of"),
            "{params:?}"
        );
    }

    #[tokio::test]
    async fn a_report_asked_again_is_served_from_the_cache() {
        for (ttl, want) in [(60, [1, 2]), (0, [3, 4])] {
            let fake = Arc::new(Fake {
                ready: Ok(()),
                reports: Default::default(),
            });
            let st = ServerState {
                runner: fake.clone(),
                reports: Arc::new(ReportCache::new(Duration::from_secs(ttl))),
                ..state(Ok(()), false, false)
            };
            let calls = || fake.reports.load(std::sync::atomic::Ordering::SeqCst);
            for _ in 0..3 {
                let (s, body) = call(
                    st.clone(),
                    "GET",
                    "/api/v1/metrics?project=CORE",
                    Some("s3cret"),
                )
                .await;
                assert_eq!(
                    (s, body.as_str()),
                    (StatusCode::OK, r#"{"items":3,"project":"CORE"}"#)
                );
            }
            let after_same = calls();
            call(
                st.clone(),
                "GET",
                "/api/v1/metrics?project=WEB",
                Some("s3cret"),
            )
            .await;
            assert_eq!([after_same, calls()], want, "ttl {ttl}");
        }
    }
}
