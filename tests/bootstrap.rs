//! The `origin-request` Lambda bootstrap as a black box: the real binary, started the way Lambda
//! starts it, talking to a local Runtime API emulator (`support/runtime_api.rs`).
//!
//! Checked: a valid event is answered with exactly what `edge-signer sign` prints for the same event
//! at the same second; one process serves many invocations; malformed events are function errors
//! and the process keeps serving; an unknown origin gets a generated 502; without credentials every
//! invocation fails and nothing is forwarded; an invalid `edge-signer.json` stops the process at
//! start (reported to `/init/error`); every log line of an invocation carries its request id, in
//! text and JSON; `AWS_LAMBDA_LOG_LEVEL` is honoured; and the logs never hold the secret key, the
//! session token, a signature or the event. (A panic: `bootstrap_panic.rs`.)
//!
//! Every wait is bounded, and the child is killed when a test ends, passing or not.

#[path = "support/runtime_api.rs"]
mod runtime_api;

use runtime_api::{Outcome, OutcomeKind, RuntimeApi};
use serde_json::{Value, json};
use std::fs;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tempfile::TempDir;

const BOOTSTRAP: &str = env!("CARGO_BIN_EXE_origin-request");
const CLI: &str = env!("CARGO_BIN_EXE_edge-signer");

const ACCESS_KEY_ID: &str = "AKIDEXAMPLE";
const SECRET_ACCESS_KEY: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
const SESSION_TOKEN: &str = "IQoJb3JpZ2luX2VjEXAMPLE//////////SESSIONTOKEN+bootstrap/test==";

/// How long to wait for anything the process should do promptly (start, answer, exit).
const WAIT: Duration = Duration::from_secs(20);
/// How long to wait for something that should not happen before concluding it did not.
const QUIET: Duration = Duration::from_millis(500);

const SIGNED_HEADERS: &str =
    "SignedHeaders=host;x-amz-cf-id;x-amz-content-sha256;x-amz-date;x-amz-security-token";
const ORIGIN: &str = "myap-123456789012.s3-object-lambda.us-west-2.amazonaws.com";

fn event_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("vectors/events/origin-request.json")
}

fn event() -> Value {
    serde_json::from_slice(&fs::read(event_path()).unwrap()).unwrap()
}

fn event_with(pointer: &str, value: Value) -> Vec<u8> {
    let mut event = event();
    *event
        .pointer_mut(pointer)
        .unwrap_or_else(|| panic!("no {pointer} in the event")) = value;
    serde_json::to_vec(&event).unwrap()
}

/// A fresh directory under the system temp dir, removed when dropped.
fn tempdir(label: &str) -> TempDir {
    tempfile::Builder::new()
        .prefix(&format!("edge-signer-bootstrap-{label}-"))
        .tempdir()
        .expect("a temporary directory")
}

/// A child process whose output is collected on threads (so a full pipe never blocks it) and
/// which is killed when dropped.
struct Process {
    child: Child,
    started: Instant,
    readers: Vec<JoinHandle<Vec<u8>>>,
}

/// What a finished process left.
struct Finished {
    status: ExitStatus,
    stdout: String,
    stderr: String,
}

impl Finished {
    fn logs(&self) -> String {
        format!("--- stdout\n{}--- stderr\n{}", self.stdout, self.stderr)
    }

    fn assert_no_secrets(&self) {
        let logs = self.logs();
        assert!(
            !logs.contains(SECRET_ACCESS_KEY),
            "the secret key was logged:\n{logs}"
        );
        assert!(
            !logs.contains(SESSION_TOKEN),
            "the session token was logged:\n{logs}"
        );
    }
}

impl Process {
    fn spawn(command: &mut Command) -> Self {
        let started = Instant::now();
        let (child, readers) = runtime_api::spawn_captured(command);
        Self {
            child,
            started,
            readers,
        }
    }

    /// The exit status if the process ends within `timeout`.
    fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            thread::sleep(Duration::from_millis(10));
        }
    }

    /// Kills the process if it still runs, and collects what it wrote.
    fn finish(mut self) -> Finished {
        let _ = self.child.kill();
        let status = self.child.wait().unwrap();
        let mut output = std::mem::take(&mut self.readers)
            .into_iter()
            .map(|reader| String::from_utf8_lossy(&reader.join().unwrap()).into_owned());
        Finished {
            status,
            stdout: output.next().unwrap(),
            stderr: output.next().unwrap(),
        }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The bootstrap as Lambda starts it: a bare environment with the runtime's variables, the code
/// directory in `LAMBDA_TASK_ROOT`, and the execution role's credentials.
fn bootstrap_command(api: &RuntimeApi, task_root: &Path) -> Command {
    api.lambda_command(
        BOOTSTRAP,
        task_root,
        (ACCESS_KEY_ID, SECRET_ACCESS_KEY, SESSION_TOKEN),
    )
}

/// An emulator, a code directory and a started bootstrap (after `configure` adjusted its command).
/// Each test has its own fresh code directory, so no stray configuration is picked up.
fn start(label: &str, configure: impl FnOnce(&mut Command, &Path)) -> (RuntimeApi, TempDir, Process) {
    let api = RuntimeApi::start().unwrap();
    let task_root = tempdir(label);
    let mut command = bootstrap_command(&api, task_root.path());
    configure(&mut command, task_root.path());
    let process = Process::spawn(&mut command);
    (api, task_root, process)
}

/// Waits for the outcome of `payload`, which must be of `kind`; returns the request id and it.
fn outcome_of(
    api: &RuntimeApi,
    process: &mut Process,
    payload: impl Into<Vec<u8>>,
    kind: OutcomeKind,
) -> (String, Outcome) {
    let (id, outcome) = api.invoke_and_wait(payload, WAIT);
    let Some(outcome) = outcome else {
        panic!(
            "no outcome for {id} within {WAIT:?}; exited: {:?}",
            process.wait_exit(Duration::ZERO)
        );
    };
    assert_eq!(
        outcome.kind,
        kind,
        "{id}: {}",
        String::from_utf8_lossy(&outcome.body)
    );
    (id, outcome)
}

/// Waits for the outcome of `payload`, which must be a `/response`; returns its JSON.
fn respond(api: &RuntimeApi, process: &mut Process, payload: impl Into<Vec<u8>>) -> (String, Value) {
    let (id, outcome) = outcome_of(api, process, payload, OutcomeKind::Response);
    (id, outcome.json())
}

/// Invokes, expects a function error, returns its `(errorType, errorMessage)`.
fn reject(api: &RuntimeApi, process: &mut Process, payload: impl Into<Vec<u8>>) -> (String, String) {
    let (id, outcome) = outcome_of(api, process, payload, OutcomeKind::Error);
    assert!(
        outcome.error_type.is_some(),
        "{id}: no Lambda-Runtime-Function-Error-Type header"
    );
    let json = outcome.json();
    let error_type = json["errorType"]
        .as_str()
        .unwrap_or_else(|| panic!("{id}: no errorType in {json}"))
        .to_owned();
    let message = outcome
        .error_message()
        .unwrap_or_else(|| panic!("{id}: no errorMessage in {json}"));
    (error_type, message)
}

fn header<'a>(request: &'a Value, name: &str) -> &'a str {
    request["headers"][name][0]["value"]
        .as_str()
        .unwrap_or_else(|| panic!("no {name} header in {request}"))
}

/// `x-amz-date` (`20150830T123600Z`) as seconds since the epoch and as RFC 3339.
fn amz_date(value: &str) -> (i64, String) {
    let format = time::macros::format_description!("[year][month][day]T[hour][minute][second]Z");
    let time = time::PrimitiveDateTime::parse(value, format)
        .unwrap_or_else(|e| panic!("x-amz-date {value:?}: {e}"))
        .assume_utc();
    let rfc3339 = time
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    (time.unix_timestamp(), rfc3339)
}

/// `edge-signer sign --at AT` on the sample event, with the same credentials; its JSON.
fn cli_sign(at: &str, task_root: &Path) -> Value {
    let mut command = Command::new(CLI);
    command
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("AWS_ACCESS_KEY_ID", ACCESS_KEY_ID)
        .env("AWS_SECRET_ACCESS_KEY", SECRET_ACCESS_KEY)
        .env("AWS_SESSION_TOKEN", SESSION_TOKEN)
        .current_dir(task_root)
        .args(["sign", "--at", at])
        .arg(event_path());
    let mut process = Process::spawn(&mut command);
    let exited = process.wait_exit(WAIT);
    let finished = process.finish();
    assert!(
        exited.is_some_and(|s| s.success()),
        "edge-signer sign: {exited:?}\n{}",
        finished.logs()
    );
    serde_json::from_str(&finished.stdout).unwrap_or_else(|e| panic!("{e}: {}", finished.stdout))
}

/// Stops the bootstrap and checks what every run must leave: no secret in the logs, no protocol
/// violation, and (if it was alive until the end) no exit of its own.
fn finish(api: &RuntimeApi, mut process: Process, expect_alive: bool) -> Finished {
    let exited = process.wait_exit(Duration::ZERO);
    let finished = process.finish();
    if expect_alive {
        assert_eq!(
            exited,
            None,
            "the bootstrap exited by itself\n{}",
            finished.logs()
        );
    }
    finished.assert_no_secrets();
    assert_eq!(api.violations(), Vec::<String>::new(), "{}", finished.logs());
    finished
}

#[test]
fn valid_event_is_forwarded_signed_exactly_as_the_cli_signs_it() {
    let (api, task_root, mut process) = start("valid", |_, _| {});
    assert!(
        api.wait_next_polls(1, WAIT),
        "the bootstrap never asked for an event"
    );
    let init = api.first_poll_at().unwrap() - process.started;
    let (id, forwarded) = respond(&api, &mut process, fs::read(event_path()).unwrap());
    let first_response = api.outcomes()[&id].at - process.started;
    let signed_at = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64;

    let authorization = header(&forwarded, "authorization");
    assert!(
        authorization.starts_with("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/"),
        "{authorization}"
    );
    assert!(
        authorization.contains("/us-west-2/s3-object-lambda/aws4_request, "),
        "{authorization}"
    );
    assert!(authorization.contains(SIGNED_HEADERS), "{authorization}");
    assert_eq!(forwarded["uri"], "/photos/summer%20trip/IMG_0042%20%281%29.jpg");
    assert_eq!(forwarded["querystring"], "showExif=true");
    assert_eq!(header(&forwarded, "host"), ORIGIN);
    assert_eq!(header(&forwarded, "x-amz-security-token"), SESSION_TOKEN);
    assert_eq!(header(&forwarded, "x-amz-content-sha256"), "UNSIGNED-PAYLOAD");
    assert!(
        forwarded["headers"].get("x-amz-server-side-encryption").is_none(),
        "{forwarded}"
    );

    let (date, at) = amz_date(header(&forwarded, "x-amz-date"));
    assert!(
        (signed_at - 60..=signed_at).contains(&date),
        "x-amz-date {at} is not within a minute before now"
    );
    assert_eq!(
        forwarded,
        cli_sign(&at, task_root.path()),
        "bootstrap vs edge-signer sign --at {at}"
    );

    let finished = finish(&api, process, true);
    assert!(
        finished.logs().contains(&id),
        "the invocation was not logged with its request id\n{}",
        finished.logs()
    );
    eprintln!(
        "bootstrap (debug build): start → first /next {init:?}, start → first /response {first_response:?}"
    );
}

#[test]
fn one_process_serves_many_invocations() {
    let (api, _task_root, mut process) = start("many", |_, _| {});
    let started = Instant::now();
    let mut authorizations = Vec::new();
    for i in 0..20 {
        let uri = format!("/photos/{i}/IMG {i}.jpg");
        let (_, forwarded) = respond(
            &api,
            &mut process,
            event_with("/Records/0/cf/request/uri", json!(uri)),
        );
        assert_eq!(forwarded["uri"], format!("/photos/{i}/IMG%20{i}.jpg"));
        let authorization = header(&forwarded, "authorization").to_owned();
        assert!(authorization.contains(SIGNED_HEADERS), "{authorization}");
        authorizations.push(authorization);
    }
    let elapsed = started.elapsed();
    authorizations.sort();
    authorizations.dedup();
    assert_eq!(authorizations.len(), 20, "each request has its own signature");
    assert!(
        api.wait_next_polls(21, WAIT),
        "the bootstrap stopped asking for events"
    );
    assert_eq!(api.outcomes().len(), 20);
    finish(&api, process, true);
    eprintln!("20 sequential invocations through the emulator: {elapsed:?}");
}

#[test]
fn malformed_events_are_function_errors_and_the_process_keeps_serving() {
    let (api, _task_root, mut process) = start("malformed", |_, _| {});
    // (case, payload, errorType, fragments of errorMessage).
    type Case<'a> = (&'a str, Vec<u8>, &'a str, &'a [&'a str]);
    let cases: [Case; 4] = [
        // Not JSON at all: lambda_runtime refuses it before the handler runs (it deserializes every
        // event), with its own error type. Lambda's Invoke API accepts only JSON payloads.
        (
            "not JSON",
            b"this is not JSON".to_vec(),
            "&lambda_runtime::deserializer::DeserializeError",
            &["failed to deserialize", "line 1 column 2"],
        ),
        (
            "viewer-request",
            event_with("/Records/0/cf/config/eventType", json!("viewer-request")),
            "WrongEventType",
            &["eventType", "\"origin-request\"", "\"viewer-request\""],
        ),
        (
            "missing uri",
            {
                let mut event = event();
                event["Records"][0]["cf"]["request"]
                    .as_object_mut()
                    .unwrap()
                    .remove("uri");
                serde_json::to_vec(&event).unwrap()
            },
            "MalformedEvent",
            &["Records[0].cf.request", "missing field `uri`"],
        ),
        (
            "CR/LF in a header value",
            event_with(
                "/Records/0/cf/request/headers/accept/0/value",
                json!("image/avif\r\nX-Injected: yes"),
            ),
            "MalformedEvent",
            &["Records[0].cf.request.headers.accept[0].value", "CR or LF"],
        ),
    ];
    for (case, payload, expected_type, expected) in cases {
        let (error_type, message) = reject(&api, &mut process, payload);
        assert_eq!(error_type, expected_type, "{case}: {message}");
        for fragment in expected {
            assert!(
                message.contains(fragment),
                "{case}: {fragment:?} not in {message:?}"
            );
        }
        // Still serving: a valid event right after is signed.
        let (_, forwarded) = respond(&api, &mut process, fs::read(event_path()).unwrap());
        assert!(
            header(&forwarded, "authorization").contains(SIGNED_HEADERS),
            "after {case}"
        );
    }
    let outcomes = api.outcomes();
    let errors = outcomes.values().filter(|o| o.kind == OutcomeKind::Error).count();
    assert_eq!((outcomes.len(), errors), (8, 4));
    let finished = finish(&api, process, true);
    assert!(!finished.logs().contains("panicked"), "{}", finished.logs());
}

#[test]
fn unknown_origin_gets_a_generated_502() {
    let (api, _task_root, mut process) = start("unknown-origin", |_, _| {});
    let payload = event_with(
        "/Records/0/cf/request/origin/custom/domainName",
        json!("bucket.s3.us-west-2.amazonaws.com"),
    );
    let (_, response) = respond(&api, &mut process, payload);
    assert_eq!(response["status"], "502", "{response}");
    assert_eq!(response["statusDescription"], "Bad Gateway", "{response}");
    assert!(
        response.get("uri").is_none(),
        "a request was forwarded: {response}"
    );
    let text = response.to_string();
    assert!(
        !text.contains("AWS4-HMAC-SHA256") && !text.contains(ACCESS_KEY_ID),
        "{response}"
    );
    finish(&api, process, true);
}

#[test]
fn without_credentials_every_invocation_fails_and_nothing_is_forwarded() {
    let (api, _task_root, mut process) = start("no-credentials", |command, _| {
        command.env_remove("AWS_ACCESS_KEY_ID");
    });
    for _ in 0..3 {
        let (error_type, message) = reject(&api, &mut process, fs::read(event_path()).unwrap());
        assert_eq!(error_type, "MissingCredentials", "{message}");
        assert!(message.contains("AWS_ACCESS_KEY_ID"), "{message}");
        assert!(
            !message.contains("AWS_SECRET_ACCESS_KEY"),
            "only the missing one: {message}"
        );
    }
    assert!(
        api.outcomes().values().all(|o| o.kind == OutcomeKind::Error),
        "something was forwarded"
    );
    let finished = finish(&api, process, true);
    assert!(
        finished.logs().contains("AWS_ACCESS_KEY_ID"),
        "the start-up error was not logged\n{}",
        finished.logs()
    );
}

#[test]
fn config_in_lambda_task_root_is_read() {
    let (api, _task_root, mut process) = start("config", |_, root| {
        fs::write(
            root.join("edge-signer.json"),
            r#"{"queryAllowList": ["showExif", "utm_source"]}"#,
        )
        .unwrap();
    });
    let (_, forwarded) = respond(&api, &mut process, fs::read(event_path()).unwrap());
    assert_eq!(forwarded["querystring"], "showExif=true&utm_source=newsletter");
    finish(&api, process, true);
}

/// The configuration is loaded at start, so an invalid file ends the process before its first
/// `/next`: the error is posted to `/init/error` (errorType `InvalidConfig`, so that the caller
/// sees what is wrong rather than `Runtime.ExitError`), written to stderr as `Error: …`, and the
/// exit status is 1.
#[test]
fn invalid_config_stops_the_process_at_start() {
    /// What is wrong, how to write it into the code directory, what stderr must say.
    type Case = (&'static str, fn(&Path), &'static [&'static str]);
    let cases: [Case; 3] = [
        (
            "misspelt key",
            |root| fs::write(root.join("edge-signer.json"), r#"{"queryAlowList": []}"#).unwrap(),
            &["edge-signer.json", "unknown field `queryAlowList`"],
        ),
        (
            "not JSON",
            |root| fs::write(root.join("edge-signer.json"), "queryAllowList = showExif").unwrap(),
            &["edge-signer.json", "expected value"],
        ),
        (
            "unreadable",
            |root| fs::create_dir(root.join("edge-signer.json")).unwrap(),
            &["edge-signer.json", "directory"],
        ),
    ];
    for (case, write, expected) in cases {
        let (api, _task_root, mut process) = start("bad-config", |_, root| write(root));
        let exited = process.wait_exit(WAIT);
        let finished = finish(&api, process, false);
        let logs = finished.logs();
        assert!(exited.is_some(), "{case}: still running after {WAIT:?}\n{logs}");
        assert_eq!(
            finished.status.code(),
            Some(1),
            "{case}: {}\n{logs}",
            finished.status
        );
        assert!(finished.stderr.starts_with("Error: "), "{case}:\n{logs}");
        for fragment in expected {
            assert!(
                finished.stderr.contains(fragment),
                "{case}: {fragment:?} not in\n{logs}"
            );
        }
        assert_eq!(api.next_polls(), 0, "{case}: init went on to /next");
        let init_errors = api.wait_init_errors(QUIET);
        let [init_error] = init_errors.as_slice() else {
            panic!("{case}: {} /init/error posts\n{logs}", init_errors.len());
        };
        assert_eq!(init_error.error_type.as_deref(), Some("Unhandled"), "{case}");
        assert_eq!(init_error.json()["errorType"], "InvalidConfig", "{case}");
        let message = init_error.error_message().unwrap_or_default();
        for fragment in expected {
            assert!(
                message.contains(fragment),
                "{case}: {fragment:?} not in {message:?}"
            );
        }
        assert_eq!(api.exchanges().len(), 1, "{case}: {:?}", api.exchanges());
    }
}

/// In both log formats, at the default level and at the most verbose one, with every kind of
/// outcome exercised: never the secret key, the session token or a signature. The event itself is
/// not logged either, not even at TRACE (lambda_runtime's line with the raw event is filtered out:
/// it holds the viewer's `Authorization`).
#[test]
fn logs_never_hold_the_secret_key_or_the_session_token() {
    for format in ["Text", "JSON"] {
        for level in [None, Some("TRACE")] {
            let (api, _task_root, mut process) = start("logs", |command, _| {
                command.env("AWS_LAMBDA_LOG_FORMAT", format);
                if let Some(level) = level {
                    command.env("AWS_LAMBDA_LOG_LEVEL", level);
                }
            });
            let (id, forwarded) = respond(&api, &mut process, fs::read(event_path()).unwrap());
            let authorization = header(&forwarded, "authorization");
            let signature = authorization
                .split_once("Signature=")
                .map(|(_, signature)| signature.to_owned())
                .unwrap_or_else(|| panic!("no signature in {authorization}"));
            reject(&api, &mut process, b"{".to_vec());
            reject(
                &api,
                &mut process,
                event_with("/Records/0/cf/config/eventType", json!("viewer-request")),
            );
            let unknown = event_with(
                "/Records/0/cf/request/origin/custom/domainName",
                json!("example.com"),
            );
            let (_, response) = respond(&api, &mut process, unknown);
            assert_eq!(response["status"], "502");
            let finished = finish(&api, process, true);
            let logs = finished.logs();
            let case = format!("{format} at {}", level.unwrap_or("the default level"));
            // The logs were captured at all (else the checks prove nothing).
            assert!(logs.contains(&id), "{case}: {logs}");
            // Lambda's logging controls took effect: the format (one JSON object per line, or
            // text), and the level (TRACE shows lambda_runtime's trace lines).
            let lines: Vec<&str> = finished.stdout.lines().filter(|l| !l.is_empty()).collect();
            assert!(!lines.is_empty(), "{case}: nothing on stdout\n{logs}");
            for line in &lines {
                let parsed = serde_json::from_str::<Value>(line).map(|v| v.is_object());
                assert_eq!(parsed.unwrap_or(false), format == "JSON", "{case}: {line}");
            }
            assert_eq!(
                lines
                    .iter()
                    .any(|l| l.starts_with("TRACE") || l.contains(r#""level":"TRACE""#)),
                level.is_some(),
                "{case}: level\n{logs}"
            );
            assert!(
                !logs.contains("Signature=") && !logs.contains(&signature),
                "{case}: a signature was logged\n{logs}"
            );
            assert!(
                !logs.contains("Bearer viewer-token"),
                "{case}: the event was logged\n{logs}"
            );
        }
    }
}

/// The request id of the invocation a log line belongs to: in text, lambda_runtime's span
/// (`Lambda runtime invoke{requestId="…"}`); in JSON, the `span` object's `requestId`.
fn line_request_id(line: &str, format: &str) -> Option<String> {
    if format == "JSON" {
        let parsed: Value = serde_json::from_str(line).ok()?;
        parsed["span"]["requestId"].as_str().map(str::to_owned)
    } else {
        let start = line.find("requestId=\"")? + "requestId=\"".len();
        let end = line[start..].find('"')? + start;
        Some(line[start..end].to_owned())
    }
}

/// Lambda's advanced logging controls, both formats: every line an invocation writes (success,
/// generated response, rejected event) names that invocation's request id, as a field of
/// lambda_runtime's span, and nothing goes to stderr.
#[test]
fn every_log_line_of_an_invocation_carries_its_request_id() {
    for format in ["Text", "JSON"] {
        let (api, _task_root, mut process) = start("request-id", |command, _| {
            command.env("AWS_LAMBDA_LOG_FORMAT", format);
        });
        let mut ids = Vec::new();
        ids.push(respond(&api, &mut process, fs::read(event_path()).unwrap()).0);
        let unknown = event_with(
            "/Records/0/cf/request/origin/custom/domainName",
            json!("example.com"),
        );
        ids.push(respond(&api, &mut process, unknown).0);
        let (id, _) = outcome_of(
            &api,
            &mut process,
            event_with("/Records/0/cf/config/eventType", json!("viewer-request")),
            OutcomeKind::Error,
        );
        ids.push(id);
        let finished = finish(&api, process, true);
        let logs = finished.logs();
        eprintln!("{format}:\n{logs}");
        assert_eq!(finished.stderr, "", "{format}: stderr\n{logs}");
        let lines: Vec<&str> = finished.stdout.lines().filter(|l| !l.is_empty()).collect();
        for line in &lines {
            let id = line_request_id(line, format);
            assert!(
                id.as_ref().is_some_and(|id| ids.contains(id)),
                "{format}: a line without its invocation's request id: {line}\n{logs}"
            );
        }
        for id in &ids {
            let count = lines
                .iter()
                .filter(|l| line_request_id(l, format).as_ref() == Some(id))
                .count();
            assert!(count >= 1, "{format}: nothing logged for {id}\n{logs}");
        }
    }
}

/// `AWS_LAMBDA_LOG_LEVEL` (else `RUST_LOG`) sets the most verbose level written: a signed request
/// is logged at INFO, a generated response at WARN, a rejected event at ERROR. Lambda's `FATAL`
/// writes errors only.
#[test]
fn aws_lambda_log_level_is_honoured() {
    type Case = (&'static [(&'static str, &'static str)], &'static [&'static str]);
    let cases: [Case; 5] = [
        (&[], &["INFO", "WARN", "ERROR"]),
        (&[("AWS_LAMBDA_LOG_LEVEL", "WARN")], &["WARN", "ERROR"]),
        (&[("AWS_LAMBDA_LOG_LEVEL", "error")], &["ERROR"]),
        (&[("AWS_LAMBDA_LOG_LEVEL", "FATAL")], &["ERROR"]),
        (&[("RUST_LOG", "warn")], &["WARN", "ERROR"]),
    ];
    for (env, expected) in cases {
        let (api, _task_root, mut process) = start("level", |command, _| {
            command.env("AWS_LAMBDA_LOG_FORMAT", "JSON");
            command.envs(env.iter().copied());
        });
        respond(&api, &mut process, fs::read(event_path()).unwrap());
        let unknown = event_with(
            "/Records/0/cf/request/origin/custom/domainName",
            json!("example.com"),
        );
        respond(&api, &mut process, unknown);
        reject(
            &api,
            &mut process,
            event_with("/Records/0/cf/config/eventType", json!("viewer-request")),
        );
        let finished = finish(&api, process, true);
        let logs = finished.logs();
        let mut levels: Vec<String> = finished
            .stdout
            .lines()
            .filter(|l| !l.is_empty())
            .map(|line| {
                let parsed: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
                parsed["level"].as_str().unwrap_or_default().to_owned()
            })
            .collect();
        levels.dedup();
        assert_eq!(levels, expected, "{env:?}\n{logs}");
    }
}

/// Started by hand, without the variables Lambda sets, the bootstrap says so and exits 1 (rather
/// than lambda_runtime's panic).
#[test]
fn started_outside_lambda_it_says_so() {
    let mut command = Command::new(BOOTSTRAP);
    command
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default());
    let mut process = Process::spawn(&mut command);
    let exited = process.wait_exit(WAIT);
    let finished = process.finish();
    assert_eq!(exited.and_then(|s| s.code()), Some(1), "{}", finished.logs());
    assert!(
        finished
            .stderr
            .starts_with("Error: AWS_LAMBDA_RUNTIME_API is not set"),
        "{}",
        finished.logs()
    );
    assert!(!finished.logs().contains("panicked"), "{}", finished.logs());
}
