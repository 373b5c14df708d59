//! The completion report, in S3 Batch Operations' `Report_CSV_20180820` layout: one row per task,
//! no header, `Bucket, Key, VersionId, TaskStatus, …, ResultMessage`
//! (<https://docs.aws.amazon.com/AmazonS3/latest/userguide/batch-ops-examples-reports.html>).
//!
//! The two middle columns are written as AWS's reports write them, not as that page's
//! `ReportSchema` string lists them: every example row there, and the reports of real jobs, hold
//! the HTTP status code before the error code (`…,failed,200,PermanentFailure,"…"`). For a Lambda
//! job the status is that of the invocation (200) and the error code is the function's result code.
//!
//! Rows are appended and flushed as tasks finish, so an interrupted run leaves what it did. A
//! task may then have several rows (a failure, and a later retry): the last one counts, and
//! [`compact`] rewrites the report with one row per task.

use super::manifest::Entry;
use crate::triggers::batch::{ResultCode, TaskResult};
use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io;
use std::path::Path;
use thiserror::Error;

/// The HTTP status of a task that the function answered (its invocation's status).
pub const INVOKED: u16 = 200;

/// A task's status in the report.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TaskStatus {
    Succeeded,
    Failed,
}

impl TaskStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
        }
    }
}

/// One row of the report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    pub bucket: String,
    /// As in the manifest (URL-encoded).
    pub key: String,
    pub version_id: Option<String>,
    pub status: TaskStatus,
    pub http_status: Option<u16>,
    /// Empty when succeeded; else the result code (`PermanentFailure`, `TemporaryFailure`).
    pub error_code: String,
    pub message: String,
}

/// What identifies a task across runs: its manifest fields.
pub type TaskKey = (String, String, Option<String>);

impl Row {
    /// The row of a task the function answered, as a Lambda job reports it.
    pub fn of(entry: &Entry, result: &TaskResult) -> Self {
        let (status, error_code) = match result.code {
            ResultCode::Succeeded => (TaskStatus::Succeeded, ""),
            ResultCode::PermanentFailure => (TaskStatus::Failed, "PermanentFailure"),
            ResultCode::TemporaryFailure => (TaskStatus::Failed, "TemporaryFailure"),
        };
        Self {
            bucket: entry.bucket.clone(),
            key: entry.key.clone(),
            version_id: entry.version_id.clone(),
            status,
            http_status: Some(INVOKED),
            error_code: error_code.to_owned(),
            message: result.result_string.clone(),
        }
    }

    pub fn task_key(&self) -> TaskKey {
        (self.bucket.clone(), self.key.clone(), self.version_id.clone())
    }

    fn fields(&self) -> [String; 7] {
        [
            self.bucket.clone(),
            self.key.clone(),
            self.version_id.clone().unwrap_or_default(),
            self.status.as_str().to_owned(),
            self.http_status.map(|s| s.to_string()).unwrap_or_default(),
            self.error_code.clone(),
            self.message.clone(),
        ]
    }

    fn parse(record: &csv::StringRecord, line: u64) -> Result<Self, ReportError> {
        let bad = |reason: String| ReportError::Row { line, reason };
        if record.len() != 7 {
            return Err(bad(format!("{} field(s); expected 7", record.len())));
        }
        let status = match &record[3] {
            "succeeded" => TaskStatus::Succeeded,
            "failed" => TaskStatus::Failed,
            other => {
                return Err(bad(format!(
                    "task status {other:?}; expected succeeded or failed"
                )));
            }
        };
        let http_status = match &record[4] {
            "" => None,
            text => Some(
                text.parse()
                    .map_err(|_| bad(format!("HTTP status code {text:?} is not a number")))?,
            ),
        };
        Ok(Self {
            bucket: record[0].to_owned(),
            key: record[1].to_owned(),
            version_id: Some(&record[2]).filter(|v| !v.is_empty()).map(str::to_owned),
            status,
            http_status,
            error_code: record[5].to_owned(),
            message: record[6].to_owned(),
        })
    }
}

/// A report that cannot be read or written.
#[derive(Debug, Error)]
pub enum ReportError {
    #[error("line {line}: {reason}")]
    Row { line: u64, reason: String },
    #[error("line {line}: not CSV: {source}")]
    Csv { line: u64, source: csv::Error },
    #[error(transparent)]
    Io(#[from] io::Error),
}

/// The rows of an existing report, in order; none when the file does not exist.
///
/// # Errors
/// A row that is not a report row (with its line), or the file cannot be read.
pub fn read(path: &Path) -> Result<Vec<Row>, ReportError> {
    match File::open(path) {
        Ok(file) => read_from(file),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(e.into()),
    }
}

/// The rows of a report read from `input`.
///
/// # Errors
/// As [`read`].
pub fn read_from(mut input: impl io::Read) -> Result<Vec<Row>, ReportError> {
    let mut bytes = Vec::new();
    input.read_to_end(&mut bytes)?;
    let mut rows = Vec::new();
    for record in super::manifest::records(&bytes) {
        let (line, record) = record.map_err(|(line, source)| ReportError::Csv { line, source })?;
        rows.push(Row::parse(&record, line)?);
    }
    Ok(rows)
}

/// The last row of each task, in the order tasks first appear.
pub fn latest(rows: Vec<Row>) -> Vec<Row> {
    let mut index: HashMap<TaskKey, usize> = HashMap::new();
    let mut out: Vec<Row> = Vec::new();
    for row in rows {
        match index.get(&row.task_key()) {
            Some(&at) => out[at] = row,
            None => {
                index.insert(row.task_key(), out.len());
                out.push(row);
            }
        }
    }
    out
}

/// Appends rows to a report, each flushed to the file as it is written.
pub struct Writer {
    csv: csv::Writer<File>,
}

impl Writer {
    /// Opens `path` for appending (created if missing).
    ///
    /// # Errors
    /// The file cannot be opened.
    pub fn append(path: &Path) -> io::Result<Self> {
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        Ok(Self {
            csv: csv::WriterBuilder::new().has_headers(false).from_writer(file),
        })
    }

    /// Writes one row and flushes it.
    ///
    /// # Errors
    /// The file cannot be written.
    pub fn write(&mut self, row: &Row) -> io::Result<()> {
        self.csv.write_record(row.fields()).map_err(io::Error::other)?;
        self.csv.flush()
    }
}

/// Rewrites the report at `path` with one row per task (the last), through a temporary file
/// renamed over it, so that the report is whole at every moment.
///
/// # Errors
/// The report cannot be read, written or renamed.
pub fn compact(path: &Path) -> Result<(), ReportError> {
    let rows = latest(read(path)?);
    let mut temporary = path.as_os_str().to_owned();
    temporary.push(".tmp");
    let temporary = std::path::PathBuf::from(temporary);
    let _ = std::fs::remove_file(&temporary);
    {
        let mut writer = Writer::append(&temporary)?;
        for row in &rows {
            writer.write(row)?;
        }
        writer.csv.get_ref().sync_all()?;
    }
    std::fs::rename(&temporary, path)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(key: &str, status: TaskStatus, code: &str, message: &str) -> Row {
        Row {
            bucket: "photos".into(),
            key: key.into(),
            version_id: None,
            status,
            http_status: Some(INVOKED),
            error_code: code.into(),
            message: message.into(),
        }
    }

    fn to_csv(rows: &[Row]) -> String {
        let mut csv = csv::WriterBuilder::new()
            .has_headers(false)
            .from_writer(Vec::new());
        for row in rows {
            csv.write_record(row.fields()).unwrap();
        }
        String::from_utf8(csv.into_inner().unwrap()).unwrap()
    }

    #[test]
    fn rows_are_written_as_aws_writes_them_and_read_back() {
        let entry = Entry {
            line: 1,
            bucket: "photos".into(),
            key: "in/a%2Bb,c.jpg".into(),
            version_id: Some("v1".into()),
        };
        let succeeded = Row::of(
            &entry,
            &TaskResult {
                code: ResultCode::Succeeded,
                result_string: "stripped 1234 bytes".into(),
            },
        );
        let failed = Row::of(
            &entry,
            &TaskResult {
                code: ResultCode::PermanentFailure,
                result_string: "NoSuchKey: \"in/a+b,c.jpg\"".into(),
            },
        );
        let text = to_csv(&[succeeded.clone(), failed.clone()]);
        assert_eq!(
            text,
            "photos,\"in/a%2Bb,c.jpg\",v1,succeeded,200,,stripped 1234 bytes\n\
             photos,\"in/a%2Bb,c.jpg\",v1,failed,200,PermanentFailure,\"NoSuchKey: \"\"in/a+b,c.jpg\"\"\"\n"
        );
        assert_eq!(read_from(text.as_bytes()).unwrap(), [succeeded, failed]);
    }

    #[test]
    fn aws_documented_rows_are_read() {
        // From https://docs.aws.amazon.com/AmazonS3/latest/userguide/batch-ops-examples-reports.html
        let text = "amzn-s3-demo-bucket1,image_14975,,failed,200,PermanentFailure,\"Lambda returned function error: {\"\"errorMessage\"\":\"\"Task timed out after 3.00 seconds\"\"}\"\n\
                    amzn-s3-demo-bucket1,image_17775,,succeeded,200,,\"{u'CopySourceVersionId': 'xVR78haVKlRnurYofbTfYr3ufYbktF8h'}\"\n";
        let rows = read_from(text.as_bytes()).unwrap();
        assert_eq!(rows[0].status, TaskStatus::Failed);
        assert_eq!(rows[0].error_code, "PermanentFailure");
        assert_eq!(
            rows[0].message,
            "Lambda returned function error: {\"errorMessage\":\"Task timed out after 3.00 seconds\"}"
        );
        assert_eq!(
            (rows[1].status, rows[1].http_status, rows[1].version_id.as_deref()),
            (TaskStatus::Succeeded, Some(200), None)
        );
    }

    #[test]
    fn bad_rows_name_their_line() {
        for (text, line) in [
            ("b,k,,succeeded,200,,ok\nb,k,,done,200,,ok\n", 2),
            ("b,k,,succeeded,200,,ok\nb,k,,failed,OK,,x\n", 2),
            ("b,k,,succeeded,200,ok\n", 1),
        ] {
            let error = read_from(text.as_bytes()).unwrap_err().to_string();
            assert!(error.starts_with(&format!("line {line}: ")), "{text:?}: {error}");
        }
    }

    #[test]
    fn the_last_row_of_a_task_counts() {
        let rows = vec![
            row("a", TaskStatus::Failed, "TemporaryFailure", "SlowDown"),
            row("b", TaskStatus::Succeeded, "", "ok"),
            row("a", TaskStatus::Succeeded, "", "ok"),
        ];
        assert_eq!(
            latest(rows),
            [
                row("a", TaskStatus::Succeeded, "", "ok"),
                row("b", TaskStatus::Succeeded, "", "ok")
            ]
        );
    }

    #[test]
    fn appended_rows_survive_and_compact_keeps_one_per_task() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("report.csv");
        assert!(read(&path).unwrap().is_empty());
        let mut writer = Writer::append(&path).unwrap();
        writer
            .write(&row("a", TaskStatus::Failed, "PermanentFailure", "x"))
            .unwrap();
        writer.write(&row("b", TaskStatus::Succeeded, "", "ok")).unwrap();
        drop(writer);
        let mut writer = Writer::append(&path).unwrap();
        writer.write(&row("a", TaskStatus::Succeeded, "", "ok")).unwrap();
        drop(writer);
        assert_eq!(read(&path).unwrap().len(), 3);
        compact(&path).unwrap();
        assert_eq!(
            read(&path).unwrap(),
            [
                row("a", TaskStatus::Succeeded, "", "ok"),
                row("b", TaskStatus::Succeeded, "", "ok")
            ]
        );
    }
}
