//! `s3-batch`: the Lambda bootstrap (provided.al2023) that S3 Batch Operations invokes for each
//! task of a backfill job (schema 1.0 or 2.0).
//!
//! Reads the execution role's credentials, the S3 endpoint and the `EDGE_SIGNER_*` settings once
//! at start, then answers each invocation with `edge_signer::triggers::batch::handle_event`:
//! one result per task, within the invocation's deadline and with its trace id. When a setting or
//! the credentials are missing, every task is a `PermanentFailure` naming it, so the completion
//! report says why.

use edge_signer::bootstrap::{self, catch_panic, diagnostic};
use edge_signer::s3::{Client, Transport};
use edge_signer::triggers::Settings;
use edge_signer::triggers::batch::{Response, fail_every_task, handle_event};
use lambda_runtime::{Diagnostic, LambdaEvent, service_fn};
use serde_json::value::RawValue;
use std::process::ExitCode;
use std::time::Duration;

/// Kept from the invocation's time to answer after a request is cut short: the response still
/// reaches the Runtime API before Lambda's deadline, so a slow S3 is a `TemporaryFailure` that
/// Batch Operations redrives, not a timed-out invocation.
const ANSWER_RESERVE: Duration = Duration::from_millis(500);

struct State {
    client: Result<Client, String>,
    settings: Result<Settings, String>,
}

/// One thread, the process's own, runs the Runtime API calls and each invocation's S3 calls.
#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    if let Err(exit) = bootstrap::start() {
        return exit;
    }
    let state = State {
        client: Client::from_env(Transport::new()),
        settings: Settings::from_lookup(|name| std::env::var(name).ok()).map_err(|e| e.to_string()),
    };
    for error in [state.client.as_ref().err(), state.settings.as_ref().err()]
        .into_iter()
        .flatten()
    {
        tracing::error!(error = %error, "every task will fail until this is fixed");
    }
    let state = &state;
    let handler = service_fn(move |event| catch_panic(invoke(state, event)));
    bootstrap::runtime_stopped(lambda_runtime::run(handler).await)
}

/// One invocation. The event arrives as `RawValue` (checked JSON text, no tree) and is parsed by
/// the library, so that a malformed one gets the path at fault.
async fn invoke(state: &State, event: LambdaEvent<Box<RawValue>>) -> Result<Response, Diagnostic> {
    let context = bootstrap::request_context(&event.context, ANSWER_RESERVE);
    let json = event.payload.get().as_bytes();
    let answered = match (&state.client, &state.settings) {
        (Ok(client), Ok(settings)) => handle_event(client, settings, json, &context).await,
        (Err(e), _) | (_, Err(e)) => fail_every_task(json, e),
    };
    answered.map_err(|e| {
        tracing::error!(kind = e.kind(), error = %e, "not answered");
        diagnostic(e.kind(), e)
    })
}
