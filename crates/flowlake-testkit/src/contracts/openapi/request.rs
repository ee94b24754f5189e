//! Checking a request: matching its path to an operation's path template ([`Route`]), then its query against the
//! operation's declared parameters, each value coerced to the JSON its schema types it as ([`check_request`]).

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::{OperationId, Spec};

/// A path template, split into segments.
#[derive(Debug)]
pub(super) struct Route {
    template: String,
    segments: Vec<Segment>,
}

/// One segment of a path template.
#[derive(Debug)]
enum Segment {
    Literal(String),
    /// `{name}`, with what surrounds it in the segment (`{name}.json`).
    Param {
        name: String,
        prefix: String,
        suffix: String,
    },
}

impl Route {
    pub(super) fn new(template: &str) -> Self {
        let segments = template
            .trim_matches('/')
            .split('/')
            .map(|s| match (s.find('{'), s.rfind('}')) {
                (Some(open), Some(close)) if open < close => Segment::Param {
                    name: s[open + 1..close].to_string(),
                    prefix: s[..open].to_string(),
                    suffix: s[close + 1..].to_string(),
                },
                _ => Segment::Literal(s.to_string()),
            })
            .collect();
        Self {
            template: template.to_string(),
            segments,
        }
    }

    /// The path parameters if `path` (split into raw segments) matches, and how many literal segments
    /// matched (the most specific route wins: `/issue/createmeta` over `/issue/{issueIdOrKey}`).
    fn matches(&self, path: &[&str]) -> Option<(usize, Vec<(String, String)>)> {
        if path.len() != self.segments.len() {
            return None;
        }
        let (mut literal, mut params) = (0, Vec::new());
        for (seg, part) in self.segments.iter().zip(path) {
            match seg {
                Segment::Literal(l) if l == part => literal += 1,
                Segment::Literal(_) => return None,
                Segment::Param {
                    name,
                    prefix,
                    suffix,
                } => {
                    let value = part.strip_prefix(prefix.as_str())?;
                    let value = value.strip_suffix(suffix.as_str())?;
                    if value.is_empty() {
                        return None;
                    }
                    params.push((name.clone(), decode(value)));
                }
            }
        }
        Some((literal, params))
    }
}

/// `%`-decoding of a path segment (a `+` stays a `+`); what is not an escape stays as it is.
pub(super) fn decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

/// A query parameter value as the JSON value its schema types it as; a value that does not parse stays a
/// string, which the schema then refuses with the reason.
fn coerce(schema: &Value, raw: &str) -> Value {
    let ty = schema
        .get("type")
        .and_then(Value::as_str)
        .or_else(|| schema.pointer("/allOf/0/type").and_then(Value::as_str));
    match ty {
        Some("integer") => raw.parse::<i64>().map_or_else(|_| json!(raw), Value::from),
        Some("number") => raw
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map_or_else(|| json!(raw), Value::Number),
        Some("boolean") => match raw {
            "true" => json!(true),
            "false" => json!(false),
            _ => json!(raw),
        },
        _ => json!(raw),
    }
}

/// Which operation of `spec` answers `method` on `path_and_query` (as sent, `%`-encoded, with or without the
/// scheme and host), if every query parameter is one the operation declares, its value fits the parameter's
/// schema (type, enum, minimum, maximum) and every required parameter is there. `Err` lists every reason the
/// request breaks the contract.
pub fn check_request(
    spec: &Spec,
    method: &str,
    path_and_query: &str,
) -> Result<OperationId, Vec<String>> {
    let without_host = match path_and_query.split_once("://") {
        Some((_, rest)) => rest.find('/').map_or("/", |i| &rest[i..]),
        None => path_and_query,
    };
    let without_fragment = without_host.split('#').next().unwrap_or_default();
    let (path, query) = without_fragment
        .split_once('?')
        .unwrap_or((without_fragment, ""));
    let method = method.to_ascii_lowercase();

    let mut candidates = vec![path.to_string()];
    for prefix in spec.options.prefixes {
        if let Some(rest) = path.strip_prefix(prefix) {
            candidates.push(rest.to_string());
        }
    }
    for (from, to) in spec.options.aliases {
        let aliased: Vec<String> = candidates
            .iter()
            .filter_map(|c| c.strip_prefix(from).map(|rest| format!("{to}{rest}")))
            .collect();
        candidates.extend(aliased);
    }
    let found = candidates.iter().find_map(|c| {
        let parts: Vec<&str> = c.trim_matches('/').split('/').collect();
        spec.routes
            .iter()
            .filter_map(|r| r.matches(&parts).map(|(score, params)| (score, r, params)))
            .max_by_key(|(score, _, _)| *score)
    });
    let Some((_, route, path_params)) = found else {
        return Err(vec![format!(
            "{}: no operation matches the path {path}",
            spec.name()
        )]);
    };
    let item = &spec.doc["paths"][&route.template];
    let Some(operation) = item.get(&method).filter(|o| o.is_object()) else {
        let methods: Vec<String> = item
            .as_object()
            .map(|m| {
                m.keys()
                    .filter(|k| k.as_str() != "parameters")
                    .map(|k| k.to_uppercase())
                    .collect()
            })
            .unwrap_or_default();
        return Err(vec![format!(
            "{}: {} is not an operation of {} (it has {})",
            spec.name(),
            method.to_uppercase(),
            route.template,
            methods.join(", ")
        )]);
    };
    let op = OperationId {
        id: operation["operationId"]
            .as_str()
            .unwrap_or(&route.template)
            .to_string(),
        path: route.template.clone(),
        method: method.clone(),
    };

    // The path item's parameters, then the operation's (which override them by name and place).
    let mut declared: BTreeMap<(String, String), &Value> = BTreeMap::new();
    for list in [item.get("parameters"), operation.get("parameters")] {
        for p in list.and_then(Value::as_array).into_iter().flatten() {
            let p = spec.resolve(p);
            if let (Some(name), Some(place)) = (p["name"].as_str(), p["in"].as_str()) {
                declared.insert((place.to_string(), name.to_string()), p);
            }
        }
    }

    let mut given: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
        given
            .entry(k.into_owned())
            .or_default()
            .push(v.into_owned());
    }

    let mut errors = Vec::new();
    let mut check = |place: &str, name: &str, values: &[String]| {
        let Some(p) = declared.get(&(place.to_string(), name.to_string())) else {
            errors.push(format!(
                "{op}: the {place} parameter `{name}` is not declared (it has {})",
                declared
                    .keys()
                    .filter(|(pl, _)| pl == place)
                    .map(|(_, n)| n.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
            return;
        };
        let schema = spec.resolve(&p["schema"]);
        let value = if schema["type"] == "array" {
            let items = spec.resolve(&schema["items"]);
            Value::Array(
                values
                    .iter()
                    .flat_map(|v| v.split(','))
                    .map(|v| coerce(items, v))
                    .collect(),
            )
        } else {
            if values.len() > 1 {
                errors.push(format!(
                    "{op}: the {place} parameter `{name}` is given {} times",
                    values.len()
                ));
            }
            coerce(schema, values.first().map_or("", String::as_str))
        };
        let key = format!("{} {} parameter {place} {name}", op.id, op.method);
        match spec.validator(&key, &p["schema"]) {
            Err(e) => errors.push(e),
            Ok(v) => errors.extend(v.iter_errors(&value).map(|e| {
                format!(
                    "{op}: the {place} parameter `{name}={}`: {e}",
                    values.join("&")
                )
            })),
        }
    };
    // A template parameter the document does not declare is the document's gap, not the request's.
    for (name, value) in &path_params {
        if declared.contains_key(&("path".to_string(), name.clone())) {
            check("path", name, std::slice::from_ref(value));
        }
    }
    for (name, values) in &given {
        check("query", name, values);
    }
    for ((place, name), p) in &declared {
        let present = match place.as_str() {
            "query" => given.contains_key(name),
            "path" => path_params.iter().any(|(n, _)| n == name),
            _ => true,
        };
        if p["required"] == Value::Bool(true) && !present {
            errors.push(format!(
                "{op}: the required {place} parameter `{name}` is missing"
            ));
        }
    }
    if errors.is_empty() {
        Ok(op)
    } else {
        Err(errors)
    }
}
