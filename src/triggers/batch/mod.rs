//! The S3 Batch Operations trigger (backfill): one task of a job, done by the same per-object work
//! as the upload trigger. The `s3-batch` bootstrap and `edge-signer backfill` both call
//! [`run_task`], so a rehearsal runs exactly what the job will.

mod arguments;

pub use arguments::ArgumentError;

use super::settings::Settings;
use crate::s3::{Client, RequestContext};

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

/// The settings one job runs with: the environment's, overridden by its user arguments.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct JobSettings {
    pub settings: Settings,
    pub mode: Mode,
}

/// S3 Batch Operations' result codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResultCode {
    Succeeded,
    TemporaryFailure,
    PermanentFailure,
}

/// One task's result: its code and a short `resultString`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaskResult {
    pub code: ResultCode,
    pub result_string: String,
}

/// Does one task. Never panics and never fails: every error is a [`ResultCode`].
pub async fn run_task(
    client: &Client,
    task: &Task,
    job: &JobSettings,
    context: &RequestContext,
) -> TaskResult {
    let _ = (client, task, job, context);
    TaskResult {
        code: ResultCode::PermanentFailure,
        result_string: "not built yet".to_owned(),
    }
}
