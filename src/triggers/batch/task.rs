//! One task, done: its key decoded (a plain key, or seed 002's JSON `{"origKey","newKey"}`), then
//! the upload trigger's per-object work ([`process`]) in `strip` mode, or `report.rs`'s ranged
//! reads and summary in `report` mode. Every way it ends is a result code; none is a thrown error.

use super::report::report;
use super::{JobSettings, Mode, ResultCode, Task, TaskResult};
use crate::s3::{Client, RequestContext};
use crate::triggers::key::decode_key;
use crate::triggers::object::{ObjectOutcome, process};
use crate::triggers::plan::{Action, Destination, SkipReason, SourceObject, plan_object};
use futures_util::FutureExt;
use serde_json::Value;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::time::{Duration, Instant};

/// A task is not started with less time than this left: its requests could not finish, and a
/// `TemporaryFailure` now lets Batch Operations redrive it in a fresh invocation.
pub const MIN_TIME_LEFT: Duration = Duration::from_millis(250);

/// What a task's key names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TaskKey {
    /// A plain key: read it, write it under the destination prefix.
    Plain(String),
    /// Seed 002's per-task manifest: read `orig_key`, write exactly `new_key` (no prefix).
    Json { orig_key: String, new_key: String },
}

/// Decodes a task's `s3Key` (form-encoded: `+` is a space) and reads a JSON object in it. Any
/// other JSON (a key such as `2024` or `"a"` parses as JSON too) is a plain key.
///
/// ```
/// use edge_signer::triggers::batch::{TaskKey, task_key};
/// assert_eq!(task_key("red+flower.jpg"), Ok(TaskKey::Plain("red flower.jpg".into())));
/// let json = "%7B%22origKey%22%3A%22a+b.jpg%22%2C%22newKey%22%3A%22c.jpg%22%7D";
/// assert_eq!(task_key(json), Ok(TaskKey::Json { orig_key: "a b.jpg".into(), new_key: "c.jpg".into() }));
/// assert!(task_key("%7B%22origKey%22%3A%22a%22%7D").unwrap_err().contains("newKey"));
/// ```
pub fn task_key(raw: &str) -> Result<TaskKey, String> {
    let key = decode_key(raw).map_err(|e| e.to_string())?;
    let Ok(Value::Object(fields)) = serde_json::from_str::<Value>(&key) else {
        return Ok(TaskKey::Plain(key));
    };
    let text = |name| match fields.get(name) {
        Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
        _ => None,
    };
    match (text("origKey"), text("newKey")) {
        (Some(orig_key), Some(new_key)) => Ok(TaskKey::Json { orig_key, new_key }),
        _ => Err(
            "the manifest key is a JSON object without both origKey and newKey as non-empty strings"
                .to_owned(),
        ),
    }
}

/// Does one task; see [`super::run_task`].
pub(super) async fn run(
    client: &Client,
    task: &Task,
    job: &JobSettings,
    context: &RequestContext,
) -> TaskResult {
    if context.time_left() < MIN_TIME_LEFT {
        return TaskResult::new(
            ResultCode::TemporaryFailure,
            "the invocation's deadline is too close to start the task",
        );
    }
    guarded(run_unguarded(client, task, job, context), context.deadline).await
}

impl TaskResult {
    /// A task that panicked: its `PermanentFailure`, with the panic's message.
    pub fn panicked(payload: &(dyn std::any::Any + Send)) -> Self {
        let message = crate::bootstrap::panic_message(payload);
        Self::new(
            ResultCode::PermanentFailure,
            format!("the task panicked: {message}"),
        )
    }
}

/// Runs `work` to its result: a panic in it is a `PermanentFailure`, and `deadline` passing a
/// `TemporaryFailure` (the requests are cut at the deadline already; this also bounds what runs
/// between them).
async fn guarded(work: impl Future<Output = TaskResult>, deadline: Instant) -> TaskResult {
    let work = AssertUnwindSafe(work).catch_unwind();
    match tokio::time::timeout_at(deadline.into(), work).await {
        Ok(Ok(result)) => result,
        Ok(Err(panic)) => TaskResult::panicked(&*panic),
        Err(_) => TaskResult::new(
            ResultCode::TemporaryFailure,
            "the invocation's deadline came before the task ended",
        ),
    }
}

async fn run_unguarded(
    client: &Client,
    task: &Task,
    job: &JobSettings,
    context: &RequestContext,
) -> TaskResult {
    let permanent = |reason: String| TaskResult::new(ResultCode::PermanentFailure, reason);
    let key = match task_key(&task.key) {
        Ok(key) => key,
        Err(reason) => return permanent(reason),
    };
    let settings = &job.settings;
    let (source, destination) = match key {
        TaskKey::Plain(key) => {
            let source = source(task, key);
            match plan_object(source.clone(), settings) {
                Action::Process { source, destination } => (source, Some(destination)),
                Action::Skip {
                    reason: SkipReason::OwnOutput,
                } if job.mode == Mode::Strip => {
                    return TaskResult::new(
                        ResultCode::Succeeded,
                        "skipped: the key is a destination of this function",
                    );
                }
                // A report writes nothing, so an output may be audited like any object.
                Action::Skip {
                    reason: SkipReason::OwnOutput,
                } => (source, None),
                Action::Skip { reason } => return permanent(reason.to_string()),
            }
        }
        TaskKey::Json { orig_key, new_key } => {
            if !orig_key.starts_with(&settings.source_prefix) {
                return permanent(SkipReason::OutsideSourcePrefix.to_string());
            }
            let destination = Destination {
                bucket: settings
                    .dest_bucket
                    .clone()
                    .unwrap_or_else(|| task.bucket.clone()),
                key: new_key,
            };
            (source(task, orig_key), Some(destination))
        }
    };
    match (job.mode, destination) {
        (Mode::Strip, Some(destination)) => {
            result(process(client, &source, &destination, settings, context).await)
        }
        // Report mode (a strip has a destination, or returned above).
        _ => report(client, &source, settings.max_object_bytes, context).await,
    }
}

fn source(task: &Task, key: String) -> SourceObject {
    SourceObject {
        bucket: task.bucket.clone(),
        key,
        version_id: task.version_id.clone(),
        etag: None,
    }
}

/// The result code of an outcome: only what a retry may change is temporary.
pub fn result(outcome: ObjectOutcome) -> TaskResult {
    use ResultCode::{PermanentFailure, Succeeded, TemporaryFailure};
    let code = match &outcome {
        ObjectOutcome::Stripped { .. }
        | ObjectOutcome::Copied { .. }
        | ObjectOutcome::AlreadyDone
        | ObjectOutcome::OwnOutput
        | ObjectOutcome::NotCurrent => Succeeded,
        // The source or the destination changed while the task ran: a redrive sees the new state.
        ObjectOutcome::Superseded { .. } | ObjectOutcome::Transient { .. } => TemporaryFailure,
        ObjectOutcome::Missing
        | ObjectOutcome::TooLarge { .. }
        | ObjectOutcome::Refused { .. }
        | ObjectOutcome::Failed { .. } => PermanentFailure,
    };
    let text = match &outcome {
        ObjectOutcome::Stripped {
            bytes_in, bytes_out, ..
        } => format!("{outcome}: {bytes_in} -> {bytes_out} bytes"),
        ObjectOutcome::Missing => "missing: no such key (or version)".to_owned(),
        _ => outcome.to_string(),
    };
    TaskResult::new(code, text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transform::ImageFormat;

    #[test]
    fn plain_keys_are_form_decoded_once() {
        for (raw, key) in [
            ("red+flower.jpg", "red flower.jpg"),
            ("a%2Bb.jpg", "a+b.jpg"),
            ("%2541pct.jpg", "%41pct.jpg"),
            ("%28%29%21%2A%27.jpg", "()!*'.jpg"),
            ("x%3Ay%3Bz%3D%2C%40%24%26.jpg", "x:y;z=,@$&.jpg"),
            ("%C3%BC/%E6%97%A5%E6%9C%AC.jpg", "ü/日本.jpg"),
            ("a//b~.jpg", "a//b~.jpg"),
            // JSON, but not an object: plain keys.
            ("2024", "2024"),
            ("%22a%22", "\"a\""),
            ("%7Bdraft%7D.jpg", "{draft}.jpg"),
        ] {
            assert_eq!(task_key(raw), Ok(TaskKey::Plain(key.into())), "{raw}");
        }
        assert!(task_key("100%.jpg").unwrap_err().contains("100%.jpg"));
    }

    #[test]
    fn json_keys_need_both_names() {
        let json = |value: serde_json::Value| {
            percent_encoding::utf8_percent_encode(&value.to_string(), percent_encoding::NON_ALPHANUMERIC)
                .to_string()
        };
        let ok = json(serde_json::json!({"origKey": "in/a b+c.jpg", "newKey": "out/ü.jpg", "x": 1}));
        assert_eq!(
            task_key(&ok),
            Ok(TaskKey::Json {
                orig_key: "in/a b+c.jpg".into(),
                new_key: "out/ü.jpg".into()
            })
        );
        for bad in [
            serde_json::json!({"origKey": "a"}),
            serde_json::json!({"newKey": "a"}),
            serde_json::json!({"origKey": "a", "newKey": ""}),
            serde_json::json!({"origKey": 1, "newKey": "b"}),
            serde_json::json!({}),
        ] {
            let error = task_key(&json(bad.clone())).unwrap_err();
            assert!(error.contains("origKey and newKey"), "{bad}: {error}");
        }
    }

    #[test]
    fn outcomes_map_to_result_codes() {
        use ResultCode::*;
        let cases = [
            (
                ObjectOutcome::Stripped {
                    format: ImageFormat::Jpeg,
                    bytes_in: 10,
                    bytes_out: 5,
                    exif_report_bytes: None,
                },
                Succeeded,
            ),
            (ObjectOutcome::Copied { bytes: 1 }, Succeeded),
            (ObjectOutcome::AlreadyDone, Succeeded),
            (ObjectOutcome::OwnOutput, Succeeded),
            (ObjectOutcome::NotCurrent, Succeeded),
            (ObjectOutcome::Superseded { bytes_in: 0 }, TemporaryFailure),
            (
                ObjectOutcome::Transient { reason: "503".into() },
                TemporaryFailure,
            ),
            (ObjectOutcome::Missing, PermanentFailure),
            (ObjectOutcome::TooLarge { limit: 1 }, PermanentFailure),
            (
                ObjectOutcome::Refused {
                    reason: "damaged".into(),
                    bytes_in: 1,
                },
                PermanentFailure,
            ),
            (ObjectOutcome::Failed { reason: "403".into() }, PermanentFailure),
        ];
        for (outcome, code) in cases {
            let got = result(outcome.clone());
            assert_eq!(got.code, code, "{outcome:?}");
            assert!(!got.result_string.is_empty());
        }
        let stripped = result(cases_stripped());
        assert_eq!(stripped.result_string, "stripped (JPEG): 10 -> 5 bytes");
    }

    #[tokio::test]
    async fn a_panic_is_a_permanent_failure_and_a_passed_deadline_a_temporary_one() {
        let soon = Instant::now() + Duration::from_secs(5);
        let panicked = guarded(async { panic!("index 7 out of range") }, soon).await;
        assert_eq!(
            panicked,
            TaskResult::new(
                ResultCode::PermanentFailure,
                "the task panicked: index 7 out of range"
            )
        );
        let started = Instant::now();
        let late = Instant::now() + Duration::from_millis(50);
        let stuck = guarded(std::future::pending(), late).await;
        assert_eq!(stuck.code, ResultCode::TemporaryFailure);
        assert!(stuck.result_string.contains("deadline"));
        assert!(started.elapsed() < Duration::from_secs(2));
        let done = guarded(async { TaskResult::new(ResultCode::Succeeded, "ok") }, soon).await;
        assert_eq!(done.code, ResultCode::Succeeded);
    }

    fn cases_stripped() -> ObjectOutcome {
        ObjectOutcome::Stripped {
            format: ImageFormat::Jpeg,
            bytes_in: 10,
            bytes_out: 5,
            exif_report_bytes: None,
        }
    }
}
