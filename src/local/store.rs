//! The local store: the bucket behind the supporting access point, over a directory. It serves
//! `GET`/`HEAD /{bucket}/{key}` only to presigned requests that verify (the `inputS3Url` the
//! access point hands the transform), as S3 would.

use super::http::Message;
use super::verify::{Denied, Received, Verifier, error_xml};
use crate::sigv4::{
    SignableBody, SignableRequest, SigningError, SigningKeyCache, SigningParams, SigningSettings,
};
use crate::sigv4::{s3_canonical_path, sign};
use aws_credential_types::Credentials;
use percent_encoding::percent_decode_str;
use sha2::{Digest, Sha256};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// The bucket name in the store's paths.
pub const BUCKET: &str = "local-bucket";
/// How long an `inputS3Url` stays valid (S3 Object Lambda's own are short-lived too).
pub const PRESIGN_EXPIRY: Duration = Duration::from_secs(300);

/// A directory served as one bucket.
#[derive(Debug)]
pub struct Store {
    root: PathBuf,
    addr: SocketAddr,
    region: String,
    verifier: Verifier,
}

impl Store {
    /// The store over `root`, listening on `addr`, accepting URLs presigned with `credentials` for
    /// service `s3` in `region`.
    pub fn new(root: PathBuf, addr: SocketAddr, credentials: Credentials, region: &str) -> Self {
        Self {
            root,
            addr,
            region: region.to_owned(),
            verifier: Verifier::new(credentials, region, "s3"),
        }
    }

    /// A presigned `GET` of `key` (a decoded object key), signed by our signer.
    ///
    /// # Errors
    /// When the key cannot be put in a path (it is checked, not assumed).
    pub fn presign_get(
        &self,
        key: &str,
        credentials: &Credentials,
        now: SystemTime,
        keys: &SigningKeyCache,
    ) -> Result<String, SigningError> {
        // `s3_canonical_path` takes a path as sent (it decodes `%XX` first); the key is decoded, so
        // its own `%` must reach it escaped.
        let path = s3_canonical_path(&format!("/{BUCKET}/{}", key.replace('%', "%25")))?;
        let host = self.addr.to_string();
        let headers = [("host", host.as_str())];
        let settings = SigningSettings::s3().presigned(PRESIGN_EXPIRY);
        let params = SigningParams {
            credentials,
            region: &self.region,
            service: "s3",
            time: now,
            settings: &settings,
        };
        let request = SignableRequest {
            method: "GET",
            path: &path,
            query: "",
            headers: &headers,
            body: SignableBody::UnsignedPayload,
        };
        let output = sign(&request, &params, keys)?;
        Ok(format!("http://{host}{path}?{}", output.encoded_query()))
    }

    /// Answers one request.
    pub async fn handle(&self, request: Message) -> Message {
        let request_id = "local-store";
        let fail = |status: u16, code: &str, message: &str| {
            Message::response(status, "application/xml", error_xml(code, message, request_id))
        };
        if request.method != "GET" && request.method != "HEAD" {
            return fail(405, "MethodNotAllowed", "the store serves GET and HEAD");
        }
        let received = Received::from(&request);
        if let Err(denied) = self.verifier.verify_presigned(&received, SystemTime::now()) {
            return deny(&denied, request_id);
        }
        let Some(key) = request
            .path()
            .strip_prefix(&format!("/{BUCKET}/"))
            .map(|k| percent_decode_str(k).decode_utf8_lossy().into_owned())
        else {
            return fail(404, "NoSuchBucket", "the specified bucket does not exist");
        };
        let Some(file) = file_of(&self.root, &key) else {
            return fail(404, "NoSuchKey", "the specified key does not exist");
        };
        match tokio::fs::read(&file).await {
            Ok(body) => {
                let etag = format!("\"{}\"", hex::encode(&Sha256::digest(&body)[..16]));
                let mut response = Message::response(200, content_type(&key), body);
                response.headers.push(("etag".into(), etag));
                response
            }
            Err(_) => fail(404, "NoSuchKey", "the specified key does not exist"),
        }
    }
}

/// An S3-style refusal.
pub fn deny(denied: &Denied, request_id: &str) -> Message {
    Message::response(
        denied.status(),
        "application/xml",
        error_xml(denied.code(), &denied.to_string(), request_id),
    )
}

/// The file for `key` under `root`: every segment a plain name (no `.`, `..` or empty segment), so
/// that no key reaches outside the directory.
fn file_of(root: &Path, key: &str) -> Option<PathBuf> {
    let mut file = root.to_path_buf();
    for segment in key.split('/') {
        if segment.is_empty() || segment == "." || segment == ".." || segment.contains('\0') {
            return None;
        }
        file.push(segment);
    }
    file.is_file().then_some(file)
}

fn content_type(key: &str) -> &'static str {
    let extension = key.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase());
    match extension.as_deref() {
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("png") => "image/png",
        Some("webp") => "image/webp",
        Some("txt") => "text/plain; charset=utf-8",
        Some("json") => "application/json",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> (Store, Credentials) {
        let credentials = Credentials::new(
            "AKIDEXAMPLE",
            "secret/EXAMPLE",
            Some("token+/=".into()),
            None,
            "test",
        );
        let addr = SocketAddr::from(([127, 0, 0, 1], 9));
        let store = Store::new(PathBuf::from("."), addr, credentials.clone(), "eu-west-1");
        (store, credentials)
    }

    fn received(target: &str) -> (String, Vec<(String, String)>) {
        (target.to_owned(), vec![("host".into(), "127.0.0.1:9".into())])
    }

    /// Our presigner and the aws-sigv4 verifier agree; a changed key, an expired URL, another
    /// token are refused.
    #[test]
    fn presigned_urls_verify_until_they_expire() {
        let (store, credentials) = store();
        let now = SystemTime::now();
        let url = store
            .presign_get(
                "photos/it's a+b%41 ü.jpg",
                &credentials,
                now,
                &SigningKeyCache::new(),
            )
            .unwrap();
        let target = url.strip_prefix("http://127.0.0.1:9").unwrap();
        let verify = |target: &str, at: SystemTime| {
            let (target, headers) = received(target);
            let request = Received {
                method: "GET",
                target: &target,
                headers: &headers,
                body: b"",
            };
            store.verifier.verify_presigned(&request, at)
        };
        assert_eq!(verify(target, now), Ok(()));
        assert_eq!(
            verify(target, now + PRESIGN_EXPIRY - Duration::from_secs(1)),
            Ok(())
        );
        assert_eq!(
            verify(target, now + PRESIGN_EXPIRY + Duration::from_secs(1)),
            Err(Denied::Expired)
        );
        let other_key = target.replacen("photos", "photoz", 1);
        assert_eq!(verify(&other_key, now), Err(Denied::SignatureDoesNotMatch));
        let other_token = target.replacen("X-Amz-Security-Token=token", "X-Amz-Security-Token=tokem", 1);
        assert_eq!(verify(&other_token, now), Err(Denied::InvalidToken));
        let unsigned = target.split('?').next().unwrap();
        assert_eq!(verify(unsigned, now), Err(Denied::NotSigned));
    }

    #[test]
    fn keys_cannot_leave_the_directory() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/images");
        assert!(file_of(&root, "sample.jpg").is_some());
        for key in [
            "../Cargo.toml",
            "a/../../Cargo.toml",
            "/etc/passwd",
            "",
            "./sample.jpg",
            "x//y",
        ] {
            assert_eq!(file_of(&root, key), None, "{key:?}");
        }
    }
}
