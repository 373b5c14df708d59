//! The answer to a Batch Operations invocation, in AWS's shape: the invocation's schema version
//! and id echoed, `treatMissingKeysAs`, and exactly one result per task
//! (<https://docs.aws.amazon.com/AmazonS3/latest/userguide/batch-ops-invoke-lambda.html>).
//!
//! Every field is always written: `aws_lambda_events`' `S3BatchJobResponse` writes `null` for
//! what is unset, which Batch Operations' examples never send.

use super::{ResultCode, TaskResult};
use serde::{Deserialize, Serialize};

/// The longest `resultString` sent, in characters: it goes into the completion report, one line
/// per task, and only needs to say what happened.
pub const MAX_RESULT_CHARS: usize = 512;

/// The response to one invocation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Response {
    pub invocation_schema_version: String,
    /// Undocumented; AWS's examples send `PermanentFailure`, which this always sends, so that a
    /// task without a result is never taken for a success.
    pub treat_missing_keys_as: ResultCode,
    pub invocation_id: String,
    pub results: Vec<ResultEntry>,
}

/// One task's result.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResultEntry {
    pub task_id: String,
    pub result_code: ResultCode,
    pub result_string: String,
}

impl Response {
    /// An empty response to the invocation `invocation_id` of `schema_version`.
    pub fn new(schema_version: &str, invocation_id: &str) -> Self {
        Self {
            invocation_schema_version: schema_version.to_owned(),
            treat_missing_keys_as: ResultCode::PermanentFailure,
            invocation_id: invocation_id.to_owned(),
            results: Vec::new(),
        }
    }

    /// Adds the result of the task `task_id`, its string cut to [`MAX_RESULT_CHARS`].
    pub fn push(&mut self, task_id: &str, result: TaskResult) {
        self.results.push(ResultEntry {
            task_id: task_id.to_owned(),
            result_code: result.code,
            result_string: short(result.result_string),
        });
    }
}

/// `text`, cut to [`MAX_RESULT_CHARS`] characters (the last one `…` when cut).
pub fn short(text: String) -> String {
    match text.char_indices().nth(MAX_RESULT_CHARS) {
        None => text,
        Some(_) => {
            let mut cut: String = text.chars().take(MAX_RESULT_CHARS - 1).collect();
            cut.push('…');
            cut
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_response_has_aws_shape_with_every_field() {
        let mut response = Response::new("2.0", "inv-1");
        response.push("t1", TaskResult::new(ResultCode::Succeeded, "stripped"));
        response.push("t2", TaskResult::new(ResultCode::TemporaryFailure, "503"));
        response.push("t3", TaskResult::new(ResultCode::PermanentFailure, ""));
        assert_eq!(
            serde_json::to_value(&response).unwrap(),
            json!({
                "invocationSchemaVersion": "2.0",
                "treatMissingKeysAs": "PermanentFailure",
                "invocationId": "inv-1",
                "results": [
                    {"taskId": "t1", "resultCode": "Succeeded", "resultString": "stripped"},
                    {"taskId": "t2", "resultCode": "TemporaryFailure", "resultString": "503"},
                    {"taskId": "t3", "resultCode": "PermanentFailure", "resultString": ""}
                ]
            })
        );
    }

    #[test]
    fn long_result_strings_are_cut_on_a_character() {
        let long = "ü".repeat(MAX_RESULT_CHARS + 10);
        let cut = short(long);
        assert_eq!(cut.chars().count(), MAX_RESULT_CHARS);
        assert!(cut.ends_with('…'));
        let exact = "a".repeat(MAX_RESULT_CHARS);
        assert_eq!(short(exact.clone()), exact);
    }
}
