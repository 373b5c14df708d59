//! The bootstraps' logging: what `lambda_runtime::tracing::init_default_subscriber` sets up, without
//! its `EnvFilter`.
//!
//! Lambda's advanced logging controls are honoured as lambda_runtime honours them: the level is
//! `AWS_LAMBDA_LOG_LEVEL`, else `RUST_LOG`, else `INFO`; `AWS_LAMBDA_LOG_FORMAT=JSON` writes one JSON
//! object per line, anything else the text format; no timestamps (CloudWatch adds its own) and no
//! targets. One difference: the level is one level for every crate (`RUST_LOG=debug` works,
//! per-crate directives such as `RUST_LOG=edge_signer=debug` fall back to `INFO`). The filter
//! lambda_runtime uses parses such directives with a regex engine that was 228 KB of the 2 MB
//! bootstrap and work at every cold start; a handler this small needs one level.

use std::str::FromStr;
use tracing::level_filters::LevelFilter;

/// The level a function logs at, from the values of `AWS_LAMBDA_LOG_LEVEL` and `RUST_LOG`.
///
/// ```
/// use edge_signer::logging::level;
/// use tracing::level_filters::LevelFilter;
/// assert_eq!(level(Some("DEBUG"), Some("error")), LevelFilter::DEBUG);
/// assert_eq!(level(None, Some("trace")), LevelFilter::TRACE);
/// assert_eq!(level(None, Some("edge_signer=debug")), LevelFilter::INFO);
/// assert_eq!(level(None, None), LevelFilter::INFO);
/// ```
pub fn level(aws_lambda_log_level: Option<&str>, rust_log: Option<&str>) -> LevelFilter {
    aws_lambda_log_level
        .or(rust_log)
        .and_then(|value| LevelFilter::from_str(value.trim()).ok())
        .unwrap_or(LevelFilter::INFO)
}

/// Installs the global subscriber, writing to standard output (which Lambda sends to CloudWatch).
/// Does nothing when one is installed already.
pub fn init() {
    let var = |name| std::env::var(name).ok();
    let level = level(var("AWS_LAMBDA_LOG_LEVEL").as_deref(), var("RUST_LOG").as_deref());
    let json = var("AWS_LAMBDA_LOG_FORMAT").is_some_and(|f| f.eq_ignore_ascii_case("json"));
    let builder = tracing_subscriber::fmt()
        .with_target(false)
        .without_time()
        .with_max_level(level)
        .with_writer(std::io::stdout);
    let _already_set = if json {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}
