//! Loading a document into a [`Spec`]: parsing and correcting it, resolving its references, and translating
//! each response schema from OpenAPI 3.0's dialect to JSON Schema (nullable unions, the components it refers
//! to copied next to it) and compiling it, once per operation and status.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

use jsonschema::{Draft, Validator};
use serde_json::{json, Map, Value};

use super::vendors::jira_date_time;
use super::{OperationId, Options, Route, Spec};

impl Spec {
    /// Reads the document `options` names (a missing file is a broken test setup: see [`crate::contracts::read`]).
    pub fn load(options: Options) -> Self {
        let text = crate::contracts::read(options.file);
        Self::parse(options, &text)
    }

    /// Parses `text` as the document of `options`.
    pub fn parse(options: Options, text: &str) -> Self {
        let mut doc: Value = serde_json::from_str(text)
            .unwrap_or_else(|e| panic!("{} ({}) is not JSON: {e}", options.name, options.file));
        (options.patch)(&mut doc);
        let routes = doc["paths"]
            .as_object()
            .map(|paths| paths.keys().map(|p| Route::new(p)).collect())
            .unwrap_or_default();
        Self {
            options,
            doc,
            routes,
            validators: Mutex::new(HashMap::new()),
        }
    }

    /// Whose contract this is.
    pub fn name(&self) -> &'static str {
        self.options.name
    }

    /// The document's value at `#/…` reference `r`, following references.
    pub(super) fn resolve<'a>(&'a self, mut value: &'a Value) -> &'a Value {
        for _ in 0..16 {
            match value.get("$ref").and_then(Value::as_str) {
                Some(r) => match self.doc.pointer(r.trim_start_matches('#')) {
                    Some(v) => value = v,
                    None => return value,
                },
                None => return value,
            }
        }
        value
    }

    /// The operation's object in the document.
    pub(super) fn operation(&self, op: &OperationId) -> Option<&Value> {
        self.doc.get("paths")?.get(&op.path)?.get(&op.method)
    }

    /// The validator of `schema` under `key`, compiled on first use.
    pub(super) fn validator(&self, key: &str, schema: &Value) -> Result<Arc<Validator>, String> {
        let mut cache = self.validators.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(v) = cache.get(key) {
            return Ok(v.clone());
        }
        let root = self.bundle(schema);
        let mut options = jsonschema::options()
            .with_draft(Draft::Draft4)
            .should_validate_formats(true);
        if self.options.offset_without_colon {
            options = options.with_format("date-time", jira_date_time);
        }
        let compiled = Arc::new(
            options
                .build(&root)
                .map_err(|e| format!("{} schema of {key} does not compile: {e}", self.name()))?,
        );
        cache.insert(key.to_string(), compiled.clone());
        Ok(compiled)
    }

    /// `schema` as one JSON Schema document: itself, translated, with every `#/components/...` it reaches
    /// (translated too) at the same place, so its references resolve inside it.
    fn bundle(&self, schema: &Value) -> Value {
        let mut top = schema.clone();
        self.translate(&mut top);
        let mut root = json!({ "allOf": [top] });
        let mut seen = BTreeSet::new();
        let mut todo = Vec::new();
        refs(schema, &mut todo);
        while let Some(r) = todo.pop() {
            if !seen.insert(r.clone()) {
                continue;
            }
            let pointer = r.trim_start_matches('#');
            let Some(target) = self.doc.pointer(pointer) else {
                continue;
            };
            refs(target, &mut todo);
            let mut copy = target.clone();
            self.translate(&mut copy);
            put(&mut root, pointer, copy);
        }
        root
    }

    /// OpenAPI 3.0's schema object → JSON Schema (Draft 4): `nullable` becomes a union with null (every
    /// property, with [`Options::all_nullable`]); examples, which only document, are dropped.
    fn translate(&self, schema: &mut Value) {
        let Value::Object(m) = schema else {
            return;
        };
        m.remove("example");
        m.remove("examples");
        for key in ["items", "not", "additionalProperties"] {
            if let Some(sub) = m.get_mut(key) {
                self.translate(sub);
            }
        }
        for key in ["allOf", "anyOf", "oneOf"] {
            if let Some(Value::Array(subs)) = m.get_mut(key) {
                subs.iter_mut().for_each(|s| self.translate(s));
            }
        }
        if let Some(Value::Object(props)) = m.get_mut("properties") {
            for p in props.values_mut() {
                self.translate(p);
                if self.options.all_nullable {
                    or_null(p);
                }
            }
        }
        let nullable = match m.get("nullable") {
            Some(Value::Bool(b)) => Some(*b),
            _ => None,
        };
        if let Some(b) = nullable {
            m.remove("nullable");
            if b {
                or_null(schema);
            }
        }
    }
}

/// `schema` or null.
fn or_null(schema: &mut Value) {
    let already = schema.pointer("/anyOf/0/type").is_some_and(|t| t == "null");
    if !already {
        let inner = schema.take();
        *schema = json!({"anyOf": [{"type": "null"}, inner]});
    }
}

/// Every local reference (`#/…`) inside `value`.
fn refs(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(m) => {
            if let Some(Value::String(r)) = m.get("$ref") {
                if r.starts_with("#/") {
                    out.push(r.clone());
                }
            }
            m.values().for_each(|v| refs(v, out));
        }
        Value::Array(a) => a.iter().for_each(|v| refs(v, out)),
        _ => {}
    }
}

/// Sets `value` at JSON pointer `pointer` of `root`, making the objects on the way.
fn put(root: &mut Value, pointer: &str, value: Value) {
    let mut at = root;
    let keys: Vec<String> = pointer
        .split('/')
        .skip(1)
        .map(|k| k.replace("~1", "/").replace("~0", "~"))
        .collect();
    for (n, key) in keys.iter().enumerate() {
        if !at.is_object() {
            *at = Value::Object(Map::new());
        }
        let Value::Object(m) = at else {
            return;
        };
        if n + 1 == keys.len() {
            m.insert(key.clone(), value);
            return;
        }
        at = m.entry(key.clone()).or_insert_with(|| json!({}));
    }
}
