//! The upload trigger end to end through ministack (PyPI), a local AWS emulator: real bucket
//! notifications invoke the `s3-event` function (provided.al2023, run from a zip as a process)
//! with its role's temporary credentials, which ministack checks against the role's policy.
//!
//! `tests/ministack/arrangement.py` (boto3) sets up what `deploy/` sets up, in small: a source
//! bucket whose uploads under `in/` invoke the function, a destination bucket and prefix, an
//! execution role with only the permissions the function needs, an IAM user that uploads. The
//! zip is made from the `s3-event` binary this test is built with (`bootstrap` at its root); set
//! `EDGE_SIGNER_S3_EVENT_ZIP` to run a packaged zip (`scripts/package`) instead.
//!
//! `scripts/ministack` installs ministack into a venv under `target/` (`scripts/test` runs it
//! first). When it cannot, the test fails under `CI=true`, and elsewhere says so and returns.

#[path = "support/exiftool.rs"]
mod exiftool;

use edge_signer::triggers::{OUTPUT_MARKER, SOURCE_ETAG};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::io::Write;
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const JPEG: &[u8] = include_bytes!("../samples/images/sample.jpg");
const PNG: &[u8] = include_bytes!("../samples/images/sample.png");
const TEXT: &[u8] = include_bytes!("../samples/images/readme.txt");

const SOURCE: &str = "uploads";
const DEST: &str = "public";
const SOURCE_PREFIX: &str = "in/";
const DEST_PREFIX: &str = "clean/";
const EXIF_SUFFIX: &str = ".exif.json";

/// Keys (after `in/`) with the characters S3 event keys encode: spaces, `+`, `%`, `( ) ! * '`,
/// `: ; = , @ $ &`, `~`, non-ASCII, `//`, and `? #`.
const HOSTILE: [&str; 10] = [
    "plain.jpg",
    "red flower.jpg",
    "a+b.png",
    "c++/(1) copy!*'.jpg",
    "x:y;z=,@$&.png",
    "%41pct.jpg",
    "~tilde.png",
    "ü/日本.jpg",
    "a//b.jpg",
    "q?s#h.png",
];

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A running ministack on a free loopback port, killed when dropped.
struct Ministack {
    child: Child,
    endpoint: String,
    python: PathBuf,
    /// Its TMPDIR (where it unpacks function code) and the test's files.
    dir: tempfile::TempDir,
}

impl Ministack {
    fn start() -> Option<Self> {
        let install = Command::new(root().join("scripts/ministack"))
            .stderr(Stdio::inherit())
            .output();
        let venv = match install {
            Ok(out) if out.status.success() => PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()),
            failed => {
                let why = match failed {
                    Ok(out) => out.status.to_string(),
                    Err(e) => e.to_string(),
                };
                assert!(
                    !in_ci(),
                    "scripts/ministack could not install ministack ({why}); its messages are above"
                );
                eprintln!("NOTE: scripts/ministack could not install ministack ({why}). Skipped outside CI.");
                return None;
            }
        };
        let dir = tempfile::tempdir().expect("a temporary directory");
        let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .and_then(|l| l.local_addr())
            .expect("a free loopback port")
            .port();
        // Its own TMPDIR, where it unpacks the function's code (scripts/ministack passes it on).
        let log = std::fs::File::create(dir.path().join("ministack.log")).expect("a log file");
        let child = Command::new(root().join("scripts/ministack"))
            .args(["serve", &port.to_string()])
            .env("TMPDIR", dir.path())
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("a log file"))
            .stderr(log)
            .spawn()
            .expect("start scripts/ministack serve");
        let mut server = Self {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
            python: venv.join("bin/python"),
            dir,
        };
        let until = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect((Ipv4Addr::LOCALHOST, port)).is_err() {
            if let Ok(Some(status)) = server.child.try_wait() {
                panic!("ministack exited at start ({status}):\n{}", server.log());
            }
            assert!(
                Instant::now() < until,
                "ministack did not listen within 30 s:\n{}",
                server.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Some(server)
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("ministack.log")).unwrap_or_default()
    }

    /// `arrangement.py ARGS` as the root account (or `as_user`'s keys), with `stdin`; its stdout.
    fn arrangement(&self, args: &[&str], as_user: Option<&Value>, stdin: &str) -> String {
        let (key, secret) = match as_user {
            Some(user) => (
                user["MINISTACK_ACCESS_KEY_ID"].as_str().expect("a key id"),
                user["MINISTACK_SECRET_ACCESS_KEY"].as_str().expect("a secret"),
            ),
            None => ("test", "test"),
        };
        let mut child = Command::new(&self.python)
            .arg(root().join("tests/ministack/arrangement.py"))
            .args(args)
            .env("AWS_ENDPOINT_URL", &self.endpoint)
            .env("MINISTACK_ACCESS_KEY_ID", key)
            .env("MINISTACK_SECRET_ACCESS_KEY", secret)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run arrangement.py");
        child
            .stdin
            .take()
            .expect("its stdin")
            .write_all(stdin.as_bytes())
            .expect("write its stdin");
        let out = child.wait_with_output().expect("arrangement.py ran");
        assert!(
            out.status.success(),
            "arrangement.py {args:?} failed: {}\n--- ministack's log:\n{}",
            String::from_utf8_lossy(&out.stderr),
            self.log()
        );
        String::from_utf8(out.stdout).expect("UTF-8 output")
    }

    /// The function's log lines (CloudWatch Logs).
    fn function_log(&self, function: &str) -> String {
        self.arrangement(&["logs", function], None, "")
    }
}

impl Drop for Ministack {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The function's zip: `EDGE_SIGNER_S3_EVENT_ZIP`, or this build's `s3-event` zipped.
fn function_zip(stack: &Ministack) -> String {
    match std::env::var("EDGE_SIGNER_S3_EVENT_ZIP") {
        Ok(zip) if !zip.is_empty() => zip,
        _ => {
            let zip = stack.dir.path().join("s3-event.zip").display().to_string();
            stack.arrangement(&["zip", env!("CARGO_BIN_EXE_s3-event"), "--out", &zip], None, "");
            zip
        }
    }
}

struct Upload {
    key: String,
    bytes: &'static [u8],
    content_type: &'static str,
    /// How it is uploaded: `{}` PutObject, `{"multipart": true}`, `{"copy_from": KEY}`.
    how: Value,
}

impl Upload {
    fn put(key: String, bytes: &'static [u8], content_type: &'static str) -> Self {
        Self {
            key,
            bytes,
            content_type,
            how: json!({}),
        }
    }
}

/// Everything uploaded under the prefix: the hostile keys (JPEG and PNG), a text file, a
/// multipart upload and a copy.
fn uploads() -> Vec<Upload> {
    let mut all: Vec<Upload> = HOSTILE
        .iter()
        .map(|name| {
            let bytes = if name.ends_with(".png") { PNG } else { JPEG };
            // What the upload says does not matter: a stripped image gets its format's type.
            Upload::put(
                format!("{SOURCE_PREFIX}{name}"),
                bytes,
                "application/octet-stream",
            )
        })
        .collect();
    let text = "text/plain; charset=utf-8";
    all.push(Upload::put(
        format!("{SOURCE_PREFIX}notes/readme.txt"),
        TEXT,
        text,
    ));
    // ObjectCreated:CompleteMultipartUpload (an ETag `md5-1`) and ObjectCreated:Copy.
    all.push(Upload {
        key: format!("{SOURCE_PREFIX}multi part ü.png"),
        bytes: PNG,
        content_type: "image/png",
        how: json!({ "multipart": true }),
    });
    all.push(Upload {
        key: format!("{SOURCE_PREFIX}copies/plain copy.jpg"),
        bytes: JPEG,
        content_type: "image/jpeg",
        how: json!({ "copy_from": format!("{SOURCE_PREFIX}{}", HOSTILE[0]) }),
    });
    all
}

fn dest_key(source_key: &str) -> String {
    format!("{DEST_PREFIX}{}", &source_key[SOURCE_PREFIX.len()..])
}

/// `arrangement.py setup --zip ZIP ARGS` (space-separated): the uploader's keys and the ARNs.
fn setup(stack: &Ministack, zip: &str, args: &str) -> Value {
    let mut all = vec!["setup", "--zip", zip];
    all.extend(args.split_whitespace());
    serde_json::from_str(&stack.arrangement(&all, None, "")).expect("setup's JSON")
}

/// Uploads `uploads` to `bucket` as `user`, in order, each with the user metadata `index` = its
/// position; the ETags S3 gave them.
fn put(stack: &Ministack, user: &Value, bucket: &str, uploads: &[Upload]) -> Vec<String> {
    let mut list = Vec::new();
    for (n, upload) in uploads.iter().enumerate() {
        let path = stack.dir.path().join(format!("upload-{bucket}-{n}"));
        std::fs::write(&path, upload.bytes).expect("write an upload");
        let mut entry = json!({
            "bucket": bucket, "key": upload.key, "file": path, "content_type": upload.content_type,
            "cache_control": "max-age=60", "metadata": { "index": n.to_string() },
        });
        for (name, value) in upload.how.as_object().expect("an object") {
            entry[name] = value.clone();
        }
        list.push(entry);
    }
    let etags = stack.arrangement(&["put", "-"], Some(user), &Value::from(list).to_string());
    serde_json::from_str(&etags).expect("a JSON list of ETags")
}

/// Waits (up to 60 s) for `keys` in `bucket`, with the user metadata `metadata` (`K=V`) if
/// given, and downloads them; their index entries and the bucket's listing. On a time-out,
/// prints `function`'s log.
fn wait(
    stack: &Ministack,
    function: &str,
    bucket: &str,
    keys: &[String],
    metadata: Option<&str>,
) -> (Vec<Value>, BTreeSet<String>) {
    let out = stack.dir.path().join(format!("out-{bucket}"));
    let out_arg = out.display().to_string();
    let mut args = vec!["wait", bucket, "--out", &out_arg, "--timeout", "60"];
    args.extend(keys.iter().map(String::as_str));
    if let Some(metadata) = metadata {
        args.extend(["--metadata", metadata]);
    }
    let waited = std::panic::catch_unwind(|| stack.arrangement(&args, None, ""));
    if let Err(panic) = waited {
        eprintln!("--- {function}'s log:\n{}", stack.function_log(function));
        std::panic::resume_unwind(panic);
    }
    let index: Value =
        serde_json::from_slice(&std::fs::read(out.join("index.json")).expect("index.json")).expect("JSON");
    let listed = index["listed"].as_array().expect("a listing");
    let listed = listed
        .iter()
        .map(|k| k.as_str().expect("a key").to_owned())
        .collect();
    (index["objects"].as_array().expect("objects").clone(), listed)
}

fn pixels(bytes: &[u8]) -> image::RgbaImage {
    image::load_from_memory(bytes)
        .expect("an image that decodes")
        .to_rgba8()
}

fn read(entry: &Value) -> Vec<u8> {
    std::fs::read(Path::new(entry["file"].as_str().expect("a file"))).expect("a downloaded object")
}

#[test]
fn uploads_under_hostile_keys_are_stripped_into_the_destination() {
    let started = Instant::now();
    let Some(stack) = Ministack::start() else { return };
    let zip = function_zip(&stack);
    let arrangement = format!(
        "--function s3-event --source-bucket {SOURCE} --source-prefix {SOURCE_PREFIX} \
         --dest-bucket {DEST} --dest-prefix {DEST_PREFIX} --exif-suffix {EXIF_SUFFIX}"
    );
    let main = setup(&stack, &zip, &arrangement);
    // A second function whose role may read but not write: ministack must refuse its PUT, which
    // shows that the function signs with its role's session credentials and that they are checked.
    let denied = setup(
        &stack,
        &zip,
        &format!(
            "--function s3-event-denied --source-bucket uploads-denied --source-prefix {SOURCE_PREFIX} \
             --dest-bucket {DEST} --dest-prefix denied/ --no-put"
        ),
    );

    let mut uploads = uploads();
    // Outside the notification's prefix: no invocation, nothing written.
    uploads.push(Upload::put("elsewhere/outside.jpg".into(), JPEG, "image/jpeg"));
    let etags = put(&stack, &main["uploader"], SOURCE, &uploads);
    uploads.pop();
    let refused = Upload::put(format!("{SOURCE_PREFIX}refused.jpg"), JPEG, "image/jpeg");
    put(&stack, &denied["uploader"], "uploads-denied", &[refused]);

    let multipart = uploads
        .iter()
        .position(|u| u.how["multipart"] == true)
        .expect("one");
    assert!(
        etags[multipart].ends_with("-1"),
        "a multipart ETag: {}",
        etags[multipart]
    );

    let mut expected = Vec::new();
    for u in &uploads {
        expected.push(dest_key(&u.key));
        if u.bytes != TEXT {
            expected.push(dest_key(&u.key) + EXIF_SUFFIX);
        }
    }
    let (objects, listed) = wait(&stack, "s3-event", DEST, &expected, None);

    for (n, upload) in uploads.iter().enumerate() {
        let key = dest_key(&upload.key);
        let object = objects
            .iter()
            .find(|o| o["key"] == key.as_str())
            .expect("downloaded");
        let body = read(object);
        let metadata = &object["metadata"];
        assert_eq!(
            metadata["index"],
            n.to_string(),
            "{key}: user metadata kept (and from its own source)"
        );
        assert_eq!(metadata[OUTPUT_MARKER], "1", "{key}: the output marker");
        assert_eq!(
            metadata[SOURCE_ETAG],
            etags[n].as_str(),
            "{key}: the source's ETag"
        );
        assert_eq!(object["cache_control"], "max-age=60", "{key}: Cache-Control kept");
        if upload.bytes == TEXT {
            assert_eq!(body, TEXT, "{key}: a non-image is copied unchanged");
            assert_eq!(object["content_type"], upload.content_type, "{key}: its own type");
            assert!(
                !listed.contains(&(key.clone() + EXIF_SUFFIX)),
                "{key}: no EXIF JSON"
            );
            continue;
        }
        assert_stripped(&key, &body, upload.bytes);
        let png = upload.bytes == PNG;
        assert_eq!(
            object["content_type"],
            if png { "image/png" } else { "image/jpeg" },
            "{key}"
        );

        let report = objects
            .iter()
            .find(|o| o["key"] == (key.clone() + EXIF_SUFFIX).as_str())
            .expect("downloaded");
        assert_eq!(report["content_type"], "application/json", "{key}{EXIF_SUFFIX}");
        let report: Value = serde_json::from_slice(&read(report)).expect("the EXIF JSON");
        let original = exiftool::read(upload.bytes);
        for (ours, theirs) in [
            ("latitude", "Composite:GPSLatitude"),
            ("longitude", "Composite:GPSLongitude"),
        ] {
            let (ours, theirs) = (report["position"][ours].as_f64(), original[theirs].as_f64());
            assert!(
                matches!((ours, theirs), (Some(a), Some(b)) if (a - b).abs() < 1e-9),
                "{key}{EXIF_SUFFIX}: {ours:?}, exiftool {theirs:?}"
            );
        }
    }

    // The role without s3:PutObject: its function ran with the role's session (ministack names
    // it in the refusal), was refused, and wrote nothing.
    let refused = wait_for_log(&stack, "s3-event-denied", |log| {
        log.contains("refused.jpg") && log.contains("AccessDenied")
    });
    assert!(
        refused.contains("assumed-role/s3-event-denied-role/s3-event-denied"),
        "the refusal names the role's session:\n{refused}"
    );

    // Exactly the expected objects: nothing for the key outside the prefix, nothing from the
    // refused role. (The outputs' bucket has no notification, so nothing comes back.)
    let (_, listed) = wait(&stack, "s3-event", DEST, &expected[..1], None);
    let expected: BTreeSet<String> = expected.into_iter().collect();
    assert_eq!(
        listed, expected,
        "the destination bucket holds exactly the outputs"
    );
    let log = stack.function_log("s3-event");
    assert!(!log.contains("outside.jpg"), "{log}");
    for log in [&log, &refused] {
        assert!(
            !log.contains("ASIA") && !log.contains("AKIA"),
            "a credential in the log:\n{log}"
        );
    }
    eprintln!(
        "ministack, into the destination: {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

/// In place (destination = source, `DEST_PREFIX` = `SOURCE_PREFIX`), the function's own write
/// fires a second real notification: that invocation sees the output marker and writes nothing,
/// so the chain ends after two invocations.
#[test]
fn in_place_the_functions_own_write_comes_back_once_and_ends_there() {
    let started = Instant::now();
    let Some(stack) = Ministack::start() else { return };
    let zip = function_zip(&stack);
    let arrangement = "--function s3-event-in-place --source-bucket photos --source-prefix in/ \
                       --dest-bucket photos --dest-prefix in/ --exif-suffix=";
    let setup = setup(&stack, &zip, arrangement);
    let key = "in/täglich (1)+2.jpg".to_owned();
    let etags = put(
        &stack,
        &setup["uploader"],
        "photos",
        &[Upload::put(key.clone(), JPEG, "image/jpeg")],
    );

    let marker = format!("{OUTPUT_MARKER}=1");
    let (objects, listed) = wait(
        &stack,
        "s3-event-in-place",
        "photos",
        std::slice::from_ref(&key),
        Some(&marker),
    );
    assert_stripped(&key, &read(&objects[0]), JPEG);
    assert_eq!(objects[0]["metadata"][SOURCE_ETAG], etags[0].as_str());
    assert_eq!(objects[0]["metadata"]["index"], "0");
    assert_eq!(listed, BTreeSet::from([key.clone()]), "no other object");

    // Two invocations for the key: the upload's (stripped) and the output's (its own, no write).
    let records = |log: &str| log.lines().filter(|l| l.contains("täglich (1)+2.jpg")).count();
    let log = wait_for_log(&stack, "s3-event-in-place", |log| records(log) >= 2);
    std::thread::sleep(Duration::from_secs(2));
    let log_after = stack.function_log("s3-event-in-place");
    assert_eq!(
        records(&log_after),
        2,
        "the chain did not end at its second invocation:\n{log_after}"
    );
    // CloudWatch Logs gives the invocations' streams in no particular order.
    let lines: Vec<&str> = log.lines().filter(|l| l.contains("täglich")).collect();
    let stripped = lines.iter().filter(|l| l.contains("outcome=stripped")).count();
    let wrote_nothing = lines
        .iter()
        .filter(|l| !l.contains("outcome=stripped") && l.contains("bytes_out=0"))
        .count();
    assert_eq!(
        (stripped, wrote_nothing),
        (1, 1),
        "one strip, then one invocation that wrote nothing: {lines:#?}"
    );
    let (again, _) = wait(
        &stack,
        "s3-event-in-place",
        "photos",
        std::slice::from_ref(&key),
        None,
    );
    assert_eq!(
        read(&again[0]),
        read(&objects[0]),
        "the output was not written twice"
    );
    eprintln!("ministack, in place: {:.1} s", started.elapsed().as_secs_f64());
}

/// exiftool finds nothing identifying in `output`, whose pixels are `original`'s.
fn assert_stripped(key: &str, output: &[u8], original: &[u8]) {
    let identifying = exiftool::identifying(&exiftool::read(output));
    assert!(
        identifying.is_empty(),
        "{key}: exiftool still finds {identifying:?}"
    );
    assert!(pixels(output) == pixels(original), "{key}: the pixels changed");
}

/// Polls `function`'s log (up to 30 s) until `done` says so; the log.
fn wait_for_log(stack: &Ministack, function: &str, done: impl Fn(&str) -> bool) -> String {
    let until = Instant::now() + Duration::from_secs(30);
    loop {
        let log = stack.function_log(function);
        if done(&log) {
            return log;
        }
        assert!(
            Instant::now() < until,
            "{function}'s log, after 30 s:\n{log}\n--- ministack's log:\n{}",
            stack.log()
        );
        std::thread::sleep(Duration::from_millis(250));
    }
}
