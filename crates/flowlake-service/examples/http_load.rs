//! A load check of the service (a benchmark, not a test): `clients` concurrent clients ask one URL over and
//! over for `seconds`, each waiting for its answer before the next; prints throughput, latency percentiles
//! and errors.
//!
//! `cargo run --release -p flowlake-service --example http_load -- URL CLIENTS SECONDS [TOKEN]`
//! (see docs/performance.md for the runs written down there).

use std::time::{Duration, Instant};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [url, clients, seconds, rest @ ..] = args.as_slice() else {
        return Err("usage: http_load URL CLIENTS SECONDS [TOKEN]".into());
    };
    let clients: usize = clients.parse()?;
    let seconds: u64 = seconds.parse()?;
    let token = rest.first().cloned();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let (mut latencies, errors, wall) = runtime.block_on(async move {
        let client = reqwest::Client::new();
        let until = Instant::now() + Duration::from_secs(seconds);
        let started = Instant::now();
        let mut tasks = Vec::new();
        for _ in 0..clients {
            let (client, url, token) = (client.clone(), url.clone(), token.clone());
            tasks.push(tokio::spawn(async move {
                let mut latencies = Vec::new();
                let mut errors = 0u64;
                while Instant::now() < until {
                    let t0 = Instant::now();
                    let mut request = client.get(&url);
                    if let Some(t) = &token {
                        request = request.bearer_auth(t);
                    }
                    let ok = match request.send().await {
                        Ok(r) if r.status().is_success() => r.bytes().await.is_ok(),
                        _ => false,
                    };
                    if ok {
                        latencies.push(t0.elapsed());
                    } else {
                        errors += 1;
                    }
                }
                (latencies, errors)
            }));
        }
        let mut all = Vec::new();
        let mut errors = 0;
        for t in tasks {
            if let Ok((l, e)) = t.await {
                all.extend(l);
                errors += e;
            }
        }
        (all, errors, started.elapsed())
    });
    latencies.sort();
    let pct = |p: f64| -> Duration {
        if latencies.is_empty() {
            return Duration::ZERO;
        }
        let i = ((latencies.len() as f64 * p).ceil() as usize).clamp(1, latencies.len()) - 1;
        latencies[i]
    };
    println!(
        "clients {clients}, {:.1} s: {} answers ({:.0}/s), {errors} errors; latency p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        wall.as_secs_f64(),
        latencies.len(),
        latencies.len() as f64 / wall.as_secs_f64(),
        pct(0.50).as_secs_f64() * 1e3,
        pct(0.99).as_secs_f64() * 1e3,
        pct(1.0).as_secs_f64() * 1e3,
    );
    Ok(())
}
