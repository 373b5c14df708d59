//! Test-suite runner (in progress).
