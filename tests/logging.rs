//! The bootstraps' log lines (`edge_signer::logging::Lines`) against tracing-subscriber's `fmt`
//! formatter, which they imitate (without time, target or colours): the same events must give the
//! same lines, text and JSON. `tests/bootstrap.rs` checks the lines through the real process.

use edge_signer::logging::Lines;
use std::io;
use std::sync::{Arc, Mutex};
use tracing::level_filters::LevelFilter;
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};

/// Lines, capturing what it would write.
struct Capture {
    lines: Lines,
    written: Arc<Mutex<String>>,
}

impl Subscriber for Capture {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        self.lines.enabled(metadata)
    }
    fn new_span(&self, attributes: &Attributes<'_>) -> Id {
        self.lines.new_span(attributes)
    }
    fn record(&self, span: &Id, values: &Record<'_>) {
        self.lines.record(span, values)
    }
    fn record_follows_from(&self, span: &Id, follows: &Id) {
        self.lines.record_follows_from(span, follows)
    }
    fn event(&self, event: &Event<'_>) {
        self.written.lock().unwrap().push_str(&self.lines.format(event));
    }
    fn enter(&self, span: &Id) {
        self.lines.enter(span)
    }
    fn exit(&self, span: &Id) {
        self.lines.exit(span)
    }
}

/// A writer into a shared string, for tracing-subscriber.
#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<String>>);

impl io::Write for Buffer {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.0
            .lock()
            .unwrap()
            .push_str(std::str::from_utf8(bytes).unwrap());
        Ok(bytes.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The events the bootstraps log, in their shapes: a message with string, `Display`, `Debug` and
/// number fields (u128 micros, as `Duration::as_micros` gives), one without a message, one at each
/// level.
fn emit() {
    let request_id = "8476a536-e9f4-11e8-9739-2dfe598c3fcd";
    let error = io::Error::other("no credentials: AWS_ACCESS_KEY_ID is not set");
    tracing::info!(
        request_id,
        origin = "ap.s3-object-lambda.us-east-1.amazonaws.com",
        outcome = "forward",
        micros = 41u128,
        "signed"
    );
    tracing::warn!(request_id, status = %502, reason = %"unknown origin \"x\"", micros = 7u128, "generated response");
    tracing::error!(request_id, error = %error, kind = "MissingCredentials", "not answered");
    tracing::info!(request_id, status = 200u16, code = "-", kind = ?Some("strip"), bytes = 31_090usize, ok = true, ratio = 0.5, "GetObject answered");
    tracing::debug!(path = "/invocation/x/response", "posted");
    tracing::trace!(request_id, bytes = 1_500usize, "invocation received");
    tracing::info!(only = "fields", n = -3i64);
    tracing::info!("a message, {} formatted", "then");
}

fn ours(json: bool, max: LevelFilter) -> String {
    let written = Arc::new(Mutex::new(String::new()));
    let capture = Capture {
        lines: Lines { max, json },
        written: Arc::clone(&written),
    };
    tracing::subscriber::with_default(capture, emit);
    written.lock().unwrap().clone()
}

fn theirs(json: bool, max: LevelFilter) -> String {
    let buffer = Buffer::default();
    let writer = buffer.clone();
    let builder = tracing_subscriber::fmt()
        .with_target(false)
        .without_time()
        .with_ansi(false)
        .with_max_level(max)
        .with_writer(move || writer.clone());
    if json {
        tracing::subscriber::with_default(builder.json().finish(), emit);
    } else {
        tracing::subscriber::with_default(builder.finish(), emit);
    }
    buffer.0.lock().unwrap().clone()
}

#[test]
fn text_lines_are_tracing_subscribers() {
    for max in [LevelFilter::INFO, LevelFilter::TRACE, LevelFilter::ERROR] {
        let ours = ours(false, max);
        assert!(!ours.is_empty());
        assert_eq!(ours, theirs(false, max), "at {max}");
    }
    assert!(ours(false, LevelFilter::INFO).starts_with(
        " INFO signed request_id=\"8476a536-e9f4-11e8-9739-2dfe598c3fcd\" origin=\"ap.s3-object-lambda.us-east-1.amazonaws.com\" outcome=\"forward\" micros=41\n"
    ));
}

#[test]
fn json_lines_are_tracing_subscribers() {
    for max in [LevelFilter::INFO, LevelFilter::TRACE, LevelFilter::ERROR] {
        let ours = ours(true, max);
        let theirs = theirs(true, max);
        assert_eq!(
            ours.lines().count(),
            theirs.lines().count(),
            "at {max}:\n{ours}\n{theirs}"
        );
        // Compared as JSON values (key order aside), line by line.
        for (a, b) in ours.lines().zip(theirs.lines()) {
            let a: serde_json::Value = serde_json::from_str(a).unwrap();
            let b: serde_json::Value = serde_json::from_str(b).unwrap();
            assert_eq!(a, b, "at {max}");
        }
    }
}

#[test]
fn text_lines_cannot_be_split_by_a_value() {
    let written = Arc::new(Mutex::new(String::new()));
    let capture = Capture {
        lines: Lines {
            max: LevelFilter::INFO,
            json: false,
        },
        written: Arc::clone(&written),
    };
    tracing::subscriber::with_default(capture, || {
        let name = "x\r\n INFO forged request_id=\"1\"\u{1b}[2J";
        tracing::error!(error = %format!("invalid header name {name}"), "rejected event");
    });
    let line = written.lock().unwrap().clone();
    assert_eq!(
        line,
        "ERROR rejected event error=invalid header name x\\r\\n INFO forged request_id=\"1\"\\u{1b}[2J\n"
    );
}
