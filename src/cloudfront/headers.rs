//! Headers as CloudFront writes them: lower-case name → one `{key, value}` entry per value.

use super::Text;
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
pub struct Headers<'a>(Vec<(Cow<'a, str>, Vec<HeaderField<'a>>)>);

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
            Some((_, fields)) => *fields = vec![field],
            None => self.0.push((name, vec![field])),
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
                let mut headers = Vec::with_capacity(map.size_hint().unwrap_or(8).min(32));
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

impl Serialize for Headers<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (name, fields) in &self.0 {
            map.serialize_entry(name, fields)?;
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
            fields.write_json(out);
        }
        out.push('}');
    }
}
