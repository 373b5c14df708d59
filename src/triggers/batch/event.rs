//! The event S3 Batch Operations sends a Lambda function, one invocation per task list
//! (<https://docs.aws.amazon.com/AmazonS3/latest/userguide/batch-ops-invoke-lambda.html>,
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/API_control_LambdaInvokeOperation.html>).
//!
//! Our own types rather than `aws_lambda_events`' `S3BatchJobEvent` (kept as the oracle in tests):
//! that one models schema 1.0 only, and drops a 2.0 task's `s3Bucket` and the job's
//! `userArguments`, so a 2.0 handler could not learn the bucket. Here one task type holds both
//! schemas; a task missing what it needs is that task's failure, not the whole event's.

use super::Task;
use serde::Deserialize;
use serde_json::{Map, Value};
use thiserror::Error;

/// One invocation: a job's tasks (AWS sends one at a time today; any number is handled).
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchEvent {
    /// `1.0` (tasks name their bucket by ARN) or `2.0` (by name, and the job has user arguments).
    /// Echoed in the response.
    pub invocation_schema_version: String,
    /// Echoed in the response.
    pub invocation_id: String,
    #[serde(default)]
    pub job: Job,
    pub tasks: Vec<EventTask>,
}

#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Job {
    pub id: Option<String>,
    /// Schema 2.0's `UserArguments`: read by `UserArguments::from_json`.
    pub user_arguments: Option<Map<String, Value>>,
}

/// One task as sent, both schemas in one type.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventTask {
    /// Echoed in the task's result.
    pub task_id: String,
    /// URL-encoded, as in the manifest (decoded by `run_task`).
    pub s3_key: Option<String>,
    /// A string, or `null` for a manifest without versions.
    pub s3_version_id: Option<String>,
    /// Schema 1.0.
    pub s3_bucket_arn: Option<String>,
    /// Schema 2.0.
    pub s3_bucket: Option<String>,
}

/// Which schema an invocation uses, by its major version.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Schema {
    V1,
    V2,
}

impl BatchEvent {
    /// `1.x` or `2.x`; `Err` says what came. A new major version may change what fields mean,
    /// so each of its tasks fails rather than being guessed at.
    pub fn schema(&self) -> Result<Schema, String> {
        let version = self.invocation_schema_version.as_str();
        let minor_ok = |rest: &str| !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_digit());
        match version.split_once('.') {
            Some(("1", rest)) if minor_ok(rest) => Ok(Schema::V1),
            Some(("2", rest)) if minor_ok(rest) => Ok(Schema::V2),
            _ => Err(format!(
                "invocationSchemaVersion {version:?} is not supported: expected 1.0 or 2.0"
            )),
        }
    }
}

impl EventTask {
    /// The task with its bucket: `s3Bucket` when present, else the resource of `s3BucketArn`.
    /// `Err` says what is missing, for the task's `PermanentFailure`.
    pub fn to_task(&self) -> Result<Task, String> {
        let key = self
            .s3_key
            .clone()
            .ok_or_else(|| "the task has no s3Key".to_owned())?;
        let bucket = match (&self.s3_bucket, &self.s3_bucket_arn) {
            (Some(bucket), _) if !bucket.is_empty() => bucket.clone(),
            (_, Some(arn)) => bucket_from_arn(arn)?.to_owned(),
            _ => return Err("the task has neither s3Bucket nor s3BucketArn".to_owned()),
        };
        Ok(Task {
            task_id: self.task_id.clone(),
            bucket,
            key,
            version_id: self.s3_version_id.clone(),
        })
    }
}

/// The bucket of an S3 bucket ARN: the resource after the fifth `:`. Splitting on `:::` (as the
/// AWS documentation's sample does) fails on the documentation's own example
/// `arn:aws:s3:us-east-1:0123456788:awsexamplebucket1`; this works for it, for the usual
/// `arn:aws:s3:::bucket`, and in every partition (`aws-cn`, `aws-us-gov`).
///
/// ```
/// use edge_signer::triggers::batch::bucket_from_arn;
/// assert_eq!(bucket_from_arn("arn:aws:s3:::photos"), Ok("photos"));
/// assert_eq!(bucket_from_arn("arn:aws-cn:s3:cn-north-1:0123456788:b1"), Ok("b1"));
/// assert!(bucket_from_arn("photos").is_err());
/// ```
pub fn bucket_from_arn(arn: &str) -> Result<&str, String> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    match parts.as_slice() {
        ["arn", partition, "s3", _region, _account, bucket]
            if !partition.is_empty() && !bucket.is_empty() && !bucket.contains('/') =>
        {
            Ok(bucket)
        }
        _ => Err(format!(
            "s3BucketArn {arn:?} is not an S3 bucket ARN (arn:PARTITION:s3:REGION:ACCOUNT:BUCKET)"
        )),
    }
}

/// An event this function cannot answer: without its `invocationId` and each task's `taskId`
/// there is no response to give, so the invocation fails (Batch Operations then fails its tasks).
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[error("malformed S3 Batch Operations event at {path}: {message}")]
pub struct BatchEventError {
    /// Where in the event, such as `tasks[0].taskId`.
    pub path: String,
    /// What is wrong there.
    pub message: String,
}

impl BatchEventError {
    /// A short, stable name for Lambda's `errorType`.
    pub fn kind(&self) -> &'static str {
        "MalformedEvent"
    }
}

/// Parses a Batch Operations event; the error names the JSON path at fault.
///
/// ```
/// use edge_signer::triggers::batch::parse_batch_event;
/// let error = parse_batch_event(br#"{"invocationSchemaVersion":"1.0","invocationId":"i","tasks":[{}]}"#).unwrap_err();
/// assert!(error.to_string().contains("tasks[0]"));
/// ```
pub fn parse_batch_event(json: &[u8]) -> Result<BatchEvent, BatchEventError> {
    let mut deserializer = serde_json::Deserializer::from_slice(json);
    let event = serde_path_to_error::deserialize(&mut deserializer).map_err(|e| BatchEventError {
        path: e.path().to_string(),
        message: e.inner().to_string(),
    })?;
    deserializer.end().map_err(|e| BatchEventError {
        path: ".".to_owned(),
        message: e.to_string(),
    })?;
    Ok(event)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(value: Value) -> BatchEvent {
        parse_batch_event(value.to_string().as_bytes()).unwrap()
    }

    #[test]
    fn schema_1_names_the_bucket_by_arn() {
        // The AWS documentation's example (seed 002), with its odd ARN.
        let event = parse(json!({
            "invocationSchemaVersion": "1.0",
            "invocationId": "YXNkbGZqYWRmaiBhc2RmdW9hZHNmZGpmaGFzbGtkaGZza2RmaAo",
            "job": {"id": "f3cc4f60-61f6-4a2b-8a21-d07600c373ce"},
            "tasks": [{
                "taskId": "dGFza2lkZ29lc2hlcmUK",
                "s3Key": "customerImage1.jpg",
                "s3VersionId": "1",
                "s3BucketArn": "arn:aws:s3:us-east-1:0123456788:awsexamplebucket1"
            }]
        }));
        assert_eq!(event.schema(), Ok(Schema::V1));
        assert_eq!(event.job.user_arguments, None);
        assert_eq!(
            event.tasks[0].to_task(),
            Ok(Task {
                task_id: "dGFza2lkZ29lc2hlcmUK".into(),
                bucket: "awsexamplebucket1".into(),
                key: "customerImage1.jpg".into(),
                version_id: Some("1".into()),
            })
        );
    }

    #[test]
    fn schema_2_names_the_bucket_and_carries_user_arguments() {
        // As aws-powertools' s3BatchOperationEventSchemaV2.json fixture.
        let event = parse(json!({
            "invocationSchemaVersion": "2.0",
            "invocationId": "YXNkbGZqYWRmaiBhc2RmdW9hZHNmZGpmaGFzbGtkaGZza2RmaAo",
            "job": {"id": "ab6f7c56-ea6a-4f57-a7ec-cc7a9d4dd1d9",
                    "userArguments": {"k1": "v1", "k2": "v2"}},
            "tasks": [
                {"taskId": "t1", "s3Key": "prefix/dataset/dataset.20231222.json.gz",
                 "s3VersionId": null, "s3Bucket": "powertoolstest"},
                {"taskId": "t2", "s3Key": "b", "s3Bucket": "other"}
            ]
        }));
        assert_eq!(event.schema(), Ok(Schema::V2));
        let arguments = event.job.user_arguments.as_ref().unwrap();
        assert_eq!(arguments.keys().collect::<Vec<_>>(), ["k1", "k2"]);
        let tasks: Vec<Task> = event.tasks.iter().map(|t| t.to_task().unwrap()).collect();
        assert_eq!(
            (tasks[0].bucket.as_str(), tasks[0].version_id.as_deref()),
            ("powertoolstest", None)
        );
        assert_eq!(tasks[1].bucket, "other");
    }

    #[test]
    fn arns_of_every_partition_give_their_bucket() {
        for (arn, bucket) in [
            ("arn:aws:s3:::photos", "photos"),
            ("arn:aws-cn:s3:::photos.cn", "photos.cn"),
            ("arn:aws-us-gov:s3:::gov-bucket", "gov-bucket"),
            (
                "arn:aws:s3:us-east-1:0123456788:awsexamplebucket1",
                "awsexamplebucket1",
            ),
        ] {
            assert_eq!(bucket_from_arn(arn), Ok(bucket), "{arn}");
        }
        for arn in [
            "",
            "photos",
            "arn:aws:s3:::",
            "arn:aws:s3::photos",
            "arn:aws:sqs:::photos",
            "arn:aws:s3:::photos/key",
            "arn::s3:::photos",
        ] {
            let error = bucket_from_arn(arn).unwrap_err();
            assert!(error.contains("s3BucketArn"), "{arn}: {error}");
        }
    }

    #[test]
    fn a_task_without_key_or_bucket_is_its_own_failure() {
        let event = parse(json!({
            "invocationSchemaVersion": "1.0", "invocationId": "i",
            "tasks": [{"taskId": "a", "s3BucketArn": "arn:aws:s3:::b"},
                      {"taskId": "b", "s3Key": "k"},
                      {"taskId": "c", "s3Key": "k", "s3BucketArn": "b"}]
        }));
        let errors: Vec<String> = event.tasks.iter().map(|t| t.to_task().unwrap_err()).collect();
        assert!(errors[0].contains("s3Key"), "{errors:?}");
        assert!(errors[1].contains("neither"), "{errors:?}");
        assert!(errors[2].contains("not an S3 bucket ARN"), "{errors:?}");
    }

    #[test]
    fn unknown_schema_versions_are_refused() {
        for version in ["3.0", "1", "2.", "", "x.0", "1.0.0"] {
            let event = parse(json!({"invocationSchemaVersion": version, "invocationId": "i", "tasks": []}));
            assert!(
                event.schema().unwrap_err().contains("expected 1.0 or 2.0"),
                "{version}"
            );
        }
    }

    #[test]
    fn an_event_without_ids_cannot_be_answered() {
        for (json, path) in [
            (json!({"invocationSchemaVersion": "1.0", "tasks": []}), "."),
            (
                json!({"invocationSchemaVersion": "1.0", "invocationId": "i"}),
                ".",
            ),
            (
                json!({"invocationSchemaVersion": "1.0", "invocationId": "i", "tasks": [{"s3Key": "k"}]}),
                "tasks[0]",
            ),
        ] {
            let error = parse_batch_event(json.to_string().as_bytes()).unwrap_err();
            assert_eq!(error.path, path, "{error}");
        }
        assert!(parse_batch_event(b"{} {}").is_err());
    }
}
