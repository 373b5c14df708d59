//! An event's object key, decoded. S3 writes keys form-encoded
//! (<https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-content-structure.html>):
//! `red flower.jpg` arrives as `red+flower.jpg` and a literal `+` as `%2B`. Using the raw key
//! is the classic cause of `NoSuchKey`.

use crate::sigv4::form_decode;
use thiserror::Error;

/// A key that is not form-encoded UTF-8. The raw key is quoted so the log shows what came.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum KeyError {
    /// A `%` not followed by two hex digits.
    #[error("object key {0:?}: a '%' is not followed by two hex digits")]
    BadEscape(String),
    /// The decoded bytes are not UTF-8, so they cannot name an S3 key.
    #[error("object key {0:?}: the decoded bytes are not UTF-8")]
    NotUtf8(String),
}

/// Decodes a key as form-encoded: `+` is a space, `%XX` a byte, then UTF-8. `%2F` and `/` both
/// give `/` (older and third-party emitters encode the slash).
///
/// The decoding itself is the signer's [`form_decode`], the one form decoder of the crate. It
/// keeps a stray `%` as itself, as servers do for queries; S3 always encodes `%` as `%25`, so a
/// stray one here means the key was not encoded as we expect: it is checked first and refused
/// rather than guessed at.
///
/// ```
/// use edge_signer::triggers::decode_key;
/// assert_eq!(decode_key("red+flower%2B.jpg").unwrap(), "red flower+.jpg");
/// assert!(decode_key("100%.jpg").is_err());
/// ```
pub fn decode_key(raw: &str) -> Result<String, KeyError> {
    if !escapes_are_complete(raw.as_bytes()) {
        return Err(KeyError::BadEscape(raw.to_owned()));
    }
    String::from_utf8(form_decode(raw).into_owned()).map_err(|_| KeyError::NotUtf8(raw.to_owned()))
}

/// Whether every `%` starts a `%XX` escape.
fn escapes_are_complete(raw: &[u8]) -> bool {
    raw.iter().enumerate().all(|(i, &b)| {
        b != b'%'
            || raw
                .get(i + 1..i + 3)
                .is_some_and(|hex| hex.iter().all(u8::is_ascii_hexdigit))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_keys_decode_like_unquote_plus() {
        // Expected values as Python's urllib.parse.unquote_plus gives them.
        let cases = [
            ("red+flower.jpg", "red flower.jpg"),
            ("a%2Bb.jpg", "a+b.jpg"),
            ("c%2B%2B/%281%29+copy.jpg", "c++/(1) copy.jpg"),
            ("%C3%BC/%E6%97%A5%E6%9C%AC.jpg", "ü/日本.jpg"),
            ("x%3Ay%3Bz%3D%2C%40%24%26.jpg", "x:y;z=,@$&.jpg"),
            ("%2541pct.jpg", "%41pct.jpg"),
            ("~tilde%2A%21%27.jpg", "~tilde*!'.jpg"),
            ("a//b.jpg", "a//b.jpg"),
            ("dir%2Fsub%2fimg.jpg", "dir/sub/img.jpg"),
            ("plain.jpg", "plain.jpg"),
            ("", ""),
        ];
        for (raw, decoded) in cases {
            assert_eq!(decode_key(raw).as_deref(), Ok(decoded), "{raw}");
        }
    }

    #[test]
    fn decoding_happens_once() {
        // `%2541` is `%41`, not `A`: a second decode would change the key.
        assert_eq!(decode_key("%2541").unwrap(), "%41");
    }

    #[test]
    fn a_bad_escape_is_an_error_naming_the_raw_key() {
        for raw in ["100%", "100%.jpg", "a%2", "a%zz.jpg", "%%41"] {
            let error = decode_key(raw).unwrap_err();
            assert_eq!(error, KeyError::BadEscape(raw.to_owned()));
            assert!(error.to_string().contains(&format!("{raw:?}")), "{error}");
        }
    }

    #[test]
    fn bytes_that_are_not_utf8_are_an_error_naming_the_raw_key() {
        for raw in ["%FF.jpg", "%C3.jpg", "%E6%97.jpg"] {
            assert_eq!(decode_key(raw), Err(KeyError::NotUtf8(raw.to_owned())));
        }
    }
}
