//! How much of an EXIF block the JSON report may read and write.
//!
//! An IFD entry only points at its value bytes, so many entries can share the same bytes: a 64 KB
//! block can name gigabytes of values, each read into memory by kamadak-exif and then expanded
//! element by element into JSON. A block in which no two values share bytes holds at most its own
//! size in values (64 KB in a JPEG, and PNG and WebP blocks are capped to the same size in
//! `orientation.rs`) and at most 64 KB / 12 = 5,461 entries, and its report is at most a few times
//! that. The limits below leave room for such blocks and refuse the rest, so that a report stays
//! within a few megabytes whatever the image (a 128 MB function).

use exif::{Field, Value};
use serde_json::Value as Json;

/// Fields read (every IFD entry, repeated or not).
pub(super) const MAX_FIELDS: usize = 8_192;
/// Bytes of values read, as stored in the block (a SHORT is 2 bytes, an ASCII string its bytes and
/// its NUL). Without sharing every value byte is a distinct byte of the block (inline values are
/// inside their entry), so at most 65,527; the rest is margin. Each costs at most about 50 bytes
/// of memory once read (an empty string, in a vector grown by doubling) and 80 in the JSON tree (a
/// `serde_json::Value`): 10 MB or so in all.
pub(super) const MAX_VALUE_BYTES: usize = 80 * 1024;
/// Bytes of the JSON written (names and values, as serialized without spaces).
pub(super) const MAX_JSON_BYTES: usize = 2 * 1024 * 1024;

/// What a report has read and written so far.
#[derive(Debug, Default)]
pub(super) struct Budget {
    fields: usize,
    value_bytes: usize,
    json_bytes: usize,
}

impl Budget {
    /// Counts a field kamadak-exif has just read; an error once a limit is passed.
    pub(super) fn read(&mut self, field: &Field) -> Result<(), String> {
        self.fields += 1;
        if self.fields > MAX_FIELDS {
            return Err(format!(
                "more than {MAX_FIELDS} fields (IFDs overlapping?); not reported"
            ));
        }
        self.value_bytes = self.value_bytes.saturating_add(stored_size(&field.value));
        if self.value_bytes > MAX_VALUE_BYTES {
            return Err(format!(
                "more than {MAX_VALUE_BYTES} bytes of values (entries sharing value bytes?); not reported"
            ));
        }
        Ok(())
    }

    /// Counts a field written to the report as `"name":value,`; an error once the limit is passed.
    pub(super) fn write(&mut self, name: &str, value: &Json) -> Result<(), String> {
        let mut counter = Counter(0);
        // Writing to a counter cannot fail, and serializing a `Value` cannot either.
        let _ = serde_json::to_writer(&mut counter, value);
        self.json_bytes = self
            .json_bytes
            .saturating_add(name.len() + 4)
            .saturating_add(counter.0);
        if self.json_bytes > MAX_JSON_BYTES {
            return Err(format!(
                "its report would exceed {MAX_JSON_BYTES} bytes of JSON; not reported"
            ));
        }
        Ok(())
    }
}

/// The bytes `value` took in the block.
fn stored_size(value: &Value) -> usize {
    match value {
        Value::Byte(v) | Value::Undefined(v, _) => v.len(),
        Value::SByte(v) => v.len(),
        Value::Ascii(v) => v.iter().map(|s| s.len() + 1).sum(),
        Value::Short(v) => 2 * v.len(),
        Value::SShort(v) => 2 * v.len(),
        Value::Long(v) => 4 * v.len(),
        Value::SLong(v) => 4 * v.len(),
        Value::Float(v) => 4 * v.len(),
        Value::Rational(v) => 8 * v.len(),
        Value::SRational(v) => 8 * v.len(),
        Value::Double(v) => 8 * v.len(),
        // Not read: kamadak-exif keeps only the type, count and offset.
        Value::Unknown(..) => 0,
    }
}

/// An `io::Write` that only counts.
struct Counter(usize);

impl std::io::Write for Counter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0 += bytes.len();
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
