//! Two local servers for the S3 Object Lambda function, on `127.0.0.1` (ephemeral ports):
//!
//! - [`Source`], the supporting access point behind `inputS3Url`: serves the objects it was given
//!   (any status, headers, body; optionally chunked, without `Content-Length`) and records each
//!   request.
//! - [`WriteEndpoint`], S3 Object Lambda's `WriteGetObjectResponse`: records each request and
//!   verifies its signature **independently of the crate's signer**, by signing the request as
//!   received with aws-sigv4 (S3 settings: single encoding, no normalisation,
//!   `x-amz-content-sha256`) and comparing; it also checks that the host and every `x-amz-*` header
//!   received are among the signed headers, and the credential scope. It answers 200, or the
//!   error it was told to.
//!
//! Dropping a server stops it.

#![allow(dead_code)] // each includer uses its own part

use aws_credential_types::Credentials;
use aws_sigv4::http_request as aws;
use aws_smithy_runtime_api::client::identity::Identity;
use std::borrow::Cow;
use std::collections::HashMap;
use std::io::Cursor;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, SystemTime};
use tiny_http::{Header, Response, Server, StatusCode};

/// One request a server received.
#[derive(Clone, Debug)]
pub struct Received {
    pub method: String,
    /// The request target (path and query).
    pub url: String,
    /// Lower-cased names, values as received, in order.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Received {
    /// What tiny_http received: method, target, headers and the whole body.
    pub fn read(request: &mut tiny_http::Request) -> Self {
        let mut body = Vec::new();
        let _ = request.as_reader().read_to_end(&mut body);
        Self {
            method: request.method().to_string(),
            url: request.url().to_owned(),
            headers: request
                .headers()
                .iter()
                .map(|h| {
                    (
                        h.field.as_str().as_str().to_ascii_lowercase(),
                        h.value.as_str().to_owned(),
                    )
                })
                .collect(),
            body,
        }
    }

    /// The single value of header `name` (any case); `None` if absent, panics if repeated.
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        let mut values = self.headers.iter().filter(|(n, _)| *n == name);
        let value = values.next().map(|(_, v)| v.as_str());
        assert!(values.next().is_none(), "header {name} repeated");
        value
    }

    /// Names of the headers received that start with `prefix`.
    pub fn names_with_prefix(&self, prefix: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n.starts_with(prefix))
            .map(|(n, _)| n.as_str())
            .collect()
    }
}

/// What the source answers for a path.
#[derive(Clone, Debug)]
pub struct Object {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
    /// Send without `Content-Length` (chunked).
    pub chunked: bool,
}

impl Object {
    pub fn ok(content_type: &str, body: impl Into<Vec<u8>>) -> Self {
        Self {
            status: 200,
            headers: vec![
                ("Content-Type", content_type.to_owned()),
                ("Cache-Control", "max-age=3600".to_owned()),
                ("Last-Modified", "Wed, 21 Oct 2026 07:28:00 GMT".to_owned()),
                ("ETag", "\"0123456789abcdef0123456789abcdef\"".to_owned()),
                ("Accept-Ranges", "bytes".to_owned()),
                ("x-amz-meta-owner", "Jane Example".to_owned()),
            ],
            body: body.into(),
            chunked: false,
        }
    }

    pub fn status(status: u16) -> Self {
        Self {
            status,
            headers: vec![("Content-Type", "application/xml".to_owned())],
            body: format!("<?xml version=\"1.0\"?><Error><Code>E{status}</Code></Error>").into_bytes(),
            chunked: false,
        }
    }

    pub fn chunked(mut self) -> Self {
        self.chunked = true;
        self
    }
}

struct Shared<T> {
    received: Mutex<Vec<Received>>,
    state: T,
}

fn serve<T: Send + Sync + 'static>(
    shared: Arc<Shared<T>>,
    answer: impl Fn(&Shared<T>, &Received) -> Response<Cursor<Vec<u8>>> + Send + 'static,
) -> (Arc<Server>, SocketAddr, JoinHandle<()>) {
    let server = Arc::new(Server::http("127.0.0.1:0").expect("a local server"));
    let address = server.server_addr().to_ip().expect("an IP address");
    let handle = {
        let server = Arc::clone(&server);
        thread::spawn(move || {
            for mut request in server.incoming_requests() {
                let received = Received::read(&mut request);
                let response = answer(&shared, &received);
                shared.received.lock().unwrap().push(received);
                let _ = request.respond(response);
            }
        })
    };
    (server, address, handle)
}

fn header(name: &str, value: &str) -> Header {
    Header::from_bytes(name.as_bytes(), value.as_bytes()).expect("a valid header")
}

/// The supporting access point.
pub struct Source {
    server: Arc<Server>,
    address: SocketAddr,
    shared: Arc<Shared<HashMap<String, Object>>>,
    thread: Option<JoinHandle<()>>,
}

impl Source {
    /// Serves `objects` by path (query ignored); any other path is 404.
    pub fn start(objects: HashMap<String, Object>) -> Self {
        let shared = Arc::new(Shared {
            received: Mutex::default(),
            state: objects,
        });
        let (server, address, thread) = serve(Arc::clone(&shared), |shared, request| {
            let path = request.url.split('?').next().unwrap_or_default();
            let object = shared
                .state
                .get(path)
                .cloned()
                .unwrap_or_else(|| Object::status(404));
            // tiny_http sends a HEAD answer's headers (Content-Length too) without the body.
            let length = (!object.chunked).then_some(object.body.len());
            let headers: Vec<Header> = object.headers.iter().map(|(n, v)| header(n, v)).collect();
            Response::new(
                StatusCode(object.status),
                headers,
                Cursor::new(object.body),
                length,
                None,
            )
        });
        Self {
            server,
            address,
            shared,
            thread: Some(thread),
        }
    }

    /// A presigned-looking URL for `path` (the query stands for the presigned signature).
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}?{PRESIGN_QUERY}", self.address)
    }

    pub fn received(&self) -> Vec<Received> {
        self.shared.received.lock().unwrap().clone()
    }
}

/// Stands for the query of a presigned URL; none of it may appear in logs or answers.
pub const PRESIGN_QUERY: &str = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=ASIAPRESIGNED%2F20261121%2Fus-west-2%2Fs3%2Faws4_request&X-Amz-Date=20261121T120000Z&X-Amz-Expires=61&X-Amz-Security-Token=PRESIGNEDTOKENvalue0123456789&X-Amz-SignedHeaders=host&X-Amz-Signature=5ec7e75ec7e75ec7e75ec7e75ec7e75ec7e75ec7e75ec7e75ec7e75ec7e75ec7";

impl Drop for Source {
    fn drop(&mut self) {
        self.server.unblock();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// How the `WriteGetObjectResponse` endpoint answers.
#[derive(Clone, Debug)]
pub enum Answer {
    Ok,
    /// An S3 error document with this status and code.
    Error(u16, &'static str),
}

struct Expected {
    credentials: Credentials,
    region: String,
    answer: Answer,
}

/// A `WriteGetObjectResponse` request as received, with the verdict on its signature.
#[derive(Clone, Debug)]
pub struct Write {
    pub request: Received,
    /// `Ok` when aws-sigv4 computes the same signature and every rule held; else why not.
    pub verified: Result<(), String>,
}

impl Write {
    pub fn status(&self) -> Option<u16> {
        self.request
            .header("x-amz-fwd-status")
            .map(|s| s.parse().expect("a numeric status"))
    }

    pub fn error_code(&self) -> Option<&str> {
        self.request.header("x-amz-fwd-error-code")
    }

    /// `x-amz-fwd-header-<name>`.
    pub fn forwarded(&self, name: &str) -> Option<&str> {
        self.request.header(&format!("x-amz-fwd-header-{name}"))
    }

    pub fn body(&self) -> &[u8] {
        &self.request.body
    }
}

/// The `WriteGetObjectResponse` endpoint.
pub struct WriteEndpoint {
    server: Arc<Server>,
    address: SocketAddr,
    shared: Arc<Shared<Expected>>,
    writes: Arc<Mutex<Vec<Write>>>,
    thread: Option<JoinHandle<()>>,
}

impl WriteEndpoint {
    /// Verifies signatures made with `credentials` for `region`, and answers with `answer`.
    pub fn start(credentials: &Credentials, region: &str, answer: Answer) -> Self {
        let shared = Arc::new(Shared {
            received: Mutex::default(),
            state: Expected {
                credentials: credentials.clone(),
                region: region.to_owned(),
                answer,
            },
        });
        let writes = Arc::new(Mutex::new(Vec::new()));
        let (server, address, thread) = {
            let writes = Arc::clone(&writes);
            serve(Arc::clone(&shared), move |shared, request| {
                let verified = verify(request, &shared.state.credentials, &shared.state.region);
                writes.lock().unwrap().push(Write {
                    request: request.clone(),
                    verified,
                });
                match shared.state.answer {
                    Answer::Ok => Response::from_data(Vec::new()),
                    Answer::Error(status, code) => Response::from_data(
                        format!(
                            "<?xml version=\"1.0\"?><Error><Code>{code}</Code><Message>refused by the test</Message><CanonicalRequest>x-amz-security-token:SECRET</CanonicalRequest></Error>"
                        )
                        .into_bytes(),
                    )
                    .with_status_code(status),
                }
            })
        };
        Self {
            server,
            address,
            shared,
            writes,
            thread: Some(thread),
        }
    }

    /// `http://127.0.0.1:PORT`, for the endpoint override.
    pub fn url(&self) -> String {
        format!("http://{}", self.address)
    }

    pub fn writes(&self) -> Vec<Write> {
        self.writes.lock().unwrap().clone()
    }

    /// The one write received; panics unless there was exactly one.
    pub fn only_write(&self) -> Write {
        let writes = self.writes();
        assert_eq!(
            writes.len(),
            1,
            "expected exactly one WriteGetObjectResponse: {writes:#?}"
        );
        writes.into_iter().next().unwrap()
    }

    /// Waits up to `timeout` for `count` writes.
    pub fn wait_writes(&self, count: usize, timeout: Duration) -> Vec<Write> {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            let writes = self.writes();
            if writes.len() >= count || std::time::Instant::now() >= deadline {
                return writes;
            }
            thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for WriteEndpoint {
    fn drop(&mut self) {
        self.server.unblock();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The independent check of one `WriteGetObjectResponse` request.
pub fn verify(request: &Received, credentials: &Credentials, region: &str) -> Result<(), String> {
    if request.method != "POST" || request.url != "/WriteGetObjectResponse" {
        return Err(format!(
            "{} {} is not POST /WriteGetObjectResponse",
            request.method, request.url
        ));
    }
    let authorization = request.header("authorization").ok_or("no authorization header")?;
    let fields = authorization
        .strip_prefix("AWS4-HMAC-SHA256 ")
        .ok_or("not AWS4-HMAC-SHA256")?;
    let field = |name: &str| {
        fields
            .split(", ")
            .find_map(|f| f.strip_prefix(name)?.strip_prefix('='))
            .ok_or(format!("no {name} in the authorization header"))
    };
    let (credential, signed, signature) =
        (field("Credential")?, field("SignedHeaders")?, field("Signature")?);
    let date = request.header("x-amz-date").ok_or("no x-amz-date")?;
    let expected_credential = format!(
        "{}/{}/{region}/s3-object-lambda/aws4_request",
        credentials.access_key_id(),
        &date[..8.min(date.len())]
    );
    if credential != expected_credential {
        return Err(format!("credential {credential}, expected {expected_credential}"));
    }
    let signed: Vec<&str> = signed.split(';').collect();
    for (name, _) in &request.headers {
        if (name == "host" || name.starts_with("x-amz-")) && !signed.contains(&name.as_str()) {
            return Err(format!("{name} was sent but not signed ({signed:?})"));
        }
    }
    if request.header("x-amz-security-token") != credentials.session_token() {
        return Err("x-amz-security-token is not the session token".into());
    }

    // Sign the request as received with aws-sigv4, signing exactly the headers that were signed.
    let managed = [
        "authorization",
        "x-amz-date",
        "x-amz-security-token",
        "x-amz-content-sha256",
    ];
    let pairs: Vec<(&str, &str)> = request
        .headers
        .iter()
        .filter(|(n, _)| !managed.contains(&n.as_str()))
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    let excluded: Vec<Cow<'static, str>> = request
        .headers
        .iter()
        .filter(|(n, _)| !signed.contains(&n.as_str()))
        .map(|(n, _)| Cow::Owned(n.clone()))
        .collect();
    let mut settings = aws::SigningSettings::default();
    settings.percent_encoding_mode = aws::PercentEncodingMode::Single;
    settings.uri_path_normalization_mode = aws::UriPathNormalizationMode::Disabled;
    settings.payload_checksum_kind = aws::PayloadChecksumKind::XAmzSha256;
    settings.session_token_mode = aws::SessionTokenMode::Include;
    settings.signature_location = aws::SignatureLocation::Headers;
    settings.excluded_headers = Some(excluded);
    let time = parse_amz_date(date)?;
    let identity: Identity = credentials.clone().into();
    let params: aws::SigningParams<'_> = aws_sigv4::sign::v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name("s3-object-lambda")
        .time(time)
        .settings(settings)
        .build()
        .map_err(|e| format!("params: {e}"))?
        .into();
    let payload = request
        .header("x-amz-content-sha256")
        .ok_or("no x-amz-content-sha256")?;
    let body = if payload == "UNSIGNED-PAYLOAD" {
        aws::SignableBody::UnsignedPayload
    } else {
        aws::SignableBody::Bytes(&request.body)
    };
    let host = request.header("host").ok_or("no host")?;
    let target = format!("http://{host}{}", request.url);
    let signable = aws::SignableRequest::new(&request.method, target, pairs.into_iter(), body)
        .map_err(|e| format!("aws-sigv4 request: {e}"))?;
    let (instructions, expected) = aws::sign(signable, &params)
        .map_err(|e| format!("aws-sigv4 sign: {e}"))?
        .into_parts();
    if signature != expected {
        return Err(format!("signature {signature}, aws-sigv4 computes {expected}"));
    }
    for (name, value) in instructions.headers() {
        let name = name.to_ascii_lowercase();
        if name != "authorization" && request.header(&name) != Some(value) {
            return Err(format!(
                "{name}: received {:?}, aws-sigv4 computes {value:?}",
                request.header(&name)
            ));
        }
    }
    Ok(())
}

/// `20150830T123600Z` as a time.
pub fn parse_amz_date(date: &str) -> Result<SystemTime, String> {
    let format = time::macros::format_description!("[year][month][day]T[hour][minute][second]Z");
    let parsed =
        time::PrimitiveDateTime::parse(date, format).map_err(|e| format!("x-amz-date {date:?}: {e}"))?;
    Ok(parsed.assume_utc().into())
}
