//! exiftool as the independent reader of the transform's output (Debian: libimage-exiftool-perl;
//! `.ci/run` installs it).

#![allow(dead_code)] // each test file uses some of these

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
        // What the kept PNG chunks hold: colour (gAMA, cHRM, sRGB, iCCP, sBIT), palette and
        // transparency, background, pixel size (pHYs), APNG animation.
        "PNG:Gamma",
        "PNG:WhitePointX",
        "PNG:WhitePointY",
        "PNG:RedX",
        "PNG:RedY",
        "PNG:GreenX",
        "PNG:GreenY",
        "PNG:BlueX",
        "PNG:BlueY",
        "PNG:SRGBRendering",
        "PNG:ICC_Profile",
        "PNG:SignificantBits",
        "PNG:Palette",
        "PNG:Transparency",
        "PNG:BackgroundColor",
        "PNG-pHYs:PixelsPerUnitX",
        "PNG-pHYs:PixelsPerUnitY",
        "PNG-pHYs:PixelUnits",
        "PNG:AnimationFrames",
        "PNG:AnimationPlays",
        // What the kept WebP chunks hold: alpha (ALPH), animation (ANIM, ANMF).
        "RIFF:AlphaPreprocessing",
        "RIFF:AlphaFiltering",
        "RIFF:AlphaCompression",
        "RIFF:BackgroundColor",
        "RIFF:AnimationLoopCount",
        "RIFF:Duration",
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

/// [`read`] for each of `files` in one exiftool run (it starts slowly): file name → tags.
pub fn read_files(files: &[std::path::PathBuf]) -> std::collections::BTreeMap<String, Map<String, Value>> {
    let output = Command::new("exiftool")
        .args(["-j", "-a", "-G1", "-n", "-x", "System:all"])
        .args(files)
        .output();
    let output = output.expect("exiftool must be installed (apt-get install libimage-exiftool-perl)");
    let json: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|error| {
        panic!(
            "exiftool -j on {} files: {error}; {}, stderr: {}",
            files.len(),
            output.status,
            String::from_utf8_lossy(&output.stderr)
        )
    });
    let Value::Array(files) = json else {
        panic!("exiftool: unexpected output {json}");
    };
    files
        .into_iter()
        .filter_map(|file| match file {
            Value::Object(mut tags) => {
                let source = tags.remove("SourceFile")?;
                let name = std::path::Path::new(source.as_str()?).file_name()?;
                Some((name.to_string_lossy().into_owned(), tags))
            }
            _ => None,
        })
        .collect()
}
