//! s3s-fs, an S3 server from another project (https://github.com/Nugine/s3s) that verifies SigV4,
//! as the independent truth for the S3 client: started on a free loopback port over a temporary
//! directory (a bucket is a subdirectory), killed when dropped.
//!
//! `scripts/s3s-fs` installs it once under `target/tools/` and prints its path; `scripts/test`
//! exports that path as `EDGE_SIGNER_S3S_FS`. Without the binary a test fails under `CI=true`,
//! and elsewhere prints how to install it and returns.

use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The variable that names the binary.
pub const BINARY_VAR: &str = "EDGE_SIGNER_S3S_FS";
/// The access key s3s-fs is started with.
pub const ACCESS_KEY: &str = "AKIDS3SFSTEST";
/// The secret key s3s-fs is started with.
pub const SECRET_KEY: &str = "s3s-fs-test-secret/with+specials";

/// A running s3s-fs.
pub struct S3sFs {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub endpoint: String,
    /// The directory it serves; each bucket is a subdirectory.
    pub dir: tempfile::TempDir,
}

impl S3sFs {
    /// Starts s3s-fs with `buckets` created, or `None` (with a note) when it is not installed and
    /// this is not CI. Under `CI=true` a missing binary is a failure.
    pub fn start(buckets: &[&str]) -> Option<Self> {
        let binary = match binary() {
            Some(binary) => binary,
            None if std::env::var("CI").is_ok_and(|v| v == "true") => {
                panic!("s3s-fs is not installed: run scripts/s3s-fs (scripts/test does) and set {BINARY_VAR}")
            }
            None => {
                eprintln!(
                    "NOTE: s3s-fs not found ({BINARY_VAR} or target/tools/s3s-fs/bin/s3s-fs); run scripts/s3s-fs. Skipped outside CI."
                );
                return None;
            }
        };
        let dir = tempfile::tempdir().expect("a temporary directory");
        for bucket in buckets {
            std::fs::create_dir(dir.path().join(bucket)).expect("a bucket directory");
        }
        let port = free_port();
        let child = Command::new(&binary)
            .args(["--host", "127.0.0.1", "--port", &port.to_string()])
            .args(["--access-key", ACCESS_KEY, "--secret-key", SECRET_KEY])
            .arg(dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));
        let mut server = Self {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
            dir,
        };
        server.wait_listening(port);
        Some(server)
    }

    fn wait_listening(&mut self, port: u16) {
        let until = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect((Ipv4Addr::LOCALHOST, port)).is_err() {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("s3s-fs exited at start: {status}");
            }
            assert!(
                Instant::now() < until,
                "s3s-fs did not listen on port {port} within 20 s"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for S3sFs {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn binary() -> Option<PathBuf> {
    let cached = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/tools/s3s-fs/bin/s3s-fs");
    let path = std::env::var_os(BINARY_VAR)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or(cached);
    path.is_file().then_some(path)
}

/// A port nobody listens on now (the kernel's choice, released at once).
pub fn free_port() -> u16 {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind a loopback port");
    listener.local_addr().expect("its address").port()
}
