//! Push telemetry: a job's figures as DogStatsD datagrams (UDP, tagged), under the names tracker-exporter
//! sends, so its users keep their dashboards and alerts (set `statsd_prefix = "tracker_exporter"`).
//!
//! Written here rather than with a client crate: tracker-exporter's timings are seconds as decimals in `|ms`
//! datagrams (datadogpy's `timed`, which sends seconds unless told otherwise), and cadence, the well-kept
//! Rust client, only sends whole milliseconds. The format is one line per metric: `name:value|type|#tags`.

use std::net::{ToSocketAddrs, UdpSocket};

/// Where and how to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatsdConfig {
    /// Host of the StatsD / DogStatsD agent.
    pub host: String,
    /// Its UDP port (8125 as a rule).
    pub port: u16,
    /// Put before every name, with `_` (`tracker_exporter` gives `tracker_exporter_etl_duration_seconds`).
    pub prefix: String,
    /// Tags added to every metric, `key:value` each.
    pub tags: Vec<String>,
}

/// A connected UDP socket to the agent. Sending never fails a job: a lost datagram is logged at debug.
#[derive(Debug)]
pub struct Statsd {
    socket: UdpSocket,
    prefix: String,
    tags: Vec<String>,
}

/// A DogStatsD metric type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `c`: added up by the agent.
    Count,
    /// `g`: the last value wins.
    Gauge,
    /// `ms`: a timing (in seconds, as tracker-exporter sends it).
    Timing,
}

impl Statsd {
    /// Resolves the agent's address and binds a local socket; an unknown host is an error naming it.
    pub fn connect(config: &StatsdConfig) -> Result<Self, String> {
        let at = format!("{}:{}", config.host, config.port);
        let target = at
            .to_socket_addrs()
            .map_err(|e| format!("service.statsd_host {at}: {e}"))?
            .next()
            .ok_or_else(|| format!("service.statsd_host {at}: no address"))?;
        let local = if target.is_ipv4() {
            "0.0.0.0:0"
        } else {
            "[::]:0"
        };
        let socket = UdpSocket::bind(local)
            .and_then(|s| s.connect(target).map(|()| s))
            .map_err(|e| format!("statsd {at}: {e}"))?;
        Ok(Self {
            socket,
            prefix: config.prefix.clone(),
            tags: config.tags.iter().map(|t| clean(t)).collect(),
        })
    }

    /// Sends `name` (after the prefix) with `value` and `tags` (`(key, value)`) besides the base tags.
    pub fn send(&self, name: &str, value: f64, kind: Kind, tags: &[(&str, &str)]) {
        let line = datagram(&self.prefix, name, value, kind, &self.tags, tags);
        if let Err(e) = self.socket.send(line.as_bytes()) {
            tracing::debug!(error = %e, metric = %name, "statsd datagram not sent");
        }
    }
}

/// One DogStatsD line.
fn datagram(
    prefix: &str,
    name: &str,
    value: f64,
    kind: Kind,
    base: &[String],
    tags: &[(&str, &str)],
) -> String {
    let kind = match kind {
        Kind::Count => "c",
        Kind::Gauge => "g",
        Kind::Timing => "ms",
    };
    let name = if prefix.is_empty() {
        name.to_string()
    } else {
        format!("{prefix}_{name}")
    };
    let mut all: Vec<String> = base.to_vec();
    all.extend(
        tags.iter()
            .map(|(k, v)| format!("{}:{}", clean(k), clean(v))),
    );
    let value = if value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{}", value as i64)
    } else {
        format!("{value}")
    };
    if all.is_empty() {
        format!("{name}:{value}|{kind}")
    } else {
        format!("{name}:{value}|{kind}|#{}", all.join(","))
    }
}

/// A tag without the characters that separate a datagram's parts.
fn clean(s: &str) -> String {
    s.chars()
        .map(|c| {
            if matches!(c, '|' | ',' | '#' | '\n' | '\r') {
                '_'
            } else {
                c
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_in_the_dogstatsd_format() {
        let base = vec!["env:prod".to_string()];
        let cases = [
            (
                "tracker_exporter",
                "etl_duration_seconds",
                12.5,
                Kind::Timing,
                vec![],
                "tracker_exporter_etl_duration_seconds:12.5|ms|#env:prod",
            ),
            (
                "tracker_exporter",
                "issues_total_processed_count",
                300.0,
                Kind::Count,
                vec![("source", "tr")],
                "tracker_exporter_issues_total_processed_count:300|c|#env:prod,source:tr",
            ),
            (
                "",
                "last_update_timestamp",
                1767225600.0,
                Kind::Gauge,
                vec![],
                "last_update_timestamp:1767225600|g|#env:prod",
            ),
            (
                "p",
                "x",
                1.0,
                Kind::Gauge,
                vec![("job", "a,b|c#d")],
                "p_x:1|g|#env:prod,job:a_b_c_d",
            ),
        ];
        for (prefix, name, value, kind, tags, want) in cases {
            assert_eq!(datagram(prefix, name, value, kind, &base, &tags), want);
        }
        assert_eq!(datagram("p", "x", 2.0, Kind::Count, &[], &[]), "p_x:2|c");
    }

    #[test]
    fn datagrams_reach_a_listener() {
        let agent = UdpSocket::bind("127.0.0.1:0").unwrap();
        agent
            .set_read_timeout(Some(std::time::Duration::from_secs(5)))
            .unwrap();
        let port = agent.local_addr().unwrap().port();
        let statsd = Statsd::connect(&StatsdConfig {
            host: "127.0.0.1".into(),
            port,
            prefix: "flowlake".into(),
            tags: vec![],
        })
        .unwrap();
        statsd.send("job_runs", 1.0, Kind::Count, &[("job", "sync")]);
        let mut buf = [0u8; 512];
        let n = agent.recv(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"flowlake_job_runs:1|c|#job:sync");
    }
}
