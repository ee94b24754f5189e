//! Where in the file a key or value is written, so every error names `file:line:column` and the key path.

use std::path::Path;

use super::unfit::Unfit;
use super::ConfigError;

/// A key or value of the file, with where it is written.
struct Entry {
    /// Key path, as messages write it: `calendar.time_zone`, `sources[0].until`, `metrics.status_categories."In
    /// Progress"`.
    path: String,
    /// Byte range of its key, when it has one.
    key: Option<std::ops::Range<usize>>,
    /// Byte range of its value (a table's: its header).
    value: Option<std::ops::Range<usize>>,
    /// Whether the value is a scalar (a string, number, date or boolean), short enough to quote.
    scalar: bool,
}

/// Every key and value of `text` with its position; empty when `text` is not TOML.
fn entries(text: &str) -> Vec<Entry> {
    let mut out = Vec::new();
    if let Ok(doc) = toml_edit::ImDocument::parse(text) {
        walk_table(doc.as_table(), "", &mut out);
    }
    out
}

fn key_path(prefix: &str, key: &str) -> String {
    let bare = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    let key = if bare {
        key.to_string()
    } else {
        format!("\"{}\"", key.replace('\\', "\\\\").replace('"', "\\\""))
    };
    if prefix.is_empty() {
        key
    } else {
        format!("{prefix}.{key}")
    }
}

fn walk_table(t: &toml_edit::Table, prefix: &str, out: &mut Vec<Entry>) {
    for (k, item) in t.iter() {
        let key = t.key(k).and_then(toml_edit::Key::span);
        walk_item(item, key_path(prefix, k), key, out);
    }
}

fn walk_item(
    item: &toml_edit::Item,
    path: String,
    key: Option<std::ops::Range<usize>>,
    out: &mut Vec<Entry>,
) {
    match item {
        toml_edit::Item::None => {}
        toml_edit::Item::Value(v) => walk_value(v, path, key, out),
        toml_edit::Item::Table(t) => {
            out.push(Entry {
                path: path.clone(),
                key,
                value: t.span(),
                scalar: false,
            });
            walk_table(t, &path, out);
        }
        toml_edit::Item::ArrayOfTables(a) => {
            out.push(Entry {
                path: path.clone(),
                key,
                value: a.span(),
                scalar: false,
            });
            for (i, t) in a.iter().enumerate() {
                let at = format!("{path}[{i}]");
                out.push(Entry {
                    path: at.clone(),
                    key: None,
                    value: t.span(),
                    scalar: false,
                });
                walk_table(t, &at, out);
            }
        }
    }
}

fn walk_value(
    v: &toml_edit::Value,
    path: String,
    key: Option<std::ops::Range<usize>>,
    out: &mut Vec<Entry>,
) {
    let scalar = !matches!(
        v,
        toml_edit::Value::Array(_) | toml_edit::Value::InlineTable(_)
    );
    out.push(Entry {
        path: path.clone(),
        key,
        value: v.span(),
        scalar,
    });
    match v {
        toml_edit::Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                walk_value(x, format!("{path}[{i}]"), None, out);
            }
        }
        toml_edit::Value::InlineTable(t) => {
            for (k, x) in t.iter() {
                let key = t.key(k).and_then(toml_edit::Key::span);
                walk_value(x, key_path(&path, k), key, out);
            }
        }
        _ => {}
    }
}

/// 1-based line and column (in characters) of byte `offset` of `text`.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let mut at = offset.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    let before = &text[..at];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// The error of a file toml could not read, at the value (or key) it points at, with that key's path. The
/// value is quoted when the message does not, and only a scalar: never a whole table.
pub(super) fn invalid(path: &Path, text: &str, e: &toml::de::Error) -> ConfigError {
    let message = e.message().trim_end().to_string();
    let Some(span) = e.span() else {
        return ConfigError::Invalid {
            path: path.to_path_buf(),
            line: 1,
            column: 1,
            message,
        };
    };
    let (line, column) = line_column(text, span.start);
    let inside = |r: &Option<std::ops::Range<usize>>| {
        r.as_ref()
            .is_some_and(|r| r.start <= span.start && span.start < r.end.max(r.start + 1))
    };
    // The innermost key or value the error starts in (of equal ones, the deepest: entries follow their parent).
    let all = entries(text);
    let found = all
        .iter()
        .rev()
        .filter_map(|e| {
            let width = |r: &Option<std::ops::Range<usize>>| r.as_ref().map_or(0, |r| r.len());
            if inside(&e.value) {
                Some((width(&e.value), e, true))
            } else if inside(&e.key) {
                Some((width(&e.key), e, false))
            } else {
                None
            }
        })
        .min_by_key(|(width, _, _)| *width);
    let message = match found {
        None => message,
        Some((_, entry, at_value)) => {
            let value = entry
                .value
                .as_ref()
                .and_then(|r| text.get(r.clone()))
                .map(str::trim)
                .filter(|v| at_value && entry.scalar && v.chars().count() <= 60);
            match value {
                Some(v) if !message.contains(v.trim_matches(['"', '\''])) => {
                    format!("{}: {message} (found {v})", entry.path)
                }
                _ => format!("{}: {message}", entry.path),
            }
        }
    };
    // toml words some errors with nothing (a lone carriage return, a value missing at the end): say what it
    // found there instead.
    let message = match (message.is_empty(), e.span()) {
        (false, _) => message,
        (true, Some(s)) if s.start >= text.len() => "unexpected end of file".into(),
        (true, Some(s)) => match text.get(s) {
            Some(found) if !found.is_empty() => format!("unexpected {found:?}"),
            _ => "not valid TOML".into(),
        },
        (true, None) => "not valid TOML".into(),
    };
    ConfigError::Invalid {
        path: path.to_path_buf(),
        line,
        column,
        message,
    }
}

/// A value that parsed but does not fit (`sources[0].base_url: …`), at the position of its key's value; a
/// key the file does not write (a default) is pointed at through the nearest table that is written.
pub(super) fn semantic(path: &Path, text: &str, unfit: Unfit) -> ConfigError {
    let message = unfit.to_string();
    let all = entries(text);
    let mut probe = unfit.key.as_str();
    let found = loop {
        if let Some(e) = all.iter().find(|e| e.path == probe) {
            break e.value.as_ref().or(e.key.as_ref());
        }
        match probe.rfind(['.', '[']) {
            Some(i) => probe = &probe[..i],
            None => break None,
        }
    };
    match found {
        Some(r) => {
            let (line, column) = line_column(text, r.start);
            ConfigError::Invalid {
                path: path.to_path_buf(),
                line,
                column,
                message,
            }
        }
        None => ConfigError::Semantic {
            path: path.to_path_buf(),
            message,
        },
    }
}
