//! Where the function sends `WriteGetObjectResponse`, and its limits: read once at start.

use crate::s3::is_region;
pub use crate::s3::{Endpoint, Scheme};
use std::time::Duration;

/// The region variable Lambda defines: the function's own region, which is the Object Lambda access
/// point's (they must be in the same region).
pub const REGION_VAR: &str = "AWS_REGION";
/// Overrides where `WriteGetObjectResponse` goes, for local use: `http://127.0.0.1:9000`.
pub const ENDPOINT_VAR: &str = "EDGE_SIGNER_S3OL_ENDPOINT";
/// The largest original object the function reads, in bytes.
pub const MAX_OBJECT_BYTES_VAR: &str = "EDGE_SIGNER_S3OL_MAX_OBJECT_BYTES";

/// The function's settings. Build them with [`Settings::from_env`] (the Lambda shell),
/// [`Settings::from_lookup`], or [`Settings::new`] and then change the public fields.
///
/// ```
/// use edge_signer::object_lambda::Settings;
/// let settings = Settings::from_lookup(|name| match name {
///     "AWS_REGION" => Some("us-west-2".into()),
///     "EDGE_SIGNER_S3OL_ENDPOINT" => Some("http://127.0.0.1:9000".into()),
///     _ => None,
/// })
/// .unwrap();
/// assert_eq!(settings.region, "us-west-2");
/// assert_eq!(settings.endpoint.unwrap().to_string(), "http://127.0.0.1:9000");
/// assert_eq!(settings.max_object_bytes, Settings::DEFAULT_MAX_OBJECT_BYTES);
/// assert!(Settings::from_lookup(|_| None).unwrap_err().contains("AWS_REGION"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Settings {
    /// The signing region, and the region in the `WriteGetObjectResponse` host name.
    pub region: String,
    /// Where to send `WriteGetObjectResponse` instead of
    /// `<outputRoute>.s3-object-lambda.<region>.amazonaws.com` (local use).
    pub endpoint: Option<Endpoint>,
    /// The largest original the function reads; a larger one is answered with an error, unread.
    /// The function holds the original and its transformed copy in memory (about three times this
    /// at the peak), so size the function's memory to match.
    pub max_object_bytes: u64,
    /// The longest each HTTP exchange may take (fetching the original, posting the reply). S3
    /// Object Lambda gives the function 60 s in all.
    pub timeout: Duration,
}

impl Settings {
    /// 32 MiB: a large camera JPEG is 10–25 MB; the function needs about three times this in memory.
    pub const DEFAULT_MAX_OBJECT_BYTES: u64 = 32 * 1024 * 1024;
    /// 25 s per exchange, so that a slow fetch still leaves time to post the error within 60 s.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(25);

    /// The defaults for `region`: no endpoint override, [`Self::DEFAULT_MAX_OBJECT_BYTES`],
    /// [`Self::DEFAULT_TIMEOUT`].
    pub fn new(region: impl Into<String>) -> Self {
        Self {
            region: region.into(),
            endpoint: None,
            max_object_bytes: Self::DEFAULT_MAX_OBJECT_BYTES,
            timeout: Self::DEFAULT_TIMEOUT,
        }
    }

    /// Reads [`REGION_VAR`] (required), [`ENDPOINT_VAR`] and [`MAX_OBJECT_BYTES_VAR`] (optional)
    /// through `var`. An empty variable counts as unset. The error names the variable and says
    /// what was expected.
    pub fn from_lookup(var: impl Fn(&str) -> Option<String>) -> Result<Self, String> {
        let present = |name: &str| var(name).filter(|v| !v.is_empty());
        let region = present(REGION_VAR).ok_or_else(|| {
            format!(
                "{REGION_VAR} is not set (the region of the function and its Object Lambda access point, such as us-west-2)"
            )
        })?;
        if !is_region(&region) {
            return Err(format!(
                "{REGION_VAR}={region:?} is not a region name (lowercase letters, digits and '-', such as us-west-2)"
            ));
        }
        let mut settings = Self::new(region);
        if let Some(endpoint) = present(ENDPOINT_VAR) {
            settings.endpoint = Some(
                endpoint
                    .parse()
                    .map_err(|e| format!("{ENDPOINT_VAR}={endpoint:?}: {e}"))?,
            );
        }
        if let Some(max) = present(MAX_OBJECT_BYTES_VAR) {
            settings.max_object_bytes =
                max.parse().ok().filter(|&n| n > 0).ok_or_else(|| {
                    format!("{MAX_OBJECT_BYTES_VAR}={max:?} is not a positive number of bytes")
                })?;
        }
        Ok(settings)
    }

    /// [`Self::from_lookup`] over the process environment.
    pub fn from_env() -> Result<Self, String> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// The host `WriteGetObjectResponse` goes to: the override's `host[:port]`, else
    /// `<route>.s3-object-lambda.<region>.amazonaws.com` (`.amazonaws.com.cn` in the China regions).
    pub fn write_host(&self, route: &str) -> String {
        match &self.endpoint {
            Some(endpoint) => endpoint.authority.clone(),
            None => {
                let suffix = if self.region.starts_with("cn-") {
                    "amazonaws.com.cn"
                } else {
                    "amazonaws.com"
                };
                format!("{route}.s3-object-lambda.{}.{suffix}", self.region)
            }
        }
    }

    /// `https`, or the override's scheme.
    pub fn write_scheme(&self) -> Scheme {
        self.endpoint.as_ref().map_or(Scheme::Https, |e| e.scheme)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_env::lookup;

    #[test]
    fn region_is_required_and_checked() {
        let missing = Settings::from_lookup(lookup(&[("AWS_REGION", "")])).unwrap_err();
        assert!(missing.contains("AWS_REGION is not set"), "{missing}");
        let bad = Settings::from_lookup(lookup(&[("AWS_REGION", "us-west-2.evil.com/")])).unwrap_err();
        assert!(bad.contains("not a region name"), "{bad}");
    }

    #[test]
    fn defaults_and_overrides() {
        let s = Settings::from_lookup(lookup(&[("AWS_REGION", "eu-west-1")])).unwrap();
        assert_eq!(s, Settings::new("eu-west-1"));
        assert_eq!(
            s.write_host("io-use1-001"),
            "io-use1-001.s3-object-lambda.eu-west-1.amazonaws.com"
        );
        assert_eq!(s.write_scheme(), Scheme::Https);

        let s = Settings::from_lookup(lookup(&[
            ("AWS_REGION", "cn-north-1"),
            ("EDGE_SIGNER_S3OL_MAX_OBJECT_BYTES", "1000"),
        ]))
        .unwrap();
        assert_eq!(s.max_object_bytes, 1000);
        assert_eq!(
            s.write_host("r"),
            "r.s3-object-lambda.cn-north-1.amazonaws.com.cn"
        );

        let s = Settings::from_lookup(lookup(&[
            ("AWS_REGION", "us-west-2"),
            ("EDGE_SIGNER_S3OL_ENDPOINT", "http://localhost:9000/"),
        ]))
        .unwrap();
        assert_eq!(s.write_host("ignored"), "localhost:9000");
        assert_eq!(s.write_scheme(), Scheme::Http);
    }

    #[test]
    fn bad_values_name_the_variable() {
        for (name, value) in [
            ("EDGE_SIGNER_S3OL_MAX_OBJECT_BYTES", "0"),
            ("EDGE_SIGNER_S3OL_MAX_OBJECT_BYTES", "32MB"),
            ("EDGE_SIGNER_S3OL_ENDPOINT", "127.0.0.1:9000"),
            ("EDGE_SIGNER_S3OL_ENDPOINT", "ftp://127.0.0.1"),
            ("EDGE_SIGNER_S3OL_ENDPOINT", "http://user@host"),
            ("EDGE_SIGNER_S3OL_ENDPOINT", "http://host/path"),
            ("EDGE_SIGNER_S3OL_ENDPOINT", "http://"),
        ] {
            let error =
                Settings::from_lookup(lookup(&[("AWS_REGION", "us-west-2"), (name, value)])).unwrap_err();
            assert!(error.starts_with(name), "{name}={value}: {error}");
        }
    }
}
