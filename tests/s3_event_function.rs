//! The `s3-event` bootstrap, started as Lambda starts it under the Runtime API emulator
//! (`support/runtime_api.rs`), against s3s-fs (a real S3 server that verifies SigV4) behind a
//! logging proxy (`support/s3_proxy.rs`, which can also answer 503). Events are generated as S3
//! writes them (keys form-encoded), several records each, with hostile keys. Every destination
//! object is judged by exiftool and the `image` crate, its headers and metadata by S3's answers,
//! and what the function did (or did not do) by the proxy's log.
#![cfg(feature = "triggers")]

#[path = "support/exiftool.rs"]
mod exiftool;
#[path = "support/runtime_api.rs"]
mod runtime_api;
#[path = "support/s3_proxy.rs"]
mod s3_proxy;
#[path = "support/s3s.rs"]
mod s3s;

use aws_credential_types::Credentials;
use bytes::Bytes;
use edge_signer::s3::{
    Client, Config, ContentHeaders, Metadata, ObjectHead, ObjectRef, PutObject, RequestContext, Transport,
};
use edge_signer::triggers::{OUTPUT_MARKER, SOURCE_ETAG};
use runtime_api::{Outcome, OutcomeKind, RuntimeApi};
use s3_proxy::{Logged, Proxy};
use s3s::S3sFs;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::process::Child;
use std::time::{Duration, Instant};

const BOOTSTRAP: &str = env!("CARGO_BIN_EXE_s3-event");
const WAIT: Duration = Duration::from_secs(60);
const REGION: &str = "us-east-1";
/// s3s-fs does not check session tokens; the function must still never log it.
const SESSION_TOKEN: &str = "IQoJb3JpZ2luX2VjEXAMPLE//////////SESSIONTOKEN+s3event/test==";

const JPEG: &[u8] = include_bytes!("../samples/images/sample.jpg");
const PNG: &[u8] = include_bytes!("../samples/images/sample.png");
const WEBP: &[u8] = include_bytes!("../samples/images/sample.webp");

/// The hostile keys of the S3 notes: spaces, `+`, `%`, `( ) ! * '`, `: ; = , @ $ &`, `~`,
/// non-ASCII, `//`, `?` and `#`.
const HOSTILE_KEYS: [&str; 11] = [
    "plain.jpg",
    "red flower.jpg",
    "a+b.jpg",
    "c++/(1) copy.jpg",
    "ü/日本.jpg",
    "x:y;z=,@$&.jpg",
    "%41pct.jpg",
    "~tilde*!'.jpg",
    "a//b.jpg",
    "q?s#h.jpg",
    "100% (final).jpg",
];

// ---- S3, from the test's side (straight to s3s-fs, not through the proxy) ----

fn client(endpoint: &str) -> Client {
    let mut config = Config::new(REGION);
    config.endpoint = Some(endpoint.parse().unwrap());
    let credentials = Credentials::new(s3s::ACCESS_KEY, s3s::SECRET_KEY, None, None, "test");
    Client::new(Transport::new(), config, credentials)
}

fn context() -> RequestContext {
    RequestContext::new(Instant::now() + Duration::from_secs(20))
}

/// What the uploader set: a wrong content type (a stripped image gets its own), the other content
/// headers and user metadata (kept).
fn uploaded_content(content_type: &str) -> ContentHeaders {
    ContentHeaders {
        content_type: Some(content_type.into()),
        cache_control: Some("public, max-age=60".into()),
        content_disposition: Some("inline; filename=\"photo.jpg\"".into()),
        content_encoding: Some("identity".into()),
        content_language: Some("de-CH".into()),
        expires: Some("Wed, 21 Oct 2026 07:28:00 GMT".into()),
    }
}

fn user_metadata() -> Metadata {
    Metadata::from([
        ("album".into(), "holidays 2026".into()),
        ("owner-id".into(), "42".into()),
    ])
}

/// An uploaded object, as an event names it.
#[derive(Clone, Debug)]
struct Uploaded {
    bucket: String,
    key: String,
    body: Vec<u8>,
    content_type: String,
    /// Unquoted, as events have it.
    etag: String,
}

async fn upload(client: &Client, bucket: &str, key: &str, body: &[u8], content_type: &str) -> Uploaded {
    let put = PutObject {
        bucket,
        key,
        body: Bytes::copy_from_slice(body),
        content: uploaded_content(content_type),
        metadata: user_metadata(),
        condition: None,
    };
    let written = client
        .put_object(&put, &context())
        .await
        .unwrap_or_else(|e| panic!("PUT {bucket}/{key:?}: {e}"));
    Uploaded {
        bucket: bucket.into(),
        key: key.into(),
        body: body.to_vec(),
        content_type: content_type.into(),
        etag: written.etag.expect("an ETag").trim_matches('"').to_owned(),
    }
}

async fn get(client: &Client, bucket: &str, key: &str) -> Option<(ObjectHead, Bytes)> {
    match client
        .get_object(&ObjectRef::new(bucket, key), 64 << 20, &context())
        .await
    {
        Ok(object) => Some((object.head, object.body)),
        Err(e) if e.is_not_found() => None,
        Err(e) => panic!("GET {bucket}/{key:?}: {e}"),
    }
}

// ---- Events, as S3 writes them ----

/// Form-encodes `key` as S3 does in events: `A-Za-z0-9-_.~` kept, a space as `+`, every other
/// byte `%XX`; `/` kept, or `%2F` as some emitters send it.
fn form_encode(key: &str, encode_slash: bool) -> String {
    let mut out = String::new();
    for &b in key.as_bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(char::from(b)),
            b'/' if !encode_slash => out.push('/'),
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// One record shaped as in
/// <https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-content-structure.html>.
fn record(name: &str, bucket: &str, raw_key: &str, size: Option<usize>, etag: Option<&str>) -> Value {
    let mut object = json!({"key": raw_key, "sequencer": "0055AED6DCD90281E5"});
    if let Some(size) = size {
        object["size"] = json!(size);
    }
    if let Some(etag) = etag {
        object["eTag"] = json!(etag);
    }
    json!({
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "awsRegion": REGION,
        "eventTime": "2026-12-05T12:00:00.000Z",
        "eventName": name,
        "userIdentity": {"principalId": "AWS:AIDAEXAMPLE"},
        "requestParameters": {"sourceIPAddress": "127.0.0.1"},
        "responseElements": {"x-amz-request-id": "C3D13FE58DE4C810", "x-amz-id-2": "FMyUVURIY8/IgAtTv8xRjskZQpcIZ9KG4V5Wp6S7S/JRWeUWerMUE5JgHvANOjpD"},
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": "strip-on-upload",
            "bucket": {"name": bucket, "ownerIdentity": {"principalId": "A3NL1KOZZKExample"}, "arn": format!("arn:aws:s3:::{bucket}")},
            "object": object,
        }
    })
}

/// An `ObjectCreated:Put` record for `uploaded`.
fn created(uploaded: &Uploaded, encode_slash: bool) -> Value {
    record(
        "ObjectCreated:Put",
        &uploaded.bucket,
        &form_encode(&uploaded.key, encode_slash),
        Some(uploaded.body.len()),
        Some(&uploaded.etag),
    )
}

/// The event's JSON; where `aws_lambda_events` is built, it must read the same keys (a check that
/// the generated events have AWS's shape).
fn event(records: Vec<Value>) -> String {
    let event = json!({ "Records": records }).to_string();
    #[cfg(feature = "object-lambda")]
    {
        let parsed: aws_lambda_events::event::s3::S3Event = serde_json::from_str(&event).unwrap();
        let keys: Vec<_> = parsed.records.iter().map(|r| r.s3.object.key.clone()).collect();
        let ours: Vec<_> = records
            .iter()
            .map(|r| r["s3"]["object"]["key"].as_str().map(str::to_owned))
            .collect();
        assert_eq!(keys, ours);
    }
    event
}

// ---- The function ----

/// The bootstrap, with its emulator and the proxy it reaches S3 through; killed when dropped.
struct Function {
    api: RuntimeApi,
    child: Child,
    readers: Vec<std::thread::JoinHandle<Vec<u8>>>,
    _task_root: tempfile::TempDir,
}

impl Function {
    fn start(s3_endpoint: &str, env: &[(&str, &str)]) -> Self {
        let api = RuntimeApi::start().unwrap();
        let task_root = tempfile::tempdir().unwrap();
        let mut command = api.lambda_command(
            BOOTSTRAP,
            task_root.path(),
            (s3s::ACCESS_KEY, s3s::SECRET_KEY, SESSION_TOKEN),
        );
        command
            .env("AWS_LAMBDA_FUNCTION_NAME", "s3-event")
            .env("AWS_LAMBDA_LOG_FORMAT", "JSON")
            .env("AWS_REGION", REGION)
            .env("AWS_ENDPOINT_URL_S3", s3_endpoint);
        for (name, value) in env {
            command.env(name, value);
        }
        let (child, readers) = runtime_api::spawn_captured(&mut command);
        Self {
            api,
            child,
            readers,
            _task_root: task_root,
        }
    }

    fn invoke(&self, event: &str) -> Outcome {
        let (id, outcome) = self.api.invoke_and_wait(event.as_bytes().to_vec(), WAIT);
        outcome.unwrap_or_else(|| panic!("no outcome for {id} within {WAIT:?}"))
    }

    /// Kills the process and returns what it wrote to stdout and stderr.
    fn logs(mut self) -> (String, String) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let mut texts = std::mem::take(&mut self.readers)
            .into_iter()
            .map(|r| String::from_utf8_lossy(&r.join().unwrap()).into_owned());
        (texts.next().unwrap(), texts.next().unwrap())
    }
}

impl Drop for Function {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn assert_summary(outcome: &Outcome, expected: Value) {
    assert_eq!(
        outcome.kind,
        OutcomeKind::Response,
        "{:?}",
        outcome.error_message()
    );
    assert_eq!(outcome.json(), expected);
}

/// The `record` lines of the JSON log: key → the fields of each line about it.
fn record_lines(stdout: &str) -> BTreeMap<String, Vec<Value>> {
    let mut lines: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for line in stdout.lines().filter(|l| !l.trim().is_empty()) {
        let parsed: Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not a JSON log line ({e}): {line}"));
        if parsed["fields"]["message"] == "record" {
            let key = parsed["fields"]["key"].as_str().unwrap().to_owned();
            let mut fields = parsed["fields"].clone();
            fields["level"] = parsed["level"].clone();
            lines.entry(key).or_default().push(fields);
        }
    }
    lines
}

fn assert_no_secrets(logs: &str) {
    for secret in [
        s3s::SECRET_KEY,
        SESSION_TOKEN,
        "Signature=",
        "AWS4-HMAC-SHA256 Credential",
    ] {
        assert!(!logs.contains(secret), "{secret} was logged:\n{logs}");
    }
}

/// Every file under `dir`.
fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}

fn methods(log: &[Logged]) -> Vec<String> {
    log.iter().map(|l| format!("{} {}", l.method, l.path)).collect()
}

/// The destination holds `source` stripped and labelled `content_type` (or, when that is `None`,
/// copied as it was, with its own), with the source's other content headers, its user metadata and
/// the output marker.
async fn assert_output(
    client: &Client,
    source: &Uploaded,
    bucket: &str,
    key: &str,
    content_type: Option<&str>,
) {
    let what = format!("{bucket}/{key:?}");
    let (head, body) = get(client, bucket, key)
        .await
        .unwrap_or_else(|| panic!("{what}: not written"));
    match content_type {
        Some(content_type) => {
            let left = exiftool::identifying(&exiftool::read(&body));
            assert!(left.is_empty(), "{what}: identifying tags left: {left:?}");
            assert!(body.len() < source.body.len(), "{what}: nothing stripped");
            assert_eq!(
                image::load_from_memory(&body).unwrap().to_rgba8(),
                image::load_from_memory(&source.body).unwrap().to_rgba8(),
                "{what}: pixels differ"
            );
            assert_eq!(
                head.content,
                ContentHeaders {
                    content_type: Some(content_type.into()),
                    ..uploaded_content("")
                },
                "{what}"
            );
        }
        None => {
            assert_eq!(&body[..], &source.body[..], "{what}: not copied as it was");
            assert_eq!(head.content, uploaded_content(&source.content_type), "{what}");
        }
    }
    let mut expected = user_metadata();
    expected.insert(OUTPUT_MARKER.into(), "1".into());
    expected.insert(SOURCE_ETAG.into(), source.etag.clone());
    assert_eq!(head.metadata, expected, "{what}");
}

async fn assert_untouched(client: &Client, source: &Uploaded) {
    let (head, body) = get(client, &source.bucket, &source.key)
        .await
        .unwrap_or_else(|| panic!("{:?}: the original is gone", source.key));
    assert_eq!(
        &body[..],
        &source.body[..],
        "{:?}: the original changed",
        source.key
    );
    assert_eq!(head.metadata, user_metadata(), "{:?}", source.key);
    assert_eq!(
        head.etag.as_deref().map(|e| e.trim_matches('"')),
        Some(source.etag.as_str())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_record_of_every_event_ends_with_the_objects_it_should() {
    let Some(server) = S3sFs::start(&["uploads", "public"]) else {
        return;
    };
    let proxy = Proxy::start(&server.endpoint);
    let s3 = client(&server.endpoint);
    let function = Function::start(
        &proxy.endpoint,
        &[
            ("EDGE_SIGNER_SOURCE_PREFIX", "in/"),
            ("EDGE_SIGNER_DEST_BUCKET", "public"),
            ("EDGE_SIGNER_DEST_PREFIX", "stripped/"),
            ("EDGE_SIGNER_EXIF_SUFFIX", ".exif.json"),
            ("EDGE_SIGNER_MAX_OBJECT_BYTES", "1000000"),
        ],
    );

    // Event A: every hostile key, one record each, `/` as sent by S3 or as `%2F`.
    let mut jpegs = Vec::new();
    for key in HOSTILE_KEYS {
        jpegs.push(
            upload(
                &s3,
                "uploads",
                &format!("in/{key}"),
                JPEG,
                "application/octet-stream",
            )
            .await,
        );
    }
    let records_a: Vec<Value> = jpegs
        .iter()
        .enumerate()
        .map(|(i, u)| created(u, i % 2 == 1))
        .collect();
    // Event B: other formats, a non-image, a damaged image, a key deleted since its upload, an
    // object over the size limit, a delete, a key outside the source prefix.
    let png = upload(&s3, "uploads", "in/p/sample (1)+ü.png", PNG, "image/jpeg").await;
    let webp = upload(&s3, "uploads", "in/p/~w;e=b,p.webp", WEBP, "binary/octet-stream").await;
    let text = b"not an image: plain text, kept byte for byte\n";
    let text = upload(
        &s3,
        "uploads",
        "in/notes/read me (v2).txt",
        text,
        "text/plain; charset=utf-8",
    )
    .await;
    let damaged = upload(
        &s3,
        "uploads",
        "in/damaged 1.jpg",
        &JPEG[..JPEG.len() / 2],
        "image/jpeg",
    )
    .await;
    let deleted = Uploaded {
        key: "in/deleted since.jpg".into(),
        etag: "0123456789abcdef0123456789abcdef".into(),
        ..damaged.clone()
    };
    let big = Uploaded {
        key: "in/big.jpg".into(),
        body: vec![0; 1_000_001],
        ..damaged.clone()
    };
    let outside = upload(&s3, "uploads", "elsewhere/x.jpg", JPEG, "image/jpeg").await;
    let records_b = vec![
        created(&png, true),
        created(&webp, false),
        created(&text, false),
        created(&damaged, false),
        created(&deleted, false),
        created(&big, false),
        record("ObjectRemoved:Delete", "uploads", "in/gone.jpg", None, None),
        created(&outside, false),
    ];
    let (event_a, event_b) = (event(records_a), event(records_b));

    let outcome = function.invoke(&event_a);
    assert_summary(
        &outcome,
        json!({"records": 11, "written": 11, "skipped": 0, "failed": 0}),
    );
    let outcome = function.invoke(&event_b);
    // Written: PNG, WebP, text. Skipped: deleted, the delete, outside. Failed: damaged, big.
    assert_summary(
        &outcome,
        json!({"records": 8, "written": 3, "skipped": 3, "failed": 2}),
    );

    for jpeg in &jpegs {
        let dest = jpeg.key.replacen("in/", "stripped/", 1);
        assert_output(&s3, jpeg, "public", &dest, Some("image/jpeg")).await;
        assert_untouched(&s3, jpeg).await;
        let (head, report) = get(&s3, "public", &format!("{dest}.exif.json"))
            .await
            .unwrap_or_else(|| panic!("{dest:?}: no EXIF JSON"));
        assert_eq!(head.content.content_type.as_deref(), Some("application/json"));
        let report: Value = serde_json::from_slice(&report).unwrap();
        assert_eq!(report["image"]["Make"], "ExampleCam", "{dest:?}: {report}");
    }
    assert_output(
        &s3,
        &png,
        "public",
        "stripped/p/sample (1)+ü.png",
        Some("image/png"),
    )
    .await;
    assert_output(
        &s3,
        &webp,
        "public",
        "stripped/p/~w;e=b,p.webp",
        Some("image/webp"),
    )
    .await;
    assert_output(&s3, &text, "public", "stripped/notes/read me (v2).txt", None).await;
    for source in [&png, &webp, &text, &damaged, &outside] {
        assert_untouched(&s3, source).await;
    }
    for nothing in [
        "stripped/notes/read me (v2).txt.exif.json",
        "stripped/damaged 1.jpg",
        "stripped/damaged 1.jpg.exif.json",
        "stripped/deleted since.jpg",
        "stripped/big.jpg",
        "stripped/gone.jpg",
        "x.jpg",
        "elsewhere/x.jpg",
    ] {
        assert!(
            get(&s3, "public", nothing).await.is_none(),
            "{nothing:?} was written"
        );
    }
    let first_log = proxy.log();
    let untouched = ["big.jpg", "gone.jpg", "elsewhere"];
    for request in &first_log {
        assert!(
            !untouched.iter().any(|k| request.path.contains(k)),
            "a request for a skipped record: {request:?}"
        );
        assert_eq!(
            request.trace_id.as_deref(),
            Some(runtime_api::TRACE_ID),
            "{request:?}"
        );
    }

    // Duplicate deliveries of both events: one HEAD per record processed, no GET, nothing written
    // (the server's files keep their modification times).
    let public = server.dir.path().join("public");
    let mtimes = || {
        let mut files = BTreeMap::new();
        for entry in walk(&public) {
            let modified = std::fs::metadata(&entry).unwrap().modified().unwrap();
            files.insert(entry, modified);
        }
        files
    };
    let before = mtimes();
    assert!(before.len() >= 2 * jpegs.len() + 3, "{before:#?}");
    proxy.clear_log();
    let outcome = function.invoke(&event_a);
    assert_summary(
        &outcome,
        json!({"records": 11, "written": 0, "skipped": 11, "failed": 0}),
    );
    let again = proxy.log();
    assert!(again.iter().all(|l| l.method == "HEAD"), "{:#?}", methods(&again));
    assert_eq!(again.len(), 11, "{:#?}", methods(&again));
    proxy.clear_log();
    assert_eq!(mtimes(), before, "an object was written again");
    let outcome = function.invoke(&event_b);
    // The damaged image is read and refused again (nothing was written for it to be found).
    assert_summary(
        &outcome,
        json!({"records": 8, "written": 0, "skipped": 6, "failed": 2}),
    );
    let again = proxy.log();
    assert!(again.iter().all(|l| l.method != "PUT"), "{:#?}", methods(&again));
    assert!(
        again
            .iter()
            .filter(|l| l.method == "GET")
            .all(|l| l.path.contains("damaged") || l.path.contains("deleted")),
        "{:#?}",
        methods(&again)
    );

    assert_eq!(mtimes(), before, "an object was written again");

    // Events for the function's own outputs (in the destination bucket, under its prefix): skipped
    // without a request.
    proxy.clear_log();
    let (head, _) = get(&s3, "public", "stripped/red flower.jpg").await.unwrap();
    let output = Uploaded {
        bucket: "public".into(),
        key: "stripped/red flower.jpg".into(),
        body: vec![0; 10],
        content_type: "image/jpeg".into(),
        etag: head.etag.unwrap().trim_matches('"').to_owned(),
    };
    let report = Uploaded {
        key: "stripped/red flower.jpg.exif.json".into(),
        ..output.clone()
    };
    let outcome = function.invoke(&event(vec![created(&output, false), created(&report, true)]));
    assert_summary(
        &outcome,
        json!({"records": 2, "written": 0, "skipped": 2, "failed": 0}),
    );
    assert!(proxy.log().is_empty(), "{:#?}", proxy.log());

    // Not S3 events: a malformed one fails; S3's test event is ignored.
    let malformed = function.invoke(r#"{"Records": [{"eventVersion": "3.0"}]}"#);
    assert_eq!(malformed.kind, OutcomeKind::Error);
    assert_eq!(malformed.json()["errorType"], "MalformedEvent");
    assert!(
        malformed
            .error_message()
            .unwrap()
            .contains("Records[0].eventVersion")
    );
    let test_event = function.invoke(
        r#"{"Service":"Amazon S3","Event":"s3:TestEvent","Time":"2026-12-05T12:00:00.000Z","Bucket":"uploads"}"#,
    );
    assert_summary(
        &test_event,
        json!({"records": 0, "written": 0, "skipped": 0, "failed": 0}),
    );
    assert!(
        function.api.violations().is_empty(),
        "{:?}",
        function.api.violations()
    );

    // One log line per record and invocation, with the decoded key, the outcome, the bytes and the
    // duration.
    let (stdout, stderr) = function.logs();
    assert_no_secrets(&stdout);
    assert_no_secrets(&stderr);
    let lines = record_lines(&stdout);
    for jpeg in &jpegs {
        let seen = &lines[&jpeg.key];
        assert_eq!(seen.len(), 2, "{:?}: {seen:#?}", jpeg.key);
        assert_eq!(
            seen[0]["outcome"], "stripped (JPEG), EXIF JSON written",
            "{seen:#?}"
        );
        assert_eq!(seen[0]["bytes_in"], JPEG.len(), "{seen:#?}");
        assert!(seen[0]["bytes_out"].as_u64().unwrap() > 0, "{seen:#?}");
        assert!(seen[0]["micros"].as_u64().is_some(), "{seen:#?}");
        assert_eq!(seen[0]["bucket"], "uploads");
        assert!(
            seen[1]["outcome"].as_str().unwrap().starts_with("already done"),
            "{seen:#?}"
        );
    }
    let outcome_of = |key: &str| {
        let seen = lines
            .get(key)
            .unwrap_or_else(|| panic!("no line for {key:?}: {lines:#?}"));
        assert_eq!(seen.len(), 2, "{key:?}: {seen:#?}");
        (
            seen[0]["level"].as_str().unwrap().to_owned(),
            seen[0]["outcome"].as_str().unwrap().to_owned(),
        )
    };
    let (level, said) = outcome_of("in/damaged 1.jpg");
    assert!(
        level == "WARN" && said.starts_with("refused, nothing written"),
        "{level} {said}"
    );
    let (level, said) = outcome_of("in/big.jpg");
    assert_eq!(
        (level.as_str(), said.as_str()),
        ("WARN", "too large: over 1000000 bytes")
    );
    let (_, said) = outcome_of("in/deleted since.jpg");
    assert!(said.starts_with("missing"), "{said}");
    let (_, said) = outcome_of("in/gone.jpg");
    assert!(
        said.contains("ObjectRemoved:Delete is not an ObjectCreated event"),
        "{said}"
    );
    let (_, said) = outcome_of("elsewhere/x.jpg");
    assert!(said.contains("outside the source prefix"), "{said}");
    let (_, said) = outcome_of("in/notes/read me (v2).txt");
    assert_eq!(said, "not an image: copied unchanged");
    let own = &lines["stripped/red flower.jpg"];
    assert!(
        own[0]["outcome"]
            .as_str()
            .unwrap()
            .contains("a destination of this function")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_place_the_functions_own_write_coming_back_ends_there() {
    let Some(server) = S3sFs::start(&["photos"]) else {
        return;
    };
    let proxy = Proxy::start(&server.endpoint);
    let s3 = client(&server.endpoint);
    let function = Function::start(&proxy.endpoint, &[]);

    let jpeg = upload(&s3, "photos", "in place/ü+1 (copy).jpg", JPEG, "image/jpeg").await;
    let png = upload(&s3, "photos", "in place/a//b=c.png", PNG, "image/png").await;
    let outcome = function.invoke(&event(vec![created(&jpeg, false), created(&png, true)]));
    assert_summary(
        &outcome,
        json!({"records": 2, "written": 2, "skipped": 0, "failed": 0}),
    );
    assert_output(&s3, &jpeg, "photos", &jpeg.key, Some("image/jpeg")).await;
    assert_output(&s3, &png, "photos", &png.key, Some("image/png")).await;

    // The writes come back as events, with the outputs' ETags: recognised by their marker at the
    // HEAD, and nothing else is asked or written.
    let mut echoes = Vec::new();
    for source in [&jpeg, &png] {
        let (head, body) = get(&s3, "photos", &source.key).await.unwrap();
        echoes.push(Uploaded {
            body: body.to_vec(),
            etag: head.etag.unwrap().trim_matches('"').to_owned(),
            ..source.clone()
        });
    }
    proxy.clear_log();
    let outcome = function.invoke(&event(echoes.iter().map(|e| created(e, false)).collect()));
    assert_summary(
        &outcome,
        json!({"records": 2, "written": 0, "skipped": 2, "failed": 0}),
    );
    let log = proxy.log();
    assert_eq!(
        log.iter().map(|l| l.method.as_str()).collect::<Vec<_>>(),
        ["HEAD", "HEAD"],
        "{log:#?}"
    );
    for echo in &echoes {
        let (head, _) = get(&s3, "photos", &echo.key).await.unwrap();
        assert_eq!(
            head.etag.as_deref().map(|e| e.trim_matches('"')),
            Some(echo.etag.as_str()),
            "{:?} was written again",
            echo.key
        );
    }
    let (stdout, _) = function.logs();
    let lines = record_lines(&stdout);
    for key in [&jpeg.key, &png.key] {
        let outcomes: Vec<_> = lines[key]
            .iter()
            .map(|l| l["outcome"].as_str().unwrap())
            .collect();
        assert_eq!(outcomes.len(), 2, "{key:?}: {outcomes:?}");
        assert!(outcomes[0].starts_with("stripped"), "{outcomes:?}");
        assert!(outcomes[1].contains("own output"), "{outcomes:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_503_fails_the_invocation_naming_the_key_and_the_retry_finishes_it() {
    let Some(server) = S3sFs::start(&["photos"]) else {
        return;
    };
    let proxy = Proxy::start(&server.endpoint);
    let s3 = client(&server.endpoint);
    let function = Function::start(&proxy.endpoint, &[("EDGE_SIGNER_DEST_PREFIX", "out/")]);

    let first = upload(&s3, "photos", "ok 1.jpg", JPEG, "image/jpeg").await;
    let flaky = upload(&s3, "photos", "slow down/5+03.jpg", JPEG, "image/jpeg").await;
    let last = upload(&s3, "photos", "ok 2.txt", b"text", "text/plain").await;
    let event = event(vec![
        created(&first, false),
        created(&flaky, false),
        created(&last, false),
    ]);
    // S3 is slow for the flaky source only (its GET; the destination's HEAD goes through).
    proxy.fail("/photos/slow%20down/5%2B03.jpg");

    let outcome = function.invoke(&event);
    assert_eq!(outcome.kind, OutcomeKind::Error);
    assert_eq!(outcome.json()["errorType"], "RecordsFailed");
    let message = outcome.error_message().unwrap();
    assert!(message.starts_with("1 of 3 records failed"), "{message}");
    assert!(
        message.contains(r#"photos/"slow down/5+03.jpg": transient failure"#),
        "{message}"
    );
    assert!(message.contains("SlowDown"), "{message}");
    assert!(!message.contains("ok "), "{message}");
    // The other records were done all the same.
    assert_output(&s3, &first, "photos", "out/ok 1.jpg", Some("image/jpeg")).await;
    assert_output(&s3, &last, "photos", "out/ok 2.txt", None).await;
    assert!(get(&s3, "photos", "out/slow down/5+03.jpg").await.is_none());
    assert!(proxy.log().iter().any(|l| l.status == 503), "{:#?}", proxy.log());

    // Lambda's retry of the same event: only the failed record is done; the others cost a HEAD.
    proxy.heal();
    proxy.clear_log();
    let outcome = function.invoke(&event);
    assert_summary(
        &outcome,
        json!({"records": 3, "written": 1, "skipped": 2, "failed": 0}),
    );
    assert_output(
        &s3,
        &flaky,
        "photos",
        "out/slow down/5+03.jpg",
        Some("image/jpeg"),
    )
    .await;
    let log = proxy.log();
    let writes: Vec<_> = log
        .iter()
        .filter(|l| l.method != "HEAD")
        .map(|l| l.path.as_str())
        .collect();
    assert_eq!(
        writes,
        [
            "/photos/slow%20down/5%2B03.jpg",
            "/photos/out/slow%20down/5%2B03.jpg"
        ],
        "{log:#?}"
    );
    let (stdout, _) = function.logs();
    let lines = record_lines(&stdout);
    let flaky_lines = &lines["slow down/5+03.jpg"];
    assert_eq!(flaky_lines[0]["level"], "ERROR", "{flaky_lines:#?}");
    assert_eq!(flaky_lines[1]["level"], "INFO", "{flaky_lines:#?}");
}

/// A bad setting fails the start, posted to `/runtime/init/error` naming the variable; no event is
/// ever asked for.
#[test]
fn a_bad_setting_fails_the_start_naming_the_variable() {
    let cases = [
        ("EDGE_SIGNER_MAX_OBJECT_BYTES", "10MB"),
        ("EDGE_SIGNER_EXIF_SUFFIX", ""),
        ("EDGE_SIGNER_DEST_BUCKET", "a/b"),
        ("AWS_REGION", ""),
        ("AWS_ENDPOINT_URL_S3", "ftp://nowhere"),
    ];
    for (variable, value) in cases {
        let mut function = Function::start("http://127.0.0.1:9", &[(variable, value)]);
        let errors = function.api.wait_init_errors(WAIT);
        assert_eq!(errors.len(), 1, "{variable}={value:?}");
        assert_eq!(errors[0].json()["errorType"], "InvalidSettings", "{variable}");
        let message = errors[0].error_message().unwrap();
        assert!(message.contains(variable), "{variable}: {message}");
        let status = function.child.wait().unwrap();
        assert!(!status.success(), "{variable}");
        assert_eq!(function.api.next_polls(), 0, "{variable}");
    }

    // Without credentials, too.
    let api = RuntimeApi::start().unwrap();
    let task_root = tempfile::tempdir().unwrap();
    let mut command = api.lambda_command(BOOTSTRAP, task_root.path(), ("", "", ""));
    command.env("AWS_REGION", REGION);
    let (mut child, _readers) = runtime_api::spawn_captured(&mut command);
    let errors = api.wait_init_errors(WAIT);
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].json()["errorType"], "MissingCredentials");
    assert!(errors[0].error_message().unwrap().contains("AWS_ACCESS_KEY_ID"));
    assert!(!child.wait().unwrap().success());
}
