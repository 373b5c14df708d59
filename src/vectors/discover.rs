//! Finding the cases: every directory that holds a `request.txt`, recursively, in sorted order.

use std::collections::HashSet;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use thiserror::Error;

/// A suite directory that cannot be used. The CLI reports it as a usage error.
#[derive(Debug, Error)]
pub enum DiscoveryError {
    /// The directory does not exist or is not a directory.
    #[error("{0}: no such directory")]
    NotADirectory(PathBuf),
    /// A directory could not be listed.
    #[error("{path}: cannot read directory: {source}")]
    Io {
        /// The directory.
        path: PathBuf,
        /// The error from the file system.
        source: io::Error,
    },
    /// No directory under it holds a `request.txt`.
    #[error("{0}: no test case found (no directory under it holds a request.txt)")]
    NoCases(PathBuf),
}

/// The case directories under each of `dirs`, each list sorted by path, in the order of `dirs`.
///
/// A directory holding `request.txt` is a case (the directory given may itself be one); its
/// subdirectories are searched too. Symbolic links to directories are not followed. A case reached
/// through two of `dirs` is listed once, where first found.
pub fn discover(dirs: &[PathBuf]) -> Result<Vec<PathBuf>, DiscoveryError> {
    let mut cases = Vec::new();
    let mut seen = HashSet::new();
    for dir in dirs {
        if !dir.is_dir() {
            return Err(DiscoveryError::NotADirectory(dir.clone()));
        }
        let mut found = Vec::new();
        walk(dir, &mut found)?;
        if found.is_empty() {
            return Err(DiscoveryError::NoCases(dir.clone()));
        }
        for case in found {
            let identity = fs::canonicalize(&case).unwrap_or_else(|_| case.clone());
            if seen.insert(identity) {
                cases.push(case);
            }
        }
    }
    Ok(cases)
}

fn walk(dir: &Path, found: &mut Vec<PathBuf>) -> Result<(), DiscoveryError> {
    let io_error = |source| DiscoveryError::Io {
        path: dir.to_path_buf(),
        source,
    };
    if dir.join("request.txt").is_file() {
        found.push(dir.to_path_buf());
    }
    let mut subdirs = Vec::new();
    for entry in fs::read_dir(dir).map_err(io_error)? {
        let entry = entry.map_err(io_error)?;
        if entry.file_type().map_err(io_error)?.is_dir() {
            subdirs.push(entry.path());
        }
    }
    subdirs.sort();
    for subdir in subdirs {
        walk(&subdir, found)?;
    }
    Ok(())
}
