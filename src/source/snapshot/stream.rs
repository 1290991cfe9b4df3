//! Large JSON files read item by item: a `PodList` of several hundred megabytes is never held
//! whole (parsed into one value it would take several times its size); each item is typed and
//! dropped before the next is read. The list's `kind` is used for items without one when it
//! comes first (the API server's order); otherwise the file name's hint and the item's shape.

use super::*;
use serde::de::{DeserializeSeed, MapAccess, SeqAccess, Visitor};
use std::fmt;

/// JSON files at least this large are streamed.
pub(super) const STREAM_BYTES: u64 = 32 * 1024 * 1024;
/// Streamed JSON files larger than this are still refused: the state of such a capture does
/// not fit a laptop; load it per namespace.
pub(super) const MAX_STREAMED_BYTES: u64 = 4 * 1024 * 1024 * 1024;

/// Ingest a JSON file item by item. `Ok(any object)`, or why it could not be read.
pub(super) fn ingest_json_file(
    file: &Path,
    hint: Option<&str>,
    shown: &str,
    st: &mut ClusterState,
) -> std::result::Result<bool, String> {
    let f = std::fs::File::open(file).map_err(|e| e.to_string())?;
    let reader = std::io::BufReader::with_capacity(1 << 20, f);
    let mut de = serde_json::Deserializer::from_reader(reader);
    let any = Top { hint, shown, st }
        .deserialize(&mut de)
        .map_err(|e| format!("not valid JSON: {e}"))?;
    de.end().map_err(|e| format!("not valid JSON: {e}"))?;
    Ok(any)
}

struct Top<'a> {
    hint: Option<&'a str>,
    shown: &'a str,
    st: &'a mut ClusterState,
}

impl<'de> DeserializeSeed<'de> for Top<'_> {
    type Value = bool;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> std::result::Result<bool, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Top<'_> {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a Kubernetes object, a List or an array of objects")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<bool, A::Error> {
        let mut rest = serde_json::Map::new();
        let mut any = false;
        let mut saw_items = false;
        while let Some(key) = map.next_key::<String>()? {
            if key == "items" {
                saw_items = true;
                // The list's kind when it came first (the API server's order); else the hint.
                let kind = item_kind(rest.get("kind").and_then(Value::as_str), self.hint);
                any |= map.next_value_seed(Items {
                    kind: kind.as_deref(),
                    shown: self.shown,
                    st: &mut *self.st,
                })?;
            } else {
                let v: Value = map.next_value()?;
                rest.insert(key, v);
            }
        }
        if !saw_items {
            // One object, read whole (it is one object, however large).
            return Ok(ingest_doc(
                Value::Object(rest),
                self.hint,
                self.shown,
                self.st,
            ));
        }
        // An empty list is still a (valid) object file.
        Ok(any || rest.contains_key("kind") || self.hint.is_some())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> std::result::Result<bool, A::Error> {
        Items {
            kind: self.hint,
            shown: self.shown,
            st: self.st,
        }
        .visit_seq(seq)
    }
}

struct Items<'a> {
    kind: Option<&'a str>,
    shown: &'a str,
    st: &'a mut ClusterState,
}

impl<'de> DeserializeSeed<'de> for Items<'_> {
    type Value = bool;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> std::result::Result<bool, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Items<'_> {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list of objects")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<bool, A::Error> {
        let mut any = false;
        let mut i = 0usize;
        while let Some(item) = seq.next_element::<Value>()? {
            let item = if normalize::is_capitalised(&item) {
                normalize::normalise(item)
            } else {
                item
            };
            let at = format!("{} item {i}", self.shown);
            any |= ingest_object(item, self.kind, &at, self.st);
            i += 1;
        }
        Ok(any)
    }
}
