//! Runs the EXIF transform on a file, until the `object-lambda` binary exists.
//!
//! `cargo run --example transform -- samples/images/sample.jpg out.jpg` writes the stripped image;
//! `cargo run --example transform -- samples/images/sample.jpg --json` prints the EXIF as JSON.

use edge_signer::transform::{ExifReport, Outcome, exif_json, strip_metadata};
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [input, output] = args.as_slice() else {
        eprintln!("usage: transform INPUT (OUTPUT | --json)");
        return ExitCode::from(2);
    };
    let bytes = match std::fs::read(input) {
        Ok(bytes) => bytes,
        Err(error) => {
            eprintln!("{input}: {error}");
            return ExitCode::FAILURE;
        }
    };
    let result = if output == "--json" {
        exif_json(&bytes).map(|report| match report {
            ExifReport::Json(json) => println!("{json:#}"),
            ExifReport::NotAnImage => eprintln!("{input}: not an image"),
        })
    } else {
        strip_metadata(&bytes).map(|outcome| {
            let (what, out) = match &outcome {
                Outcome::Stripped { format, bytes } => (format.content_type(), bytes),
                Outcome::NotAnImage => ("unchanged (not an image)", &bytes),
            };
            match std::fs::write(output, out) {
                Ok(()) => eprintln!("{output}: {what}, {} → {} bytes", bytes.len(), out.len()),
                Err(error) => eprintln!("{output}: {error}"),
            }
        })
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("{input}: {error}");
            ExitCode::FAILURE
        }
    }
}
