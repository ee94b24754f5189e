//! The doc comments of config keys, kept as constants (`#[derive(KeyDocs)]`), so `flowlake init` explains
//! every key in the words its type documents it with, and its template cannot fall behind the code.

pub use flowlake_derive::KeyDocs;

/// One key of a config table and its doc comment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyDoc {
    /// The key as the file spells it (serde's name).
    pub key: &'static str,
    /// Its doc comment, lines joined by `\n`, each with the space `///` leaves before the text.
    pub doc: &'static str,
}

/// A config table whose keys are documented: derive it (`#[derive(KeyDocs)]`) on the struct serde reads.
pub trait KeyDocs {
    /// Every key serde reads, in field order.
    const KEYS: &'static [KeyDoc];
}

/// The doc comment of `key` among `keys`.
pub fn doc_of(keys: &[KeyDoc], key: &str) -> Option<&'static str> {
    keys.iter().find(|k| k.key == key).map(|k| k.doc)
}

/// A doc comment as plain lines: the one space `///` leaves stripped from each.
pub fn doc_lines(doc: &str) -> impl Iterator<Item = &str> {
    doc.lines()
        .map(|line| line.strip_prefix(' ').unwrap_or(line))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A table.
    #[derive(KeyDocs, serde::Deserialize)]
    #[allow(dead_code)]
    struct Table {
        /// First line.
        /// Second line.
        plain: u32,
        /// Read under another name.
        #[serde(rename = "type", default)]
        kind: String,
        #[doc = concat!("Built ", "by a macro.")]
        #[serde(deserialize_with = "String::deserialize")]
        built: String,
        /// Not read.
        #[serde(skip)]
        skipped: u8,
    }

    #[test]
    fn keys_carry_their_serde_names_and_doc_lines() {
        let keys: Vec<&str> = Table::KEYS.iter().map(|k| k.key).collect();
        assert_eq!(keys, ["plain", "type", "built"]);
        let plain: Vec<&str> = doc_lines(Table::KEYS[0].doc).collect();
        assert_eq!(plain, ["First line.", "Second line."]);
        assert_eq!(doc_of(Table::KEYS, "built"), Some("Built by a macro."));
        assert_eq!(doc_of(Table::KEYS, "skipped"), None);
    }
}
