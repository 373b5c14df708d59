//! The `edge-signer vectors` command, run as a process: the shipped suites (SigV4 and SigV4A) pass
//! and the two SigV4A stubs are skipped, a tampered or malformed case fails with a clear line
//! (never a panic), a suite in a new layout with CRLF request files works, and usage errors exit 2.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use tempfile::TempDir;

const BIN: &str = env!("CARGO_BIN_EXE_edge-signer");

fn upstream(case: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("vectors/aws-sig-v4-test-suite/v4")
        .join(case)
}

fn upstream_v4a(case: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("vectors/aws-sig-v4-test-suite/v4a")
        .join(case)
}

/// A fresh directory under the system temp dir, removed when dropped.
fn tempdir(label: &str) -> TempDir {
    tempfile::Builder::new()
        .prefix(&format!("edge-signer-vectors-{label}-"))
        .tempdir()
        .expect("a temporary directory")
}

fn copy_case(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}

fn run(args: &[&Path]) -> (Output, String, Vec<String>) {
    let output = Command::new(BIN).arg("vectors").args(args).output().unwrap();
    let stdout = String::from_utf8(output.stdout.clone()).unwrap();
    let lines = stdout.lines().map(str::to_owned).collect();
    (output, stdout, lines)
}

fn assert_no_panic(output: &Output) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn shipped_vectors_all_pass() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("vectors");
    let (output, stdout, lines) = run(&[&dir]);
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    let last = lines.last().unwrap();
    let passed: usize = last
        .strip_suffix(" passed, 0 failed, 2 skipped")
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("unexpected summary: {stdout}"));
    // 40 SigV4 cases and 38 SigV4A cases, each in every mode it has expected files for.
    assert!(passed >= 78, "{stdout}");
    // Only the two SigV4A stubs, which have nothing to compare with.
    let stubs = lines[..lines.len() - 1].iter();
    let names: Vec<&str> = stubs
        .map(|line| {
            assert!(
                line.starts_with("SKIP ") && line.contains("no expected files"),
                "{line}"
            );
            line.split_whitespace().nth(1).unwrap()
        })
        .collect();
    assert_eq!(names.len(), 2, "{stdout}");
    assert!(names[0].ends_with("v4a/get-vanilla-query-order-key"), "{stdout}");
    assert!(
        names[1].ends_with("v4a/get-vanilla-query-order-value"),
        "{stdout}"
    );
}

#[test]
fn shipped_v4a_suite_passes_in_both_modes() {
    let dir = upstream_v4a("");
    let cases = fs::read_dir(&dir)
        .unwrap()
        .filter(|e| e.as_ref().unwrap().path().join("header-signature.txt").is_file())
        .filter(|e| e.as_ref().unwrap().path().join("query-signature.txt").is_file())
        .count();
    assert_eq!(cases, 38);
    let (output, stdout, lines) = run(&[&dir]);
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    assert_eq!(
        lines.last().unwrap(),
        "38 passed, 0 failed, 2 skipped",
        "{stdout}"
    );
}

/// Runs one copy of the SigV4A `get-vanilla` case, changed by `tamper`; returns its one FAIL line.
fn tampered_v4a(label: &str, tamper: impl FnOnce(&Path)) -> String {
    let tmp = tempdir(label);
    let case = tmp.path().join("v4a/get-vanilla");
    copy_case(&upstream_v4a("get-vanilla"), &case);
    tamper(&case);
    let (output, stdout, lines) = run(&[tmp.path()]);
    assert_no_panic(&output);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert_eq!(lines.last().map(String::as_str), Some("0 passed, 1 failed"));
    assert_eq!(lines.len(), 2, "{stdout}");
    assert!(
        lines[0].starts_with(&format!("FAIL {} ", case.display())),
        "{}",
        lines[0]
    );
    lines[0].clone()
}

/// A digit of the signature's `s` changed: the DER still parses, the signature no longer verifies.
fn flip_last_digit(text: &str) -> String {
    let text = text.trim_end();
    let last = text.chars().last().unwrap();
    let flipped = if last == '0' { '1' } else { '0' };
    format!("{}{flipped}", &text[..text.len() - 1])
}

#[test]
fn v4a_expected_signature_that_does_not_verify_fails() {
    let fail = tampered_v4a("v4a-signature", |case| {
        let file = case.join("query-signature.txt");
        let signature = fs::read_to_string(&file).unwrap();
        fs::write(&file, flip_last_digit(&signature)).unwrap();
    });
    assert!(
        fail.contains("query query-signature.txt does not verify with public-key.json"),
        "{fail}"
    );
    assert!(!fail.contains("header"), "header mode still passes: {fail}");
}

#[test]
fn v4a_string_to_sign_that_differs_fails_and_its_signature_does_not_verify() {
    let fail = tampered_v4a("v4a-sts", |case| {
        let file = case.join("header-string-to-sign.txt");
        let sts = fs::read_to_string(&file).unwrap();
        fs::write(&file, sts.replace("service", "servicf")).unwrap();
    });
    assert!(
        fail.contains("header header-string-to-sign.txt differs at line 3"),
        "{fail}"
    );
    assert!(fail.contains("header-signature.txt does not verify"), "{fail}");
}

#[test]
fn v4a_public_key_of_other_credentials_fails() {
    let other = edge_signer::sigv4::SigV4aKey::derive("AKIDEXAMPLE", "another secret").unwrap();
    let (x, y) = other.public_key_xy();
    let fail = tampered_v4a("v4a-key", |case| {
        let json = format!(r#"{{"X":"{}","Y":"{}"}}"#, hex::encode(x), hex::encode(y));
        fs::write(case.join("public-key.json"), json).unwrap();
    });
    assert!(fail.contains("public-key.json differs: expected X="), "{fail}");
    // Neither the suite's signatures nor ours verify with another key.
    assert!(
        fail.contains("header header-signature.txt does not verify"),
        "{fail}"
    );
    assert!(fail.contains("our signature does not verify"), "{fail}");
}

#[test]
fn v4a_case_without_public_key_or_with_a_bad_one_fails() {
    let fail = tampered_v4a("v4a-no-key", |case| {
        fs::remove_file(case.join("public-key.json")).unwrap();
    });
    assert!(fail.contains("SigV4A case without public-key.json"), "{fail}");
    let fail = tampered_v4a("v4a-bad-key", |case| {
        fs::write(case.join("public-key.json"), r#"{"X":"00","Y":"01"}"#).unwrap();
    });
    assert!(fail.contains("public-key.json: X: "), "{fail}");
}

#[test]
fn a_case_without_expected_files_is_skipped_not_passed() {
    let tmp = tempdir("stub");
    let stub = tmp.path().join("stub");
    fs::create_dir_all(&stub).unwrap();
    for file in ["context.json", "request.txt"] {
        fs::copy(upstream_v4a("get-vanilla").join(file), stub.join(file)).unwrap();
    }
    let (output, stdout, lines) = run(&[tmp.path()]);
    assert_no_panic(&output);
    // Nothing passed: a suite that checked nothing is not a success.
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert_eq!(lines.len(), 2, "{stdout}");
    assert!(
        lines[0].starts_with(&format!("SKIP {} ", stub.display())),
        "{stdout}"
    );
    assert_eq!(lines[1], "0 passed, 0 failed, 1 skipped");
}

#[test]
fn tampered_signature_fails() {
    let tmp = tempdir("tampered");
    let case = tmp.path().join("get-vanilla");
    copy_case(&upstream("get-vanilla"), &case);
    let signature = fs::read_to_string(case.join("header-signature.txt")).unwrap();
    let tampered = signature.replacen('5', "6", 1);
    assert_ne!(signature, tampered);
    fs::write(case.join("header-signature.txt"), tampered).unwrap();

    let (output, stdout, lines) = run(&[tmp.path()]);
    assert_no_panic(&output);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert_eq!(lines.last().map(String::as_str), Some("0 passed, 1 failed"));
    assert_eq!(lines.len(), 2, "{stdout}");
    let fail = &lines[0];
    assert!(
        fail.starts_with(&format!("FAIL {} header ", case.display())),
        "{fail}"
    );
    assert!(fail.contains("header-signature.txt differs"), "{fail}");
    assert!(!fail.contains("query"), "query mode still passes: {fail}");
}

#[test]
fn malformed_cases_fail_without_panicking() {
    let tmp = tempdir("malformed");
    let bad: [(&str, &[u8]); 4] = [
        ("a-no-version-no-target", b"GET\nHost:example.amazonaws.com\n"),
        (
            "b-header-without-colon",
            b"GET / HTTP/1.1\nHost example.amazonaws.com\n",
        ),
        (
            "c-not-utf8",
            b"GET /\xff\xfe HTTP/1.1\nHost:example.amazonaws.com\n",
        ),
        ("d-orphan-fold", b"GET / HTTP/1.1\n  folded\n"),
    ];
    for (name, request) in bad {
        let case = tmp.path().join(name);
        copy_case(&upstream("get-vanilla"), &case);
        fs::write(case.join("request.txt"), request).unwrap();
    }
    let no_context = tmp.path().join("e-no-context");
    copy_case(&upstream("get-vanilla"), &no_context);
    fs::remove_file(no_context.join("context.json")).unwrap();
    let bad_json = tmp.path().join("f-bad-json");
    copy_case(&upstream("get-vanilla"), &bad_json);
    fs::write(bad_json.join("context.json"), "{\"region\": 1").unwrap();

    let (output, stdout, lines) = run(&[tmp.path()]);
    assert_no_panic(&output);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert_eq!(lines.last().map(String::as_str), Some("0 passed, 6 failed"));
    let expect = [
        "request.txt: malformed request line",
        "request.txt: line 2: malformed header",
        "request.txt: the request line and headers are not valid UTF-8",
        "request.txt: line 2: a continuation line comes before any header",
        "no context.json",
        "context.json: ",
    ];
    for (line, expected) in lines.iter().zip(expect) {
        assert!(line.starts_with("FAIL "), "{line}");
        assert!(line.contains(expected), "{line} should say {expected:?}");
    }
}

/// A suite the runner has never seen: upstream cases in a new nested layout, with CRLF line
/// endings in every request.txt (expected values are the suite's own, not ours).
#[test]
fn unseen_suite_with_crlf_and_nesting() {
    let tmp = tempdir("unseen");
    let cases = [
        ("group-a/get", "get-vanilla"),
        ("group-a/get/deeper/multiline", "get-header-value-multiline"),
        ("group-b/x/post-form", "post-x-www-form-urlencoded"),
        ("group-b/sts-after", "post-sts-header-after"),
        ("group-c/token", "get-vanilla-with-session-token"),
        ("group-c/utf8", "get-utf8"),
        ("space", "get-space-unnormalized"),
    ];
    for (to, from) in cases {
        let case = tmp.path().join("suite").join(to);
        copy_case(&upstream(from), &case);
        let request = fs::read(case.join("request.txt")).unwrap();
        assert!(!request.contains(&b'\r'));
        let crlf: Vec<u8> = request
            .iter()
            .flat_map(|&b| if b == b'\n' { vec![b'\r', b'\n'] } else { vec![b] })
            .collect();
        fs::write(case.join("request.txt"), crlf).unwrap();
    }
    fs::create_dir_all(tmp.path().join("suite/empty-dir")).unwrap();

    let (output, stdout, lines) = run(&[&tmp.path().join("suite")]);
    assert_no_panic(&output);
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    assert_eq!(lines, ["7 passed, 0 failed"]);
}

#[test]
fn the_same_case_given_twice_counts_once() {
    let tmp = tempdir("twice");
    copy_case(&upstream("get-vanilla"), &tmp.path().join("a/get-vanilla"));
    let (output, stdout, _) = run(&[
        tmp.path(),
        &tmp.path().join("a"),
        &tmp.path().join("a/get-vanilla"),
    ]);
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    assert_eq!(stdout, "1 passed, 0 failed\n");
}

#[test]
fn usage_errors_exit_2() {
    let tmp = tempdir("usage");
    let missing = tmp.path().join("does-not-exist");
    let (output, stdout, _) = run(&[&missing]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stdout.is_empty());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("does-not-exist: no such directory"), "{stderr}");

    let (output, _, _) = run(&[tmp.path()]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("no test case found"), "{stderr}");

    let (output, _, _) = run(&[]);
    assert_eq!(output.status.code(), Some(2));
}
