//! Which origins the handler signs for: how each kind's host name names its service and region, how
//! its service verifies a signature, and which query parameters it is sent.
//!
//! Origins are a table, so that a kind is an entry, not code. The built-in kinds:
//!
//! | kind | host | service | signing |
//! |---|---|---|---|
//! | S3 Object Lambda | `<name>.s3-object-lambda.<region>.amazonaws.com[.cn]` | `s3-object-lambda` | S3 |
//! | API Gateway | `<api-id>.execute-api.<region>.amazonaws.com[.cn]` | `execute-api` | default |
//! | Lambda function URL | `<url-id>.lambda-url.<region>.on.aws` | `lambda` | default |
//! | S3 Multi-Region Access Point | `<alias>.mrap.accesspoint.s3-global.amazonaws.com` | `s3`, region set `*` | S3, SigV4A |
//!
//! Plain S3 (`<bucket>.s3.<region>.amazonaws.com`, `<name>-<account>.s3-accesspoint.<region>…`)
//! is a configuration entry (`extraOrigins`), signed S3-style.

use crate::sigv4::{PayloadChecksumKind, SigningSettings};
use serde::Deserialize;

/// How the origin's service checks a signature, which decides everything the handler does with
/// the path, the payload and the query.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Signing {
    /// S3 and S3 Object Lambda: the path is the object key, put in S3 canonical form and signed as
    /// sent (single encoding, no normalisation); `UNSIGNED-PAYLOAD` without a body; the query is
    /// the allow-list's.
    #[default]
    S3,
    /// Every other service (API Gateway, Lambda): the `uri` goes unchanged, and what is signed is
    /// its normalised, double-encoded form, as the service computes it; the empty body's hash
    /// without a body; the whole query, unless the kind has its own allow-list.
    Default,
    /// S3 Multi-Region Access Points: S3's rules, signed with SigV4A (ECDSA P-256) for the kind's
    /// region set, since the request may be served from any of the access point's regions.
    #[serde(rename = "s3-sigv4a")]
    S3SigV4a,
}

impl Signing {
    /// The signer's settings. `x-amz-content-sha256` is signed for every kind: S3 requires it,
    /// and a function URL checks the body against it.
    pub fn settings(self) -> SigningSettings {
        match self {
            Signing::S3 | Signing::S3SigV4a => SigningSettings::s3(),
            Signing::Default => SigningSettings {
                payload_checksum_kind: PayloadChecksumKind::XAmzSha256,
                ..SigningSettings::default()
            },
        }
    }
}

/// One kind of origin: host names `<name>.<host_label>.<region>.<suffix>`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OriginKind {
    /// The SigV4 service name, such as `s3-object-lambda`.
    pub service: String,
    /// The label before the region in the host name, such as `s3-object-lambda`.
    pub host_label: String,
    /// The DNS suffixes after the region, such as `amazonaws.com`.
    pub suffixes: Vec<String>,
    /// How the service verifies a signature; S3-style when not given.
    #[serde(default)]
    pub signing: Signing,
    /// The query parameters this kind is sent (exact, case-sensitive names). Without one, an
    /// S3-style kind gets the handler's `queryAllowList` (a viewer must not reach S3
    /// sub-resources such as `?acl` under the edge role's signature) and any other kind the whole
    /// query.
    #[serde(default)]
    pub query_allow_list: Option<Vec<String>>,
    /// A fixed region (for SigV4A, the region set, such as `*`) for hosts that name none: the host
    /// is then `<name>.<host_label>.<suffix>`, without a region label.
    #[serde(default)]
    pub region_set: Option<String>,
}

impl OriginKind {
    fn aws(service: &str, host_label: &str, suffixes: &[&str], signing: Signing) -> Self {
        Self {
            service: service.into(),
            host_label: host_label.into(),
            suffixes: suffixes.iter().map(|s| (*s).into()).collect(),
            signing,
            query_allow_list: None,
            region_set: None,
        }
    }

    /// S3 Object Lambda access points, in the commercial and China partitions.
    pub fn s3_object_lambda() -> Self {
        Self::aws(
            "s3-object-lambda",
            "s3-object-lambda",
            &["amazonaws.com", "amazonaws.com.cn"],
            Signing::S3,
        )
    }

    /// API Gateway REST and HTTP APIs with IAM authorisation, in the commercial and China
    /// partitions. The stage is the first segment of the path.
    pub fn execute_api() -> Self {
        Self::aws(
            "execute-api",
            "execute-api",
            &["amazonaws.com", "amazonaws.com.cn"],
            Signing::Default,
        )
    }

    /// Lambda function URLs with `AWS_IAM` authorisation.
    pub fn lambda_url() -> Self {
        Self::aws("lambda", "lambda-url", &["on.aws"], Signing::Default)
    }

    /// S3 Multi-Region Access Points (`<alias>.mrap.accesspoint.s3-global.amazonaws.com`): no
    /// region in the host; signed with SigV4A for every region (`*`).
    pub fn multi_region_access_point() -> Self {
        Self {
            region_set: Some("*".into()),
            ..Self::aws(
                "s3",
                "mrap",
                &["accesspoint.s3-global.amazonaws.com"],
                Signing::S3SigV4a,
            )
        }
    }

    /// The kinds recognised without configuration, in the order they are tried.
    pub fn built_in() -> Vec<Self> {
        vec![
            Self::s3_object_lambda(),
            Self::execute_api(),
            Self::lambda_url(),
            Self::multi_region_access_point(),
        ]
    }
}

/// A recognised origin: what to sign for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OriginTarget<'a> {
    /// The SigV4 service.
    pub service: &'a str,
    /// The region, taken from the host name (not from where the function runs).
    pub region: &'a str,
    /// The table entry that matched.
    pub kind: &'a OriginKind,
}

/// Finds the first kind whose pattern `domain` matches, with the region it names.
///
/// ```
/// use edge_signer::origin::{recognise, OriginKind};
/// let kinds = OriginKind::built_in();
/// let target = recognise("myap-123456789012.s3-object-lambda.us-west-2.amazonaws.com", &kinds).unwrap();
/// assert_eq!((target.service, target.region), ("s3-object-lambda", "us-west-2"));
/// let target = recognise("a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com", &kinds).unwrap();
/// assert_eq!((target.service, target.region), ("execute-api", "eu-west-1"));
/// assert!(recognise("example.com", &kinds).is_none());
/// ```
pub fn recognise<'a>(domain: &'a str, kinds: &'a [OriginKind]) -> Option<OriginTarget<'a>> {
    let domain = domain.strip_suffix('.').unwrap_or(domain); // a fully qualified name
    kinds.iter().find_map(|kind| {
        kind.suffixes.iter().find_map(|suffix| {
            let rest = domain.strip_suffix(suffix.as_str())?.strip_suffix('.')?;
            let (rest, region) = match &kind.region_set {
                Some(fixed) => (rest, fixed.as_str()),
                None => rest.rsplit_once('.')?,
            };
            let name = rest.strip_suffix(kind.host_label.as_str())?.strip_suffix('.')?;
            let region_ok = kind.region_set.is_some()
                || (!region.is_empty()
                    && region
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'));
            (region_ok && !name.is_empty() && !name.starts_with('.')).then_some(OriginTarget {
                service: &kind.service,
                region,
                kind,
            })
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope(domain: &str) -> Option<(&str, &str, Signing)> {
        let kinds: &'static [OriginKind] = Box::leak(OriginKind::built_in().into_boxed_slice());
        recognise(domain, kinds).map(|t| (t.service, t.region, t.kind.signing))
    }

    #[test]
    fn recognises_every_built_in_kind_and_partition() {
        for (domain, expected) in [
            (
                "ap-1.s3-object-lambda.cn-north-1.amazonaws.com.cn",
                ("s3-object-lambda", "cn-north-1", Signing::S3),
            ),
            (
                "a1b2c3d4e5.execute-api.us-east-1.amazonaws.com",
                ("execute-api", "us-east-1", Signing::Default),
            ),
            (
                "a1b2c3d4e5.execute-api.cn-northwest-1.amazonaws.com.cn.",
                ("execute-api", "cn-northwest-1", Signing::Default),
            ),
            (
                "abcdefghijklmnopqrstuvwxyz012345.lambda-url.ap-southeast-2.on.aws",
                ("lambda", "ap-southeast-2", Signing::Default),
            ),
            (
                "mfzwi23gnjvgw.mrap.accesspoint.s3-global.amazonaws.com",
                ("s3", "*", Signing::S3SigV4a),
            ),
        ] {
            assert_eq!(scope(domain), Some(expected), "{domain}");
        }
    }

    #[test]
    fn rejects_look_alikes() {
        for bad in [
            "s3-object-lambda.us-east-1.amazonaws.com",
            "ap.s3-object-lambda.us-east-1.amazonaws.com.evil.example",
            "ap.s3-object-lambda.US-EAST-1.amazonaws.com",
            "ap.s3.us-east-1.amazonaws.com",
            "ap.xs3-object-lambda.us-east-1.amazonaws.com",
            "execute-api.us-east-1.amazonaws.com",
            "id.execute-api.us-east-1.amazonaws.com.evil.example",
            "id.execute-api.us-east-1.on.aws",
            "id.lambda-url.us-east-1.amazonaws.com",
            "id.lambda-url.on.aws",
            "id.xlambda-url.us-east-1.on.aws",
            "mrap.accesspoint.s3-global.amazonaws.com",
            "a.mrap.accesspoint.s3-global.amazonaws.com.evil.example",
            "a.mrap.us-east-1.accesspoint.s3-global.amazonaws.com",
            "a.xmrap.accesspoint.s3-global.amazonaws.com",
            "",
        ] {
            assert_eq!(scope(bad), None, "{bad}");
        }
    }

    #[test]
    fn more_kinds_are_table_entries() {
        let s3: OriginKind =
            serde_json::from_str(r#"{"service": "s3", "hostLabel": "s3", "suffixes": ["amazonaws.com"]}"#)
                .unwrap();
        assert_eq!((s3.signing, s3.query_allow_list.as_ref()), (Signing::S3, None));
        let kinds = [OriginKind::s3_object_lambda(), s3];
        let t = recognise("my.bucket.s3.eu-west-1.amazonaws.com", &kinds).unwrap();
        assert_eq!((t.service, t.region), ("s3", "eu-west-1"));
    }

    #[test]
    fn only_the_default_kinds_double_encode_and_normalise() {
        use crate::sigv4::{PercentEncodingMode, UriPathNormalizationMode};
        let s3 = Signing::S3.settings();
        let default = Signing::Default.settings();
        assert_eq!(s3.percent_encoding_mode, PercentEncodingMode::Single);
        assert_eq!(default.percent_encoding_mode, PercentEncodingMode::Double);
        assert_eq!(
            default.uri_path_normalization_mode,
            UriPathNormalizationMode::Enabled
        );
        assert_eq!(default.payload_checksum_kind, PayloadChecksumKind::XAmzSha256);
    }
}
