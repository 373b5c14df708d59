//! JSON output for the event types, written straight into one `String`.
//!
//! It writes exactly the bytes `serde_json::to_writer` writes for the same value (compact, keys in
//! the same order, strings escaped the same way, raw values verbatim), which the tests check on
//! random events; it exists because serde_json escapes strings one byte at a time, and the
//! outcome's strings (a kilobyte of session token among them) almost never need an escape.

use super::json::Raw;
use super::{Str, Text};
use crate::scan;

/// A value that writes itself as compact JSON, byte for byte as its `Serialize` impl through
/// serde_json does.
pub(crate) trait WriteJson {
    /// Appends the JSON text of `self` to `out`.
    fn write_json(&self, out: &mut String);
}

/// Appends `value` as a JSON string, escaped as serde_json escapes it: `\"`, `\\`, `\b`, `\t`,
/// `\n`, `\f`, `\r`, and `\u00xx` (lower-case hex) for the other controls below U+0020.
///
/// Nearly every string needs no escape: it is tested whole, then copied in one piece. The rest
/// take [`write_escaped`], out of line.
#[inline]
pub(crate) fn write_str(out: &mut String, value: &str) {
    if needs_escape(value.as_bytes()) {
        return write_escaped(out, value);
    }
    out.reserve(value.len() + 2);
    out.push('"');
    out.push_str(value);
    out.push('"');
}

/// Whether `bytes` holds a byte JSON escapes: the whole 16-byte blocks as bit masks, OR-ed with no
/// branch per block, then the rest.
fn needs_escape(bytes: &[u8]) -> bool {
    let (blocks, tail) = bytes.as_chunks::<16>();
    let mask = blocks
        .iter()
        .fold(0, |mask, block| mask | scan::json_special_mask(block));
    mask != 0 || any_needs_escape(tail, bytes)
}

/// [`write_str`] for a string with an escape: byte by byte, copying the runs between escapes.
#[cold]
#[inline(never)]
fn write_escaped(out: &mut String, value: &str) {
    out.reserve(value.len() + 8);
    out.push('"');
    let mut written = 0; // bytes of `value` already in `out`
    for (at, b) in value.bytes().enumerate() {
        if scan::is_json_special(b) {
            // An escaped byte is ASCII, so both ends are character boundaries.
            out.push_str(value.get(written..at).unwrap_or_default());
            push_escape(out, b);
            written = at + 1;
        }
    }
    out.push_str(value.get(written..).unwrap_or_default());
    out.push('"');
}

/// Whether `tail`, the last (fewer than 16) bytes of `all`, holds a byte that needs an escape.
///
/// With 16 bytes of `all` or more, the last 16 are tested at once (the ones before `tail` were
/// clean). Else two overlapping words cover `tail` (the first and the last 8 bytes, or 4), each
/// tested as serde_json's `skip_to_escape` tests eight bytes at once: Mycroft's test for a zero
/// byte, applied to `b ^ '"'` and `b ^ '\'`, and `b - 0x20` for controls, which can flag a byte
/// wrongly only above one that really matches, so a word is flagged exactly when it holds one.
fn any_needs_escape(tail: &[u8], all: &[u8]) -> bool {
    const ONES: u64 = u64::MAX / 255;
    let flagged = |x: u64, ones: u64| {
        let zero_byte = |y: u64| y.wrapping_sub(ones) & !y;
        let control = x.wrapping_sub(ones * 0x20) & !x;
        (control | zero_byte(x ^ (ones * u64::from(b'"'))) | zero_byte(x ^ (ones * u64::from(b'\\'))))
            & (ones << 7)
            != 0
    };
    // Each word is one load.
    let first8 = || tail.first_chunk().map_or(0, |&w| u64::from_le_bytes(w));
    let last8 = || tail.last_chunk().map_or(0, |&w| u64::from_le_bytes(w));
    let first4 = || {
        tail.first_chunk()
            .map_or(0, |&w| u64::from(u32::from_le_bytes(w)))
    };
    let last4 = || tail.last_chunk().map_or(0, |&w| u64::from(u32::from_le_bytes(w)));
    match tail.len() {
        0 => false,
        _ if all.len() >= 16 => all
            .last_chunk()
            .is_some_and(|last| scan::json_special_mask(last) != 0),
        8.. => flagged(first8(), ONES) | flagged(last8(), ONES),
        4.. => flagged(first4(), ONES >> 32) | flagged(last4(), ONES >> 32),
        _ => tail.iter().any(|&b| scan::is_json_special(b)),
    }
}

/// Starts an object entry whose key is a JSON string literal needing no escape, given with its
/// quotes and colon (`"name":`): a comma first unless it is the object's first entry.
pub(crate) fn write_literal_key(out: &mut String, first: &mut bool, quoted_key: &str) {
    if !std::mem::take(first) {
        out.push(',');
    }
    out.push_str(quoted_key);
}

/// Starts an object entry with any key: a comma first unless it is the first entry.
pub(crate) fn write_key(out: &mut String, first: &mut bool, key: &str) {
    if !std::mem::take(first) {
        out.push(',');
    }
    write_str(out, key);
    out.push(':');
}

fn push_escape(out: &mut String, b: u8) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let short = match b {
        b'"' => "\\\"",
        b'\\' => "\\\\",
        0x08 => "\\b",
        b'\t' => "\\t",
        b'\n' => "\\n",
        0x0c => "\\f",
        b'\r' => "\\r",
        _ => {
            out.push_str("\\u00");
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0xf)]));
            return;
        }
    };
    out.push_str(short);
}

impl WriteJson for str {
    fn write_json(&self, out: &mut String) {
        write_str(out, self);
    }
}

impl WriteJson for String {
    fn write_json(&self, out: &mut String) {
        write_str(out, self);
    }
}

impl WriteJson for Str<'_> {
    fn write_json(&self, out: &mut String) {
        write_str(out, self);
    }
}

impl WriteJson for Text<'_> {
    fn write_json(&self, out: &mut String) {
        write_str(out, self);
    }
}

impl WriteJson for Raw<'_> {
    fn write_json(&self, out: &mut String) {
        out.push_str(self.get());
    }
}

impl WriteJson for bool {
    fn write_json(&self, out: &mut String) {
        out.push_str(if *self { "true" } else { "false" });
    }
}

impl<T: WriteJson> WriteJson for [T] {
    fn write_json(&self, out: &mut String) {
        out.push('[');
        for (i, item) in self.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            item.write_json(out);
        }
        out.push(']');
    }
}

impl<T: WriteJson + ?Sized> WriteJson for Box<T> {
    fn write_json(&self, out: &mut String) {
        (**self).write_json(out);
    }
}

impl<T: WriteJson> WriteJson for Vec<T> {
    fn write_json(&self, out: &mut String) {
        self.as_slice().write_json(out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_escape_is_found_at_every_place_in_short_and_long_strings() {
        for len in 0..48 {
            for at in 0..len {
                for b in 0..=127u8 {
                    let mut value = vec![b'a'; len];
                    value[at] = b;
                    // Bytes that could fool a word test, around the one tested.
                    if at + 1 < len {
                        value[at + 1] = 0x21;
                    }
                    if at > 0 {
                        value[at - 1] = 0x7f;
                    }
                    let value = String::from_utf8(value).unwrap();
                    let mut out = String::new();
                    write_str(&mut out, &value);
                    assert_eq!(out, serde_json::to_string(&value).unwrap(), "{value:?}");
                }
            }
        }
    }

    #[test]
    fn strings_are_escaped_as_serde_json_escapes_them() {
        let mut all: String = (0u8..0x80).map(char::from).collect();
        all.push_str("é€😀\u{2028}\u{7f}");
        let long = format!("{}\"{}\\{}\u{1}", "a".repeat(40), "b".repeat(15), "c".repeat(16));
        for value in [
            "",
            "plain",
            "\"",
            "\\",
            "a\"b\\c\nd\re\tf\u{8}g\u{c}h\u{0}i\u{1f}",
            all.as_str(),
            long.as_str(),
        ] {
            let mut out = String::new();
            write_str(&mut out, value);
            assert_eq!(out, serde_json::to_string(value).unwrap(), "{value:?}");
        }
    }
}
