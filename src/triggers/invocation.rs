//! One invocation of the `s3-event` function: every record of the event planned
//! ([`plan()`](super::plan())), done ([`process`]) and logged, one after another.
//!
//! S3 invokes the function asynchronously and retries a failed invocation twice; a failure fails
//! the whole event, every record in it
//! (<https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html>). So:
//!
//! - a record that a retry cannot help (missing, too large, refused, access denied…) is logged
//!   and the invocation goes on to succeed;
//! - a transient failure (5xx, `SlowDown`, a timeout, a refused connection), or a panic while
//!   doing a record, does not stop the other records: once all are done, the invocation fails
//!   with [`InvocationError::RecordsFailed`] naming the keys, and Lambda retries the event. The
//!   records already done are then skipped by the destination's marker, with one HEAD.
//!
//! Each record gets exactly one log line: bucket, decoded key, outcome, bytes in and out, and
//! duration. Credentials are never in it.

use super::object::{ObjectOutcome, process};
use super::plan::{Action, Destination, SkipReason, SourceObject, plan, too_large};
use super::s3_event::{EventError, EventRecord, parse_event};
use super::settings::Settings;
use super::{decode_key, key::KeyError};
use crate::bootstrap::panic_message;
use crate::s3::{Client, RequestContext};
use futures_util::FutureExt;
use serde::Serialize;
use std::fmt;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::time::Instant;
use thiserror::Error;

/// How one record ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RecordEnding {
    /// [`plan()`](super::plan()) said to leave it (not a creation, outside the source prefix, an
    /// output of this function, an undecodable key).
    Skipped(SkipReason),
    /// It was done against S3, with this outcome.
    Done(ObjectOutcome),
    /// Doing it panicked: the record fails (and is retried), the others go on.
    Panicked(String),
}

impl RecordEnding {
    /// Whether the invocation must fail so that Lambda delivers the event again.
    pub fn needs_retry(&self) -> bool {
        match self {
            Self::Done(outcome) => outcome.is_transient(),
            Self::Panicked(_) => true,
            Self::Skipped(_) => false,
        }
    }

    /// Whether an object was written.
    pub fn wrote(&self) -> bool {
        matches!(
            self,
            Self::Done(ObjectOutcome::Stripped { .. } | ObjectOutcome::Copied { .. })
        )
    }

    /// A failure a retry cannot help: logged, and the invocation still succeeds.
    pub fn is_permanent_failure(&self) -> bool {
        matches!(
            self,
            Self::Done(
                ObjectOutcome::TooLarge { .. } | ObjectOutcome::Refused { .. } | ObjectOutcome::Failed { .. }
            ) | Self::Skipped(SkipReason::InvalidKey(_) | SkipReason::OutputsHoldSources)
        )
    }

    fn bytes(&self) -> (u64, u64) {
        match self {
            Self::Done(outcome) => (outcome.bytes_in(), outcome.bytes_out()),
            _ => (0, 0),
        }
    }
}

impl fmt::Display for RecordEnding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Skipped(reason) => write!(f, "skipped: {reason}"),
            Self::Done(outcome) => outcome.fmt(f),
            Self::Panicked(message) => write!(f, "panicked: {message}"),
        }
    }
}

/// One record's report: which object, how it ended, how long it took.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordReport {
    pub bucket: String,
    /// Decoded; the key as sent when it cannot be decoded.
    pub key: String,
    pub ending: RecordEnding,
    pub micros: u64,
}

/// What an invocation that succeeded did (its result; S3 discards it, the logs and tests read it).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub records: usize,
    /// Stripped or copied into the destination.
    pub written: usize,
    /// Nothing to do: skipped by the plan, already done, the function's own output, superseded
    /// by a newer upload, or gone.
    pub skipped: usize,
    /// Failures a retry cannot help (too large, refused by the transform, access denied…).
    pub failed: usize,
}

impl Summary {
    fn of(reports: &[RecordReport]) -> Self {
        let count = |f: fn(&RecordEnding) -> bool| reports.iter().filter(|r| f(&r.ending)).count();
        let written = count(RecordEnding::wrote);
        let failed = count(RecordEnding::is_permanent_failure);
        Self {
            records: reports.len(),
            written,
            skipped: reports.len() - written - failed,
            failed,
        }
    }
}

/// Why an invocation fails (and Lambda retries it).
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum InvocationError {
    /// Not an S3 event notification.
    #[error(transparent)]
    Malformed(#[from] EventError),
    /// Some records failed in a way a retry may help; the others are done.
    #[error("{} of {records} records failed and the event must be retried (records done are skipped then): {}",
        failed.len(), failed.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    RecordsFailed {
        records: usize,
        failed: Vec<FailedRecord>,
    },
}

impl InvocationError {
    /// A short, stable name for Lambda's `errorType`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Malformed(e) => e.kind(),
            Self::RecordsFailed { .. } => "RecordsFailed",
        }
    }
}

/// A record to retry, for the invocation's error.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FailedRecord {
    pub bucket: String,
    pub key: String,
    pub reason: String,
}

impl fmt::Display for FailedRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{:?}: {}", self.bucket, self.key, self.reason)
    }
}

/// Handles one invocation's event (its JSON bytes): every record, in order, through the S3
/// `client`. S3's `s3:TestEvent` (sent when a notification is configured, to queues and topics)
/// has no records and is ignored.
///
/// # Errors
/// [`InvocationError::Malformed`] for what is not an S3 event; [`InvocationError::RecordsFailed`]
/// when any record needs a retry, after every record was done.
pub async fn handle_event(
    payload: &[u8],
    client: &Client,
    settings: &Settings,
    context: &RequestContext,
) -> Result<Summary, InvocationError> {
    let event = match parse_event(payload) {
        Ok(event) => event,
        Err(_) if is_test_event(payload) => {
            tracing::info!("s3:TestEvent ignored: it names no object");
            return Ok(Summary::default());
        }
        Err(e) => return Err(e.into()),
    };
    let reports = run_records(&event.records, settings, |source, destination| async move {
        process(client, &source, &destination, settings, context).await
    })
    .await;
    result(&reports)
}

/// Plans, does (through `work`) and logs each record in turn. A panic in `work` is that record's
/// [`RecordEnding::Panicked`].
pub async fn run_records<F, Fut>(records: &[EventRecord], settings: &Settings, work: F) -> Vec<RecordReport>
where
    F: Fn(SourceObject, Destination) -> Fut,
    Fut: Future<Output = ObjectOutcome>,
{
    let mut reports = Vec::with_capacity(records.len());
    for record in records {
        let started = Instant::now();
        let (key, ending) = match plan(record, settings) {
            Action::Skip { reason } => (shown_key(&record.s3.object.key), RecordEnding::Skipped(reason)),
            Action::Process { source, destination } => {
                let key = source.key.clone();
                let ending = if too_large(record.s3.object.size, settings) {
                    RecordEnding::Done(ObjectOutcome::TooLarge {
                        limit: settings.max_object_bytes.unwrap_or_default(),
                    })
                } else {
                    match AssertUnwindSafe(work(source, destination)).catch_unwind().await {
                        Ok(outcome) => RecordEnding::Done(outcome),
                        Err(panic) => RecordEnding::Panicked(panic_message(&*panic).to_owned()),
                    }
                };
                (key, ending)
            }
        };
        let report = RecordReport {
            bucket: record.s3.bucket.name.clone(),
            key,
            ending,
            micros: u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX),
        };
        log(&report);
        reports.push(report);
    }
    reports
}

/// The invocation's result from its records' reports.
///
/// # Errors
/// [`InvocationError::RecordsFailed`] when any record needs a retry.
pub fn result(reports: &[RecordReport]) -> Result<Summary, InvocationError> {
    let failed: Vec<FailedRecord> = reports
        .iter()
        .filter(|r| r.ending.needs_retry())
        .map(|r| FailedRecord {
            bucket: r.bucket.clone(),
            key: r.key.clone(),
            reason: r.ending.to_string(),
        })
        .collect();
    if failed.is_empty() {
        Ok(Summary::of(reports))
    } else {
        Err(InvocationError::RecordsFailed {
            records: reports.len(),
            failed,
        })
    }
}

/// The one log line of a record: `INFO` when done or skipped as planned, `WARN` for a permanent
/// failure, `ERROR` for one to retry.
fn log(report: &RecordReport) {
    let (bytes_in, bytes_out) = report.ending.bytes();
    let (bucket, key, outcome, micros) = (&report.bucket, &report.key, &report.ending, report.micros);
    if report.ending.needs_retry() {
        tracing::error!(bucket, key, %outcome, bytes_in, bytes_out, micros, "record");
    } else if report.ending.is_permanent_failure() {
        tracing::warn!(bucket, key, %outcome, bytes_in, bytes_out, micros, "record");
    } else {
        tracing::info!(bucket, key, %outcome, bytes_in, bytes_out, micros, "record");
    }
}

/// The key decoded for the log, or as sent when it cannot be decoded.
fn shown_key(raw: &str) -> String {
    decode_key(raw).unwrap_or_else(|e| match e {
        KeyError::BadEscape(raw) | KeyError::NotUtf8(raw) => raw,
    })
}

/// `{"Service":"Amazon S3","Event":"s3:TestEvent",…}`.
fn is_test_event(payload: &[u8]) -> bool {
    #[derive(serde::Deserialize)]
    struct TestEvent {
        #[serde(rename = "Event")]
        event: String,
    }
    serde_json::from_slice::<TestEvent>(payload).is_ok_and(|t| t.event == "s3:TestEvent")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::triggers::S3Event;

    fn event(records: &[(&str, &str, Option<u64>)]) -> S3Event {
        let records: Vec<_> = records
            .iter()
            .map(|(name, key, size)| {
                serde_json::json!({
                    "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
                    "eventTime": "2026-01-01T00:00:00.000Z", "eventName": name,
                    "s3": {"bucket": {"name": "b"}, "object": {"key": key, "size": size, "eTag": "e"}}
                })
            })
            .collect();
        parse_event(serde_json::json!({ "Records": records }).to_string().as_bytes()).unwrap()
    }

    fn block_on<F: Future>(future: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(future)
    }

    fn settings() -> Settings {
        Settings {
            dest_prefix: "out/".into(),
            max_object_bytes: Some(1000),
            ..Settings::default()
        }
    }

    #[test]
    fn every_record_is_done_and_a_panic_or_transient_failure_fails_the_invocation_after_all() {
        let event = event(&[
            ("ObjectCreated:Put", "boom+1.jpg", Some(10)),
            ("ObjectCreated:Put", "slow%2Bdown.jpg", Some(10)),
            ("ObjectRemoved:Delete", "gone.jpg", None),
            ("ObjectCreated:Put", "big.jpg", Some(1001)),
            ("ObjectCreated:Put", "out/x.jpg", Some(10)),
            ("ObjectCreated:Copy", "fine.txt", None),
        ]);
        let seen = std::sync::Mutex::new(Vec::new());
        let reports = block_on(run_records(&event.records, &settings(), |source, dest| {
            seen.lock().unwrap().push((source.key.clone(), dest.key.clone()));
            async move {
                match source.key.as_str() {
                    "boom 1.jpg" => panic!("index out of range"),
                    "slow+down.jpg" => ObjectOutcome::Transient {
                        reason: "503 SlowDown".into(),
                    },
                    _ => ObjectOutcome::Copied { bytes: 4 },
                }
            }
        }));
        // The big one never reaches the work (the event's size), nor the skipped ones.
        assert_eq!(
            seen.into_inner().unwrap(),
            [
                ("boom 1.jpg".to_owned(), "out/boom 1.jpg".to_owned()),
                ("slow+down.jpg".into(), "out/slow+down.jpg".into()),
                ("fine.txt".into(), "out/fine.txt".into()),
            ]
        );
        let endings: Vec<_> = reports.iter().map(|r| (r.key.as_str(), &r.ending)).collect();
        assert_eq!(
            endings,
            [
                ("boom 1.jpg", &RecordEnding::Panicked("index out of range".into())),
                (
                    "slow+down.jpg",
                    &RecordEnding::Done(ObjectOutcome::Transient {
                        reason: "503 SlowDown".into()
                    })
                ),
                (
                    "gone.jpg",
                    &RecordEnding::Skipped(SkipReason::NotObjectCreated("ObjectRemoved:Delete".into()))
                ),
                (
                    "big.jpg",
                    &RecordEnding::Done(ObjectOutcome::TooLarge { limit: 1000 })
                ),
                ("out/x.jpg", &RecordEnding::Skipped(SkipReason::OwnOutput)),
                (
                    "fine.txt",
                    &RecordEnding::Done(ObjectOutcome::Copied { bytes: 4 })
                ),
            ]
        );
        let error = result(&reports).unwrap_err();
        assert_eq!(error.kind(), "RecordsFailed");
        let InvocationError::RecordsFailed { records, failed } = &error else {
            panic!("{error:?}");
        };
        assert_eq!(*records, 6);
        let keys: Vec<_> = failed.iter().map(|f| f.key.as_str()).collect();
        assert_eq!(keys, ["boom 1.jpg", "slow+down.jpg"]);
        let message = error.to_string();
        assert!(message.starts_with("2 of 6 records failed"), "{message}");
        assert!(
            message.contains(r#"b/"boom 1.jpg": panicked: index out of range"#),
            "{message}"
        );
        assert!(
            message.contains(r#"b/"slow+down.jpg": transient failure: 503 SlowDown"#),
            "{message}"
        );
    }

    #[test]
    fn without_a_record_to_retry_the_invocation_succeeds_with_its_counts() {
        let event = event(&[
            ("ObjectCreated:Put", "a.jpg", Some(10)),
            ("ObjectCreated:Put", "100%.jpg", Some(10)),
            ("ObjectCreated:Put", "b.jpg", Some(10)),
            ("ObjectCreated:Put", "c.jpg", Some(10)),
            ("ObjectCreated:Put", "d.jpg", Some(10)),
        ]);
        let reports = block_on(run_records(&event.records, &settings(), |source, _| async move {
            match source.key.as_str() {
                "a.jpg" => ObjectOutcome::Missing,
                "b.jpg" => ObjectOutcome::Refused {
                    reason: "truncated JPEG".into(),
                    bytes_in: 5,
                },
                "c.jpg" => ObjectOutcome::AlreadyDone,
                _ => ObjectOutcome::Copied { bytes: 4 },
            }
        }));
        assert_eq!(reports[1].key, "100%.jpg", "an undecodable key is shown as sent");
        assert_eq!(
            result(&reports),
            Ok(Summary {
                records: 5,
                written: 1,
                skipped: 2,
                failed: 2
            })
        );
        assert_eq!(reports[2].ending.bytes(), (5, 0));
    }

    #[test]
    fn a_test_event_is_recognised_and_anything_else_malformed_is_an_error() {
        assert!(is_test_event(
            br#"{"Service":"Amazon S3","Event":"s3:TestEvent","Time":"2026-01-01T00:00:00.000Z","Bucket":"b"}"#
        ));
        assert!(!is_test_event(br#"{"Event":"s3:ObjectCreated:Put"}"#));
        assert!(!is_test_event(b"[]"));
        let error = InvocationError::from(parse_event(b"{}").unwrap_err());
        assert_eq!(error.kind(), "MalformedEvent");
    }
}
