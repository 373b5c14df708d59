//! The S3 client against independent truth: s3s-fs (a real S3 server that verifies SigV4) for the
//! operations and hostile keys, aws-sigv4 for the signatures, and tiny loopback stubs for what a
//! real server will not do on demand (a 503, silence, showing the raw request).

#[path = "support/s3s.rs"]
mod s3s;

use aws_credential_types::Credentials;
use bytes::Bytes;
use edge_signer::s3::{
    ByteRange, CHECKSUM_CRC32_HEADER, Client, Config, ContentHeaders, Error, Metadata, ObjectRef, Operation,
    PutObject, RequestContext, ServiceError, Signer, Transport, WriteCondition, build_request,
};
use edge_signer::sigv4::SigningKeyCache;
use s3s::S3sFs;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, TcpListener};
use std::sync::mpsc;
use std::time::{Duration, Instant, UNIX_EPOCH};

const BUCKET: &str = "photos";
const REGION: &str = "us-east-1";
const TRACE_ID: &str =
    "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1;Lineage=a87bd80c:0";

/// The keys that break naive clients: spaces, `+`, `%`, reserved characters, non-ASCII, `//`
/// and dot segments, each of which must round-trip exactly. (A key that is `..` alone, or that
/// climbs above the bucket, is left out: s3s-fs maps keys to files and drops the connection; its
/// encoding is checked in the unit tests of `src/s3/endpoint.rs`.)
const HOSTILE_KEYS: [&str; 14] = [
    "plain.jpg",
    "red flower.jpg",
    "a+b.jpg",
    "c++/(1) copy.jpg",
    "ü/日本.jpg",
    "x:y;z=,@$&.jpg",
    "%41pct.jpg",
    "q?s#h.jpg",
    "~tilde*!'.jpg",
    "a//b.jpg",
    "dots/../up.jpg",
    "dots/./here..jpg",
    "a/../..b",
    "a/..b/c..",
];

fn credentials(secret: &str) -> Credentials {
    Credentials::new(s3s::ACCESS_KEY, secret, None, None, "test")
}

fn config(endpoint: &str) -> Config {
    let mut config = Config::new(REGION);
    config.endpoint = Some(endpoint.parse().unwrap());
    config
}

fn context(seconds: u64) -> RequestContext {
    RequestContext::new(Instant::now() + Duration::from_secs(seconds)).with_trace_id(Some(TRACE_ID))
}

fn client(endpoint: &str, secret: &str) -> Client {
    Client::new(Transport::new(), config(endpoint), credentials(secret))
}

fn content() -> ContentHeaders {
    ContentHeaders {
        content_type: Some("image/jpeg".into()),
        cache_control: Some("public, max-age=60".into()),
        content_disposition: Some("attachment; filename=\"a b.jpg\"".into()),
        content_encoding: Some("identity".into()),
        content_language: Some("de-CH".into()),
        expires: Some("Wed, 21 Oct 2026 07:28:00 GMT".into()),
    }
}

fn metadata(key: &str) -> Metadata {
    Metadata::from([
        ("edge-signer-source-etag".into(), "\"0123abc\"".into()),
        ("key-length".into(), key.len().to_string()),
    ])
}

#[tokio::test]
async fn hostile_keys_round_trip_with_their_headers_and_metadata() {
    let Some(server) = S3sFs::start(&[BUCKET]) else {
        return;
    };
    let client = client(&server.endpoint, s3s::SECRET_KEY);
    for (i, key) in HOSTILE_KEYS.iter().enumerate() {
        let body = Bytes::from(format!("body {i} of {key}"));
        let put = PutObject {
            bucket: BUCKET,
            key,
            body: body.clone(),
            content: content(),
            metadata: metadata(key),
            condition: None,
        };
        let written = client
            .put_object(&put, &context(10))
            .await
            .unwrap_or_else(|e| panic!("PUT {key:?}: {e}"));
        assert_eq!(written.status, 200);
        assert!(written.etag.is_some(), "{key:?}");

        let object = client
            .get_object(&ObjectRef::new(BUCKET, key), 1 << 20, &context(10))
            .await
            .unwrap_or_else(|e| panic!("GET {key:?}: {e}"));
        assert_eq!(object.body, body, "{key:?}");
        assert_eq!(object.head.etag, written.etag, "{key:?}");
        assert_eq!(object.head.content, content(), "{key:?}");
        assert_eq!(object.head.metadata, metadata(key), "{key:?}");

        let head = client
            .head_object(&ObjectRef::new(BUCKET, key), &context(10))
            .await
            .unwrap_or_else(|e| panic!("HEAD {key:?}: {e}"));
        assert_eq!(head.content_length, Some(body.len() as u64), "{key:?}");
        assert_eq!(head.etag, written.etag, "{key:?}");
        assert_eq!(head.metadata, metadata(key), "{key:?}");
        assert_eq!(head.content, content(), "{key:?}");

        // Stored under the exact key (s3s-fs keeps a key as a path under the bucket directory).
        if !key.split('/').any(|s| s.is_empty() || s == "." || s == "..") {
            let stored = std::fs::read(server.dir.path().join(BUCKET).join(key)).unwrap();
            assert_eq!(stored, body, "{key:?}");
        }
    }
    // Each key is its own object: no two keys were folded into one.
    for (i, key) in HOSTILE_KEYS.iter().enumerate() {
        let object = client
            .get_object(&ObjectRef::new(BUCKET, key), 1 << 20, &context(10))
            .await
            .unwrap();
        assert_eq!(object.body, format!("body {i} of {key}"), "{key:?}");
    }
}

#[tokio::test]
async fn conditional_writes_and_reads() {
    let Some(server) = S3sFs::start(&[BUCKET]) else {
        return;
    };
    let client = client(&server.endpoint, s3s::SECRET_KEY);
    let put = |body: &'static str, condition| PutObject {
        bucket: BUCKET,
        key: "cond/red flower.jpg",
        body: Bytes::from_static(body.as_bytes()),
        condition,
        ..PutObject::default()
    };
    let first = client
        .put_object(&put("one", Some(WriteCondition::IfNoneMatch)), &context(10))
        .await
        .unwrap();
    let etag = first.etag.clone().unwrap();

    let exists = client
        .put_object(&put("two", Some(WriteCondition::IfNoneMatch)), &context(10))
        .await
        .unwrap_err();
    assert!(exists.is_precondition_failed(), "{exists}");
    assert!(!exists.is_retryable());
    assert_eq!(exists.code(), Some("PreconditionFailed"));

    let stale = client
        .put_object(
            &put("three", Some(WriteCondition::IfMatch("\"0000\"".into()))),
            &context(10),
        )
        .await
        .unwrap_err();
    assert!(stale.is_precondition_failed(), "{stale}");
    assert!(!stale.is_retryable());

    let replaced = client
        .put_object(
            &put("four", Some(WriteCondition::IfMatch(etag.clone()))),
            &context(10),
        )
        .await
        .unwrap();
    assert_ne!(replaced.etag, Some(etag.clone()));

    let object = client
        .get_object(&ObjectRef::new(BUCKET, "cond/red flower.jpg"), 100, &context(10))
        .await
        .unwrap();
    assert_eq!(object.body, "four");
    // s3s-fs ignores If-Match on GET (a stub below checks that it is sent); the version id is
    // sent and ignored too (no versioning): both requests must still verify.
    let pinned = ObjectRef {
        if_match: replaced.etag.as_deref(),
        version_id: Some("3/L4kqtJl+cY=="),
        ..ObjectRef::new(BUCKET, "cond/red flower.jpg")
    };
    assert_eq!(
        client.get_object(&pinned, 100, &context(10)).await.unwrap().body,
        "four"
    );
}

#[tokio::test]
async fn missing_keys_denied_signatures_and_size_caps_are_typed() {
    let Some(server) = S3sFs::start(&[BUCKET]) else {
        return;
    };
    let client = client(&server.endpoint, s3s::SECRET_KEY);
    let missing = ObjectRef::new(BUCKET, "no such/key.jpg");
    let error = client.get_object(&missing, 100, &context(10)).await.unwrap_err();
    assert!(error.is_not_found(), "{error}");
    assert_eq!(error.code(), Some("NoSuchKey"));
    assert!(!error.is_retryable());
    let error = client.head_object(&missing, &context(10)).await.unwrap_err();
    assert!(error.is_not_found(), "{error}");
    assert!(!error.is_retryable());

    let forged = self::client(&server.endpoint, "not-the-secret");
    let error = forged
        .get_object(&ObjectRef::new(BUCKET, "red flower.jpg"), 100, &context(10))
        .await
        .unwrap_err();
    assert_eq!(
        (error.status(), error.code()),
        (Some(403), Some("SignatureDoesNotMatch")),
        "{error}"
    );
    assert!(error.is_access_denied() && !error.is_retryable());
    let shown = format!("{error} {error:?}");
    for secret in [
        "not-the-secret",
        s3s::SECRET_KEY,
        "AWS4-HMAC-SHA256",
        "Signature=",
    ] {
        assert!(!shown.contains(secret), "{shown}");
    }

    let put = PutObject {
        bucket: BUCKET,
        key: "big.bin",
        body: Bytes::from(vec![7u8; 10_000]),
        ..PutObject::default()
    };
    client.put_object(&put, &context(10)).await.unwrap();
    let object = ObjectRef::new(BUCKET, "big.bin");
    let error = client.get_object(&object, 9_999, &context(10)).await.unwrap_err();
    assert_eq!(error, Error::TooLarge { limit: 9_999 });
    assert!(!error.is_retryable());
    assert_eq!(
        client
            .get_object(&object, 10_000, &context(10))
            .await
            .unwrap()
            .body
            .len(),
        10_000
    );
}

#[tokio::test]
async fn byte_ranges_of_hostile_keys_and_what_s3s_fs_cannot_serve() {
    let Some(server) = S3sFs::start(&[BUCKET]) else {
        return;
    };
    let client = client(&server.endpoint, s3s::SECRET_KEY);
    let body: Vec<u8> = (0..1000u32).map(|i| (i * 7 % 251) as u8).collect();
    for key in HOSTILE_KEYS {
        let put = PutObject {
            bucket: BUCKET,
            key,
            body: Bytes::from(body.clone()),
            content: content(),
            ..PutObject::default()
        };
        let written = client.put_object(&put, &context(10)).await.unwrap();
        let object = ObjectRef::new(BUCKET, key);
        // (first, end asked for) → the bytes served: a part, the last byte, one cut at the end.
        for (first, end) in [(0, 100), (500, 700), (999, 1000), (900, 65_536), (0, 1000)] {
            let range = ByteRange::from_to(first, end).unwrap();
            let part = client
                .get_object_range(&object, range, &context(10))
                .await
                .unwrap_or_else(|e| panic!("GET {key:?} {range:?}: {e}"));
            let expected = &body[first as usize..end.min(1000) as usize];
            assert_eq!(part.body.as_ref(), expected, "{key:?} {range:?}");
            assert_eq!((part.first, part.object_size), (first, 1000), "{key:?}");
            assert_eq!(part.head.status, 206, "{key:?}");
            assert_eq!(part.head.etag, written.etag, "{key:?}");
            assert_eq!(part.head.content, content(), "{key:?}");
        }
        // A range that starts at the end: 416, typed.
        let past = ByteRange::from_to(1000, 2000).unwrap();
        let error = client
            .get_object_range(&object, past, &context(10))
            .await
            .unwrap_err();
        assert!(
            matches!(error, Error::RangeNotSatisfiable { .. }),
            "{key:?}: {error:?}"
        );
        assert!(!error.is_retryable() && !error.is_not_found());
    }
    // Any range of an empty object is unsatisfiable (as on S3).
    let empty = PutObject {
        bucket: BUCKET,
        key: "empty file",
        ..PutObject::default()
    };
    client.put_object(&empty, &context(10)).await.unwrap();
    let first = ByteRange::from_to(0, 65_536).unwrap();
    let error = client
        .get_object_range(&ObjectRef::new(BUCKET, "empty file"), first, &context(10))
        .await
        .unwrap_err();
    assert!(matches!(error, Error::RangeNotSatisfiable { .. }), "{error:?}");
    // A missing key is a 404 as for a whole GET; a bad signature a 403.
    let missing = client
        .get_object_range(&ObjectRef::new(BUCKET, "never put"), first, &context(10))
        .await
        .unwrap_err();
    assert!(missing.is_not_found(), "{missing:?}");
    let denied = self::client(&server.endpoint, "wrong secret")
        .get_object_range(&ObjectRef::new(BUCKET, "plain.jpg"), first, &context(10))
        .await
        .unwrap_err();
    assert!(denied.is_access_denied(), "{denied:?}");
}

/// An answer with `head` lines and `body`, closing the connection.
fn answer(status: &str, head: &str, body: &str) -> String {
    format!(
        "HTTP/1.1 {status}\r\n{head}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
}

#[tokio::test]
async fn range_answers_are_checked_against_the_request() {
    let first = ByteRange::from_to(0, 10).unwrap();
    let get = |answer: String| async move {
        let (endpoint, received) = stub(Some(answer));
        let result = client(&endpoint, s3s::SECRET_KEY)
            .get_object_range(&ObjectRef::new(BUCKET, "a b.jpg"), first, &context(10))
            .await;
        let head = received.recv_timeout(Duration::from_secs(10)).unwrap();
        (result, head)
    };
    // The header is on the wire, and signed.
    let (part, head) = get(answer(
        "206 Partial Content",
        "Content-Range: bytes 0-3/4\r\n",
        "abcd",
    ))
    .await;
    let part = part.unwrap();
    assert_eq!((part.body.as_ref(), part.object_size), (&b"abcd"[..], 4));
    let head = head.to_ascii_lowercase();
    assert!(head.contains("\r\nrange: bytes=0-9\r\n"), "{head}");
    assert!(head.contains(";range;"), "range is not signed: {head}");

    // S3's 416 names the object's size in its document.
    let invalid = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>InvalidRange</Code><Message>The requested range is not satisfiable</Message><RangeRequested>bytes=0-9</RangeRequested><ActualObjectSize>0</ActualObjectSize><RequestId>R</RequestId></Error>";
    let (error, _) = get(answer("416 Requested Range Not Satisfiable", "", invalid)).await;
    assert_eq!(
        error.unwrap_err(),
        Error::RangeNotSatisfiable { object_size: Some(0) }
    );
    let (error, _) = get(answer(
        "416 Range Not Satisfiable",
        "Content-Range: bytes */0\r\n",
        "",
    ))
    .await;
    assert_eq!(
        error.unwrap_err(),
        Error::RangeNotSatisfiable { object_size: Some(0) }
    );

    // A server that ignores Range: its whole object is taken when it fits, refused when not.
    let (whole, _) = get(answer("200 OK", "", "abc")).await;
    let whole = whole.unwrap();
    assert_eq!((whole.body.as_ref(), whole.object_size), (&b"abc"[..], 3));
    let (error, _) = get(answer("200 OK", "", "0123456789abcdef")).await;
    assert!(matches!(error, Err(Error::InvalidAnswer(_))), "{error:?}");

    // Other bytes than those asked for, or no valid Content-Range.
    for (head, body) in [
        ("Content-Range: bytes 1-4/5\r\n", "abcd"),
        ("Content-Range: bytes 0-3/4\r\n", "abc"),
        ("Content-Range: bytes 0-3/*\r\n", "abcd"),
        ("", "abcd"),
    ] {
        let (error, _) = get(answer("206 Partial Content", head, body)).await;
        assert!(
            matches!(error, Err(Error::InvalidAnswer(_))),
            "{head:?}: {error:?}"
        );
    }
}

/// A one-shot HTTP server on loopback: it reads one request head, sends it back over the
/// channel, then answers `answer` (or nothing, holding the connection, when `None`).
fn stub(answer: Option<String>) -> (String, mpsc::Receiver<String>) {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let Ok((mut stream, _)) = listener.accept() else {
            return;
        };
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).is_ok_and(|n| n == 1) {
            head.push(byte[0]);
        }
        let _ = tx.send(String::from_utf8_lossy(&head).into_owned());
        match answer {
            Some(answer) => {
                let _ = stream.write_all(answer.as_bytes());
            }
            None => std::thread::sleep(Duration::from_secs(30)),
        }
    });
    (endpoint, rx)
}

/// S3's answer when it sheds load.
fn slow_down() -> String {
    let body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>\n";
    format!(
        "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/xml\r\nx-amz-request-id: STUB1\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
}

#[tokio::test]
async fn a_503_is_a_retryable_typed_error_and_the_trace_id_is_on_the_wire() {
    let (endpoint, received) = stub(Some(slow_down()));
    let client = client(&endpoint, s3s::SECRET_KEY);
    let object = ObjectRef {
        if_match: Some("\"abc\""),
        ..ObjectRef::new(BUCKET, "red flower.jpg")
    };
    let error = client.get_object(&object, 100, &context(10)).await.unwrap_err();
    assert!(error.is_retryable(), "{error}");
    let service = error.service().unwrap();
    assert_eq!((service.status, service.code.as_str()), (503, "SlowDown"));
    assert_eq!(service.message, "Please reduce your request rate.");
    assert_eq!(service.request_id.as_deref(), Some("STUB1"));
    assert_eq!(
        error.to_string(),
        "S3 answered 503 SlowDown: Please reduce your request rate. (request id STUB1)"
    );

    let head = received
        .recv_timeout(Duration::from_secs(5))
        .unwrap()
        .to_ascii_lowercase();
    assert!(
        head.starts_with("get /photos/red%20flower.jpg http/1.1\r\n"),
        "{head}"
    );
    assert!(
        head.contains(&format!(
            "\r\nx-amzn-trace-id: {}\r\n",
            TRACE_ID.to_ascii_lowercase()
        )),
        "{head}"
    );
    assert!(head.contains("\r\nif-match: \"abc\"\r\n"), "{head}");
    let signed = head
        .split("signedheaders=")
        .nth(1)
        .unwrap()
        .split(',')
        .next()
        .unwrap();
    assert_eq!(signed, "host;if-match;x-amz-content-sha256;x-amz-date");
}

#[tokio::test]
async fn a_silent_server_is_cut_short_before_the_deadline() {
    let (endpoint, received) = stub(None);
    let client = client(&endpoint, s3s::SECRET_KEY);
    let start = Instant::now();
    let deadline = start + Duration::from_millis(400);
    let error = client
        .head_object(&ObjectRef::new(BUCKET, "k"), &RequestContext::new(deadline))
        .await
        .unwrap_err();
    let ended = Instant::now();
    assert!(matches!(error, Error::Timeout(_)), "{error}");
    assert!(error.is_retryable());
    assert!(ended >= deadline, "cut short early: {:?}", ended - start);
    // Not a fixed timeout: the deadline, plus scheduling slack only.
    assert!(
        ended - deadline < Duration::from_millis(300),
        "{:?} after the deadline",
        ended - deadline
    );
    assert!(received.recv_timeout(Duration::from_secs(5)).is_ok());

    // A deadline already past fails at once.
    let error = client
        .head_object(&ObjectRef::new(BUCKET, "k"), &RequestContext::new(Instant::now()))
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Timeout(_)), "{error}");
}

#[tokio::test]
async fn a_body_without_length_is_cut_at_the_limit() {
    // 2 chunks of 8 bytes, no Content-Length: the limit is found while reading.
    let answer =
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n8\r\n01234567\r\n8\r\n89abcdef\r\n0\r\n\r\n";
    let (endpoint, _) = stub(Some(answer.into()));
    let error = client(&endpoint, s3s::SECRET_KEY)
        .get_object(&ObjectRef::new(BUCKET, "k"), 10, &context(5))
        .await
        .unwrap_err();
    assert_eq!(error, Error::TooLarge { limit: 10 });
    let (endpoint, _) = stub(Some(answer.into()));
    let object = client(&endpoint, s3s::SECRET_KEY)
        .get_object(&ObjectRef::new(BUCKET, "k"), 16, &context(5))
        .await
        .unwrap();
    assert_eq!(object.body, "0123456789abcdef");
}

#[tokio::test]
async fn a_refused_connection_is_retryable() {
    let closed = format!("http://127.0.0.1:{}", s3s::free_port());
    let error = client(&closed, s3s::SECRET_KEY)
        .get_object(&ObjectRef::new(BUCKET, "k"), 100, &context(5))
        .await
        .unwrap_err();
    assert_eq!(error, Error::Connect);
    assert!(error.is_retryable());
}

/// Our signed request is the one aws-sigv4 signs for the same request, for every hostile key, on
/// the regional endpoint (virtual-hosted and path-style) and an override, for all three
/// operations, with a session token.
#[test]
fn signatures_match_aws_sigv4() {
    use aws_sigv4::http_request as aws;
    use aws_smithy_runtime_api::client::identity::Identity;

    let credentials = Credentials::new(
        "AKIDEXAMPLE",
        "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        Some("tok/en+=".into()),
        None,
        "t",
    );
    let time = UNIX_EPOCH + Duration::from_secs(1_767_225_600);
    let keys = SigningKeyCache::new();
    let configs = [
        Config::new("eu-central-1"),
        Config::new("cn-north-1"),
        config("http://127.0.0.1:8014"),
    ];
    let mut checked = 0;
    for config in &configs {
        for bucket in ["photos", "my.photos"] {
            for key in HOSTILE_KEYS {
                let object = ObjectRef {
                    version_id: Some("v+1/=="),
                    if_match: Some("\"e\""),
                    ..ObjectRef::new(bucket, key)
                };
                let put = PutObject {
                    bucket,
                    key,
                    body: Bytes::from_static(b"\xff\xd8 body"),
                    content: content(),
                    metadata: metadata(key),
                    condition: Some(WriteCondition::IfNoneMatch),
                };
                for operation in [
                    Operation::GetObject(&object),
                    Operation::GetObjectRange(&object, ByteRange::from_to(0, 65_536).unwrap()),
                    Operation::HeadObject(&object),
                    Operation::PutObject(&put),
                ] {
                    let signer = Signer {
                        config,
                        credentials: &credentials,
                        time,
                        keys: &keys,
                    };
                    let ours = build_request(operation, &signer, Some(TRACE_ID)).unwrap();

                    // aws-sigv4 gets the request as sent, minus what signing adds.
                    let managed = [
                        "authorization",
                        "x-amz-date",
                        "x-amz-security-token",
                        "x-amz-content-sha256",
                    ];
                    let headers: Vec<(&str, &str)> = ours
                        .headers()
                        .iter()
                        .filter(|(n, _)| !managed.contains(&n.as_str()))
                        .map(|(n, v)| (n.as_str(), v.to_str().unwrap()))
                        .collect();
                    let mut settings = aws::SigningSettings::default();
                    settings.percent_encoding_mode = aws::PercentEncodingMode::Single;
                    settings.uri_path_normalization_mode = aws::UriPathNormalizationMode::Disabled;
                    settings.payload_checksum_kind = aws::PayloadChecksumKind::XAmzSha256;
                    let identity: Identity = credentials.clone().into();
                    let params: aws_sigv4::http_request::SigningParams<'_> =
                        aws_sigv4::sign::v4::SigningParams::builder()
                            .identity(&identity)
                            .region(&config.region)
                            .name("s3")
                            .time(time)
                            .settings(settings)
                            .build()
                            .unwrap()
                            .into();
                    // A PUT over HTTPS signs UNSIGNED-PAYLOAD and sends its CRC32 (a signed
                    // header, handed to aws-sigv4 with the others); over HTTP, the body's SHA-256.
                    let https = ours.uri().scheme_str() == Some("https");
                    let put = ours.method() == http::Method::PUT;
                    assert_eq!(
                        ours.headers().get(CHECKSUM_CRC32_HEADER).is_some(),
                        put && https,
                        "{}",
                        ours.uri()
                    );
                    let body = if put && https {
                        aws::SignableBody::UnsignedPayload
                    } else {
                        aws::SignableBody::Bytes(ours.body())
                    };
                    let signable = aws::SignableRequest::new(
                        ours.method().as_str(),
                        ours.uri().to_string(),
                        headers.into_iter(),
                        body,
                    )
                    .unwrap();
                    let (instructions, _) = aws::sign(signable, &params).unwrap().into_parts();
                    for (name, value) in instructions.headers() {
                        let name = name.to_ascii_lowercase();
                        assert_eq!(
                            ours.headers()[name.as_str()].to_str().unwrap(),
                            value,
                            "{} {} {name}",
                            operation.name(),
                            ours.uri()
                        );
                    }
                    checked += 1;
                }
            }
        }
    }
    assert_eq!(checked, 3 * 2 * HOSTILE_KEYS.len() * 4);
}

/// A PUT as sent over HTTPS (`UNSIGNED-PAYLOAD`, `x-amz-checksum-crc32`) is accepted by s3s-fs,
/// which checks the checksum, and the same PUT with one byte of its body changed is refused with
/// `BadDigest`. s3s-fs speaks plain HTTP only: the request is built for `https://` on its port
/// and sent over `http://`, which the signature does not cover (it signs host, path, query and
/// headers, not the scheme). Also a body of several MB read back whole, in one buffer.
#[tokio::test]
async fn an_unsigned_payload_put_is_checked_by_its_crc32() {
    let Some(server) = S3sFs::start(&[BUCKET]) else {
        return;
    };
    let https = config(&server.endpoint.replace("http://", "https://"));
    let credentials = credentials(s3s::SECRET_KEY);
    let keys = SigningKeyCache::new();
    let transport = Transport::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    // 5 MB that do not repeat (xorshift), so a misplaced frame would show.
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    let body: Vec<u8> = (0..5_000_003)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect();
    let body = Bytes::from(body);
    let put = |key: &'static str| PutObject {
        bucket: BUCKET,
        key,
        body: body.clone(),
        content: content(),
        metadata: metadata(key),
        condition: None,
    };
    let over_http = |mut request: http::Request<Bytes>| {
        let uri = request.uri().to_string().replacen("https://", "http://", 1);
        *request.uri_mut() = uri.parse().unwrap();
        request
    };
    let signer = Signer {
        config: &https,
        credentials: &credentials,
        time: std::time::SystemTime::now(),
        keys: &keys,
    };

    let good = put("unsigned/good.bin");
    let request = build_request(Operation::PutObject(&good), &signer, None).unwrap();
    assert_eq!(request.headers()["x-amz-content-sha256"], "UNSIGNED-PAYLOAD");
    assert!(request.headers().contains_key(CHECKSUM_CRC32_HEADER));
    let answer = transport
        .send(over_http(request), deadline, 64 << 10)
        .await
        .unwrap();
    assert_eq!(answer.status, 200, "{}", String::from_utf8_lossy(&answer.body));

    let bad = put("unsigned/bad.bin");
    let mut request = build_request(Operation::PutObject(&bad), &signer, None).unwrap();
    let mut corrupted = body.to_vec();
    corrupted[2_500_000] ^= 0x01;
    *request.body_mut() = Bytes::from(corrupted);
    let answer = transport
        .send(over_http(request), deadline, 64 << 10)
        .await
        .unwrap();
    let error = ServiceError::parse(answer.status, &answer.body, None);
    assert_eq!(
        (error.status, error.code.as_str()),
        (400, "BadDigest"),
        "{error:?}"
    );

    // The object stored by the good PUT, read back whole by the client over HTTP.
    let client = client(&server.endpoint, s3s::SECRET_KEY);
    let object = client
        .get_object(
            &ObjectRef::new(BUCKET, "unsigned/good.bin"),
            5_000_003,
            &context(20),
        )
        .await
        .unwrap();
    assert_eq!(object.head.metadata, metadata("unsigned/good.bin"));
    assert!(object.body == body, "the body read back differs");
    let error = client
        .get_object(
            &ObjectRef::new(BUCKET, "unsigned/good.bin"),
            5_000_002,
            &context(20),
        )
        .await
        .unwrap_err();
    assert_eq!(error, Error::TooLarge { limit: 5_000_002 });
}
