//! The bootstraps' logging: a `tracing` subscriber that writes each event as one line on standard
//! output (which Lambda sends to CloudWatch).
//!
//! Lambda's advanced logging controls are honoured as lambda_runtime's default set-up honours them:
//! the level is `AWS_LAMBDA_LOG_LEVEL`, else `RUST_LOG`, else `INFO`; `AWS_LAMBDA_LOG_FORMAT=JSON`
//! writes one JSON object per line (`{"level":"INFO","fields":{"message":…,…}}`), anything else the
//! text format (` INFO signed request_id="…" micros=41`); no timestamps (CloudWatch adds its own).
//! The lines are those tracing-subscriber's `fmt` writes without time and target. The level is one
//! level for every crate (`RUST_LOG=debug` works; per-crate directives such as
//! `RUST_LOG=edge_signer=debug` fall back to `INFO`).
//!
//! Why not tracing-subscriber: its set-up (the span registry, the layered formatter) was the
//! largest part of what the bootstrap spent above the std-only floor at a cold start — 0.4 ms of
//! 1.9 ms when the caches were cold — and 190 KB of the binary, for a handful of events and no
//! spans (`cargo bench --bench cold_start`; the README's cold-start section). Spans are accepted and
//! ignored: nothing here opens one.
//!
//! Control characters in text lines are escaped, so that a value taken from an event (a header
//! name in an error, say) cannot start a forged log line; JSON lines are escaped by serde_json.

use std::fmt::{self, Write as _};
use std::io::Write as _;
use std::str::FromStr;
use tracing::field::{Field, Visit};
use tracing::level_filters::LevelFilter;
use tracing::span::{Attributes, Id, Record};
use tracing::subscriber::Interest;
use tracing::{Event, Level, Metadata, Subscriber};

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

/// Installs the global subscriber, per the environment. Does nothing when one is installed already.
pub fn init() {
    let var = |name| std::env::var(name).ok();
    let max = level(var("AWS_LAMBDA_LOG_LEVEL").as_deref(), var("RUST_LOG").as_deref());
    let json = var("AWS_LAMBDA_LOG_FORMAT").is_some_and(|f| f.eq_ignore_ascii_case("json"));
    let _already_set = tracing::subscriber::set_global_default(Lines { max, json });
}

/// One line per event, text or JSON, at `max` and below.
pub struct Lines {
    /// The most verbose level written.
    pub max: LevelFilter,
    /// JSON objects instead of text.
    pub json: bool,
}

impl Lines {
    /// The line `event` is written as, with its newline (`tests/logging.rs` compares these with
    /// tracing-subscriber's lines).
    pub fn format(&self, event: &Event<'_>) -> String {
        let level = *event.metadata().level();
        if self.json {
            let mut fields = JsonFields(serde_json::Map::new());
            event.record(&mut fields);
            let mut line = serde_json::json!({ "level": level.as_str(), "fields": fields.0 }).to_string();
            line.push('\n');
            line
        } else {
            let mut fields = TextFields {
                message: String::new(),
                rest: String::new(),
            };
            event.record(&mut fields);
            let mut line = format!("{:>5} ", level.as_str());
            escape_controls(&fields.message, &mut line);
            let rest = match fields.message.is_empty() {
                true => fields.rest.trim_start_matches(' '),
                false => &fields.rest,
            };
            escape_controls(rest, &mut line);
            line.push('\n');
            line
        }
    }
}

impl Subscriber for Lines {
    fn register_callsite(&self, metadata: &'static Metadata<'static>) -> Interest {
        if self.enabled(metadata) {
            Interest::always()
        } else {
            Interest::never()
        }
    }

    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        writes(self.max, *metadata.level())
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        Some(self.max)
    }

    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }

    fn record(&self, _: &Id, _: &Record<'_>) {}

    fn record_follows_from(&self, _: &Id, _: &Id) {}

    fn event(&self, event: &Event<'_>) {
        let line = self.format(event);
        // Nowhere to report a failed write to standard output.
        let _ = std::io::stdout().lock().write_all(line.as_bytes());
    }

    fn enter(&self, _: &Id) {}

    fn exit(&self, _: &Id) {}
}

/// The message, then ` name=value` for each other field (strings quoted, as `Debug` quotes them).
struct TextFields {
    message: String,
    rest: String,
}

impl Visit for TextFields {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message.push_str(value);
        } else {
            self.record_debug(field, &value);
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        let _ = if field.name() == "message" {
            write!(self.message, "{value:?}")
        } else {
            write!(self.rest, " {}={value:?}", field.name())
        };
    }
}

/// Fields as JSON: 64-bit numbers and booleans as such, anything else (128-bit numbers too) as a
/// string, as tracing-subscriber writes them.
struct JsonFields(serde_json::Map<String, serde_json::Value>);

impl JsonFields {
    fn insert(&mut self, field: &Field, value: impl Into<serde_json::Value>) {
        self.0.insert(field.name().to_owned(), value.into());
    }
}

impl Visit for JsonFields {
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.insert(field, value);
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.insert(field, value);
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        self.insert(field, value);
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.insert(field, value);
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.insert(field, value);
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.insert(field, format!("{value:?}"));
    }
}

/// Appends `text` with every control character but tab escaped (`\n`, `\r`, `\u{1b}`).
///
/// ```
/// # use edge_signer::logging::escape_controls;
/// let mut out = String::new();
/// escape_controls("a\nb\tc\u{1b}[31m", &mut out);
/// assert_eq!(out, "a\\nb\tc\\u{1b}[31m");
/// ```
pub fn escape_controls(text: &str, out: &mut String) {
    for c in text.chars() {
        if c.is_control() && c != '\t' {
            out.extend(c.escape_debug());
        } else {
            out.push(c);
        }
    }
}

/// Whether `level` is written at `max`.
///
/// ```
/// use edge_signer::logging::writes;
/// use tracing::{Level, level_filters::LevelFilter};
/// assert!(writes(LevelFilter::INFO, Level::WARN));
/// assert!(!writes(LevelFilter::INFO, Level::DEBUG));
/// assert!(writes(LevelFilter::TRACE, Level::TRACE));
/// assert!(!writes(LevelFilter::OFF, Level::ERROR));
/// ```
pub fn writes(max: LevelFilter, level: Level) -> bool {
    max >= level
}
