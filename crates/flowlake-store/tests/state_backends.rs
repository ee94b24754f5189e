//! The S3 and Redis state back-ends against real servers on loopback: `redis-server` (Debian package) and
//! `python3 -m moto.server` (PyPI `moto[server]`), each started by the test on a free port
//! (`flowlake_testkit::servers`). `.ci/run` installs both.

use std::time::Duration;

use flowlake_testkit::servers::{free_port, moto, redis, Server};

use flowlake_store::{
    RedisState, RedisStateConfig, S3State, S3StateConfig, StateBackend, StateKey, StoreError,
};

fn s3_config(server: &Server, object: &str) -> S3StateConfig {
    S3StateConfig {
        url: format!("s3://flowlake-state/{object}"),
        endpoint: Some(format!("http://127.0.0.1:{}", server.port)),
        region: Some("us-east-1".into()),
        allow_http: true,
        access_key_id: Some("test-key".into()),
        secret_access_key: Some("test-secret".into()),
    }
}

fn redis_config(server: &Server, prefix: &str) -> RedisStateConfig {
    RedisStateConfig {
        url: format!("redis://127.0.0.1:{}/0", server.port),
        key_prefix: prefix.into(),
        lock_ttl: Duration::from_secs(60),
    }
}

/// The behaviour every back-end shares: round trip, clear, list, and compare-and-set between two runs.
fn shared_contract(mut a: Box<dyn StateBackend>, mut b: Box<dyn StateBackend>) {
    let issues = StateKey::new("gh", "issues");
    let pulls = StateKey::new("gh", "pulls");
    assert_eq!(a.get(&issues).unwrap(), None);
    a.put(&issues, "2026-11-01T00:00:00Z").unwrap();
    a.put(&pulls, "cursor/with/slashes").unwrap();
    assert_eq!(
        b.get(&issues).unwrap().as_deref(),
        Some("2026-11-01T00:00:00Z")
    );
    assert_eq!(
        b.list().unwrap(),
        vec![
            (issues.clone(), "2026-11-01T00:00:00Z".to_string()),
            (pulls.clone(), "cursor/with/slashes".to_string()),
        ]
    );
    // Both runs read the same cursor; the first to advance it wins, the second is stopped.
    assert!(a.get(&issues).is_ok());
    b.put(&issues, "2026-11-02T00:00:00Z").unwrap();
    let err = a.put(&issues, "2026-11-03T00:00:00Z").unwrap_err();
    assert!(matches!(err, StoreError::StateConflict { .. }), "{err}");
    assert!(err.to_string().contains("gh/issues"), "{err}");
    assert_eq!(
        a.get(&issues).unwrap().as_deref(),
        Some("2026-11-02T00:00:00Z")
    );
    // Having read it again, the run may advance it.
    a.put(&issues, "2026-11-03T00:00:00Z").unwrap();
    b.clear(&pulls).unwrap();
    assert_eq!(a.get(&pulls).unwrap(), None);
    assert_eq!(a.list().unwrap().len(), 1);
}

#[test]
fn s3_state_keeps_cursors_and_refuses_lost_updates() {
    let server = moto();
    let cfg = s3_config(&server, "team/state.json");
    shared_contract(
        Box::new(S3State::new(&cfg).unwrap()),
        Box::new(S3State::new(&cfg).unwrap()),
    );
}

#[test]
fn s3_conditional_puts_keep_every_concurrent_writer() {
    let server = moto();
    let cfg = s3_config(&server, "concurrent.json");
    // Two runs of different sources write the same object at the same time: with If-Match, no write is lost.
    let handles: Vec<_> = ["alpha", "beta"]
        .into_iter()
        .map(|source| {
            let cfg = cfg.clone();
            std::thread::spawn(move || {
                let mut s = S3State::new(&cfg).unwrap();
                let key = StateKey::new(source, "issues");
                for page in 1..=15 {
                    s.put(&key, &page.to_string()).unwrap();
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let mut s = S3State::new(&cfg).unwrap();
    assert_eq!(
        s.list().unwrap(),
        vec![
            (StateKey::new("alpha", "issues"), "15".to_string()),
            (StateKey::new("beta", "issues"), "15".to_string()),
        ]
    );
}

#[test]
fn s3_errors_name_the_object_and_hide_credentials() {
    let server = moto();
    let mut cfg = s3_config(&server, "missing-bucket.json");
    cfg.url = "s3://no-such-bucket/state.json".into();
    // Reading a missing bucket looks like an empty state; the first write names the problem.
    let err = S3State::new(&cfg)
        .unwrap()
        .put(&StateKey::new("a", "b"), "1")
        .unwrap_err()
        .to_string();
    assert!(err.contains("s3://no-such-bucket/state.json"), "{err}");
    assert!(!err.contains("test-secret"), "{err}");
    assert!(!format!("{cfg:?}").contains("test-secret"));
    let bad = S3State::new(&S3StateConfig {
        url: "https://bucket/state.json".into(),
        ..S3StateConfig::default()
    })
    .unwrap_err()
    .to_string();
    assert!(bad.contains("s3://bucket/path"), "{bad}");
}

#[test]
fn redis_state_keeps_cursors_and_refuses_lost_updates() {
    let server = redis();
    let cfg = redis_config(&server, "contract");
    shared_contract(
        Box::new(RedisState::new(&cfg).unwrap()),
        Box::new(RedisState::new(&cfg).unwrap()),
    );
}

#[test]
fn redis_lock_lets_one_run_at_a_time() {
    let server = redis();
    let cfg = redis_config(&server, "locks");
    let key = StateKey::new("gh", "issues");
    let mut first = RedisState::new(&cfg).unwrap();
    let mut second = RedisState::new(&cfg).unwrap();
    first.lock("gh").unwrap();
    let err = second.lock("gh").unwrap_err();
    assert!(matches!(err, StoreError::StateLocked { .. }), "{err}");
    assert!(err.to_string().contains("another run"), "{err}");
    // A run that does not hold the lock cannot move the cursor either.
    let err = second.put(&key, "x").unwrap_err();
    assert!(matches!(err, StoreError::StateLocked { .. }), "{err}");
    // Another source is not blocked.
    second.lock("jira").unwrap();
    first.put(&key, "page-1").unwrap();
    first.unlock("gh").unwrap();
    second.lock("gh").unwrap();
    assert_eq!(second.get(&key).unwrap().as_deref(), Some("page-1"));
    second.put(&key, "page-2").unwrap();
    // Dropping a back-end gives its locks back.
    drop(second);
    first.lock("gh").unwrap();
    first.lock("jira").unwrap();
}

#[test]
fn redis_lease_runs_out_when_a_run_dies() {
    let server = redis();
    let cfg = RedisStateConfig {
        lock_ttl: Duration::from_millis(300),
        ..redis_config(&server, "lease")
    };
    let key = StateKey::new("gh", "issues");
    let mut stuck = RedisState::new(&cfg).unwrap();
    stuck.lock("gh").unwrap();
    std::thread::sleep(Duration::from_millis(600));
    let mut next = RedisState::new(&cfg).unwrap();
    next.lock("gh").unwrap();
    next.put(&key, "next-run").unwrap();
    // The stuck run lost its lease: its write is refused instead of overwriting the newer cursor.
    let err = stuck.put(&key, "stale").unwrap_err();
    assert!(matches!(err, StoreError::StateLocked { .. }), "{err}");
    assert_eq!(next.get(&key).unwrap().as_deref(), Some("next-run"));
}

#[test]
fn redis_errors_hide_the_password() {
    let port = free_port(); // nothing listens there
    let cfg = RedisStateConfig {
        url: format!("redis://user:hunter2@127.0.0.1:{port}/0"),
        ..RedisStateConfig::default()
    };
    assert!(!format!("{cfg:?}").contains("hunter2"));
    let mut s = RedisState::new(&cfg).unwrap();
    assert!(!format!("{s:?}").contains("hunter2"));
    let err = s.get(&StateKey::new("a", "b")).unwrap_err().to_string();
    assert!(err.contains(&format!("127.0.0.1:{port}")), "{err}");
    assert!(!err.contains("hunter2"), "{err}");
}
