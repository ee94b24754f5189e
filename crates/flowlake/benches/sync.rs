//! Sync benchmark against a fake API on loopback (not a test: it only reports).
//!
//! `cargo bench -p flowlake --bench sync -- [--source github|jira|tracker] [--issues N]
//! [--pull-requests N] [--events N] [--repos N] [--latency-ms N] [--serve FILE]`. Defaults: GitHub — 10,000 issues and 5,000
//! pull requests over 10 repositories, about 20 timeline events each; Jira and Yandex Tracker — 20,000 issues
//! with about 20 changelog entries each; 20 ms added to every response. Runs the release `flowlake` binary
//! twice — a full sync, then a sync with nothing changed — and prints requests (counted by the fake),
//! requests per item, wall time and the binary's peak RSS for each. `--serve FILE` instead writes the config
//! block into FILE and keeps the fake up, for runs by hand (`/usr/bin/time -v flowlake -c FILE sync`).

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use std::collections::BTreeMap;

use flowlake_connect::github::fake::{FakeGithub, FakeOrgSpec};
use flowlake_connect::jira::fake::{FakeJira, FakeJiraSpec};
use flowlake_connect::yandex_tracker::fake::{FakeTracker, FakeTrackerSpec};

fn arg_text(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
}

fn arg(name: &str, default: usize) -> usize {
    arg_text(name)
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Peak resident set of `pid` so far, KiB (`VmHWM`).
fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// Runs `flowlake sync` in `dir`: wall time and peak RSS in MiB.
fn run_sync(dir: &Path) -> (Duration, f64) {
    let started = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_flowlake"))
        .args(["sync", "--quiet"])
        .current_dir(dir)
        .env("GITHUB_TOKEN", "ghp_bench")
        .env("JIRA_API_TOKEN", "jira_bench")
        .env("TRACKER_TOKEN", "tracker_bench")
        .spawn()
        .expect("flowlake runs");
    let mut peak = 0;
    loop {
        peak = peak.max(peak_rss_kib(child.id()).unwrap_or(0));
        if let Some(status) = child.try_wait().expect("waiting for flowlake") {
            assert!(status.success(), "flowlake sync failed");
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    (started.elapsed(), peak as f64 / 1024.0)
}

/// A fake server, its config block and the items it holds.
struct Target {
    config: String,
    items: usize,
    answered: Box<dyn Fn() -> BTreeMap<(String, u16), u64>>,
    reset: Box<dyn Fn()>,
    _keep: Box<dyn std::any::Any>,
}

fn github(latency: Duration) -> Target {
    let spec = FakeOrgSpec {
        repos: arg("--repos", 10),
        issues: arg("--issues", 10_000),
        pull_requests: arg("--pull-requests", 5_000),
        events_per_item: arg("--events", 20),
        latency,
        ..FakeOrgSpec::default()
    };
    eprintln!(
        "GitHub: {} issues and {} pull requests over {} repositories, ~{} events each",
        spec.issues, spec.pull_requests, spec.repos, spec.events_per_item
    );
    let fake = std::rc::Rc::new(FakeGithub::start(&spec));
    let (a, r) = (fake.clone(), fake.clone());
    Target {
        config: format!(
            "[[sources]]\nkind = \"github\"\nname = \"gh\"\norganization = \"acme\"\nbase_url = \"{}\"\n\n\
             [sources.status_labels]\n\"status: in progress\" = \"In Progress\"\n\"status: review\" = \"Review\"\n",
            fake.uri()
        ),
        items: spec.issues + spec.pull_requests,
        answered: Box::new(move || a.answered()),
        reset: Box::new(move || r.reset_counts()),
        _keep: Box::new(fake),
    }
}

fn jira(latency: Duration) -> Target {
    let spec = FakeJiraSpec {
        issues: arg("--issues", 20_000),
        histories_per_issue: arg("--events", 20),
        embed_limit: 100,
        latency,
        ..FakeJiraSpec::default()
    };
    eprintln!(
        "Jira Cloud: {} issues, ~{} changelog entries each",
        spec.issues, spec.histories_per_issue
    );
    let fake = std::rc::Rc::new(FakeJira::start(&spec));
    let (a, r) = (fake.clone(), fake.clone());
    Target {
        config: format!(
            "[[sources]]\nkind = \"jira\"\nbase_url = \"{}\"\nflavor = \"cloud\"\nemail = \"bench@acme.test\"\nprojects = [\"CORE\", \"WEB\"]\n",
            fake.uri()
        ),
        items: spec.issues,
        answered: Box::new(move || a.answered()),
        reset: Box::new(move || r.reset_counts()),
        _keep: Box::new(fake),
    }
}

fn tracker(latency: Duration) -> Target {
    let spec = FakeTrackerSpec {
        issues: arg("--issues", 20_000),
        entries_per_issue: arg("--events", 20),
        latency,
        ..FakeTrackerSpec::default()
    };
    eprintln!(
        "Yandex Tracker: {} issues, ~{} changelog entries each",
        spec.issues, spec.entries_per_issue
    );
    let fake = std::rc::Rc::new(FakeTracker::start(&spec));
    let (a, r) = (fake.clone(), fake.clone());
    Target {
        config: format!(
            "[[sources]]\nkind = \"yandex_tracker\"\nbase_url = \"{}\"\norg_id = \"1\"\nqueues = \"DEV,SRE\"\nmax_concurrency = 8\n",
            fake.uri()
        ),
        items: spec.issues,
        answered: Box::new(move || a.answered()),
        reset: Box::new(move || r.reset_counts()),
        _keep: Box::new(fake),
    }
}

fn main() {
    let latency = Duration::from_millis(arg("--latency-ms", 20) as u64);
    let target = match arg_text("--source").as_deref().unwrap_or("github") {
        "jira" => jira(latency),
        "tracker" => tracker(latency),
        _ => github(latency),
    };
    eprintln!("{} ms added to every response", latency.as_millis());
    let dir = tempfile::tempdir().expect("a scratch directory");
    std::fs::write(dir.path().join("flowlake.toml"), &target.config).expect("writing the config");
    if let Some(out) = arg_text("--serve") {
        // Keep the fake up for runs by hand: its config block goes to the given file.
        std::fs::write(&out, &target.config).expect("writing the config");
        eprintln!("serving; config in {out}");
        loop {
            std::thread::sleep(Duration::from_secs(3600));
        }
    }

    println!("| run | requests | of which 304 | requests per item | wall time | peak RSS |");
    println!("|---|---:|---:|---:|---:|---:|");
    for run in ["full sync", "no-change sync"] {
        (target.reset)();
        let (wall, rss) = run_sync(dir.path());
        let answered = (target.answered)();
        let total: u64 = answered.values().sum();
        let not_modified: u64 = answered
            .iter()
            .filter(|((_, status), _)| *status == 304)
            .map(|(_, n)| n)
            .sum();
        println!(
            "| {run} | {total} | {not_modified} | {:.4} | {:.1} s | {rss:.0} MiB |",
            total as f64 / target.items as f64,
            wall.as_secs_f64()
        );
        eprintln!("  {run}: {answered:?}");
    }
}
