//! Handler configuration. Lambda@Edge has no environment variables, so overrides come from a file
//! bundled beside the code (`edge-signer.json`); without one, the mission's defaults apply.

use crate::origin::OriginKind;
use serde::Deserialize;

/// The file name looked for beside the function's code.
pub const CONFIG_FILE_NAME: &str = "edge-signer.json";

/// What the handler forwards and where it signs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HandlerConfig {
    /// Query parameter names kept (exact, case-sensitive); every other parameter is dropped.
    pub query_allow_list: Vec<String>,
    /// Origins the handler signs for; any other origin gets a generated 502.
    pub origins: Vec<OriginKind>,
}

impl Default for HandlerConfig {
    fn default() -> Self {
        Self {
            query_allow_list: vec!["showExif".into()],
            origins: vec![OriginKind::s3_object_lambda()],
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
    /// Reads a configuration file's JSON: `queryAllowList` replaces the allow-list, `extraOrigins`
    /// adds origin kinds after the built-in one.
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
        config.origins.extend(file.extra_origins);
        Ok(config)
    }
}
