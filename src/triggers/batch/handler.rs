//! One invocation, from the event's JSON to the response: what the `s3-batch` bootstrap runs.

use super::event::{BatchEvent, BatchEventError, parse_batch_event};
use super::response::Response;
use super::{JobSettings, ResultCode, TaskResult, UserArguments, run_task};
use crate::s3::{Client, RequestContext};
use crate::triggers::settings::Settings;
use futures_util::StreamExt;
use std::time::Instant;

/// Tasks of one invocation run at the same time, at most (AWS sends one today).
pub const MAX_CONCURRENT_TASKS: usize = 4;

/// Answers a Batch Operations invocation: exactly one result per task, in the tasks' order, and a
/// log line per task. A bad or unknown user argument, or an unknown schema version, fails every
/// task with a `PermanentFailure` naming it, before any request.
///
/// # Errors
/// Only an event that cannot be answered (no `invocationId`, a task without `taskId`, not JSON).
pub async fn handle_event(
    client: &Client,
    settings: &Settings,
    event: &[u8],
    context: &RequestContext,
) -> Result<Response, BatchEventError> {
    let event = parse_batch_event(event)?;
    let job = event
        .schema()
        .and_then(|_| job_settings(settings, &event).map_err(|e| e.to_string()));
    let job = match job {
        Ok(job) => job,
        Err(reason) => return Ok(every_task(&event, &reason)),
    };
    let job = &job;
    let results: Vec<TaskResult> = futures_util::stream::iter(&event.tasks)
        .map(|entry| async move {
            let started = Instant::now();
            let result = match entry.to_task() {
                Ok(task) => run_task(client, &task, job, context).await,
                Err(reason) => TaskResult::new(ResultCode::PermanentFailure, reason),
            };
            log(&entry.task_id, entry.s3_key.as_deref(), &result, started);
            result
        })
        .buffered(MAX_CONCURRENT_TASKS)
        .collect()
        .await;
    let mut response = Response::new(&event.invocation_schema_version, &event.invocation_id);
    for (entry, result) in event.tasks.iter().zip(results) {
        response.push(&entry.task_id, result);
    }
    Ok(response)
}

/// Answers every task of `event` with a `PermanentFailure` saying `reason`: for a function that
/// cannot work at all (settings or credentials missing), so the completion report says why.
///
/// # Errors
/// As [`handle_event`].
pub fn fail_every_task(event: &[u8], reason: &str) -> Result<Response, BatchEventError> {
    Ok(every_task(&parse_batch_event(event)?, reason))
}

fn every_task(event: &BatchEvent, reason: &str) -> Response {
    let mut response = Response::new(&event.invocation_schema_version, &event.invocation_id);
    for entry in &event.tasks {
        let result = TaskResult::new(ResultCode::PermanentFailure, reason);
        log(&entry.task_id, entry.s3_key.as_deref(), &result, Instant::now());
        response.push(&entry.task_id, result);
    }
    response
}

fn job_settings(settings: &Settings, event: &BatchEvent) -> Result<JobSettings, super::ArgumentError> {
    let arguments = match &event.job.user_arguments {
        Some(map) => UserArguments::from_json(map)?,
        None => UserArguments::default(),
    };
    JobSettings::new(settings.clone(), &arguments)
}

/// One line per task: its id, its key as sent, its code and result string, and the time taken.
fn log(task_id: &str, key: Option<&str>, result: &TaskResult, started: Instant) {
    let millis = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    let key = key.unwrap_or("-");
    let code = result.code;
    let text = result.result_string.as_str();
    match code {
        ResultCode::Succeeded => tracing::info!(task_id, key, ?code, result = text, millis, "task done"),
        _ => tracing::warn!(task_id, key, ?code, result = text, millis, "task failed"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::s3::{Config, Transport};
    use aws_credential_types::Credentials;
    use serde_json::json;
    use std::time::Duration;

    /// A client whose every request is refused (nothing listens on port 9).
    fn client() -> Client {
        let mut config = Config::new("us-east-1");
        config.endpoint = Some("http://127.0.0.1:9".parse().unwrap());
        Client::new(
            Transport::new(),
            config,
            Credentials::new("AK", "SK", None, None, "t"),
        )
    }

    fn context() -> RequestContext {
        RequestContext::new(Instant::now() + Duration::from_secs(5))
    }

    async fn answer(event: serde_json::Value) -> serde_json::Value {
        let response = handle_event(
            &client(),
            &Settings::default(),
            event.to_string().as_bytes(),
            &context(),
        )
        .await
        .unwrap();
        serde_json::to_value(response).unwrap()
    }

    #[tokio::test]
    async fn a_bad_user_argument_fails_every_task_naming_it_without_a_request() {
        let got = answer(json!({
            "invocationSchemaVersion": "2.0", "invocationId": "inv",
            "job": {"id": "j", "userArguments": {"mode": "report", "colour": "blue"}},
            "tasks": [{"taskId": "t1", "s3Key": "a", "s3Bucket": "b"},
                      {"taskId": "t2", "s3Key": "b", "s3Bucket": "b"}]
        }))
        .await;
        let message = "user argument \"colour\": unknown; expected one of destBucket, destPrefix, sourcePrefix, exifSuffix, mode";
        assert_eq!(
            got,
            json!({
                "invocationSchemaVersion": "2.0", "treatMissingKeysAs": "PermanentFailure",
                "invocationId": "inv",
                "results": [
                    {"taskId": "t1", "resultCode": "PermanentFailure", "resultString": message},
                    {"taskId": "t2", "resultCode": "PermanentFailure", "resultString": message}
                ]
            })
        );
    }

    #[tokio::test]
    async fn every_task_gets_one_result_in_order_whatever_happens_to_it() {
        let got = answer(json!({
            "invocationSchemaVersion": "1.0", "invocationId": "inv", "job": {"id": "j"},
            "tasks": [
                {"taskId": "no-bucket", "s3Key": "a"},
                {"taskId": "bad-json", "s3Key": "%7B%22origKey%22%3A%22a%22%7D", "s3BucketArn": "arn:aws:s3:::b"},
                {"taskId": "refused", "s3Key": "a.jpg", "s3VersionId": null, "s3BucketArn": "arn:aws:s3:::bucket1"},
                {"taskId": "bad-escape", "s3Key": "100%", "s3BucketArn": "arn:aws:s3:::b"}
            ]
        }))
        .await;
        let results = got["results"].as_array().unwrap();
        let ids: Vec<&str> = results.iter().map(|r| r["taskId"].as_str().unwrap()).collect();
        assert_eq!(ids, ["no-bucket", "bad-json", "refused", "bad-escape"]);
        let codes: Vec<&str> = results
            .iter()
            .map(|r| r["resultCode"].as_str().unwrap())
            .collect();
        assert_eq!(
            codes,
            [
                "PermanentFailure",
                "PermanentFailure",
                "TemporaryFailure",
                "PermanentFailure"
            ],
            "{got}"
        );
    }

    #[tokio::test]
    async fn an_unknown_schema_fails_every_task_and_a_missing_id_the_invocation() {
        let got = answer(json!({
            "invocationSchemaVersion": "3.0", "invocationId": "inv",
            "tasks": [{"taskId": "t", "s3Key": "a", "s3Bucket": "b"}]
        }))
        .await;
        assert_eq!(got["results"][0]["resultCode"], "PermanentFailure");
        assert!(
            got["results"][0]["resultString"]
                .as_str()
                .unwrap()
                .contains("3.0")
        );
        let error = handle_event(&client(), &Settings::default(), b"{\"tasks\":[]}", &context())
            .await
            .unwrap_err();
        assert_eq!(error.kind(), "MalformedEvent");
    }

    #[tokio::test]
    async fn a_passed_deadline_is_a_temporary_failure_at_once() {
        let event = json!({
            "invocationSchemaVersion": "1.0", "invocationId": "inv",
            "tasks": [{"taskId": "t", "s3Key": "a.jpg", "s3BucketArn": "arn:aws:s3:::b"}]
        });
        let response = handle_event(
            &client(),
            &Settings::default(),
            event.to_string().as_bytes(),
            &RequestContext::new(Instant::now()),
        )
        .await
        .unwrap();
        assert_eq!(response.results[0].result_code, ResultCode::TemporaryFailure);
        assert!(response.results[0].result_string.contains("deadline"));
    }

    #[tokio::test]
    async fn keys_are_checked_against_the_prefixes_before_any_request() {
        // Every request of this client is refused: these results come before any.
        let settings = Settings {
            source_prefix: "in/".into(),
            dest_prefix: "out/".into(),
            ..Settings::default()
        };
        let json_key = |value: serde_json::Value| {
            percent_encoding::utf8_percent_encode(&value.to_string(), percent_encoding::NON_ALPHANUMERIC)
                .to_string()
        };
        let event = json!({
            "invocationSchemaVersion": "2.0", "invocationId": "inv",
            "tasks": [
                {"taskId": "outside", "s3Key": "other/a.jpg", "s3Bucket": "bucket1"},
                {"taskId": "json-outside", "s3Bucket": "bucket1",
                 "s3Key": json_key(json!({"origKey": "other/a.jpg", "newKey": "in/b.jpg"}))},
                {"taskId": "output", "s3Key": "out/a.jpg", "s3Bucket": "bucket1"}
            ]
        });
        let response = handle_event(&client(), &settings, event.to_string().as_bytes(), &context())
            .await
            .unwrap();
        let got: Vec<(ResultCode, &str)> = response
            .results
            .iter()
            .map(|r| (r.result_code, r.result_string.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                (
                    ResultCode::PermanentFailure,
                    "the key is outside the source prefix"
                ),
                (
                    ResultCode::PermanentFailure,
                    "the key is outside the source prefix"
                ),
                (
                    ResultCode::Succeeded,
                    "skipped: the key is a destination of this function"
                ),
            ]
        );
    }

    #[test]
    fn a_broken_function_fails_every_task_with_the_reason() {
        let event = json!({
            "invocationSchemaVersion": "1.0", "invocationId": "inv",
            "tasks": [{"taskId": "t", "s3Key": "a", "s3BucketArn": "arn:aws:s3:::b"}]
        });
        let response = fail_every_task(event.to_string().as_bytes(), "AWS_REGION is not set").unwrap();
        assert_eq!(response.results.len(), 1);
        assert_eq!(response.results[0].result_string, "AWS_REGION is not set");
        assert_eq!(response.results[0].result_code, ResultCode::PermanentFailure);
    }
}
