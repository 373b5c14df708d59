//! The suite's `request.txt`: a raw HTTP/1.1 request, parsed the way the suite's README describes.
//!
//! ```text
//! METHOD target HTTP/1.1        the version is optional; the target may hold a raw space
//! Name:value                    the value is trimmed
//!   continued                   a line starting with space or tab continues the previous value
//!                               the first empty line ends the head
//! body…                         byte for byte
//! ```
//!
//! Lines end in `\n` or `\r\n`. The head must be UTF-8; the body may be any bytes.

use thiserror::Error;

/// A request read from `request.txt`.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct RawRequest {
    /// The method, such as `GET`.
    pub method: String,
    /// The target up to the first `?`, as written.
    pub path: String,
    /// The target after the first `?` (empty when there is none).
    pub query: String,
    /// The headers in file order, values trimmed and folded lines joined with one space.
    pub headers: Vec<(String, String)>,
    /// Everything after the first empty line.
    pub body: Vec<u8>,
}

/// Why a `request.txt` could not be read as a request.
#[derive(Clone, Debug, Eq, PartialEq, Error)]
pub enum RequestTxtError {
    /// The request line or a header holds bytes that are not UTF-8.
    #[error("the request line and headers are not valid UTF-8 (first bad byte at offset {0})")]
    NotUtf8(usize),
    /// The file is empty or starts with an empty line.
    #[error("the request line is missing")]
    NoRequestLine,
    /// The request line is not `METHOD target [HTTP/x]`.
    #[error("malformed request line {line:?}: {reason}")]
    BadRequestLine {
        /// The request line as written.
        line: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A header line has no `:`, or nothing before it.
    #[error("line {number}: malformed header {line:?}: expected Name:value")]
    BadHeader {
        /// 1-based line number in the file.
        number: usize,
        /// The line as written.
        line: String,
    },
    /// A continuation line (starting with space or tab) comes before any header.
    #[error("line {0}: a continuation line comes before any header")]
    OrphanContinuation(usize),
}

/// Parses the bytes of a `request.txt`.
pub fn parse(bytes: &[u8]) -> Result<RawRequest, RequestTxtError> {
    let (head, body) = split_head(bytes);
    let head = std::str::from_utf8(head).map_err(|e| RequestTxtError::NotUtf8(e.valid_up_to()))?;
    let mut lines = head.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l));

    let request_line = lines
        .next()
        .filter(|l| !l.is_empty())
        .ok_or(RequestTxtError::NoRequestLine)?;
    let (method, path, query) = parse_request_line(request_line)?;

    let mut headers: Vec<(String, String)> = Vec::new();
    for (index, line) in lines.enumerate() {
        let number = index + 2;
        if line.is_empty() {
            continue; // only the end of the last line: the head ends before the first empty line
        }
        if line.starts_with([' ', '\t']) {
            let (_, value) = headers
                .last_mut()
                .ok_or(RequestTxtError::OrphanContinuation(number))?;
            let more = trim(line);
            if !more.is_empty() {
                if !value.is_empty() {
                    value.push(' ');
                }
                value.push_str(more);
            }
            continue;
        }
        match line.split_once(':') {
            Some((name, value)) if !name.is_empty() => {
                headers.push((name.to_owned(), trim(value).to_owned()));
            }
            _ => {
                return Err(RequestTxtError::BadHeader {
                    number,
                    line: line.to_owned(),
                });
            }
        }
    }
    Ok(RawRequest {
        method: method.to_owned(),
        path: path.to_owned(),
        query: query.to_owned(),
        headers,
        body: body.to_vec(),
    })
}

/// Splits at the first empty line: the head (without the empty line) and the body after it.
fn split_head(bytes: &[u8]) -> (&[u8], &[u8]) {
    let mut start = 0;
    while start < bytes.len() {
        let end = bytes[start..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(bytes.len(), |i| start + i);
        let line = &bytes[start..end];
        if start > 0 && (line.is_empty() || line == b"\r") && end < bytes.len() {
            return (&bytes[..start], &bytes[end + 1..]);
        }
        start = end + 1;
    }
    (bytes, &[])
}

/// `METHOD target [HTTP/x]` → (method, path, query).
fn parse_request_line(line: &str) -> Result<(&str, &str, &str), RequestTxtError> {
    let bad = |reason| RequestTxtError::BadRequestLine {
        line: line.to_owned(),
        reason,
    };
    let (method, rest) = line
        .split_once(' ')
        .ok_or(bad("expected METHOD target HTTP/1.1"))?;
    if method.is_empty() {
        return Err(bad("the method is empty"));
    }
    let target = match rest.rsplit_once(' ') {
        Some((target, version)) if version.starts_with("HTTP/") => target,
        _ => rest,
    };
    if target.is_empty() {
        return Err(bad("the request target is empty"));
    }
    Ok(target
        .split_once('?')
        .map_or((method, target, ""), |(path, query)| (method, path, query)))
}

fn trim(value: &str) -> &str {
    value.trim_matches([' ', '\t'])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(request: &RawRequest) -> Vec<(&str, &str)> {
        request
            .headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect()
    }

    #[test]
    fn request_line_headers_and_no_body() {
        let r = parse(b"GET /a/b?x=1&y HTTP/1.1\nHost:example.com\nMy-Header: v \n").unwrap();
        assert_eq!((r.method.as_str(), r.path.as_str()), ("GET", "/a/b"));
        assert_eq!(r.query, "x=1&y");
        assert_eq!(headers(&r), [("Host", "example.com"), ("My-Header", "v")]);
        assert!(r.body.is_empty());
    }

    #[test]
    fn raw_space_in_target_and_missing_version() {
        let r = parse(b"GET /example space/ HTTP/1.1\nHost:h\n").unwrap();
        assert_eq!(r.path, "/example space/");
        let r = parse(b"POST /a%3Ab?q HTTP2\nHost:h\n").unwrap();
        assert_eq!((r.path.as_str(), r.query.as_str()), ("/a%3Ab", "q HTTP2"));
        let r = parse(b"POST /x\nHost:h").unwrap();
        assert_eq!((r.path.as_str(), r.headers.len()), ("/x", 1));
    }

    #[test]
    fn only_the_first_question_mark_splits() {
        let r = parse(b"GET /?a=b?c HTTP/1.1\nHost:h\n").unwrap();
        assert_eq!((r.path.as_str(), r.query.as_str()), ("/", "a=b?c"));
    }

    #[test]
    fn folded_lines_join_with_one_space() {
        let r = parse(b"GET / HTTP/1.1\nMy-Header1:value1\n  value2\n\t value3\nHost:h\n").unwrap();
        assert_eq!(
            headers(&r),
            [("My-Header1", "value1 value2 value3"), ("Host", "h")]
        );
    }

    #[test]
    fn value_keeps_inner_spaces_and_colons() {
        let r = parse(b"GET / HTTP/1.1\nX:  \"a   b\" :c  \n").unwrap();
        assert_eq!(headers(&r), [("X", "\"a   b\" :c")]);
    }

    #[test]
    fn body_is_byte_for_byte() {
        let r = parse(b"POST / HTTP/1.1\nHost:h\n\nline1\n\nline2\n\xff").unwrap();
        assert_eq!(r.body, b"line1\n\nline2\n\xff");
    }

    #[test]
    fn crlf_line_endings() {
        let r = parse(b"POST /p?q HTTP/1.1\r\nHost:h\r\nX:a\r\n  b\r\n\r\nbody\r\n").unwrap();
        assert_eq!((r.path.as_str(), r.query.as_str()), ("/p", "q"));
        assert_eq!(headers(&r), [("Host", "h"), ("X", "a b")]);
        assert_eq!(r.body, b"body\r\n");
    }

    #[test]
    fn empty_line_right_after_request_line_starts_the_body() {
        let r = parse(b"GET / HTTP/1.1\n\nHost:h").unwrap();
        assert!(r.headers.is_empty());
        assert_eq!(r.body, b"Host:h");
    }

    #[test]
    fn utf8_path_is_kept() {
        let r = parse("GET /ሴ HTTP/1.1\nHost:h\n".as_bytes()).unwrap();
        assert_eq!(r.path, "/ሴ");
    }

    #[test]
    fn malformed_input_is_an_error() {
        assert_eq!(parse(b""), Err(RequestTxtError::NoRequestLine));
        assert_eq!(parse(b"\nHost:h\n"), Err(RequestTxtError::NoRequestLine));
        assert!(matches!(
            parse(b"GET\nHost:h\n"),
            Err(RequestTxtError::BadRequestLine { .. })
        ));
        assert!(matches!(
            parse(b" / HTTP/1.1\n"),
            Err(RequestTxtError::BadRequestLine { .. })
        ));
        assert!(matches!(
            parse(b"GET  HTTP/1.1\n"),
            Err(RequestTxtError::BadRequestLine { .. })
        ));
        assert_eq!(
            parse(b"GET / HTTP/1.1\nHost h\n"),
            Err(RequestTxtError::BadHeader {
                number: 2,
                line: "Host h".into()
            })
        );
        assert!(matches!(
            parse(b"GET / HTTP/1.1\n:v\n"),
            Err(RequestTxtError::BadHeader { number: 2, .. })
        ));
        assert_eq!(
            parse(b"GET / HTTP/1.1\n  folded\n"),
            Err(RequestTxtError::OrphanContinuation(2))
        );
        assert_eq!(parse(b"GET /\xff HTTP/1.1\n"), Err(RequestTxtError::NotUtf8(5)));
    }
}
