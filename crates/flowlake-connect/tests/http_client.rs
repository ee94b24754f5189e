//! The HTTP engine against a local wiremock server answering like GitHub's REST API: Link pages, ETags and
//! 304s, secondary rate limits, 502s, bodies cut mid-JSON, redirects; then the same exchanges replayed offline.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use flowlake_connect::http::{
    BlockingClient, HttpConfig, HttpError, HttpObserver, Pagination, Request, Secret, Tape,
};
use wiremock::matchers::{header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// A server on its own runtime, so the blocking client can be called from the test thread.
struct Server {
    rt: tokio::runtime::Runtime,
    mock: MockServer,
}

impl Server {
    fn start() -> Self {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let mock = rt.block_on(MockServer::start());
        Self { rt, mock }
    }

    fn mount(&self, m: Mock) {
        self.rt.block_on(m.mount(&self.mock));
    }

    fn uri(&self) -> String {
        self.mock.uri()
    }
}

#[derive(Default)]
struct Waits(Mutex<Vec<(String, Duration)>>);

impl HttpObserver for Waits {
    fn waiting(&self, reason: &str, for_: Duration) {
        self.0.lock().unwrap().push((reason.to_string(), for_));
    }
}

fn config(base: &str) -> HttpConfig {
    HttpConfig {
        base_url: base.to_string(),
        token: Some(Secret::new("ghp_t0ken")),
        backoff_base: Duration::from_millis(5),
        backoff_max: Duration::from_millis(20),
        max_attempts: 3,
        ..HttpConfig::default()
    }
}

fn client(base: &str) -> (BlockingClient, Arc<Waits>) {
    let waits = Arc::new(Waits::default());
    (
        BlockingClient::new(config(base), waits.clone()).unwrap(),
        waits,
    )
}

fn json(body: &str) -> ResponseTemplate {
    ResponseTemplate::new(200)
        .set_body_raw(body.as_bytes().to_vec(), "application/json; charset=utf-8")
}

#[test]
fn link_pages_are_followed_literally_with_the_token_sent() {
    let s = Server::start();
    let base = s.uri();
    for page in 1..=3 {
        let mut t = json(&format!(r#"[{{"number":{page}}}]"#))
            .insert_header("x-ratelimit-remaining", "4990");
        if page < 3 {
            t = t.insert_header(
                "link",
                format!(
                    r#"<{base}/repositories/42/issues?state=all&page={}>; rel="next", <{base}/repositories/42/issues?state=all&page=3>; rel="last""#,
                    page + 1
                )
                .as_str(),
            );
        }
        let m = if page == 1 {
            Mock::given(method("GET"))
                .and(path("/repos/o/r/issues"))
                .and(header("authorization", "Bearer ghp_t0ken"))
        } else {
            Mock::given(method("GET"))
                .and(path("/repositories/42/issues"))
                .and(query_param("page", page.to_string()))
                .and(header("authorization", "Bearer ghp_t0ken"))
        };
        s.mount(m.respond_with(t).expect(1));
    }
    let (c, _) = client(&base);
    let mut req = Some(Request::get(
        "issues",
        "/repos/o/r/issues?state=all&per_page=1",
    ));
    let mut numbers = Vec::new();
    while let Some(r) = req {
        let resp = c.send(r.clone()).unwrap();
        let items: Vec<serde_json::Value> = resp.json().unwrap();
        numbers.extend(items.iter().map(|i| i["number"].as_i64().unwrap()));
        req = Pagination::LinkHeader.next(&r, &resp, items.len());
    }
    assert_eq!(numbers, [1, 2, 3]);
    assert_eq!(c.client().stats()["issues"].requests, 3);
    assert!(!format!("{c:?}").contains("t0ken"));
}

#[test]
fn an_unchanged_resource_costs_a_304() {
    let s = Server::start();
    s.mount(
        Mock::given(method("GET"))
            .and(path("/repos/o/r/releases"))
            .and(header("if-none-match", "\"v1\""))
            .respond_with(ResponseTemplate::new(304).insert_header("etag", "\"v1\""))
            .with_priority(1),
    );
    s.mount(
        Mock::given(method("GET"))
            .and(path("/repos/o/r/releases"))
            .respond_with(json("[]").insert_header("etag", "\"v1\""))
            .with_priority(2),
    );
    let (c, _) = client(&s.uri());
    let req = Request::get("releases", "/repos/o/r/releases").conditional();
    assert_eq!(c.send(req.clone()).unwrap().status, 200);
    let again = c.send(req.clone()).unwrap();
    assert!(again.not_modified());
    // Validators survive into a new client (the next run).
    let (next_run, _) = client(&s.uri());
    next_run.client().set_validators(c.client().validators());
    assert!(next_run.send(req).unwrap().not_modified());
    let stats = c.client().stats();
    assert_eq!(
        (stats["releases"].requests, stats["releases"].not_modified),
        (2, 1)
    );
}

#[test]
fn a_secondary_rate_limit_is_waited_out() {
    let s = Server::start();
    s.mount(
        Mock::given(method("GET"))
            .respond_with(
                ResponseTemplate::new(403)
                    .insert_header("retry-after", "1")
                    .set_body_raw(
                        br#"{"message":"You have exceeded a secondary rate limit. Please wait a few minutes before you try again.","documentation_url":"https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"}"#.to_vec(),
                        "application/json",
                    ),
            )
            .up_to_n_times(1)
            .with_priority(1),
    );
    s.mount(
        Mock::given(method("GET"))
            .respond_with(json(r#"{"ok":true}"#))
            .with_priority(2),
    );
    let (c, waits) = client(&s.uri());
    let resp = c.send(Request::get("pulls", "/repos/o/r/pulls")).unwrap();
    assert_eq!(resp.status, 200);
    let waits = waits.0.lock().unwrap().clone();
    assert_eq!(
        waits,
        vec![(
            "secondary rate limit (Retry-After)".to_string(),
            Duration::from_secs(1)
        )]
    );
    assert_eq!(c.client().stats()["pulls"].rate_limit_waits, 1);
}

#[test]
fn a_reset_too_far_away_fails_with_the_wait() {
    let s = Server::start();
    let reset = (std::time::SystemTime::now() + Duration::from_secs(7200))
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    s.mount(
        Mock::given(method("GET")).respond_with(
            ResponseTemplate::new(403)
                .insert_header("x-ratelimit-remaining", "0")
                .insert_header("x-ratelimit-reset", reset.to_string().as_str())
                .set_body_string(r#"{"message":"API rate limit exceeded for user ID 1."}"#),
        ),
    );
    let (c, _) = client(&s.uri());
    let err = c.send(Request::get("issues", "/x")).unwrap_err();
    assert!(
        matches!(err, HttpError::RateLimited { wait_seconds, .. } if wait_seconds > 7000),
        "{err}"
    );
}

#[test]
fn a_502_and_a_body_cut_mid_json_are_retried() {
    let s = Server::start();
    s.mount(
        Mock::given(method("GET"))
            .respond_with(ResponseTemplate::new(502).set_body_string("<html>Bad Gateway</html>"))
            .up_to_n_times(1)
            .with_priority(1),
    );
    s.mount(
        Mock::given(method("GET"))
            .respond_with(json(r#"[{"number":1,"title":"cut he"#))
            .up_to_n_times(1)
            .with_priority(2),
    );
    s.mount(
        Mock::given(method("GET"))
            .respond_with(json(r#"[{"number":1}]"#))
            .with_priority(3),
    );
    let (c, _) = client(&s.uri());
    let resp = c.send(Request::get("issues", "/repos/o/r/issues")).unwrap();
    assert_eq!(resp.body, r#"[{"number":1}]"#);
    let st = &c.client().stats()["issues"];
    assert_eq!((st.requests, st.retries), (3, 2));
}

#[test]
fn persistent_failures_give_up_and_client_errors_do_not_retry() {
    let s = Server::start();
    s.mount(Mock::given(path("/flaky")).respond_with(ResponseTemplate::new(503)));
    s.mount(
        Mock::given(path("/gone")).respond_with(ResponseTemplate::new(404).set_body_string(
            r#"{"message":"Not Found","documentation_url":"https://docs.github.com/rest"}"#,
        )),
    );
    let (c, _) = client(&s.uri());
    let err = c.send(Request::get("x", "/flaky")).unwrap_err().to_string();
    assert!(
        err.contains("gave up after 3 attempts") && err.contains("HTTP 503"),
        "{err}"
    );
    let err = c
        .send(Request::get("y", "/gone?access_token=abc"))
        .unwrap_err();
    assert!(
        matches!(err, HttpError::Status { status: 404, .. }),
        "{err}"
    );
    let text = err.to_string();
    assert!(
        text.contains("Not Found")
            && text.contains("access_token=REDACTED")
            && !text.contains("abc"),
        "{text}"
    );
    assert_eq!(c.client().stats()["y"].requests, 1);
}

#[test]
fn a_moved_resource_reports_where_it_went() {
    let s = Server::start();
    let base = s.uri();
    s.mount(Mock::given(path("/repos/o/r/issues/7")).respond_with(
        ResponseTemplate::new(301).insert_header(
            "location",
            format!("{base}/repositories/99/issues/3").as_str(),
        ),
    ));
    s.mount(Mock::given(path("/repositories/99/issues/3")).respond_with(json(r#"{"number":3}"#)));
    let (c, _) = client(&base);
    let resp = c
        .send(Request::get("issues", "/repos/o/r/issues/7"))
        .unwrap();
    assert_eq!(resp.url, format!("{base}/repositories/99/issues/3"));
    assert_eq!(
        resp.redirected_from,
        Some(format!("{base}/repos/o/r/issues/7"))
    );
}

#[test]
fn concurrent_requests_come_back_in_order() {
    let s = Server::start();
    for i in 0..8 {
        s.mount(
            Mock::given(path(format!("/r/{i}")))
                .respond_with(json(&format!("{i}")).set_delay(Duration::from_millis(20))),
        );
    }
    let (c, _) = client(&s.uri());
    let reqs = (0..8)
        .map(|i| Request::get("r", format!("/r/{i}")))
        .collect();
    let bodies: Vec<String> = c
        .send_all(reqs)
        .into_iter()
        .map(|r| r.unwrap().body)
        .collect();
    assert_eq!(bodies, (0..8).map(|i| i.to_string()).collect::<Vec<_>>());
}

#[test]
fn recorded_exchanges_replay_offline() {
    let dir = tempfile::tempdir().unwrap();
    let base;
    {
        let s = Server::start();
        base = s.uri();
        s.mount(
            Mock::given(method("POST"))
                .and(path("/graphql"))
                .respond_with(
                    json(r#"{"data":{"viewer":{"login":"octocat"}}}"#)
                        .insert_header("set-cookie", "s=secret"),
                ),
        );
        s.mount(
            Mock::given(method("GET"))
                .respond_with(ResponseTemplate::new(502))
                .up_to_n_times(1)
                .with_priority(1),
        );
        s.mount(
            Mock::given(method("GET"))
                .respond_with(json("[1]"))
                .with_priority(2),
        );
        let rec = BlockingClient::new(
            HttpConfig {
                tape: Tape::Record(dir.path().to_path_buf()),
                ..config(&base)
            },
            Arc::new(Waits::default()),
        )
        .unwrap();
        rec.send(Request::post_json(
            "graphql",
            "/graphql",
            r#"{"query":"{viewer{login}}"}"#.into(),
        ))
        .unwrap();
        rec.send(Request::get("issues", "/issues?page=1")).unwrap();
    } // the server is gone
    let files: String = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .collect();
    assert!(
        !files.contains("t0ken") && !files.contains("secret"),
        "{files}"
    );
    let replay = BlockingClient::new(
        HttpConfig {
            tape: Tape::Replay(dir.path().to_path_buf()),
            ..config(&base)
        },
        Arc::new(Waits::default()),
    )
    .unwrap();
    let viewer = replay
        .send(Request::post_json(
            "graphql",
            "/graphql",
            r#"{"query":"{viewer{login}}"}"#.into(),
        ))
        .unwrap();
    assert!(viewer.body.contains("octocat"));
    // The 502 was recorded too, and is retried on replay exactly as it was live.
    assert_eq!(
        replay
            .send(Request::get("issues", "/issues?page=1"))
            .unwrap()
            .body,
        "[1]"
    );
    assert_eq!(replay.client().stats()["issues"].retries, 1);
}

/// Epoch seconds `secs` from now, for `x-ratelimit-reset`.
fn reset_in(secs: i64) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    (now + secs).to_string()
}

#[test]
fn a_spent_budget_resetting_later_than_the_maximum_wait_ends_the_run_with_the_wait() {
    let s = Server::start();
    s.mount(
        Mock::given(path("/first")).respond_with(
            json("[]")
                .insert_header("x-ratelimit-remaining", "0")
                .insert_header("x-ratelimit-reset", reset_in(120).as_str()),
        ),
    );
    s.mount(Mock::given(path("/second")).respond_with(json("[]")));
    let waits = Arc::new(Waits::default());
    let c = BlockingClient::new(
        HttpConfig {
            max_rate_limit_wait: Duration::from_secs(5),
            ..config(&s.uri())
        },
        waits.clone(),
    )
    .unwrap();
    c.send(Request::get("first", "/first")).unwrap();
    let err = c.send(Request::get("second", "/second")).unwrap_err();
    match &err {
        HttpError::RateLimited {
            wait_seconds,
            max_seconds,
            ..
        } => {
            assert!((100..=125).contains(wait_seconds), "{err}");
            assert_eq!(*max_seconds, 5);
        }
        other => panic!("expected a rate-limit error, got {other}"),
    }
    assert!(
        err.to_string().contains("max_rate_limit_wait_seconds = 5"),
        "{err}"
    );
    assert!(
        waits.0.lock().unwrap().is_empty(),
        "it must not sleep first"
    );
    let requests = s.rt.block_on(s.mock.received_requests()).unwrap();
    assert_eq!(requests.len(), 1, "the second request is never sent");
}

#[test]
fn a_spent_budget_wait_is_counted_with_the_other_rate_limit_waits() {
    let s = Server::start();
    s.mount(
        Mock::given(path("/first")).respond_with(
            json("[]")
                .insert_header("x-ratelimit-remaining", "0")
                .insert_header("x-ratelimit-reset", reset_in(0).as_str()),
        ),
    );
    s.mount(Mock::given(path("/second")).respond_with(json("[]")));
    let (c, waits) = client(&s.uri());
    c.send(Request::get("first", "/first")).unwrap();
    c.send(Request::get("second", "/second")).unwrap();
    let stats = c.client().stats();
    assert_eq!(stats["second"].rate_limit_waits, 1, "{stats:?}");
    assert!(stats["second"].rate_limit_wait_seconds >= 1, "{stats:?}");
    assert_eq!(waits.0.lock().unwrap().len(), 1);
}

#[test]
fn a_link_header_sent_twice_keeps_its_next_link() {
    // Yandex Tracker sends `first` and `next` as two Link headers (yandex-cloud/docs,
    // en/tracker/concepts/issues/get-changelog.md); keeping only one lost the next page.
    let s = Server::start();
    let base = s.uri();
    s.mount(
        Mock::given(path("/v2/issues/DEV-1/changelog")).respond_with(
            json("[]")
                .append_header(
                    "link",
                    format!("<{base}/v2/issues/DEV-1/changelog?perPage=50>; rel=\"first\"")
                        .as_str(),
                )
                .append_header(
                    "link",
                    format!("<{base}/v2/issues/DEV-1/changelog?id=5b9a&perPage=50>; rel=\"next\"")
                        .as_str(),
                ),
        ),
    );
    let (c, _) = client(&base);
    let r = c
        .send(Request::get("changelog", "/v2/issues/DEV-1/changelog"))
        .unwrap();
    let link = r.header("link").unwrap();
    assert_eq!(
        flowlake_connect::http::next_link(link),
        Some(format!(
            "{base}/v2/issues/DEV-1/changelog?id=5b9a&perPage=50"
        )),
        "{link}"
    );
}

#[test]
fn a_refused_connection_says_so_and_one_attempt_is_singular() {
    // A port nothing listens on: bound, then closed.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let c = BlockingClient::new(
        HttpConfig {
            max_attempts: 1,
            ..config(&format!("http://127.0.0.1:{port}"))
        },
        Arc::new(Waits::default()),
    )
    .unwrap();
    let err = c
        .send(Request::get("x", "/issues"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("gave up after 1 attempt: "), "{err}");
    assert!(
        err.to_lowercase().contains("connection refused") && err.contains("could not connect"),
        "the cause, not only `error sending request`: {err}"
    );
    assert!(!err.contains("ghp_t0ken"), "{err}");
}
