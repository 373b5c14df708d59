//! `s3-batch`: placeholder, built by its issue.

fn main() {}
