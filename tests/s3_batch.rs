//! The `s3-batch` bootstrap as a black box: the real binary, started the way Lambda starts it,
//! answering S3 Batch Operations events (schemas 1.0 and 2.0, built from a manifest of hostile
//! keys, URL-encoded as a manifest holds them) through the Runtime API emulator, against s3s-fs
//! (a real S3 server that verifies SigV4). Every response field is checked, and every destination
//! object with exiftool and the `image` crate; `aws_lambda_events` reads the same 1.0 events and
//! our responses. A scripted server gives what s3s-fs will not: a 503, and no answer at all.

#[path = "support/counting_proxy.rs"]
mod counting_proxy;
#[path = "support/exiftool.rs"]
mod exiftool;
#[path = "support/runtime_api.rs"]
mod runtime_api;
#[path = "support/s3s.rs"]
mod s3s;

use aws_credential_types::Credentials;
use bytes::Bytes;
use edge_signer::s3::{
    Client, Config, ContentHeaders, Metadata, ObjectHead, ObjectRef, PutObject, RequestContext, Transport,
};
use edge_signer::triggers::{OUTPUT_MARKER, SOURCE_ETAG};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use runtime_api::{OutcomeKind, RuntimeApi};
use s3s::S3sFs;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::process::Child;
use std::time::{Duration, Instant};

const BOOTSTRAP: &str = env!("CARGO_BIN_EXE_s3-batch");
const WAIT: Duration = Duration::from_secs(30);
const SOURCE: &str = "photos";
const DEST: &str = "clean";
const SESSION_TOKEN: &str = "IQoJb3JpZ2luX2VjEXAMPLE//batch/test==";
const SAMPLE: &[u8] = include_bytes!("../samples/images/sample.jpg");
const SAMPLE_PNG: &[u8] = include_bytes!("../samples/images/sample.png");
const SAMPLE_WEBP: &[u8] = include_bytes!("../samples/images/sample.webp");
const TEXT: &[u8] = b"not an image: plain text, kept byte for byte\n";

/// The manifest's objects: hostile keys under the source prefix `in/`.
const HOSTILE: [&str; 11] = [
    "in/plain.jpg",
    "in/red flower.jpg",
    "in/a+b.jpg",
    "in/%41pct.jpg",
    "in/c++/(1) copy!*'.jpg",
    "in/x:y;z=,@$&.jpg",
    "in/~tilde.jpg",
    "in/ü/日本.jpg",
    "in/a//b.jpg",
    "in/q?s#h.jpg",
    "in/sp  ace/ +%2B.jpg",
];

// ---- The manifest and the events built from it ----

/// What a manifest's key field holds: URL-encoded, form style (a space is `+`), as S3 Inventory
/// writes it. `slash`: whether `/` is encoded too (both are seen).
fn manifest_key(key: &str, slash: bool) -> String {
    const KEEP: &AsciiSet = &NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'_')
        .remove(b'.')
        .remove(b'~')
        .remove(b' ');
    const KEEP_SLASH: &AsciiSet = &KEEP.remove(b'/');
    let set = if slash { KEEP } else { KEEP_SLASH };
    utf8_percent_encode(key, set).to_string().replace(' ', "+")
}

/// Seed 002's JSON-in-key task, URL-encoded.
fn json_key(value: Value) -> String {
    manifest_key(&value.to_string(), true)
}

/// One task of schema `version`: (task id, key as in the manifest, version id).
fn task(version: &str, id: &str, key: &str, version_id: Option<&str>) -> Value {
    match version {
        "1.0" => json!({"taskId": id, "s3Key": key, "s3VersionId": version_id,
                        "s3BucketArn": format!("arn:aws:s3:::{SOURCE}")}),
        _ => json!({"taskId": id, "s3Key": key, "s3VersionId": version_id, "s3Bucket": SOURCE}),
    }
}

fn batch_event(version: &str, user_arguments: Option<Value>, tasks: Vec<Value>) -> Value {
    let mut job = json!({"id": "f3cc4f60-61f6-4a2b-8a21-d07600c373ce"});
    if let Some(arguments) = user_arguments {
        job["userArguments"] = arguments;
    }
    json!({
        "invocationSchemaVersion": version,
        "invocationId": format!("YXNkbGZqYWRmaiBhc2RmdW9hZHNmZGpmaGFzbGtkaGZza2RmaAo-{version}"),
        "job": job,
        "tasks": tasks,
    })
}

/// Checks the response's shape and echoes, and each task's code and that its string holds the
/// expected text; returns the result strings.
fn check(response: &Value, event: &Value, expected: &[(&str, &str)]) -> Vec<String> {
    let object = response.as_object().expect("an object");
    let names: Vec<&str> = object.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "invocationSchemaVersion",
            "treatMissingKeysAs",
            "invocationId",
            "results"
        ]
    );
    assert_eq!(
        response["invocationSchemaVersion"],
        event["invocationSchemaVersion"]
    );
    assert_eq!(response["invocationId"], event["invocationId"]);
    assert_eq!(response["treatMissingKeysAs"], "PermanentFailure");
    let tasks = event["tasks"].as_array().unwrap();
    let results = response["results"].as_array().unwrap();
    assert_eq!(results.len(), tasks.len(), "one result per task: {response:#}");
    assert_eq!(results.len(), expected.len());
    let mut strings = Vec::new();
    for ((result, task), (code, text)) in results.iter().zip(tasks).zip(expected) {
        let names: Vec<&str> = result.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(names, ["taskId", "resultCode", "resultString"]);
        assert_eq!(result["taskId"], task["taskId"]);
        let string = result["resultString"].as_str().unwrap();
        assert_eq!(result["resultCode"], *code, "{}: {string}", task["s3Key"]);
        assert!(
            string.contains(text),
            "{}: {string:?} lacks {text:?}",
            task["s3Key"]
        );
        assert!(string.chars().count() <= 512);
        strings.push(string.to_owned());
    }
    // The same body, read by aws_lambda_events' response type.
    let oracle: aws_lambda_events::event::s3::batch_job::S3BatchJobResponse =
        serde_json::from_value(response.clone()).unwrap();
    assert_eq!(oracle.results.len(), tasks.len());
    assert_eq!(oracle.treat_missing_keys_as.as_deref(), Some("PermanentFailure"));
    strings
}

// ---- S3, through the crate's client (the server checks every signature) ----

struct S3 {
    runtime: tokio::runtime::Runtime,
    client: Client,
}

impl S3 {
    fn new(endpoint: &str) -> Self {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let client = runtime.block_on(async {
            let mut config = Config::new("us-east-1");
            config.endpoint = Some(endpoint.parse().unwrap());
            let credentials = Credentials::new(s3s::ACCESS_KEY, s3s::SECRET_KEY, None, None, "test");
            Client::new(Transport::new(), config, credentials)
        });
        Self { runtime, client }
    }

    fn context() -> RequestContext {
        RequestContext::new(Instant::now() + Duration::from_secs(20))
    }

    fn put(&self, bucket: &str, key: &str, body: &[u8], content_type: &str) -> String {
        let put = PutObject {
            bucket,
            key,
            body: Bytes::copy_from_slice(body),
            content: ContentHeaders {
                content_type: Some(content_type.into()),
                cache_control: Some("public, max-age=60".into()),
                ..ContentHeaders::default()
            },
            metadata: Metadata::from([("album".into(), "holidays 2026".into())]),
            condition: None,
        };
        let written = self
            .runtime
            .block_on(self.client.put_object(&put, &Self::context()))
            .unwrap_or_else(|e| panic!("PUT {key:?}: {e}"));
        written.etag.unwrap().trim_matches('"').to_owned()
    }

    fn get(&self, bucket: &str, key: &str) -> Option<(ObjectHead, Bytes)> {
        let object = ObjectRef::new(bucket, key);
        match self
            .runtime
            .block_on(self.client.get_object(&object, 64 << 20, &Self::context()))
        {
            Ok(object) => Some((object.head, object.body)),
            Err(e) if e.is_not_found() => None,
            Err(e) => panic!("GET {key:?}: {e}"),
        }
    }
}

/// Uploads the manifest's objects and a few others; returns each source key's ETag.
fn upload_all(s3: &S3) -> BTreeMap<String, String> {
    let mut etags = BTreeMap::new();
    let mut put = |key: &str, body: &[u8], content_type: &str| {
        etags.insert(key.to_owned(), s3.put(SOURCE, key, body, content_type));
    };
    for key in HOSTILE {
        put(key, SAMPLE, "application/octet-stream");
    }
    put("in/p.png", SAMPLE_PNG, "image/png");
    put("in/w.webp", SAMPLE_WEBP, "image/webp");
    put("in/notes/read me.txt", TEXT, "text/plain");
    put("in/damaged.jpg", &SAMPLE[..SAMPLE.len() / 2], "image/jpeg");
    put("elsewhere/x.jpg", SAMPLE, "image/jpeg");
    // Each task its own destination: tasks of one invocation run at the same time.
    put("in/partition.jpg", SAMPLE, "image/jpeg");
    put("in/in place+1.jpg", SAMPLE, "image/jpeg");
    etags
}

/// Checks a stripped output: no identifying tag left (exiftool), the same pixels, its own content
/// type, the uploader's headers and metadata kept, the output marker with the source's ETag.
fn check_stripped(s3: &S3, bucket: &str, key: &str, original: &[u8], source_etag: &str) {
    let (head, body) = s3
        .get(bucket, key)
        .unwrap_or_else(|| panic!("{bucket}/{key} was not written"));
    let left = exiftool::identifying(&exiftool::read(&body));
    assert!(left.is_empty(), "{key:?}: identifying tags left: {left:?}");
    assert_eq!(
        image::load_from_memory(&body).unwrap().to_rgba8(),
        image::load_from_memory(original).unwrap().to_rgba8(),
        "{key:?}: pixels differ"
    );
    assert!(body.len() < original.len(), "{key:?}");
    let format = image::guess_format(original).unwrap();
    assert_eq!(
        head.content.content_type.as_deref(),
        Some(format.to_mime_type()),
        "{key:?}"
    );
    assert_eq!(head.content.cache_control.as_deref(), Some("public, max-age=60"));
    assert_eq!(
        head.metadata.get("album").map(String::as_str),
        Some("holidays 2026")
    );
    assert_eq!(head.metadata.get(OUTPUT_MARKER).map(String::as_str), Some("1"));
    assert_eq!(
        head.metadata.get(SOURCE_ETAG).map(String::as_str),
        Some(source_etag)
    );
}

// ---- The bootstrap ----

/// A started `s3-batch` under its own emulator; killed when dropped.
struct Function {
    api: RuntimeApi,
    child: Child,
    readers: Vec<std::thread::JoinHandle<Vec<u8>>>,
    _root: tempfile::TempDir,
}

impl Function {
    fn start(endpoint: &str, env: &[(&str, &str)]) -> Self {
        let api = RuntimeApi::start().unwrap();
        let root = tempfile::tempdir().unwrap();
        let mut command = api.lambda_command(
            BOOTSTRAP,
            root.path(),
            (s3s::ACCESS_KEY, s3s::SECRET_KEY, SESSION_TOKEN),
        );
        command
            .env("AWS_LAMBDA_FUNCTION_NAME", "s3-batch")
            .env("AWS_REGION", "us-east-1")
            .env("AWS_ENDPOINT_URL_S3", endpoint);
        for (name, value) in env {
            command.env(name, value);
        }
        let (child, readers) = runtime_api::spawn_captured(&mut command);
        Self {
            api,
            child,
            readers,
            _root: root,
        }
    }

    /// Invokes with `event` and returns the response, with how long the answer took.
    fn invoke(&self, event: &Value) -> (Value, Duration) {
        let id = self.api.invoke(serde_json::to_vec(event).unwrap());
        let outcome = self
            .api
            .wait_outcome(&id, WAIT)
            .unwrap_or_else(|| panic!("no answer within {WAIT:?}"));
        assert_eq!(
            outcome.kind,
            OutcomeKind::Response,
            "{:?}",
            outcome.error_message()
        );
        let took = outcome.at - self.api.delivered_at(&id).unwrap();
        (outcome.json(), took)
    }

    /// Stops the process and returns what it wrote.
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

impl Drop for Function {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The environment of the deployed function: `in/` of the source into `out/` of `clean`.
const ENV: [(&str, &str); 3] = [
    ("EDGE_SIGNER_SOURCE_PREFIX", "in/"),
    ("EDGE_SIGNER_DEST_BUCKET", DEST),
    ("EDGE_SIGNER_DEST_PREFIX", "out/"),
];

/// Where `key` (under `in/`) goes under `prefix`.
fn under(prefix: &str, key: &str) -> String {
    format!("{prefix}{}", key.strip_prefix("in/").unwrap())
}

#[test]
fn schema_1_0_strips_every_hostile_key_into_the_destination_and_again_does_nothing() {
    let Some(server) = S3sFs::start(&[SOURCE, DEST]) else {
        return;
    };
    let s3 = S3::new(&server.endpoint);
    let etags = upload_all(&s3);
    let function = Function::start(&server.endpoint, &ENV);

    let mut tasks = Vec::new();
    let mut expected = Vec::new();
    for (i, key) in HOSTILE.iter().enumerate() {
        // Versioned and not: s3s-fs has no versions and serves the object, but the version id
        // must reach it signed.
        let version =
            (i % 2 == 0).then_some("3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY+MTRCxf3vjVBH40Nr8X8gdRQBpUMLUo");
        tasks.push(task("1.0", &format!("t{i}"), &manifest_key(key, false), version));
        expected.push(("Succeeded", "stripped (JPEG)"));
    }
    let others: [(&str, String, &str, &str); 8] = [
        (
            "png",
            manifest_key("in/p.png", false),
            "Succeeded",
            "stripped (PNG)",
        ),
        (
            "webp",
            manifest_key("in/w.webp", true),
            "Succeeded",
            "stripped (WebP)",
        ),
        (
            "text",
            manifest_key("in/notes/read me.txt", false),
            "Succeeded",
            "not an image: copied",
        ),
        (
            "damaged",
            manifest_key("in/damaged.jpg", false),
            "PermanentFailure",
            "JPEG",
        ),
        (
            "missing",
            manifest_key("in/never uploaded.jpg", false),
            "PermanentFailure",
            "no such key",
        ),
        (
            "outside",
            manifest_key("elsewhere/x.jpg", false),
            "PermanentFailure",
            "outside the source prefix",
        ),
        (
            "renamed",
            json_key(json!({"origKey": "in/red flower.jpg", "newKey": "renamed/ü b+%.jpg"})),
            "Succeeded",
            "stripped (JPEG)",
        ),
        (
            "half-json",
            json_key(json!({"origKey": "in/plain.jpg"})),
            "PermanentFailure",
            "origKey and newKey",
        ),
    ];
    for (id, key, code, text) in &others {
        tasks.push(task("1.0", id, key, None));
        expected.push((code, text));
    }
    // Another partition's ARN, and the documentation's odd form, name the same bucket.
    let mut cn = task("1.0", "cn", &manifest_key("in/partition.jpg", false), None);
    cn["s3BucketArn"] = json!(format!("arn:aws-cn:s3:cn-north-1:0123456788:{SOURCE}"));
    tasks.push(cn);
    expected.push(("Succeeded", "stripped (JPEG)"));
    let event = batch_event("1.0", None, tasks);

    // aws_lambda_events reads the same event alike.
    let oracle: aws_lambda_events::event::s3::batch_job::S3BatchJobEvent =
        serde_json::from_value(event.clone()).unwrap();
    let ours = edge_signer::triggers::batch::parse_batch_event(event.to_string().as_bytes()).unwrap();
    for (theirs, ours) in oracle.tasks.iter().zip(&ours.tasks) {
        let task = ours.to_task().unwrap();
        assert_eq!(theirs.task_id.as_deref(), Some(task.task_id.as_str()));
        assert_eq!(theirs.s3_key.as_deref(), Some(task.key.as_str()));
        assert_eq!(theirs.s3_version_id, task.version_id);
        assert!(
            theirs
                .s3_bucket_arn
                .as_deref()
                .unwrap()
                .ends_with(&format!(":{}", task.bucket))
        );
    }

    let (response, _) = function.invoke(&event);
    check(&response, &event, &expected);

    for key in HOSTILE {
        check_stripped(&s3, DEST, &under("out/", key), SAMPLE, &etags[key]);
        let (_, original) = s3.get(SOURCE, key).unwrap();
        assert_eq!(&original[..], SAMPLE, "{key:?}: the source changed");
    }
    check_stripped(&s3, DEST, "out/p.png", SAMPLE_PNG, &etags["in/p.png"]);
    check_stripped(&s3, DEST, "out/w.webp", SAMPLE_WEBP, &etags["in/w.webp"]);
    check_stripped(
        &s3,
        DEST,
        "renamed/ü b+%.jpg",
        SAMPLE,
        &etags["in/red flower.jpg"],
    );
    check_stripped(&s3, DEST, "out/partition.jpg", SAMPLE, &etags["in/partition.jpg"]);
    let (head, body) = s3.get(DEST, "out/notes/read me.txt").unwrap();
    assert_eq!(
        (&body[..], head.content.content_type.as_deref()),
        (TEXT, Some("text/plain"))
    );
    for absent in ["out/damaged.jpg", "out/never uploaded.jpg", "x.jpg", "out/x.jpg"] {
        assert!(s3.get(DEST, absent).is_none(), "{absent} was written");
    }

    // The same job again (a redrive, or a second run): nothing is written.
    let before: Vec<_> = HOSTILE
        .iter()
        .map(|key| s3.get(DEST, &under("out/", key)).unwrap().0.etag)
        .collect();
    let again: Vec<(&str, &str)> = expected
        .iter()
        .map(|&(code, text)| match code {
            "Succeeded" => ("Succeeded", "already done"),
            _ => (code, text),
        })
        .collect();
    let (response, _) = function.invoke(&event);
    check(&response, &event, &again);
    let after: Vec<_> = HOSTILE
        .iter()
        .map(|key| s3.get(DEST, &under("out/", key)).unwrap().0.etag)
        .collect();
    assert_eq!(before, after);

    // One log line per task, and no secret.
    let logs = function.logs();
    let lines = logs
        .lines()
        .filter(|l| l.contains("task done") || l.contains("task failed"));
    assert_eq!(lines.count(), 2 * expected.len(), "{logs}");
    assert!(
        !logs.contains(s3s::SECRET_KEY) && !logs.contains(SESSION_TOKEN),
        "{logs}"
    );
}

#[test]
fn schema_2_0_user_arguments_override_the_environment_and_bad_ones_fail_every_task() {
    let Some(server) = S3sFs::start(&[SOURCE, DEST]) else {
        return;
    };
    let s3 = S3::new(&server.endpoint);
    let etags = upload_all(&s3);
    let function = Function::start(&server.endpoint, &ENV);

    let arguments = json!({"destPrefix": "v2/", "exifSuffix": ".exif.json", "destBucket": SOURCE});
    let mut tasks = Vec::new();
    let mut expected = Vec::new();
    for (i, key) in HOSTILE.iter().enumerate() {
        let version = (i % 3 == 0).then_some("null");
        tasks.push(task("2.0", &format!("t{i}"), &manifest_key(key, true), version));
        expected.push(("Succeeded", "EXIF JSON written"));
    }
    tasks.push(task(
        "2.0",
        "json",
        &json_key(json!({"origKey": "in/in place+1.jpg", "newKey": "in/in place+1.jpg"})),
        None,
    ));
    expected.push(("Succeeded", "stripped (JPEG)"));
    let event = batch_event("2.0", Some(arguments), tasks);
    let (response, _) = function.invoke(&event);
    check(&response, &event, &expected);
    for key in HOSTILE {
        let out = under("v2/", key);
        check_stripped(&s3, SOURCE, &out, SAMPLE, &etags[key]);
        let (head, report) = s3.get(SOURCE, &format!("{out}.exif.json")).unwrap();
        assert_eq!(head.content.content_type.as_deref(), Some("application/json"));
        let report: Value = serde_json::from_slice(&report).unwrap();
        assert_eq!(report["image"]["Make"], "ExampleCam", "{key:?}");
        assert!(
            s3.get(DEST, &under("out/", key)).is_none(),
            "the environment's destination was used"
        );
    }
    // origKey into itself: stripped in place (with its EXIF JSON beside it).
    check_stripped(
        &s3,
        SOURCE,
        "in/in place+1.jpg",
        SAMPLE,
        &etags["in/in place+1.jpg"],
    );
    assert!(s3.get(SOURCE, "in/in place+1.jpg.exif.json").is_some());

    for (arguments, named) in [
        (json!({"mode": "dry-run"}), "\"mode\""),
        (json!({"destPrefix": "x/", "colour": "blue"}), "\"colour\""),
        (json!({"destBucket": ""}), "\"destBucket\""),
    ] {
        let tasks = vec![
            task("2.0", "a", &manifest_key("in/plain.jpg", true), None),
            task("2.0", "b", "missing.jpg", None),
        ];
        let event = batch_event("2.0", Some(arguments), tasks);
        let (response, _) = function.invoke(&event);
        let strings = check(
            &response,
            &event,
            &[("PermanentFailure", named), ("PermanentFailure", named)],
        );
        assert!(strings[0].starts_with("user argument"), "{strings:?}");
    }
}

/// Every file under `dir`, with its bytes.
fn snapshot(dir: &std::path::Path) -> BTreeMap<std::path::PathBuf, Vec<u8>> {
    let mut files = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                files.insert(path.clone(), std::fs::read(&path).unwrap());
            }
        }
    }
    files
}

#[test]
fn report_mode_says_what_each_object_holds_and_writes_nothing() {
    let Some(server) = S3sFs::start(&[SOURCE, DEST]) else {
        return;
    };
    let s3 = S3::new(&server.endpoint);
    upload_all(&s3);
    let function = Function::start(&server.endpoint, &ENV);
    let before = snapshot(server.dir.path());

    // exiftool, the independent reader, says what the report should.
    let tags = exiftool::read(SAMPLE);
    let make = tags["IFD0:Make"].as_str().unwrap();
    let model = tags["IFD0:Model"].as_str().unwrap();
    assert!(tags.keys().any(|k| k.starts_with("GPS:")));
    let jpeg = format!("JPEG; GPS: yes; make: {make:?}; model: {model:?}; metadata: ");

    let keys: [(&str, &str, &str); 7] = [
        ("in/x:y;z=,@$&.jpg", "Succeeded", &jpeg),
        ("in/ü/日本.jpg", "Succeeded", &jpeg),
        ("in/p.png", "Succeeded", "PNG; GPS: "),
        ("in/notes/read me.txt", "Succeeded", "not an image"),
        ("in/damaged.jpg", "PermanentFailure", "refused: malformed"),
        ("in/never uploaded.jpg", "PermanentFailure", "no such key"),
        ("elsewhere/x.jpg", "PermanentFailure", "outside the source prefix"),
    ];
    let tasks = keys
        .iter()
        .enumerate()
        .map(|(i, (key, ..))| task("2.0", &format!("t{i}"), &manifest_key(key, false), None))
        .collect();
    let expected: Vec<(&str, &str)> = keys.iter().map(|&(_, code, text)| (code, text)).collect();
    let event = batch_event("2.0", Some(json!({"mode": "report"})), tasks);
    let (response, _) = function.invoke(&event);
    let strings = check(&response, &event, &expected);

    // The bytes of metadata: what a strip removes.
    let stripped = match edge_signer::transform::strip_metadata(SAMPLE).unwrap() {
        edge_signer::transform::Outcome::Stripped { bytes, .. } => bytes.len(),
        other => panic!("{other:?}"),
    };
    assert_eq!(strings[0], format!("{jpeg}{} bytes", SAMPLE.len() - stripped));
    assert_eq!(snapshot(server.dir.path()), before, "report mode wrote something");
}

/// A JPEG of several MB (a 1600×1200 noise picture, which compresses badly) with the sample's
/// JFIF and EXIF segments (GPS, make and model) in place of its own JFIF segment.
fn large_jpeg() -> Vec<u8> {
    let mut state = 0x2545_F491_4F6C_DD1D_u64;
    let picture = image::RgbImage::from_fn(1600, 1200, |_, _| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let [r, g, b, ..] = state.to_le_bytes();
        image::Rgb([r, g, b])
    });
    let mut encoded = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut encoded, 95)
        .encode_image(&picture)
        .unwrap();
    // The sample: SOI, JFIF APP0 (to 20), EXIF APP1 (its length at 22..24).
    let exif_end = 22 + usize::from(u16::from_be_bytes([SAMPLE[22], SAMPLE[23]]));
    assert_eq!(
        (&SAMPLE[20..22], &encoded[2..4]),
        (&b"\xFF\xE1"[..], &b"\xFF\xE0"[..])
    );
    let mut out = SAMPLE[..exif_end].to_vec();
    out.extend_from_slice(&encoded[20..]);
    out
}

#[test]
fn report_mode_reads_only_the_head_of_a_large_jpeg() {
    use edge_signer::transform::summary::{FIRST_READ, Summary, summarize};
    let Some(server) = S3sFs::start(&[SOURCE, DEST]) else {
        return;
    };
    let large = large_jpeg();
    assert!(large.len() > 3 << 20, "{} bytes", large.len());
    let s3 = S3::new(&server.endpoint);
    s3.put(SOURCE, "in/large photo.jpg", &large, "image/jpeg");
    s3.put(SOURCE, "in/large notes.txt", &vec![b'a'; 4 << 20], "text/plain");
    s3.put(SOURCE, "in/empty", b"", "application/octet-stream");
    let (proxy, counts) = counting_proxy::start(&server.endpoint);
    let function = Function::start(&proxy, &ENV);

    let tasks = ["in/large photo.jpg", "in/large notes.txt", "in/empty"]
        .iter()
        .enumerate()
        .map(|(i, key)| task("2.0", &format!("t{i}"), &manifest_key(key, false), None))
        .collect();
    let event = batch_event("2.0", Some(json!({"mode": "report"})), tasks);
    let (response, _) = function.invoke(&event);
    let tags = exiftool::read(&large);
    let expected = format!(
        "JPEG; GPS: yes; make: {:?}; model: {:?}; metadata: ",
        tags["IFD0:Make"].as_str().unwrap(),
        tags["IFD0:Model"].as_str().unwrap()
    );
    let strings = check(
        &response,
        &event,
        &[
            ("Succeeded", &expected),
            ("Succeeded", "not an image"),
            // Any range of an empty object is a 416 (as on S3): nothing to report.
            ("Succeeded", "not an image"),
        ],
    );

    // The bytes of metadata are the whole object's (no metadata follows its scan header).
    let Summary::Image(whole) = summarize(&large).unwrap() else {
        panic!("not an image");
    };
    let rest = strings[0].strip_prefix(&expected).unwrap();
    let (metadata, unread) = rest
        .strip_suffix(" bytes after it not read)")
        .and_then(|r| r.split_once(" bytes before the image data ("))
        .unwrap_or_else(|| panic!("{rest}"));
    assert_eq!(metadata.parse::<u64>().unwrap(), whole.metadata_bytes);
    let unread: usize = unread.parse().unwrap();
    assert!(unread > large.len() - 10_000 && unread < large.len(), "{unread}");

    // One GET of the first 64 KiB for each large object, with their answers' heads and the
    // empty object's 416: not the 3+ and 4 MB.
    assert_eq!(counts.gets(), 3);
    let served = counts.served();
    assert!(
        (2 * FIRST_READ..2 * FIRST_READ + 8192).contains(&served),
        "{served} bytes served for objects of {} and {} bytes",
        large.len(),
        4 << 20
    );
    assert_eq!(snapshot(&server.dir.path().join(DEST)), BTreeMap::new());
}

#[test]
fn report_mode_reads_a_png_whole_in_one_get_when_its_key_says_png() {
    let Some(server) = S3sFs::start(&[SOURCE, DEST]) else {
        return;
    };
    // The sample PNG with 1 MB after its IEND (which a strip drops: metadata bytes).
    let mut large = SAMPLE_PNG.to_vec();
    large.resize(SAMPLE_PNG.len() + (1 << 20), b'x');
    let s3 = S3::new(&server.endpoint);
    s3.put(SOURCE, "in/large.png", &large, "image/png");
    s3.put(SOURCE, "in/large png.jpg", &large, "image/jpeg");
    let (proxy, counts) = counting_proxy::start(&server.endpoint);
    let function = Function::start(&proxy, &ENV);
    let expected = "PNG; GPS: yes; make: \"ExampleCam\"; model: \"EC-1 Mark II\"; metadata: ";
    let whole = match edge_signer::transform::summary::summarize(&large).unwrap() {
        edge_signer::transform::summary::Summary::Image(whole) => whole,
        other => panic!("{other:?}"),
    };
    for (key, gets) in [("in/large.png", 1), ("in/large png.jpg", 2)] {
        let before = (counts.gets(), counts.served());
        let tasks = vec![task("2.0", "t", &manifest_key(key, false), None)];
        let event = batch_event("2.0", Some(json!({"mode": "report"})), tasks);
        let (response, _) = function.invoke(&event);
        let strings = check(&response, &event, &[("Succeeded", expected)]);
        let metadata: u64 = strings[0]
            .strip_prefix(expected)
            .and_then(|r| r.strip_suffix(" bytes"))
            .unwrap()
            .parse()
            .unwrap();
        assert!(metadata >= 1 << 20, "{key}: {metadata}");
        assert_eq!(metadata, whole.metadata_bytes, "{key}");
        // Read whole, by one GET when the key says PNG, else by a first range and the rest.
        assert_eq!(counts.gets() - before.0, gets, "{key}");
        let served = counts.served() - before.1;
        assert!(
            served >= large.len() as u64 && served < large.len() as u64 + 4096,
            "{key}: {served}"
        );
    }
}

/// `large_jpeg` with 120 kB more metadata before its image data: two APP13 segments after the
/// EXIF one, so that its head runs past a first read of 64 KiB.
fn long_head_jpeg() -> Vec<u8> {
    let large = large_jpeg();
    let exif_end = 22 + usize::from(u16::from_be_bytes([large[22], large[23]]));
    let mut out = large[..exif_end].to_vec();
    for _ in 0..2 {
        let mut segment = b"\xFF\xED\xEA\x62Photoshop 3.0\0".to_vec();
        segment.resize(2 + 0xEA62, b'p');
        out.extend_from_slice(&segment);
    }
    out.extend_from_slice(&large[exif_end..]);
    out
}

#[test]
fn report_mode_reads_a_long_head_in_further_ranges_of_one_version() {
    use edge_signer::transform::summary::{FIRST_READ, Summary, summarize};
    let long = long_head_jpeg();
    let Summary::Image(whole) = summarize(&long).unwrap() else {
        panic!("not an image");
    };
    assert!(whole.metadata_bytes > 120_000);
    if let Some(server) = S3sFs::start(&[SOURCE, DEST]) {
        let s3 = S3::new(&server.endpoint);
        s3.put(SOURCE, "in/long head.jpg", &long, "image/jpeg");
        let (proxy, counts) = counting_proxy::start(&server.endpoint);
        let function = Function::start(&proxy, &ENV);
        let tasks = vec![task("2.0", "t", &manifest_key("in/long head.jpg", false), None)];
        let event = batch_event("2.0", Some(json!({"mode": "report"})), tasks);
        let (response, _) = function.invoke(&event);
        let metadata = format!("metadata: {} bytes before the image data", whole.metadata_bytes);
        check(&response, &event, &[("Succeeded", "JPEG; GPS: yes")]);
        let string = response["results"][0]["resultString"].as_str().unwrap();
        assert!(string.contains(&metadata), "{string}");
        // The first 64 KiB, then up to 128 KiB: not the 4 MB.
        assert_eq!(counts.gets(), 2);
        let served = counts.served();
        assert!(
            (2 * FIRST_READ..2 * FIRST_READ + 4096).contains(&served),
            "{served}"
        );
    } else if std::env::var("CI").as_deref() == Ok("true") {
        panic!("s3s-fs is not installed");
    }

    // The object replaced between the two reads: the second, pinned to the first's ETag, gets a
    // 412 (or a 416 when the new object is shorter), and the task is redriven (s3s-fs ignores
    // If-Match on GET, so a scripted server).
    let precondition = "<Error><Code>PreconditionFailed</Code><Message>At least one of the pre-conditions you specified did not hold</Message></Error>";
    let invalid_range = "<Error><Code>InvalidRange</Code><Message>The requested range is not satisfiable</Message><ActualObjectSize>100</ActualObjectSize></Error>";
    for (status, body) in [(412, precondition), (416, invalid_range)] {
        let server = tiny_http::Server::http("127.0.0.1:0").unwrap();
        let endpoint = format!("http://{}", server.server_addr().to_ip().unwrap());
        let first = long[..FIRST_READ as usize].to_vec();
        let size = long.len();
        let handle = std::thread::spawn(move || {
            let mut seen = Vec::new();
            for answer in 0..2 {
                let Ok(Some(request)) = server.recv_timeout(Duration::from_secs(20)) else {
                    break;
                };
                let header = |name: &'static str| {
                    request
                        .headers()
                        .iter()
                        .find(|h| h.field.equiv(name))
                        .map(|h| h.value.to_string())
                };
                seen.push((header("range"), header("if-match")));
                let response = if answer == 0 {
                    let range = format!("bytes 0-{}/{size}", FIRST_READ - 1);
                    tiny_http::Response::from_data(first.clone())
                        .with_status_code(206)
                        .with_header(tiny_http::Header::from_bytes("Content-Range", range).unwrap())
                        .with_header(tiny_http::Header::from_bytes("ETag", "\"v1\"").unwrap())
                } else {
                    tiny_http::Response::from_data(body.as_bytes().to_vec()).with_status_code(status)
                };
                let _ = request.respond(response);
            }
            seen
        });
        let function = Function::start(&endpoint, &ENV);
        let tasks = vec![task("2.0", "t", &manifest_key("in/long head.jpg", false), None)];
        let event = batch_event("2.0", Some(json!({"mode": "report"})), tasks);
        let (response, _) = function.invoke(&event);
        check(
            &response,
            &event,
            &[("TemporaryFailure", "the object changed while it was read")],
        );
        let seen = handle.join().unwrap();
        let second = format!("bytes={}-{}", FIRST_READ, 2 * FIRST_READ - 1);
        assert_eq!(
            seen,
            [
                (Some(format!("bytes=0-{}", FIRST_READ - 1)), None),
                (Some(second), Some("\"v1\"".to_owned())),
            ],
            "{status}"
        );
    }
}

// ---- What s3s-fs will not do: a 503, and no answer ----

/// A loopback server answering every request with `status` and `body`, recording the requests'
/// `x-amzn-trace-id` headers; stops after `count` requests.
fn answering(
    status: u16,
    body: &'static str,
    count: usize,
) -> (String, std::thread::JoinHandle<Vec<Option<String>>>) {
    let server = tiny_http::Server::http("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", server.server_addr().to_ip().unwrap());
    let handle = std::thread::spawn(move || {
        let mut traces = Vec::new();
        for _ in 0..count {
            let Ok(Some(request)) = server.recv_timeout(Duration::from_secs(20)) else {
                break;
            };
            let trace = request
                .headers()
                .iter()
                .find(|h| h.field.equiv("x-amzn-trace-id"))
                .map(|h| h.value.to_string());
            traces.push(trace);
            let _ = request.respond(tiny_http::Response::from_string(body).with_status_code(status));
        }
        traces
    });
    (endpoint, handle)
}

#[test]
fn a_503_is_a_temporary_failure_and_requests_carry_the_trace_id() {
    let slow_down = "<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>";
    let (endpoint, requests) = answering(503, slow_down, 2);
    let function = Function::start(&endpoint, &ENV);
    for (mode, text) in [("strip", "503"), ("report", "SlowDown")] {
        let tasks = vec![task("2.0", "t", &manifest_key("in/red flower.jpg", false), None)];
        let event = batch_event("2.0", Some(json!({"mode": mode})), tasks);
        let (response, _) = function.invoke(&event);
        check(&response, &event, &[("TemporaryFailure", text)]);
    }
    let traces = requests.join().unwrap();
    assert_eq!(traces.len(), 2);
    for trace in traces {
        assert_eq!(trace.as_deref(), Some(runtime_api::TRACE_ID));
    }
}

#[test]
fn access_denied_is_a_permanent_failure() {
    let denied = "<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>";
    let (endpoint, requests) = answering(403, denied, 2);
    let function = Function::start(&endpoint, &ENV);
    for (mode, text) in [("strip", "403"), ("report", "AccessDenied")] {
        let tasks = vec![task("2.0", "t", &manifest_key("in/red flower.jpg", false), None)];
        let event = batch_event("2.0", Some(json!({"mode": mode})), tasks);
        let (response, _) = function.invoke(&event);
        check(&response, &event, &[("PermanentFailure", text)]);
    }
    assert_eq!(requests.join().unwrap().len(), 2);
}

#[test]
fn an_object_over_the_size_limit_is_a_permanent_failure_in_both_modes() {
    let Some(server) = S3sFs::start(&[SOURCE, DEST]) else {
        return;
    };
    let s3 = S3::new(&server.endpoint);
    s3.put(SOURCE, "in/big.jpg", SAMPLE, "image/jpeg");
    let mut env = ENV.to_vec();
    env.push(("EDGE_SIGNER_MAX_OBJECT_BYTES", "1000"));
    let function = Function::start(&server.endpoint, &env);
    for mode in ["strip", "report"] {
        let tasks = vec![task("2.0", "t", "in/big.jpg", None)];
        let event = batch_event("2.0", Some(json!({"mode": mode})), tasks);
        let (response, _) = function.invoke(&event);
        check(
            &response,
            &event,
            &[("PermanentFailure", "too large: over 1000 bytes")],
        );
    }
    assert!(s3.get(DEST, "out/big.jpg").is_none());
}

#[test]
fn a_near_deadline_is_a_temporary_failure_answered_in_time() {
    // A server that takes connections (the kernel's backlog) and never answers.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", silent.local_addr().unwrap());
    let function = Function::start(&endpoint, &ENV);
    let tasks = vec![
        task("1.0", "a", &manifest_key("in/plain.jpg", false), None),
        task("1.0", "b", &manifest_key("in/a+b.jpg", false), None),
    ];
    let event = batch_event("1.0", None, tasks);

    let budget = Duration::from_secs(3);
    function.api.set_invocation_budget(budget);
    let (response, took) = function.invoke(&event);
    check(
        &response,
        &event,
        &[
            ("TemporaryFailure", "no complete answer"),
            ("TemporaryFailure", "no complete answer"),
        ],
    );
    assert!(took < budget, "answered after the deadline: {took:?}");
    assert!(took > budget / 2, "cut too early: {took:?}");

    // With less time left than a task needs, no request is started.
    function.api.set_invocation_budget(Duration::from_millis(600));
    let (response, took) = function.invoke(&event);
    check(
        &response,
        &event,
        &[
            ("TemporaryFailure", "deadline is too close"),
            ("TemporaryFailure", "deadline is too close"),
        ],
    );
    assert!(took < Duration::from_millis(600), "{took:?}");
    drop(silent);
}

#[test]
fn with_a_bad_setting_every_task_fails_saying_why() {
    let api_env = [("EDGE_SIGNER_MAX_OBJECT_BYTES", "lots")];
    let function = Function::start("http://127.0.0.1:9", &api_env);
    let tasks = vec![task("1.0", "a", "in%2Fplain.jpg", None)];
    let event = batch_event("1.0", None, tasks);
    let (response, _) = function.invoke(&event);
    check(
        &response,
        &event,
        &[("PermanentFailure", "EDGE_SIGNER_MAX_OBJECT_BYTES")],
    );

    // An event without an invocation id cannot be answered: the invocation fails.
    let id = function
        .api
        .invoke(&br#"{"invocationSchemaVersion":"1.0","tasks":[]}"#[..]);
    let outcome = function.api.wait_outcome(&id, WAIT).unwrap();
    assert_eq!(outcome.kind, OutcomeKind::Error);
    assert_eq!(outcome.json()["errorType"], "MalformedEvent");
    let message = outcome.error_message().unwrap();
    assert!(message.contains("invocationId"), "{message}");
}

#[test]
fn our_responses_read_as_aws_lambda_events_responses() {
    use aws_lambda_events::event::s3::batch_job::S3BatchJobResponse;
    use edge_signer::triggers::batch::{Response, ResultCode, TaskResult};
    let mut response = Response::new("1.0", "inv");
    response.push("t1", TaskResult::new(ResultCode::Succeeded, "stripped (JPEG)"));
    response.push("t2", TaskResult::new(ResultCode::TemporaryFailure, "503"));
    response.push("t3", TaskResult::new(ResultCode::PermanentFailure, "missing"));
    let oracle: S3BatchJobResponse =
        serde_json::from_str(&serde_json::to_string(&response).unwrap()).unwrap();
    assert_eq!(oracle.invocation_schema_version.as_deref(), Some("1.0"));
    assert_eq!(oracle.invocation_id.as_deref(), Some("inv"));
    assert_eq!(oracle.treat_missing_keys_as.as_deref(), Some("PermanentFailure"));
    let results: Vec<(Option<&str>, Option<&str>, Option<&str>)> = oracle
        .results
        .iter()
        .map(|r| {
            (
                r.task_id.as_deref(),
                r.result_code.as_deref(),
                r.result_string.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        results,
        [
            (Some("t1"), Some("Succeeded"), Some("stripped (JPEG)")),
            (Some("t2"), Some("TemporaryFailure"), Some("503")),
            (Some("t3"), Some("PermanentFailure"), Some("missing")),
        ]
    );
}

#[test]
fn aws_lambda_events_reads_schema_1_0_alike_and_loses_schema_2_0_buckets() {
    use aws_lambda_events::event::s3::batch_job::S3BatchJobEvent;
    use edge_signer::triggers::batch::parse_batch_event;
    let doc = json!({
        "invocationSchemaVersion": "1.0",
        "invocationId": "YXNkbGZqYWRmaiBhc2RmdW9hZHNmZGpmaGFzbGtkaGZza2RmaAo",
        "job": {"id": "f3cc4f60-61f6-4a2b-8a21-d07600c373ce"},
        "tasks": [{"taskId": "dGFza2lkZ29lc2hlcmUK", "s3Key": "customerImage1.jpg", "s3VersionId": "1",
                   "s3BucketArn": "arn:aws:s3:us-east-1:0123456788:awsexamplebucket1"},
                  {"taskId": "t2", "s3Key": "red+flower.jpg", "s3VersionId": null,
                   "s3BucketArn": "arn:aws-us-gov:s3:::gov-bucket"}]
    });
    let theirs: S3BatchJobEvent = serde_json::from_value(doc.clone()).unwrap();
    let ours = parse_batch_event(doc.to_string().as_bytes()).unwrap();
    assert_eq!(theirs.invocation_id.as_deref(), Some(ours.invocation_id.as_str()));
    assert_eq!(
        theirs.invocation_schema_version.as_deref(),
        Some(ours.invocation_schema_version.as_str())
    );
    assert_eq!(theirs.job.id, ours.job.id);
    for (theirs, ours) in theirs.tasks.iter().zip(&ours.tasks) {
        assert_eq!(theirs.task_id.as_deref(), Some(ours.task_id.as_str()));
        assert_eq!(theirs.s3_key, ours.s3_key);
        assert_eq!(theirs.s3_version_id, ours.s3_version_id);
        assert_eq!(theirs.s3_bucket_arn, ours.s3_bucket_arn);
    }
    let buckets: Vec<String> = ours.tasks.iter().map(|t| t.to_task().unwrap().bucket).collect();
    assert_eq!(buckets, ["awsexamplebucket1", "gov-bucket"]);

    // Schema 2.0: the oracle parses it but keeps no bucket, which is why the types are ours.
    let v2 = json!({"invocationSchemaVersion": "2.0", "invocationId": "i",
                    "job": {"id": "j", "userArguments": {"mode": "report"}},
                    "tasks": [{"taskId": "t", "s3Key": "k", "s3VersionId": null, "s3Bucket": "b1"}]});
    let theirs: S3BatchJobEvent = serde_json::from_value(v2.clone()).unwrap();
    assert_eq!(
        theirs.tasks[0].s3_bucket_arn, None,
        "aws_lambda_events now reads 2.0: reconsider"
    );
    let ours = parse_batch_event(v2.to_string().as_bytes()).unwrap();
    assert_eq!(ours.tasks[0].to_task().unwrap().bucket, "b1");
}
