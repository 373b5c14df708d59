//! The pure groundwork of the S3 event notification trigger (strip on upload): the event's types,
//! its keys, the function's settings and the decision for one record. No I/O here: the
//! bootstrap reads and writes objects around [`plan()`].
//!
//! - [`s3_event`]: tolerant types for what real emitters send, and [`parse_event`].
//! - [`key`]: an event's object key, decoded as form-encoded.
//! - [`settings`]: the `EDGE_SIGNER_*` environment variables.
//! - [`plan`](mod@plan): skip or process one record, and where its output goes.
//! - [`object`]: one planned record done against S3 (HEAD, GET, strip or copy, conditional PUT).
//! - [`invocation`]: one invocation of the `s3-event` function: every record planned, done and
//!   logged; a failure a retry may help fails the invocation, naming the keys.
//! - [`batch`]: the S3 Batch Operations trigger (backfill): one task of a job, by the same work.

#[cfg(feature = "triggers")]
pub mod batch;
#[cfg(feature = "triggers")]
pub mod invocation;
pub mod key;
#[cfg(all(feature = "s3", feature = "transform"))]
pub mod object;
pub mod plan;
pub mod s3_event;
pub mod settings;

#[cfg(feature = "triggers")]
pub use invocation::{InvocationError, RecordEnding, RecordReport, Summary, handle_event};
pub use key::{KeyError, decode_key};
#[cfg(all(feature = "s3", feature = "transform"))]
pub use object::{OUTPUT_MARKER, ObjectOutcome, SOURCE_ETAG, process};
pub use plan::{Action, Destination, SkipReason, SourceObject, plan, plan_object, too_large};
pub use s3_event::{EventError, EventRecord, S3Event, parse_event};
pub use settings::{Settings, SettingsError};
