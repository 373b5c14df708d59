//! The `edge-signer vectors` command, run as a process: the shipped suite passes, a tampered or
//! malformed case fails with a clear line (never a panic), a suite in a new layout with CRLF
//! request files works, and usage errors exit 2.

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
        .strip_suffix(" passed, 0 failed")
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("unexpected summary: {stdout}"));
    assert!(passed >= 40, "{stdout}");
    assert_eq!(lines.len(), 1, "no FAIL lines expected: {stdout}");
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
