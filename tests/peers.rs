//! The cold-start benchmark's peers (`peers/`) are correct signers, or the comparison is void.
//!
//! Each peer is started as the benchmark starts it, under the Runtime API emulator, and given every
//! shipped event that edge-signer forwards; each answer must be the request signed exactly as
//! aws-sigv4 signs it at the `x-amz-date` the peer used (`support/origin.rs`). The Python peer runs
//! whenever `python3` is installed; the Node.js peer only when `peers/node-smithy/node_modules` is
//! there (`npm ci --prefix peers/node-smithy`, which `.ci/run` does, or one run of
//! `cargo bench --bench cold_start`), since tests do not install packages. Outside CI a missing
//! runtime or package skips its test with a message; under `CI=true` it fails the test, so that CI
//! cannot pass without checking the peers.

#[path = "support/origin.rs"]
mod origin;
#[path = "support/runtime_api.rs"]
mod runtime_api;

use origin::{credentials, verify_forwarded};
use runtime_api::{OutcomeKind, RuntimeApi};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, SystemTime};

const WAIT: Duration = Duration::from_secs(30);

/// The shipped events that edge-signer forwards (signed), with the default allow-list.
const FORWARDED: [&str; 6] = [
    "origin-request",
    "origin-s3",
    "key-reserved-chars",
    "query-allow-list",
    "region-china",
    "body-base64",
];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn available(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Skips the calling test with `why`, or fails it in CI (`CI=true`), where everything must run.
fn skip_unless_ci(why: &str) {
    let in_ci = std::env::var("CI").is_ok_and(|v| v.eq_ignore_ascii_case("true") || v == "1");
    assert!(!in_ci, "CI=true, and {why}: install it (see this file's header)");
    eprintln!("skipped: {why}");
}

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `program args` with the Lambda environment and the test credentials, sends it every
/// forwarded event, and checks each answer.
fn check_peer(program: &str, args: &[PathBuf], task_root: &Path) {
    let api = RuntimeApi::start().unwrap();
    let creds = credentials(true);
    let child = api
        .lambda_command(
            program,
            task_root,
            (
                creds.access_key_id(),
                creds.secret_access_key(),
                creds.session_token().unwrap(),
            ),
        )
        .args(args)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .stdin(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {program}: {e}"));
    let _child = Killed(child);

    let mut failures = Vec::new();
    for name in FORWARDED {
        let path = root().join(format!("vectors/events/{name}.json"));
        let event: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        let (id, outcome) = api.invoke_and_wait(serde_json::to_vec(&event).unwrap(), WAIT);
        let outcome =
            outcome.unwrap_or_else(|| panic!("{program}: no answer to {name} ({id}) within {WAIT:?}"));
        let body = String::from_utf8_lossy(&outcome.body).into_owned();
        if outcome.kind != OutcomeKind::Response {
            failures.push(format!("{name}: a function error: {body}"));
            continue;
        }
        let output = outcome.json();
        let date = origin::single_value(&output["headers"], "x-amz-date").unwrap_or_default();
        let format = time::macros::format_description!("[year][month][day]T[hour][minute][second]Z");
        let Ok(signed_at) = time::PrimitiveDateTime::parse(date, format) else {
            failures.push(format!("{name}: x-amz-date {date:?}: {body}"));
            continue;
        };
        let signed_at: SystemTime = signed_at.assume_utc().into();
        let skew = SystemTime::now()
            .duration_since(signed_at)
            .unwrap_or_else(|e| e.duration());
        if skew > Duration::from_secs(300) {
            failures.push(format!("{name}: x-amz-date {date} is not now"));
        }
        let cf = &event["Records"][0]["cf"];
        let request_id = cf["config"]["requestId"].as_str().unwrap();
        if let Err(e) = verify_forwarded(
            &cf["request"],
            &output,
            &["showExif".to_owned()],
            request_id,
            &creds,
            signed_at,
        ) {
            failures.push(format!("{name}: {e}\n  response: {body}"));
        }
    }
    assert_eq!(api.violations(), Vec::<String>::new());
    assert!(failures.is_empty(), "{program}:\n{}", failures.join("\n"));
}

#[test]
fn python_peer_signs_every_forwarded_event_as_aws_sigv4_does() {
    if !available("python3") {
        return skip_unless_ci("python3 is not installed");
    }
    let dir = root().join("peers/python");
    check_peer("python3", &[dir.join("bootstrap.py")], &dir);
}

#[test]
fn node_smithy_peer_signs_every_forwarded_event_as_aws_sigv4_does() {
    let dir = root().join("peers/node-smithy");
    if !available("node") || !dir.join("node_modules").is_dir() {
        return skip_unless_ci("the Node.js peer needs node and peers/node-smithy/node_modules");
    }
    check_peer(
        "node",
        &[root().join("peers/node-runtime/loop.js"), dir.clone()],
        &dir,
    );
}
