//! Recording exchanges to a directory and serving them back, so tests and demos run offline on real shapes.
//!
//! One exchange per file (`000001.json`, …): method, URL, request body, status, headers and body. Credentials
//! never reach the files: authorization and cookie headers are dropped and secret-looking query parameters
//! are masked. Replay matches method, URL and request body; when the same request was recorded several times
//! (a 502, then a 200), the recordings are served in order and the last one repeats.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use flowlake_core::redact_url;

use super::{HttpError, Request, Response};

/// One recorded request and its response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Exchange {
    /// Method.
    pub method: String,
    /// URL, secrets masked.
    pub url: String,
    /// Request body (GraphQL), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_body: Option<String>,
    /// Status code.
    pub status: u16,
    /// Response headers, lower-case names, secrets dropped.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Response body.
    #[serde(default)]
    pub body: String,
}

const SECRET_HEADERS: [&str; 7] = [
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
    "x-api-key",
    "private-token",
    "x-auth-token",
];

/// Saves exchanges into a directory.
#[derive(Debug)]
pub struct Recorder {
    dir: PathBuf,
    seq: AtomicU64,
}

impl Recorder {
    /// Records into `dir`, created if missing; numbering continues after files already there.
    pub fn new(dir: &Path) -> Result<Self, HttpError> {
        std::fs::create_dir_all(dir).map_err(|e| tape_err(dir, e))?;
        let existing = std::fs::read_dir(dir)
            .map_err(|e| tape_err(dir, e))?
            .filter_map(|e| e.ok())
            .filter_map(|e| {
                e.file_name()
                    .to_str()?
                    .strip_suffix(".json")?
                    .parse::<u64>()
                    .ok()
            })
            .max()
            .unwrap_or(0);
        Ok(Self {
            dir: dir.to_path_buf(),
            seq: AtomicU64::new(existing),
        })
    }

    /// Saves one exchange.
    pub fn save(&self, request: &Request, response: &Response) -> Result<(), HttpError> {
        let n = self.seq.fetch_add(1, Ordering::SeqCst) + 1;
        let exchange = Exchange {
            method: request.method.clone(),
            url: redact_url(&request.url),
            request_body: request.body.clone(),
            status: response.status,
            headers: response
                .headers
                .iter()
                .filter(|(k, _)| !SECRET_HEADERS.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            body: response.body.clone(),
        };
        let path = self.dir.join(format!("{n:06}.json"));
        let text = serde_json::to_string_pretty(&exchange).map_err(|e| tape_err(&path, e))?;
        std::fs::write(&path, text).map_err(|e| tape_err(&path, e))
    }
}

type Key = (String, String, Option<String>);

/// Serves recorded exchanges.
#[derive(Debug)]
pub struct Replay {
    dir: PathBuf,
    exchanges: Mutex<HashMap<Key, VecDeque<Exchange>>>,
}

impl Replay {
    /// Loads every `*.json` exchange of `dir`, in file-name order. A directory that does not exist or
    /// holds no exchange is an error: a replay of it could only fail at its first request, less clearly.
    pub fn load(dir: &Path) -> Result<Self, HttpError> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::NotFound => tape_err(
                    dir,
                    "no such directory to replay (record one with `flowlake sync --record DIR`)",
                ),
                _ => tape_err(dir, e),
            })?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        if files.is_empty() {
            return Err(tape_err(
                dir,
                "holds no recorded exchange to replay (the *.json files `flowlake sync --record DIR` writes)",
            ));
        }
        files.sort();
        let mut all = Vec::new();
        for f in files {
            let text = std::fs::read_to_string(&f).map_err(|e| tape_err(&f, e))?;
            all.push(
                serde_json::from_str(&text)
                    .map_err(|e| tape_err(&f, format!("not a recorded exchange: {e}")))?,
            );
        }
        Ok(Self::from_exchanges(dir, all))
    }

    /// Exchanges given as JSON Lines, one [`Exchange`] per line (a tape shipped inside the binary); `name`
    /// names it in errors.
    pub fn from_lines(name: &str, text: &str) -> Result<Self, HttpError> {
        let path = Path::new(name);
        let all = text
            .lines()
            .filter(|l| !l.trim().is_empty())
            .enumerate()
            .map(|(i, l)| {
                serde_json::from_str(l).map_err(|e| {
                    tape_err(
                        path,
                        format!("line {}: not a recorded exchange: {e}", i + 1),
                    )
                })
            })
            .collect::<Result<Vec<Exchange>, _>>()?;
        Ok(Self::from_exchanges(path, all))
    }

    fn from_exchanges(dir: &Path, all: Vec<Exchange>) -> Self {
        let mut exchanges: HashMap<Key, VecDeque<Exchange>> = HashMap::new();
        for x in all {
            exchanges
                .entry((x.method.clone(), x.url.clone(), x.request_body.clone()))
                .or_default()
                .push_back(x);
        }
        Self {
            dir: dir.to_path_buf(),
            exchanges: Mutex::new(exchanges),
        }
    }

    /// The recorded answer to `request` (its URL absolute).
    pub fn answer(&self, request: &Request) -> Result<Response, HttpError> {
        let key = (
            request.method.clone(),
            redact_url(&request.url),
            request.body.clone(),
        );
        let mut all = self
            .exchanges
            .lock()
            .map_err(|_| tape_err(&self.dir, "replay state poisoned"))?;
        let queue = all.get_mut(&key).ok_or_else(|| HttpError::Tape {
            path: self.dir.display().to_string(),
            message: format!("no recorded exchange for {} {}", key.0, key.1),
        })?;
        let x = if queue.len() > 1 {
            queue.pop_front()
        } else {
            queue.front().cloned()
        }
        .ok_or_else(|| tape_err(&self.dir, "empty recording"))?;
        Ok(Response {
            status: x.status,
            url: x.url,
            redirected_from: None,
            headers: x.headers,
            body: x.body,
        })
    }
}

fn tape_err(path: &Path, e: impl std::fmt::Display) -> HttpError {
    HttpError::Tape {
        path: path.display().to_string(),
        message: e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recorded_exchanges_replay_in_order_without_secrets() {
        let dir = tempfile::tempdir().unwrap();
        let rec = Recorder::new(dir.path()).unwrap();
        let req = Request::get("issues", "https://api.example/issues?access_token=t0ken");
        let mut headers = BTreeMap::new();
        headers.insert("set-cookie".to_string(), "session=s3cret".to_string());
        headers.insert("etag".to_string(), "\"v1\"".to_string());
        let fail = Response {
            status: 502,
            url: req.url.clone(),
            redirected_from: None,
            headers: headers.clone(),
            body: "bad gateway".into(),
        };
        let ok = Response {
            status: 200,
            body: "[]".into(),
            ..fail.clone()
        };
        rec.save(&req, &fail).unwrap();
        rec.save(&req, &ok).unwrap();
        let all: String = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
            .collect();
        assert!(!all.contains("t0ken") && !all.contains("s3cret"), "{all}");
        let replay = Replay::load(dir.path()).unwrap();
        assert_eq!(replay.answer(&req).unwrap().status, 502);
        assert_eq!(replay.answer(&req).unwrap().status, 200);
        assert_eq!(replay.answer(&req).unwrap().status, 200);
        assert_eq!(replay.answer(&req).unwrap().header("etag"), Some("\"v1\""));
        let missing = replay
            .answer(&Request::get("x", "https://api.example/other"))
            .unwrap_err()
            .to_string();
        assert!(
            missing.contains("no recorded exchange for GET https://api.example/other"),
            "{missing}"
        );
        // A second recorder continues the numbering.
        Recorder::new(dir.path()).unwrap().save(&req, &ok).unwrap();
        assert!(dir.path().join("000003.json").exists());
    }

    #[test]
    fn a_replay_of_a_missing_or_empty_directory_fails_clearly() {
        let dir = tempfile::tempdir().unwrap();
        let missing = Replay::load(&dir.path().join("nonexistent"))
            .unwrap_err()
            .to_string();
        assert!(
            missing.contains("nonexistent: no such directory to replay"),
            "{missing}"
        );
        let empty = Replay::load(dir.path()).unwrap_err().to_string();
        assert!(empty.contains("holds no recorded exchange"), "{empty}");
    }
}
