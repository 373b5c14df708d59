//! Runs one case directory: parse `request.txt` and `context.json`, sign in each mode that has
//! expected files, and compare.

use super::context::{Context, Mode};
use super::request_txt;
use super::{CaseFailure, CaseResult};
use crate::sigv4::{SignableRequest, SigningKeyCache, SigningOutput, SigningParams, sign};
use aws_credential_types::Credentials;
use std::fs;
use std::io::ErrorKind;
use std::path::Path;

/// The expected files of a mode, after the `header-`/`query-` prefix.
const EXPECTED: [&str; 3] = ["canonical-request.txt", "string-to-sign.txt", "signature.txt"];

/// Runs the case in `dir`, which holds a `request.txt`.
pub(crate) fn run_case(dir: &Path, keys: &SigningKeyCache) -> CaseResult {
    let failures = match check(dir, keys) {
        Ok(failures) => failures,
        Err(message) => vec![CaseFailure { mode: None, message }],
    };
    CaseResult {
        path: dir.to_path_buf(),
        failures,
    }
}

/// Every comparison that failed, or one message when the case cannot run at all.
fn check(dir: &Path, keys: &SigningKeyCache) -> Result<Vec<CaseFailure>, String> {
    let modes: Vec<Mode> = [Mode::Header, Mode::Query]
        .into_iter()
        .filter(|mode| {
            EXPECTED
                .iter()
                .any(|file| dir.join(expected_name(*mode, file)).is_file())
        })
        .collect();
    if modes.is_empty() {
        return Err("no expected files (header-*.txt or query-*.txt)".to_owned());
    }
    let request = read(dir, "request.txt")?.ok_or("request.txt could not be read")?;
    let request = request_txt::parse(&request).map_err(|e| format!("request.txt: {e}"))?;
    let context = read(dir, "context.json")?.ok_or("no context.json")?;
    let context = Context::from_json(&context)?;
    let time = context.signing_time()?;
    let c = &context.credentials;
    let credentials = Credentials::new(
        &c.access_key_id,
        &c.secret_access_key,
        c.token.clone(),
        None,
        "context.json",
    );
    let headers: Vec<(&str, &str)> = request
        .headers
        .iter()
        .map(|(name, value)| (name.as_str(), value.as_str()))
        .collect();
    let signable = SignableRequest {
        method: &request.method,
        path: &request.path,
        query: &request.query,
        headers: &headers,
        body: context.body(&request.body),
    };

    let mut failures = Vec::new();
    for mode in modes {
        let settings = context.settings(mode);
        let params = SigningParams {
            credentials: &credentials,
            region: &context.region,
            service: &context.service,
            time,
            settings: &settings,
        };
        let message = match sign(&signable, &params, keys) {
            Ok(output) => compare_mode(dir, mode, &output)?,
            Err(e) => Some(format!("signing failed: {e}")),
        };
        if let Some(message) = message {
            failures.push(CaseFailure {
                mode: Some(mode),
                message,
            });
        }
    }
    Ok(failures)
}

/// Compares every expected file of `mode` that exists; describes the first that differs.
fn compare_mode(dir: &Path, mode: Mode, output: &SigningOutput) -> Result<Option<String>, String> {
    let got = [
        output.canonical_request().unwrap_or_default(),
        output.string_to_sign().unwrap_or_default(),
        output.signature(),
    ];
    let mut first: Option<String> = None;
    let mut others = Vec::new();
    for (file, got) in EXPECTED.iter().zip(got) {
        let name = expected_name(mode, file);
        let Some(expected) = read(dir, &name)? else {
            continue;
        };
        if let Some(detail) = first_difference(&expected, got.as_bytes()) {
            match first {
                None => first = Some(format!("{name} differs at {detail}")),
                Some(_) => others.push(name),
            }
        }
    }
    Ok(first.map(|message| {
        if others.is_empty() {
            message
        } else {
            format!("{message} (also differs: {})", others.join(", "))
        }
    }))
}

fn expected_name(mode: Mode, file: &str) -> String {
    format!("{}-{file}", mode.name())
}

/// Reads `dir/name`; `None` when it does not exist.
fn read(dir: &Path, name: &str) -> Result<Option<Vec<u8>>, String> {
    match fs::read(dir.join(name)) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!("{name}: {e}")),
    }
}

/// `None` when `expected` is `got`, optionally followed by one `\n`; otherwise where they first
/// differ, as `line N: expected "…", got "…"`.
pub(crate) fn first_difference(expected: &[u8], got: &[u8]) -> Option<String> {
    if expected == got || expected.strip_suffix(b"\n") == Some(got) {
        return None;
    }
    let mut expected_lines = expected.split(|&b| b == b'\n');
    let mut got_lines = got.split(|&b| b == b'\n');
    let mut number = 1;
    loop {
        match (expected_lines.next(), got_lines.next()) {
            (Some(e), Some(g)) if e == g => number += 1,
            (e, g) => {
                let show = |line: Option<&[u8]>| {
                    line.map_or("<end of file>".to_owned(), |l| {
                        format!("{:?}", String::from_utf8_lossy(l))
                    })
                };
                return Some(format!("line {number}: expected {}, got {}", show(e), show(g)));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::first_difference;

    #[test]
    fn one_trailing_newline_is_tolerated() {
        assert_eq!(first_difference(b"a\nb", b"a\nb"), None);
        assert_eq!(first_difference(b"a\nb\n", b"a\nb"), None);
        assert_eq!(
            first_difference(b"a\nb\n\n", b"a\nb").as_deref(),
            Some("line 3: expected \"\", got <end of file>")
        );
    }

    #[test]
    fn first_differing_line_is_shown() {
        assert_eq!(
            first_difference(b"GET\n/a\nx", b"GET\n/b\nx").as_deref(),
            Some("line 2: expected \"/a\", got \"/b\"")
        );
        assert_eq!(
            first_difference(b"a", b"a\nextra").as_deref(),
            Some("line 2: expected <end of file>, got \"extra\"")
        );
        assert_eq!(
            first_difference(b"a\n", b"a\n\n").as_deref(),
            Some("line 3: expected <end of file>, got \"\"")
        );
    }
}
