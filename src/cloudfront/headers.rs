//! Headers as CloudFront writes them: lower-case name → one `{key, value}` entry per value.

use super::Text;
use super::fast::{ReadFast, Reader};
use super::json::{Str, object};
use super::write::WriteJson;
use serde::de::{self, Deserialize, Deserializer, MapAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, Serializer};
use std::borrow::Cow;
use std::fmt;

object! {
    /// One header value: the original-case name (optional in CloudFront's schema) and the value.
    pub struct HeaderField<'a>("a header entry object") {
        /// The header name as the viewer sent it.
        "key" => key: optional Text<'a>,
        /// The value.
        "value" => value: required Text<'a>,
    }
}

impl<'a> HeaderField<'a> {
    /// An entry with both `key` and `value`.
    pub fn new(key: Text<'a>, value: Text<'a>) -> Self {
        Self {
            value,
            key: Some(key),
            extra: Vec::new(),
        }
    }
}

/// Headers by lower-case name, in the order CloudFront gave them. A name occurs once.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Headers<'a>(Vec<(Cow<'a, str>, Fields<'a>)>);

/// The entries of one header name. Nearly every header has one value, which is kept inline: a
/// `Vec` per name was an allocation per header, parsed and added.
#[derive(Clone, Debug)]
enum Fields<'a> {
    One(HeaderField<'a>),
    /// One entry as the fast reader found it, in CloudFront's shape and without escapes: `json` is
    /// the text of its array, which is exactly what writing `field` gives, so it is written back
    /// as it came, in one copy. Entries are never changed in place (only replaced, by
    /// [`Headers::set`]), so the text cannot go stale: an API giving `&mut HeaderField` must turn
    /// this variant into [`Fields::One`] first.
    Read {
        field: HeaderField<'a>,
        json: &'a str,
    },
    /// Zero, or two and more.
    Many(Vec<HeaderField<'a>>),
}

impl<'a> Fields<'a> {
    fn as_slice(&self) -> &[HeaderField<'a>] {
        match self {
            Fields::One(field) | Fields::Read { field, .. } => std::slice::from_ref(field),
            Fields::Many(fields) => fields,
        }
    }
}

/// Equal when the entries are, however they were read.
impl PartialEq for Fields<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.as_slice() == other.as_slice()
    }
}

/// Room for the headers of a typical request plus the four signing adds, so the list is
/// allocated once.
const TYPICAL_HEADERS: usize = 16;

impl<'a> Headers<'a> {
    /// No headers.
    pub fn new() -> Self {
        Self(Vec::new())
    }

    /// The entries of `name`, if present.
    pub fn get(&self, name: &str) -> Option<&[HeaderField<'a>]> {
        self.0.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_slice())
    }

    /// Whether `name` is present.
    pub fn contains_key(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// Sets `name` to one entry: in place if present, else at the end.
    pub fn set(&mut self, name: impl Into<Cow<'a, str>>, field: HeaderField<'a>) {
        let name = name.into();
        match self.0.iter_mut().find(|(n, _)| *n == name) {
            Some((_, fields)) => *fields = Fields::One(field),
            None => self.0.push((name, Fields::One(field))),
        }
    }

    /// Keeps the headers whose name satisfies `keep`.
    pub fn retain(&mut self, mut keep: impl FnMut(&str) -> bool) {
        self.0.retain(|(name, _)| keep(name));
    }

    /// Names and entries, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &[HeaderField<'a>])> {
        self.0.iter().map(|(n, v)| (n.as_ref(), v.as_slice()))
    }

    /// Names, in order.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|(n, _)| n.as_ref())
    }

    /// How many names.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Headers<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct HeadersVisitor<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for HeadersVisitor<'a> {
            type Value = Headers<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map of header names to lists of {key, value} entries")
            }
            fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Self::Value, M::Error> {
                let mut headers = Vec::with_capacity(map.size_hint().unwrap_or(TYPICAL_HEADERS).min(64));
                while let Some(Str(name)) = map.next_key()? {
                    if headers.iter().any(|(n, _)| *n == name) {
                        return Err(de::Error::custom(format_args!("header {name:?} occurs twice")));
                    }
                    headers.push((name, map.next_value()?));
                }
                Ok(Headers(headers))
            }
        }
        deserializer.deserialize_map(HeadersVisitor(std::marker::PhantomData))
    }
}

impl<'a> ReadFast<'a> for Headers<'a> {
    fn read(reader: &mut Reader<'a>) -> Option<Self> {
        let mut headers = Vec::with_capacity(TYPICAL_HEADERS);
        reader.object(|reader, name| {
            if headers.iter().any(|(n, _)| *n == name) {
                return None; // serde_json reports the repeated name
            }
            headers.push((name, Fields::read(reader)?));
            Some(())
        })?;
        Some(Headers(headers))
    }
}

impl<'a> ReadFast<'a> for Fields<'a> {
    fn read(reader: &mut Reader<'a>) -> Option<Self> {
        let start = reader.position();
        if let Some((field, escaped)) = reader.attempt(usual_entry) {
            return Some(match reader.since(start) {
                Some(json) if !escaped => Fields::Read { field, json },
                _ => Fields::One(field),
            });
        }
        let mut fields = Fields::Many(Vec::new());
        reader.array(|reader| {
            let field = HeaderField::read(reader)?;
            fields = match std::mem::replace(&mut fields, Fields::Many(Vec::new())) {
                Fields::Many(many) if many.is_empty() => Fields::One(field),
                Fields::Many(mut many) => {
                    many.push(field);
                    Fields::Many(many)
                }
                Fields::One(first) | Fields::Read { field: first, .. } => Fields::Many(vec![first, field]),
            };
            Some(())
        })?;
        Some(fields)
    }
}

/// The entry as CloudFront writes nearly every header, `[{"key":"K","value":"V"}]` without spaces,
/// read as one pattern: about half the work of the general reader (an object with its field slots
/// per entry). Anything else (no `key`, another order, spaces, several entries) gives `None`, and
/// the general reader reads it from the same place. The flag says whether a string had escapes.
fn usual_entry<'a>(reader: &mut Reader<'a>) -> Option<(HeaderField<'a>, bool)> {
    // Each string right after its colon: `text` would skip spaces, which the kept text would keep.
    reader.skip_exact(br#"[{"key":"#)?;
    reader.is_next(b'"').then_some(())?;
    let (key, key_escaped) = reader.text()?;
    reader.skip_exact(br#","value":"#)?;
    reader.is_next(b'"').then_some(())?;
    let (value, value_escaped) = reader.text()?;
    reader.skip_exact(b"}]")?;
    Some((HeaderField::new(key, value), key_escaped | value_escaped))
}

impl<'de: 'a, 'a> Deserialize<'de> for Fields<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct FieldsVisitor<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for FieldsVisitor<'a> {
            type Value = Fields<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a sequence")
            }
            fn visit_seq<S: de::SeqAccess<'de>>(self, mut seq: S) -> Result<Self::Value, S::Error> {
                let Some(first) = seq.next_element()? else {
                    return Ok(Fields::Many(Vec::new()));
                };
                let Some(second) = seq.next_element()? else {
                    return Ok(Fields::One(first));
                };
                let mut fields = vec![first, second];
                while let Some(field) = seq.next_element()? {
                    fields.push(field);
                }
                Ok(Fields::Many(fields))
            }
        }
        deserializer.deserialize_seq(FieldsVisitor(std::marker::PhantomData))
    }
}

impl Serialize for Headers<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (name, fields) in &self.0 {
            map.serialize_entry(name, fields.as_slice())?;
        }
        map.end()
    }
}

impl WriteJson for Headers<'_> {
    fn write_json(&self, out: &mut String) {
        use super::write::write_key;
        let first = &mut true;
        out.push('{');
        for (name, fields) in &self.0 {
            write_key(out, first, name);
            match fields {
                Fields::Read { json, .. } => out.push_str(json),
                _ => fields.as_slice().write_json(out),
            }
        }
        out.push('}');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_usual_entry_and_its_near_misses_read_fast_as_serde_json_reads_them() {
        for json in [
            r#"{"a":[{"key":"A","value":"1"}]}"#,
            r#"{"a":[{"key":"A","value":"1"}],"b":[{"key":"B","value":"x\"y"}]}"#,
            r#"{"a":[ {"key":"A","value":"1"}]}"#,
            r#"{"a":[{"key": "A","value":"1"}]}"#,
            r#"{"a":[{"key":"A","value":	"1"}]}"#,
            r#"{"a":[{"key":"A","value":"1" }]}"#,
            r#"{"a":[{"key":"A" ,"value":"1"}]}"#,
            r#"{"a":[{"key":"A","value":"1"} ]}"#,
            r#"{"a":[{"value":"1","key":"A"}]}"#,
            r#"{"a":[{"key":"A","value":"1","x":2}]}"#,
            r#"{"a":[{"key":"A","value":"1"},{"key":"A","value":"2"}]}"#,
            r#"{"a":[{"key":null,"value":"1"}]}"#,
            r#"{"a":[{"key":"A","value":1}]}"#,
            r#"{"a":[{"key":"A","value":"1"]}"#,
            r#"{"a":[{"key":"A","value":"\u0041"}]}"#,
            r#"{"a":[{"key":"A","value":"a\rb"}]}"#,
            r#"{"a":[{"key":"A","value":"a\/b"}],"b":[{"key":"B\/","value":"1"}]}"#,
            r#"{"a\/":[{"key":"A","value":"1"}]}"#,
            r#"{"a":[{"key":"A"}]}"#,
            r#"{"a":[{"key":"A","value":"1"}],"a":[]}"#,
        ] {
            let fast = crate::cloudfront::fast::read::<Headers<'_>>(json);
            let serde = serde_json::from_str::<Headers<'_>>(json).ok();
            if json.contains("\\u") {
                assert_eq!(fast, None, "{json}: `\\u` is left to serde_json");
            } else {
                assert_eq!(fast, serde, "{json}");
            }
            // Written back as serde_json writes it, including entries kept as their text.
            if let Some(fast) = fast {
                let mut out = String::new();
                fast.write_json(&mut out);
                assert_eq!(out, serde_json::to_string(&fast).unwrap(), "{json}");
            }
        }
    }

    #[test]
    fn none_one_and_several_entries_round_trip() {
        let json = r#"{"a":[],"b":[{"key":"B","value":"1"}],"c":[{"value":"1"},{"key":"C","value":"2","x":3},{"value":"3"}]}"#;
        let headers: Headers<'_> = serde_json::from_str(json).unwrap();
        assert_eq!(headers.get("a").map(<[_]>::len), Some(0));
        assert_eq!(headers.get("b").map(<[_]>::len), Some(1));
        assert_eq!(headers.get("c").map(<[_]>::len), Some(3));
        let mut out = String::new();
        headers.write_json(&mut out);
        assert_eq!(out, json);
        assert_eq!(serde_json::to_string(&headers).unwrap(), json);
    }
}
