//! A job's user arguments (schema 2.0 `job.userArguments`, or `edge-signer backfill`'s flags) and
//! the settings they make with the environment's. A bad or unknown argument is an error naming
//! it: every task of that job is then a `PermanentFailure` saying so, and nothing is read.
//!
//! AWS limits `UserArguments` to 10 string entries, keys of 1–64 characters and values of up to
//! 1,024 (<https://docs.aws.amazon.com/AmazonS3/latest/API/API_control_LambdaInvokeOperation.html>).

use super::{JobSettings, Mode, UserArguments};
use crate::triggers::settings::Settings;
use serde_json::{Map, Value};
use std::fmt;
use std::str::FromStr;
use thiserror::Error;

pub const DEST_BUCKET: &str = "destBucket";
pub const DEST_PREFIX: &str = "destPrefix";
pub const SOURCE_PREFIX: &str = "sourcePrefix";
pub const EXIF_SUFFIX: &str = "exifSuffix";
pub const MODE: &str = "mode";
/// Every argument a job may give, in the order the error lists them.
pub const NAMES: [&str; 5] = [DEST_BUCKET, DEST_PREFIX, SOURCE_PREFIX, EXIF_SUFFIX, MODE];

/// A user argument the job cannot run with.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[error("user argument {argument:?}: {reason}")]
pub struct ArgumentError {
    /// The argument's name, as the job gave it.
    pub argument: String,
    /// What is wrong, and what is expected.
    pub reason: String,
}

impl ArgumentError {
    fn new(argument: &str, reason: impl Into<String>) -> Self {
        Self {
            argument: argument.to_owned(),
            reason: reason.into(),
        }
    }
}

impl FromStr for Mode {
    type Err = ArgumentError;

    /// `strip` or `report`, as written.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "strip" => Ok(Mode::Strip),
            "report" => Ok(Mode::Report),
            other => Err(ArgumentError::new(
                MODE,
                format!("{other:?} is not a mode: expected \"strip\" or \"report\""),
            )),
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Mode::Strip => "strip",
            Mode::Report => "report",
        })
    }
}

impl UserArguments {
    /// Reads schema 2.0's `userArguments` object: each value a string, each name one of
    /// [`NAMES`]. The first bad entry (in the object's order) is the error.
    ///
    /// ```
    /// use edge_signer::triggers::batch::{Mode, UserArguments};
    /// let json = serde_json::json!({"mode": "report", "destPrefix": "clean/"});
    /// let arguments = UserArguments::from_json(json.as_object().unwrap()).unwrap();
    /// assert_eq!(arguments.mode, Some(Mode::Report));
    /// assert_eq!(arguments.dest_prefix.as_deref(), Some("clean/"));
    /// let unknown = serde_json::json!({"destBuckt": "x"});
    /// assert!(UserArguments::from_json(unknown.as_object().unwrap()).unwrap_err().to_string().contains("destBuckt"));
    /// ```
    pub fn from_json(map: &Map<String, Value>) -> Result<Self, ArgumentError> {
        let mut arguments = UserArguments::default();
        for (name, value) in map {
            let Value::String(text) = value else {
                return Err(ArgumentError::new(
                    name,
                    format!("expected a string, got {value}"),
                ));
            };
            let text = text.clone();
            match name.as_str() {
                DEST_BUCKET => arguments.dest_bucket = Some(text),
                DEST_PREFIX => arguments.dest_prefix = Some(text),
                SOURCE_PREFIX => arguments.source_prefix = Some(text),
                EXIF_SUFFIX => arguments.exif_suffix = Some(text),
                MODE => arguments.mode = Some(text.parse()?),
                _ => {
                    return Err(ArgumentError::new(
                        name,
                        format!("unknown; expected one of {}", NAMES.join(", ")),
                    ));
                }
            }
        }
        Ok(arguments)
    }
}

impl JobSettings {
    /// The environment's `settings` with the job's `arguments` over them, checked as the
    /// environment's are (`Settings::from_lookup`): a destination bucket is a bucket name, and in
    /// the source bucket the destination prefix must not hold the source prefix. An `exifSuffix`
    /// of `""` turns the EXIF JSON off for this job.
    ///
    /// ```
    /// use edge_signer::triggers::Settings;
    /// use edge_signer::triggers::batch::{JobSettings, Mode, UserArguments};
    /// let arguments = UserArguments { dest_bucket: Some("clean".into()), mode: Some(Mode::Report), ..Default::default() };
    /// let job = JobSettings::new(Settings::default(), &arguments).unwrap();
    /// assert_eq!((job.settings.dest_bucket.as_deref(), job.mode), (Some("clean"), Mode::Report));
    /// ```
    pub fn new(settings: Settings, arguments: &UserArguments) -> Result<JobSettings, ArgumentError> {
        let mut settings = settings;
        if let Some(bucket) = &arguments.dest_bucket {
            if bucket.is_empty() || bucket.contains('/') {
                return Err(ArgumentError::new(
                    DEST_BUCKET,
                    format!("{bucket:?} is not a bucket name"),
                ));
            }
            settings.dest_bucket = Some(bucket.clone());
        }
        if let Some(prefix) = &arguments.dest_prefix {
            settings.dest_prefix = prefix.clone();
        }
        if let Some(prefix) = &arguments.source_prefix {
            settings.source_prefix = prefix.clone();
        }
        if let Some(suffix) = &arguments.exif_suffix {
            settings.exif_suffix = (!suffix.is_empty()).then(|| suffix.clone());
        }
        // As `Settings::from_lookup`: every source key would look like an output.
        if settings.outputs_hold_sources(settings.dest_bucket.is_none()) {
            let named = if arguments.dest_prefix.is_some() || arguments.source_prefix.is_none() {
                DEST_PREFIX
            } else {
                SOURCE_PREFIX
            };
            return Err(ArgumentError::new(
                named,
                format!(
                    "destination prefix {:?} holds source prefix {:?} in the source bucket: every object would look like an output",
                    settings.dest_prefix, settings.source_prefix
                ),
            ));
        }
        Ok(JobSettings {
            settings,
            mode: arguments.mode.unwrap_or_default(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(value: Value) -> Result<UserArguments, ArgumentError> {
        UserArguments::from_json(value.as_object().unwrap())
    }

    #[test]
    fn every_argument_is_read() {
        let arguments = parse(json!({
            "destBucket": "clean", "destPrefix": "out/", "sourcePrefix": "in/",
            "exifSuffix": ".exif.json", "mode": "strip"
        }))
        .unwrap();
        assert_eq!(
            arguments,
            UserArguments {
                dest_bucket: Some("clean".into()),
                dest_prefix: Some("out/".into()),
                source_prefix: Some("in/".into()),
                exif_suffix: Some(".exif.json".into()),
                mode: Some(Mode::Strip),
            }
        );
        assert_eq!(parse(json!({})), Ok(UserArguments::default()));
    }

    #[test]
    fn bad_and_unknown_arguments_are_named() {
        let cases = [
            (json!({"mode": "Report"}), "mode"),
            (json!({"mode": "dry-run"}), "mode"),
            (json!({"destBuckt": "x"}), "destBuckt"),
            (json!({"DestBucket": "x"}), "DestBucket"),
            (json!({"destPrefix": 3}), "destPrefix"),
            (json!({"exifSuffix": null}), "exifSuffix"),
        ];
        for (value, argument) in cases {
            let error = parse(value.clone()).unwrap_err();
            assert_eq!(error.argument, argument, "{value}");
            assert!(error.to_string().contains(&format!("{argument:?}")), "{error}");
        }
    }

    #[test]
    fn modes_read_and_print_the_same() {
        for mode in [Mode::Strip, Mode::Report] {
            assert_eq!(mode.to_string().parse::<Mode>(), Ok(mode));
        }
        assert_eq!(Mode::default(), Mode::Strip);
    }

    #[test]
    fn arguments_override_the_environment() {
        let environment = Settings {
            source_prefix: "in/".into(),
            dest_bucket: Some("public".into()),
            dest_prefix: "out/".into(),
            exif_suffix: Some(".json".into()),
            max_object_bytes: Some(10),
        };
        let job = JobSettings::new(environment.clone(), &UserArguments::default()).unwrap();
        assert_eq!(
            job,
            JobSettings {
                settings: environment.clone(),
                mode: Mode::Strip
            }
        );
        let arguments = UserArguments {
            dest_bucket: Some("other".into()),
            dest_prefix: Some("".into()),
            source_prefix: Some("photos/".into()),
            exif_suffix: Some("".into()),
            mode: Some(Mode::Report),
        };
        let job = JobSettings::new(environment, &arguments).unwrap();
        assert_eq!(
            job.settings,
            Settings {
                source_prefix: "photos/".into(),
                dest_bucket: Some("other".into()),
                dest_prefix: "".into(),
                exif_suffix: None,
                max_object_bytes: Some(10),
            }
        );
        assert_eq!(job.mode, Mode::Report);
    }

    #[test]
    fn overrides_are_checked_as_the_environment_is() {
        let bad_bucket = UserArguments {
            dest_bucket: Some("a/b".into()),
            ..UserArguments::default()
        };
        let error = JobSettings::new(Settings::default(), &bad_bucket).unwrap_err();
        assert_eq!(error.argument, DEST_BUCKET);

        // In the source bucket, `in/` into `` would take every source key for an output.
        let into_root = UserArguments {
            source_prefix: Some("in/".into()),
            ..UserArguments::default()
        };
        let error = JobSettings::new(Settings::default(), &into_root).unwrap_err();
        assert_eq!(error.argument, SOURCE_PREFIX);
        let error = JobSettings::new(
            Settings::default(),
            &UserArguments {
                dest_prefix: Some("".into()),
                ..into_root.clone()
            },
        )
        .unwrap_err();
        assert_eq!(error.argument, DEST_PREFIX);
        // In place, or into another bucket, it is fine.
        let in_place = UserArguments {
            dest_prefix: Some("in/".into()),
            ..into_root.clone()
        };
        assert!(JobSettings::new(Settings::default(), &in_place).is_ok());
        let elsewhere = UserArguments {
            dest_bucket: Some("clean".into()),
            ..into_root
        };
        assert!(JobSettings::new(Settings::default(), &elsewhere).is_ok());
    }
}
