//! The `showExif=true` answer: every EXIF field as JSON, grouped by IFD.

use exif::{Context, Exif, Field, In, Tag, Value};
use serde_json::{Map, Number, Value as Json, json};

use super::exif_budget::Budget;

/// The content type of [`super::exif_json`]'s answer.
pub const JSON_CONTENT_TYPE: &str = "application/json";

/// Builds the JSON object described in [`super::exif_json`], or says which [`Budget`] limit the
/// block exceeds.
pub(super) fn to_json(exif: Option<&Exif>) -> Result<Json, String> {
    let mut groups = Map::new();
    for name in ["image", "exif", "gps", "interop"] {
        groups.insert(name.to_owned(), Json::Object(Map::new()));
    }
    let Some(exif) = exif else {
        return Ok(Json::Object(groups));
    };
    let mut budget = Budget::default();
    // kamadak-exif reads each value when the iterator reaches its field, and keeps it: the budget
    // is checked field by field, so that reading stops before the block's values pile up.
    for field in exif.fields() {
        budget.read(field)?;
        if is_pointer(field.tag) {
            continue;
        }
        let group = groups
            .entry(group_name(field))
            .or_insert_with(|| Json::Object(Map::new()));
        if let Json::Object(group) = group {
            let name = tag_name(field.tag);
            // A tag repeated in one IFD (malformed): the first one counts, as for readers.
            if !group.contains_key(&name) {
                let value = value(&field.value);
                budget.write(&name, &value)?;
                group.insert(name, value);
            }
        }
    }
    if let Some(position) = position(exif) {
        groups.insert("position".to_owned(), position);
    }
    Ok(Json::Object(groups))
}

fn group_name(field: &Field) -> String {
    if field.ifd_num != In::PRIMARY {
        return "thumbnail".to_owned();
    }
    match field.tag.context() {
        Context::Tiff => "image",
        Context::Exif => "exif",
        Context::Gps => "gps",
        Context::Interop => "interop",
        _ => "other",
    }
    .to_owned()
}

/// The offsets linking IFDs: structure, not information.
fn is_pointer(tag: Tag) -> bool {
    matches!(
        tag,
        Tag::ExifIFDPointer | Tag::GPSInfoIFDPointer | Tag::InteropIFDPointer
    )
}

/// The specification's name (kamadak-exif's table), or `0x` and the hex number for unknown tags.
fn tag_name(tag: Tag) -> String {
    match tag.description() {
        Some(_) => tag.to_string(),
        None => format!("0x{:04X}", tag.number()),
    }
}

/// One value as JSON: a single number or string as itself, several as an array; rationals as
/// numbers (`null` when the denominator is 0); UNDEFINED bytes as a string when they are printable
/// ASCII (like ExifVersion "0232"), otherwise as `{"base64": "…"}`.
fn value(value: &Value) -> Json {
    fn many<T>(items: &[T], one: impl Fn(&T) -> Json) -> Json {
        match items {
            [single] => one(single),
            _ => Json::Array(items.iter().map(one).collect()),
        }
    }
    let float = |f: f64| Number::from_f64(f).map_or(Json::Null, Json::Number);
    match value {
        Value::Byte(v) => many(v, |&n| json!(n)),
        Value::Short(v) => many(v, |&n| json!(n)),
        Value::Long(v) => many(v, |&n| json!(n)),
        Value::SByte(v) => many(v, |&n| json!(n)),
        Value::SShort(v) => many(v, |&n| json!(n)),
        Value::SLong(v) => many(v, |&n| json!(n)),
        Value::Float(v) => many(v, |&n| float(f64::from(n))),
        Value::Double(v) => many(v, |&n| float(n)),
        Value::Rational(v) => many(v, |r| ratio(f64::from(r.num), f64::from(r.denom))),
        Value::SRational(v) => many(v, |r| ratio(f64::from(r.num), f64::from(r.denom))),
        Value::Ascii(v) => many(v, |s| Json::String(String::from_utf8_lossy(s).into_owned())),
        Value::Undefined(bytes, _) => undefined(bytes),
        Value::Unknown(..) => Json::Null,
    }
}

fn ratio(num: f64, denom: f64) -> Json {
    if denom == 0.0 {
        return Json::Null;
    }
    Number::from_f64(num / denom).map_or(Json::Null, Json::Number)
}

fn undefined(bytes: &[u8]) -> Json {
    let trimmed = bytes.strip_suffix(&[0]).unwrap_or(bytes);
    if !trimmed.is_empty() && trimmed.iter().all(|b| (0x20..0x7F).contains(b)) {
        return Json::String(String::from_utf8_lossy(trimmed).into_owned());
    }
    use base64::Engine as _;
    json!({ "base64": base64::engine::general_purpose::STANDARD.encode(bytes) })
}

/// `{"latitude", "longitude"}` in signed decimal degrees (south and west negative), and
/// `"altitude"` in metres (below sea level negative) when the GPS IFD has it.
fn position(exif: &Exif) -> Option<Json> {
    let latitude = degrees(exif, Tag::GPSLatitude, Tag::GPSLatitudeRef, b'S')?;
    let longitude = degrees(exif, Tag::GPSLongitude, Tag::GPSLongitudeRef, b'W')?;
    let mut position = json!({ "latitude": latitude, "longitude": longitude });
    if let Some(altitude) = altitude(exif) {
        position["altitude"] = altitude;
    }
    Some(position)
}

fn degrees(exif: &Exif, tag: Tag, reference: Tag, negative: u8) -> Option<Json> {
    let Value::Rational(parts) = &exif.get_field(tag, In::PRIMARY)?.value else {
        return None;
    };
    let mut total = 0.0;
    for (part, scale) in parts.iter().zip([1.0, 60.0, 3600.0]) {
        if part.denom == 0 {
            return None;
        }
        total += part.to_f64() / scale;
    }
    let sign = match &exif.get_field(reference, In::PRIMARY)?.value {
        Value::Ascii(v) if v.first().and_then(|s| s.first()) == Some(&negative) => -1.0,
        _ => 1.0,
    };
    Number::from_f64(sign * total).map(Json::Number)
}

fn altitude(exif: &Exif) -> Option<Json> {
    let Value::Rational(v) = &exif.get_field(Tag::GPSAltitude, In::PRIMARY)?.value else {
        return None;
    };
    let metres = v.first().filter(|r| r.denom != 0)?.to_f64();
    let below = exif
        .get_field(Tag::GPSAltitudeRef, In::PRIMARY)
        .and_then(|f| f.value.get_uint(0))
        == Some(1);
    Number::from_f64(if below { -metres } else { metres }).map(Json::Number)
}
