//! `FLOWLAKE_…` environment overrides, applied to the parsed document before it is read into the config.

use super::ConfigError;

/// Keys whose values are secret text (passwords, URLs that may hold one, DSNs): an override of one is that
/// text exactly, never read as TOML, so a password `123456` or `true` stays a string, and no type error
/// repeats it.
const SECRET_TEXT_KEYS: [&str; 3] = ["password", "url", "sentry_dsn"];

/// The override's value: the text itself for a secret key, else TOML when it reads as TOML, else the text.
fn env_value(key: &str, raw: &str) -> toml::Value {
    if SECRET_TEXT_KEYS.contains(&key) {
        return toml::Value::String(raw.to_string());
    }
    parse_env_value(raw)
}

fn parse_env_value(raw: &str) -> toml::Value {
    match toml::from_str::<toml::Table>(&format!("v = {raw}")) {
        Ok(mut t) => t
            .remove("v")
            .unwrap_or_else(|| toml::Value::String(raw.to_string())),
        Err(_) => toml::Value::String(raw.to_string()),
    }
}

pub(super) fn apply_override(
    root: &mut toml::Table,
    var: &str,
    raw: &str,
) -> Result<(), ConfigError> {
    let err = |message: String| ConfigError::Env {
        variable: var.to_string(),
        message,
    };
    let path: Vec<String> = var["FLOWLAKE_".len()..]
        .split("__")
        .map(|s| s.to_lowercase())
        .collect();
    if path.iter().any(String::is_empty) {
        return Err(err("empty key segment".into()));
    }
    let mut node = toml::Value::Table(std::mem::take(root));
    {
        let mut cur = &mut node;
        for (i, seg) in path.iter().enumerate() {
            let last = i + 1 == path.len();
            cur = match cur {
                toml::Value::Table(t) => {
                    if last {
                        t.insert(seg.clone(), env_value(seg, raw));
                        break;
                    }
                    t.entry(seg.clone())
                        .or_insert_with(|| toml::Value::Table(toml::Table::new()))
                }
                toml::Value::Array(a) => {
                    let idx: usize = seg
                        .parse()
                        .map_err(|_| err(format!("`{seg}` is not a list index")))?;
                    let len = a.len();
                    let slot = a
                        .get_mut(idx)
                        .ok_or_else(|| err(format!("index {idx} is past the {len} entries")))?;
                    if last {
                        *slot = env_value(seg, raw);
                        break;
                    }
                    slot
                }
                _ => {
                    return Err(err(format!(
                        "`{seg}` is inside a value that is not a table"
                    )))
                }
            };
        }
    }
    if let toml::Value::Table(t) = node {
        *root = t;
    }
    Ok(())
}
