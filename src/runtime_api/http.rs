//! The client side of the HTTP/1.1 the Runtime API speaks: one request written at once, one
//! response read with `httparse`, its body framed by `Content-Length`, by chunks, or (neither
//! given) by the end of the connection.

use std::io::{self, Read, Write};
use std::net::TcpStream;

/// The largest response head read (status line and headers).
const MAX_HEAD: usize = 64 * 1024;
/// The largest body read. Lambda's events are at most 6 MB (synchronous invocation).
pub(super) const MAX_BODY: usize = 16 * 1024 * 1024;
/// Headers per response; the Runtime API sends about ten.
const MAX_HEADERS: usize = 64;
/// Bytes asked of the socket per read, at least: a response head and a typical event (a CloudFront
/// event is 1–3 KB) fit; a larger body announced by `Content-Length` is asked for whole. Every
/// buffer byte is zeroed before the read, so a larger default would touch pages for nothing.
const READ_SIZE: usize = 4 * 1024;

/// Why an exchange failed.
pub(super) enum Failure {
    Io(io::Error),
    Protocol(String),
}

impl From<io::Error> for Failure {
    fn from(e: io::Error) -> Self {
        Failure::Io(e)
    }
}

fn protocol<T>(what: impl Into<String>) -> Result<T, Failure> {
    Err(Failure::Protocol(what.into()))
}

/// A response, with the headers the client reads.
#[derive(Debug, Default)]
pub(super) struct Response {
    pub status: u16,
    pub request_id: Option<String>,
    pub deadline_ms: Option<u64>,
    pub invoked_function_arn: Option<String>,
    pub trace_id: Option<String>,
    /// The server closes the connection after this response.
    pub close: bool,
    pub body: Vec<u8>,
}

/// How the body of a response ends.
enum Framing {
    Length(usize),
    Chunked,
    UntilClose,
}

/// A connection and the bytes read from it but not yet consumed (`buffer[start..]`).
pub(super) struct Connection {
    stream: TcpStream,
    buffer: Vec<u8>,
    start: usize,
}

impl Connection {
    /// Connects to `api` (`host:port`), with Nagle's algorithm off (each request is one write).
    pub(super) fn open(api: &str) -> io::Result<Self> {
        let stream = TcpStream::connect(api)?;
        stream.set_nodelay(true)?;
        Ok(Self {
            stream,
            buffer: Vec::with_capacity(READ_SIZE),
            start: 0,
        })
    }

    /// Writes `request` (head and body) and reads the response to it.
    pub(super) fn exchange(&mut self, request: &[u8]) -> Result<Response, Failure> {
        self.stream.write_all(request)?;
        let (mut response, framing) = self.read_head()?;
        response.body = match framing {
            Framing::Length(length) => {
                while self.pending().len() < length {
                    self.fill_more(length - self.pending().len())?;
                }
                self.take(length)
            }
            Framing::Chunked => self.read_chunked()?,
            Framing::UntilClose => {
                response.close = true;
                while self.fill(READ_SIZE)? > 0 {
                    if self.pending().len() > MAX_BODY {
                        return protocol("a body over 16 MiB");
                    }
                }
                self.take(self.pending().len())
            }
        };
        Ok(response)
    }

    fn pending(&self) -> &[u8] {
        &self.buffer[self.start..]
    }

    /// Consumes and returns the next `n` pending bytes.
    fn take(&mut self, n: usize) -> Vec<u8> {
        let bytes = self.pending()[..n].to_vec();
        self.consume(n);
        bytes
    }

    fn consume(&mut self, n: usize) {
        self.start += n;
        if self.start == self.buffer.len() {
            self.buffer.clear();
            self.start = 0;
        }
    }

    /// Reads what the socket has, up to `wanted` bytes or [`READ_SIZE`] if more (at least one
    /// byte, unless the connection is closed: then 0).
    fn fill(&mut self, wanted: usize) -> io::Result<usize> {
        if self.start > 0 {
            self.buffer.drain(..self.start);
            self.start = 0;
        }
        let filled = self.buffer.len();
        self.buffer.resize(filled + wanted.max(READ_SIZE), 0);
        let read = loop {
            match self.stream.read(&mut self.buffer[filled..]) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                other => break other,
            }
        };
        self.buffer.truncate(filled + *read.as_ref().unwrap_or(&0));
        read
    }

    /// As [`Self::fill`], where the response is not complete yet: the end of the connection is
    /// an error.
    fn fill_more(&mut self, wanted: usize) -> Result<(), Failure> {
        match self.fill(wanted)? {
            0 => Err(Failure::Io(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the connection closed in the middle of a response",
            ))),
            _ => Ok(()),
        }
    }

    /// Reads the status line and headers (skipping any interim `1xx` response).
    fn read_head(&mut self) -> Result<(Response, Framing), Failure> {
        let mut interim = 0;
        loop {
            let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
            let mut parsed = httparse::Response::new(&mut headers);
            let length = match parsed.parse(self.pending()) {
                Ok(httparse::Status::Complete(length)) => length,
                Ok(httparse::Status::Partial) if self.pending().len() > MAX_HEAD => {
                    return protocol("a response head over 64 KiB");
                }
                Ok(httparse::Status::Partial) => {
                    self.fill_more(READ_SIZE)?;
                    continue;
                }
                Err(e) => return protocol(format!("response head: {e}")),
            };
            let status = parsed.code.unwrap_or_default();
            if (100..200).contains(&status) && status != 101 {
                interim += length;
                if interim > MAX_HEAD {
                    return protocol("interim (1xx) responses over 64 KiB");
                }
                self.consume(length);
                continue;
            }
            let head = read_headers(status, parsed.version == Some(0), parsed.headers)?;
            self.consume(length);
            return Ok(head);
        }
    }

    /// A chunked body, chunk by chunk, then its trailer section (ignored).
    fn read_chunked(&mut self) -> Result<Vec<u8>, Failure> {
        let mut body = Vec::new();
        loop {
            let (line, size) = match httparse::parse_chunk_size(self.pending()) {
                Ok(httparse::Status::Complete(found)) => found,
                Ok(httparse::Status::Partial) if self.pending().len() > 1024 => {
                    return protocol("a chunk-size line over 1 KiB");
                }
                Ok(httparse::Status::Partial) => {
                    self.fill_more(READ_SIZE)?;
                    continue;
                }
                Err(_) => return protocol("an invalid chunk size"),
            };
            let size = usize::try_from(size)
                .ok()
                .filter(|size| body.len().saturating_add(*size) <= MAX_BODY)
                .map_or_else(|| protocol("a body over 16 MiB"), Ok)?;
            if size == 0 {
                self.consume(line);
                self.skip_trailers()?;
                return Ok(body);
            }
            while self.pending().len() < line + size + 2 {
                self.fill_more(line + size + 2 - self.pending().len())?;
            }
            let chunk = &self.pending()[line..line + size + 2];
            if !chunk.ends_with(b"\r\n") {
                return protocol("a chunk not followed by CRLF");
            }
            body.extend_from_slice(&chunk[..size]);
            self.consume(line + size + 2);
        }
    }

    /// The trailer fields after the last chunk, up to and including the empty line.
    fn skip_trailers(&mut self) -> Result<(), Failure> {
        let mut skipped = 0;
        loop {
            if skipped + self.pending().len() > MAX_HEAD {
                return protocol("trailers over 64 KiB");
            }
            match self.pending().windows(2).position(|w| w == b"\r\n") {
                Some(0) => {
                    self.consume(2);
                    return Ok(());
                }
                Some(end) => {
                    skipped += end + 2;
                    self.consume(end + 2);
                }
                None => self.fill_more(READ_SIZE)?,
            }
        }
    }
}

/// The headers the client reads, and how the body is framed (RFC 9112, section 6.3).
fn read_headers(
    status: u16,
    http_1_0: bool,
    headers: &[httparse::Header<'_>],
) -> Result<(Response, Framing), Failure> {
    let mut response = Response {
        status,
        ..Response::default()
    };
    let mut length = None;
    let mut chunked = false;
    let (mut close, mut keep_alive) = (false, false);
    for header in headers {
        let name = header.name;
        let is = |expected: &str| name.eq_ignore_ascii_case(expected);
        let framing = is("content-length") || is("transfer-encoding") || is("connection");
        let value = match std::str::from_utf8(header.value) {
            Ok(value) => value.trim(),
            Err(_) if framing => return protocol(format!("a {name} header that is not text")),
            Err(_) => continue,
        };
        if is("content-length") {
            if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
                return protocol(format!("Content-Length {value:?}"));
            }
            let parsed: usize = value.parse().map_or_else(
                |_| protocol(format!("a body of {value} bytes (at most 16 MiB)")),
                Ok,
            )?;
            if length.is_some_and(|l| l != parsed) {
                return protocol("two different Content-Length headers");
            }
            if parsed > MAX_BODY {
                return protocol(format!("a body of {parsed} bytes (at most 16 MiB)"));
            }
            length = Some(parsed);
        } else if is("transfer-encoding") {
            let last = value.rsplit(',').next().unwrap_or_default().trim();
            if !last.eq_ignore_ascii_case("chunked") {
                return protocol(format!("Transfer-Encoding {value:?}"));
            }
            chunked = true;
        } else if is("connection") {
            let has = |token: &str| value.split(',').any(|t| t.trim().eq_ignore_ascii_case(token));
            close |= has("close");
            keep_alive |= has("keep-alive");
        } else if is("lambda-runtime-aws-request-id") {
            response.request_id = Some(value.to_owned());
        } else if is("lambda-runtime-deadline-ms") {
            response.deadline_ms = value.parse().ok();
        } else if is("lambda-runtime-invoked-function-arn") {
            response.invoked_function_arn = Some(value.to_owned());
        } else if is("lambda-runtime-trace-id") {
            response.trace_id = Some(value.to_owned());
        }
    }
    // Both framings at once: the chunks frame this body, and the connection is not reused.
    response.close = close || (http_1_0 && !keep_alive) || (chunked && length.is_some());
    let framing = if status == 204 || status == 304 {
        // Never a body, whatever the headers say (a 304 may give the resource's length).
        Framing::Length(0)
    } else if chunked {
        Framing::Chunked
    } else if let Some(length) = length {
        Framing::Length(length)
    } else {
        Framing::UntilClose
    };
    Ok((response, framing))
}
