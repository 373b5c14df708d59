//! `s3-event`: the Lambda bootstrap (provided.al2023) of the upload trigger, which S3 event
//! notifications invoke for each new object: strip an image's metadata, copy anything else.
//!
//! Reads once at start the settings (`EDGE_SIGNER_SOURCE_PREFIX`, `EDGE_SIGNER_DEST_BUCKET`,
//! `EDGE_SIGNER_DEST_PREFIX`, `EDGE_SIGNER_EXIF_SUFFIX`, `EDGE_SIGNER_MAX_OBJECT_BYTES`), the
//! region and S3 endpoint (`AWS_REGION`, `AWS_ENDPOINT_URL_S3`, else `AWS_ENDPOINT_URL`) and the
//! execution role's credentials; a missing or invalid one fails the start, named in the error
//! posted to the Runtime API. Then each event goes to `edge_signer::triggers::handle_event`,
//! within the invocation's deadline and with its trace id. Logs: one line per record, never a
//! credential.

use edge_signer::bootstrap::{self, catch_panic, diagnostic};
use edge_signer::s3::{Client, Config, Transport};
use edge_signer::triggers::{Settings, Summary, handle_event};
use lambda_runtime::{Diagnostic, LambdaEvent, service_fn};
use serde_json::value::RawValue;
use std::process::ExitCode;
use std::time::Duration;

/// Kept from the invocation's time to answer after an S3 request is cut short (the answer then
/// names the keys to retry).
const ANSWER_RESERVE: Duration = Duration::from_millis(500);

struct State {
    client: Client,
    settings: Settings,
}

/// One thread, the process's own, runs the Runtime API calls and each record's S3 calls.
#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    if let Err(exit) = bootstrap::start() {
        return exit;
    }
    let settings = match Settings::from_lookup(|name| std::env::var(name).ok()) {
        Ok(settings) => settings,
        Err(e) => return bootstrap::init_failed(diagnostic("InvalidSettings", e)).await,
    };
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(e) => return bootstrap::init_failed(diagnostic("InvalidSettings", e)).await,
    };
    let credentials = match edge_signer::credentials::from_env() {
        Ok(credentials) => credentials,
        Err(e) => return bootstrap::init_failed(diagnostic("MissingCredentials", e)).await,
    };
    let state = State {
        client: Client::new(Transport::new(), config, credentials),
        settings,
    };
    let state = &state;
    let handler = service_fn(move |event| catch_panic(invoke(state, event)));
    bootstrap::runtime_stopped(lambda_runtime::run(handler).await)
}

/// One invocation: its records are logged one by one by `handle_event`; the error names the keys
/// Lambda must deliver again.
async fn invoke(state: &State, event: LambdaEvent<Box<RawValue>>) -> Result<Summary, Diagnostic> {
    let context = bootstrap::request_context(&event.context, ANSWER_RESERVE);
    handle_event(
        event.payload.get().as_bytes(),
        &state.client,
        &state.settings,
        &context,
    )
    .await
    .map_err(|e| {
        tracing::error!(kind = e.kind(), error = %e, "invocation failed");
        diagnostic(e.kind(), e)
    })
}
