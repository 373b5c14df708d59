//! `s3-event`: placeholder, built by its issue.

fn main() {}
