//! The canonical URI: the path as sent (S3) or percent-encoded again (most services), optionally
//! with dot segments removed; and S3's canonical form of a path.

use crate::sigv4::bytes::{PATH_ENCODE, is_control, is_path_byte};
use crate::sigv4::error::SigningError;
use crate::sigv4::settings::{PercentEncodingMode, UriPathNormalizationMode};
use percent_encoding::{percent_decode_str, percent_encode};
use std::borrow::Cow;

const BAD_ESCAPE: &str = "a '%' is not followed by two hex digits";

/// The canonical URI of `path` under the given encoding and normalisation.
pub(super) fn canonical_path(
    path: &str,
    encoding: PercentEncodingMode,
    normalization: UriPathNormalizationMode,
) -> Result<Cow<'_, str>, SigningError> {
    let invalid = |reason| SigningError::InvalidPath {
        path: path.to_owned(),
        reason,
    };
    if !path.starts_with('/') {
        return Err(invalid("it must start with '/'"));
    }
    // A path sent verbatim holds path bytes only, so no control character: the control check
    // runs on its own only when the path is encoded here or found faulty (that error comes first).
    let checked = match encoding {
        PercentEncodingMode::Single => check_encoded_path(path),
        PercentEncodingMode::Double => Ok(()),
    };
    if (checked.is_err() || encoding == PercentEncodingMode::Double) && path.bytes().any(is_control) {
        return Err(invalid("it holds a control character"));
    }
    checked.map_err(invalid)?;
    let path = match normalization {
        UriPathNormalizationMode::Enabled => normalize_path(path),
        UriPathNormalizationMode::Disabled => Cow::Borrowed(path),
    };
    Ok(match encoding {
        PercentEncodingMode::Single => path,
        PercentEncodingMode::Double => match percent_encode(path.as_bytes(), PATH_ENCODE).into() {
            Cow::Borrowed(_) => path, // nothing to encode
            Cow::Owned(encoded) => Cow::Owned(encoded),
        },
    })
}

/// Whether the `%` at `at` is followed by two hex digits.
fn is_escape(bytes: &[u8], at: usize) -> bool {
    bytes
        .get(at + 1..at + 3)
        .is_some_and(|hex| hex.iter().all(u8::is_ascii_hexdigit))
}

/// Every `%` is followed by two hex digits.
fn check_escapes(path: &str) -> Result<(), &'static str> {
    let bytes = path.as_bytes();
    match (0..bytes.len()).all(|at| bytes[at] != b'%' || is_escape(bytes, at)) {
        true => Ok(()),
        false => Err(BAD_ESCAPE),
    }
}

/// A path sent verbatim must be a valid RFC 3986 path: path bytes and well-formed `%XX`.
fn check_encoded_path(path: &str) -> Result<(), &'static str> {
    let bytes = path.as_bytes();
    for (at, &b) in bytes.iter().enumerate() {
        if b == b'%' {
            if !is_escape(bytes, at) {
                return Err(BAD_ESCAPE);
            }
        } else if !is_path_byte(b) {
            return Err("with single encoding the path must already be percent-encoded");
        }
    }
    Ok(())
}

/// Removes `.` and `..` segments and empty segments, keeping a trailing slash (RFC 3986 §5.2.4, as
/// AWS services apply it). `..` above the root stays at the root.
fn normalize_path(path: &str) -> Cow<'_, str> {
    if !path.contains("/.") && !path.contains("//") {
        return Cow::Borrowed(path);
    }
    let mut segments: Vec<&str> = Vec::new();
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            kept => segments.push(kept),
        }
    }
    let mut out = String::with_capacity(path.len());
    for segment in &segments {
        out.push('/');
        out.push_str(segment);
    }
    let trailing = ["/", "/.", "/.."].iter().any(|end| path.ends_with(end));
    if out.is_empty() || trailing {
        out.push('/');
    }
    Cow::Owned(out)
}

/// The S3 canonical form of a request path: decode every `%XX`, then encode every byte outside
/// `A-Za-z0-9-_.~` once, keeping `/`. No normalisation: `.`, `..` and `//` are part of the key. A
/// literal `+` is a plus (paths are not form-encoded). A path in this form is what
/// [`SigningSettings::s3`](crate::sigv4::SigningSettings::s3) signs as it is.
///
/// ```
/// use edge_signer::sigv4::s3_canonical_path;
/// assert_eq!(s3_canonical_path("/test$file.text").unwrap(), "/test%24file.text");
/// assert_eq!(s3_canonical_path("/a%2bb/c d/../ሴ").unwrap(), "/a%2Bb/c%20d/../%E1%88%B4");
/// assert!(s3_canonical_path("/bad%zz").is_err());
/// ```
///
/// # Errors
/// [`SigningError::InvalidPath`] when the path does not start with `/`, holds a malformed escape,
/// decodes to bytes that are not UTF-8, or holds a control character.
pub fn s3_canonical_path(path: &str) -> Result<String, SigningError> {
    let invalid = |reason| SigningError::InvalidPath {
        path: path.to_owned(),
        reason,
    };
    if !path.starts_with('/') {
        return Err(invalid("it must start with '/'"));
    }
    check_escapes(path).map_err(invalid)?;
    let decoded: Cow<'_, [u8]> = percent_decode_str(path).into();
    if std::str::from_utf8(&decoded).is_err() {
        return Err(invalid("its percent-decoded bytes are not UTF-8"));
    }
    if decoded.iter().copied().any(is_control) {
        return Err(invalid("it holds a control character"));
    }
    Ok(percent_encode(&decoded, PATH_ENCODE).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalisation_removes_dot_and_empty_segments_and_keeps_trailing_slash() {
        assert_eq!(normalize_path("//example//"), "/example/");
        assert_eq!(normalize_path("/example/.."), "/");
        assert_eq!(normalize_path("/a/b/../c/./d"), "/a/c/d");
        assert_eq!(normalize_path("/../../x"), "/x");
        assert_eq!(normalize_path("/a/."), "/a/");
        assert_eq!(normalize_path("/a.b/.c"), "/a.b/.c");
    }

    #[test]
    fn double_encoding_encodes_percent_and_reserved_bytes() {
        let p = canonical_path(
            "/a b/%3D@",
            PercentEncodingMode::Double,
            UriPathNormalizationMode::Disabled,
        );
        assert_eq!(p.unwrap(), "/a%20b/%253D%40");
        let plain = "/a/b-c_d.e~f";
        let p = canonical_path(
            plain,
            PercentEncodingMode::Double,
            UriPathNormalizationMode::Enabled,
        );
        assert!(matches!(p, Ok(Cow::Borrowed(_))));
    }

    #[test]
    fn single_encoding_rejects_unencoded_paths() {
        for bad in [
            "/a b", "/ሴ", "/a%2", "/a%zz", "/a#b", "/a?b", "/a%", "/%4", "/%%41", "/a\x7f", "/a\nb", "a",
        ] {
            let r = canonical_path(
                bad,
                PercentEncodingMode::Single,
                UriPathNormalizationMode::Disabled,
            );
            assert!(matches!(r, Err(SigningError::InvalidPath { .. })), "{bad}");
        }
        // A control character is reported as such, wherever it is and whatever else is wrong.
        for (bad, mode) in [
            ("/a b\n", PercentEncodingMode::Single),
            ("/a\x01", PercentEncodingMode::Single),
            ("/a\x7f", PercentEncodingMode::Double),
        ] {
            let r = canonical_path(bad, mode, UriPathNormalizationMode::Disabled);
            assert!(
                matches!(
                    r,
                    Err(SigningError::InvalidPath {
                        reason: "it holds a control character",
                        ..
                    })
                ),
                "{bad:?}: {r:?}"
            );
        }
        let good = "/a%20b/!$&'()*+,;=:@~";
        let r = canonical_path(
            good,
            PercentEncodingMode::Single,
            UriPathNormalizationMode::Disabled,
        );
        assert_eq!(r.unwrap(), good);
    }

    #[test]
    fn s3_path_encodes_as_percent_encoding_does() {
        let printable: String = (0x20u8..0x7f).map(char::from).filter(|&c| c != '%').collect();
        let printable = format!("/{printable}");
        for path in [
            "/",
            "/a b/c+d/%41%2f%7E/é€😀",
            printable.as_str(),
            "/%25%20%2B%C3%A9",
            "/a//./../b",
        ] {
            let decoded: Vec<u8> = percent_decode_str(path).collect();
            let expected = percent_encode(&decoded, PATH_ENCODE).to_string();
            assert_eq!(s3_canonical_path(path).unwrap_or_default(), expected, "{path}");
        }
        assert_eq!(
            s3_canonical_path("/%41%2f%7E/%e2%82%ac").unwrap(),
            "/A/~/%E2%82%AC"
        );
    }

    #[test]
    fn s3_path_rejects_non_utf8_and_controls() {
        assert!(s3_canonical_path("/%FF").is_err());
        assert!(s3_canonical_path("/%0A").is_err());
        assert!(s3_canonical_path("/a%2").is_err());
        assert_eq!(s3_canonical_path("/a+b//./x").unwrap(), "/a%2Bb//./x");
    }
}
