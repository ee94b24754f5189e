//! Checking an answer: the shape of an endpoint's recordings ([`Node`]), compared with the answer key by key and
//! type by type, and for GitLab the vendor's schema ([`check_response`]).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::{Applies, Contract, Endpoint, MAX_ERRORS};

/// What the recordings show at one place of an answer: the JSON types seen, and for objects the keys with how
/// many of the objects had each, for arrays the merged shape of their items.
#[derive(Debug, Default)]
pub(super) struct Node {
    types: BTreeSet<&'static str>,
    objects: usize,
    keys: BTreeMap<String, (usize, Node)>,
    items: Option<Box<Node>>,
}

fn type_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

impl Node {
    /// Adds a recorded value.
    pub(super) fn absorb(&mut self, v: &Value) {
        self.types.insert(type_of(v));
        match v {
            Value::Object(m) => {
                self.objects += 1;
                for (k, v) in m {
                    let (count, node) = self.keys.entry(k.clone()).or_default();
                    *count += 1;
                    node.absorb(v);
                }
            }
            Value::Array(a) => {
                for item in a {
                    self.items.get_or_insert_with(Default::default).absorb(item);
                }
            }
            _ => {}
        }
    }
}

/// Whether a rule's path (`*.cloudUid` for any depth) names `path`.
pub(super) fn names(rule: &str, path: &str) -> bool {
    match rule.strip_prefix("*.") {
        Some(tail) => path == tail || path.ends_with(&format!(".{tail}")),
        None => rule == path,
    }
}

fn listed(rules: &[(&str, &str)], path: &str) -> bool {
    rules.iter().any(|(r, _)| names(r, path))
}

/// Compares a value of the fake's with what the recordings show at `path`.
fn compare(endpoint: &Endpoint, node: &Node, path: &str, v: &Value, out: &mut Vec<String>) {
    if listed(endpoint.any, path) {
        return;
    }
    let at = if path.is_empty() { "the item" } else { path };
    let found = type_of(v);
    let fits = node.types.contains(found)
        || (found == "integer" && node.types.contains("number"))
        || (found == "null" && listed(endpoint.also_null, path));
    if !fits {
        out.push(format!(
            "{at} is {found}; the recorded answers have {:?} there",
            node.types
        ));
        return;
    }
    match v {
        Value::Object(m) => {
            for (key, (count, _)) in &node.keys {
                let p = join(path, key);
                if *count == node.objects && !m.contains_key(key) && !listed(endpoint.may_omit, &p)
                {
                    out.push(format!("{p} is missing: every recorded answer has it"));
                }
            }
            for (key, value) in m {
                let p = join(path, key);
                match node.keys.get(key) {
                    Some((_, child)) => compare(endpoint, child, &p, value, out),
                    None if listed(endpoint.extra, &p) => {}
                    None => out.push(format!("{p} is in no recorded answer")),
                }
            }
        }
        Value::Array(a) => match &node.items {
            Some(items) => {
                let p = format!("{path}[]");
                for item in a {
                    compare(endpoint, items, &p, item, out);
                }
            }
            None if !a.is_empty() => out.push(format!(
                "{at} has items; the recorded answers have only empty lists there"
            )),
            None => {}
        },
        _ => {}
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// Checks a 2xx answer of `endpoint` against its recordings and, for GitLab, its JSON schema. The body of every
/// endpoint here is a JSON array of items; each item is compared with the recorded items.
pub fn check_response(
    contract: &'static Contract,
    endpoint: &'static Endpoint,
    body: &Value,
) -> Result<(), Vec<String>> {
    let Some(loaded) = contract.loaded(endpoint) else {
        return Err(vec![format!(
            "{}: {} is not one of its endpoints",
            contract.name, endpoint.name
        )]);
    };
    let mut found = Vec::new();
    let Value::Array(items) = body else {
        return Err(vec![format!(
            "{} {}: the answer is {}, not a list",
            contract.name,
            endpoint.name,
            type_of(body)
        )]);
    };
    if let Some(shape) = &loaded.shape {
        let item_shape = shape.items.as_deref();
        for (n, item) in items.iter().enumerate() {
            let mut errors = Vec::new();
            match item_shape {
                Some(s) => compare(endpoint, s, "", item, &mut errors),
                None => errors.push("the recordings hold no item".to_string()),
            }
            found.extend(errors.into_iter().map(|e| format!("item {n}: {e}")));
        }
    }
    if let (Some(validator), Some((file, applies))) = (&loaded.validator, endpoint.schema) {
        let targets: Vec<(String, &Value)> = match applies {
            Applies::Body => vec![(String::new(), body)],
            Applies::Each => items
                .iter()
                .enumerate()
                .map(|(n, i)| (format!("item {n}"), i))
                .collect(),
        };
        for (label, value) in targets {
            for e in validator.iter_errors(value) {
                found.push(format!(
                    "{label}{}{}: {e} (GitLab's {file})",
                    if label.is_empty() { "" } else { " " },
                    e.instance_path()
                ));
            }
        }
    }
    let more = found.len().saturating_sub(MAX_ERRORS);
    let mut errors: Vec<String> = found
        .into_iter()
        .take(MAX_ERRORS)
        .map(|e| format!("{} {}: {e}", contract.name, endpoint.name))
        .collect();
    if more > 0 {
        errors.push(format!("… and {more} more"));
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}
