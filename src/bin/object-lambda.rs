//! `object-lambda`: the Lambda bootstrap (provided.al2023) of the S3 Object Lambda function.
//!
//! Reads the execution role's credentials and the settings (`AWS_REGION`,
//! `EDGE_SIGNER_S3OL_ENDPOINT`, `EDGE_SIGNER_S3OL_MAX_OBJECT_BYTES`) once at start, then answers
//! each event with `edge_signer::object_lambda::handle_in`, within its deadline and with its trace
//! id. When either is missing, every invocation fails with an error naming it. Logs never contain
//! the secret key, the session token, the presigned URL, the output token or a signature.

use edge_signer::bootstrap::{self, catch_panic, diagnostic};
use edge_signer::object_lambda::{Client, Handled, Settings, handle_in, parse_event};
use edge_signer::sigv4::SigningKeyCache;
use lambda_runtime::{Diagnostic, LambdaEvent, service_fn};
use serde_json::value::RawValue;
use std::process::ExitCode;
use std::time::{Duration, Instant, SystemTime};

/// Kept from the invocation's time for answering after a request is cut short: the
/// `WriteGetObjectResponse` (or the HeadObject result) still goes out before Lambda's deadline.
const ANSWER_RESERVE: Duration = Duration::from_millis(500);

struct State {
    credentials: Result<aws_credential_types::Credentials, String>,
    settings: Result<Settings, String>,
    client: Client,
    keys: SigningKeyCache,
}

/// One thread, the process's own, runs the Runtime API calls and each invocation's S3 calls.
#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    if let Err(exit) = bootstrap::start() {
        return exit;
    }
    let state = State {
        credentials: edge_signer::credentials::from_env(),
        settings: Settings::from_env(),
        client: Client::new(),
        keys: SigningKeyCache::new(),
    };
    for error in [state.credentials.as_ref().err(), state.settings.as_ref().err()]
        .into_iter()
        .flatten()
    {
        tracing::error!(error = %error, "every invocation will fail until this is fixed");
    }
    let state = &state;
    let handler = service_fn(move |event| catch_panic(invoke(state, event)));
    bootstrap::runtime_stopped(lambda_runtime::run(handler).await)
}

/// One invocation. The event arrives as `RawValue` (checked JSON text, no tree) and is parsed by
/// `parse_event`, so that a malformed one gets this crate's error kind and the path at fault.
async fn invoke(state: &State, event: LambdaEvent<Box<RawValue>>) -> Result<serde_json::Value, Diagnostic> {
    let started = Instant::now();
    let fail = |kind: &str, error: &dyn std::fmt::Display| {
        tracing::error!(kind, error = %error, "not answered");
        diagnostic(kind, error)
    };
    let credentials = state
        .credentials
        .as_ref()
        .map_err(|e| fail("MissingCredentials", e))?;
    let settings = state.settings.as_ref().map_err(|e| fail("InvalidSettings", e))?;
    let context = bootstrap::request_context(&event.context, ANSWER_RESERVE);
    let event = parse_event(event.payload.get().as_bytes()).map_err(|e| fail(e.kind(), &e))?;
    let handled = handle_in(
        &event,
        &state.client,
        settings,
        credentials,
        SystemTime::now(),
        &state.keys,
        &context,
    )
    .await
    .map_err(|e| fail(e.kind(), &e))?;
    let micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
    match &handled {
        Handled::Written(w) => {
            let code = w.error_code.unwrap_or("-");
            tracing::info!(status = w.status, code, kind = ?w.kind, bytes = w.body_bytes, micros, "GetObject answered");
        }
        Handled::Head(h) => {
            let code = h.error_code.unwrap_or("-");
            tracing::info!(status = h.status_code, code, micros, "HeadObject answered");
        }
    }
    Ok(handled.lambda_result())
}
