//! A request's body: whether its method has one, and its bytes as CloudFront included them.

use super::EventError;
use crate::cloudfront::Body;
use base64::Engine;
use std::borrow::Cow;

/// Methods whose requests have no body unless CloudFront included one: the empty body's hash (or
/// `UNSIGNED-PAYLOAD` for S3) is then the truth. Any other method has a body the function cannot
/// see, so it cannot be signed.
pub(super) fn is_bodiless_method(method: &str) -> bool {
    matches!(method, "GET" | "HEAD" | "DELETE" | "OPTIONS")
}

/// The body's bytes: decoded from base64, or the text itself (not copied). `detached`: the data,
/// when it came apart from the event.
pub(super) fn decode_body<'b>(
    body: &'b Body<'_>,
    detached: Option<&'b str>,
) -> Result<Cow<'b, [u8]>, EventError> {
    let data = detached.unwrap_or_else(|| body.data.as_deref().unwrap_or_default());
    match body.encoding.as_deref() {
        Some("base64") => base64::engine::general_purpose::STANDARD
            .decode(data)
            .map(Cow::Owned)
            .map_err(|e| EventError::Body(format!("data is not valid base64: {e}"))),
        Some("text") | None => Ok(Cow::Borrowed(data.as_bytes())),
        Some(other) => Err(EventError::Body(format!(
            "unknown encoding {other:?}; expected \"base64\" or \"text\""
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_get_head_delete_and_options_go_without_a_body() {
        for method in ["GET", "HEAD", "DELETE", "OPTIONS"] {
            assert!(is_bodiless_method(method), "{method}");
        }
        for method in ["POST", "PUT", "PATCH", "get", "PROPFIND"] {
            assert!(!is_bodiless_method(method), "{method}");
        }
    }
}
