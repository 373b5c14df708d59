//! `edge-signer backfill`, the binary, against s3s-fs (a real S3 server that verifies SigV4): a
//! manifest of 1,000+ objects with hostile keys, the completion report, the objects judged by
//! exiftool, a rerun that makes no request, a missing key, and an interrupt.

#[path = "support/exiftool.rs"]
mod exiftool;
#[path = "support/images.rs"]
mod images;
#[path = "support/s3s.rs"]
mod s3s;

use aws_credential_types::Credentials;
use bytes::Bytes;
use edge_signer::backfill::{Row, TaskStatus, report};
use edge_signer::s3::{Client, Config, ContentHeaders, ObjectRef, PutObject, RequestContext, Transport};
use futures_util::StreamExt;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use s3s::S3sFs;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_edge-signer");
const BUCKET: &str = "photos";
const SAMPLE_JPEG: &[u8] = include_bytes!("../samples/images/sample.jpg");
const SAMPLE_PNG: &[u8] = include_bytes!("../samples/images/sample.png");
const SAMPLE_WEBP: &[u8] = include_bytes!("../samples/images/sample.webp");
/// Names the keys are built on (after `in/`): spaces, `+`, `%`, non-ASCII, reserved characters.
const NAMES: [&str; 9] = [
    "plain/{}.jpg",
    "red flower {}.jpg",
    "a+b {}.png",
    "c++/(1) copy {}.webp",
    "ü/日本 {}.jpg",
    "x:y;z=,@$&{}.txt",
    "%41pct {}.jpg",
    "q?s#h {}.jpg",
    "~tilde*!' {}.bin",
];
/// What a manifest encodes: everything but letters, digits, `/` and `-_.~` (as S3 Inventory does).
const KEY: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'/')
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

struct Object {
    key: String,
    /// As written in the manifest.
    encoded: String,
    version_id: Option<String>,
    body: Vec<u8>,
}

impl Object {
    fn is_image(&self) -> bool {
        !(self.key.ends_with(".txt") || self.key.ends_with(".bin"))
    }
}

/// `count` objects: sample photos (with GPS), generated JPEGs with EXIF, PNG, WebP and non-images.
fn objects(count: usize) -> Vec<Object> {
    (0..count)
        .map(|i| {
            let key = format!("in/{}", NAMES[i % NAMES.len()].replace("{}", &i.to_string()));
            let encoded = utf8_percent_encode(&key, KEY).to_string();
            // Spaces as `+` (S3 Inventory) on even rows, as `%20` on odd ones.
            let encoded = if i % 2 == 0 {
                encoded.replace("%20", "+")
            } else {
                encoded
            };
            let body = match (i % NAMES.len(), i % 2) {
                (2, _) => SAMPLE_PNG.to_vec(),
                (3, _) => SAMPLE_WEBP.to_vec(),
                (5 | 8, _) => format!("not an image {i}\n").into_bytes(),
                (_, 0) => SAMPLE_JPEG.to_vec(),
                _ => images::jpeg_with_exif(&images::orientation_tiff(1 + (i % 8) as u16)),
            };
            let version_id = (i % 50 == 7).then(|| format!("3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrH{i}"));
            Object {
                key,
                encoded,
                version_id,
                body,
            }
        })
        .collect()
}

/// The manifest: quoted rows (as S3 Inventory writes them) and unquoted ones, two or three fields.
fn manifest(objects: &[Object]) -> String {
    let mut text = String::new();
    for (i, object) in objects.iter().enumerate() {
        let version = object.version_id.as_deref();
        let row = match (i % 3, version) {
            (0, Some(v)) => format!("\"{BUCKET}\",\"{}\",\"{v}\"\n", object.encoded),
            (0, None) => format!("\"{BUCKET}\",\"{}\"\n", object.encoded),
            (1, _) => format!("{BUCKET},{},{}\r\n", object.encoded, version.unwrap_or("")),
            (_, Some(v)) => format!("{BUCKET},{},{v}\n", object.encoded),
            (_, None) => format!("{BUCKET},{}\n", object.encoded),
        };
        text.push_str(&row);
    }
    text
}

fn client(endpoint: &str) -> Client {
    let mut config = Config::new("us-east-1");
    config.endpoint = Some(endpoint.parse().unwrap());
    let credentials = Credentials::new(s3s::ACCESS_KEY, s3s::SECRET_KEY, None, None, "test");
    Client::new(Transport::new(), config, credentials)
}

fn context() -> RequestContext {
    RequestContext::new(Instant::now() + Duration::from_secs(20))
}

/// At most this many requests of the test at once.
const AT_ONCE: usize = 16;

async fn upload(client: &Client, objects: &[Object]) {
    let puts = objects.iter().map(|object| async move {
        let put = PutObject {
            bucket: BUCKET,
            key: &object.key,
            body: Bytes::copy_from_slice(&object.body),
            content: ContentHeaders::default(),
            metadata: Default::default(),
            condition: None,
        };
        client
            .put_object(&put, &context())
            .await
            .unwrap_or_else(|e| panic!("PUT {:?}: {e}", object.key));
    });
    futures_util::stream::iter(puts)
        .buffer_unordered(AT_ONCE)
        .collect::<Vec<()>>()
        .await;
}

/// GETs of `keys`, in order.
async fn get_all(client: &Client, keys: Vec<String>) -> Vec<Option<Bytes>> {
    let gets = keys.into_iter().map(|key| async move { get(client, &key).await });
    futures_util::stream::iter(gets).buffered(AT_ONCE).collect().await
}

async fn get(client: &Client, key: &str) -> Option<Bytes> {
    match client
        .get_object(&ObjectRef::new(BUCKET, key), 64 << 20, &context())
        .await
    {
        Ok(object) => Some(object.body),
        Err(e) if e.is_not_found() => None,
        Err(e) => panic!("GET {key:?}: {e}"),
    }
}

/// The runner with the environment a user sets: credentials, region, endpoint, settings.
fn backfill(endpoint: &str, manifest: &Path, report: &Path, flags: &[&str]) -> Command {
    let mut command = Command::new(BIN);
    command
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("AWS_ACCESS_KEY_ID", s3s::ACCESS_KEY)
        .env("AWS_SECRET_ACCESS_KEY", s3s::SECRET_KEY)
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ENDPOINT_URL", endpoint)
        .env("EDGE_SIGNER_SOURCE_PREFIX", "in/")
        // The flag wins over it.
        .env("EDGE_SIGNER_DEST_PREFIX", "wrong/")
        .args(["backfill", "--manifest"])
        .arg(manifest)
        .arg("--report")
        .arg(report)
        .args(["--dest-prefix", "out/"])
        .args(flags)
        .stdin(Stdio::null());
    command
}

fn run(mut command: Command) -> (i32, String) {
    let Output {
        status,
        stdout,
        stderr,
    } = command.output().expect("run edge-signer backfill");
    let stdout = String::from_utf8_lossy(&stdout).into_owned();
    let stderr = String::from_utf8_lossy(&stderr);
    (status.code().unwrap_or(-1), format!("{stdout}{stderr}"))
}

fn setup(count: usize) -> Option<(S3sFs, Client, Vec<Object>, tempfile::TempDir, PathBuf, PathBuf)> {
    let server = S3sFs::start(&[BUCKET])?;
    let client = client(&server.endpoint);
    let objects = objects(count);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(upload(&client, &objects));
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("manifest.csv");
    std::fs::write(&manifest, manifest_text(&objects)).unwrap();
    let report = dir.path().join("report.csv");
    Some((server, client, objects, dir, manifest, report))
}

fn manifest_text(objects: &[Object]) -> String {
    manifest(objects)
}

/// The report's tasks, as (key as in the manifest, version id).
fn tasks(rows: &[Row]) -> BTreeSet<(String, Option<String>)> {
    rows.iter()
        .map(|r| (r.key.clone(), r.version_id.clone()))
        .collect()
}

fn expected_tasks(objects: &[Object]) -> BTreeSet<(String, Option<String>)> {
    objects
        .iter()
        .map(|o| (o.encoded.clone(), o.version_id.clone()))
        .collect()
}

#[test]
fn a_thousand_objects_are_stripped_reported_and_not_touched_again() {
    let Some((server, client, objects, dir, manifest, report)) = setup(1_008) else {
        return;
    };
    let started = Instant::now();
    let (code, output) = run(backfill(
        &server.endpoint,
        &manifest,
        &report,
        &["--concurrency", "8"],
    ));
    let elapsed = started.elapsed();
    eprintln!("first run of {} tasks: {elapsed:.2?}\n{output}", objects.len());
    assert_eq!(code, 0, "{output}");
    assert!(
        output.contains(&format!(
            "{0} tasks: {0} succeeded, 0 failed, 0 skipped",
            objects.len()
        )),
        "{output}"
    );

    // Every task, once, as in the manifest, succeeded, with AWS's columns.
    let rows = report::read(&report).unwrap();
    assert_eq!(rows.len(), objects.len());
    assert_eq!(tasks(&rows), expected_tasks(&objects));
    for row in &rows {
        assert_eq!(
            (
                row.bucket.as_str(),
                row.status,
                row.http_status,
                row.error_code.as_str()
            ),
            (BUCKET, TaskStatus::Succeeded, Some(200), ""),
            "{row:?}"
        );
        assert!(!row.message.is_empty(), "{row:?}");
    }

    // The objects: every output exists; images hold no identifying tag (exiftool); non-images are
    // copied as they were; the sources are unchanged; nothing under the environment's prefix.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let checked = dir.path().join("checked");
    std::fs::create_dir(&checked).unwrap();
    let mut files = Vec::new();
    let pixels = image::load_from_memory(SAMPLE_JPEG).unwrap().to_rgba8();
    let outputs = objects.iter().map(|o| o.key.replacen("in/", "out/", 1)).collect();
    let outputs = runtime.block_on(get_all(&client, outputs));
    for (i, (object, body)) in objects.iter().zip(outputs).enumerate() {
        let body = body.unwrap_or_else(|| panic!("no output for {:?}", object.key));
        if !object.is_image() {
            assert_eq!(&body[..], &object.body[..], "{:?}", object.key);
        } else if i % 29 == 0 {
            let file = checked.join(format!("{i}.img"));
            std::fs::write(&file, &body).unwrap();
            files.push(file);
            if object.body == SAMPLE_JPEG {
                assert_eq!(
                    image::load_from_memory(&body).unwrap().to_rgba8(),
                    pixels,
                    "{:?}",
                    object.key
                );
            }
        }
        if i % 97 == 0 {
            assert_eq!(
                runtime.block_on(get(&client, &object.key)).unwrap(),
                object.body,
                "{:?}",
                object.key
            );
            assert!(
                runtime
                    .block_on(get(&client, &object.key.replacen("in/", "wrong/", 1)))
                    .is_none()
            );
        }
    }
    assert!(!server.dir.path().join(BUCKET).join("wrong").exists());
    assert!(files.len() >= 20, "{}", files.len());
    let tags = exiftool::read_files(&files);
    assert_eq!(tags.len(), files.len());
    assert!(tags.values().any(|t| t.contains_key("File:FileType")));
    for (file, tags) in &tags {
        let left = exiftool::identifying(tags);
        assert!(left.is_empty(), "{file}: identifying tags left: {left:?}");
    }

    // Again with the same report, and no S3 at all where it points: every task is skipped, so
    // no request is made (one would fail to connect, and the task with it).
    let report_before = std::fs::read(&report).unwrap();
    let nowhere = format!("http://127.0.0.1:{}", s3s::free_port());
    let (code, output) = run(backfill(&nowhere, &manifest, &report, &["--retries", "0"]));
    assert_eq!(code, 0, "{output}");
    assert!(
        output.contains(&format!(
            "{0} tasks: 0 succeeded, 0 failed, {0} skipped",
            objects.len()
        )),
        "{output}"
    );
    assert_eq!(std::fs::read(&report).unwrap(), report_before);
}

#[test]
fn a_missing_key_fails_its_task_and_only_it_is_redone() {
    let Some((server, _client, objects, dir, _, report)) = setup(3) else {
        return;
    };
    let manifest = dir.path().join("missing.csv");
    let mut text = manifest_text(&objects);
    text.push_str(&format!("{BUCKET},in/not+there.jpg\n"));
    std::fs::write(&manifest, text).unwrap();

    let (code, output) = run(backfill(&server.endpoint, &manifest, &report, &[]));
    assert_eq!(code, 1, "{output}");
    assert!(output.contains("4 tasks: 3 succeeded, 1 failed"), "{output}");
    let rows = report::read(&report).unwrap();
    let missing: Vec<&Row> = rows.iter().filter(|r| r.status == TaskStatus::Failed).collect();
    assert_eq!(missing.len(), 1, "{rows:?}");
    assert_eq!(
        (missing[0].key.as_str(), missing[0].error_code.as_str()),
        ("in/not+there.jpg", "PermanentFailure")
    );
    assert!(missing[0].message.contains("no such key"), "{:?}", missing[0]);

    let (code, output) = run(backfill(&server.endpoint, &manifest, &report, &[]));
    assert_eq!(code, 1, "{output}");
    assert!(
        output.contains("4 tasks: 0 succeeded, 1 failed, 3 skipped"),
        "{output}"
    );
    assert_eq!(report::read(&report).unwrap().len(), 4, "one row per task");
}

#[test]
fn an_interrupt_leaves_a_partial_report_that_a_rerun_completes() {
    let Some((server, _client, objects, _dir, manifest, report)) = setup(600) else {
        return;
    };
    let mut command = backfill(&server.endpoint, &manifest, &report, &["--concurrency", "1"]);
    let child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let until = Instant::now() + Duration::from_secs(60);
    while std::fs::read_to_string(&report).map_or(0, |t| t.lines().count()) < 10 {
        assert!(Instant::now() < until, "no progress");
        std::thread::sleep(Duration::from_millis(5));
    }
    interrupt(child.id());
    let output = child.wait_with_output().unwrap();
    let text =
        String::from_utf8_lossy(&output.stdout).into_owned() + &String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(130), "{text}");
    assert!(text.contains("interrupted"), "{text}");

    let partial = report::read(&report).unwrap();
    assert!(
        partial.len() >= 10 && partial.len() < objects.len(),
        "{} rows",
        partial.len()
    );
    assert!(
        partial.iter().all(|r| r.status == TaskStatus::Succeeded),
        "{partial:?}"
    );

    let (code, output) = run(backfill(&server.endpoint, &manifest, &report, &[]));
    assert_eq!(code, 0, "{output}");
    let done_now = objects.len() - partial.len();
    assert!(
        output.contains(&format!(
            "{} tasks: {done_now} succeeded, 0 failed, {} skipped",
            objects.len(),
            partial.len()
        )),
        "{output}"
    );
    let rows = report::read(&report).unwrap();
    assert_eq!(rows.len(), objects.len());
    assert_eq!(tasks(&rows), expected_tasks(&objects));
}

/// A server on a free port that answers every request with `answer` (or holds it unanswered when
/// `None`), counting them.
fn fake_s3(answer: Option<u16>) -> (String, Arc<AtomicUsize>) {
    let server = tiny_http::Server::http("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", server.server_addr().to_ip().unwrap());
    let count = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&count);
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for request in server.incoming_requests() {
            counted.fetch_add(1, Ordering::SeqCst);
            match answer {
                Some(status) => {
                    let body = "<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>";
                    let _ = request.respond(tiny_http::Response::from_string(body).with_status_code(status));
                }
                None => held.push(request),
            }
        }
    });
    (endpoint, count)
}

/// Ctrl-C, as a terminal sends it: SIGINT (through the shell's `kill`, so with no unsafe code).
fn interrupt(pid: u32) {
    let status = Command::new("sh")
        .arg("-c")
        .arg(format!("kill -INT {pid}"))
        .status()
        .unwrap();
    assert!(status.success());
}

fn small_manifest(dir: &Path, keys: &[&str]) -> PathBuf {
    let manifest = dir.join("manifest.csv");
    let text: String = keys.iter().map(|key| format!("{BUCKET},{key}\n")).collect();
    std::fs::write(&manifest, text).unwrap();
    manifest
}

#[test]
fn a_temporary_failure_is_retried_with_backoff_then_reported() {
    let (endpoint, requests) = fake_s3(Some(503));
    let dir = tempfile::tempdir().unwrap();
    let manifest = small_manifest(dir.path(), &["in/a.jpg", "in/b+c.jpg"]);
    let report = dir.path().join("report.csv");
    let started = Instant::now();
    let (code, output) = run(backfill(&endpoint, &manifest, &report, &["--retries", "2"]));
    assert_eq!(code, 1, "{output}");
    assert!(
        output.contains("2 tasks: 0 succeeded, 2 failed, 0 skipped (succeeded in the report); 4 retries"),
        "{output}"
    );
    // Three attempts per task, each stopped by its first answer; 0.5 s then 1 s between them.
    assert_eq!(requests.load(Ordering::SeqCst), 6);
    assert!(
        started.elapsed() >= Duration::from_millis(1_500),
        "{:?}",
        started.elapsed()
    );
    let rows = report::read(&report).unwrap();
    assert_eq!(rows.len(), 2);
    for row in rows {
        assert_eq!(
            (row.status, row.error_code.as_str()),
            (TaskStatus::Failed, "TemporaryFailure"),
            "{row:?}"
        );
    }
}

#[test]
fn a_second_interrupt_cuts_the_running_tasks() {
    let (endpoint, requests) = fake_s3(None);
    let dir = tempfile::tempdir().unwrap();
    let manifest = small_manifest(dir.path(), &["in/a.jpg", "in/b.jpg", "in/c.jpg"]);
    let report = dir.path().join("report.csv");
    let mut command = backfill(&endpoint, &manifest, &report, &["--concurrency", "2"]);
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let until = Instant::now() + Duration::from_secs(30);
    while requests.load(Ordering::SeqCst) < 2 {
        assert!(Instant::now() < until, "no request");
        std::thread::sleep(Duration::from_millis(5));
    }
    interrupt(child.id());
    // The first lets the running tasks go on (they wait for an answer that never comes).
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        child.try_wait().unwrap().is_none(),
        "ended at the first interrupt"
    );
    interrupt(child.id());
    let output = child.wait_with_output().unwrap();
    let text =
        String::from_utf8_lossy(&output.stdout).into_owned() + &String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(130), "{text}");
    assert!(text.contains("Ctrl-C again cuts them"), "{text}");
    assert!(text.contains("interrupted: 1 not started, 2 cut"), "{text}");
    assert_eq!(requests.load(Ordering::SeqCst), 2);
    assert!(report::read(&report).unwrap().is_empty());
}

#[test]
fn report_mode_writes_nothing_and_says_what_each_object_holds() {
    let Some((server, _client, objects, _dir, manifest, report)) = setup(NAMES.len() * 2) else {
        return;
    };
    let (code, output) = run(backfill(
        &server.endpoint,
        &manifest,
        &report,
        &["--mode", "report"],
    ));
    assert_eq!(code, 0, "{output}");
    assert!(
        !server.dir.path().join(BUCKET).join("out").exists(),
        "report mode wrote"
    );
    let rows = report::read(&report).unwrap();
    assert_eq!(tasks(&rows), expected_tasks(&objects));
    for object in &objects {
        let row = rows.iter().find(|r| r.key == object.encoded).unwrap();
        assert_eq!(row.status, TaskStatus::Succeeded, "{row:?}");
        let gps = exiftool::read(&object.body).keys().any(|k| k.starts_with("GPS:"));
        let expected = match (object.is_image(), gps) {
            (false, _) => "not an image",
            (true, true) => "GPS: yes",
            (true, false) => "GPS: no",
        };
        assert!(row.message.contains(expected), "{:?}: {row:?}", object.key);
    }

    let (code, output) = run(backfill(&server.endpoint, &manifest, &report, &["--mode", "fix"]));
    assert_eq!(code, 2, "{output}");
    assert!(output.contains("--mode"), "{output}");

    // A report made in report mode is not a strip's: resuming from it under other settings is
    // refused before any request, rather than skipping objects that were never stripped.
    let before = std::fs::read(&report).unwrap();
    let (code, output) = run(backfill(&server.endpoint, &manifest, &report, &[]));
    assert_eq!(code, 2, "{output}");
    assert!(output.contains("\"mode\":\"report\""), "{output}");
    assert_eq!(std::fs::read(&report).unwrap(), before);
    assert!(
        !server.dir.path().join(BUCKET).join("out").exists(),
        "a strip ran"
    );
    let (code, output) = run(backfill(
        &server.endpoint,
        &manifest,
        &report,
        &["--mode", "report"],
    ));
    assert_eq!(code, 0, "{output}");
}
