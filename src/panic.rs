//! A caught panic, as text: the one rule every place that turns a panic into an input's error uses
//! (the bootstraps, a record or task of the triggers, the transform run on one object).

use std::any::Any;

/// What a panic said (`panic!`'s message), when it said it as a string.
pub fn message(payload: &(dyn Any + Send)) -> &str {
    payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(no message)")
}
