//! Handler configuration. Lambda@Edge has no environment variables, so overrides come from a file
//! bundled beside the code (`edge-signer.json`); without one, the defaults apply.

use crate::origin::{OriginKind, Signing};
use serde::Deserialize;

/// The file name looked for beside the function's code.
pub const CONFIG_FILE_NAME: &str = "edge-signer.json";

/// What the handler forwards and where it signs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HandlerConfig {
    /// Query parameter names kept (exact, case-sensitive) for S3-style origins without an
    /// allow-list of their own; every other parameter is dropped.
    pub query_allow_list: Vec<String>,
    /// Origins the handler signs for, tried in order; any other origin gets a generated 502.
    pub origins: Vec<OriginKind>,
}

impl Default for HandlerConfig {
    fn default() -> Self {
        Self {
            query_allow_list: vec!["showExif".into()],
            origins: OriginKind::built_in(),
        }
    }
}

/// The file's shape: every key optional, unknown keys rejected (a typo must not pass silently).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ConfigFile {
    query_allow_list: Option<Vec<String>>,
    #[serde(default)]
    extra_origins: Vec<OriginKind>,
}

impl HandlerConfig {
    /// Reads a configuration file's JSON: `queryAllowList` replaces the allow-list of S3-style
    /// origins, `extraOrigins` adds origin kinds, tried before the built-in ones (so an entry can
    /// give a built-in kind's hosts an allow-list of their own).
    ///
    /// ```
    /// use edge_signer::config::HandlerConfig;
    /// let config = HandlerConfig::from_json(br#"{"queryAllowList": ["showExif", "w"]}"#).unwrap();
    /// assert_eq!(config.query_allow_list, ["showExif", "w"]);
    /// assert!(HandlerConfig::from_json(br#"{"queryAlowList": []}"#).is_err());
    /// ```
    pub fn from_json(bytes: &[u8]) -> Result<Self, String> {
        let file: ConfigFile =
            serde_json::from_slice(bytes).map_err(|e| format!("{CONFIG_FILE_NAME}: {e}"))?;
        let mut config = Self::default();
        if let Some(list) = file.query_allow_list {
            config.query_allow_list = list;
        }
        // A region set is SigV4A's; with SigV4 it would sign `*` as the scope's region, and
        // every request would be refused by the origin.
        if let Some(kind) = file
            .extra_origins
            .iter()
            .find(|kind| kind.region_set.is_some() && kind.signing != Signing::S3SigV4a)
        {
            return Err(format!(
                "{CONFIG_FILE_NAME}: extraOrigins entry for {:?}: regionSet needs \"signing\": \"s3-sigv4a\"",
                kind.service
            ));
        }
        config.origins.splice(0..0, file.extra_origins);
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::origin::recognise;

    #[test]
    fn a_region_set_without_sigv4a_is_refused() {
        let entry = |signing: &str| {
            format!(
                r#"{{"extraOrigins": [{{"service": "s3", "hostLabel": "mrap", "suffixes": ["example.com"],
                   "signing": "{signing}", "regionSet": "*"}}]}}"#
            )
        };
        for signing in ["s3", "default"] {
            let error = HandlerConfig::from_json(entry(signing).as_bytes()).unwrap_err();
            assert!(error.contains("regionSet needs"), "{error}");
        }
        assert!(HandlerConfig::from_json(entry("s3-sigv4a").as_bytes()).is_ok());
    }

    #[test]
    fn an_extra_origin_is_tried_before_the_built_in_kinds() {
        let config = HandlerConfig::from_json(
            br#"{"extraOrigins": [{"service": "execute-api", "hostLabel": "execute-api",
                 "suffixes": ["amazonaws.com"], "signing": "default", "queryAllowList": ["page"]}]}"#,
        )
        .unwrap();
        let target = recognise("a1.execute-api.us-east-1.amazonaws.com", &config.origins).unwrap();
        assert_eq!(
            target.kind.query_allow_list.as_deref(),
            Some(&["page".to_owned()][..])
        );
        assert_eq!(target.kind.signing, Signing::Default);
        assert_eq!(config.origins.len(), OriginKind::built_in().len() + 1);
    }

    #[test]
    fn an_unknown_signing_is_refused() {
        let error = HandlerConfig::from_json(
            br#"{"extraOrigins": [{"service": "s3", "hostLabel": "s3", "suffixes": ["amazonaws.com"], "signing": "v2"}]}"#,
        )
        .unwrap_err();
        assert!(error.contains("unknown variant `v2`"), "{error}");
    }
}
