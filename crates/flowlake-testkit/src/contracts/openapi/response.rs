//! Checking an answer: its body validated against the response schema its operation declares for its status,
//! the errors told by JSON pointer, a nullable schema's by the branch that matters ([`check_response`]).

use serde_json::Value;

use super::{OperationId, Spec, MAX_ERRORS};

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
