//! Step 1 of SigV4: the canonical request.
//!
//! ```text
//! METHOD \n CANONICAL-URI \n CANONICAL-QUERY \n CANONICAL-HEADERS \n SIGNED-HEADERS \n PAYLOAD-HASH
//! ```
//!
//! Every rule here is the specification's, checked against the AWS test suite and, differentially,
//! against aws-sigv4: header names lower-cased and sorted, values trimmed with runs of spaces
//! collapsed, repeated headers joined with `,` in order; query parameters decoded, encoded with
//! only RFC 3986 unreserved characters kept, sorted by encoded name then value, `name=` when empty.

use super::{
    ALGORITHM, PercentEncodingMode, SessionTokenMode, SignableRequest, SignatureLocation, SigningError,
    SigningParams, UriPathNormalizationMode,
};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode, percent_decode_str, percent_encode};
use smallvec::SmallVec;
use std::borrow::Cow;

/// Everything except RFC 3986 unreserved characters (`A-Za-z0-9-_.~`) is percent-encoded.
pub const URI_ENCODE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');
/// As [`URI_ENCODE`], but `/` is kept: the set for paths.
pub const PATH_ENCODE: &AsciiSet = &URI_ENCODE.remove(b'/');

/// Where canonical text goes: a `String` (to keep it, as [`sign`](super::sign()) does) or a
/// hashing sink (to hash it without keeping it, as [`sign_headers`](super::sign_headers) does).
/// One writer serves both, so the text hashed is always the text shown.
pub(crate) trait Sink {
    /// Appends `text`.
    fn put(&mut self, text: &str);

    /// Appends 64 hex digits (a hash or a signature).
    fn put_hex(&mut self, hex: &[u8; 64]) {
        self.put(std::str::from_utf8(hex).unwrap_or_default());
    }
}

impl Sink for String {
    fn put(&mut self, text: &str) {
        self.push_str(text);
    }
}

/// The parts of a signature that the signer adds to the canonical request.
pub(crate) struct Added<'a> {
    pub date_time: &'a str,
    pub payload_hash: &'a str,
    /// The session token, when it is signed.
    pub signed_token: Option<&'a str>,
}

/// The access key id and the parts of the credential scope (`DATE/REGION/SERVICE/aws4_request`).
#[derive(Clone, Copy)]
pub(crate) struct Credential<'a> {
    pub access_key: &'a str,
    pub day: &'a str,
    pub region: &'a str,
    pub service: &'a str,
}

impl Credential<'_> {
    /// Writes the credential scope, `DATE/REGION/SERVICE/aws4_request`.
    pub fn write_scope(&self, out: &mut impl Sink) {
        for part in [self.day, "/", self.region, "/", self.service, "/aws4_request"] {
            out.put(part);
        }
    }

    /// The length of the credential scope.
    pub fn scope_len(&self) -> usize {
        self.day.len() + self.region.len() + self.service.len() + 15
    }
}

/// Most requests sign a handful of headers (the handler: two, and the three signing adds) and
/// query parameters: these many are kept inline, without allocating; more spill to the heap.
/// Small, because the inline arrays are moved with the value.
const INLINE_HEADERS: usize = 6;
/// See [`INLINE_HEADERS`]; presigning adds six parameters, and spills.
const INLINE_QUERY: usize = 4;

type Headers<'a> = SmallVec<[Header<'a>; INLINE_HEADERS]>;
type Query<'a> = SmallVec<[Pair<'a>; INLINE_QUERY]>;

/// A request checked and put in canonical form, ready to be written (step 1 of SigV4).
pub(crate) struct Canonical<'a> {
    method: &'a str,
    path: Cow<'a, str>,
    /// Encoded `(name, value)` pairs, sorted.
    query: Query<'a>,
    /// Lower-cased names and normalised values, sorted by name (repeated names in order).
    headers: Headers<'a>,
    payload_hash: &'a str,
}

impl<'a> Canonical<'a> {
    /// Checks and canonicalises `request` under `params`, with the values signing adds.
    pub fn new(
        request: &SignableRequest<'a>,
        params: &SigningParams<'a>,
        added: &Added<'a>,
        credential: &Credential<'_>,
    ) -> Result<Self, SigningError> {
        let mut canonical = Self::empty();
        canonical.fill(request, params, added, credential)?;
        Ok(canonical)
    }

    /// A canonical request with nothing in it yet, for [`Canonical::fill`].
    pub fn empty() -> Self {
        Self {
            method: "",
            path: Cow::Borrowed(""),
            query: Query::new(),
            headers: Headers::new(),
            payload_hash: "",
        }
    }

    /// [`Canonical::new`] on a value already in place: the canonical request is several hundred
    /// bytes (its inline arrays), and returning it in a `Result` copied it once more.
    pub fn fill(
        &mut self,
        request: &SignableRequest<'a>,
        params: &SigningParams<'a>,
        added: &Added<'a>,
        credential: &Credential<'_>,
    ) -> Result<(), SigningError> {
        let settings = params.settings;
        check_token("method", request.method)
            .map_err(|_| SigningError::InvalidMethod(request.method.to_owned()))?;
        self.method = request.method;
        self.payload_hash = added.payload_hash;
        self.path = canonical_path(
            request.path,
            settings.percent_encoding_mode,
            settings.uri_path_normalization_mode,
        )?;
        let canonical = self;
        let (headers, query) = (&mut canonical.headers, &mut canonical.query);
        canonical_headers(request, params, added, headers)?;
        query_pairs(request.query, query)?;
        if let SignatureLocation::QueryParams { expires_in } = settings.signature_location {
            add_presigned_params(expires_in, headers, query, added, credential)?;
        }
        if !query.is_sorted() {
            query.sort_unstable();
        }
        Ok(())
    }

    /// The length of the canonical request, to allocate it once.
    pub fn len(&self) -> usize {
        self.method.len()
            + self.path.len()
            + self
                .query
                .iter()
                .map(|(k, v)| k.len() + v.len() + 2)
                .sum::<usize>()
            + self
                .headers
                .iter()
                .map(|h| 2 * h.name.len() + h.value.len() + 3)
                .sum::<usize>()
            + self.payload_hash.len()
            + 8
    }

    /// At least the length of the signed-headers list.
    pub fn signed_headers_len(&self) -> usize {
        self.headers.iter().map(|h| h.name.len() + 1).sum()
    }

    /// Writes the canonical request:
    /// `METHOD\nURI\nQUERY\nHEADERS\n\nSIGNED-HEADERS\nPAYLOAD-HASH`.
    pub fn write(&self, out: &mut impl Sink) {
        out.put(self.method);
        out.put("\n");
        out.put(&self.path);
        out.put("\n");
        for (i, (name, value)) in self.query.iter().enumerate() {
            if i > 0 {
                out.put("&");
            }
            out.put(name);
            out.put("=");
            out.put(value);
        }
        out.put("\n");
        let mut previous: Option<&str> = None;
        for header in &self.headers {
            if previous == Some(&*header.name) {
                out.put(","); // a repeated header continues the line
            } else {
                if previous.is_some() {
                    out.put("\n");
                }
                out.put(&header.name);
                out.put(":");
            }
            out.put(&header.value);
            previous = Some(&header.name);
        }
        // `host` is always signed, so there is a line to end.
        out.put("\n\n");
        self.write_signed_headers(out);
        out.put("\n");
        out.put(self.payload_hash);
    }

    /// Writes the sorted, de-duplicated header names joined with `;`.
    pub fn write_signed_headers(&self, out: &mut impl Sink) {
        write_signed_headers(&self.headers, out);
    }
}

/// Appends the sorted, de-duplicated header names joined with `;`.
fn write_signed_headers(headers: &[Header<'_>], out: &mut impl Sink) {
    for (i, header) in headers.iter().enumerate() {
        if i > 0 && headers[i - 1].name == header.name {
            continue;
        }
        if i > 0 {
            out.put(";");
        }
        out.put(&header.name);
    }
}

struct Header<'a> {
    name: Cow<'a, str>,
    value: Cow<'a, str>,
}

/// Fills `headers` with the headers to sign, sorted by lower-cased name; repeated names stay in
/// their original order.
fn canonical_headers<'a>(
    request: &SignableRequest<'a>,
    params: &SigningParams<'a>,
    added: &Added<'a>,
    headers: &mut Headers<'a>,
) -> Result<(), SigningError> {
    let settings = params.settings;
    let header_mode = settings.signature_location == SignatureLocation::Headers;
    let token = params.credentials.session_token();
    let adds_token = header_mode && token.is_some() && settings.session_token_mode != SessionTokenMode::Omit;
    let adds_checksum =
        header_mode && settings.payload_checksum_kind == super::PayloadChecksumKind::XAmzSha256;

    headers.reserve(request.headers.len() + 3);
    let mut has_host = false;
    for &(name, value) in request.headers {
        let Some(lower) = header_name(name) else {
            return Err(SigningError::InvalidHeaderName(name.to_owned()));
        };
        let Some(value) = header_value(value) else {
            return Err(SigningError::InvalidHeaderValue(name.to_owned()));
        };
        let name = lower;
        // Signing writes these itself; a stale copy in the input is replaced, never signed twice.
        let replaced = match &*name {
            "authorization" => true,
            "x-amz-date" => header_mode,
            "x-amz-security-token" => adds_token,
            "x-amz-content-sha256" => adds_checksum,
            _ => false,
        };
        if replaced {
            continue;
        }
        has_host |= name == "host";
        headers.push(Header { name, value });
    }
    if !has_host {
        return Err(SigningError::MissingHost);
    }
    // Added in sorted order, so that a request whose own headers sort before them (as `host`
    // and `x-amz-cf-id` do) needs no sort at all.
    if adds_checksum {
        headers.push(Header {
            name: "x-amz-content-sha256".into(),
            value: added.payload_hash.into(),
        });
    }
    if header_mode {
        headers.push(Header {
            name: "x-amz-date".into(),
            value: added.date_time.into(),
        });
    }
    if let Some(token) = added.signed_token.filter(|_| header_mode) {
        headers.push(Header {
            name: "x-amz-security-token".into(),
            value: token.into(),
        });
    }
    // Stable: repeated names keep their order. Already sorted is the common case.
    if !headers.is_sorted_by(|a: &Header<'_>, b| name_le(&a.name, &b.name)) {
        headers.sort_by(|a, b| a.name.cmp(&b.name));
    }
    Ok(())
}

/// `a <= b`, compared here: header names are short and share prefixes (`x-amz-`), and a call
/// to `memcmp` per pair cost more than the comparison.
fn name_le(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    match a.iter().zip(b).find(|(x, y)| x != y) {
        Some((x, y)) => x < y,
        None => a.len() <= b.len(),
    }
}

/// A 256-entry membership table: one load per byte on the hot path instead of a search.
pub(crate) const fn byte_table(extra: &[u8], alphanumeric: bool) -> [bool; 256] {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 128 {
        table[b] = alphanumeric && (b as u8).is_ascii_alphanumeric();
        b += 1;
    }
    let mut i = 0;
    while i < extra.len() {
        table[extra[i] as usize] = true;
        i += 1;
    }
    table
}

/// HTTP token characters (RFC 9110 `tchar`), for methods and header names.
pub(crate) static TCHAR: [bool; 256] = byte_table(b"!#$%&'*+-.^_`|~", true);
/// RFC 3986 unreserved characters: the bytes no SigV4 encoding touches.
static UNRESERVED: [bool; 256] = byte_table(b"-_.~", true);
/// What a percent-encoded path may hold besides `%XX`: pchar and `/`.
static PATH_CHAR: [bool; 256] = byte_table(b"-._~!$&'()*+,;=:@/", true);

fn check_token(_what: &str, token: &str) -> Result<(), ()> {
    if !token.is_empty() && token.bytes().all(|b| TCHAR[usize::from(b)]) {
        Ok(())
    } else {
        Err(())
    }
}

/// A header name as signed: lower-cased (borrowed when it already is); `None` if it is not an
/// HTTP token. One pass checks and looks for upper case.
fn header_name(name: &str) -> Option<Cow<'_, str>> {
    let (token, upper) = name.bytes().fold((!name.is_empty(), false), |(token, upper), b| {
        (token & TCHAR[usize::from(b)], upper | b.is_ascii_uppercase())
    });
    token.then(|| match upper {
        true => Cow::Owned(name.to_ascii_lowercase()),
        false => Cow::Borrowed(name),
    })
}

/// A header value as signed (see [`normalize_value`]); `None` if it holds a control character.
fn header_value(value: &str) -> Option<Cow<'_, str>> {
    // One screening pass, in vector blocks: `(b + 1) as i8 < 0x22` holds for controls, tab, space,
    // DEL and every non-ASCII byte. Most values (hosts, ids, dates) have none of them: nothing to
    // check further, nothing to trim or collapse.
    let plain = !crate::scan::any_byte(value.as_bytes(), |b| (b.wrapping_add(1) as i8) < 0x22);
    if plain {
        Some(Cow::Borrowed(value))
    } else if super::sign::has_control(value.as_bytes()) {
        None
    } else {
        Some(normalize_value(value))
    }
}

/// Trims spaces and tabs at both ends (an HTTP parser drops them before the server sees the value)
/// and collapses each inner run of spaces to one, as the specification's `Trimall`.
fn normalize_value(value: &str) -> Cow<'_, str> {
    let value = value.trim_matches([' ', '\t']);
    // Most values (hosts, ids, dates) hold no space at all: one fast scan says so.
    if crate::scan::find(b' ', value.as_bytes()).is_none() || !value.contains("  ") {
        return Cow::Borrowed(value);
    }
    let mut out = String::with_capacity(value.len());
    let mut previous_space = false;
    for c in value.chars() {
        if c == ' ' && previous_space {
            continue;
        }
        previous_space = c == ' ';
        out.push(c);
    }
    Cow::Owned(out)
}

/// The canonical URI of `path` under the given encoding and normalisation.
pub fn canonical_path(
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
    if encoding == PercentEncodingMode::Single
        && !crate::scan::any_byte(path.as_bytes(), |b| !is_path_byte(b))
    {
        // The common case, checked a block of bytes at a time: only the escapes are left to check.
        check_escapes(path).map_err(invalid)?;
    } else {
        if path.bytes().any(|b| b < 0x20 || b == 0x7f) {
            return Err(invalid("it holds a control character"));
        }
        if encoding == PercentEncodingMode::Single {
            check_encoded_path(path).map_err(invalid)?;
        }
    }
    let path = match normalization {
        UriPathNormalizationMode::Enabled => normalize_path(path),
        UriPathNormalizationMode::Disabled => Cow::Borrowed(path),
    };
    Ok(match encoding {
        PercentEncodingMode::Single => path,
        PercentEncodingMode::Double if path.bytes().all(|b| is_unreserved(b) || b == b'/') => path,
        PercentEncodingMode::Double => Cow::Owned(percent_encode(path.as_bytes(), PATH_ENCODE).to_string()),
    })
}

/// Whether `b` is in [`PATH_CHAR`] or is `%`, as comparisons that vectorise (a table lookup does
/// not): `!`, `$`..`;` (which holds `%`, the digits, `&'()*+,-./` and `:;`), `=`, `@`..`Z`, `_`,
/// `a`..`z`, `~`.
fn is_path_byte(b: u8) -> bool {
    (b == b'!')
        | (b.wrapping_sub(b'$') <= b';' - b'$')
        | (b == b'=')
        | (b.wrapping_sub(b'@') <= b'Z' - b'@')
        | (b == b'_')
        | (b.wrapping_sub(b'a') <= b'z' - b'a')
        | (b == b'~')
}

/// Every `%` is followed by two hex digits.
fn check_escapes(path: &str) -> Result<(), &'static str> {
    let mut rest = path.as_bytes();
    while let Some(at) = crate::scan::find(b'%', rest) {
        match rest.get(at + 1..at + 3) {
            Some(hex) if hex.iter().all(u8::is_ascii_hexdigit) => rest = &rest[at + 3..],
            _ => return Err("a '%' is not followed by two hex digits"),
        }
    }
    Ok(())
}

/// A path sent verbatim must be a valid RFC 3986 path: pchars, `/` and well-formed `%XX`.
fn check_encoded_path(path: &str) -> Result<(), &'static str> {
    let bytes = path.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = bytes
                    .get(i + 1..i + 3)
                    .ok_or("a '%' is not followed by two hex digits")?;
                if !hex.iter().all(u8::is_ascii_hexdigit) {
                    return Err("a '%' is not followed by two hex digits");
                }
                i += 3;
                continue;
            }
            b if PATH_CHAR[usize::from(b)] => {}
            _ => return Err("with single encoding the path must already be percent-encoded"),
        }
        i += 1;
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

type Pair<'a> = (Cow<'a, str>, Cow<'a, str>);

/// Splits a raw query into encoded `(name, value)` pairs, appended to `pairs`: on `&`, then on the
/// first `=`; empty parts are skipped; each side is form-decoded (`+` is a space) and URI-encoded
/// again.
fn query_pairs<'q>(query: &'q str, pairs: &mut Query<'q>) -> Result<(), SigningError> {
    if crate::scan::any_byte(query.as_bytes(), |b| (b < 0x20) | (b == 0x7f)) {
        return Err(SigningError::InvalidQuery("it holds a control character"));
    }
    // Split by hand: `str::split` and `split_once` with a `char` pattern cost more than the
    // search itself on strings this short.
    let mut rest = Some(query);
    while let Some(text) = rest {
        let (part, next) = match text.bytes().position(|b| b == b'&') {
            Some(at) => (text.get(..at).unwrap_or_default(), text.get(at + 1..)),
            None => (text, None),
        };
        rest = next;
        if part.is_empty() {
            continue;
        }
        let (name, value) = match part.bytes().position(|b| b == b'=') {
            Some(at) => (
                part.get(..at).unwrap_or_default(),
                part.get(at + 1..).unwrap_or_default(),
            ),
            None => (part, ""),
        };
        pairs.push((encode_query_component(name), encode_query_component(value)));
    }
    Ok(())
}

/// One side of a query parameter in canonical form: form-decoded, then URI-encoded (borrowed when
/// that changes nothing).
pub(crate) fn encode_query_component(raw: &str) -> Cow<'_, str> {
    if is_canonical_component(raw.as_bytes()) {
        return Cow::Borrowed(raw); // nothing to decode or encode
    }
    Cow::Owned(encode_component(&form_decode(raw)).into_owned())
}

/// Whether `bytes` are a query component in canonical form: unreserved characters only, so
/// [`encode_query_component`] leaves them as they are (and form decoding too).
pub(crate) fn is_canonical_component(bytes: &[u8]) -> bool {
    // Short components (most names and values) by table: the vector test's scalar rest costs
    // about ten instructions a byte.
    if bytes.len() < 16 {
        bytes.iter().all(|&b| is_unreserved(b))
    } else {
        !crate::scan::any_byte(bytes, |b| !unreserved_by_comparison(b))
    }
}

/// Query decoding as servers do it: `+` is a space, `%XX` a byte, a stray `%` itself.
pub(crate) fn form_decode(raw: &str) -> Cow<'_, [u8]> {
    if raw.contains('+') {
        Cow::Owned(percent_decode(raw.replace('+', " ").as_bytes()).collect())
    } else {
        percent_decode_str(raw).into()
    }
}

fn is_unreserved(b: u8) -> bool {
    UNRESERVED[usize::from(b)]
}

/// [`is_unreserved`] as comparisons, which vectorise (see [`crate::scan::any_byte`]).
fn unreserved_by_comparison(b: u8) -> bool {
    let letter = (b | 0x20).wrapping_sub(b'a') < 26;
    letter | (b.wrapping_sub(b'0') < 10) | (b == b'-') | (b == b'.') | (b == b'_') | (b == b'~')
}

/// URI-encodes bytes, keeping only RFC 3986 unreserved characters.
pub fn encode_component(bytes: &[u8]) -> Cow<'_, str> {
    percent_encode(bytes, URI_ENCODE).into()
}

/// The S3 canonical form of a request path: decode every `%XX`, then encode every byte outside
/// `A-Za-z0-9-_.~` once, keeping `/`. No normalisation: `.`, `..` and `//` are part of the key. A
/// literal `+` is a plus (paths are not form-encoded).
///
/// ```
/// use edge_signer::sigv4::s3_canonical_path;
/// assert_eq!(s3_canonical_path("/test$file.text").unwrap(), "/test%24file.text");
/// assert_eq!(s3_canonical_path("/a%2bb/c d/../ሴ").unwrap(), "/a%2Bb/c%20d/../%E1%88%B4");
/// assert!(s3_canonical_path("/bad%zz").is_err());
/// ```
pub fn s3_canonical_path(path: &str) -> Result<String, SigningError> {
    let invalid = |reason| SigningError::InvalidPath {
        path: path.to_owned(),
        reason,
    };
    if !path.starts_with('/') {
        return Err(invalid("it must start with '/'"));
    }
    let decoded: Cow<'_, [u8]> = if crate::scan::find(b'%', path.as_bytes()).is_some() {
        check_escapes(path).map_err(invalid)?;
        let decoded: Vec<u8> = percent_decode_str(path).collect();
        if std::str::from_utf8(&decoded).is_err() {
            return Err(invalid("its percent-decoded bytes are not UTF-8"));
        }
        Cow::Owned(decoded)
    } else {
        Cow::Borrowed(path.as_bytes())
    };
    // One pass: runs of kept bytes are copied, the others encoded, and a control character (which
    // would be encoded too) refused. Room for every byte encoded, so the buffer never grows.
    let keep = |b: u8| is_unreserved(b) || b == b'/';
    let mut out = Vec::with_capacity(3 * decoded.len());
    let mut run = 0;
    for (at, &b) in decoded.iter().enumerate() {
        if !keep(b) {
            if b < 0x20 || b == 0x7f {
                return Err(invalid("it holds a control character"));
            }
            let [high, low] = HEX_UPPER[usize::from(b)];
            out.extend_from_slice(&decoded[run..at]);
            out.extend_from_slice(&[b'%', high, low]);
            run = at + 1;
        }
    }
    out.extend_from_slice(&decoded[run..]);
    // Unreserved bytes, `/`, `%` and hex digits: ASCII.
    Ok(String::from_utf8(out).unwrap_or_else(|_| unreachable!("an encoded path is ASCII")))
}

/// The presigning parameters of a query-signed request, added to `query`; out of line, so that
/// header signing (the hot path) does not carry this code.
#[cold]
#[inline(never)]
fn add_presigned_params<'a>(
    expires_in: std::time::Duration,
    headers: &Headers<'a>,
    query: &mut Query<'a>,
    added: &Added<'a>,
    credential: &Credential<'_>,
) -> Result<(), SigningError> {
    let seconds = expires_in.as_secs();
    if !(1..=604_800).contains(&seconds) {
        return Err(SigningError::InvalidExpiry(seconds));
    }
    let mut signed_headers = String::new();
    write_signed_headers(headers, &mut signed_headers);
    let mut scope = String::with_capacity(credential.scope_len());
    credential.write_scope(&mut scope);
    let mut add = |name: &'static str, value: String| query.push((Cow::Borrowed(name), Cow::Owned(value)));
    add("X-Amz-Algorithm", ALGORITHM.to_owned());
    add(
        "X-Amz-Credential",
        format!(
            "{}%2F{}",
            encode_component(credential.access_key.as_bytes()),
            encode_component(scope.as_bytes())
        ),
    );
    add("X-Amz-Date", added.date_time.to_owned());
    add("X-Amz-Expires", seconds.to_string());
    add(
        "X-Amz-SignedHeaders",
        encode_component(signed_headers.as_bytes()).into_owned(),
    );
    if let Some(token) = added.signed_token {
        add(
            "X-Amz-Security-Token",
            encode_component(token.as_bytes()).into_owned(),
        );
    }
    Ok(())
}

/// Each byte's two upper-case hex digits, as percent-encoding writes them: one table load per byte.
static HEX_UPPER: [[u8; 2]; 256] = {
    let digits = b"0123456789ABCDEF";
    let mut table = [[0u8; 2]; 256];
    let mut b = 0;
    while b < 256 {
        table[b] = [digits[b >> 4], digits[b & 0xf]];
        b += 1;
    }
    table
};

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
    }

    #[test]
    fn the_fast_path_byte_class_is_the_path_table_plus_percent() {
        for b in 0..=255u8 {
            assert_eq!(
                is_path_byte(b),
                PATH_CHAR[usize::from(b)] || b == b'%',
                "{b:#04x}"
            );
        }
    }

    #[test]
    fn single_encoding_rejects_unencoded_paths() {
        for bad in [
            "/a b", "/ሴ", "/a%2", "/a%zz", "/a#b", "/a?b", "/a%", "/%4", "/%%41", "/a\x7f", "/a\nb",
        ] {
            let r = canonical_path(
                bad,
                PercentEncodingMode::Single,
                UriPathNormalizationMode::Disabled,
            );
            assert!(matches!(r, Err(SigningError::InvalidPath { .. })), "{bad}");
        }
    }

    #[test]
    fn query_plus_is_a_space_and_encoded_plus_is_a_plus() {
        let mut pairs = Query::new();
        query_pairs("a=b+c&d=%2B&e", &mut pairs).unwrap();
        let flat: Vec<_> = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect();
        assert_eq!(flat, ["a=b%20c", "d=%2B", "e="]);
    }

    #[test]
    fn query_keeps_invalid_utf8_bytes_instead_of_replacing_them() {
        // aws-sigv4 decodes lossily (U+FFFD); a server re-encoding the bytes gets %FF.
        let mut pairs = Query::new();
        query_pairs("k=%FF", &mut pairs).unwrap();
        assert_eq!(pairs[0].1, "%FF");
    }

    #[test]
    fn the_screened_header_checks_agree_with_the_plain_ones() {
        // header_value: None exactly when has_control, else normalize_value; header_name: the
        // token check and the lower-casing it stands for. Every byte, at each end and inside.
        for b in 0..=255u8 {
            for at in [0, 3, 6] {
                let mut bytes = b"abcdefg".to_vec();
                bytes[at] = b;
                let Ok(text) = std::str::from_utf8(&bytes) else {
                    continue;
                };
                let plain =
                    (!crate::sigv4::sign::has_control(text.as_bytes())).then(|| normalize_value(text));
                assert_eq!(header_value(text), plain, "{b:#04x} at {at}");
                let name = (text.bytes().all(|b| TCHAR[usize::from(b)])).then(|| text.to_ascii_lowercase());
                assert_eq!(header_name(text).map(Cow::into_owned), name, "{b:#04x} at {at}");
            }
        }
        assert_eq!(header_name(""), None);
        assert_eq!(header_value(" a  b "), Some(Cow::Borrowed("a b")));
    }

    #[test]
    fn unreserved_bytes_are_the_tables() {
        for b in 0..=255u8 {
            assert_eq!(unreserved_by_comparison(b), is_unreserved(b), "{b:#04x}");
        }
    }

    #[test]
    fn names_compare_as_strings_do() {
        let names = [
            "",
            "a",
            "ab",
            "b",
            "host",
            "x-amz-cf-id",
            "x-amz-content-sha256",
            "x-amz-date",
            "x-amz-date2",
            "é",
        ];
        for a in names {
            for b in names {
                assert_eq!(name_le(a, b), a <= b, "{a:?} <= {b:?}");
            }
        }
    }

    #[test]
    fn header_values_are_trimmed_and_space_runs_collapsed() {
        assert_eq!(normalize_value("\t a   b  c \t"), "a b c");
        assert_eq!(normalize_value("a\t\tb"), "a\t\tb");
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
        assert_eq!(s3_canonical_path("/a+b//./x").unwrap(), "/a%2Bb//./x");
    }
}
