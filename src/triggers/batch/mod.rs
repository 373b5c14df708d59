//! The S3 Batch Operations trigger (backfill): one task of a job, done by the same per-object work
//! as the upload trigger. The `s3-batch` bootstrap and `edge-signer backfill` both call
//! [`run_task`], so a rehearsal runs exactly what the job will.
//!
//! - [`event`](mod@event): the invocation's event, schemas 1.0 and 2.0 in one type.
//! - [`arguments`](mod@arguments): a job's user arguments over the environment's settings.
//! - [`task`](mod@task): one task's key, work and result code.
//! - `report.rs`: `mode=report`, which reads only what the summary needs, by byte ranges.
//! - [`response`](mod@response): the answer, in AWS's shape.
//! - [`handle_event`]: an invocation, from its JSON to its response (the bootstrap's work).

pub mod arguments;
pub mod event;
mod handler;
mod report;
pub mod response;
pub mod task;

pub use arguments::ArgumentError;
pub use event::{BatchEvent, BatchEventError, EventTask, Schema, bucket_from_arn, parse_batch_event};
pub use handler::{MAX_CONCURRENT_TASKS, fail_every_task, handle_event};
pub use response::{Response, ResultEntry};
pub use task::{TaskKey, task_key};

use super::settings::Settings;
use crate::s3::{Client, RequestContext};
use serde::{Deserialize, Serialize};

/// One task: an object of the manifest, as S3 Batch Operations names it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Task {
    /// Echoed in the result.
    pub task_id: String,
    pub bucket: String,
    /// As in the manifest and the event's `s3Key`: URL-encoded (decoded by [`run_task`]).
    pub key: String,
    pub version_id: Option<String>,
}

/// `strip` writes the stripped copy; `report` writes nothing and says what the object holds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Mode {
    #[default]
    Strip,
    Report,
}

/// A job's overrides of the environment's settings (schema 2.0 `userArguments`, or the backfill
/// runner's flags).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UserArguments {
    pub dest_bucket: Option<String>,
    pub dest_prefix: Option<String>,
    pub source_prefix: Option<String>,
    pub exif_suffix: Option<String>,
    pub mode: Option<Mode>,
}

/// The settings one job runs with: the environment's, overridden by its user arguments
/// ([`JobSettings::new`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct JobSettings {
    pub settings: Settings,
    pub mode: Mode,
}

/// S3 Batch Operations' result codes, spelled as AWS spells them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ResultCode {
    /// Done (stripped, copied, already done, or reported).
    Succeeded,
    /// A retry may help (5xx, `SlowDown`, a timeout, the deadline): Batch Operations redrives it.
    TemporaryFailure,
    /// A retry cannot help: the task is failed with its message.
    PermanentFailure,
}

/// One task's result: its code and a short `resultString`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaskResult {
    pub code: ResultCode,
    pub result_string: String,
}

impl TaskResult {
    pub fn new(code: ResultCode, result_string: impl Into<String>) -> Self {
        Self {
            code,
            result_string: result_string.into(),
        }
    }
}

/// Does one task: decodes its key (form-encoded; seed 002's JSON `{"origKey","newKey"}` strips
/// `origKey` into `newKey` in the destination bucket, with no prefix applied), then strips the
/// object into the destination as the upload trigger does, or in [`Mode::Report`] reads it and
/// says what it holds, writing nothing.
///
/// Never panics and never fails: every error is a [`ResultCode`] (a panic inside is a
/// `PermanentFailure`; the deadline of `context`, close or passed, a `TemporaryFailure`).
pub async fn run_task(
    client: &Client,
    task: &Task,
    job: &JobSettings,
    context: &RequestContext,
) -> TaskResult {
    task::run(client, task, job, context).await
}
