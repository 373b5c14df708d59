//! exiftool as the independent reader of the transform's output (Debian: libimage-exiftool-perl;
//! `.ci/run` installs it).

use serde_json::{Map, Value};
use std::process::Command;

/// `exiftool -j -a -G1 -n` on `bytes`: every tag (duplicates too) as `"Group:Tag": number-or-string`.
pub fn read(bytes: &[u8]) -> Map<String, Value> {
    let file = tempfile::NamedTempFile::new().expect("a temporary file");
    std::fs::write(file.path(), bytes).expect("write a temporary file");
    let output = Command::new("exiftool")
        .args(["-j", "-a", "-G1", "-n", "-x", "System:all"])
        .arg(file.path())
        .output();
    let output = output.expect("exiftool must be installed (apt-get install libimage-exiftool-perl)");
    let json: Value = serde_json::from_slice(&output.stdout).expect("exiftool -j prints JSON");
    match json {
        Value::Array(mut files) if files.len() == 1 => match files.remove(0) {
            Value::Object(mut tags) => {
                tags.remove("SourceFile");
                tags
            }
            other => panic!("exiftool: not an object: {other}"),
        },
        other => panic!("exiftool: unexpected output {other}"),
    }
}

/// Tags exiftool finds that the stripped output may hold: file structure, JFIF, Adobe, ICC, the
/// pixel-format chunks of PNG and WebP, and `IFD0:Orientation`. Everything else (IFD0 and ExifIFD
/// fields, GPS, IFD1, maker notes, XMP, IPTC, Photoshop, comments, PNG text and time…) is
/// identifying and returned.
pub fn identifying(tags: &Map<String, Value>) -> Vec<String> {
    const ALLOWED: &[&str] = &[
        "ExifTool:ExifToolVersion",
        "File:FileType",
        "File:FileTypeExtension",
        "File:MIMEType",
        "File:ExifByteOrder",
        "File:ImageWidth",
        "File:ImageHeight",
        "File:EncodingProcess",
        "File:BitsPerSample",
        "File:ColorComponents",
        "File:YCbCrSubSampling",
        "JFIF:JFIFVersion",
        "JFIF:ResolutionUnit",
        "JFIF:XResolution",
        "JFIF:YResolution",
        // Adobe APP14: the colour transform decoders read (the transform keeps its 12 bytes).
        "Adobe:DCTEncodeVersion",
        "Adobe:APP14Flags0",
        "Adobe:APP14Flags1",
        "Adobe:ColorTransform",
        "IFD0:Orientation",
        "PNG:ImageWidth",
        "PNG:ImageHeight",
        "PNG:BitDepth",
        "PNG:ColorType",
        "PNG:Compression",
        "PNG:Filter",
        "PNG:Interlace",
        "PNG:ProfileName",
        "RIFF:ImageWidth",
        "RIFF:ImageHeight",
        "RIFF:WebP_Flags",
        "RIFF:VP8Version",
        "RIFF:HorizontalScale",
        "RIFF:VerticalScale",
        "Composite:ImageSize",
        "Composite:Megapixels",
    ];
    tags.keys()
        .filter(|key| !ALLOWED.contains(&key.as_str()) && !key.starts_with("ICC"))
        .cloned()
        .collect()
}
