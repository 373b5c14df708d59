//! The tasks run: at most `concurrency` at once on a Tokio runtime, each a call of the Lambda
//! function's [`run_task`], a `TemporaryFailure` retried with exponential backoff as Batch
//! Operations redrives it, each result appended to the report as it comes.
//!
//! A first interrupt (Ctrl-C) starts no new task and lets the running ones finish; a second cuts
//! them (their rows are not written: they are not done). The report then holds what was done.

use super::manifest::Entry;
use super::report::{self, Row, TaskStatus};
use crate::s3::{Client, RequestContext};
use crate::triggers::batch::{JobSettings, ResultCode, Task, TaskResult, run_task};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tokio::task::JoinSet;

/// How the tasks run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    /// Tasks running at once (at least 1).
    pub concurrency: usize,
    /// Retries of a `TemporaryFailure` before it is reported as failed.
    pub retries: u32,
    /// The wait before the first retry; doubled before each next one.
    pub backoff: Duration,
    /// Each attempt's deadline (a Lambda function's timeout): its requests are cut then.
    pub task_timeout: Duration,
    /// Draw a progress bar (on a terminal).
    pub progress: bool,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            concurrency: 8,
            retries: 3,
            backoff: Duration::from_millis(500),
            task_timeout: Duration::from_secs(60),
            progress: false,
        }
    }
}

/// What a run did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// Rows of the manifest.
    pub tasks: usize,
    /// Tasks that had succeeded in the report already: not run, no request.
    pub skipped: usize,
    pub succeeded: usize,
    pub failed: usize,
    /// Retries of temporary failures.
    pub retries: usize,
    /// Tasks not started because of an interrupt.
    pub not_started: usize,
    /// Tasks cut by a second interrupt (no row).
    pub cut: usize,
    pub interrupted: bool,
    pub elapsed: Duration,
}

impl Summary {
    /// 130 when interrupted, else 1 when a task failed, else 0.
    pub fn exit_code(&self) -> u8 {
        if self.interrupted {
            130
        } else if self.failed > 0 {
            1
        } else {
            0
        }
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let done = self.succeeded + self.failed;
        let seconds = self.elapsed.as_secs_f64();
        let rate = if seconds > 0.0 { done as f64 / seconds } else { 0.0 };
        write!(
            f,
            "{} tasks: {} succeeded, {} failed, {} skipped (succeeded in the report); {} retries; {done} done in {seconds:.1} s ({rate:.0} objects/s)",
            self.tasks, self.succeeded, self.failed, self.skipped, self.retries
        )?;
        if self.interrupted {
            write!(
                f,
                "; interrupted: {} not started, {} cut",
                self.not_started, self.cut
            )?;
        }
        Ok(())
    }
}

/// Interrupts (Ctrl-C) as they come, for [`run`].
pub fn interrupts() -> mpsc::UnboundedReceiver<()> {
    let (sender, receiver) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while tokio::signal::ctrl_c().await.is_ok() {
            if sender.send(()).is_err() {
                break;
            }
        }
    });
    receiver
}

/// Runs `pending` (the manifest's tasks still to do) and appends a row per finished task to
/// `report`. `summary` comes in with `tasks` and `skipped` set, and is completed.
///
/// # Errors
/// The report cannot be written: the run stops (running tasks are cut).
pub async fn run(
    client: Client,
    job: Arc<JobSettings>,
    pending: Vec<Entry>,
    report: &mut report::Writer,
    options: &Options,
    mut interrupts: mpsc::UnboundedReceiver<()>,
    mut summary: Summary,
) -> std::io::Result<Summary> {
    let started = Instant::now();
    let bar = progress_bar(pending.len(), options.progress);
    let mut queue = pending.into_iter();
    let mut running: JoinSet<(TaskResult, u32)> = JoinSet::new();
    let mut entries = HashMap::new();
    let mut interrupted = 0;
    loop {
        while interrupted == 0 && running.len() < options.concurrency.max(1) {
            let Some(entry) = queue.next() else { break };
            let handle = running.spawn(attempts(
                client.clone(),
                Arc::clone(&job),
                task(&entry),
                options.clone(),
            ));
            entries.insert(handle.id(), entry);
        }
        tokio::select! {
            joined = running.join_next_with_id() => {
                let Some(joined) = joined else { break };
                let (id, outcome) = match joined {
                    Ok((id, outcome)) => (id, Ok(outcome)),
                    Err(e) => (e.id(), Err(e)),
                };
                let Some(entry) = entries.remove(&id) else { continue };
                let (result, retries) = match outcome {
                    Ok(outcome) => outcome,
                    Err(e) if e.is_cancelled() => {
                        summary.cut += 1;
                        continue;
                    }
                    Err(e) => (panicked(e), 0),
                };
                summary.retries += retries as usize;
                let row = Row::of(&entry, &result);
                match row.status {
                    TaskStatus::Succeeded => summary.succeeded += 1,
                    TaskStatus::Failed => summary.failed += 1,
                }
                report.write(&row)?;
                bar.inc(1);
                let rate = bar.position() as f64 / bar.elapsed().as_secs_f64().max(1e-3);
                bar.set_message(format!("{} failed, {rate:.0} objects/s", summary.failed));
            }
            Some(()) = interrupts.recv(), if interrupted < 2 => {
                interrupted += 1;
                if interrupted == 1 {
                    bar.suspend(|| eprintln!("interrupted: finishing the running tasks (Ctrl-C again cuts them)"));
                } else {
                    running.abort_all();
                }
            }
        }
    }
    bar.finish_and_clear();
    summary.not_started = queue.len();
    summary.interrupted = interrupted > 0;
    summary.elapsed = started.elapsed();
    Ok(summary)
}

fn task(entry: &Entry) -> Task {
    Task {
        task_id: format!("line-{}", entry.line),
        bucket: entry.bucket.clone(),
        key: entry.key.clone(),
        version_id: entry.version_id.clone(),
    }
}

/// One task, redriven while it fails temporarily and retries are left.
async fn attempts(client: Client, job: Arc<JobSettings>, task: Task, options: Options) -> (TaskResult, u32) {
    let mut retries = 0;
    loop {
        let context = RequestContext::new(Instant::now() + options.task_timeout);
        let result = run_task(&client, &task, &job, &context).await;
        if result.code != ResultCode::TemporaryFailure || retries >= options.retries {
            return (result, retries);
        }
        tokio::time::sleep(options.backoff.saturating_mul(1 << retries.min(16))).await;
        retries += 1;
    }
}

fn panicked(error: tokio::task::JoinError) -> TaskResult {
    TaskResult::panicked(&*error.into_panic())
}

fn progress_bar(len: usize, visible: bool) -> ProgressBar {
    if !visible {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(len as u64), ProgressDrawTarget::stderr());
    let style = ProgressStyle::with_template("{wide_bar} {pos}/{len} done, {msg}, {eta} left");
    if let Ok(style) = style {
        bar.set_style(style);
    }
    bar.set_message("0 failed, 0 objects/s");
    bar
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_and_the_summary_line() {
        let mut summary = Summary {
            tasks: 10,
            skipped: 4,
            succeeded: 5,
            failed: 0,
            elapsed: Duration::from_secs(2),
            ..Summary::default()
        };
        assert_eq!(summary.exit_code(), 0);
        assert_eq!(
            summary.to_string(),
            "10 tasks: 5 succeeded, 0 failed, 4 skipped (succeeded in the report); 0 retries; 5 done in 2.0 s (2 objects/s)"
        );
        summary.failed = 1;
        assert_eq!(summary.exit_code(), 1);
        summary.interrupted = true;
        assert_eq!(summary.exit_code(), 130);
        assert!(
            summary
                .to_string()
                .ends_with("; interrupted: 0 not started, 0 cut")
        );
    }
}
