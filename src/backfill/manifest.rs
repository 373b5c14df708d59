//! The manifest: S3 Batch Operations' CSV format (`S3BatchOperations_CSV_20180820`), one object a
//! row, `bucket,key` or `bucket,key,versionId`, no header, keys URL-encoded as S3 Inventory and
//! real manifests have them; fields quoted or not (S3 Inventory quotes every field)
//! (<https://docs.aws.amazon.com/AmazonS3/latest/userguide/batch-ops-create-job.html#specify-batchjob-manifest>).

use std::io::Read;
use thiserror::Error;

/// One task of the manifest, its fields as written there.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Entry {
    /// The manifest's line (1-based) where the row starts.
    pub line: u64,
    pub bucket: String,
    /// URL-encoded, as in the manifest (the task decodes it, as the job's function does).
    pub key: String,
    /// `None` when the row has two fields or an empty third one.
    pub version_id: Option<String>,
}

/// A manifest the runner cannot use, naming the line at fault.
#[derive(Debug, Error)]
pub enum ManifestError {
    #[error("line {line}: {reason}")]
    Row { line: u64, reason: String },
    #[error("line {line}: not CSV: {source}")]
    Csv { line: u64, source: csv::Error },
    #[error("the manifest holds no task")]
    Empty,
}

/// Reads every row of a manifest. The whole manifest is checked before any task runs, so a bad row
/// costs no request.
///
/// # Errors
/// The first bad row: not 2 or 3 fields, an empty bucket or key, a field that is not CSV or not
/// UTF-8; or no row at all.
pub fn read(mut input: impl Read) -> Result<Vec<Entry>, ManifestError> {
    let mut bytes = Vec::new();
    input.read_to_end(&mut bytes).map_err(|e| ManifestError::Csv {
        line: 0,
        source: e.into(),
    })?;
    let mut entries = Vec::new();
    for record in records(&bytes) {
        let (line, record) = record.map_err(|(line, source)| ManifestError::Csv { line, source })?;
        entries.push(entry(&record, line)?);
    }
    if entries.is_empty() {
        return Err(ManifestError::Empty);
    }
    Ok(entries)
}

/// The CSV records of `bytes` (no header, any number of fields), each with the line where it
/// starts; an error with the line where its record starts.
pub(super) fn records(
    bytes: &[u8],
) -> impl Iterator<Item = Result<(u64, csv::StringRecord), (u64, csv::Error)>> + '_ {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes);
    let mut done = false;
    std::iter::from_fn(move || {
        if done {
            return None;
        }
        let mut record = csv::StringRecord::new();
        let before = reader.position().clone();
        let read = reader.read_record(&mut record);
        let at = |position: Option<&csv::Position>| start_line(bytes, position.unwrap_or(&before));
        match read {
            Ok(false) => None,
            Ok(true) => Some(Ok((at(record.position()), record))),
            Err(e) => {
                done = true;
                Some(Err((at(e.position()), e)))
            }
        }
    })
}

/// csv counts a record's line from the end of the one before: past a CRLF's CR, or before blank
/// lines. The line where it starts is after those.
fn start_line(bytes: &[u8], position: &csv::Position) -> u64 {
    let from = usize::try_from(position.byte()).unwrap_or(usize::MAX);
    let newlines = bytes
        .get(from..)
        .unwrap_or_default()
        .iter()
        .take_while(|b| matches!(b, b'\r' | b'\n'))
        .filter(|b| **b == b'\n')
        .count();
    position.line() + newlines as u64
}

fn entry(record: &csv::StringRecord, line: u64) -> Result<Entry, ManifestError> {
    let bad = |reason: &str| ManifestError::Row {
        line,
        reason: reason.to_owned(),
    };
    let (bucket, key, version_id) = match (record.get(0), record.get(1), record.get(2), record.len()) {
        (Some(bucket), Some(key), version, 2 | 3) => (bucket, key, version),
        (_, _, _, fields) => {
            return Err(bad(&format!(
                "{fields} field(s); expected bucket,key or bucket,key,versionId"
            )));
        }
    };
    if bucket.is_empty() || bucket.contains('/') {
        return Err(bad("the first field must be a bucket name"));
    }
    if key.is_empty() {
        return Err(bad("the key (second field) is empty"));
    }
    Ok(Entry {
        line,
        bucket: bucket.to_owned(),
        key: key.to_owned(),
        version_id: version_id.filter(|v| !v.is_empty()).map(str::to_owned),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(line: u64, bucket: &str, key: &str, version: Option<&str>) -> Entry {
        Entry {
            line,
            bucket: bucket.into(),
            key: key.into(),
            version_id: version.map(Into::into),
        }
    }

    #[test]
    fn unquoted_quoted_and_versioned_rows() {
        let manifest = "photos,in/red+flower.jpg\n\
                        \"photos\",\"in/a%2Bb.jpg\"\n\
                        photos,in/%C3%BC/x.jpg,3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY\r\n\
                        \"photos\",\"in/q,uoted \"\"x\"\".jpg\",\"\"\n";
        assert_eq!(
            read(manifest.as_bytes()).unwrap(),
            [
                entry(1, "photos", "in/red+flower.jpg", None),
                entry(2, "photos", "in/a%2Bb.jpg", None),
                entry(
                    3,
                    "photos",
                    "in/%C3%BC/x.jpg",
                    Some("3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY")
                ),
                entry(4, "photos", "in/q,uoted \"x\".jpg", None),
            ]
        );
    }

    #[test]
    fn a_quoted_field_over_two_lines_keeps_the_line_where_its_row_starts() {
        let manifest = "b,k1\nb,\"k\n2\"\nb,k3\n";
        let lines: Vec<u64> = read(manifest.as_bytes())
            .unwrap()
            .iter()
            .map(|e| e.line)
            .collect();
        assert_eq!(lines, [1, 2, 4]);
    }

    #[test]
    fn bad_rows_name_their_line() {
        let cases = [
            ("b,k\nb\n", 2, "1 field"),
            ("b,k\nb,k,v,extra\n", 2, "4 field"),
            ("b,k\n\n,k\n", 3, "bucket"),
            ("b,k\nb/x,k\n", 2, "bucket"),
            ("b,k\nb,k\nb,\n", 3, "key"),
            ("b,k\r\nb,k\r\n\r\nb\r\n", 4, "1 field"),
        ];
        for (manifest, line, says) in cases {
            let error = read(manifest.as_bytes()).map(|_| ()).unwrap_err();
            let text = error.to_string();
            assert!(
                text.starts_with(&format!("line {line}: ")),
                "{manifest:?}: {text}"
            );
            assert!(text.contains(says), "{manifest:?}: {text}");
        }
    }

    #[test]
    fn not_utf8_is_a_bad_row_and_nothing_is_empty() {
        let error = read(&b"b,k\nb,\xFF\n"[..]).unwrap_err();
        assert!(error.to_string().starts_with("line 2: "), "{error}");
        assert!(matches!(read(&b""[..]), Err(ManifestError::Empty)));
        assert!(matches!(read(&b"\n\n"[..]), Err(ManifestError::Empty)));
    }
}
