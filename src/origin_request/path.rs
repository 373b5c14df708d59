//! Which paths may be signed: a service's path sent unchanged, and an S3 origin path.

use crate::sigv4::{self, bytes::is_path_byte};
use percent_encoding::percent_decode_str;
use std::borrow::Cow;

/// A path a service other than S3 is sent unchanged: percent-encoded (path bytes and `%XX`
/// escapes, no control character), and with no `..` climbing above the root, alone or after the
/// origin path (an API Gateway stage): the signature would be computed for a path the viewer
/// chose outside the one the distribution exposes. A segment counts as `..` however its dots are
/// spelt (`%2E`), since the service may decode it before it normalises.
pub(super) fn check_service_path(uri: &str, origin_path: &str) -> Result<(), &'static str> {
    let bytes = uri.as_bytes();
    if !uri.starts_with('/') {
        return Err("the path must start with '/'");
    }
    let escapes_ok = (0..bytes.len()).all(|at| {
        bytes[at] != b'%'
            || bytes
                .get(at + 1..at + 3)
                .is_some_and(|hex| hex.iter().all(u8::is_ascii_hexdigit))
    });
    if !escapes_ok || !bytes.iter().all(|&b| b == b'%' || is_path_byte(b)) {
        return Err("the path is not percent-encoded (a character outside RFC 3986's path, or a bad escape)");
    }
    if climbs_above_root(uri) || climbs_above_root(&format!("{origin_path}{uri}")) {
        return Err("the path's '..' segments climb above its root");
    }
    Ok(())
}

/// Whether removing dot segments (RFC 3986 §5.2.4, empty segments collapsed as AWS does) would
/// go above the root of `path`. Segments are compared decoded (`+` is a plus in a path).
pub(super) fn climbs_above_root(path: &str) -> bool {
    let mut depth = 0usize;
    for segment in path.split('/').skip(1) {
        let decoded: Cow<'_, [u8]> = percent_decode_str(segment).into();
        match &*decoded {
            b"" | b"." => {}
            b".." => match depth.checked_sub(1) {
                Some(up) => depth = up,
                None => return true,
            },
            _ => depth += 1,
        }
    }
    false
}

/// An origin path CloudFront sends as it is and S3 reads as we sign it: empty, or `/`-prefixed,
/// not `/`-terminated, and already in S3 canonical form.
pub(super) fn is_signable_origin_path(path: &str) -> bool {
    path.is_empty()
        || (path.starts_with('/')
            && !path.ends_with('/')
            && sigv4::s3_canonical_path(path).is_ok_and(|canonical| canonical == path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dot_segments_climbing_above_the_root_are_found_however_spelt() {
        for (path, climbs) in [
            ("/prod/a/../b", false),
            ("/prod/..", false),
            ("/prod/../..", true),
            ("/..", true),
            ("/../prod", true),
            ("/a//../../b", true),
            ("/a/./../b", false),
            ("/%2e%2E/x", true),
            ("/.%2e", true),
            ("/...", false),
            ("/a+/..+", false),
            ("/", false),
        ] {
            assert_eq!(climbs_above_root(path), climbs, "{path}");
        }
        assert_eq!(
            check_service_path("/..", ""),
            Err("the path's '..' segments climb above its root")
        );
        assert!(check_service_path("/x/../..", "/prod").is_err());
        assert!(check_service_path("/a b", "").is_err());
        assert!(check_service_path("/a%2", "").is_err());
        assert!(check_service_path("/é", "").is_err());
        assert!(check_service_path("/a%20b/%FF/!$&'()*+,;=:@~", "").is_ok());
    }
}
