//! The `edge-signer` command line: a thin shell over the library.

use clap::{Parser, Subcommand};
use edge_signer::config::HandlerConfig;
use edge_signer::origin_request::{Context, Outcome, handle_json};
use edge_signer::sigv4::SigningKeyCache;
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
    /// Run SigV4 test suites in the AWS CRT layout (directories holding request.txt,
    /// context.json and the expected header-*/query-* files) against the signer.
    ///
    /// Prints one line per failing case, then `N passed, M failed`. Exits 0 when every case
    /// passed, 1 when one failed, 2 when a directory is missing or holds no case.
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
    }
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
    let keys = SigningKeyCache::new();
    let context = Context {
        credentials: &credentials,
        now: at.unwrap_or_else(SystemTime::now),
        config: &config,
        keys: &keys,
    };
    match handle_json(&bytes, &context) {
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
        .failed()
        .try_for_each(|case| writeln!(out, "{case}"))
        .and_then(|()| writeln!(out, "{}", report.summary()))
        .and_then(|()| out.flush());
    if let Err(e) = written {
        eprintln!("edge-signer vectors: cannot write the report: {e}");
        return ExitCode::from(USAGE);
    }
    if report.failed().next().is_none() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
