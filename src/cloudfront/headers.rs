//! Headers as CloudFront writes them: lower-case name → one `{key, value}` entry per value.

use super::Text;
use super::json::{Str, object};
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
    /// Zero, or two and more.
    Many(Vec<HeaderField<'a>>),
}

impl<'a> Fields<'a> {
    fn as_slice(&self) -> &[HeaderField<'a>] {
        match self {
            Fields::One(field) => std::slice::from_ref(field),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn none_one_and_several_entries_round_trip() {
        let json = r#"{"a":[],"b":[{"key":"B","value":"1"}],"c":[{"value":"1"},{"key":"C","value":"2","x":3},{"value":"3"}]}"#;
        let headers: Headers<'_> = serde_json::from_str(json).unwrap();
        assert_eq!(headers.get("a").map(<[_]>::len), Some(0));
        assert_eq!(headers.get("b").map(<[_]>::len), Some(1));
        assert_eq!(headers.get("c").map(<[_]>::len), Some(3));
        assert_eq!(serde_json::to_string(&headers).unwrap(), json);
    }

    #[test]
    fn a_repeated_name_a_cr_or_lf_and_a_missing_value_are_refused() {
        for (json, message) in [
            (
                r#"{"a":[{"key":"A","value":"1"}],"a":[]}"#,
                "header \"a\" occurs twice",
            ),
            (
                r#"{"a":[{"key":"A","value":"a\rb"}]}"#,
                "a CR or LF character is not allowed",
            ),
            (
                r#"{"a":[{"key":"A\n","value":"1"}]}"#,
                "a CR or LF character is not allowed",
            ),
            (r#"{"a":[{"key":"A"}]}"#, "missing field `value`"),
            (
                r#"{"a":[{"key":"A","value":"1","value":"2"}]}"#,
                "duplicate field `value`",
            ),
        ] {
            let error = serde_json::from_str::<Headers<'_>>(json).unwrap_err().to_string();
            assert!(error.contains(message), "{json}: {error}");
        }
    }

    #[test]
    fn unknown_fields_and_escapes_go_back_as_they_came() {
        let json = r#"{"a":[{"key":"A","value":"x\"y\u0041","extra":{"n":[1, 2.50]}}]}"#;
        let headers: Headers<'_> = serde_json::from_str(json).unwrap();
        assert_eq!(headers.get("a").unwrap()[0].value.as_str(), "x\"yA");
        assert_eq!(
            serde_json::to_string(&headers).unwrap(),
            r#"{"a":[{"key":"A","value":"x\"yA","extra":{"n":[1, 2.50]}}]}"#
        );
    }
}
