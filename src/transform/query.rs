//! Whether a request asks for the EXIF as JSON instead of the stripped image.

use crate::sigv4::form_decode;

/// The query parameter that selects the JSON report.
pub const SHOW_EXIF: &str = "showExif";

/// `true` when the query string (with or without its leading `?`) has a parameter named exactly
/// `showExif` (case-sensitive, after form-decoding as the origin-request handler does) whose value is `true` in any letter case.
/// When the parameter is repeated, its first occurrence decides. Other parameters are ignored.
///
/// ```
/// use edge_signer::transform::show_exif;
/// assert!(show_exif("?showExif=TRUE"));
/// assert!(show_exif("size=2&showExif=true"));
/// assert!(!show_exif("showexif=true"));
/// assert!(!show_exif("showExif=1"));
/// assert!(!show_exif("showExif=false&showExif=true"));
/// ```
pub fn show_exif(query: &str) -> bool {
    let query = query.strip_prefix('?').unwrap_or(query);
    query
        .split('&')
        .filter_map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            (*form_decode(name) == *SHOW_EXIF.as_bytes()).then(|| form_decode(value))
        })
        .next()
        .is_some_and(|value| value.eq_ignore_ascii_case(b"true"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_name_any_case_value() {
        assert!(show_exif("showExif=true"));
        assert!(show_exif("showExif=True"));
        assert!(show_exif("a=1&showExif=tRuE&b"));
        assert!(show_exif("show%45xif=%74rue"));
    }

    #[test]
    fn anything_else_is_the_image() {
        for query in [
            "",
            "?",
            "showExif",
            "showExif=",
            "showExif=yes",
            "ShowExif=true",
            "showexif=true",
            "showExif =true",
            "showExif=true ",
            "xshowExif=true",
            "showExif=%FF",
        ] {
            assert!(!show_exif(query), "{query:?}");
        }
    }
}
