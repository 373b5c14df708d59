//! `origin-request`: the Lambda bootstrap (provided.al2023) around the pure origin-request core.
//!
//! Reads the handler configuration (`edge-signer.json` beside the code, optional) and the execution
//! role's credentials once at start, then answers each invocation with the signed request or a
//! generated response. A malformed event is a function error; nothing unsigned is ever returned.
//! Logs never contain the secret key, the session token or the signature headers.

use edge_signer::config::{CONFIG_FILE_NAME, HandlerConfig};
use edge_signer::origin_request::{Context, Outcome, handle_json};
use edge_signer::sigv4::SigningKeyCache;
use lambda_runtime::{Diagnostic, Error, LambdaEvent, service_fn};
use serde_json::value::RawValue;
use std::path::PathBuf;
use std::time::{Instant, SystemTime};

struct State {
    config: HandlerConfig,
    credentials: Result<aws_credential_types::Credentials, String>,
    keys: SigningKeyCache,
}

fn main() -> Result<(), Error> {
    // What `#[tokio::main(flavor = "current_thread")]` builds, with an event buffer sized for the
    // one connection to the Runtime API (tokio's default holds 1,024 events: 12 KB of heap touched
    // at start, for nothing).
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .max_io_events_per_tick(IO_EVENTS)
        .build()?
        .block_on(run())
}

/// Events tokio takes from epoll at once: the Runtime API connection, its waker and signals.
const IO_EVENTS: usize = 32;

async fn run() -> Result<(), Error> {
    edge_signer::logging::init();
    let config = load_config()?;
    let credentials = edge_signer::credentials::from_env();
    if let Err(e) = &credentials {
        tracing::error!(error = %e, "every invocation will fail until the function has credentials");
    }
    let state = State {
        config,
        credentials,
        keys: SigningKeyCache::new(),
    };
    lambda_runtime::run(service_fn(|event| handle(event, &state))).await
}

/// One invocation. Errors reach Lambda as `{errorType, errorMessage}`; CloudFront then answers the
/// viewer 502 and nothing is forwarded.
async fn handle(event: LambdaEvent<Box<RawValue>>, state: &State) -> Result<Box<RawValue>, Diagnostic> {
    let started = Instant::now();
    let request_id = event.context.request_id;
    let credentials = state.credentials.as_ref().map_err(|e| {
        tracing::error!(request_id, error = %e, "no credentials; nothing forwarded");
        diagnostic("MissingCredentials", e)
    })?;
    let context = Context {
        credentials,
        now: SystemTime::now(),
        config: &state.config,
        keys: &state.keys,
    };
    let outcome = handle_json(event.payload.get().as_bytes(), &context).map_err(|e| {
        tracing::error!(request_id, error = %e, kind = e.kind(), "rejected event");
        diagnostic(e.kind(), e)
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
    RawValue::from_string(outcome.to_json()).map_err(|e| diagnostic("SerializationFailed", e))
}

/// `pow`, defined here so that the bootstrap does not load `libm.so.6` at start: loading one more
/// shared library (open, map, relocate, run its IFUNC resolvers) cost about 0.1 ms of a 1.5 ms cold
/// start in `cargo bench --bench cold_start`. Its only caller is tokio's multi-thread scheduler
/// (its statistics), compiled in because lambda_runtime enables `rt-multi-thread`, and never run on
/// this current-thread runtime; should it run, this is musl's `pow` (the `libm` crate), as exact as
/// glibc's. With the symbol defined in the executable, the linker (`--as-needed`) drops libm.
#[unsafe(no_mangle)]
pub extern "C" fn pow(x: f64, y: f64) -> f64 {
    libm::pow(x, y)
}

fn diagnostic(error_type: &str, message: impl ToString) -> Diagnostic {
    Diagnostic {
        error_type: error_type.to_owned(),
        error_message: message.to_string(),
    }
}

/// `edge-signer.json` in the function's code directory (`LAMBDA_TASK_ROOT`, else beside the
/// executable). Absent: the defaults. Present but invalid: the function fails to start, loudly.
fn load_config() -> Result<HandlerConfig, Error> {
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
        Ok(bytes) => Ok(HandlerConfig::from_json(&bytes)?),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(HandlerConfig::default()),
        Err(e) => Err(format!("{}: {e}", path.display()).into()),
    }
}
