//! The S3 Object Lambda event: parsing it, and what it asks for.

use super::Error;
use crate::transform::show_exif;
pub use aws_lambda_events::s3::object_lambda::S3ObjectLambdaEvent;

/// Parses an S3 Object Lambda event; the error names the JSON path at fault.
///
/// ```
/// use edge_signer::object_lambda::parse_event;
/// let error = parse_event(br#"{"xAmzRequestId": 7}"#).unwrap_err();
/// assert_eq!(error.kind(), "MalformedEvent");
/// assert!(error.to_string().contains("xAmzRequestId"));
/// ```
pub fn parse_event(json: &[u8]) -> Result<S3ObjectLambdaEvent, Error> {
    let mut deserializer = serde_json::Deserializer::from_slice(json);
    let event = serde_path_to_error::deserialize(&mut deserializer)
        .map_err(|e| Error::MalformedEvent(format!("at {}: {}", e.path(), e.inner())))?;
    deserializer
        .end()
        .map_err(|e| Error::MalformedEvent(e.to_string()))?;
    Ok(event)
}

/// The operation an event asks the function to answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Operation<'a> {
    /// `GetObject`: answered with `WriteGetObjectResponse`.
    Get {
        input_s3_url: &'a str,
        route: &'a str,
        token: &'a str,
    },
    /// `HeadObject`: answered with the function's result.
    Head { input_s3_url: &'a str },
}

pub(crate) fn operation(event: &S3ObjectLambdaEvent) -> Result<Operation<'_>, Error> {
    match (&event.get_object_context, &event.head_object_context) {
        (Some(get), None) => Ok(Operation::Get {
            input_s3_url: &get.input_s3_url,
            route: &get.output_route,
            token: &get.output_token,
        }),
        (None, Some(head)) => Ok(Operation::Head {
            input_s3_url: &head.input_s3_url,
        }),
        (Some(_), Some(_)) => Err(Error::UnsupportedEvent(
            "both getObjectContext and headObjectContext",
        )),
        (None, None) if event.list_objects_context.is_some() || event.list_objects_v2_context.is_some() => {
            Err(Error::UnsupportedEvent(
                "ListObjects is not transformed: configure the access point to call the function for GetObject (and HeadObject) only",
            ))
        }
        (None, None) => Err(Error::UnsupportedEvent(
            "neither getObjectContext nor headObjectContext",
        )),
    }
}

/// Whether the caller asked for the EXIF report: `showExif=true` in the query of `userRequest.url`
/// (see [`crate::transform::show_exif`]).
pub fn wants_exif(event: &S3ObjectLambdaEvent) -> bool {
    let url = event.user_request.url.as_str();
    let url = url.split_once('#').map_or(url, |(before, _)| before);
    url.split_once('?').is_some_and(|(_, query)| show_exif(query))
}
