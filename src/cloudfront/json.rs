//! The JSON machinery behind the event types: borrowed strings, fields kept as raw JSON, and a
//! macro that gives an object type its (de)serialisation without `#[serde(flatten)]`, which would
//! buffer every event through an intermediate tree.

use serde::de::{self, Deserialize, Deserializer, Visitor};
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::fmt;

/// Fields we do not model, in the order they came, each exactly as it came.
pub type Extra<'a> = Vec<(Cow<'a, str>, Raw<'a>)>;

/// A JSON value kept as its text, written back verbatim. Equal when the texts are equal.
///
/// Only serde_json makes one, so the text is always one valid JSON value; it borrows from the
/// event's bytes.
#[derive(Clone, Copy, Debug, serde::Deserialize, serde::Serialize)]
#[serde(transparent)]
pub struct Raw<'a>(#[serde(borrow)] &'a RawValue);

impl<'a> Raw<'a> {
    /// The JSON text, exactly as it came.
    pub fn get(&self) -> &'a str {
        self.0.get()
    }
}

impl PartialEq for Raw<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.get() == other.get()
    }
}

impl Eq for Raw<'_> {}

/// A JSON string, borrowed from the input when it holds no escapes.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct Str<'a>(pub Cow<'a, str>);

impl std::ops::Deref for Str<'_> {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Str<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct StrVisitor;
        impl<'de> Visitor<'de> for StrVisitor {
            type Value = Cow<'de, str>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Cow::Borrowed(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Cow::Owned(v.to_owned()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(Cow::Owned(v))
            }
        }
        deserializer.deserialize_str(StrVisitor).map(Str)
    }
}

/// Stores a field's value, refusing a second occurrence of the same field.
pub(crate) fn set_once<T, E: de::Error>(slot: &mut Option<T>, value: T, name: &'static str) -> Result<(), E> {
    if slot.is_some() {
        return Err(E::duplicate_field(name));
    }
    *slot = Some(value);
    Ok(())
}

/// Declares an event object: its fields by JSON name, each `required` or `optional`, plus `extra`,
/// which keeps every other field as raw JSON, so that it goes back unchanged. Serialised: the
/// declared fields in their order (optional ones only when present), then `extra` in its original
/// order. An optional field given as `null` is treated as absent.
macro_rules! object {
    (
        $(#[$meta:meta])*
        pub struct $name:ident<'a> ($expecting:literal) {
            $( $(#[$fmeta:meta])* $json:literal => $field:ident : $kind:ident $ty:ty, )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq)]
        pub struct $name<'a> {
            $( $(#[$fmeta])* pub $field: $crate::cloudfront::json::field_type!($kind $ty), )*
            /// Every other field, as it came.
            pub extra: $crate::cloudfront::Extra<'a>,
        }

        impl<'de: 'a, 'a> serde::Deserialize<'de> for $name<'a> {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                struct ObjectVisitor<'a>(std::marker::PhantomData<&'a ()>);
                impl<'de: 'a, 'a> serde::de::Visitor<'de> for ObjectVisitor<'a> {
                    type Value = $name<'a>;
                    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        f.write_str($expecting)
                    }
                    fn visit_map<M: serde::de::MapAccess<'de>>(self, mut map: M) -> Result<Self::Value, M::Error> {
                        $( let mut $field: Option<$ty> = None; )*
                        let mut extra = $crate::cloudfront::Extra::new();
                        while let Some($crate::cloudfront::Str(key)) = map.next_key()? {
                            match key.as_ref() {
                                $( $json => $crate::cloudfront::json::read_field!($kind, map, $field, $json, $ty), )*
                                _ => extra.push((key, map.next_value()?)),
                            }
                        }
                        Ok($name {
                            $( $field: $crate::cloudfront::json::finish_field!($kind, $field, $json), )*
                            extra,
                        })
                    }
                }
                deserializer.deserialize_map(ObjectVisitor(std::marker::PhantomData))
            }
        }

        impl serde::Serialize for $name<'_> {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                use serde::ser::SerializeMap;
                let mut map = serializer.serialize_map(None)?;
                $( $crate::cloudfront::json::write_field!($kind, map, $json, &self.$field); )*
                for (key, value) in &self.extra {
                    map.serialize_entry(key, value)?;
                }
                map.end()
            }
        }
    };
}

macro_rules! field_type {
    (required $ty:ty) => { $ty };
    (optional $ty:ty) => { Option<$ty> };
}

macro_rules! read_field {
    (required, $map:ident, $slot:ident, $json:literal, $ty:ty) => {
        $crate::cloudfront::json::set_once(&mut $slot, $map.next_value::<$ty>()?, $json)?
    };
    (optional, $map:ident, $slot:ident, $json:literal, $ty:ty) => {
        if let Some(value) = $map.next_value::<Option<$ty>>()? {
            $crate::cloudfront::json::set_once(&mut $slot, value, $json)?
        }
    };
}

macro_rules! finish_field {
    (required, $slot:ident, $json:literal) => {
        $slot.ok_or_else(|| serde::de::Error::missing_field($json))?
    };
    (optional, $slot:ident, $json:literal) => {
        $slot
    };
}

macro_rules! write_field {
    (required, $map:ident, $json:literal, $value:expr) => {
        $map.serialize_entry($json, $value)?
    };
    (optional, $map:ident, $json:literal, $value:expr) => {
        if let Some(value) = $value {
            $map.serialize_entry($json, value)?
        }
    };
}

pub(crate) use {field_type, finish_field, object, read_field, write_field};
