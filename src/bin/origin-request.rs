//! `origin-request`: the Lambda bootstrap (provided.al2023) around the pure origin-request core.
//!
//! Reads the handler configuration (`edge-signer.json` beside the code, optional) and the execution
//! role's credentials once at start, then answers each invocation with the signed request or a
//! generated response. A malformed event is a function error; nothing unsigned is ever returned.
//! Logs never contain the secret key, the session token or the signature headers.

use edge_signer::config::{CONFIG_FILE_NAME, HandlerConfig};
use edge_signer::origin_request::{Context, Outcome, handle_json};
use edge_signer::runtime_api::{self, Diagnostic, Invocation};
use edge_signer::sigv4::SigningKeyCache;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Instant, SystemTime};

struct State {
    config: HandlerConfig,
    credentials: Result<aws_credential_types::Credentials, String>,
    keys: SigningKeyCache,
}

/// No async runtime: the handler does no I/O, and the Runtime API client is blocking
/// (`edge_signer::runtime_api`).
fn main() -> ExitCode {
    edge_signer::logging::init();
    runtime_api::serve(init, handle)
}

fn init() -> Result<State, Diagnostic> {
    let config = load_config().map_err(|e| Diagnostic::new("InvalidConfig", e))?;
    let credentials = edge_signer::credentials::from_env();
    if let Err(e) = &credentials {
        tracing::error!(error = %e, "every invocation will fail until the function has credentials");
    }
    Ok(State {
        config,
        credentials,
        keys: SigningKeyCache::new(),
    })
}

/// One invocation. Errors reach Lambda as `{errorType, errorMessage}`; CloudFront then answers the
/// viewer 502 and nothing is forwarded.
fn handle(state: &State, invocation: &Invocation) -> Result<Vec<u8>, Diagnostic> {
    let started = Instant::now();
    let request_id = invocation.request_id.as_str();
    let credentials = state.credentials.as_ref().map_err(|e| {
        tracing::error!(request_id, error = %e, "no credentials; nothing forwarded");
        Diagnostic::new("MissingCredentials", e)
    })?;
    let context = Context {
        credentials,
        now: SystemTime::now(),
        config: &state.config,
        keys: &state.keys,
    };
    let outcome = handle_json(&invocation.event, &context).map_err(|e| {
        tracing::error!(request_id, error = %e, kind = e.kind(), "rejected event");
        Diagnostic::new(e.kind(), e)
    })?;
    let micros = started.elapsed().as_micros();
    match &outcome {
        Outcome::Forward(request) => {
            let origin = request
                .origin
                .details()
                .map(|(o, _)| o.domain_name.as_str())
                .unwrap_or_default();
            tracing::info!(request_id, origin, outcome = "forward", micros, "signed");
        }
        Outcome::Respond { response, reason } => {
            tracing::warn!(request_id, status = %response.status, reason = %reason, micros, "generated response");
        }
    }
    Ok(outcome.to_json().into_bytes())
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
