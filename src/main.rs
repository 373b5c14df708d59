//! The `edge-signer` command line: a thin shell over the library.

use clap::{Parser, Subcommand};
use edge_signer::config::HandlerConfig;
use edge_signer::origin_request::{Handler, Outcome};
use std::fs;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::SystemTime;

/// AWS SigV4 signing for the edge: tools around the signer.
#[derive(Debug, Parser)]
#[command(name = "edge-signer", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run SigV4 and SigV4A test suites in the AWS CRT layout (directories holding request.txt,
    /// context.json and the expected header-*/query-* files; SigV4A: public-key.json) against
    /// the signer.
    ///
    /// Prints one line per failing or skipped (no expected file) case, then `N passed, M failed`
    /// (and `, K skipped`). Exits 0 when a case passed and none failed, 1 when one failed or none passed, 2 when a directory is
    /// missing or holds no case.
    Vectors {
        /// Suite directories, searched recursively for cases.
        #[arg(required = true, value_name = "DIR")]
        dirs: Vec<PathBuf>,
    },
    /// Run the origin-request handler on a CloudFront event and print the outcome as JSON: the
    /// signed request to forward, or the generated response.
    ///
    /// Credentials come from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN.
    /// Exits 1 when the event is malformed (the error goes to stderr) or credentials are missing.
    Sign {
        /// The event file; standard input when absent.
        #[arg(value_name = "FILE")]
        event: Option<PathBuf>,
        /// Sign at this time (RFC 3339, such as 2015-08-30T12:36:00Z) instead of now, so that the
        /// output is reproducible.
        #[arg(long, value_name = "RFC3339", value_parser = parse_time)]
        at: Option<SystemTime>,
        /// A handler configuration file (the edge-signer.json that ships beside the function).
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
    },
    /// Run the whole chain on 127.0.0.1: a CloudFront-like front running the origin-request
    /// handler, an S3 Object Lambda access point that verifies every signature (with aws-sigv4),
    /// the object-lambda transform, and a store over a directory.
    ///
    /// When ready, prints `cloudfront: http://127.0.0.1:P` and `access-point: http://127.0.0.1:Q`
    /// on stdout, then serves until interrupted. Credentials come from AWS_ACCESS_KEY_ID,
    /// AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN when set; otherwise local example credentials
    /// are used (nothing leaves this machine).
    #[cfg(feature = "local")]
    Local {
        /// The front's port; 0 picks a free one.
        #[arg(long, default_value_t = 8080)]
        port: u16,
        /// The directory served as the bucket (default: the sample images in the repository).
        #[arg(long, value_name = "DIR", default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/samples/images"))]
        store: PathBuf,
        /// The region of the access point and of every signature.
        #[arg(long, default_value = "us-east-1")]
        region: String,
    },
    /// Rehearse an S3 Batch Operations backfill: run the s3-batch function's task code on every
    /// row of a CSV manifest (`bucket,key[,versionId]`, keys URL-encoded), concurrently, against
    /// S3 or a local endpoint, and write the job's completion report (Report_CSV_20180820).
    ///
    /// Settings come from the EDGE_SIGNER_* variables, as in the function; the flags below win,
    /// as a job's user arguments do. The endpoint, region and credentials come from
    /// AWS_ENDPOINT_URL_S3 (else AWS_ENDPOINT_URL), AWS_REGION, AWS_ACCESS_KEY_ID,
    /// AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN. Run again with the same report: tasks that
    /// succeeded are skipped (no request), the others are done again. Ctrl-C starts no new task
    /// and keeps the report of what was done; a second Ctrl-C cuts the running tasks.
    ///
    /// Exits 0 when every task succeeded, 1 when one failed, 130 when interrupted, 2 on a bad
    /// setting, manifest or report.
    #[cfg(feature = "backfill")]
    Backfill(Backfill),
}

#[cfg(feature = "backfill")]
#[derive(Debug, clap::Args)]
struct Backfill {
    /// The manifest: S3 Batch Operations CSV, fields quoted or not.
    #[arg(long, value_name = "FILE")]
    manifest: PathBuf,
    /// The completion report to write (and to resume from when it exists).
    #[arg(long, value_name = "FILE")]
    report: PathBuf,
    /// Tasks running at once.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..))]
    concurrency: u16,
    /// The S3 endpoint (http://HOST:PORT), addressed path-style.
    #[arg(long, value_name = "URL")]
    endpoint: Option<String>,
    /// The region to sign for.
    #[arg(long)]
    region: Option<String>,
    /// `strip` writes stripped copies; `report` writes nothing and says what each object holds.
    #[arg(long, value_name = "strip|report")]
    mode: Option<edge_signer::triggers::batch::Mode>,
    /// Where outputs go (EDGE_SIGNER_DEST_BUCKET; default: the object's bucket).
    #[arg(long, value_name = "BUCKET")]
    dest_bucket: Option<String>,
    /// Replaces the source prefix in output keys (EDGE_SIGNER_DEST_PREFIX).
    #[arg(long, value_name = "PREFIX")]
    dest_prefix: Option<String>,
    /// Only keys under it are processed (EDGE_SIGNER_SOURCE_PREFIX).
    #[arg(long, value_name = "PREFIX")]
    source_prefix: Option<String>,
    /// Also write each image's EXIF as JSON at the output key + this suffix (EDGE_SIGNER_EXIF_SUFFIX).
    #[arg(long, value_name = "SUFFIX")]
    exif_suffix: Option<String>,
    /// Retries of a task that failed temporarily (5xx, SlowDown, timeout), with exponential backoff.
    #[arg(long, default_value_t = 3)]
    retries: u32,
    /// Each attempt's time limit, like the function's timeout.
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    task_timeout: u64,
}

fn parse_time(value: &str) -> Result<SystemTime, String> {
    let time = time::OffsetDateTime::parse(value, &time::format_description::well_known::Rfc3339)
        .map_err(|e| format!("not an RFC 3339 time: {e}"))?;
    Ok(time.into())
}

/// Exit status for a usage error (clap uses the same for bad arguments).
const USAGE: u8 = 2;

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Vectors { dirs } => vectors(&dirs),
        Command::Sign { event, at, config } => sign(event.as_deref(), at, config.as_deref()),
        #[cfg(feature = "local")]
        Command::Local { port, store, region } => local(port, store, region),
        #[cfg(feature = "backfill")]
        Command::Backfill(args) => backfill(args),
    }
}

#[cfg(feature = "backfill")]
fn backfill(args: Backfill) -> ExitCode {
    use edge_signer::backfill::{Invocation, Options, execute};
    use edge_signer::triggers::batch::UserArguments;
    let invocation = Invocation {
        manifest: args.manifest,
        report: args.report,
        endpoint: args.endpoint,
        region: args.region,
        arguments: UserArguments {
            dest_bucket: args.dest_bucket,
            dest_prefix: args.dest_prefix,
            source_prefix: args.source_prefix,
            exif_suffix: args.exif_suffix,
            mode: args.mode,
        },
        options: Options {
            concurrency: args.concurrency.into(),
            retries: args.retries,
            task_timeout: std::time::Duration::from_secs(args.task_timeout),
            progress: std::io::IsTerminal::is_terminal(&io::stderr()),
            ..Options::default()
        },
    };
    let report = invocation.report.display().to_string();
    match execute(invocation, |name| std::env::var(name).ok()) {
        Ok(summary) => {
            println!("edge-signer backfill: {summary}");
            println!("edge-signer backfill: report in {report}");
            ExitCode::from(summary.exit_code())
        }
        Err(e) => {
            eprintln!("edge-signer backfill: {e}");
            ExitCode::from(USAGE)
        }
    }
}

#[cfg(feature = "local")]
fn local(port: u16, store: PathBuf, region: String) -> ExitCode {
    let credentials = edge_signer::credentials::from_env().unwrap_or_else(|e| {
        eprintln!("edge-signer local: {e}; signing with local example credentials (AKIDEXAMPLE)");
        aws_credential_types::Credentials::new(
            "AKIDEXAMPLE",
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            None,
            None,
            "edge-signer local",
        )
    });
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("edge-signer local: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async {
        let options = edge_signer::local::Options {
            port,
            store,
            region,
            credentials,
        };
        let running = match edge_signer::local::start(options).await {
            Ok(running) => running,
            Err(e) => {
                eprintln!("edge-signer local: {e}");
                return ExitCode::FAILURE;
            }
        };
        println!("cloudfront: http://{}", running.cloudfront);
        println!("access-point: http://{}", running.access_point);
        if io::stdout().flush().is_err() {
            return ExitCode::FAILURE;
        }
        eprintln!(
            "edge-signer local: store at http://{}; Ctrl-C stops",
            running.store
        );
        match tokio::signal::ctrl_c().await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("edge-signer local: {e}");
                ExitCode::FAILURE
            }
        }
    })
}

fn sign(event: Option<&Path>, at: Option<SystemTime>, config: Option<&Path>) -> ExitCode {
    let fail = |message: String| {
        eprintln!("edge-signer sign: {message}");
        ExitCode::FAILURE
    };
    let read = |path: &Path| fs::read(path).map_err(|e| format!("{}: {e}", path.display()));
    let config = match config.map(read) {
        None => HandlerConfig::default(),
        Some(bytes) => match bytes.and_then(|b| HandlerConfig::from_json(&b)) {
            Ok(config) => config,
            Err(e) => return fail(e),
        },
    };
    let bytes = match event {
        Some(path) => read(path),
        None => {
            let mut buffer = Vec::new();
            io::stdin()
                .read_to_end(&mut buffer)
                .map(|_| buffer)
                .map_err(|e| format!("stdin: {e}"))
        }
    };
    let bytes = match bytes {
        Ok(bytes) => bytes,
        Err(e) => return fail(e),
    };
    let credentials = match edge_signer::credentials::from_env() {
        Ok(credentials) => credentials,
        Err(e) => return fail(e),
    };
    let handler = Handler::new(config, credentials);
    match handler.handle(&bytes, at.unwrap_or_else(SystemTime::now)) {
        Ok(outcome) => {
            if let Outcome::Respond { reason, .. } = &outcome {
                eprintln!("edge-signer sign: generated response: {reason}");
            }
            println!("{}", outcome.to_json());
            ExitCode::SUCCESS
        }
        Err(e) => fail(e.to_string()),
    }
}

fn vectors(dirs: &[PathBuf]) -> ExitCode {
    let report = match edge_signer::vectors::run_suites(dirs) {
        Ok(report) => report,
        Err(e) => {
            eprintln!("edge-signer vectors: {e}");
            return ExitCode::from(USAGE);
        }
    };
    let mut out = io::stdout().lock();
    let written = report
        .notable()
        .try_for_each(|case| writeln!(out, "{case}"))
        .and_then(|()| writeln!(out, "{}", report.summary()))
        .and_then(|()| out.flush());
    if let Err(e) = written {
        eprintln!("edge-signer vectors: cannot write the report: {e}");
        return ExitCode::from(USAGE);
    }
    // A suite of which nothing passed (every case skipped) checked nothing: not a success.
    if report.failed().next().is_none() && report.passed() > 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
