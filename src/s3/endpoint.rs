//! Where a request goes: the region, the endpoint (AWS's or an override), and how a bucket and a
//! key become a host and a path.

use crate::sigv4::{SigningError, s3_canonical_path};
use std::fmt;
use std::str::FromStr;

/// The region variable Lambda defines.
pub const REGION_VAR: &str = "AWS_REGION";
/// The S3-only endpoint override of the AWS SDKs and CLI (wins over [`ENDPOINT_URL_VAR`]).
pub const ENDPOINT_URL_S3_VAR: &str = "AWS_ENDPOINT_URL_S3";
/// The all-services endpoint override of the AWS SDKs and CLI.
pub const ENDPOINT_URL_VAR: &str = "AWS_ENDPOINT_URL";

/// `http` or `https`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scheme {
    /// Plain HTTP: only for a local endpoint.
    Http,
    /// HTTPS (rustls, the Mozilla root certificates).
    Https,
}

impl Scheme {
    /// `http` or `https`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Http => "http",
            Self::Https => "https",
        }
    }
}

/// An endpoint override: scheme and `host[:port]`, nothing else.
///
/// ```
/// use edge_signer::s3::{Endpoint, Scheme};
/// let endpoint: Endpoint = "http://127.0.0.1:9000".parse().unwrap();
/// assert_eq!((endpoint.scheme, endpoint.authority.as_str()), (Scheme::Http, "127.0.0.1:9000"));
/// assert!("127.0.0.1:9000".parse::<Endpoint>().is_err()); // no scheme
/// assert!("http://127.0.0.1:9000/path".parse::<Endpoint>().is_err());
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    /// `http` or `https`.
    pub scheme: Scheme,
    /// `host` or `host:port`, sent as the `host` header (and signed).
    pub authority: String,
}

impl FromStr for Endpoint {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let (scheme, rest) = if let Some(rest) = s.strip_prefix("http://") {
            (Scheme::Http, rest)
        } else if let Some(rest) = s.strip_prefix("https://") {
            (Scheme::Https, rest)
        } else {
            return Err("expected http://HOST[:PORT] or https://HOST[:PORT]".into());
        };
        let authority = rest.strip_suffix('/').unwrap_or(rest);
        let valid = !authority.is_empty()
            && authority
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'));
        if !valid {
            return Err(
                "expected only a host and an optional port after the scheme (no path, query or user)".into(),
            );
        }
        // The authority must also be what the http crate accepts as one.
        http::uri::Authority::from_str(authority).map_err(|e| e.to_string())?;
        Ok(Self {
            scheme,
            authority: authority.to_owned(),
        })
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://{}", self.scheme.as_str(), self.authority)
    }
}

/// Whether `name` can be a region: lowercase letters, digits and `-` (it goes into a host name).
pub fn is_region(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// The region and endpoint of the S3 client. Build it with [`Config::from_env`] (the Lambda
/// shells), [`Config::from_lookup`], or [`Config::new`] and then set [`Config::endpoint`].
///
/// ```
/// use edge_signer::s3::Config;
/// let config = Config::from_lookup(|name| match name {
///     "AWS_REGION" => Some("eu-west-1".into()),
///     "AWS_ENDPOINT_URL" => Some("http://127.0.0.1:4566".into()),
///     "AWS_ENDPOINT_URL_S3" => Some("http://127.0.0.1:8014".into()),
///     _ => None,
/// })
/// .unwrap();
/// assert_eq!(config.endpoint.unwrap().to_string(), "http://127.0.0.1:8014");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Config {
    /// The signing region, and the region of the regional endpoint.
    pub region: String,
    /// An endpoint override (addressed path-style), or `None` for S3's regional endpoint.
    pub endpoint: Option<Endpoint>,
}

impl Config {
    /// S3's regional endpoint in `region`.
    pub fn new(region: impl Into<String>) -> Self {
        Self {
            region: region.into(),
            endpoint: None,
        }
    }

    /// Reads [`REGION_VAR`] (required), then [`ENDPOINT_URL_S3_VAR`], else [`ENDPOINT_URL_VAR`],
    /// through `var`. An empty variable counts as unset; the error names the variable.
    pub fn from_lookup(var: impl Fn(&str) -> Option<String>) -> Result<Self, String> {
        let present = |name: &str| var(name).filter(|v| !v.is_empty());
        let region = present(REGION_VAR).ok_or_else(|| {
            format!("{REGION_VAR} is not set (the region of the function and its bucket, such as us-west-2)")
        })?;
        if !is_region(&region) {
            return Err(format!(
                "{REGION_VAR}={region:?} is not a region name (lowercase letters, digits and '-', such as us-west-2)"
            ));
        }
        let mut config = Self::new(region);
        for name in [ENDPOINT_URL_S3_VAR, ENDPOINT_URL_VAR] {
            if let Some(url) = present(name) {
                config.endpoint = Some(url.parse().map_err(|e| format!("{name}={url:?}: {e}"))?);
                break;
            }
        }
        Ok(config)
    }

    /// [`Self::from_lookup`] over the process environment.
    pub fn from_env() -> Result<Self, String> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// The scheme, `host[:port]` and request path of `key` in `bucket`.
    ///
    /// - An override: path-style, `<endpoint>/<bucket>/<key>` (local servers do not resolve
    ///   `<bucket>.<host>`).
    /// - Otherwise `https://<bucket>.s3.<region>.amazonaws.com/<key>` (virtual-hosted, the style
    ///   S3 recommends: <https://docs.aws.amazon.com/AmazonS3/latest/userguide/VirtualHosting.html>)
    ///   for a bucket name that is one DNS label; a name with a dot (or legacy capitals or `_`)
    ///   would not match S3's wildcard certificate `*.s3.<region>.amazonaws.com`, so it goes
    ///   path-style to `https://s3.<region>.amazonaws.com/<bucket>/<key>`. China regions end in
    ///   `amazonaws.com.cn`.
    ///
    /// The key is encoded once, in S3's canonical form ([`s3_canonical_path`]): every byte but
    /// `A-Za-z0-9-_.~` and `/` as `%XX`, nothing normalised, so that the path sent is the
    /// canonical URI the signature covers, byte for byte.
    ///
    /// ```
    /// use edge_signer::s3::Config;
    /// let config = Config::new("us-east-1");
    /// let at = config.locate("photos", "a b/%41+ü.jpg").unwrap();
    /// assert_eq!(at.authority, "photos.s3.us-east-1.amazonaws.com");
    /// assert_eq!(at.path, "/a%20b/%2541%2B%C3%BC.jpg");
    /// let at = config.locate("my.photos", "a//../b").unwrap();
    /// assert_eq!((at.authority.as_str(), at.path.as_str()), ("s3.us-east-1.amazonaws.com", "/my.photos/a//../b"));
    /// ```
    ///
    /// # Errors
    /// [`LocateError`] for a bucket name that is not one, or a key that is empty, longer than S3
    /// allows, or holds a control character.
    pub fn locate(&self, bucket: &str, key: &str) -> Result<Location, LocateError> {
        check_bucket(bucket)?;
        let encoded_key = encode_key(key)?;
        Ok(match &self.endpoint {
            Some(endpoint) => Location {
                scheme: endpoint.scheme,
                authority: endpoint.authority.clone(),
                path: format!("/{bucket}{encoded_key}"),
            },
            None => {
                let suffix = if self.region.starts_with("cn-") {
                    "amazonaws.com.cn"
                } else {
                    "amazonaws.com"
                };
                let host = format!("s3.{}.{suffix}", self.region);
                if is_dns_label(bucket) {
                    Location {
                        scheme: Scheme::Https,
                        authority: format!("{bucket}.{host}"),
                        path: encoded_key,
                    }
                } else {
                    Location {
                        scheme: Scheme::Https,
                        authority: host,
                        path: format!("/{bucket}{encoded_key}"),
                    }
                }
            }
        })
    }
}

/// Where one object's requests go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Location {
    /// `http` or `https`.
    pub scheme: Scheme,
    /// `host[:port]`: the `host` header.
    pub authority: String,
    /// The request path, percent-encoded in S3's canonical form.
    pub path: String,
}

impl Location {
    /// The request URI (no query).
    pub fn uri(&self) -> String {
        format!("{}://{}{}", self.scheme.as_str(), self.authority, self.path)
    }
}

/// A bucket or key the client cannot address.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LocateError {
    /// Not a bucket name.
    #[error("invalid bucket name {0:?}: expected 3 to 255 letters, digits, '.', '-' or '_'")]
    Bucket(String),
    /// Empty, or longer than S3's 1,024 bytes.
    #[error("invalid object key: it must be 1 to 1024 bytes long (it is {0})")]
    KeyLength(usize),
    /// A key the S3 path encoding refuses (a control character).
    #[error("invalid object key: {0}")]
    Key(#[from] SigningError),
}

/// The longest object key S3 accepts, in bytes of UTF-8.
pub const MAX_KEY_BYTES: usize = 1024;

fn check_bucket(bucket: &str) -> Result<(), LocateError> {
    // S3's rules (3–63 of [a-z0-9.-]) plus the legacy us-east-1 names (up to 255, capitals, `_`):
    // what matters here is that the name cannot change the host or the path.
    let valid = (3..=255).contains(&bucket.len())
        && bucket
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'));
    if valid {
        Ok(())
    } else {
        Err(LocateError::Bucket(bucket.to_owned()))
    }
}

/// One label of a host name, lowercase: the bucket can be the first label of S3's host.
fn is_dns_label(bucket: &str) -> bool {
    bucket.len() <= 63
        && bucket
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !bucket.starts_with('-')
        && !bucket.ends_with('-')
}

/// `/` + the key in S3's canonical form. [`s3_canonical_path`] reads an already-encoded path (it
/// decodes `%XX` first), so every `%` of the raw key is given to it as `%25`: it then decodes to
/// the raw key exactly, and encodes it the one way the signer and S3 expect.
fn encode_key(key: &str) -> Result<String, LocateError> {
    if key.is_empty() || key.len() > MAX_KEY_BYTES {
        return Err(LocateError::KeyLength(key.len()));
    }
    let escaped = format!("/{}", key.replace('%', "%25"));
    s3_canonical_path(&escaped).map_err(|e| match e {
        // The error's path is the escaped one: name the reason only.
        SigningError::InvalidPath { reason, .. } => LocateError::Key(SigningError::InvalidPath {
            path: key.to_owned(),
            reason,
        }),
        other => LocateError::Key(other),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_env::lookup;

    #[test]
    fn endpoint_variables_in_order() {
        let config = Config::from_lookup(lookup(&[("AWS_REGION", "us-west-2")])).unwrap();
        assert_eq!(config, Config::new("us-west-2"));
        let config = Config::from_lookup(lookup(&[
            ("AWS_REGION", "us-west-2"),
            ("AWS_ENDPOINT_URL_S3", ""),
            ("AWS_ENDPOINT_URL", "http://localhost:4566/"),
        ]))
        .unwrap();
        assert_eq!(config.endpoint.unwrap().authority, "localhost:4566");
        let error = Config::from_lookup(lookup(&[
            ("AWS_REGION", "us-west-2"),
            ("AWS_ENDPOINT_URL_S3", "localhost:4566"),
        ]))
        .unwrap_err();
        assert!(error.starts_with("AWS_ENDPOINT_URL_S3="), "{error}");
        let error = Config::from_lookup(lookup(&[])).unwrap_err();
        assert!(error.starts_with("AWS_REGION is not set"), "{error}");
        let error = Config::from_lookup(lookup(&[("AWS_REGION", "us-west-2.evil.com/")])).unwrap_err();
        assert!(error.contains("not a region name"), "{error}");
    }

    #[test]
    fn addressing_styles() {
        let at = Config::new("cn-north-1").locate("b-1", "k").unwrap();
        assert_eq!(at.uri(), "https://b-1.s3.cn-north-1.amazonaws.com.cn/k");
        for bucket in ["with.dot", "Legacy_Name", "-dash"] {
            let at = Config::new("us-east-1").locate(bucket, "k").unwrap();
            assert_eq!(at.uri(), format!("https://s3.us-east-1.amazonaws.com/{bucket}/k"));
        }
        let mut config = Config::new("us-east-1");
        config.endpoint = Some("http://127.0.0.1:8014".parse().unwrap());
        let at = config.locate("bucket", "a/b c").unwrap();
        assert_eq!(at.uri(), "http://127.0.0.1:8014/bucket/a/b%20c");
    }

    #[test]
    fn keys_are_encoded_once_and_never_normalised() {
        let config = Config::new("us-east-1");
        for (key, path) in [
            ("plain.jpg", "/plain.jpg"),
            ("red flower.jpg", "/red%20flower.jpg"),
            ("a+b.jpg", "/a%2Bb.jpg"),
            ("c++/(1) copy.jpg", "/c%2B%2B/%281%29%20copy.jpg"),
            ("ü/日本.jpg", "/%C3%BC/%E6%97%A5%E6%9C%AC.jpg"),
            ("x:y;z=,@$&.jpg", "/x%3Ay%3Bz%3D%2C%40%24%26.jpg"),
            ("%41pct.jpg", "/%2541pct.jpg"),
            ("q?s#h.jpg", "/q%3Fs%23h.jpg"),
            ("~tilde*!'.jpg", "/~tilde%2A%21%27.jpg"),
            ("a//b.jpg", "/a//b.jpg"),
            ("../x/./..", "/../x/./.."),
            ("/lead", "//lead"),
        ] {
            assert_eq!(config.locate("bkt", key).unwrap().path, path, "{key}");
        }
    }

    #[test]
    fn what_cannot_be_addressed() {
        let config = Config::new("us-east-1");
        for bucket in ["", "ab", "a/b", "a b", "evil.com:80", "b?x"] {
            assert!(
                matches!(config.locate(bucket, "k"), Err(LocateError::Bucket(_))),
                "{bucket}"
            );
        }
        assert_eq!(config.locate("bkt", ""), Err(LocateError::KeyLength(0)));
        let long = "k".repeat(MAX_KEY_BYTES + 1);
        assert_eq!(config.locate("bkt", &long), Err(LocateError::KeyLength(1025)));
        assert!(config.locate("bkt", &"k".repeat(MAX_KEY_BYTES)).is_ok());
        let error = config.locate("bkt", "a\nb").unwrap_err();
        assert!(matches!(error, LocateError::Key(_)), "{error}");
        assert!(error.to_string().contains("\"a\\nb\""), "{error}");
    }
}
