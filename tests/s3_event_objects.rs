//! One record of the S3 event trigger, processed against s3s-fs (a real S3 server that verifies
//! SigV4), with exiftool and the `image` crate as the judges of what was written.

#[path = "support/exiftool.rs"]
mod exiftool;
#[path = "support/images.rs"]
mod images;
#[path = "support/s3s.rs"]
mod s3s;

use aws_credential_types::Credentials;
use bytes::Bytes;
use edge_signer::s3::{
    Client, Config, ContentHeaders, Metadata, ObjectHead, ObjectRef, PutObject, RequestContext, Transport,
};
use edge_signer::triggers::{
    Destination, OUTPUT_MARKER, ObjectOutcome, SOURCE_ETAG, Settings, SourceObject, process,
};
use s3s::S3sFs;
use std::time::{Duration, Instant};

const BUCKET: &str = "photos";
const SAMPLE: &[u8] = include_bytes!("../samples/images/sample.jpg");
const HOSTILE_KEYS: [&str; 6] = [
    "red flower.jpg",
    "a+b.jpg",
    "ü/日本.jpg",
    "x:y;z=,@$&.jpg",
    "%41pct.jpg",
    "a//b.jpg",
];

fn client(endpoint: &str) -> Client {
    let mut config = Config::new("us-east-1");
    config.endpoint = Some(endpoint.parse().unwrap());
    let credentials = Credentials::new(s3s::ACCESS_KEY, s3s::SECRET_KEY, None, None, "test");
    Client::new(Transport::new(), config, credentials)
}

fn context() -> RequestContext {
    RequestContext::new(Instant::now() + Duration::from_secs(20))
        .with_trace_id(Some("Root=1-5759e988-bd862e3fe1be46a994272793"))
}

/// What an uploader sets: a wrong content type (the stripped image must get its own), the other
/// content headers and user metadata (which must be kept).
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
    Metadata::from([("album".into(), "holidays 2026".into())])
}

/// Uploads `body` at `key` and returns the event's view of it (the ETag unquoted, as events have it).
async fn upload(client: &Client, key: &str, body: &[u8], content_type: &str) -> SourceObject {
    let put = PutObject {
        bucket: BUCKET,
        key,
        body: Bytes::copy_from_slice(body),
        content: uploaded_content(content_type),
        metadata: user_metadata(),
        condition: None,
    };
    let written = client
        .put_object(&put, &context())
        .await
        .unwrap_or_else(|e| panic!("PUT {key:?}: {e}"));
    SourceObject {
        bucket: BUCKET.into(),
        key: key.into(),
        version_id: None,
        etag: written.etag.map(|e| e.trim_matches('"').to_owned()),
    }
}

fn out(key: &str) -> Destination {
    Destination {
        bucket: BUCKET.into(),
        key: format!("out/{key}"),
    }
}

async fn get(client: &Client, key: &str) -> (ObjectHead, Bytes) {
    let object = client
        .get_object(&ObjectRef::new(BUCKET, key), 64 << 20, &context())
        .await
        .unwrap_or_else(|e| panic!("GET {key:?}: {e}"));
    (object.head, object.body)
}

async fn exists(client: &Client, key: &str) -> bool {
    match client.head_object(&ObjectRef::new(BUCKET, key), &context()).await {
        Ok(_) => true,
        Err(e) if e.is_not_found() => false,
        Err(e) => panic!("HEAD {key:?}: {e}"),
    }
}

fn settings() -> Settings {
    Settings {
        dest_prefix: "out/".into(),
        ..Settings::default()
    }
}

fn assert_marked(head: &ObjectHead, source: &SourceObject) {
    assert_eq!(head.metadata.get(OUTPUT_MARKER).map(String::as_str), Some("1"));
    assert_eq!(head.metadata.get(SOURCE_ETAG), source.etag.as_ref());
}

#[tokio::test]
async fn hostile_keys_are_stripped_into_the_destination_keeping_headers_and_metadata() {
    let Some(server) = S3sFs::start(&[BUCKET]) else {
        return;
    };
    let client = client(&server.endpoint);
    let before = exiftool::read(SAMPLE);
    assert!(
        before.keys().any(|k| k.starts_with("GPS:")),
        "the sample has GPS: {before:?}"
    );
    let pixels = image::load_from_memory(SAMPLE).unwrap().to_rgba8();

    for key in HOSTILE_KEYS {
        let source = upload(&client, key, SAMPLE, "application/octet-stream").await;
        let outcome = process(&client, &source, &out(key), &settings(), &context()).await;
        let ObjectOutcome::Stripped {
            bytes_in,
            bytes_out,
            exif_report_bytes: None,
            ..
        } = outcome
        else {
            panic!("{key:?}: {outcome:?}");
        };
        assert_eq!(bytes_in, SAMPLE.len() as u64, "{key:?}");
        assert!(bytes_out < bytes_in, "{key:?}");

        let (head, body) = get(&client, &format!("out/{key}")).await;
        assert_eq!(body.len() as u64, bytes_out, "{key:?}");
        let left = exiftool::identifying(&exiftool::read(&body));
        assert!(left.is_empty(), "{key:?}: identifying tags left: {left:?}");
        assert_eq!(
            image::load_from_memory(&body).unwrap().to_rgba8(),
            pixels,
            "{key:?}: pixels differ"
        );
        assert_eq!(
            head.content,
            ContentHeaders {
                content_type: Some("image/jpeg".into()),
                ..uploaded_content("")
            },
            "{key:?}"
        );
        let mut expected = user_metadata();
        expected.insert(OUTPUT_MARKER.into(), "1".into());
        expected.insert(SOURCE_ETAG.into(), source.etag.clone().unwrap());
        assert_eq!(head.metadata, expected, "{key:?}");

        let (original_head, original) = get(&client, key).await;
        assert_eq!(&original[..], SAMPLE, "{key:?}: the original changed");
        assert_eq!(original_head.metadata, user_metadata(), "{key:?}");

        // A second delivery of the same event writes nothing.
        let again = process(&client, &source, &out(key), &settings(), &context()).await;
        assert_eq!(again, ObjectOutcome::AlreadyDone, "{key:?}");
        assert_eq!(
            get(&client, &format!("out/{key}")).await.0.etag,
            head.etag,
            "{key:?}"
        );
    }

    // ... and without reading the source: with the source gone from the server's directory, the
    // duplicate is still recognised by the destination's HEAD alone.
    let source = upload(&client, "gone.jpg", SAMPLE, "image/jpeg").await;
    let first = process(&client, &source, &out("gone.jpg"), &settings(), &context()).await;
    assert!(matches!(first, ObjectOutcome::Stripped { .. }), "{first:?}");
    std::fs::remove_file(server.dir.path().join(BUCKET).join("gone.jpg")).unwrap();
    assert!(!exists(&client, "gone.jpg").await);
    let again = process(&client, &source, &out("gone.jpg"), &settings(), &context()).await;
    assert_eq!(again, ObjectOutcome::AlreadyDone);
}

#[tokio::test]
async fn in_place_the_output_coming_back_is_left_alone() {
    let Some(server) = S3sFs::start(&[BUCKET]) else {
        return;
    };
    let client = client(&server.endpoint);
    let key = "in place/ü+1.jpg";
    let source = upload(&client, key, SAMPLE, "image/jpeg").await;
    let here = Destination {
        bucket: BUCKET.into(),
        key: key.into(),
    };
    let outcome = process(&client, &source, &here, &Settings::default(), &context()).await;
    assert!(matches!(outcome, ObjectOutcome::Stripped { .. }), "{outcome:?}");
    let (head, body) = get(&client, key).await;
    assert!(exiftool::identifying(&exiftool::read(&body)).is_empty());
    assert_marked(&head, &source);

    // The write's own event: its ETag is the output's.
    let echo = SourceObject {
        etag: head.etag.as_deref().map(|e| e.trim_matches('"').to_owned()),
        ..source.clone()
    };
    assert_eq!(
        process(&client, &echo, &here, &Settings::default(), &context()).await,
        ObjectOutcome::OwnOutput
    );
    // An emulator's event without an ETag, too.
    let bare = SourceObject {
        etag: None,
        ..source.clone()
    };
    assert_eq!(
        process(&client, &bare, &here, &Settings::default(), &context()).await,
        ObjectOutcome::OwnOutput
    );
    // The original upload's event delivered again.
    assert_eq!(
        process(&client, &source, &here, &Settings::default(), &context()).await,
        ObjectOutcome::AlreadyDone
    );
    assert_eq!(
        get(&client, key).await.0.etag,
        head.etag,
        "nothing was written again"
    );
}

#[tokio::test]
async fn non_images_are_copied_damaged_images_refused_and_missing_keys_reported() {
    let Some(server) = S3sFs::start(&[BUCKET]) else {
        return;
    };
    let client = client(&server.endpoint);

    let text = b"not an image: plain text, kept byte for byte\n";
    let source = upload(&client, "notes/read me.txt", text, "text/plain; charset=utf-8").await;
    let outcome = process(
        &client,
        &source,
        &out("notes/read me.txt"),
        &settings(),
        &context(),
    )
    .await;
    assert_eq!(
        outcome,
        ObjectOutcome::Copied {
            bytes: text.len() as u64
        }
    );
    let (head, body) = get(&client, "out/notes/read me.txt").await;
    assert_eq!(&body[..], text);
    assert_eq!(head.content, uploaded_content("text/plain; charset=utf-8"));
    assert_marked(&head, &source);

    let damaged = &SAMPLE[..SAMPLE.len() / 2];
    let source = upload(&client, "damaged.jpg", damaged, "image/jpeg").await;
    let outcome = process(&client, &source, &out("damaged.jpg"), &settings(), &context()).await;
    let ObjectOutcome::Refused { reason, bytes_in } = &outcome else {
        panic!("{outcome:?}");
    };
    assert!(reason.contains("JPEG"), "{reason}");
    assert_eq!(*bytes_in, damaged.len() as u64);
    assert!(!outcome.is_transient());
    assert!(
        !exists(&client, "out/damaged.jpg").await,
        "a refused image must not be written"
    );

    let missing = SourceObject {
        bucket: BUCKET.into(),
        key: "never uploaded.jpg".into(),
        version_id: None,
        etag: Some("0123456789abcdef0123456789abcdef".into()),
    };
    let outcome = process(
        &client,
        &missing,
        &out("never uploaded.jpg"),
        &settings(),
        &context(),
    )
    .await;
    assert_eq!(outcome, ObjectOutcome::Missing);
    assert!(!outcome.is_transient());

    let source = upload(&client, "big.jpg", SAMPLE, "image/jpeg").await;
    let small = Settings {
        max_object_bytes: Some(100),
        ..settings()
    };
    let outcome = process(&client, &source, &out("big.jpg"), &small, &context()).await;
    assert_eq!(outcome, ObjectOutcome::TooLarge { limit: 100 });
    assert!(!exists(&client, "out/big.jpg").await);
}

#[tokio::test]
async fn the_exif_suffix_writes_the_report_next_to_the_image() {
    let Some(server) = S3sFs::start(&[BUCKET]) else {
        return;
    };
    let client = client(&server.endpoint);
    let with_suffix = Settings {
        exif_suffix: Some(".exif.json".into()),
        ..settings()
    };
    let key = "x:y;z=,@$&.jpg";
    let source = upload(&client, key, SAMPLE, "image/jpeg").await;
    let outcome = process(&client, &source, &out(key), &with_suffix, &context()).await;
    let ObjectOutcome::Stripped {
        exif_report_bytes: Some(report_bytes),
        ..
    } = outcome
    else {
        panic!("{outcome:?}");
    };
    let (head, body) = get(&client, &format!("out/{key}.exif.json")).await;
    assert_eq!(body.len() as u64, report_bytes);
    assert_eq!(head.content.content_type.as_deref(), Some("application/json"));
    assert_marked(&head, &source);
    let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(json["image"]["Make"], "ExampleCam", "{json}");
    assert!(
        json["position"]["latitude"]
            .as_f64()
            .is_some_and(|l| (l - 48.858).abs() < 0.01),
        "{json}"
    );

    // A non-image gets no report.
    let source = upload(&client, "a.txt", b"text", "text/plain").await;
    let outcome = process(&client, &source, &out("a.txt"), &with_suffix, &context()).await;
    assert_eq!(outcome, ObjectOutcome::Copied { bytes: 4 });
    assert!(!exists(&client, "out/a.txt.exif.json").await);
}

#[tokio::test]
async fn an_unreachable_server_is_a_transient_failure() {
    // Nothing listens on this port: the connection is refused, and a retry may help.
    let client = client(&format!("http://127.0.0.1:{}", s3s::free_port()));
    let source = SourceObject {
        bucket: BUCKET.into(),
        key: "a.jpg".into(),
        version_id: None,
        etag: Some("e".into()),
    };
    let outcome = process(&client, &source, &out("a.jpg"), &settings(), &context()).await;
    assert!(outcome.is_transient(), "{outcome:?}");
}

#[tokio::test]
async fn png_and_webp_get_their_own_content_type_and_an_image_without_exif_an_empty_report() {
    let Some(server) = S3sFs::start(&[BUCKET]) else {
        return;
    };
    let client = client(&server.endpoint);
    let with_suffix = Settings {
        exif_suffix: Some(".exif.json".into()),
        ..settings()
    };
    let samples: [(&str, &[u8], &str); 3] = [
        (
            "p/sample.png",
            include_bytes!("../samples/images/sample.png"),
            "image/png",
        ),
        (
            "p/sample.webp",
            include_bytes!("../samples/images/sample.webp"),
            "image/webp",
        ),
        ("p/no exif.jpg", &images::jpeg(7), "image/jpeg"),
    ];
    for (key, bytes, content_type) in samples {
        let source = upload(&client, key, bytes, "binary/octet-stream").await;
        let outcome = process(&client, &source, &out(key), &with_suffix, &context()).await;
        assert!(
            matches!(outcome, ObjectOutcome::Stripped { .. }),
            "{key}: {outcome:?}"
        );
        let (head, body) = get(&client, &format!("out/{key}")).await;
        assert_eq!(head.content.content_type.as_deref(), Some(content_type), "{key}");
        let left = exiftool::identifying(&exiftool::read(&body));
        assert!(left.is_empty(), "{key}: identifying tags left: {left:?}");
        let before = image::load_from_memory(bytes).unwrap().to_rgba8();
        assert_eq!(
            image::load_from_memory(&body).unwrap().to_rgba8(),
            before,
            "{key}: pixels differ"
        );
        assert_marked(&head, &source);
        let (_, report) = get(&client, &format!("out/{key}.exif.json")).await;
        let report: serde_json::Value = serde_json::from_slice(&report).unwrap();
        if key.ends_with("no exif.jpg") {
            let empty = serde_json::json!({"image": {}, "exif": {}, "gps": {}, "interop": {}});
            assert_eq!(report, empty);
        }
    }
}

/// One scripted answer: status, headers, body.
type Answer = (u16, Vec<(&'static str, &'static str)>, &'static [u8]);
/// What the function asked: method, target, headers (names in lowercase).
type Asked = (String, String, Vec<(String, String)>);

/// A loopback server answering `answers` in order (for what s3s-fs will not do on demand: a 412
/// after the HEAD, a 503), and handing back what each request asked.
fn scripted(answers: Vec<Answer>) -> (String, std::thread::JoinHandle<Vec<Asked>>) {
    let server = tiny_http::Server::http("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", server.server_addr().to_ip().unwrap());
    let handle = std::thread::spawn(move || {
        let mut asked = Vec::new();
        for (status, headers, body) in answers {
            let Ok(Some(mut request)) = server.recv_timeout(Duration::from_secs(10)) else {
                break;
            };
            let mut sink = Vec::new();
            let _ = std::io::Read::read_to_end(request.as_reader(), &mut sink);
            asked.push((
                request.method().to_string(),
                request.url().to_owned(),
                request
                    .headers()
                    .iter()
                    .map(|h| {
                        (
                            h.field.as_str().as_str().to_ascii_lowercase(),
                            h.value.to_string(),
                        )
                    })
                    .collect(),
            ));
            let mut response = tiny_http::Response::from_data(body).with_status_code(status);
            for (name, value) in headers {
                response.add_header(tiny_http::Header::from_bytes(name, value).unwrap());
            }
            let _ = request.respond(response);
        }
        asked
    });
    (endpoint, handle)
}

fn header<'a>(asked: &'a Asked, name: &str) -> Option<&'a str> {
    asked.2.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
}

/// Processes the stub source into `out/a b.txt` against a server giving `answers` in turn:
/// the outcome and the requests it saw.
async fn process_stub(answers: Vec<Answer>) -> (ObjectOutcome, Vec<Asked>) {
    let (endpoint, asked) = scripted(answers);
    let outcome = process(
        &client(&endpoint),
        &stub_source(),
        &out("a b.txt"),
        &settings(),
        &context(),
    )
    .await;
    (outcome, asked.join().unwrap())
}

fn stub_source() -> SourceObject {
    SourceObject {
        bucket: BUCKET.into(),
        key: "a b.txt".into(),
        version_id: Some("v 1".into()),
        etag: Some("abc".into()),
    }
}

#[tokio::test]
async fn a_lost_condition_is_superseded_and_the_conditions_are_on_the_wire() {
    let text = |etag| -> Answer {
        (
            200,
            vec![("ETag", etag), ("Content-Type", "text/plain")],
            b"hello",
        )
    };

    // The source's current version, as a HEAD without a version id answers it.
    let current =
        |version| -> Answer { (200, vec![("ETag", "\"abc\""), ("x-amz-version-id", version)], b"") };

    // No destination: the write must not replace one that appeared since (If-None-Match: *).
    let (outcome, asked) = process_stub(vec![
        (404, vec![], b""),
        current("v 1"),
        text("\"abc\""),
        (412, vec![], b""),
    ])
    .await;
    assert_eq!(outcome, ObjectOutcome::Superseded { bytes_in: 5 });
    let methods: Vec<&str> = asked.iter().map(|a| a.0.as_str()).collect();
    assert_eq!(methods, ["HEAD", "HEAD", "GET", "PUT"]);
    assert_eq!(asked[1].1, "/photos/a%20b.txt");
    assert_eq!(asked[2].1, "/photos/a%20b.txt?versionId=v%201");
    assert_eq!(header(&asked[2], "if-match"), Some("\"abc\""));
    assert_eq!(header(&asked[3], "if-none-match"), Some("*"));
    assert_eq!(
        header(&asked[3], "x-amz-meta-edge-signer-source-etag"),
        Some("abc")
    );
    assert_eq!(header(&asked[3], "x-amz-meta-edge-signer-output"), Some("1"));
    for request in &asked {
        assert!(header(request, "x-amzn-trace-id").is_some(), "{request:?}");
    }

    // A destination not written by us: replaced only as seen at HEAD (If-Match); a 503 is transient.
    let (outcome, asked) = process_stub(vec![
        (200, vec![("ETag", "\"d1\"")], b""),
        current("v 1"),
        text("\"abc\""),
        (503, vec![], b"<Error><Code>SlowDown</Code></Error>"),
    ])
    .await;
    assert!(outcome.is_transient(), "{outcome:?}");
    assert_eq!(header(&asked[3], "if-match"), Some("\"d1\""));

    // The version named is no longer the current one (a newer upload): a read pinned to it would
    // succeed, so its output would replace the newer one's. Nothing is read or written.
    let (outcome, asked) = process_stub(vec![(404, vec![], b""), current("v 2")]).await;
    assert_eq!(outcome, ObjectOutcome::NotCurrent);
    assert_eq!(asked.len(), 2);
    // Deleted since (a delete marker: 404 without a version id): the same.
    let (outcome, asked) = process_stub(vec![(404, vec![], b""), (404, vec![], b"")]).await;
    assert_eq!(outcome, ObjectOutcome::NotCurrent);
    assert_eq!(asked.len(), 2);

    // The source replaced since the event (S3 answers the GET's If-Match with 412): nothing written.
    let (outcome, asked) = process_stub(vec![(404, vec![], b""), current("v 1"), (412, vec![], b"")]).await;
    assert_eq!(outcome, ObjectOutcome::Superseded { bytes_in: 0 });
    assert_eq!(asked.len(), 3);

    // A duplicate delivery, and in place an echo of the function's own write: one HEAD, nothing else.
    let marked = |source_etag| -> Answer {
        let headers = vec![
            ("ETag", "\"out1\""),
            ("x-amz-meta-edge-signer-output", "1"),
            ("x-amz-meta-edge-signer-source-etag", source_etag),
        ];
        (200, headers, b"")
    };
    let (outcome, asked) = process_stub(vec![marked("abc")]).await;
    assert_eq!(outcome, ObjectOutcome::AlreadyDone);
    assert_eq!(asked.len(), 1);
    let here = Destination {
        bucket: BUCKET.into(),
        key: "a b.txt".into(),
    };
    let echo = SourceObject {
        etag: Some("out1".into()),
        ..stub_source()
    };
    let (endpoint, asked) = scripted(vec![marked("abc")]);
    let outcome = process(&client(&endpoint), &echo, &here, &Settings::default(), &context()).await;
    assert_eq!(outcome, ObjectOutcome::OwnOutput);
    assert_eq!(asked.join().unwrap().len(), 1);

    // Access denied is permanent.
    let (outcome, _) = process_stub(vec![(403, vec![], b"")]).await;
    assert!(matches!(outcome, ObjectOutcome::Failed { .. }), "{outcome:?}");
}
