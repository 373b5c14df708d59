//! Runs one case directory: parse `request.txt` and `context.json`, sign in each mode that has
//! expected files, and compare. A SigV4A case (one holding `public-key.json`, or under a directory
//! named `v4a`) is signed with [`sign_v4a`]: its signatures are randomised, so they are verified
//! with the public key rather than compared, and the public key we derive must be the file's.

use super::context::{Context, Mode};
use super::request_txt;
use super::{CaseFailure, CaseResult, Keys};
use crate::sigv4::{SignableRequest, SigningOutput, SigningParams, sign, sign_v4a, verify_v4a};
use aws_credential_types::Credentials;
use p256::ecdsa::VerifyingKey;
use serde::Deserialize;
use std::fs;
use std::io::ErrorKind;
use std::path::Path;

/// The expected files of a mode, after the `header-`/`query-` prefix.
const EXPECTED: [&str; 3] = ["canonical-request.txt", "string-to-sign.txt", "signature.txt"];

/// Runs the case in `dir`, which holds a `request.txt`.
pub(crate) fn run_case(dir: &Path, keys: &Keys) -> CaseResult {
    let mut result = CaseResult {
        path: dir.to_path_buf(),
        failures: Vec::new(),
        skipped: None,
    };
    match check(dir, keys) {
        Ok(Outcome::Checked(failures)) => result.failures = failures,
        Ok(Outcome::Skipped(reason)) => result.skipped = Some(reason),
        Err(message) => result.failures = vec![CaseFailure { mode: None, message }],
    }
    result
}

enum Outcome {
    /// Every comparison that failed (none: the case passed).
    Checked(Vec<CaseFailure>),
    /// Nothing to compare with.
    Skipped(String),
}

/// `public-key.json`: the P-256 public key of the case's credentials, coordinates in hex.
#[derive(Deserialize)]
struct PublicKey {
    #[serde(rename = "X")]
    x: String,
    #[serde(rename = "Y")]
    y: String,
}

/// What a SigV4A case checks its signatures with.
struct V4a {
    /// From `public-key.json`.
    expected: VerifyingKey,
}

/// Every comparison that failed, or one message when the case cannot run at all.
fn check(dir: &Path, keys: &Keys) -> Result<Outcome, String> {
    let modes: Vec<Mode> = [Mode::Header, Mode::Query]
        .into_iter()
        .filter(|mode| {
            EXPECTED
                .iter()
                .any(|file| dir.join(expected_name(*mode, file)).is_file())
        })
        .collect();
    if modes.is_empty() {
        return Ok(Outcome::Skipped(
            "no expected files (header-*.txt or query-*.txt): nothing to compare".to_owned(),
        ));
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
    let v4a = if is_v4a(dir) {
        let (v4a, mismatch) = check_public_key(dir, keys, &c.access_key_id, &c.secret_access_key)?;
        failures.extend(mismatch.map(|message| CaseFailure { mode: None, message }));
        Some(v4a)
    } else {
        None
    };
    for mode in modes {
        let settings = context.settings(mode);
        let params = SigningParams {
            credentials: &credentials,
            region: &context.region,
            service: &context.service,
            time,
            settings: &settings,
        };
        let signed = match v4a {
            Some(_) => sign_v4a(&signable, &params, &keys.v4a),
            None => sign(&signable, &params, &keys.v4),
        };
        let message = match signed {
            Ok(output) => compare_mode(dir, mode, &output, v4a.as_ref())?,
            Err(e) => Some(format!("signing failed: {e}")),
        };
        if let Some(message) = message {
            failures.push(CaseFailure {
                mode: Some(mode),
                message,
            });
        }
    }
    Ok(Outcome::Checked(failures))
}

fn is_v4a(dir: &Path) -> bool {
    dir.join("public-key.json").is_file() || dir.components().any(|c| c.as_os_str() == "v4a")
}

/// Reads `public-key.json` and compares it with the key we derive from the credentials: the
/// expected key, and what differs (if anything).
fn check_public_key(
    dir: &Path,
    keys: &Keys,
    access_key: &str,
    secret: &str,
) -> Result<(V4a, Option<String>), String> {
    let text = read(dir, "public-key.json")?.ok_or("SigV4A case without public-key.json")?;
    let file: PublicKey = serde_json::from_slice(&text).map_err(|e| format!("public-key.json: {e}"))?;
    let coordinate = |name: &str, hex_text: &str| -> Result<[u8; 32], String> {
        let mut out = [0; 32];
        hex::decode_to_slice(hex_text.trim(), &mut out)
            .map_err(|e| format!("public-key.json: {name}: {e}"))?;
        Ok(out)
    };
    let (x, y) = (coordinate("X", &file.x)?, coordinate("Y", &file.y)?);
    let mut sec1 = [4; 65];
    sec1[1..33].copy_from_slice(&x);
    sec1[33..].copy_from_slice(&y);
    let expected = VerifyingKey::from_sec1_bytes(&sec1)
        .map_err(|_| "public-key.json: not a point of P-256".to_owned())?;
    let ours = keys
        .v4a
        .key(access_key, secret)
        .map_err(|e| format!("key derivation failed: {e}"))?;
    let mismatch = (ours.public_key_xy() != (x, y)).then(|| {
        let (ox, oy) = ours.public_key_xy();
        format!(
            "public-key.json differs: expected X={} Y={}, derived X={} Y={}",
            hex::encode(x),
            hex::encode(y),
            hex::encode(ox),
            hex::encode(oy)
        )
    });
    Ok((V4a { expected }, mismatch))
}

/// Compares every expected file of `mode` that exists; describes the first that differs. A
/// SigV4A signature is verified instead: the expected one over the expected string to sign, and
/// ours over ours, both with `public-key.json`'s key.
fn compare_mode(
    dir: &Path,
    mode: Mode,
    output: &SigningOutput,
    v4a: Option<&V4a>,
) -> Result<Option<String>, String> {
    let got = [
        output.canonical_request().unwrap_or_default(),
        output.string_to_sign().unwrap_or_default(),
        output.signature(),
    ];
    let mut problems: Vec<String> = Vec::new();
    for (file, got) in EXPECTED.iter().zip(got) {
        let name = expected_name(mode, file);
        let Some(expected) = read(dir, &name)? else {
            continue;
        };
        let problem = match (v4a, *file) {
            (Some(v4a), "signature.txt") => verify_expected(dir, mode, &expected, output, v4a)?,
            _ => first_difference(&expected, got.as_bytes())
                .map(|detail| format!("{name} differs at {detail}")),
        };
        problems.extend(problem);
    }
    if let Some(v4a) = v4a
        && !verify_v4a(&v4a.expected, got[1], output.signature())
    {
        problems.push("our signature does not verify with public-key.json".to_owned());
    }
    let mut problems = problems.into_iter();
    Ok(problems.next().map(|first| {
        let others: Vec<String> = problems.collect();
        if others.is_empty() {
            first
        } else {
            format!("{first} (also: {})", others.join("; "))
        }
    }))
}

/// Whether the suite's signature (`expected`, hex) verifies with `public-key.json` over the
/// suite's string to sign (ours when the case has none).
fn verify_expected(
    dir: &Path,
    mode: Mode,
    expected: &[u8],
    output: &SigningOutput,
    v4a: &V4a,
) -> Result<Option<String>, String> {
    let name = expected_name(mode, "signature.txt");
    let sts_name = expected_name(mode, "string-to-sign.txt");
    let sts = match read(dir, &sts_name)? {
        Some(bytes) => String::from_utf8(bytes).map_err(|_| format!("{sts_name}: not UTF-8"))?,
        None => output.string_to_sign().unwrap_or_default().to_owned(),
    };
    let sts = sts.strip_suffix('\n').unwrap_or(&sts);
    let signature = String::from_utf8_lossy(expected);
    Ok((!verify_v4a(&v4a.expected, sts, signature.trim_end()))
        .then(|| format!("{name} does not verify with public-key.json over {sts_name}")))
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
