//! Checking a request: matching it to one of a contract's endpoints by method and path, then its query
//! against the documented parameters and its headers ([`check_request`]).

use std::collections::BTreeSet;

use super::{Contract, Endpoint};

fn path_matches(template: &str, path: &str) -> bool {
    let t: Vec<&str> = template.trim_matches('/').split('/').collect();
    let p: Vec<&str> = path.trim_matches('/').split('/').collect();
    t.len() == p.len()
        && t.iter().zip(&p).all(|(t, p)| {
            if t.starts_with('{') && t.ends_with('}') {
                !p.is_empty()
            } else {
                t == p
            }
        })
}

/// Matches a request (`target` is the path with its query, as sent) to the contract's endpoint and checks its
/// query and headers (`header` answers a header by lower-case name). The error lists every breach.
pub fn check_request(
    contract: &'static Contract,
    method: &str,
    target: &str,
    header: &dyn Fn(&str) -> Option<String>,
) -> Result<&'static Endpoint, Vec<String>> {
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let names: BTreeSet<&str> = pairs.iter().map(|(k, _)| k.as_str()).collect();
    let Some(endpoint) = contract
        .endpoints
        .iter()
        .map(|l| l.endpoint)
        .filter(|e| e.method.eq_ignore_ascii_case(method) && path_matches(e.path, path))
        .find(|e| e.requires.iter().all(|r| names.contains(r)))
    else {
        return Err(vec![format!(
            "{}: {} {path} is none of the endpoints flowlake is documented to call",
            contract.name,
            method.to_uppercase()
        )]);
    };
    let mut errors = (contract.headers)(header);
    let mut seen = BTreeSet::new();
    for (name, value) in &pairs {
        if !seen.insert(name.as_str()) {
            errors.push(format!("`{name}` is sent twice"));
        }
        match endpoint.query.iter().find(|(n, _)| *n == name.as_str()) {
            Some((_, check)) => errors.extend(check.check(name, value).err()),
            None => errors.push(format!(
                "`{name}` is not a parameter of {} ({})",
                endpoint.name, endpoint.documented
            )),
        }
    }
    if errors.is_empty() {
        Ok(endpoint)
    } else {
        Err(errors
            .into_iter()
            .map(|e| format!("{} {}: {e}", contract.name, endpoint.name))
            .collect())
    }
}
