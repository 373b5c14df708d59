//! What the Lambda bootstraps (`src/bin/`) share around lambda_runtime: the log set-up, a panic as
//! the invocation's error, and the report of a start that failed.

use futures_util::FutureExt;
use lambda_runtime::Diagnostic;
use lambda_runtime::tracing::subscriber::EnvFilter;
use lambda_runtime::tracing::subscriber::filter::LevelFilter;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::process::ExitCode;
use std::str::FromStr;

/// The `errorType` of an invocation whose handler panicked.
pub const PANIC: &str = "Panic";

/// lambda_runtime's default log set-up (`lambda_runtime::tracing::init_default_subscriber`: the
/// level from `AWS_LAMBDA_LOG_LEVEL`, else `RUST_LOG`, else `INFO`; one JSON object per line when
/// `AWS_LAMBDA_LOG_FORMAT` is `JSON`, text otherwise; no time, no target; each line of an
/// invocation inside lambda_runtime's span, which holds its `requestId`), with three changes:
///
/// - lambda_runtime's TRACE line that holds the raw event is never written: the event carries the
///   viewer's headers (an `Authorization` among them), and a log is no place for them;
/// - `FATAL`, one of Lambda's log levels, is `ERROR` (tracing has no `FATAL`; lambda_runtime falls
///   back to `INFO`);
/// - a panic is logged as one line of that format, inside the invocation's span (so with its
///   request id), instead of the standard library's lines on standard error.
pub fn init_logging() {
    let var = |name| std::env::var(name).ok();
    let level = var("AWS_LAMBDA_LOG_LEVEL")
        .or_else(|| var("RUST_LOG"))
        .map(|value| {
            if value.eq_ignore_ascii_case("FATAL") {
                "ERROR".to_owned()
            } else {
                value
            }
        })
        .and_then(|value| LevelFilter::from_str(&value).ok())
        .unwrap_or(LevelFilter::INFO);
    let event_line_level = level.min(LevelFilter::DEBUG);
    let filter = EnvFilter::builder()
        .with_default_directive(level.into())
        .from_env_lossy()
        .add_directive(
            format!("lambda_runtime::layers::api_response={event_line_level}")
                .parse()
                .expect("a target and a level are a valid directive"),
        );
    let collector = lambda_runtime::tracing::subscriber::fmt()
        .with_target(false)
        .without_time()
        .with_env_filter(filter)
        .with_writer(std::io::stdout);
    let json = var("AWS_LAMBDA_LOG_FORMAT").is_some_and(|f| f.eq_ignore_ascii_case("json"));
    let installed = if json {
        collector.json().try_init()
    } else {
        collector.try_init()
    };
    if installed.is_ok() {
        std::panic::set_hook(Box::new(|info| {
            let location = info.location().map(ToString::to_string).unwrap_or_default();
            tracing::error!(panic = panic_message(info.payload()), location, "panicked");
        }));
    }
}

/// What every bootstrap does first: [`init_logging`], then [`started_by_lambda`]. `Err` is the
/// exit status of a program started by hand, after a plain `Error: …` on standard error.
pub fn start() -> Result<(), ExitCode> {
    init_logging();
    started_by_lambda().map_err(|e| {
        eprintln!("Error: {e}");
        ExitCode::FAILURE
    })
}

/// The variables Lambda sets for a custom runtime, which lambda_runtime needs (it panics without
/// them): `Err` names the first one missing, for a plain error when the program is started by hand.
pub fn started_by_lambda() -> Result<(), String> {
    for name in [
        "AWS_LAMBDA_RUNTIME_API",
        "AWS_LAMBDA_FUNCTION_NAME",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
        "AWS_LAMBDA_FUNCTION_VERSION",
    ] {
        if std::env::var_os(name).is_none_or(|value| value.is_empty()) {
            return Err(format!(
                "{name} is not set: this program is a Lambda function's bootstrap, started by Lambda"
            ));
        }
    }
    Ok(())
}

/// Runs one invocation's handler; a panic in it becomes that invocation's error (`errorType`
/// [`PANIC`]), and the runtime goes on with the next invocation. lambda_runtime catches panics too,
/// but reports them with the payload's Rust type name as `errorType`.
///
/// Unwind safety: what a handler shares across invocations is read-only, or the signing-key cache,
/// whose entries are pushed whole (a panic cannot leave one half-written).
pub async fn catch_panic<T>(handler: impl Future<Output = Result<T, Diagnostic>>) -> Result<T, Diagnostic> {
    match AssertUnwindSafe(handler).catch_unwind().await {
        Ok(result) => result,
        Err(payload) => Err(diagnostic(
            PANIC,
            format!("the handler panicked: {}", panic_message(&*payload)),
        )),
    }
}

/// A function error of `error_type` (Lambda's `errorType`) with `message` (`errorMessage`).
pub fn diagnostic(error_type: &str, message: impl ToString) -> Diagnostic {
    Diagnostic {
        error_type: error_type.to_owned(),
        error_message: message.to_string(),
    }
}

pub use crate::panic::message as panic_message;

/// Reports a start that failed to the Runtime API's `/init/error`, so that the caller sees
/// `diagnostic` rather than `Runtime.ExitError` (lambda_runtime posts there only its own SnapStart
/// failures), writes `Error: …` to standard error, and returns the failure to exit with.
///
/// See <https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html#runtimes-api-initerror>.
pub async fn init_failed(diagnostic: Diagnostic) -> ExitCode {
    tracing::error!(
        error_type = diagnostic.error_type,
        error = diagnostic.error_message,
        "the function could not start"
    );
    if let Err(e) = post_init_error(&diagnostic).await {
        tracing::error!(error = %e, "could not report the failed start to the Runtime API");
    }
    eprintln!("Error: {}", diagnostic.error_message);
    ExitCode::FAILURE
}

async fn post_init_error(diagnostic: &Diagnostic) -> Result<(), lambda_runtime::Error> {
    let api = std::env::var("AWS_LAMBDA_RUNTIME_API")
        .map_err(|_| "AWS_LAMBDA_RUNTIME_API is not set: this program is a Lambda function's bootstrap")?;
    let client = lambda_runtime_api_client::Client::builder()
        .with_endpoint(format!("http://{api}").parse()?)
        .build()?;
    let request = lambda_runtime_api_client::build_request()
        .method("POST")
        .uri("/2018-06-01/runtime/init/error")
        // As lambda_runtime marks an invocation's error; the kind is the body's `errorType`.
        .header("Lambda-Runtime-Function-Error-Type", "Unhandled")
        .header("Content-Type", "application/json")
        .body(serde_json::to_vec(diagnostic)?.into())?;
    let response = client.call(request).await?;
    match response.status() {
        status if status.is_success() => Ok(()),
        status => Err(format!("HTTP {status}").into()),
    }
}

/// Ends a bootstrap whose Runtime API loop stopped (lambda_runtime returns only when the Runtime
/// API fails: Lambda then starts a new process).
pub fn runtime_stopped(result: Result<(), lambda_runtime::Error>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("Error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The context of every S3 request an invocation makes: the invocation's deadline less `reserve`
/// (the time the function needs to answer after a request is cut short), and its trace id, sent
/// as `X-Amzn-Trace-Id` so that Lambda's recursive-loop detection follows the requests
/// (<https://docs.aws.amazon.com/lambda/latest/dg/invocation-recursion.html>).
#[cfg(feature = "s3")]
pub fn request_context(
    invocation: &lambda_runtime::Context,
    reserve: std::time::Duration,
) -> crate::s3::RequestContext {
    use std::time::{Duration, Instant, SystemTime};
    let left = invocation
        .deadline()
        .duration_since(SystemTime::now())
        .unwrap_or(Duration::ZERO);
    crate::s3::RequestContext::before(Instant::now() + left, reserve)
        .with_trace_id(invocation.xray_trace_id.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block_on<F: Future>(future: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a runtime")
            .block_on(future)
    }

    #[test]
    fn a_panic_is_the_invocations_error_with_its_message() {
        let result: Result<(), _> = block_on(catch_panic(async { panic!("index 7 out of range") }));
        let error = result.unwrap_err();
        assert_eq!(error.error_type, PANIC);
        assert_eq!(error.error_message, "the handler panicked: index 7 out of range");
    }

    #[test]
    fn errors_and_answers_pass_through() {
        assert_eq!(block_on(catch_panic(async { Ok(3) })), Ok(3));
        let error = diagnostic("MalformedEvent", "bad");
        assert_eq!(
            block_on(catch_panic(async { Err::<(), _>(error.clone()) })),
            Err(error)
        );
    }
}
