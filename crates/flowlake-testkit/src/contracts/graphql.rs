//! GitHub's GraphQL contract: a document is checked the way GitHub checks it before running it — the
//! GraphQL specification's validation against GitHub's published schema (`@octokit/graphql-schema`), the
//! variables coerced to their declared types, then GitHub's own limits on connections: every connection
//! field needs `first` or `last`, each between 1 and 100, and a query may ask for at most 500,000 nodes.
//!
//! A fake answers through [`answer_github`]: the document is checked as above, then *executed* against the
//! fake's data, so the answer holds exactly what was selected, under its aliases, with enum values and
//! non-null fields checked against the schema. A connector that forgets to select a field it reads, or a fake
//! that serves a shape GitHub does not have, fails the test instead of passing in both.
//!
//! The wording of the errors is apollo-compiler's, not GitHub's (graphql-ruby's); tests assert that a
//! document is refused and why, not GitHub's exact text.

use std::sync::LazyLock;

use apollo_compiler::ast::Type;
use apollo_compiler::ast::Value;
use apollo_compiler::executable::{Selection, SelectionSet};
use apollo_compiler::request::coerce_variable_values;
use apollo_compiler::resolvers::{Execution, FieldError, ObjectValue, ResolveInfo, ResolvedValue};
use apollo_compiler::response::{JsonMap, JsonValue};
use apollo_compiler::schema::ExtendedType;
use apollo_compiler::validation::Valid;
use apollo_compiler::{ExecutableDocument, Node, Schema};
use serde_json::{json, Value as Json};

/// The most records GitHub returns per connection (`first`/`last`).
pub const MAX_PAGE: i64 = 100;
/// The most nodes GitHub lets one query ask for.
pub const MAX_NODES: u64 = 500_000;

static GITHUB: LazyLock<Valid<Schema>> =
    LazyLock::new(|| load_schema(&super::read("github/schema.graphql")));

/// Parses GitHub's SDL. The published file defines two fields of `EnterpriseOwnerInfo` twice, which a
/// strict parser refuses; exactly that defect is accepted (the first definition is kept), any other fails.
fn load_schema(sdl: &str) -> Valid<Schema> {
    let schema = match Schema::parse(sdl, "github/schema.graphql") {
        Ok(s) => s,
        Err(e) => {
            let other: Vec<String> = e
                .errors
                .iter()
                .map(|d| d.error.to_string())
                .filter(|m| !m.starts_with("duplicate definitions for the `"))
                .collect();
            assert!(
                other.is_empty(),
                "GitHub's schema does not parse: {other:#?}"
            );
            e.partial
        }
    };
    schema
        .validate()
        .unwrap_or_else(|e| panic!("GitHub's schema is not valid: {}", e.errors))
}

/// Checks `document` with `variables` (a JSON object, or null) as GitHub would; `Ok` carries the number of
/// nodes the query may return, `Err` every reason GitHub would refuse it.
pub fn check_github(document: &str, variables: &serde_json::Value) -> Result<u64, Vec<String>> {
    let schema = &*GITHUB;
    let doc =
        ExecutableDocument::parse_and_validate(schema, document, "query.graphql").map_err(|e| {
            e.errors
                .iter()
                .map(|d| match d.line_column_range() {
                    Some(r) => format!("{}:{}: {}", r.start.line, r.start.column, d.error),
                    None => d.error.to_string(),
                })
                .collect::<Vec<_>>()
        })?;
    let values: JsonMap = match variables {
        serde_json::Value::Null => JsonMap::new(),
        v => serde_json::from_value(v.clone())
            .map_err(|e| vec![format!("variables are not a JSON object: {e}")])?,
    };
    let (mut errors, mut total) = (Vec::new(), 0);
    for op in doc.operations.iter() {
        let vars = match coerce_variable_values(schema, op, &values) {
            Ok(v) => v.into_inner(),
            Err(e) => {
                errors.push(format!("variables: {}", e.message()));
                continue;
            }
        };
        let mut walk = Walk {
            doc: &doc,
            vars: &vars,
            errors: &mut errors,
            nodes: 0,
        };
        walk.selections(&op.selection_set, 1);
        let nodes = walk.nodes;
        total += nodes;
        if nodes > MAX_NODES {
            errors.push(format!(
                "MAX_NODE_LIMIT_EXCEEDED: the query asks for {nodes} nodes (limit {MAX_NODES})"
            ));
        }
    }
    if errors.is_empty() {
        Ok(total)
    } else {
        Err(errors)
    }
}

/// GitHub's answer to `document` with `variables`, where `data` is what the fake holds for the query's root
/// fields, keyed by field name (`{"repository": {"issues": {...}}}`) and carrying `__typename` wherever the
/// schema's type is an interface or a union. A document GitHub refuses gets GitHub's answer to that (HTTP
/// 200, `errors`, no `data`); otherwise `data` is executed against the document, and anything the fake
/// serves that the schema does not allow, or a selected field it does not serve, is an error in the answer
/// (which fails the connector's test).
pub fn answer_github(document: &str, variables: &Json, data: &Json) -> Json {
    if let Err(errors) = check_github(document, variables) {
        return refusal(errors);
    }
    let schema = &*GITHUB;
    let executed = ExecutableDocument::parse_and_validate(schema, document, "query.graphql")
        .map_err(|e| vec![e.errors.to_string()])
        .and_then(|doc| {
            let values: JsonMap = match variables {
                Json::Null => JsonMap::new(),
                v => serde_json::from_value(v.clone()).map_err(|e| vec![e.to_string()])?,
            };
            let Json::Object(root) = data else {
                return Err(vec!["the fake's data is not an object".to_string()]);
            };
            let root = FakeObject {
                ty: "Query".to_string(),
                value: root,
            };
            Execution::new(schema, &doc)
                .raw_variable_values(&values)
                .execute_sync(&root)
                .map_err(|e| vec![e.message().to_string()])
                .and_then(|r| serde_json::to_value(r).map_err(|e| vec![e.to_string()]))
        });
    executed.unwrap_or_else(refusal)
}

/// GitHub's answer to a document it will not run.
pub fn refusal(errors: Vec<String>) -> Json {
    json!({"errors": errors.into_iter().map(|m| json!({"message": m})).collect::<Vec<_>>()})
}

/// An object of the fake's data, as the value of a schema type.
struct FakeObject<'v> {
    ty: String,
    value: &'v serde_json::Map<String, Json>,
}

impl ObjectValue for FakeObject<'_> {
    fn type_name(&self) -> &str {
        &self.ty
    }

    fn resolve_field<'a>(
        &'a self,
        info: &'a ResolveInfo<'a>,
    ) -> Result<ResolvedValue<'a>, FieldError> {
        let name = info.field_name();
        let value = self.value.get(name).ok_or_else(|| FieldError {
            message: format!("the fake does not serve `{}.{name}`", self.ty),
        })?;
        resolve(info.schema(), &info.field_definition().ty, value)
    }
}

/// A value of the fake's data as a value of type `ty`.
fn resolve<'a>(
    schema: &'a Valid<Schema>,
    ty: &Type,
    value: &'a Json,
) -> Result<ResolvedValue<'a>, FieldError> {
    if value.is_null() {
        return Ok(ResolvedValue::null());
    }
    if ty.is_list() {
        let Json::Array(items) = value else {
            return Err(FieldError {
                message: format!("the fake serves {value} where GitHub has a list ({ty})"),
            });
        };
        let item = ty.item_type().clone();
        return Ok(ResolvedValue::List(Box::new(
            items.iter().map(move |v| resolve(schema, &item, v)),
        )));
    }
    let named = ty.inner_named_type();
    match schema.types.get(named) {
        Some(ExtendedType::Object(_) | ExtendedType::Interface(_) | ExtendedType::Union(_)) => {
            let Json::Object(map) = value else {
                return Err(FieldError {
                    message: format!("the fake serves {value} where GitHub has a {named}"),
                });
            };
            let concrete = match map.get("__typename").and_then(Json::as_str) {
                Some(t) => t.to_string(),
                None if schema.get_object(named).is_some() => named.to_string(),
                None => {
                    return Err(FieldError {
                        message: format!(
                            "the fake serves a {named} (an interface or union) without `__typename`"
                        ),
                    })
                }
            };
            if concrete != named.as_str() && !schema.is_subtype(named, &concrete) {
                return Err(FieldError {
                    message: format!("the fake serves a {concrete} where GitHub has a {named}"),
                });
            }
            Ok(ResolvedValue::object(FakeObject {
                ty: concrete,
                value: map,
            }))
        }
        _ => Ok(ResolvedValue::leaf(value.clone())),
    }
}

/// A walk over one operation's selections, counting nodes and checking connection arguments.
struct Walk<'a> {
    doc: &'a ExecutableDocument,
    vars: &'a JsonMap,
    errors: &'a mut Vec<String>,
    nodes: u64,
}

impl Walk<'_> {
    /// `multiplier`: how many times this selection set can occur in the answer.
    fn selections(&mut self, set: &SelectionSet, multiplier: u64) {
        for selection in &set.selections {
            match selection {
                Selection::Field(field) => {
                    let ty = field.ty().inner_named_type();
                    let mut inner = multiplier;
                    if ty.ends_with("Connection")
                        && field.definition.argument_by_name("first").is_some()
                    {
                        let first = self.int_arg(field.specified_argument_by_name("first"));
                        let last = self.int_arg(field.specified_argument_by_name("last"));
                        let at = format!("`{}` on `{}` ({ty})", field.name, set.ty);
                        if first.is_none() && last.is_none() {
                            self.errors.push(format!(
                                "MISSING_PAGINATION_BOUNDARIES: the {at} connection needs `first` or `last`"
                            ));
                        }
                        for (arg, n) in [("first", first), ("last", last)] {
                            if let Some(n) = n.filter(|n| !(1..=MAX_PAGE).contains(n)) {
                                self.errors.push(format!(
                                    "EXCESSIVE_PAGINATION: `{arg}: {n}` on the {at} connection \
                                     (must be 1-{MAX_PAGE})"
                                ));
                            }
                        }
                        let page = first.or(last).unwrap_or(0).clamp(0, MAX_PAGE) as u64;
                        inner = multiplier.saturating_mul(page);
                        self.nodes = self.nodes.saturating_add(inner);
                    }
                    self.selections(&field.selection_set, inner);
                }
                Selection::InlineFragment(f) => self.selections(&f.selection_set, multiplier),
                Selection::FragmentSpread(s) => {
                    if let Some(fragment) = self.doc.fragments.get(&s.fragment_name) {
                        self.selections(&fragment.selection_set, multiplier);
                    }
                }
            }
        }
    }

    /// An integer argument, literal or from a (coerced, defaulted) variable; `None` if absent or null.
    fn int_arg(&self, value: Option<&Node<Value>>) -> Option<i64> {
        match value.map(|v| &**v)? {
            Value::Int(i) => i.try_to_i32().ok().map(i64::from),
            Value::Variable(name) => match self.vars.get(name.as_str())? {
                JsonValue::Number(n) => n.as_i64(),
                _ => None,
            },
            _ => None,
        }
    }
}
