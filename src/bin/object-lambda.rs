//! `object-lambda`: the Lambda bootstrap (provided.al2023) of the S3 Object Lambda function.
//!
//! Reads the execution role's credentials and the settings (`AWS_REGION`,
//! `EDGE_SIGNER_S3OL_ENDPOINT`, `EDGE_SIGNER_S3OL_MAX_OBJECT_BYTES`) once at start, then answers
//! each event with `edge_signer::object_lambda::handle`. When either is missing, every invocation
//! fails with an error naming it. Logs never contain the secret key, the session token, the
//! presigned URL, the output token or a signature.

use edge_signer::object_lambda::{Client, Handled, Settings, handle, parse_event};
use edge_signer::runtime_api::{self, Diagnostic, Invocation};
use edge_signer::sigv4::SigningKeyCache;
use std::process::ExitCode;
use std::time::{Instant, SystemTime};

struct State {
    credentials: Result<aws_credential_types::Credentials, String>,
    settings: Result<Settings, String>,
    client: Client,
    keys: SigningKeyCache,
    /// Runs each invocation's S3 calls; one thread, the process's own.
    runtime: tokio::runtime::Runtime,
}

fn main() -> ExitCode {
    edge_signer::logging::init();
    runtime_api::serve(init, |state, invocation| {
        state.runtime.block_on(invoke(invocation, state))
    })
}

fn init() -> Result<State, Diagnostic> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Diagnostic::new("RuntimeFailed", e))?;
    let state = State {
        credentials: edge_signer::credentials::from_env(),
        settings: Settings::from_env(),
        client: runtime.block_on(async { Client::new() }),
        keys: SigningKeyCache::new(),
        runtime,
    };
    for error in [state.credentials.as_ref().err(), state.settings.as_ref().err()]
        .into_iter()
        .flatten()
    {
        tracing::error!(error = %error, "every invocation will fail until this is fixed");
    }
    Ok(state)
}

async fn invoke(invocation: &Invocation, state: &State) -> Result<Vec<u8>, Diagnostic> {
    let started = Instant::now();
    let request_id = invocation.request_id.as_str();
    let fail = |kind: &str, error: &dyn std::fmt::Display| {
        tracing::error!(request_id, kind, error = %error, "not answered");
        Diagnostic::new(kind, error)
    };
    let credentials = state
        .credentials
        .as_ref()
        .map_err(|e| fail("MissingCredentials", e))?;
    let settings = state.settings.as_ref().map_err(|e| fail("InvalidSettings", e))?;
    let event = parse_event(&invocation.event).map_err(|e| fail(e.kind(), &e))?;
    let handled = handle(
        &event,
        &state.client,
        settings,
        credentials,
        SystemTime::now(),
        &state.keys,
    )
    .await
    .map_err(|e| fail(e.kind(), &e))?;
    let micros = started.elapsed().as_micros();
    match &handled {
        Handled::Written(w) => {
            let code = w.error_code.unwrap_or("-");
            tracing::info!(request_id, status = w.status, code, kind = ?w.kind, bytes = w.body_bytes, micros, "GetObject answered");
        }
        Handled::Head(h) => {
            let code = h.error_code.unwrap_or("-");
            tracing::info!(
                request_id,
                status = h.status_code,
                code,
                micros,
                "HeadObject answered"
            );
        }
    }
    Ok(handled.lambda_result().to_string().into_bytes())
}
