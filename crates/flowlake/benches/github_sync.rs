//! Sync benchmark against a fake GitHub organization on loopback (not a test: it only reports).
//!
//! `cargo bench -p flowlake --bench github_sync -- [--issues N] [--pull-requests N] [--events N]
//! [--repos N] [--latency-ms N]` (defaults: 10,000 issues and 5,000 pull requests over 10 repositories,
//! about 20 timeline events each, 20 ms added to every response). Runs the release `flowlake` binary twice —
//! a full sync, then a sync with nothing changed — and prints requests, requests per item, wall time and
//! the binary's peak RSS for each.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use flowlake_connect::github::fake::{FakeGithub, FakeOrgSpec};

fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
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

fn main() {
    let spec = FakeOrgSpec {
        repos: arg("--repos", 10),
        issues: arg("--issues", 10_000),
        pull_requests: arg("--pull-requests", 5_000),
        events_per_item: arg("--events", 20),
        latency: Duration::from_millis(arg("--latency-ms", 20) as u64),
        ..FakeOrgSpec::default()
    };
    let items = spec.issues + spec.pull_requests;
    eprintln!(
        "generating {} issues and {} pull requests over {} repositories, ~{} events each, {} ms latency",
        spec.issues,
        spec.pull_requests,
        spec.repos,
        spec.events_per_item,
        spec.latency.as_millis()
    );
    let fake = FakeGithub::start(&spec);
    let dir = tempfile::tempdir().expect("a scratch directory");
    std::fs::write(
        dir.path().join("flowlake.toml"),
        format!(
            "[[sources]]\nkind = \"github\"\nname = \"gh\"\norganization = \"acme\"\nbase_url = \"{}\"\n\n\
             [sources.status_labels]\n\"status: in progress\" = \"In Progress\"\n\"status: review\" = \"Review\"\n",
            fake.uri()
        ),
    )
    .expect("writing the config");

    println!("| run | requests | of which 304 | requests per item | wall time | peak RSS |");
    println!("|---|---:|---:|---:|---:|---:|");
    for run in ["full sync", "no-change sync"] {
        fake.reset_counts();
        let (wall, rss) = run_sync(dir.path());
        let answered = fake.answered();
        let total: u64 = answered.values().sum();
        let not_modified: u64 = answered
            .iter()
            .filter(|((_, status), _)| *status == 304)
            .map(|(_, n)| n)
            .sum();
        println!(
            "| {run} | {total} | {not_modified} | {:.4} | {:.1} s | {rss:.0} MiB |",
            total as f64 / items as f64,
            wall.as_secs_f64()
        );
        eprintln!("  {run}: {answered:?}");
    }
}
