//! Which origins the handler signs for, and how each one's host name names its service and region.
//!
//! Origins are a table, so that more kinds (plain S3 `s3`, Lambda function URLs `lambda`, API
//! Gateway `execute-api`) are entries, not code. Each entry is signed S3-style (single encoding, no
//! normalisation), which is what S3 and S3 Object Lambda expect.

use serde::Deserialize;

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
}

impl OriginKind {
    /// S3 Object Lambda access points, in the commercial and China partitions.
    pub fn s3_object_lambda() -> Self {
        Self {
            service: "s3-object-lambda".into(),
            host_label: "s3-object-lambda".into(),
            suffixes: vec!["amazonaws.com".into(), "amazonaws.com.cn".into()],
        }
    }
}

/// A recognised origin: what to sign for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OriginTarget<'a> {
    /// The SigV4 service.
    pub service: &'a str,
    /// The region, taken from the host name (not from where the function runs).
    pub region: &'a str,
}

/// Finds the first kind whose pattern `domain` matches, with the region it names.
///
/// ```
/// use edge_signer::origin::{recognise, OriginKind};
/// let kinds = [OriginKind::s3_object_lambda()];
/// let target = recognise("myap-123456789012.s3-object-lambda.us-west-2.amazonaws.com", &kinds).unwrap();
/// assert_eq!((target.service, target.region), ("s3-object-lambda", "us-west-2"));
/// assert!(recognise("example.com", &kinds).is_none());
/// ```
pub fn recognise<'a>(domain: &'a str, kinds: &'a [OriginKind]) -> Option<OriginTarget<'a>> {
    let domain = domain.strip_suffix('.').unwrap_or(domain); // a fully qualified name
    kinds.iter().find_map(|kind| {
        kind.suffixes.iter().find_map(|suffix| {
            let rest = domain.strip_suffix(suffix.as_str())?.strip_suffix('.')?;
            let (rest, region) = rest.rsplit_once('.')?;
            let name = rest.strip_suffix(kind.host_label.as_str())?.strip_suffix('.')?;
            let region_ok = !region.is_empty()
                && region
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
            (region_ok && !name.is_empty() && !name.starts_with('.')).then_some(OriginTarget {
                service: &kind.service,
                region,
            })
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_both_partitions_and_rejects_look_alikes() {
        let kinds = [OriginKind::s3_object_lambda()];
        let cn = recognise("ap-1.s3-object-lambda.cn-north-1.amazonaws.com.cn", &kinds).unwrap();
        assert_eq!(cn.region, "cn-north-1");
        for bad in [
            "s3-object-lambda.us-east-1.amazonaws.com",
            "ap.s3-object-lambda.us-east-1.amazonaws.com.evil.example",
            "ap.s3-object-lambda.US-EAST-1.amazonaws.com",
            "ap.s3.us-east-1.amazonaws.com",
            "ap.xs3-object-lambda.us-east-1.amazonaws.com",
            "",
        ] {
            assert!(recognise(bad, &kinds).is_none(), "{bad}");
        }
    }

    #[test]
    fn more_kinds_are_table_entries() {
        let s3 = OriginKind {
            service: "s3".into(),
            host_label: "s3".into(),
            suffixes: vec!["amazonaws.com".into()],
        };
        let kinds = [OriginKind::s3_object_lambda(), s3];
        let t = recognise("my.bucket.s3.eu-west-1.amazonaws.com", &kinds).unwrap();
        assert_eq!((t.service, t.region), ("s3", "eu-west-1"));
    }
}
