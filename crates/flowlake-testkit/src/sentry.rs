//! A fake Sentry ingest: the envelope endpoint of Relay, which every current Sentry SDK posts to, capturing
//! what it is sent.
//!
//! Contract: Sentry's SDK developer documentation, "Envelopes"
//! (<https://develop.sentry.dev/sdk/foundations/transport/envelopes/>): `POST /api/<project_id>/envelope/`,
//! authenticated by an `X-Sentry-Auth: Sentry sentry_key=<public key>, sentry_version=7, …` header (or the
//! `sentry_key` query parameter); the body is an envelope header (one JSON line), then items, each a JSON
//! header line with its `type` and, optionally, the `length` of its payload in bytes, then the payload (up to
//! the next newline when `length` is absent). Relay answers `200 {"id": "<event id>"}`, and a request without
//! a valid key with 401/403 and `{"detail": "…"}`. The parser here is written from that page, not taken from
//! the SDK, so a client that breaks the format fails the test.

use serde_json::{json, Value};
use std::time::{Duration, Instant};
use wiremock::{MockServer, Request, Respond, ResponseTemplate};

use crate::shared::{header, serve};

/// The DSN's public key the fake accepts.
pub const SENTRY_KEY: &str = "a1b2c3d4e5f60718293a4b5c6d7e8f90";
/// The DSN's project id.
pub const SENTRY_PROJECT: u32 = 4242;

/// One envelope item: its header and its payload (parsed as JSON when it is JSON, else a string).
#[derive(Debug, Clone, PartialEq)]
pub struct EnvelopeItem {
    /// The item's header (`type`, `length`, …).
    pub header: Value,
    /// The payload.
    pub payload: Value,
}

/// One received envelope.
#[derive(Debug, Clone, PartialEq)]
pub struct Envelope {
    /// The envelope's header (`event_id`, `dsn`, `sent_at`, …).
    pub header: Value,
    /// Its items, in order.
    pub items: Vec<EnvelopeItem>,
}

/// Parses `body` as the envelope format; `Err` says where it breaks the format.
pub fn parse_envelope(body: &[u8]) -> Result<Envelope, String> {
    let line = |at: usize| -> (&[u8], usize) {
        let end = body[at..]
            .iter()
            .position(|b| *b == b'\n')
            .map_or(body.len(), |p| at + p);
        (&body[at..end], (end + 1).min(body.len()))
    };
    let (first, mut at) = line(0);
    let header: Value =
        serde_json::from_slice(first).map_err(|e| format!("envelope header: {e}"))?;
    let mut items = Vec::new();
    while at < body.len() {
        let (head, next) = line(at);
        if head.is_empty() {
            at = next;
            continue;
        }
        let item_header: Value = serde_json::from_slice(head)
            .map_err(|e| format!("item {} header: {e}", items.len()))?;
        if item_header.get("type").and_then(Value::as_str).is_none() {
            return Err(format!("item {} header has no `type`", items.len()));
        }
        let (payload, after) = match item_header.get("length").and_then(Value::as_u64) {
            Some(n) => {
                let end = next + usize::try_from(n).map_err(|e| e.to_string())?;
                if end > body.len() {
                    return Err(format!(
                        "item {}: length {n} runs past the body",
                        items.len()
                    ));
                }
                (&body[next..end], end + 1)
            }
            None => line(next),
        };
        let payload = serde_json::from_slice(payload)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(payload).into_owned()));
        items.push(EnvelopeItem {
            header: item_header,
            payload,
        });
        at = after;
    }
    Ok(Envelope { header, items })
}

struct Ingest;

impl Respond for Ingest {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let path = format!("/api/{SENTRY_PROJECT}/envelope/");
        if req.method.as_str() != "POST" || req.url.path() != path {
            return ResponseTemplate::new(404).set_body_json(json!({"detail": "not found"}));
        }
        let auth = header(req, "x-sentry-auth").unwrap_or_default();
        let key = format!("sentry_key={SENTRY_KEY}");
        let by_query = req
            .url
            .query_pairs()
            .any(|(k, v)| k == "sentry_key" && v == SENTRY_KEY);
        let by_header = auth.starts_with("Sentry ") && auth.contains(&key);
        if !(by_header || by_query) {
            return ResponseTemplate::new(401)
                .set_body_json(json!({"detail": "missing authorization information"}));
        }
        match parse_envelope(&req.body) {
            Ok(envelope) => {
                let id = envelope
                    .header
                    .get("event_id")
                    .cloned()
                    .unwrap_or(Value::Null);
                ResponseTemplate::new(200).set_body_json(json!({ "id": id }))
            }
            Err(e) => ResponseTemplate::new(400).set_body_json(json!({ "detail": e })),
        }
    }
}

/// The fake ingest, on loopback.
pub struct SentryIngest {
    runtime: tokio::runtime::Runtime,
    server: MockServer,
}

impl SentryIngest {
    /// Starts it.
    pub fn start() -> Self {
        let (runtime, server) = serve(|_| Ingest);
        Self { runtime, server }
    }

    /// The DSN a client sends to it with.
    pub fn dsn(&self) -> String {
        let address = self.server.address();
        format!("http://{SENTRY_KEY}@{address}/{SENTRY_PROJECT}")
    }

    /// Every envelope accepted so far, in order.
    pub fn envelopes(&self) -> Vec<Envelope> {
        self.runtime
            .block_on(self.server.received_requests())
            .unwrap_or_default()
            .iter()
            .filter_map(|r| parse_envelope(&r.body).ok())
            .collect()
    }

    /// The raw bodies received so far, for checking what they must not hold.
    pub fn bodies(&self) -> Vec<String> {
        self.runtime
            .block_on(self.server.received_requests())
            .unwrap_or_default()
            .iter()
            .map(|r| String::from_utf8_lossy(&r.body).into_owned())
            .collect()
    }

    /// The payloads of `event` items received, waiting up to `within` for at least `n` of them.
    pub fn events(&self, n: usize, within: Duration) -> Vec<Value> {
        let deadline = Instant::now() + within;
        loop {
            let events: Vec<Value> = self
                .envelopes()
                .into_iter()
                .flat_map(|e| e.items)
                .filter(|i| i.header.get("type").and_then(Value::as_str) == Some("event"))
                .map(|i| i.payload)
                .collect();
            if events.len() >= n || Instant::now() > deadline {
                return events;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelopes_parse_with_and_without_item_lengths() {
        // The documentation's own examples: an event with an explicit length, and items without one.
        let body = b"{\"event_id\":\"9ec79c33ec9942ab8353589fcb2e04dc\",\"dsn\":\"https://e12d836b15bb49d7bbf99e64295d995b:@sentry.io/42\"}\n\
{\"type\":\"event\",\"length\":41,\"content_type\":\"application/json\"}\n\
{\"message\":\"hello world\",\"level\":\"error\"}\n\
{\"type\":\"attachment\"}\n\
helloworld\n";
        let e = parse_envelope(body).unwrap();
        assert_eq!(e.items.len(), 2);
        assert_eq!(e.items[0].payload["message"], "hello world");
        assert_eq!(e.items[1].payload, Value::String("helloworld".into()));
        assert!(parse_envelope(b"{}\n{\"length\":2}\n{}\n").is_err());
        assert!(parse_envelope(b"{}\n{\"type\":\"event\",\"length\":99}\n{}\n").is_err());
    }
}
