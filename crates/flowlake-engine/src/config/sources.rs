//! The `[[sources]]` list: each block read straight into its `kind`'s config (from the connector registry),
//! so an error inside a block points at its value rather than at the block's header.

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

use super::SourceConfig;

thread_local! {
    /// The `kind` of each `[[sources]]` block of the document being read, so each block is read straight
    /// into its kind's config, keeping the positions of its values (see [`sources`]).
    static SOURCE_KINDS: std::cell::RefCell<Option<Vec<Option<String>>>> =
        const { std::cell::RefCell::new(None) };
}

/// Runs `read` (a deserialization of `table`'s document) with the kinds of `table`'s sources known.
pub(super) fn with_source_kinds<T>(table: &toml::Table, read: impl FnOnce() -> T) -> T {
    struct Reset;
    impl Drop for Reset {
        fn drop(&mut self) {
            SOURCE_KINDS.with(|k| k.borrow_mut().take());
        }
    }
    let kinds = match table.get("sources") {
        Some(toml::Value::Array(list)) => list
            .iter()
            .map(|s| {
                s.get("kind")
                    .and_then(toml::Value::as_str)
                    .map(str::to_string)
            })
            .collect(),
        _ => Vec::new(),
    };
    SOURCE_KINDS.with(|k| *k.borrow_mut() = Some(kinds));
    let _reset = Reset;
    read()
}

/// The `kind`s a `[[sources]]` block may have: those of the connector registry.
const SOURCE_KIND_NAMES: &[&str] = SourceConfig::KINDS;

/// `sources`: each block read as its `kind`'s config directly, so an error inside it points at the value.
/// Without known kinds (a caller other than [`Config::parse`]), serde's tagged enum reads them.
pub(super) fn sources<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<SourceConfig>, D::Error> {
    match SOURCE_KINDS.with(|k| k.borrow().clone()) {
        None => Vec::<SourceConfig>::deserialize(d),
        Some(kinds) => d.deserialize_seq(SourceList(kinds)),
    }
}

struct SourceList(Vec<Option<String>>);

impl<'de> Visitor<'de> for SourceList {
    type Value = Vec<SourceConfig>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a list of [[sources]] blocks")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut out = Vec::new();
        while let Some(s) =
            seq.next_element_seed(OneSource(self.0.get(out.len()).cloned().flatten()))?
        {
            out.push(s);
        }
        Ok(out)
    }
}

/// One `[[sources]]` block whose `kind` was read before.
struct OneSource(Option<String>);

impl<'de> DeserializeSeed<'de> for OneSource {
    type Value = SourceConfig;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<SourceConfig, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for OneSource {
    type Value = SourceConfig;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a [[sources]] block")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<SourceConfig, A::Error> {
        match self.0.as_deref() {
            Some(kind) if SOURCE_KIND_NAMES.contains(&kind) => SourceConfig::deserialize_kind(
                kind,
                serde::de::value::MapAccessDeserializer::new(WithoutKind(map)),
            ),
            // Not a kind: the error goes to the `kind` value, or to the block when it has none.
            _ => {
                while let Some(key) = map.next_key::<String>()? {
                    if key == "kind" {
                        map.next_value_seed(BadKind)?;
                    } else {
                        map.next_value::<IgnoredAny>()?;
                    }
                }
                Err(serde::de::Error::missing_field("kind"))
            }
        }
    }
}

/// A `kind` value that is no kind: refused, naming the kinds there are.
struct BadKind;

impl<'de> DeserializeSeed<'de> for BadKind {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        let kind = String::deserialize(d)?;
        Err(serde::de::Error::unknown_variant(&kind, SOURCE_KIND_NAMES))
    }
}

/// A source block's keys without `kind`, which chose the config they are read into.
struct WithoutKind<A>(A);

impl<'de, A: MapAccess<'de>> MapAccess<'de> for WithoutKind<A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        let mut seed = Some(seed);
        loop {
            match self.0.next_key_seed(SkipKind(&mut seed))? {
                None => return Ok(None),
                Some(Some(key)) => return Ok(Some(key)),
                Some(None) => {
                    self.0.next_value::<IgnoredAny>()?;
                }
            }
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, A::Error> {
        self.0.next_value_seed(seed)
    }
}

/// A key handed to `seed`, unless it is `kind` (`None`).
struct SkipKind<'a, K>(&'a mut Option<K>);

impl<'de, K: DeserializeSeed<'de>> DeserializeSeed<'de> for SkipKind<'_, K> {
    type Value = Option<K::Value>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        let key = String::deserialize(d)?;
        if key == "kind" {
            return Ok(None);
        }
        let seed = self
            .0
            .take()
            .ok_or_else(|| serde::de::Error::custom("a key was read twice"))?;
        seed.deserialize(serde::de::value::StringDeserializer::<D::Error>::new(key))
            .map(Some)
    }
}
