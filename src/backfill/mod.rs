//! `edge-signer backfill`: S3 Batch Operations rehearsed on one machine. The runner reads the
//! job's CSV manifest, runs the Lambda function's own task code ([`run_task`]) on every row,
//! concurrently, against the configured S3 endpoint, and writes the job's completion report.
//!
//! - [`manifest`]: the manifest's rows.
//! - [`report`]: the completion report's rows, appended as tasks finish.
//! - [`resume`]: which tasks a run does, given the report of an earlier one.
//! - [`run()`](mod@run): the tasks run, retried as Batch Operations redrives them, with a progress
//!   bar and an end on Ctrl-C.
//!
//! [`run_task`]: crate::triggers::batch::run_task

pub mod manifest;
pub mod report;
pub mod run;

pub use manifest::{Entry, ManifestError};
pub use report::{ReportError, Row, TaskStatus};
pub use run::{Options, Summary, interrupts, run};

use crate::s3::{Client, Config, ENDPOINT_URL_S3_VAR, REGION_VAR, Transport};
use crate::triggers::Settings;
use crate::triggers::batch::{JobSettings, UserArguments};
use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Arc;

/// One `edge-signer backfill` command.
#[derive(Clone, Debug, Default)]
pub struct Invocation {
    pub manifest: PathBuf,
    /// Read first (tasks that succeeded there are skipped), then appended to.
    pub report: PathBuf,
    /// Wins over `AWS_ENDPOINT_URL_S3` and `AWS_ENDPOINT_URL`.
    pub endpoint: Option<String>,
    /// Wins over `AWS_REGION`.
    pub region: Option<String>,
    /// Win over the `EDGE_SIGNER_*` variables, as a job's `userArguments` do.
    pub arguments: UserArguments,
    pub options: Options,
}

/// Runs a backfill: the settings from `env` (the `EDGE_SIGNER_*`, `AWS_*` variables) under the
/// invocation's flags, the manifest checked whole, the earlier report read, then the tasks left
/// run on a multi-threaded Tokio runtime; the report compacted at the end (one row per task).
///
/// # Errors
/// Before any task: a bad setting, manifest or report, missing credentials. After: the report
/// cannot be written.
pub fn execute(invocation: Invocation, env: impl Fn(&str) -> Option<String>) -> Result<Summary, String> {
    let job = job_settings(&invocation.arguments, &env)?;
    let config = Config::from_lookup(|name| match name {
        REGION_VAR if invocation.region.is_some() => invocation.region.clone(),
        ENDPOINT_URL_S3_VAR if invocation.endpoint.is_some() => invocation.endpoint.clone(),
        _ => env(name),
    })
    .map_err(|e| {
        if e.contains(REGION_VAR) {
            format!("{e} (or give --region)")
        } else {
            e
        }
    })?;
    let credentials = crate::credentials::from_lookup(&env)?;
    let show = |path: &PathBuf| path.display().to_string();
    let manifest = std::fs::File::open(&invocation.manifest)
        .map_err(|e| format!("{}: {e}", show(&invocation.manifest)))?;
    let entries = manifest::read(std::io::BufReader::new(manifest))
        .map_err(|e| format!("{}: {e}", show(&invocation.manifest)))?;
    if same_file(&invocation.manifest, &invocation.report) {
        return Err("the report would overwrite the manifest: give another --report".to_owned());
    }
    let previous =
        report::read(&invocation.report).map_err(|e| format!("{}: {e}", show(&invocation.report)))?;
    check_job_file(&invocation.report, &job, !previous.is_empty())?;
    if !previous.is_empty() {
        // One row per task, each ended by a line break, before this run appends to it.
        report::compact(&invocation.report).map_err(|e| format!("{}: {e}", show(&invocation.report)))?;
    }
    let summary = Summary {
        tasks: entries.len(),
        ..Summary::default()
    };
    let (pending, skipped) = resume(entries, &previous);
    let summary = Summary { skipped, ..summary };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    let summary = runtime.block_on(async {
        let client = Client::new(Transport::new(), config, credentials);
        let mut writer = report::Writer::append(&invocation.report)?;
        let interrupts = interrupts();
        run(
            client,
            Arc::new(job),
            pending,
            &mut writer,
            &invocation.options,
            interrupts,
            summary,
        )
        .await
    });
    // Tasks cut by a second interrupt may still hold the runtime: do not wait for them.
    runtime.shutdown_background();
    let summary = summary.map_err(|e| format!("{}: {e}", show(&invocation.report)))?;
    report::compact(&invocation.report).map_err(|e| format!("{}: {e}", show(&invocation.report)))?;
    Ok(summary)
}

/// The settings a report's rows were made with, kept beside it (`REPORT.job.json`): a task that
/// succeeded in `report` mode, or into another destination, is not done for this run, so a report
/// is resumed only under the same settings.
fn check_job_file(report: &std::path::Path, job: &JobSettings, resuming: bool) -> Result<(), String> {
    let mut path = report.as_os_str().to_owned();
    path.push(".job.json");
    let path = PathBuf::from(path);
    let settings = &job.settings;
    let this = serde_json::json!({
        "mode": job.mode.to_string(),
        "sourcePrefix": settings.source_prefix,
        "destBucket": settings.dest_bucket,
        "destPrefix": settings.dest_prefix,
        "exifSuffix": settings.exif_suffix,
    });
    if resuming {
        let earlier = std::fs::read(&path)
            .ok()
            .and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok());
        if earlier.as_ref() != Some(&this) {
            let was = earlier.map_or_else(|| "unknown settings".to_owned(), |e| e.to_string());
            return Err(format!(
                "{}: its rows were made with {was}, not {this}: give another --report, or the same settings",
                report.display()
            ));
        }
    }
    std::fs::write(&path, format!("{this}\n")).map_err(|e| format!("{}: {e}", path.display()))
}

fn same_file(a: &std::path::Path, b: &std::path::Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// The tasks still to do: those of `entries` whose last row in an earlier report (`previous`) did
/// not succeed, in manifest order; and how many were skipped because they did.
pub fn resume(entries: Vec<Entry>, previous: &[Row]) -> (Vec<Entry>, usize) {
    let succeeded: HashSet<report::TaskKey> = report::latest(previous.to_vec())
        .into_iter()
        .filter(|row| row.status == TaskStatus::Succeeded)
        .map(|row| row.task_key())
        .collect();
    let total = entries.len();
    let pending: Vec<Entry> = entries
        .into_iter()
        .filter(|e| !succeeded.contains(&(e.bucket.clone(), e.key.clone(), e.version_id.clone())))
        .collect();
    let skipped = total - pending.len();
    (pending, skipped)
}

/// The environment's settings with the flags over them. The prefixes and the destination bucket
/// are read as if the flags were their variables, since the environment's are checked together
/// (say `EDGE_SIGNER_SOURCE_PREFIX=in/` needs a destination prefix, which a flag may give); then
/// every flag applies as a job's user argument. An error names the flag when one gave the value.
fn job_settings(
    arguments: &UserArguments,
    env: impl Fn(&str) -> Option<String>,
) -> Result<JobSettings, String> {
    use crate::triggers::settings::{DEST_BUCKET, DEST_PREFIX, SOURCE_PREFIX};
    let flagged = |variable: &str| match variable {
        DEST_BUCKET => arguments.dest_bucket.as_ref().map(|v| ("--dest-bucket", v)),
        DEST_PREFIX => arguments.dest_prefix.as_ref().map(|v| ("--dest-prefix", v)),
        SOURCE_PREFIX => arguments.source_prefix.as_ref().map(|v| ("--source-prefix", v)),
        _ => None,
    };
    let settings = Settings::from_lookup(|name| flagged(name).map(|(_, v)| v.clone()).or_else(|| env(name)))
        .map_err(|e| match flagged(e.variable) {
            Some((flag, _)) => format!("{flag}: {}", e.reason),
            None => e.to_string(),
        })?;
    JobSettings::new(settings, arguments).map_err(|e| format!("{}: {}", flag(&e.argument), e.reason))
}

/// The flag of a user argument (`destPrefix` → `--dest-prefix`).
fn flag(argument: &str) -> String {
    let mut flag = String::from("--");
    for c in argument.chars() {
        if c.is_ascii_uppercase() {
            flag.push('-');
        }
        flag.push(c.to_ascii_lowercase());
    }
    flag
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(line: u64, key: &str, version: Option<&str>) -> Entry {
        Entry {
            line,
            bucket: "photos".into(),
            key: key.into(),
            version_id: version.map(Into::into),
        }
    }

    fn row(key: &str, version: Option<&str>, status: TaskStatus) -> Row {
        Row {
            bucket: "photos".into(),
            key: key.into(),
            version_id: version.map(Into::into),
            status,
            http_status: Some(200),
            error_code: if status == TaskStatus::Failed {
                "PermanentFailure".into()
            } else {
                String::new()
            },
            message: String::new(),
        }
    }

    #[test]
    fn succeeded_tasks_are_skipped_and_failed_or_new_ones_redone() {
        let entries = vec![
            entry(1, "a.jpg", None),
            entry(2, "b.jpg", None),
            entry(3, "c.jpg", None),
            entry(4, "d.jpg", Some("v2")),
            entry(5, "e.jpg", None),
        ];
        let previous = [
            row("a.jpg", None, TaskStatus::Succeeded),
            row("b.jpg", None, TaskStatus::Failed),
            // Failed, then succeeded on a later run: the last row counts.
            row("c.jpg", None, TaskStatus::Failed),
            row("c.jpg", None, TaskStatus::Succeeded),
            // Another version of d.jpg succeeded, not this one.
            row("d.jpg", Some("v1"), TaskStatus::Succeeded),
            // Succeeded, then failed: redone.
            row("e.jpg", None, TaskStatus::Succeeded),
            row("e.jpg", None, TaskStatus::Failed),
        ];
        let (pending, skipped) = resume(entries, &previous);
        let lines: Vec<u64> = pending.iter().map(|e| e.line).collect();
        assert_eq!((lines, skipped), (vec![2, 4, 5], 2));
    }

    #[test]
    fn flags_win_over_the_environment_and_errors_name_them() {
        use crate::triggers::settings::{DEST_PREFIX, SOURCE_PREFIX};
        let env = |name: &str| match name {
            SOURCE_PREFIX => Some("in/".to_owned()),
            DEST_PREFIX => Some("wrong/".to_owned()),
            _ => None,
        };
        let flags = |dest_prefix: Option<&str>, dest_bucket: Option<&str>| UserArguments {
            dest_prefix: dest_prefix.map(Into::into),
            dest_bucket: dest_bucket.map(Into::into),
            ..UserArguments::default()
        };
        let job = job_settings(&flags(Some("out/"), None), env).unwrap();
        assert_eq!(
            (
                job.settings.source_prefix.as_str(),
                job.settings.dest_prefix.as_str()
            ),
            ("in/", "out/")
        );
        // Only the source prefix in the environment: the flag makes it valid.
        let only_source = |name: &str| (name == SOURCE_PREFIX).then(|| "in/".to_owned());
        assert!(
            job_settings(&UserArguments::default(), only_source)
                .unwrap_err()
                .contains(DEST_PREFIX)
        );
        assert!(job_settings(&flags(Some("out/"), None), only_source).is_ok());
        assert!(
            job_settings(&flags(Some(""), None), env)
                .unwrap_err()
                .starts_with("--dest-prefix: ")
        );
        assert!(
            job_settings(&flags(None, Some("a/b")), env)
                .unwrap_err()
                .starts_with("--dest-bucket: ")
        );
        let report = UserArguments {
            mode: Some(crate::triggers::batch::Mode::Report),
            exif_suffix: Some(String::new()),
            ..flags(Some("out/"), None)
        };
        let job = job_settings(&report, env).unwrap();
        assert_eq!(
            (job.mode, job.settings.exif_suffix),
            (crate::triggers::batch::Mode::Report, None)
        );
    }

    #[test]
    fn flags_of_user_arguments() {
        assert_eq!(flag("destPrefix"), "--dest-prefix");
        assert_eq!(flag("mode"), "--mode");
    }

    #[test]
    fn a_key_is_compared_as_written_in_the_manifest() {
        // `a+b` and `a%2Bb` are different objects (a space, a plus), however they are encoded.
        let (pending, skipped) = resume(
            vec![entry(1, "a%2Bb.jpg", None)],
            &[row("a+b.jpg", None, TaskStatus::Succeeded)],
        );
        assert_eq!((pending.len(), skipped), (1, 0));
    }
}
