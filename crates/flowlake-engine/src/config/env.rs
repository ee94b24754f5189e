//! `FLOWLAKE_…` environment overrides, applied to the parsed document before it is read into the config.

use super::ConfigError;

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
                        t.insert(seg.clone(), parse_env_value(raw));
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
                        *slot = parse_env_value(raw);
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
