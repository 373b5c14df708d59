//! `origin-request`: the Lambda bootstrap (provided.al2023) around the pure origin-request core, on
//! lambda_runtime.
//!
//! Reads the handler configuration (`edge-signer.json` beside the code, optional) and the execution
//! role's credentials once at start, then answers each invocation with the signed request or a
//! generated response. A malformed event is a function error; nothing unsigned is ever returned.
//! Logs never contain the secret key, the session token or the signature headers.

use edge_signer::bootstrap::{self, catch_panic, diagnostic};
use edge_signer::config::{CONFIG_FILE_NAME, HandlerConfig};
use edge_signer::origin_request::{Handler, Outcome};
use lambda_runtime::{Diagnostic, LambdaEvent, service_fn};
use serde_json::value::RawValue;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Instant, SystemTime};

/// The façade, or why there is none: without credentials every invocation fails, naming them.
type State = Result<Handler, String>;

/// One thread: the handler does no I/O of its own.
#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    if let Err(exit) = bootstrap::start() {
        return exit;
    }
    let config = match load_config() {
        Ok(config) => config,
        Err(e) => return bootstrap::init_failed(diagnostic("InvalidConfig", e)).await,
    };
    let state: State = edge_signer::credentials::from_env().map(|c| Handler::new(config, c));
    if let Err(e) = &state {
        tracing::error!(error = %e, "every invocation will fail until the function has credentials");
    }
    let state = &state;
    let handler = service_fn(move |event| catch_panic(handle(state, event)));
    bootstrap::runtime_stopped(lambda_runtime::run(handler).await)
}

/// One invocation. Errors reach Lambda as `{errorType, errorMessage}`; CloudFront then answers the
/// viewer 502 and nothing is forwarded.
///
/// The event arrives as `RawValue`: lambda_runtime checks that it is JSON and copies its text, and
/// the core parses that text into borrowed types (strings without escapes are not copied, and the
/// fields it does not model pass through as they are); a `serde_json::Value` would build a tree of
/// the whole event, only to be written out again for the core. The answer goes back the same way.
async fn handle(state: &State, event: LambdaEvent<Box<RawValue>>) -> Result<Box<RawValue>, Diagnostic> {
    let started = Instant::now();
    let handler = state.as_ref().map_err(|e| {
        tracing::error!(error = %e, "no credentials; nothing forwarded");
        diagnostic("MissingCredentials", e)
    })?;
    let outcome = handler
        .handle(event.payload.get().as_bytes(), SystemTime::now())
        .map_err(|e| {
            tracing::error!(error = %e, kind = e.kind(), "rejected event");
            diagnostic(e.kind(), e)
        })?;
    let micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
    match &outcome {
        Outcome::Forward(request) => {
            let origin = request
                .origin
                .details()
                .map(|(o, _)| o.domain_name.as_str())
                .unwrap_or_default();
            tracing::info!(origin, outcome = "forward", micros, "signed");
        }
        Outcome::Respond { response, reason } => {
            tracing::warn!(status = %response.status, reason = %reason, micros, "generated response");
        }
    }
    // Written once by serde_json, as JSON text: not parsed again.
    serde_json::value::to_raw_value(&outcome).map_err(|e| diagnostic("InvalidOutput", e))
}

/// `edge-signer.json` in the function's code directory (`LAMBDA_TASK_ROOT`, else beside the
/// executable). Absent: the defaults. Present but invalid: the function fails to start, loudly.
fn load_config() -> Result<HandlerConfig, String> {
    let dir = std::env::var_os("LAMBDA_TASK_ROOT")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::current_exe()
                .ok()
                .and_then(|exe| exe.parent().map(PathBuf::from))
        });
    let Some(path) = dir.map(|d| d.join(CONFIG_FILE_NAME)) else {
        return Ok(HandlerConfig::default());
    };
    match std::fs::read(&path) {
        Ok(bytes) => HandlerConfig::from_json(&bytes),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(HandlerConfig::default()),
        Err(e) => Err(format!("{}: {e}", path.display())),
    }
}
