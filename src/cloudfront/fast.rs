//! A fast path for reading an event: a small parser for the event's own shape, which gives up
//! (`None`) on anything unusual, so that serde_json then reads the input as before.
//!
//! serde_json spends about 190 instructions per token through its generic visitors, which made
//! parsing the largest cost of the handler after SHA-256. This reader walks the same shape (the
//! types' field lists come from the same `object!` declarations) and produces the same values. It
//! gives up, leaving the decision to serde_json, on:
//!
//! - anything that is, or might be, an error: a missing or repeated field, a wrong type, a control
//!   character or CR/LF where it is refused, a misplaced token, bytes after the event;
//! - `\u` escapes in strings (the other escapes are decoded here);
//! - nesting deeper than [`MAX_DEPTH`] inside a field kept as raw JSON.
//!
//! Fields kept as raw JSON are checked here by JSON's grammar (numbers, literals, strings with the
//! escapes above), giving up on the same cases, so a raw value is valid wherever serde_json says it
//! is (tested against serde_json on random texts and values). Debug builds (every test and fuzz run) parse
//! each event both ways and require the same result: see `origin_request::parse`.

use super::json::Raw;
use super::{Str, Text};
use crate::scan;
use std::borrow::Cow;

/// Deeper than this (the event's own levels included), the reader leaves the input to serde_json,
/// whose limit is 128: the two never disagree on what is too deep.
const MAX_DEPTH: usize = 100;

/// A position in the event's text, which is valid UTF-8 (checked before).
pub(crate) struct Reader<'a> {
    text: &'a str,
    at: usize,
    depth: usize,
}

/// A value the reader can read: `None` gives the input up to serde_json.
pub(crate) trait ReadFast<'a>: Sized {
    fn read(reader: &mut Reader<'a>) -> Option<Self>;
}

/// Reads `text` as a value of type `T` that must be the whole text (surrounding whitespace
/// aside); `None` when the fast path gives up.
pub(crate) fn read<'a, T: ReadFast<'a>>(text: &'a str) -> Option<T> {
    let mut reader = Reader {
        text,
        at: 0,
        depth: 0,
    };
    let value = T::read(&mut reader)?;
    reader.skip_whitespace();
    (reader.at == text.len()).then_some(value)
}

impl<'a> Reader<'a> {
    fn bytes(&self) -> &'a [u8] {
        self.text.as_bytes()
    }

    fn skip_whitespace(&mut self) {
        while let Some(b' ' | b'\n' | b'\t' | b'\r') = self.bytes().get(self.at) {
            self.at += 1;
        }
    }

    /// The next byte after whitespace, not consumed.
    fn peek(&mut self) -> Option<u8> {
        self.skip_whitespace();
        self.bytes().get(self.at).copied()
    }

    /// Consumes `byte`, the next byte after whitespace.
    fn expect(&mut self, byte: u8) -> Option<()> {
        (self.peek()? == byte).then(|| self.at += 1)
    }

    /// Where the reader is, for [`Reader::since`].
    pub(crate) fn position(&self) -> usize {
        self.at
    }

    /// The text read since `start`, a [`Reader::position`].
    pub(crate) fn since(&self, start: usize) -> Option<&'a str> {
        self.text.get(start..self.at)
    }

    /// Whether `byte` comes next, exactly (no whitespace is skipped); not consumed.
    pub(crate) fn is_next(&self, byte: u8) -> bool {
        self.bytes().get(self.at) == Some(&byte)
    }

    /// Consumes `bytes` if they come next, exactly (no whitespace is skipped).
    pub(crate) fn skip_exact(&mut self, bytes: &[u8]) -> Option<()> {
        let found = self.bytes().get(self.at..)?.starts_with(bytes);
        found.then(|| self.at += bytes.len())
    }

    /// Runs `read`, a shortcut for a common shape: when it gives up, the reader is back where it
    /// was (at the same depth), for the general reader to read the same text.
    pub(crate) fn attempt<T>(&mut self, read: impl FnOnce(&mut Self) -> Option<T>) -> Option<T> {
        let (at, depth) = (self.at, self.depth);
        let value = read(self);
        if value.is_none() {
            (self.at, self.depth) = (at, depth);
        }
        value
    }

    /// Consumes the literal `word` (`null`, `true`, `false`) if it comes next.
    fn literal(&mut self, word: &str) -> bool {
        self.skip_whitespace();
        let found = self
            .bytes()
            .get(self.at..)
            .is_some_and(|rest| rest.starts_with(word.as_bytes()));
        if found {
            self.at += word.len();
        }
        found
    }

    fn enter(&mut self) -> Option<()> {
        self.depth += 1;
        (self.depth <= MAX_DEPTH).then_some(())
    }

    /// A string, borrowed when it has no escape. Gives up on a control character (serde_json
    /// refuses it) and on `\u` escapes. The second value says whether there were escapes.
    pub(crate) fn string(&mut self) -> Option<(Cow<'a, str>, bool)> {
        self.expect(b'"')?;
        let bytes = self.bytes();
        let start = self.at;
        let end = start + find_special(bytes.get(start..)?)?;
        if bytes[end] == b'"' {
            self.at = end + 1;
            return Some((Cow::Borrowed(self.text.get(start..end)?), false));
        }
        self.escaped(start, end)
            .map(|decoded| (Cow::Owned(decoded), true))
    }

    /// A string that can go into an HTTP request (no CR or LF), and whether it had escapes.
    pub(crate) fn text(&mut self) -> Option<(Text<'a>, bool)> {
        match self.string()? {
            // Without escapes there is no CR or LF: they are control characters.
            (value, false) => Some((Text(value), false)),
            (value, true) => Some((Text::new(value)?, true)),
        }
    }

    /// The rest of a string that has an escape (or a control character) at `at`; kept out of
    /// [`Reader::string`], which most strings leave without one.
    #[cold]
    fn escaped(&mut self, start: usize, mut at: usize) -> Option<String> {
        let bytes = self.bytes();
        let mut decoded = String::with_capacity(at - start + 16);
        let mut from = start;
        loop {
            if bytes[at] != b'\\' {
                return None; // a control character, which serde_json refuses
            }
            decoded.push_str(self.text.get(from..at)?);
            decoded.push(match bytes.get(at + 1)? {
                b'"' => '"',
                b'\\' => '\\',
                b'/' => '/',
                b'b' => '\u{8}',
                b'f' => '\u{c}',
                b'n' => '\n',
                b'r' => '\r',
                b't' => '\t',
                _ => return None, // `\u`, left to serde_json; or an invalid escape
            });
            from = at + 2;
            at = from + find_special(bytes.get(from..)?)?;
            if bytes[at] == b'"' {
                decoded.push_str(self.text.get(from..at)?);
                self.at = at + 1;
                return Some(decoded);
            }
        }
    }

    /// An object: calls `field` with each key, the reader just after the key's colon.
    pub(crate) fn object(
        &mut self,
        mut field: impl FnMut(&mut Self, Cow<'a, str>) -> Option<()>,
    ) -> Option<()> {
        self.expect(b'{')?;
        self.enter()?;
        if self.peek()? == b'}' {
            self.at += 1;
        } else {
            loop {
                let (key, _) = self.string()?;
                self.expect(b':')?;
                field(self, key)?;
                match self.peek()? {
                    b',' => self.at += 1,
                    b'}' => {
                        self.at += 1;
                        break;
                    }
                    _ => return None,
                }
            }
        }
        self.depth -= 1;
        Some(())
    }

    /// An array: calls `item` with the reader at each element.
    pub(crate) fn array(&mut self, mut item: impl FnMut(&mut Self) -> Option<()>) -> Option<()> {
        self.expect(b'[')?;
        self.enter()?;
        if self.peek()? == b']' {
            self.at += 1;
        } else {
            loop {
                item(self)?;
                match self.peek()? {
                    b',' => self.at += 1,
                    b']' => {
                        self.at += 1;
                        break;
                    }
                    _ => return None,
                }
            }
        }
        self.depth -= 1;
        Some(())
    }

    /// `null`, consumed; for optional fields, which serde reads as absent.
    pub(crate) fn null(&mut self) -> bool {
        self.literal("null")
    }

    /// Moves past one JSON value, checked as serde_json checks it: `None` for anything serde_json
    /// refuses, and for what this reader leaves to it (`\u` escapes, nesting deeper than
    /// [`MAX_DEPTH`]).
    fn check_value(&mut self) -> Option<()> {
        match self.peek()? {
            b'"' => self.string().map(drop),
            b'{' => self.object(|reader, _| reader.check_value()),
            b'[' => self.array(Self::check_value),
            b't' => self.literal("true").then_some(()),
            b'f' => self.literal("false").then_some(()),
            b'n' => self.null().then_some(()),
            _ => self.number(),
        }
    }

    /// A number, by JSON's grammar: `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`. What follows
    /// it is the caller's to check (a `,`, `}`, `]` or the end), as for every value.
    fn number(&mut self) -> Option<()> {
        let bytes = self.bytes();
        let mut at = self.at;
        let digits = |at: &mut usize| {
            let start = *at;
            while bytes.get(*at).is_some_and(u8::is_ascii_digit) {
                *at += 1;
            }
            *at > start
        };
        if bytes.get(at) == Some(&b'-') {
            at += 1;
        }
        match bytes.get(at)? {
            b'0' => at += 1,
            b'1'..=b'9' => {
                digits(&mut at);
            }
            _ => return None,
        }
        if bytes.get(at) == Some(&b'.') {
            at += 1;
            digits(&mut at).then_some(())?;
        }
        if let Some(b'e' | b'E') = bytes.get(at) {
            at += 1;
            if let Some(b'+' | b'-') = bytes.get(at) {
                at += 1;
            }
            digits(&mut at).then_some(())?;
        }
        self.at = at;
        Some(())
    }
}

/// Where the first `"`, `\` or control character is: the bytes that end a string's plain run.
///
/// Sixteen bytes at a time, as one bit mask ([`scan::json_special_mask`]), so a string shorter
/// than 16 bytes, as most keys and many values are, takes one test and one predictable branch.
/// Reading past the string's end is fine: it ends before the input does. The last bytes of the
/// input, fewer than 16, are tested one by one.
fn find_special(bytes: &[u8]) -> Option<usize> {
    let mut at = 0;
    while let Some(block) = bytes.get(at..).and_then(<[u8]>::first_chunk::<16>) {
        let mask = scan::json_special_mask(block);
        if mask != 0 {
            return Some(at + mask.trailing_zeros() as usize);
        }
        at += 16;
    }
    let rest = bytes.get(at..)?;
    rest.iter()
        .position(|&b| scan::is_json_special(b))
        .map(|offset| at + offset)
}

impl<'a> ReadFast<'a> for Str<'a> {
    fn read(reader: &mut Reader<'a>) -> Option<Self> {
        reader.string().map(|(value, _)| Str(value))
    }
}

impl<'a> ReadFast<'a> for Text<'a> {
    fn read(reader: &mut Reader<'a>) -> Option<Self> {
        reader.text().map(|(text, _)| text)
    }
}

impl<'a> ReadFast<'a> for Raw<'a> {
    fn read(reader: &mut Reader<'a>) -> Option<Self> {
        reader.skip_whitespace();
        let start = reader.at;
        reader.check_value()?;
        reader.text.get(start..reader.at).map(Raw::checked)
    }
}

impl<'a> ReadFast<'a> for bool {
    fn read(reader: &mut Reader<'a>) -> Option<Self> {
        if reader.literal("true") {
            Some(true)
        } else if reader.literal("false") {
            Some(false)
        } else {
            None
        }
    }
}

impl<'a, T: ReadFast<'a>> ReadFast<'a> for Vec<T> {
    fn read(reader: &mut Reader<'a>) -> Option<Self> {
        let mut items = Vec::new();
        reader.array(|reader| T::read(reader).map(|item| items.push(item)))?;
        Some(items)
    }
}

impl<'a, T: ReadFast<'a>> ReadFast<'a> for Box<T> {
    fn read(reader: &mut Reader<'a>) -> Option<Self> {
        T::read(reader).map(Box::new)
    }
}

/// Stores a field's value, giving up on a second occurrence (serde_json reports it).
pub(crate) fn set_once<T>(slot: &mut Option<T>, value: T) -> Option<()> {
    slot.is_none().then(|| *slot = Some(value))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloudfront::Event;
    use proptest::prelude::*;
    use serde::Deserialize;
    use serde_json::value::RawValue;

    /// The event as `origin_request::parse` reads it without the fast path.
    fn through_serde(text: &str) -> Option<Event<'_>> {
        let mut deserializer = serde_json::Deserializer::from_str(text);
        let event = Event::deserialize(&mut deserializer).ok()?;
        deserializer.end().ok().map(|()| event)
    }

    fn shipped_events() -> Vec<(String, String)> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("vectors/events");
        let mut events: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .filter(|path| {
                let name = path.file_name().unwrap().to_string_lossy();
                name.ends_with(".json") && !name.contains(".expected") && !name.contains(".config")
            })
            .map(|path| {
                let name = path.file_name().unwrap().to_string_lossy().into_owned();
                (name, std::fs::read_to_string(path).unwrap())
            })
            .collect();
        events.sort();
        // Compact too, as CloudFront sends events: the shapes the reader takes shortcuts for.
        let compact = events.iter().filter_map(|(name, text)| {
            let value: serde_json::Value = serde_json::from_str(text).ok()?;
            Some((format!("{name} (compact)"), serde_json::to_string(&value).ok()?))
        });
        let compact: Vec<_> = compact.collect();
        events.extend(compact);
        events
    }

    #[test]
    fn every_shipped_event_serde_json_accepts_takes_the_fast_path_to_the_same_value() {
        for (name, text) in shipped_events() {
            match (read::<Event<'_>>(&text), through_serde(&text)) {
                (Some(fast), Some(serde)) => assert_eq!(fast, serde, "{name}"),
                (None, None) => {}
                (fast, serde) => panic!(
                    "{name}: fast {:?}, serde_json {:?}",
                    fast.is_some(),
                    serde.is_some()
                ),
            }
        }
    }

    /// Edits that move an event off the fast path's common case, or make it invalid.
    const SNIPPETS: &[&str] = &[
        " ",
        "\n",
        "\t",
        "\r",
        "\u{c}",
        ",",
        ":",
        "{",
        "}",
        "[",
        "]",
        "\"",
        "\\",
        "null",
        "true",
        "1",
        "-0.5e3",
        "01",
        "-",
        "1.",
        "1e",
        "E+7",
        ".5",
        "e",
        "0",
        "fals",
        "\\u0041",
        "\\n",
        "\\/",
        "\\\"",
        "\\x",
        "\u{1}",
        "é",
        "\"x\":1,",
        "\"uri\":\"/a\",",
        "\"key\":null,",
        "\"body\":null,",
        "\"inputTruncated\":true,",
        "\"s3\":{},",
        "[[[[[[",
        "]]]]]]",
        "\"h\":[],",
        "\"h\":[{\"value\":\"1\"},{\"value\":\"2\"}],",
        "\"\\r\"",
    ];

    proptest! {
        #![proptest_config(ProptestConfig { cases: 4096, ..ProptestConfig::default() })]

        /// Wherever the fast path gives a value, serde_json gives the same one.
        #[test]
        fn edited_events_read_fast_as_serde_json_reads_them(
            which in 0usize..256,
            edits in proptest::collection::vec((0.0f64..1.0, 0usize..SNIPPETS.len() + 3), 0..4),
        ) {
            let events = shipped_events();
            let mut text = events[which % events.len()].1.clone();
            for (place, edit) in edits {
                let mut at = (place * text.len() as f64) as usize;
                while !text.is_char_boundary(at) {
                    at -= 1;
                }
                match SNIPPETS.get(edit) {
                    Some(snippet) => text.insert_str(at, snippet),
                    None => {
                        let mut end = (at + edit - SNIPPETS.len() + 1).min(text.len());
                        while !text.is_char_boundary(end) {
                            end -= 1;
                        }
                        text.replace_range(at..end, "");
                    }
                }
            }
            if let Some(fast) = read::<Event<'_>>(&text) {
                // Written back as serde_json writes it (header entries kept as their text too).
                let mut out = String::new();
                crate::cloudfront::write::WriteJson::write_json(&fast, &mut out);
                prop_assert_eq!(&out, &serde_json::to_string(&fast).unwrap(), "{}", text);
                prop_assert_eq!(Some(fast), through_serde(&text), "{}", text);
            }
        }
    }

    fn string(json: &str) -> Option<String> {
        read::<Str<'_>>(json).map(|s| s.0.into_owned())
    }

    #[test]
    fn strings_decode_as_serde_json_decodes_them_or_give_up() {
        for json in [
            r#""""#,
            r#""plain""#,
            r#" "spaced" "#,
            r#""a\"b\\c\/d\be\ff\ng\rh\ti""#,
            r#""\\""#,
            r#""é€😀""#,
        ] {
            let theirs: String = serde_json::from_str(json).unwrap();
            assert_eq!(string(json), Some(theirs), "{json}");
        }
        for json in [
            r#""\u0041""#,
            r#""a\qb""#,
            "\"a\u{1}b\"",
            "\"a\nb\"",
            r#""open"#,
            r#""a\"#,
            "x",
        ] {
            assert_eq!(string(json), None, "{json}");
        }
    }

    #[test]
    fn the_first_quote_backslash_or_control_is_found() {
        let special = |b: u8| b == b'"' || b == b'\\' || b < 0x20;
        for len in 0..40 {
            for at in 0..=len {
                for b in 0..=255u8 {
                    let mut bytes = vec![b'a'; len];
                    if at < len {
                        bytes[at] = b;
                        // A byte that matches, and one that might fool the word test, after it.
                        if at + 1 < len {
                            bytes[at + 1] = if b % 2 == 0 { b'"' } else { 0x21 };
                        }
                    }
                    let expected = bytes.iter().position(|&b| special(b));
                    assert_eq!(find_special(&bytes), expected, "{bytes:?}");
                }
            }
        }
    }

    /// A small JSON-like alphabet: most texts are invalid, many in the ways numbers and literals can
    /// be.
    const SOUP: &str = r#"[-+0-9.eE \[\]{},:"tfrueanl\\/]{0,14}"#;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 20_000, ..ProptestConfig::default() })]

        /// What the reader accepts as a raw value, serde_json accepts as the same value.
        #[test]
        fn a_raw_value_read_fast_is_one_serde_json_reads(text in SOUP) {
            if let Some(raw) = read::<Raw<'_>>(&text) {
                let reference = serde_json::from_str::<&RawValue>(&text);
                prop_assert!(reference.is_ok(), "{:?} read fast, refused by serde_json", text);
                prop_assert_eq!(raw.get(), reference.unwrap().get());
            }
        }

        /// Every JSON value without a `\u` escape is read fast.
        #[test]
        fn every_value_without_a_u_escape_is_read_fast(value in json_value()) {
            let text = serde_json::to_string_pretty(&value).unwrap();
            prop_assume!(!text.contains("\\u"));
            let raw = read::<Raw<'_>>(&text);
            prop_assert_eq!(raw.map(|raw| raw.get()), Some(text.as_str()));
        }
    }

    fn json_value() -> impl Strategy<Value = serde_json::Value> {
        use serde_json::Value;
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<f64>()
                .prop_filter("finite", |x| x.is_finite())
                .prop_map(Value::from),
            "[ -~é\n\t\"\\\\]{0,8}".prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 24, 4, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                proptest::collection::btree_map("[a-z\"]{0,3}", inner, 0..4)
                    .prop_map(|map| Value::Object(map.into_iter().collect())),
            ]
        })
    }

    #[test]
    fn raw_values_are_delimited_and_checked_as_serde_json_checks_them() {
        for json in [
            "5",
            "-1.5e+3",
            "-0",
            "0.25E7",
            "1e-0",
            "true",
            "null",
            r#""s\"t""#,
            r#"{"a":[1,{"b":null}]}"#,
            "[ ]",
            "{ }",
        ] {
            let raw = read::<Raw<'_>>(json).unwrap_or_else(|| panic!("{json}"));
            assert_eq!(raw.get(), json.trim());
        }
        for json in [
            "01", "1.", "-", ".5", "1e", "1e+", "+1", "-01", "0x1", "tru", "nul", "[1,]", r#"{"a"}"#,
            "[1 2]", "", "1 2", r#""\"#, r#"["a\"#, "[\"\\",
        ] {
            assert!(read::<Raw<'_>>(json).is_none(), "{json}");
        }
        let deep = format!("{}{}", "[".repeat(MAX_DEPTH + 1), "]".repeat(MAX_DEPTH + 1));
        assert!(read::<Raw<'_>>(&deep).is_none());
    }
}
