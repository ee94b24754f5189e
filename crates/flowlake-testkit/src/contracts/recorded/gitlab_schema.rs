//! GitLab's own JSON schemas (`spec/fixtures/api/schemas/public_api/v4`) as validators of the fake's answers,
//! with the corrections the answers recorded from gitlab.com need where a schema and a real answer disagree
//! ([`patch_gitlab_schema`]).

use jsonschema::{Draft, Validator};
use serde_json::{json, Value};

use super::load::fixture;

/// GitLab's schemas, served to the validator under this base so their relative `$ref`s resolve.
const SCHEMA_BASE: &str = "https://gitlab.invalid/schemas/";

/// Resolves a schema's `$ref` (`user/basic.json`) to the fixture of that name, corrected.
struct SchemaFiles;

impl jsonschema::Retrieve for SchemaFiles {
    fn retrieve(
        &self,
        uri: &jsonschema::Uri<String>,
    ) -> Result<Value, Box<dyn std::error::Error + Send + Sync>> {
        let name = uri
            .as_str()
            .strip_prefix(SCHEMA_BASE)
            .ok_or_else(|| format!("{uri} is not one of GitLab's schemas"))?;
        gitlab_schema(name).ok_or_else(|| format!("no GitLab schema {name}").into())
    }
}

/// GitLab's schema `name`, corrected ([`patch_gitlab_schema`]).
pub(super) fn gitlab_schema(name: &str) -> Option<Value> {
    let text = fixture(&format!("gitlab/schemas/{name}"))?;
    let mut schema: Value = serde_json::from_str(text).ok()?;
    patch_gitlab_schema(name, &mut schema);
    Some(schema)
}

/// The corrections GitLab's schemas need to accept the answers recorded from gitlab.com. Each is a place where
/// the schema (written for GitLab's own test data) and a real answer disagree; the real answer wins:
/// - `notes.json` writes `"type": "uri"` (and other schemas of its age `"type": "date"`), which are no JSON
///   types; they are read as strings.
/// - `milestone.json` declares `due_date` and `start_date` `date-time`, but GitLab writes dates (`"2019-07-02"`
///   in every recorded milestone); they are read as `issue.json`'s milestone reads them: a date-time or a date.
/// - `artifact.json` declares `file_format` a string, but the recorded job trace artifact has
///   `"file_format": null`.
/// - `job.json` forbids unlisted properties and lacks `failure_reason`, which a recorded failed job has; and it
///   requires `archived`, which no recorded job (gitlab.com, 2023-11) has.
fn patch_gitlab_schema(name: &str, schema: &mut Value) {
    fn types(v: &mut Value) {
        match v {
            Value::Object(m) => {
                let not_a_type =
                    matches!(m.get("type"), Some(Value::String(t)) if t == "uri" || t == "date");
                if not_a_type {
                    m.insert("type".into(), json!("string"));
                }
                m.values_mut().for_each(types);
            }
            Value::Array(a) => a.iter_mut().for_each(types),
            _ => {}
        }
    }
    types(schema);
    match name {
        "milestone.json" => {
            for key in ["due_date", "start_date"] {
                if let Some(p) = schema.pointer_mut(&format!("/properties/{key}")) {
                    *p = json!({"type": ["string", "null"], "anyOf": [{"format": "date-time"}, {"format": "date"}]});
                }
            }
        }
        "artifact.json" => {
            if let Some(p) = schema.pointer_mut("/properties/file_format") {
                *p = json!({"type": ["string", "null"]});
            }
        }
        "job.json" => {
            if let Some(Value::Object(props)) = schema.pointer_mut("/properties") {
                props.insert("failure_reason".into(), json!({"type": "string"}));
            }
            if let Some(Value::Array(required)) = schema.pointer_mut("/required") {
                required.retain(|r| r != "archived");
            }
        }
        _ => {}
    }
}

/// The validator of GitLab's schema `file` (a missing or broken fixture is a broken build).
pub(super) fn gitlab_validator(file: &str) -> Validator {
    let schema = gitlab_schema(file).unwrap_or_else(|| panic!("no GitLab schema {file}"));
    jsonschema::options()
        .with_draft(Draft::Draft4)
        .with_base_uri(format!("{SCHEMA_BASE}{file}"))
        .with_retriever(SchemaFiles)
        .should_validate_formats(true)
        .build(&schema)
        .unwrap_or_else(|e| panic!("GitLab schema {file} does not compile: {e}"))
}
