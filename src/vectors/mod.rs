//! Runs SigV4 and SigV4A test suites in the AWS CRT layout (aws-c-auth `tests/aws-signing-test-suite`)
//! against [`crate::sigv4`].
//!
//! Every directory under a suite directory that holds a `request.txt` is a case. Its
//! `context.json` gives the credentials and settings ([`context`]); its `request.txt` is a raw HTTP
//! request ([`request_txt`]). The case is signed in header mode if any `header-*.txt` expected file
//! exists and in query (presigned) mode if any `query-*.txt` exists; each of
//! `{header,query}-{canonical-request,string-to-sign,signature}.txt` that exists must equal what
//! the signer produced (one trailing newline in the expected file is tolerated). A case with no
//! expected file is skipped, not passed.
//!
//! A SigV4A case (it holds `public-key.json`, or lies under a directory named `v4a`) is signed
//! with [`sign_v4a`](crate::sigv4::sign_v4a): the canonical request and string to sign are
//! compared as above; the key derived from the credentials must be `public-key.json`'s; and since
//! ECDSA signatures are randomised, the expected signature (over the expected string to sign) and
//! ours are each verified with that key instead of compared.
//!
//! ```no_run
//! use std::path::PathBuf;
//! let report = edge_signer::vectors::run_suites(&[PathBuf::from("vectors")]).unwrap();
//! for case in report.failed() {
//!     println!("{case}");
//! }
//! println!("{}", report.summary());
//! ```

mod case;
pub mod context;
mod discover;
pub mod request_txt;

pub use context::Mode;
pub use discover::{DiscoveryError, discover};

use crate::sigv4::{SigV4aKeyCache, SigningKeyCache};
use std::fmt;
use std::path::{Path, PathBuf};

/// The outcome of every case found.
#[derive(Clone, Debug, Default, Eq, PartialEq)]
pub struct Report {
    /// Every case, in discovery order.
    pub cases: Vec<CaseResult>,
}

/// One case and what went wrong with it (nothing when it passed).
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct CaseResult {
    /// The case directory.
    pub path: PathBuf,
    /// The failures: one per mode that failed, or one without a mode when the case could not run.
    pub failures: Vec<CaseFailure>,
    /// Why the case was not run (it has no expected file), if it was not.
    pub skipped: Option<String>,
}

/// The key caches a run shares.
pub(crate) struct Keys {
    pub v4: SigningKeyCache,
    pub v4a: SigV4aKeyCache,
}

/// One reason a case failed.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct CaseFailure {
    /// The mode that failed, or `None` when the case could not be read or set up.
    pub mode: Option<Mode>,
    /// What differs or what is wrong, such as
    /// `header-signature.txt differs at line 1: expected "…", got "…"`.
    pub message: String,
}

impl CaseResult {
    /// Whether the case ran and every comparison passed.
    pub fn passed(&self) -> bool {
        self.failures.is_empty() && self.skipped.is_none()
    }

    /// Whether the case ran and a comparison failed.
    pub fn failed(&self) -> bool {
        !self.failures.is_empty()
    }
}

/// `FAIL <case path> [header|query] <what differs>`, failures of both modes joined with ` | `;
/// `SKIP <case path> <why>`.
impl fmt::Display for CaseResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(reason) = &self.skipped {
            return write!(f, "SKIP {} {reason}", self.path.display());
        }
        if self.passed() {
            return write!(f, "ok {}", self.path.display());
        }
        write!(f, "FAIL {}", self.path.display())?;
        for (i, failure) in self.failures.iter().enumerate() {
            f.write_str(if i == 0 { " " } else { " | " })?;
            if let Some(mode) = failure.mode {
                write!(f, "{} ", mode.name())?;
            }
            f.write_str(&failure.message)?;
        }
        Ok(())
    }
}

impl Report {
    /// The number of cases that passed.
    pub fn passed(&self) -> usize {
        self.cases.iter().filter(|c| c.passed()).count()
    }

    /// The cases that failed, in discovery order.
    pub fn failed(&self) -> impl Iterator<Item = &CaseResult> {
        self.cases.iter().filter(|c| c.failed())
    }

    /// The cases that failed or were skipped, in discovery order: what the report lists.
    pub fn notable(&self) -> impl Iterator<Item = &CaseResult> {
        self.cases.iter().filter(|c| !c.passed())
    }

    /// `N passed, M failed`, counting cases, then `, K skipped` when some were.
    pub fn summary(&self) -> String {
        let failed = self.failed().count();
        let skipped = self.cases.iter().filter(|c| c.skipped.is_some()).count();
        let mut summary = format!("{} passed, {failed} failed", self.passed());
        if skipped > 0 {
            summary.push_str(&format!(", {skipped} skipped"));
        }
        summary
    }
}

/// Discovers the cases under every directory of `dirs` (see [`discover`]) and runs them all.
///
/// Fails before running anything when a directory does not exist, cannot be read or holds no case;
/// problems with a single case are reported as that case's failure.
pub fn run_suites(dirs: &[PathBuf]) -> Result<Report, DiscoveryError> {
    let cases = discover(dirs)?;
    Ok(run_cases(&cases))
}

/// Runs the given case directories, in order.
pub fn run_cases(cases: &[PathBuf]) -> Report {
    let keys = Keys {
        v4: SigningKeyCache::new(),
        v4a: SigV4aKeyCache::new(),
    };
    Report {
        cases: cases
            .iter()
            .map(|dir| case::run_case(Path::new(dir), &keys))
            .collect(),
    }
}
