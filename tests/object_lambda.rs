//! The S3 Object Lambda function against independent truth.
//!
//! `handle` runs in process against two local servers (`support/object_lambda.rs`): a source
//! serving `inputS3Url` (the samples, a text file, 404, 403, 5xx, an oversize object, damaged
//! images) and a `WriteGetObjectResponse` endpoint that verifies every signature with aws-sigv4 and
//! checks that every `x-amz-*` header is signed. Stripped images are checked with exiftool and the
//! `image` crate, the JSON against exiftool. Every GetObject must produce exactly one verified
//! `WriteGetObjectResponse`, on every path. Then the `object-lambda` bootstrap itself, started as
//! Lambda starts it, under the Runtime API emulator (`support/runtime_api.rs`).
#![cfg(feature = "object-lambda")]

#[path = "support/exiftool.rs"]
mod exiftool;
#[path = "support/runtime_api.rs"]
mod runtime_api;
#[path = "support/object_lambda.rs"]
mod servers;

use aws_credential_types::Credentials;
use edge_signer::object_lambda::{
    Client, Error, Handled, HeadObjectResponse, ReplyKind, Settings, handle, parse_event,
    write_get_object_response,
};
use edge_signer::sigv4::SigningKeyCache;
use edge_signer::transform::{ImageFormat, Outcome, strip_metadata};
use runtime_api::{OutcomeKind, RuntimeApi};
use serde_json::{Value, json};
use servers::{Answer, Object, PRESIGN_QUERY, Received, Source, Write, WriteEndpoint};
use std::collections::HashMap;
use std::process::Child;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const JPEG: &[u8] = include_bytes!("../samples/images/sample.jpg");
const PNG: &[u8] = include_bytes!("../samples/images/sample.png");
const WEBP: &[u8] = include_bytes!("../samples/images/sample.webp");
const TEXT: &[u8] = include_bytes!("../samples/images/readme.txt");

const ACCESS_KEY: &str = "AKIDEXAMPLE";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
const SESSION_TOKEN: &str = "IQoJb3JpZ2luX2VjEXAMPLE//////////SESSIONTOKEN+objectlambda/test==";
const REGION: &str = "us-west-2";
const ROUTE: &str = "io-usw2-001";
const OUTPUT_TOKEN: &str = "OutputTokenEXAMPLE0123456789abcdefSINGLEUSE";
/// The object cap in the in-process tests (the samples are 5–31 KB).
const CAP: u64 = 64 * 1024;
const USER_URL: &str = "https://myap-123456789012.s3-object-lambda.us-west-2.amazonaws.com/photos/cat.jpg";

fn credentials() -> Credentials {
    Credentials::new(ACCESS_KEY, SECRET, Some(SESSION_TOKEN.to_owned()), None, "tests")
}

/// 2026-11-21T12:00:00Z.
fn at() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_795_262_400)
}

/// The big object: a JPEG header and more bytes than [`CAP`].
fn oversize() -> Vec<u8> {
    let mut big = JPEG.to_vec();
    big.resize(CAP as usize + 1, 0);
    big
}

fn objects() -> HashMap<String, Object> {
    let mut damaged = JPEG.to_vec();
    damaged.truncate(JPEG.len() / 2);
    let mut bad_exif = b"\xFF\xD8\xFF\xE1\x00\x0EExif\0\0garbage".to_vec();
    bad_exif.extend_from_slice(&JPEG[2..]);
    let mut map: HashMap<String, Object> = [
        ("/sample.jpg", Object::ok("image/jpeg", JPEG)),
        ("/sample.png", Object::ok("image/png", PNG)),
        ("/sample.webp", Object::ok("image/webp", WEBP)),
        // A wrong content type: the magic bytes decide.
        ("/mislabelled.jpg", Object::ok("application/octet-stream", JPEG)),
        ("/readme.txt", Object::ok("text/plain; charset=utf-8", TEXT)),
        ("/damaged.jpg", Object::ok("image/jpeg", damaged)),
        ("/bad-exif.jpg", Object::ok("image/jpeg", bad_exif)),
        (
            "/image.gif",
            Object::ok("image/gif", b"GIF89a\x01\x00\x01\x00\x00\x00\x00;".to_vec()),
        ),
        ("/big.jpg", Object::ok("image/jpeg", oversize())),
        ("/big-chunked.jpg", Object::ok("image/jpeg", oversize()).chunked()),
        ("/forbidden", Object::status(403)),
        ("/broken", Object::status(500)),
        ("/busy", Object::status(503)),
        ("/bad-request", Object::status(400)),
    ]
    .into_iter()
    .map(|(path, object)| (path.to_owned(), object))
    .collect();
    map.insert("/chunked.png".into(), Object::ok("image/png", PNG).chunked());
    map
}

fn event(context: &str, input_s3_url: &str, user_url: &str, user_headers: Value) -> Value {
    let context = match context {
        "get" => json!({"getObjectContext": {
            "inputS3Url": input_s3_url, "outputRoute": ROUTE, "outputToken": OUTPUT_TOKEN
        }}),
        "head" => json!({"headObjectContext": {"inputS3Url": input_s3_url}}),
        "list" => json!({"listObjectsV2Context": {"inputS3Url": input_s3_url}}),
        other => panic!("no context {other}"),
    };
    let mut event = json!({
        "xAmzRequestId": "requestId",
        "configuration": {
            "accessPointArn": "arn:aws:s3-object-lambda:us-west-2:123456789012:accesspoint/myap",
            "supportingAccessPointArn": "arn:aws:s3:us-west-2:123456789012:accesspoint/my-ap",
            "payload": "{}"
        },
        "userRequest": {"url": user_url, "headers": user_headers},
        "userIdentity": {
            "type": "AssumedRole",
            "principalId": "AROAEXAMPLE:edge-signer",
            "arn": "arn:aws:sts::123456789012:assumed-role/edge-signer/edge-signer",
            "accountId": "123456789012",
            "accessKeyId": "ASIAEXAMPLE"
        },
        "protocolVersion": "1.00"
    });
    event
        .as_object_mut()
        .unwrap()
        .extend(context.as_object().unwrap().clone());
    event
}

fn user_headers() -> Value {
    json!({
        "Host": "myap-123456789012.s3-object-lambda.us-west-2.amazonaws.com",
        "Accept-Encoding": "identity",
        "X-Amz-Content-SHA256": "UNSIGNED-PAYLOAD"
    })
}

/// The source, the endpoint, and what `handle` needs, as a Lambda process keeps it.
struct Fixture {
    source: Source,
    endpoint: WriteEndpoint,
    settings: Settings,
    client: Client,
    credentials: Credentials,
    keys: SigningKeyCache,
}

impl Fixture {
    fn new() -> Self {
        Self::answering(Answer::Ok)
    }

    fn answering(answer: Answer) -> Self {
        let endpoint = WriteEndpoint::start(&credentials(), REGION, answer);
        let mut settings = Settings::new(REGION);
        settings.endpoint = Some(endpoint.url().parse().unwrap());
        settings.max_object_bytes = CAP;
        Self {
            source: Source::start(objects()),
            endpoint,
            settings,
            client: Client::new(),
            credentials: credentials(),
            keys: SigningKeyCache::new(),
        }
    }

    async fn run(&self, event: &Value) -> Result<Handled, Error> {
        let event = parse_event(event.to_string().as_bytes()).expect("a valid event");
        handle(
            &event,
            &self.client,
            &self.settings,
            &self.credentials,
            at(),
            &self.keys,
        )
        .await
    }

    /// A GetObject of `path` on the source, the caller's URL ending in `query`. Checks what every
    /// GetObject must do: exactly one `WriteGetObjectResponse`, whose signature verifies, signed
    /// at `at()`, with the event's route and token, and nothing of the presigned URL in it.
    async fn get_with(&self, path: &str, query: &str, headers: Value) -> (Handled, Write) {
        let before = self.endpoint.writes().len();
        let event = event(
            "get",
            &self.source.url(path),
            &format!("{USER_URL}{query}"),
            headers,
        );
        let handled = self
            .run(&event)
            .await
            .unwrap_or_else(|e| panic!("{path}{query}: {e}"));
        let writes = self.endpoint.writes();
        assert_eq!(
            writes.len(),
            before + 1,
            "{path}{query}: one WriteGetObjectResponse per GetObject"
        );
        let write = writes.last().unwrap().clone();
        assert_eq!(write.verified, Ok(()), "{path}{query}: signature");
        let request = &write.request;
        assert_eq!(request.header("x-amz-date"), Some("20261121T120000Z"));
        assert_eq!(request.header("x-amz-request-route"), Some(ROUTE));
        assert_eq!(request.header("x-amz-request-token"), Some(OUTPUT_TOKEN));
        assert_eq!(request.header("x-amz-content-sha256"), Some("UNSIGNED-PAYLOAD"));
        assert_eq!(
            request.header("content-length"),
            Some(request.body.len().to_string().as_str())
        );
        let text = format!("{:?}", request.headers);
        assert!(
            !text.contains("PRESIGNEDTOKEN") && !text.contains("5ec7e75e"),
            "{text}"
        );
        let Handled::Written(written) = &handled else {
            panic!("{path}: a GetObject is written, got {handled:?}");
        };
        assert_eq!(Some(written.status), write.status());
        assert_eq!(written.error_code, write.error_code());
        assert_eq!(written.body_bytes, write.body().len());
        (handled, write)
    }

    async fn get(&self, path: &str, query: &str) -> (Handled, Write) {
        self.get_with(path, query, user_headers()).await
    }

    /// A GetObject that must be answered with an error status and code, and no body.
    async fn get_error(&self, path: &str, query: &str, status: u16, code: &str) -> Write {
        let (handled, write) = self.get(path, query).await;
        assert_eq!(
            (write.status(), write.error_code()),
            (Some(status), Some(code)),
            "{path}{query}"
        );
        let message = write
            .request
            .header("x-amz-fwd-error-message")
            .expect("an error message");
        assert!(
            !message.is_empty() && !message.contains("PRESIGNED") && !message.contains("127.0.0.1"),
            "{message}"
        );
        assert!(write.body().is_empty(), "{path}: an error carries no body");
        assert!(
            write.request.names_with_prefix("x-amz-fwd-header-").is_empty(),
            "{path}"
        );
        let Handled::Written(written) = handled else {
            unreachable!()
        };
        assert_eq!(written.kind, ReplyKind::Error);
        write
    }
}

fn stripped(input: &[u8]) -> Vec<u8> {
    match strip_metadata(input) {
        Ok(Outcome::Stripped { bytes, .. }) => bytes,
        other => panic!("expected a stripped image, got {other:?}"),
    }
}

#[tokio::test]
async fn images_come_back_stripped_with_the_same_pixels() {
    let fixture = Fixture::new();
    for (path, original, format) in [
        ("/sample.jpg", JPEG, ImageFormat::Jpeg),
        ("/sample.png", PNG, ImageFormat::Png),
        ("/sample.webp", WEBP, ImageFormat::WebP),
        ("/mislabelled.jpg", JPEG, ImageFormat::Jpeg),
        ("/chunked.png", PNG, ImageFormat::Png),
    ] {
        let (handled, write) = fixture.get(path, "").await;
        let Handled::Written(written) = handled else {
            unreachable!()
        };
        assert_eq!(
            (written.status, written.kind),
            (200, ReplyKind::Stripped(format)),
            "{path}"
        );
        assert_eq!(write.status(), Some(200));
        assert_eq!(write.error_code(), None);
        let body = write.body();
        // exiftool finds identifying metadata in the original and none in what was written.
        assert!(
            !exiftool::identifying(&exiftool::read(original)).is_empty(),
            "{path}: the check sees nothing"
        );
        let left = exiftool::identifying(&exiftool::read(body));
        assert!(left.is_empty(), "{path}: exiftool still finds {left:?}");
        let before = image::load_from_memory(original).unwrap();
        let after = image::load_from_memory(body).expect("the written image decodes");
        assert_eq!(before.to_rgba8(), after.to_rgba8(), "{path}: pixels differ");
        assert!(body.len() < original.len());
        // The format's type, the object's descriptive headers; nothing about the original bytes.
        assert_eq!(
            write.forwarded("Content-Type"),
            Some(format.content_type()),
            "{path}"
        );
        assert_eq!(write.forwarded("Cache-Control"), Some("max-age=3600"));
        assert_eq!(
            write.forwarded("Last-Modified"),
            Some("Wed, 21 Oct 2026 07:28:00 GMT")
        );
        for absent in ["etag", "accept-ranges", "content-length", "x-amz-meta-owner"] {
            assert_eq!(write.forwarded(absent), None, "{path}: {absent} forwarded");
        }
    }
    // The presigned URL is requested exactly as given, with GET.
    let received = fixture.source.received();
    assert_eq!(received.len(), 5);
    assert!(
        received
            .iter()
            .all(|r| r.method == "GET" && r.url.ends_with(PRESIGN_QUERY))
    );
}

#[tokio::test]
async fn show_exif_gives_the_json_report() {
    let fixture = Fixture::new();
    for query in ["?showExif=true", "?size=2&showExif=TRUE"] {
        let (handled, write) = fixture.get("/sample.jpg", query).await;
        let Handled::Written(written) = handled else {
            unreachable!()
        };
        assert_eq!((written.status, written.kind), (200, ReplyKind::ExifJson));
        assert_eq!(write.forwarded("Content-Type"), Some("application/json"));
        let json: Value = serde_json::from_slice(write.body()).expect("a JSON body");
        let tags = exiftool::read(JPEG);
        assert_eq!(json["image"]["Make"], tags["IFD0:Make"]);
        assert_eq!(json["image"]["Orientation"], tags["IFD0:Orientation"]);
        let latitude = json["position"]["latitude"].as_f64().unwrap();
        assert!((latitude - tags["GPS:GPSLatitude"].as_f64().unwrap()).abs() < 1e-9);
    }
    // Not asked for: the image.
    for query in ["?showexif=true", "?showExif=1", "#?showExif=true"] {
        let (_, write) = fixture.get("/sample.jpg", query).await;
        assert_eq!(write.forwarded("Content-Type"), Some("image/jpeg"), "{query}");
    }
}

#[tokio::test]
async fn a_text_object_is_unchanged() {
    let fixture = Fixture::new();
    for query in ["", "?showExif=true"] {
        let (handled, write) = fixture.get("/readme.txt", query).await;
        let Handled::Written(written) = handled else {
            unreachable!()
        };
        assert_eq!((written.status, written.kind), (200, ReplyKind::Unchanged));
        assert_eq!(write.body(), TEXT);
        assert_eq!(write.forwarded("Content-Type"), Some("text/plain; charset=utf-8"));
        // The same bytes: the same entity tag.
        assert_eq!(
            write.forwarded("ETag"),
            Some("\"0123456789abcdef0123456789abcdef\"")
        );
        assert_eq!(write.forwarded("x-amz-meta-owner"), None);
    }
}

#[tokio::test]
async fn a_missing_key_is_404_no_such_key() {
    let fixture = Fixture::new();
    for query in ["", "?showExif=true"] {
        fixture.get_error("/missing.jpg", query, 404, "NoSuchKey").await;
    }
}

#[tokio::test]
async fn a_forbidden_original_is_403() {
    Fixture::new()
        .get_error("/forbidden", "", 403, "AccessDenied")
        .await;
}

#[tokio::test]
async fn other_source_failures_are_500_with_a_code() {
    let fixture = Fixture::new();
    for (path, status) in [("/broken", "500"), ("/busy", "503"), ("/bad-request", "400")] {
        let write = fixture.get_error(path, "", 500, "SourceFetchFailed").await;
        let message = write.request.header("x-amz-fwd-error-message").unwrap();
        assert!(message.contains(status), "{message}");
    }
}

#[tokio::test]
async fn an_unreachable_or_invalid_source_is_still_answered() {
    let fixture = Fixture::new();
    // A port nothing listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    for url in [
        format!("http://{closed}/sample.jpg?{PRESIGN_QUERY}"),
        "not a url".to_owned(),
        String::new(),
    ] {
        let event = event("get", &url, USER_URL, user_headers());
        let before = fixture.endpoint.writes().len();
        let handled = fixture.run(&event).await.unwrap();
        let write = fixture.endpoint.writes().pop().unwrap();
        assert_eq!(fixture.endpoint.writes().len(), before + 1);
        assert_eq!(write.verified, Ok(()));
        assert_eq!(
            (write.status(), write.error_code()),
            (Some(500), Some("SourceFetchFailed")),
            "{url}"
        );
        assert!(matches!(handled, Handled::Written(_)));
        let message = write.request.header("x-amz-fwd-error-message").unwrap();
        assert!(
            !message.contains("PRESIGNED") && !message.contains(&closed.to_string()),
            "{message}"
        );
    }
}

#[tokio::test]
async fn a_source_that_never_answers_times_out_and_is_still_answered() {
    let mut fixture = Fixture::new();
    fixture.settings.timeout = Duration::from_millis(300);
    // Accepts connections and never answers.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!(
        "http://{}/sample.jpg?{PRESIGN_QUERY}",
        silent.local_addr().unwrap()
    );
    let handled = fixture
        .run(&event("get", &url, USER_URL, user_headers()))
        .await
        .unwrap();
    assert!(matches!(handled, Handled::Written(w) if w.status == 500));
    let write = fixture.endpoint.only_write();
    assert_eq!(write.verified, Ok(()));
    assert_eq!(write.error_code(), Some("SourceFetchFailed"));
    assert!(
        write
            .request
            .header("x-amz-fwd-error-message")
            .unwrap()
            .contains("300ms")
    );
}

#[tokio::test]
async fn an_oversize_object_is_an_error_and_never_served() {
    let fixture = Fixture::new();
    for path in ["/big.jpg", "/big-chunked.jpg"] {
        let write = fixture.get_error(path, "", 500, "ObjectTooLarge").await;
        let message = write.request.header("x-amz-fwd-error-message").unwrap();
        assert!(message.contains(&CAP.to_string()), "{message}");
    }
    // Just under the cap is served.
    let mut fixture = Fixture::new();
    fixture.settings.max_object_bytes = JPEG.len() as u64;
    let (_, write) = fixture.get("/sample.jpg", "").await;
    assert_eq!(write.status(), Some(200));
    fixture.settings.max_object_bytes = JPEG.len() as u64 - 1;
    fixture.get_error("/sample.jpg", "", 500, "ObjectTooLarge").await;
}

#[tokio::test]
async fn damaged_and_unsupported_images_are_errors_never_the_original() {
    let fixture = Fixture::new();
    for (path, code) in [
        ("/damaged.jpg", "MalformedImage"),
        ("/bad-exif.jpg", "MalformedExif"),
        ("/image.gif", "UnsupportedImage"),
    ] {
        fixture.get_error(path, "", 500, code).await;
    }
    for (path, code) in [
        ("/bad-exif.jpg", "MalformedExif"),
        ("/image.gif", "UnsupportedImage"),
    ] {
        fixture.get_error(path, "?showExif=true", 500, code).await;
    }
    // The report reads only the EXIF block, which is whole in a JPEG cut in its scan data: the
    // report is served (it is not the original bytes), the image is not.
    let (_, write) = fixture.get("/damaged.jpg", "?showExif=true").await;
    assert_eq!(write.forwarded("Content-Type"), Some("application/json"));
    let json: Value = serde_json::from_slice(write.body()).unwrap();
    assert_eq!(json["image"]["Make"], exiftool::read(JPEG)["IFD0:Make"]);
}

#[tokio::test]
async fn range_and_part_number_get_the_whole_transformed_object() {
    let fixture = Fixture::new();
    let mut ranged = user_headers();
    ranged["Range"] = json!("bytes=0-99");
    for (query, headers) in [
        ("", ranged.clone()),
        ("?partNumber=1", user_headers()),
        ("?partNumber=2", ranged),
    ] {
        let (_, write) = fixture.get_with("/sample.jpg", query, headers).await;
        assert_eq!(write.status(), Some(200), "{query}");
        assert_eq!(write.body(), stripped(JPEG), "{query}: the whole stripped image");
        assert_eq!(write.forwarded("Content-Range"), None);
        assert_eq!(write.forwarded("accept-ranges"), None);
    }
    // The original is read whole.
    assert!(
        fixture
            .source
            .received()
            .iter()
            .all(|r| r.header("range").is_none())
    );
}

#[tokio::test]
async fn a_refused_write_is_an_error_without_the_canonical_request() {
    let fixture = Fixture::answering(Answer::Error(403, "SignatureDoesNotMatch"));
    let event = event(
        "get",
        &fixture.source.url("/sample.jpg"),
        USER_URL,
        user_headers(),
    );
    let error = fixture.run(&event).await.unwrap_err();
    assert_eq!(error.kind(), "WriteGetObjectResponseRefused");
    let message = error.to_string();
    assert!(
        message.contains("403 SignatureDoesNotMatch: refused by the test"),
        "{message}"
    );
    assert!(!message.contains("SECRET"), "{message}");
    // Sent once: the token is single-use.
    assert_eq!(fixture.endpoint.writes().len(), 1);
}

#[tokio::test]
async fn head_object_is_answered_with_json_and_no_write() {
    let fixture = Fixture::new();
    let head = |path: &str, query: &str| {
        event(
            "head",
            &fixture.source.url(path),
            &format!("{USER_URL}{query}"),
            user_headers(),
        )
    };
    let expect_head = |handled: Handled| match handled {
        Handled::Head(head) => head,
        other => panic!("expected a HeadObject result, got {other:?}"),
    };
    let found: HeadObjectResponse = expect_head(fixture.run(&head("/sample.jpg", "")).await.unwrap());
    let result = Handled::Head(found.clone()).lambda_result();
    assert_eq!(result["statusCode"], 200);
    assert_eq!(result["headers"]["Content-Type"], "image/jpeg");
    assert_eq!(
        result["headers"]["Last-Modified"],
        "Wed, 21 Oct 2026 07:28:00 GMT"
    );
    // The original's length and entity tag would be false for the stripped image.
    assert!(result["headers"].get("Content-Length").is_none() && result["headers"].get("ETag").is_none());

    let report = expect_head(fixture.run(&head("/sample.jpg", "?showExif=true")).await.unwrap());
    assert_eq!(report.headers["Content-Type"], "application/json");
    let missing = expect_head(fixture.run(&head("/missing.jpg", "")).await.unwrap());
    assert_eq!(
        (missing.status_code, missing.error_code),
        (404, Some("NoSuchKey"))
    );
    let forbidden = expect_head(fixture.run(&head("/forbidden", "")).await.unwrap());
    assert_eq!(forbidden.status_code, 403);
    // A HEAD reads no body, so the size cap does not apply.
    let big = expect_head(fixture.run(&head("/big.jpg", "")).await.unwrap());
    assert_eq!(big.status_code, 200);

    assert!(
        fixture.endpoint.writes().is_empty(),
        "HeadObject is answered by the function's result"
    );
    assert!(fixture.source.received().iter().all(|r| r.method == "HEAD"));
}

#[tokio::test]
async fn events_that_cannot_be_answered_fail_before_any_fetch() {
    let fixture = Fixture::new();
    let url = fixture.source.url("/sample.jpg");
    let mut bad_route = event("get", &url, USER_URL, user_headers());
    bad_route["getObjectContext"]["outputRoute"] = json!("evil.example.com/x");
    let mut bad_token = event("get", &url, USER_URL, user_headers());
    bad_token["getObjectContext"]["outputToken"] = json!("a\r\nx-amz-evil: 1");
    let mut both = event("get", &url, USER_URL, user_headers());
    both["headObjectContext"] = json!({"inputS3Url": url});
    for (event, kind) in [
        (bad_route, "InvalidEvent"),
        (bad_token, "InvalidEvent"),
        (both, "UnsupportedEvent"),
        (event("list", &url, USER_URL, user_headers()), "UnsupportedEvent"),
    ] {
        let error = fixture.run(&event).await.unwrap_err();
        assert_eq!(error.kind(), kind, "{error}");
    }
    let malformed = parse_event(br#"{"getObjectContext": {"inputS3Url": 1}}"#).unwrap_err();
    assert_eq!(malformed.kind(), "MalformedEvent");
    assert!(
        malformed.to_string().contains("getObjectContext.inputS3Url"),
        "{malformed}"
    );
    assert!(fixture.source.received().is_empty());
    assert!(fixture.endpoint.writes().is_empty());
}

/// The request as the endpoint would receive it.
fn as_received(request: &http::Request<bytes::Bytes>) -> Received {
    Received {
        method: request.method().to_string(),
        url: request.uri().path().to_owned(),
        headers: request
            .headers()
            .iter()
            .map(|(n, v)| (n.as_str().to_owned(), v.to_str().unwrap().to_owned()))
            .collect(),
        body: request.body().to_vec(),
    }
}

#[test]
fn without_an_override_the_host_is_the_route_on_s3_object_lambda() {
    let fetched = edge_signer::object_lambda::Fetched::Response {
        status: 200,
        headers: http::HeaderMap::new(),
        body: bytes::Bytes::from_static(JPEG),
    };
    let reply = edge_signer::object_lambda::decide(fetched, false);
    for (region, host) in [
        (
            "us-west-2",
            "io-usw2-001.s3-object-lambda.us-west-2.amazonaws.com",
        ),
        (
            "cn-north-1",
            "io-usw2-001.s3-object-lambda.cn-north-1.amazonaws.com.cn",
        ),
    ] {
        let settings = Settings::new(region);
        let request = write_get_object_response(
            ROUTE,
            OUTPUT_TOKEN,
            &reply,
            &settings,
            &credentials(),
            at(),
            &SigningKeyCache::new(),
        )
        .unwrap();
        assert_eq!(
            request.uri().to_string(),
            format!("https://{host}/WriteGetObjectResponse")
        );
        let received = as_received(&request);
        assert_eq!(received.header("host"), Some(host));
        assert_eq!(servers::verify(&received, &credentials(), region), Ok(()));
        // Without a session token, none is sent.
        let plain = Credentials::new(ACCESS_KEY, SECRET, None, None, "tests");
        let request = write_get_object_response(
            ROUTE,
            OUTPUT_TOKEN,
            &reply,
            &settings,
            &plain,
            at(),
            &SigningKeyCache::new(),
        )
        .unwrap();
        assert_eq!(servers::verify(&as_received(&request), &plain, region), Ok(()));
        assert!(request.headers().get("x-amz-security-token").is_none());
    }
}

#[test]
fn the_verifier_rejects_tampered_and_unsigned_writes() {
    let reply = edge_signer::object_lambda::ErrorReply {
        code: "NoSuchKey",
        message: "x".into(),
    };
    let reply = edge_signer::object_lambda::Reply {
        status: 404,
        error: Some(reply),
        headers: Vec::new(),
        body: bytes::Bytes::new(),
        kind: ReplyKind::Error,
    };
    let request = write_get_object_response(
        ROUTE,
        OUTPUT_TOKEN,
        &reply,
        &Settings::new(REGION),
        &credentials(),
        at(),
        &SigningKeyCache::new(),
    )
    .unwrap();
    let good = as_received(&request);
    assert_eq!(servers::verify(&good, &credentials(), REGION), Ok(()));

    let mut tampered = good.clone();
    for (name, value) in &mut tampered.headers {
        if name == "x-amz-fwd-status" {
            *value = "200".into();
        }
    }
    assert!(
        servers::verify(&tampered, &credentials(), REGION)
            .unwrap_err()
            .contains("signature")
    );

    let mut unsigned = good.clone();
    unsigned
        .headers
        .push(("x-amz-fwd-header-content-type".into(), "text/html".into()));
    assert!(
        servers::verify(&unsigned, &credentials(), REGION)
            .unwrap_err()
            .contains("not signed")
    );

    let other_region = servers::verify(&good, &credentials(), "us-east-1").unwrap_err();
    assert!(other_region.contains("credential"), "{other_region}");
    let other_secret = Credentials::new(ACCESS_KEY, "another", Some(SESSION_TOKEN.into()), None, "t");
    assert!(
        servers::verify(&good, &other_secret, REGION)
            .unwrap_err()
            .contains("signature")
    );
}

// ---- The bootstrap, as Lambda starts it ----

const BOOTSTRAP: &str = env!("CARGO_BIN_EXE_object-lambda");
const WAIT: Duration = Duration::from_secs(20);

/// A started bootstrap whose output is collected; killed when dropped.
struct Process {
    child: Child,
    readers: Vec<std::thread::JoinHandle<Vec<u8>>>,
}

impl Process {
    fn spawn(command: &mut std::process::Command) -> Self {
        let (child, readers) = runtime_api::spawn_captured(command);
        Self { child, readers }
    }

    /// Kills the process and returns everything it wrote.
    fn logs(mut self) -> String {
        let _ = self.child.kill();
        let _ = self.child.wait();
        std::mem::take(&mut self.readers)
            .into_iter()
            .map(|r| String::from_utf8_lossy(&r.join().unwrap()).into_owned())
            .collect::<Vec<_>>()
            .join("\n")
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_bootstrap(api: &RuntimeApi, task_root: &std::path::Path, env: &[(&str, &str)]) -> Process {
    let mut command = api.lambda_command(BOOTSTRAP, task_root, (ACCESS_KEY, SECRET, SESSION_TOKEN));
    command.env("AWS_LAMBDA_FUNCTION_NAME", "object-lambda");
    for (name, value) in env {
        command.env(name, value);
    }
    Process::spawn(&mut command)
}

fn assert_no_secrets(logs: &str) {
    for secret in [
        SECRET,
        SESSION_TOKEN,
        OUTPUT_TOKEN,
        "PRESIGNEDTOKEN",
        "5ec7e75e",
        "Signature=",
    ] {
        assert!(!logs.contains(secret), "{secret} was logged:\n{logs}");
    }
}

#[test]
fn the_bootstrap_answers_events_through_the_runtime_api() {
    let source = Source::start(objects());
    let endpoint = WriteEndpoint::start(&credentials(), REGION, Answer::Ok);
    let api = RuntimeApi::start().unwrap();
    let task_root = tempfile::tempdir().unwrap();
    let process = start_bootstrap(
        &api,
        task_root.path(),
        &[
            ("AWS_REGION", REGION),
            ("EDGE_SIGNER_S3OL_ENDPOINT", &endpoint.url()),
        ],
    );

    let get = |path: &str, query: &str| {
        event(
            "get",
            &source.url(path),
            &format!("{USER_URL}{query}"),
            user_headers(),
        )
        .to_string()
    };
    let (_, image) = api.invoke_and_wait(get("/sample.jpg", ""), WAIT);
    let image = image.expect("an outcome for the image");
    assert_eq!(image.kind, OutcomeKind::Response);
    assert_eq!(image.json(), json!({"statusCode": 200}));
    let (_, missing) = api.invoke_and_wait(get("/missing.jpg", "?showExif=true"), WAIT);
    assert_eq!(
        missing.expect("an outcome for the missing key").json(),
        json!({"statusCode": 404})
    );
    let head = event("head", &source.url("/sample.png"), USER_URL, user_headers()).to_string();
    let (_, head) = api.invoke_and_wait(head, WAIT);
    let head = head.expect("an outcome for the HEAD").json();
    assert_eq!(
        (
            head["statusCode"].clone(),
            head["headers"]["Content-Type"].clone()
        ),
        (json!(200), json!("image/png"))
    );
    let (_, malformed) = api.invoke_and_wait(r#"{"getObjectContext": []}"#, WAIT);
    let malformed = malformed.expect("an outcome for the malformed event");
    assert_eq!(malformed.kind, OutcomeKind::Error);
    assert_eq!(malformed.json()["errorType"], "MalformedEvent");

    let writes = endpoint.wait_writes(2, WAIT);
    assert_eq!(writes.len(), 2, "{writes:#?}");
    for write in &writes {
        assert_eq!(write.verified, Ok(()));
        // Signed with the real clock.
        let signed_at = servers::parse_amz_date(write.request.header("x-amz-date").unwrap()).unwrap();
        let skew = SystemTime::now().duration_since(signed_at).unwrap_or_default();
        assert!(skew < Duration::from_secs(15 * 60));
    }
    assert_eq!(writes[0].status(), Some(200));
    assert_eq!(writes[0].body(), stripped(JPEG));
    assert_eq!(
        (writes[1].status(), writes[1].error_code()),
        (Some(404), Some("NoSuchKey"))
    );
    assert!(api.violations().is_empty(), "{:?}", api.violations());
    let logs = process.logs();
    assert!(logs.contains("GetObject answered"), "{logs}");
    assert_no_secrets(&logs);
}

#[test]
fn without_aws_region_every_invocation_fails_naming_it() {
    let source = Source::start(objects());
    let endpoint = WriteEndpoint::start(&credentials(), REGION, Answer::Ok);
    let api = RuntimeApi::start().unwrap();
    let task_root = tempfile::tempdir().unwrap();
    let process = start_bootstrap(
        &api,
        task_root.path(),
        &[("EDGE_SIGNER_S3OL_ENDPOINT", &endpoint.url())],
    );
    for _ in 0..2 {
        let payload = event("get", &source.url("/sample.jpg"), USER_URL, user_headers()).to_string();
        let (_, outcome) = api.invoke_and_wait(payload, WAIT);
        let outcome = outcome.expect("an outcome");
        assert_eq!(outcome.kind, OutcomeKind::Error);
        assert_eq!(outcome.json()["errorType"], "InvalidSettings");
        let message = outcome.error_message().unwrap();
        assert!(message.contains("AWS_REGION is not set"), "{message}");
    }
    assert!(source.received().is_empty() && endpoint.writes().is_empty());
    assert_no_secrets(&process.logs());
}

/// `handle_in`: the fetch keeps to half the time left before the invocation's deadline (so that
/// its failure is still answered), and every request carries the invocation's trace id.
#[tokio::test]
async fn handle_in_keeps_to_the_deadline_and_sends_the_trace_id() {
    use edge_signer::object_lambda::handle_in;
    use edge_signer::s3::RequestContext;
    use std::time::Instant;
    const TRACE: &str = "Root=1-5759e988-bd862e3fe1be46a994272793;Lineage=a87bd80c:1";

    let fixture = Fixture::new();
    assert!(fixture.settings.timeout >= Duration::from_secs(10));
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!(
        "http://{}/sample.jpg?{PRESIGN_QUERY}",
        silent.local_addr().unwrap()
    );
    let run = |url: String, deadline: Instant| {
        let fixture = &fixture;
        async move {
            let event = parse_event(
                event("get", &url, USER_URL, user_headers())
                    .to_string()
                    .as_bytes(),
            )
            .unwrap();
            let context = RequestContext::new(deadline).with_trace_id(Some(TRACE));
            handle_in(
                &event,
                &fixture.client,
                &fixture.settings,
                &fixture.credentials,
                at(),
                &fixture.keys,
                &context,
            )
            .await
        }
    };

    let start = Instant::now();
    let deadline = start + Duration::from_millis(800);
    let handled = run(url, deadline).await.unwrap();
    assert!(
        Instant::now() < deadline,
        "answered {:?} after the deadline",
        Instant::now() - deadline
    );
    assert!(matches!(handled, Handled::Written(w) if w.status == 500));
    let write = fixture.endpoint.only_write();
    assert_eq!(write.verified, Ok(()));
    assert_eq!(write.error_code(), Some("SourceFetchFailed"));
    assert_eq!(write.request.header("x-amzn-trace-id"), Some(TRACE));

    run(
        fixture.source.url("/sample.jpg"),
        Instant::now() + Duration::from_secs(20),
    )
    .await
    .unwrap();
    let fetch = fixture.source.received().pop().unwrap();
    assert_eq!(fetch.header("x-amzn-trace-id"), Some(TRACE));
    let write = fixture.endpoint.writes().pop().unwrap();
    assert_eq!((&write.verified, write.status()), (&Ok(()), Some(200)));
}
