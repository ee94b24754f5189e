//! Per-stream state upgrades in place: a GitLab cursor document as the release before saved it under
//! `{source}/projects` — in the store's `sync_state` table, a JSON state file, an S3 object (moto) and a Redis
//! hash — resumes where it says on the first run, is split into one cursor per stream (`{source}/issues`,
//! `…/merge_requests`, `…/deployments`, `…/pipelines`) committed with the first page, and is gone after it;
//! the next run resumes from the new keys. Each is checked in the requests the fake GitLab received. GitHub's
//! one document (`{source}/repositories`) upgrades the same way in the store's table (the engine's part is the
//! same for every back-end and source).
//!
//! Servers: `redis-server` (Debian package) and `python3 -m moto.server` (PyPI `moto[server]`), each started
//! on a free loopback port (`flowlake_testkit::servers`); `scripts/install-test-servers.sh` installs both.

use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use flowlake_connect::http::{LogObserver, Tape};
use flowlake_engine::config::Config;
use flowlake_engine::sync::{build_source, sync_source, StateTarget, SyncOptions};
use flowlake_engine::NoProgress;
use flowlake_store::{
    DuckDbStore, JsonFileState, OpenMode, RedisState, RedisStateConfig, S3State, S3StateConfig,
    StateBackend, StateKey, Store,
};
use flowlake_testkit::drive::token_file;
use flowlake_testkit::github::{FakeGithub, FakeOrgSpec};
use flowlake_testkit::gitlab::{FakeGitlab, FakeGitlabSpec};
use flowlake_testkit::servers::{moto, moto_request, redis};
use flowlake_testkit::shared::Received;
use serde_json::Value;

/// What the release before saved under `gl/projects` after a run that stopped inside `acme/web`'s merge
/// requests: `acme/api` done, `acme/web`'s issues done.
const OLD_DOCUMENT: &str = r#"{"projects":{"acme/api":{"issues":"2026-03-02T00:00:00Z","merge_requests":"2026-03-03T00:00:00Z","deployments":"2026-03-13T09:00:00Z","pipelines":"2026-03-18T05:12:00Z","pipeline_id":3019},"acme/web":{"issues":"2026-03-04T00:00:00Z","merge_requests":"2026-03-01T00:00:00Z"}},"at":{"project":"acme/web","stream":"merge_requests"}}"#;

const NEW_STREAMS: [&str; 4] = ["deployments", "issues", "merge_requests", "pipelines"];

fn gitlab_config(dir: &Path, fake: &FakeGitlab) -> Config {
    let text = format!(
        "[[sources]]\nkind = \"gitlab\"\nname = \"gl\"\nbase_url = \"{}\"\ngroup = \"acme\"\nper_page = 30\n\
         pipelines = true\n",
        fake.uri()
    );
    let path = dir.join("flowlake.toml");
    Config::parse(&path, &text, &[]).expect("a GitLab config")
}

/// Syncs the first configured source once, its cursors in `state`.
fn sync(config: &Config, store: &mut dyn Store, state: &mut StateTarget<'_>) {
    let mut source =
        build_source(&config.sources[0], &Tape::Off, Arc::new(LogObserver)).expect("a source");
    let now = "2027-12-31T00:00:00Z".parse().unwrap();
    sync_source(
        &mut *source,
        store,
        state,
        &config.flow_settings(),
        now,
        &NoProgress,
        SyncOptions::default(),
    )
    .expect("the sync");
}

/// The list requests (issues, merge requests, deployments, pipelines) the fake received, from the `from`th.
fn listings(fake: &FakeGitlab, from: usize) -> Vec<Received> {
    fake.received()
        .into_iter()
        .skip(from)
        .filter(|r| r.target.contains("order_by=updated_at"))
        .collect()
}

/// The first run resumes inside `acme/web`'s merge requests, from the old document's watermark, and reads
/// nothing of `acme/api` (done before); the new keys hold the document's parts, moved by what was read.
fn check_first_run(fake: &FakeGitlab, cursors: &[(StateKey, String)]) {
    let asked = listings(fake, 0);
    assert!(
        asked[0]
            .target
            .starts_with("/api/v4/projects/acme%2Fweb/merge_requests?"),
        "{asked:#?}"
    );
    assert_eq!(
        asked[0].query("updated_after").as_deref(),
        Some("2026-02-28T23:50:00.000Z"),
        "the old watermark less the look-back"
    );
    assert!(
        asked.iter().all(|r| !r.target.contains("acme%2Fapi")),
        "{asked:#?}"
    );
    let keys: Vec<String> = cursors.iter().map(|(k, _)| k.to_string()).collect();
    assert_eq!(
        keys,
        NEW_STREAMS.map(|s| format!("gl/{s}")),
        "the old key is gone, one per stream instead"
    );
    let cursor = |stream: &str| -> Value {
        let (_, c) = cursors
            .iter()
            .find(|(k, _)| k.stream == stream)
            .expect("the stream's cursor");
        serde_json::from_str(c).expect("JSON")
    };
    // `acme/api` was not read again: its marks are the document's.
    assert_eq!(
        cursor("issues")["projects"]["acme/api"]["updated_at"],
        "2026-03-02T00:00:00Z"
    );
    assert_eq!(
        cursor("pipelines")["projects"]["acme/api"],
        serde_json::json!({"updated_at": "2026-03-18T05:12:00Z", "pipeline_id": 3019})
    );
    let web_mrs = cursor("merge_requests")["projects"]["acme/web"]["updated_at"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(web_mrs.as_str() > "2026-03-01T00:00:00Z", "{web_mrs}");
    for s in NEW_STREAMS {
        assert!(cursor(s).get("at").is_none(), "the run ended: {s}");
    }
}

/// The next run starts from the new keys: `acme/api`'s issues from the mark the document gave them.
fn check_second_run(fake: &FakeGitlab, from: usize) {
    let asked = listings(fake, from);
    assert!(
        asked[0]
            .target
            .starts_with("/api/v4/projects/acme%2Fapi/issues?"),
        "{asked:#?}"
    );
    assert_eq!(
        asked[0].query("updated_after").as_deref(),
        Some("2026-03-01T23:50:00.000Z")
    );
}

fn old_key() -> StateKey {
    StateKey::new("gl", "projects")
}

#[test]
fn the_store_table_upgrades_in_the_first_page_s_transaction() {
    let fake = FakeGitlab::start(&FakeGitlabSpec::default());
    let dir = tempfile::tempdir().unwrap();
    let config = gitlab_config(dir.path(), &fake);
    let path = dir.path().join("flowlake.duckdb");
    let mut store = DuckDbStore::open(&path, OpenMode::ReadWrite).unwrap();
    // The release before's `sync_state` row: (source, stream, cursor, updated_at).
    store.put(&old_key(), OLD_DOCUMENT).unwrap();
    sync(&config, &mut store, &mut StateTarget::Store);
    check_first_run(&fake, &store.list().unwrap());
    let from = fake.received().len();
    drop(store);
    let mut store = DuckDbStore::open(&path, OpenMode::ReadWrite).unwrap();
    sync(&config, &mut store, &mut StateTarget::Store);
    check_second_run(&fake, from);
}

#[test]
fn a_state_file_upgrades_in_place() {
    let fake = FakeGitlab::start(&FakeGitlabSpec::default());
    let dir = tempfile::tempdir().unwrap();
    let config = gitlab_config(dir.path(), &fake);
    let file = dir.path().join("state.json");
    // As the release before wrote it: `source → stream → cursor`.
    let old = serde_json::json!({"version": 1, "cursors": {"gl": {"projects": OLD_DOCUMENT}}});
    std::fs::write(&file, serde_json::to_vec_pretty(&old).unwrap()).unwrap();
    let mut store = DuckDbStore::open(dir.path().join("s.duckdb"), OpenMode::ReadWrite).unwrap();
    let mut state = JsonFileState::new(&file);
    sync(&config, &mut store, &mut StateTarget::External(&mut state));
    check_first_run(&fake, &JsonFileState::new(&file).list().unwrap());
    assert_eq!(
        store.list().unwrap(),
        Vec::new(),
        "the store's table is not used"
    );
    let from = fake.received().len();
    let mut state = JsonFileState::new(&file);
    sync(&config, &mut store, &mut StateTarget::External(&mut state));
    check_second_run(&fake, from);
}

#[test]
fn an_s3_object_upgrades_in_place() {
    let moto = moto();
    let port = moto.port;
    let old = serde_json::json!({"version": 1, "cursors": {"gl": {"projects": OLD_DOCUMENT}}});
    let put = moto_request(
        port,
        "PUT",
        "/flowlake-state/state.json",
        &serde_json::to_string_pretty(&old).unwrap(),
    );
    assert!(put.contains("200"), "{put}");
    let s3 = S3StateConfig {
        url: "s3://flowlake-state/state.json".into(),
        endpoint: Some(format!("http://127.0.0.1:{}", moto.port)),
        region: Some("us-east-1".into()),
        allow_http: true,
        access_key_id: Some("test-key".into()),
        secret_access_key: Some("test-secret".into()),
    };
    let fake = FakeGitlab::start(&FakeGitlabSpec::default());
    let dir = tempfile::tempdir().unwrap();
    let config = gitlab_config(dir.path(), &fake);
    let mut store = DuckDbStore::open(dir.path().join("s.duckdb"), OpenMode::ReadWrite).unwrap();
    let mut state = S3State::new(&s3).unwrap();
    sync(&config, &mut store, &mut StateTarget::External(&mut state));
    check_first_run(&fake, &S3State::new(&s3).unwrap().list().unwrap());
    let from = fake.received().len();
    let mut state = S3State::new(&s3).unwrap();
    sync(&config, &mut store, &mut StateTarget::External(&mut state));
    check_second_run(&fake, from);
}

#[test]
fn a_redis_hash_upgrades_in_place() {
    let redis = redis();
    // As the release before wrote it: a field `source/stream` of the hash `{prefix}:cursors`.
    let hset = Command::new("redis-cli")
        .args([
            "-p",
            &redis.port.to_string(),
            "HSET",
            "flowlake:cursors",
            "gl/projects",
        ])
        .arg(OLD_DOCUMENT)
        .output()
        .expect("redis-cli");
    assert!(hset.status.success(), "{hset:?}");
    let cfg = RedisStateConfig {
        url: format!("redis://127.0.0.1:{}/0", redis.port),
        ..RedisStateConfig::default()
    };
    let fake = FakeGitlab::start(&FakeGitlabSpec::default());
    let dir = tempfile::tempdir().unwrap();
    let config = gitlab_config(dir.path(), &fake);
    let mut store = DuckDbStore::open(dir.path().join("s.duckdb"), OpenMode::ReadWrite).unwrap();
    let mut state = RedisState::new(&cfg).unwrap();
    sync(&config, &mut store, &mut StateTarget::External(&mut state));
    check_first_run(&fake, &RedisState::new(&cfg).unwrap().list().unwrap());
    let from = fake.received().len();
    let mut state = RedisState::new(&cfg).unwrap();
    sync(&config, &mut store, &mut StateTarget::External(&mut state));
    check_second_run(&fake, from);
}

/// What the release before saved under `gh/repositories` after a run that stopped before `acme/repo-01`'s
/// issues: `acme/repo-00` done, up to a time after all its issues.
const OLD_GITHUB_DOCUMENT: &str = r#"{"repos":{"acme/repo-00":{"issues":"2099-01-01T00:00:00Z"}},"at":{"repo":"acme/repo-01","stream":"issues"}}"#;

#[test]
fn a_github_cursor_document_upgrades_to_one_cursor_per_stream() {
    let fake = FakeGithub::start(&FakeOrgSpec {
        repos: 2,
        issues: 6,
        pull_requests: 0,
        ..FakeOrgSpec::default()
    });
    let dir = tempfile::tempdir().unwrap();
    let token = token_file(dir.path(), "ghp_fake0github0token0000000000000000");
    let text = format!(
        "[[sources]]\nkind = \"github\"\nname = \"gh\"\nbase_url = \"{}\"\ntoken_file = \"{}\"\n\
         repositories = [\"acme/repo-00\", \"acme/repo-01\"]\npull_requests = false\ndeployments = false\n\
         releases = false\n",
        fake.uri(),
        token.display()
    );
    let config =
        Config::parse(&dir.path().join("flowlake.toml"), &text, &[]).expect("a GitHub config");
    let mut store =
        DuckDbStore::open(dir.path().join("flowlake.duckdb"), OpenMode::ReadWrite).unwrap();
    store
        .put(&StateKey::new("gh", "repositories"), OLD_GITHUB_DOCUMENT)
        .unwrap();
    sync(&config, &mut store, &mut StateTarget::Store);
    // Resumed at `acme/repo-01` without probing; `acme/repo-00` was not read again.
    let asked = fake.graphql_variables("IssuesPage");
    assert!(!asked.is_empty());
    assert!(asked.iter().all(|v| v["name"] == "repo-01"), "{asked:#?}");
    assert!(
        fake.received()
            .iter()
            .all(|r| !r.target.contains("repo-00")),
        "{:#?}",
        fake.received()
    );
    let saved = store.list().unwrap();
    let keys: Vec<String> = saved.iter().map(|(k, _)| k.to_string()).collect();
    assert_eq!(keys, ["gh/issues"], "the old key is gone");
    let issues: Value = serde_json::from_str(&saved[0].1).unwrap();
    assert_eq!(
        issues["repos"]["acme/repo-00"]["updated_at"],
        "2099-01-01T00:00:00Z"
    );
    // Resumed without probing, and the document held no probe ETag: none is kept, so the next run probes.
    assert_eq!(
        issues["repos"]["acme/repo-01"].get("etag"),
        None,
        "{issues}"
    );
    assert!(issues.get("at").is_none(), "{issues}");

    // The next run starts from the new key: each repository read from its mark less the look-back.
    let repo_01 = issues["repos"]["acme/repo-01"]["updated_at"]
        .as_str()
        .unwrap();
    let repo_01_since = (repo_01.parse::<chrono::DateTime<chrono::Utc>>().unwrap()
        - chrono::Duration::minutes(10))
    .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let from = fake.graphql_variables("IssuesPage").len();
    sync(&config, &mut store, &mut StateTarget::Store);
    let asked: Vec<Value> = fake
        .graphql_variables("IssuesPage")
        .into_iter()
        .skip(from)
        .collect();
    let since = |repo: &str| {
        asked
            .iter()
            .find(|v| v["name"] == repo)
            .map(|v| v["since"].clone())
    };
    assert_eq!(
        since("repo-00"),
        Some(Value::from("2098-12-31T23:50:00Z")),
        "{asked:#?}"
    );
    assert_eq!(
        since("repo-01"),
        Some(Value::from(repo_01_since)),
        "{asked:#?}"
    );
}
