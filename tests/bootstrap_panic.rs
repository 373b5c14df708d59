//! A panicking handler on lambda_runtime, in a child process, against the Runtime API emulator
//! (`support/runtime_api.rs`): the composition the bootstraps use (`edge_signer::bootstrap`'s log
//! set-up and `catch_panic` around a handler, `lambda_runtime::run`), with a handler that panics
//! on demand; no bootstrap can be made to panic from outside, and none carries a hook for it.
//!
//! Checked: the panicking invocation is answered with its own error (`errorType` `Panic`, the
//! panic's message), the process serves the next invocation, and the panic is logged as one line
//! with the invocation's request id. Without `catch_panic`, lambda_runtime alone also turns the
//! panic into the invocation's error and keeps serving, but names the error after a Rust type.
//!
//! lambda_runtime reads its settings from the process environment only, so the runtime under test
//! is this test binary again, started with that environment (`runtime_child`), not a thread of
//! this process: setting the environment of a running process is `unsafe`.

#[path = "support/runtime_api.rs"]
mod runtime_api;

use edge_signer::bootstrap::{PANIC, catch_panic, init_logging};
use lambda_runtime::{Diagnostic, LambdaEvent, service_fn};
use runtime_api::{OutcomeKind, RuntimeApi};
use serde_json::{Value, json};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(20);

/// Echoes the event, or panics when it says `{"panic": true}`.
async fn echo_or_panic(event: LambdaEvent<Value>) -> Result<Value, Diagnostic> {
    if event.payload["panic"] == json!(true) {
        let index = event.payload["index"].as_u64().unwrap_or_default();
        panic!("index {index} out of range");
    }
    Ok(event.payload)
}

/// Names the child's mode: `catch` (the bootstraps' composition) or `bare` (lambda_runtime alone).
const CHILD_MODE: &str = "EDGE_SIGNER_PANIC_TEST_CHILD";

/// The runtime under test, when this binary is started by [`serve`] (with [`CHILD_MODE`] set);
/// otherwise it returns at once.
#[test]
#[ignore = "the runtime under test: started as a child process by the test below"]
fn runtime_child() {
    let Some(mode) = std::env::var(CHILD_MODE).ok() else {
        return;
    };
    init_logging();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    // Ends when the emulator is dropped (the Runtime API fails), or when the parent kills it.
    let _ = runtime.block_on(async move {
        if mode == "catch" {
            lambda_runtime::run(service_fn(|event| catch_panic(echo_or_panic(event)))).await
        } else {
            lambda_runtime::run(service_fn(echo_or_panic)).await
        }
    });
}

/// Starts [`runtime_child`] against `api`, with `catch_panic` or without; its log lines go to
/// its standard output.
fn serve(api: &RuntimeApi, with_catch_panic: bool) -> Child {
    let child = Command::new(std::env::current_exe().unwrap())
        .args([
            "runtime_child",
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_MODE, if with_catch_panic { "catch" } else { "bare" })
        .env("AWS_LAMBDA_RUNTIME_API", api.address())
        .env("AWS_LAMBDA_FUNCTION_NAME", "panics")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "1")
        .env_remove("AWS_LAMBDA_LOG_FORMAT")
        .env_remove("AWS_LAMBDA_LOG_LEVEL")
        .env_remove("RUST_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    assert!(
        api.wait_next_polls(1, WAIT),
        "the runtime never asked for an event"
    );
    child
}

/// Stops `child` and returns what it wrote.
fn stop(mut child: Child) -> String {
    child.kill().unwrap();
    let output = child.wait_with_output().unwrap();
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Invokes `payload` and returns the outcome, which must be of `kind`.
fn outcome(api: &RuntimeApi, payload: Value, kind: OutcomeKind) -> (String, runtime_api::Outcome) {
    let (id, outcome) = api.invoke_and_wait(payload.to_string(), WAIT);
    let outcome = outcome.unwrap_or_else(|| panic!("no outcome for {id} within {WAIT:?}"));
    assert_eq!(
        outcome.kind,
        kind,
        "{id}: {}",
        String::from_utf8_lossy(&outcome.body)
    );
    (id, outcome)
}

#[test]
fn a_panic_is_its_invocations_error_and_the_runtime_keeps_serving() {
    // The bootstraps' composition.
    let api = RuntimeApi::start().unwrap();
    let child = serve(&api, true);
    let (id, panicked) = outcome(&api, json!({"panic": true, "index": 7}), OutcomeKind::Error);
    assert!(
        panicked.error_type.is_some(),
        "no Lambda-Runtime-Function-Error-Type"
    );
    let body = panicked.json();
    assert_eq!(body["errorType"], PANIC, "{body}");
    assert_eq!(body["errorMessage"], "the handler panicked: index 7 out of range");
    for i in 0..3 {
        let (_, echoed) = outcome(&api, json!({"n": i}), OutcomeKind::Response);
        assert_eq!(echoed.json(), json!({"n": i}), "after the panic");
    }
    assert!(
        api.wait_next_polls(5, WAIT),
        "the runtime stopped asking for events"
    );
    assert_eq!(api.violations(), Vec::<String>::new());
    let text = stop(child);
    let panic_lines: Vec<&str> = text.lines().filter(|l| l.contains("panicked")).collect();
    assert!(
        panic_lines
            .iter()
            .any(|l| l.contains(&format!("requestId=\"{id}\"")) && l.contains("index 7 out of range")),
        "the panic was not logged with the request id:\n{text}"
    );
    for line in &panic_lines {
        assert!(
            line.contains(&id),
            "a panic line without the request id: {line}\n{text}"
        );
    }
    drop(api);

    // lambda_runtime alone.
    let api = RuntimeApi::start().unwrap();
    let child = serve(&api, false);
    let (_, panicked) = outcome(&api, json!({"panic": true}), OutcomeKind::Error);
    let body = panicked.json();
    assert_eq!(
        body["errorMessage"], "Lambda panicked: index 0 out of range",
        "{body}"
    );
    assert_ne!(body["errorType"], PANIC, "{body}");
    let (_, echoed) = outcome(&api, json!({"n": 1}), OutcomeKind::Response);
    assert_eq!(echoed.json(), json!({"n": 1}));
    assert_eq!(api.violations(), Vec::<String>::new());
    stop(child);
}
