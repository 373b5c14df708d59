//! The byte classes of SigV4 and HTTP, each defined once. The percent-encoding sets and every
//! check in the signer derive from these.
//!
//! ```
//! use edge_signer::sigv4::bytes;
//! assert!(bytes::is_unreserved(b'~') && !bytes::is_unreserved(b'/'));
//! assert!(bytes::is_path_byte(b'/') && !bytes::is_path_byte(b'%'));
//! assert!(bytes::is_token_byte(b'!') && !bytes::is_token_byte(b':'));
//! assert!(bytes::is_scope_byte(b'-') && !bytes::is_scope_byte(b'/'));
//! ```

use percent_encoding::AsciiSet;

/// A set of bytes as a 256-entry table, so that a membership test on the signing path is one load.
struct Table([bool; 256]);

impl Table {
    /// `A-Za-z0-9`.
    const fn alphanumerics() -> Self {
        let mut table = [false; 256];
        let mut b = 0;
        while b < 128 {
            table[b] = (b as u8).is_ascii_alphanumeric();
            b += 1;
        }
        Self(table)
    }

    /// This set and `extra`.
    const fn with(self, extra: &[u8]) -> Self {
        let mut table = self.0;
        let mut i = 0;
        while i < extra.len() {
            table[extra[i] as usize] = true;
            i += 1;
        }
        Self(table)
    }

    const fn has(&self, b: u8) -> bool {
        self.0[b as usize]
    }
}

/// RFC 3986 `unreserved`.
const UNRESERVED: Table = Table::alphanumerics().with(b"-._~");
/// RFC 3986 `pchar` (unreserved, sub-delims, `:` and `@`) and `/`.
const PATH: Table = UNRESERVED.with(b"!$&'()*+,;=:@/");
/// RFC 9110 `tchar`.
const TOKEN: Table = Table::alphanumerics().with(b"!#$%&'*+-.^_`|~");

/// RFC 3986 unreserved characters, `A-Za-z0-9-._~`: the bytes no SigV4 encoding touches
/// (`UriEncode()` in the AWS documentation,
/// <https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html>).
pub const fn is_unreserved(b: u8) -> bool {
    UNRESERVED.has(b)
}

/// What a percent-encoded path may hold besides `%XX`: RFC 3986 `pchar` (unreserved, sub-delims,
/// `:` and `@`) and `/`.
pub const fn is_path_byte(b: u8) -> bool {
    PATH.has(b)
}

/// ASCII control characters: C0 and DEL. A request target holds none.
pub const fn is_control(b: u8) -> bool {
    b.is_ascii_control()
}

/// A control character other than tab: what an HTTP field value (RFC 9110 §5.5) cannot hold, since
/// CR and LF would end it and the others are refused by servers.
pub const fn is_header_value_control(b: u8) -> bool {
    is_control(b) && b != b'\t'
}

/// HTTP token characters (RFC 9110 `tchar`): methods and header names.
pub const fn is_token_byte(b: u8) -> bool {
    TOKEN.has(b)
}

/// What a part of the credential scope (or the access key id before it) may hold: printable ASCII
/// but `/`, which separates the parts.
pub const fn is_scope_byte(b: u8) -> bool {
    b.is_ascii_graphic() && b != b'/'
}

/// Whether `text` is a non-empty HTTP token.
pub fn is_token(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(is_token_byte)
}

/// The ASCII bytes outside [`is_unreserved`] (and, if `keep_slash`, outside `/` too); non-ASCII
/// bytes are always encoded by `percent_encoding`.
const fn escaped(keep_slash: bool) -> AsciiSet {
    let mut set = AsciiSet::EMPTY;
    let mut b = 0;
    while b < 128 {
        let kept = is_unreserved(b) || (keep_slash && b == b'/');
        if !kept {
            set = set.add(b);
        }
        b += 1;
    }
    set
}

/// What SigV4's `UriEncode()` escapes in a query component: every byte but the unreserved.
pub const URI_ENCODE: &AsciiSet = &escaped(false);
/// As [`URI_ENCODE`], but `/` is kept: the set for paths.
pub const PATH_ENCODE: &AsciiSet = &escaped(true);

#[cfg(test)]
mod tests {
    use super::*;
    use percent_encoding::{NON_ALPHANUMERIC, percent_encode};

    /// Each class against its definition written as a list of bytes, as the RFCs give them.
    #[test]
    fn classes_are_the_rfc_lists() {
        let alnum = |b: u8| b.is_ascii_alphanumeric();
        for b in 0..=255u8 {
            assert_eq!(is_unreserved(b), alnum(b) || b"-._~".contains(&b), "{b:#04x}");
            let pchar = alnum(b) || b"-._~!$&'()*+,;=:@/".contains(&b);
            assert_eq!(is_path_byte(b), pchar, "{b:#04x}");
            assert_eq!(
                is_token_byte(b),
                alnum(b) || b"!#$%&'*+-.^_`|~".contains(&b),
                "{b:#04x}"
            );
            assert_eq!(
                is_scope_byte(b),
                (0x21..0x7f).contains(&b) && b != b'/',
                "{b:#04x}"
            );
            assert_eq!(is_control(b), b < 0x20 || b == 0x7f, "{b:#04x}");
            assert_eq!(is_header_value_control(b), is_control(b) && b != 9, "{b:#04x}");
        }
    }

    #[test]
    fn the_encode_sets_keep_exactly_the_unreserved_bytes() {
        const EXPECTED: &AsciiSet = &NON_ALPHANUMERIC
            .remove(b'-')
            .remove(b'.')
            .remove(b'_')
            .remove(b'~');
        for b in 0..=255u8 {
            let one = [b];
            let ours = percent_encode(&one, URI_ENCODE).to_string();
            assert_eq!(ours, percent_encode(&one, EXPECTED).to_string(), "{b:#04x}");
            let path = percent_encode(&one, PATH_ENCODE).to_string();
            assert_eq!(path == "/", b == b'/', "{b:#04x}");
        }
    }
}
