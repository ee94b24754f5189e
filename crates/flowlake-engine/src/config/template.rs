//! The commented `flowlake.toml` that `flowlake init` writes.
//!
//! What it shows is example values (`template.toml` for the sections, each connector's `example.toml` for
//! its `[[sources]]` block); what it says about each key is that key's doc comment, read from the config
//! types ([`KeyDocs`]) and written above it. A key's meaning has one place, its type, so the template cannot
//! say something the code no longer does.

use flowlake_core::key_docs::{doc_lines, doc_of};
use flowlake_core::{CalendarSpec, KeyDoc, KeyDocs};

use super::{
    Config, JobConfig, MetricsConfig, ServiceConfig, SourceConfig, StateConfig, StoreConfig,
    TrackerExporterConfig,
};

/// The sections' example values; comments in it are notes beyond any one key.
const SECTIONS: &str = include_str!("template.toml");

/// The documented tables of the sections part, by path (`""` is the file itself).
const SECTION_TABLES: &[(&str, &[KeyDoc])] = &[
    ("", Config::KEYS),
    ("store", StoreConfig::KEYS),
    ("state", StateConfig::KEYS),
    ("calendar", CalendarSpec::KEYS),
    ("metrics", MetricsConfig::KEYS),
    ("tracker_exporter", TrackerExporterConfig::KEYS),
    ("tracker_exporter.calendar", CalendarSpec::KEYS),
    ("service", ServiceConfig::KEYS),
    ("jobs", JobConfig::KEYS),
];

/// The commented `flowlake.toml` that `flowlake init` writes: every key with its meaning and default.
pub fn template(until: chrono::NaiveDate) -> String {
    let mut out = annotate(SECTIONS, SECTION_TABLES).text;
    out.push_str(&sources_template(until));
    out
}

/// The `[[sources]]` part of the template: the registry's example blocks, the first (the generator) as is,
/// the others commented out, after a paragraph naming them.
fn sources_template(until: chrono::NaiveDate) -> String {
    let examples = SourceConfig::examples();
    let others: Vec<&str> = examples.iter().skip(1).map(|e| e.label).collect();
    let others = match others.split_last() {
        Some((last, [])) => last.to_string(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
        None => "none".into(),
    };
    let mut out = format!(
        "# Sources: one [[sources]] block each. \"generator\" is a synthetic tracker with realistic, deterministic\n\
         # histories; the commented blocks below it are {others}. To use one, remove\n\
         # the first two characters of each of its lines (its doubly commented lines stay comments: optional keys),\n\
         # set its token variable, and run `flowlake sync`. Names must differ: each qualifies its items' ids.\n"
    );
    let blocks: Vec<String> = examples
        .iter()
        .enumerate()
        .map(|(i, example)| {
            let block = annotate(
                &example.block.replace("{until}", &until.to_string()),
                &[("sources", example.keys)],
            )
            .text;
            if i == 0 {
                block
            } else {
                commented_out(&block)
            }
        })
        .collect();
    out.push_str(&blocks.join("\n"));
    out
}

/// A block with `# ` before each line from its `[[sources]]` header on; the comment lines before the header
/// (what the block needs, such as its token) stay as they are.
fn commented_out(block: &str) -> String {
    let mut header_seen = false;
    let mut out = String::new();
    for line in block.lines() {
        header_seen |= line == "[[sources]]";
        if header_seen && !line.is_empty() {
            out.push_str("# ");
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// A part of the template with its doc comments written in.
#[derive(Debug, PartialEq)]
struct Annotated {
    text: String,
    /// `table.key` of every key line in a documented table whose type has no such key: the example shows
    /// a key the code does not read (a test keeps this empty).
    unknown: Vec<String>,
}

/// Writes each key's doc comment (`# ` before each line) above its first line in each table, and each
/// table header's (the doc of the key that names the table in its nearest documented parent) above the
/// header. `tables` maps a table's path to its documented keys; the entries of tables not in it (a map such
/// as `status_categories`) are shown without a comment. A key or header may itself be commented out
/// (`# key = value`: optional); other comment lines are notes, written as they are.
fn annotate(text: &str, tables: &[(&str, &[KeyDoc])]) -> Annotated {
    let keys_of = |path: &str| tables.iter().find(|(p, _)| *p == path).map(|(_, k)| *k);
    let mut out = Annotated {
        text: String::new(),
        unknown: Vec::new(),
    };
    let mut table = String::new();
    let mut shown: Vec<String> = Vec::new();
    for line in text.lines() {
        let body = line.strip_prefix("# ").unwrap_or(line);
        let doc = if let Some(path) = header_path(body) {
            table = path.to_string();
            header_doc(path, &keys_of)
        } else if let Some(key) = key_of(body) {
            let qualified = format!("{table}.{key}");
            let doc = match keys_of(&table) {
                Some(keys) => doc_of(keys, key).or_else(|| {
                    // A block's `kind` picks its keys: the registry's, not a field of its config.
                    if (table.as_str(), key) != ("sources", "kind") {
                        out.unknown.push(qualified.clone());
                    }
                    None
                }),
                None => None,
            };
            // A key's meaning once per table, though its line may show several values.
            match shown.contains(&qualified) {
                true => None,
                false => {
                    shown.push(qualified);
                    doc
                }
            }
        } else {
            None
        };
        for doc_line in doc.into_iter().flat_map(doc_lines) {
            out.text.push_str("# ");
            out.text.push_str(doc_line);
            out.text.push('\n');
        }
        out.text.push_str(line);
        out.text.push('\n');
    }
    out
}

/// `a.b` of a `[a.b]` or `[[a.b]]` line.
fn header_path(line: &str) -> Option<&str> {
    let inner = line.strip_prefix('[')?.strip_suffix(']')?;
    let inner = inner
        .strip_prefix('[')
        .and_then(|i| i.strip_suffix(']'))
        .unwrap_or(inner);
    inner.split('.').all(is_bare_key).then_some(inner)
}

/// The key of a `key = value` line, when it is a bare key (map entries are quoted: `"Open" = "todo"`).
fn key_of(line: &str) -> Option<&str> {
    let (key, _) = line.split_once(" = ")?;
    is_bare_key(key).then_some(key)
}

fn is_bare_key(key: &str) -> bool {
    !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// The doc of the key that names table `path` in its nearest documented parent: `store` in the file's
/// keys for `[store]`, `projects` in `[metrics]`'s for `[metrics.projects.OPS.status_categories]`.
fn header_doc<'k>(
    path: &str,
    keys_of: &impl Fn(&str) -> Option<&'k [KeyDoc]>,
) -> Option<&'static str> {
    let segments: Vec<&str> = path.split('.').collect();
    (0..segments.len()).rev().find_map(|depth| {
        let parent = segments[..depth].join(".");
        doc_of(keys_of(&parent)?, segments[depth])
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEYS: &[KeyDoc] = &[
        KeyDoc {
            key: "path",
            doc: " The file.\n Default `a.db`.",
        },
        KeyDoc {
            key: "limits",
            doc: " Caps by name.",
        },
    ];
    const ROOT: &[KeyDoc] = &[KeyDoc {
        key: "store",
        doc: " Where results go.",
    }];

    #[test]
    fn each_key_and_table_gets_its_doc_once_and_notes_stay() {
        let cases: &[(&str, &str, &[&str])] = &[
            ("[store]\npath = \"a.db\"\n", "# Where results go.\n[store]\n# The file.\n# Default `a.db`.\npath = \"a.db\"\n", &[]),
            ("[store]\n# path = \"b.db\"\npath = \"a.db\"\n", "# Where results go.\n[store]\n# The file.\n# Default `a.db`.\n# path = \"b.db\"\npath = \"a.db\"\n", &[]),
            ("[store]\n# A note.\n\n[store.limits]\n\"x\" = 1\n", "# Where results go.\n[store]\n# A note.\n\n# Caps by name.\n[store.limits]\n\"x\" = 1\n", &[]),
            ("[store]\nsize = 1\n", "# Where results go.\n[store]\nsize = 1\n", &["store.size"]),
            ("[other]\nsize = 1\n", "[other]\nsize = 1\n", &[]),
        ];
        for (text, want, unknown) in cases {
            let got = annotate(text, &[("", ROOT), ("store", KEYS)]);
            assert_eq!(got.text, *want, "{text}");
            assert_eq!(got.unknown, *unknown, "{text}");
        }
    }

    #[test]
    fn every_key_the_examples_show_is_one_the_code_reads() {
        assert_eq!(
            annotate(SECTIONS, SECTION_TABLES).unknown,
            Vec::<String>::new()
        );
        for example in SourceConfig::examples() {
            let got = annotate(example.block, &[("sources", example.keys)]);
            assert_eq!(got.unknown, Vec::<String>::new(), "{}", example.kind);
        }
    }

    #[test]
    fn blocks_after_the_first_are_commented_out_below_their_notes() {
        assert_eq!(
            commented_out("# Set A_TOKEN.\n[[sources]]\nkind = \"a\"\n# opt = 1\n"),
            "# Set A_TOKEN.\n# [[sources]]\n# kind = \"a\"\n# # opt = 1\n"
        );
    }
}
