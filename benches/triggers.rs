//! The per-object work of the upload and backfill triggers (`edge_signer::triggers::process`:
//! HEAD the destination, GET the source, strip, conditional PUT) against s3s-fs on loopback, on
//! realistic photos (6 to 12 megapixel JPEGs of 2 to 5 MB, with EXIF and GPS), next to the
//! Python function a user writes by hand (peers/python-pillow: boto3, Pillow open and re-save),
//! against the same server and objects in the same run. Figures, not a test:
//!
//! - images/s and MB/s for one instance (concurrency 1, a Lambda instance) and for N requests in
//!   flight (a backfill process), with our CPU time per object;
//! - objects per CPU-second, ours and the peer's (each process's own CPU, the server's excluded),
//!   and their ratio; whether each kept the pixels;
//! - the peak RSS (VmHWM) of a fresh process doing one 12-megapixel JPEG, ours and the peer's.
//!
//! ```text
//! cargo bench --bench triggers                # s3s-fs from EDGE_SIGNER_S3S_FS or target/tools
//! EDGE_SIGNER_BENCH_OBJECTS=60 cargo bench --bench triggers -- --concurrency 8
//! ```
//!
//! The peer's venv is made under `target/python-pillow-peer/` with the pinned
//! `peers/python-pillow/requirements.txt` on first use (pip, PyPI).

#[path = "../tests/support/images.rs"]
mod images;
#[allow(dead_code)] // `dir` is kept for its Drop
#[path = "../tests/support/s3s.rs"]
mod s3s;

use aws_credential_types::Credentials;
use bytes::Bytes;
use edge_signer::s3::{Client, Config, ContentHeaders, ObjectRef, PutObject, RequestContext, Transport};
use edge_signer::transform::{ExifReport, exif_json};
use edge_signer::triggers::{Destination, ObjectOutcome, Settings, SourceObject, process};
use image::{ImageEncoder, RgbImage};
use std::cell::Cell;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const SOURCE: &str = "photos";
const DEST: &str = "stripped";
const MB: f64 = 1_000_000.0;
const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--rss-child") {
        return rss_child(&args[1..]);
    }
    let concurrency = flag(&args, "--concurrency").unwrap_or(4);
    let objects = std::env::var("EDGE_SIGNER_BENCH_OBJECTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(36_usize);
    machine();

    let Some(server) = s3s::S3sFs::start(&[SOURCE, DEST]) else {
        eprintln!("s3s-fs is needed: scripts/s3s-fs, or set EDGE_SIGNER_S3S_FS");
        std::process::exit(2);
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a Tokio runtime");
    let client = client(&server.endpoint);

    // The photos: three sizes, distinct pictures, each uploaded under several keys.
    let started = Instant::now();
    let sizes = [(3000, 2000), (3264, 2448), (4000, 3000)];
    let photos: Vec<Vec<u8>> = (0..6)
        .map(|i| {
            let (w, h) = sizes[i % sizes.len()];
            photo(w, h, i as u32 + 1)
        })
        .collect();
    let big = photo(4000, 3000, 99);
    let mut uploads = Vec::new();
    for i in 0..objects {
        let photo = &photos[i % photos.len()];
        uploads.push((format!("camera/{i:04} IMG {}.jpg", i % photos.len()), photo));
    }
    let uploaded: Vec<(String, String, usize)> = runtime.block_on(async {
        let mut done = Vec::new();
        for (key, bytes) in &uploads {
            let etag = put(&client, key, Bytes::from((*bytes).clone())).await;
            done.push((key.clone(), etag, bytes.len()));
        }
        put(&client, "big/12mp.jpg", Bytes::from(big.clone())).await;
        put(&client, "small/warm-up.jpg", Bytes::from(images::jpeg(1))).await;
        done
    });
    let total_bytes: usize = uploaded.iter().map(|u| u.2).sum();
    println!(
        "objects: {objects} JPEGs, {:.1} MB in all ({:.2} to {:.2} MB; 6, 8 and 12 MP, EXIF with GPS), 12 MP object {:.2} MB; made and uploaded in {:.1} s",
        total_bytes as f64 / MB,
        photos.iter().map(Vec::len).min().unwrap_or(0) as f64 / MB,
        photos.iter().map(Vec::len).max().unwrap_or(0) as f64 / MB,
        big.len() as f64 / MB,
        started.elapsed().as_secs_f64()
    );

    // Ours: one warm-up object (the connection, the signing key), then every object.
    let mut ours = Vec::new();
    for c in [1, concurrency] {
        let run = runtime.block_on(run_ours(&client, &uploaded, c));
        println!(
            "ours, concurrency {c}: {:.1} images/s, {:.1} MB/s, {:.2} ms CPU per object ({:.2} in the kernel; {:.1} objects per CPU-second), wall {:.2} s",
            run.objects as f64 / run.wall,
            total_bytes as f64 / MB / run.wall,
            run.cpu / run.objects as f64 * 1e3,
            run.system / run.objects as f64 * 1e3,
            run.objects as f64 / run.cpu,
            run.wall
        );
        ours.push((c, run));
    }

    let (strip, sha256, crc32) = in_process(&uploads.iter().map(|u| u.1).collect::<Vec<_>>());
    println!(
        "of which in process, per object: the strip {strip:.2} ms, the PUT body's SHA-256 (payload signature, http://) {sha256:.2} ms; its CRC32 (x-amz-checksum-crc32, https://) instead {crc32:.3} ms"
    );
    let (sha256_4mb, crc32_4mb) = hashes_of_4_mb();
    println!(
        "one 4 MB body, CPU: SHA-256 {sha256_4mb:.3} ms, CRC32 {crc32_4mb:.3} ms (thread CPU clock, means of 100 and 1,000)"
    );
    let https = ours[0].1.cpu / ours[0].1.objects as f64 * 1e3 - sha256 + crc32;
    println!(
        "projected, a PUT over https:// (UNSIGNED-PAYLOAD + CRC32; TLS left out, on both sides): {https:.2} ms CPU per object, {:.1} objects per CPU-second",
        1e3 / https
    );

    // The Pillow peer, the same objects, one instance.
    let python = python_venv();
    let keys: Vec<&str> = uploaded.iter().map(|u| u.0.as_str()).collect();
    let peer = driver(&python, &server.endpoint, "pillow/", "small/warm-up.jpg", &keys);
    let peer_rate = peer.objects as f64 / peer.cpu;
    println!(
        "pillow peer, one instance: {:.1} images/s, {:.1} MB/s, {:.1} ms CPU per object ({:.2} objects per CPU-second)",
        peer.objects as f64 / peer.wall,
        total_bytes as f64 / MB / peer.wall,
        peer.cpu / peer.objects as f64 * 1e3,
        peer_rate
    );
    let ours_rate = ours[0].1.objects as f64 / ours[0].1.cpu;
    println!(
        "objects per CPU-second, concurrency 1: ours {ours_rate:.1}, pillow {peer_rate:.2}: {:.0}×",
        ours_rate / peer_rate
    );

    // What each wrote: EXIF gone, and the pixels (decoded with the image crate).
    runtime.block_on(judge(&client, &uploaded[0].0));

    // Peak RSS of a fresh process doing one 12 MP JPEG, after a small warm-up object.
    let exe = std::env::current_exe().expect("this bench's path");
    let output = Command::new(exe)
        .args([
            "--rss-child",
            &server.endpoint,
            "small/warm-up.jpg",
            "big/12mp.jpg",
        ])
        .output()
        .expect("run the RSS child");
    let line = String::from_utf8_lossy(&output.stdout);
    let rss: Vec<f64> = line.split_whitespace().filter_map(|v| v.parse().ok()).collect();
    if let [baseline, peak] = rss[..] {
        println!(
            "ours, peak RSS for one 12 MP JPEG ({:.2} MB): {:.1} MB (VmHWM; {:.1} MB before it, so {:.1} MB for the object: {:.2}× its size)",
            big.len() as f64 / MB,
            peak / 1e3,
            baseline / 1e3,
            (peak - baseline) / 1e3,
            (peak - baseline) * 1e3 / big.len() as f64
        );
    } else {
        println!(
            "RSS child failed: {line} {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let peer_big = driver(
        &python,
        &server.endpoint,
        "pillow-rss/",
        "small/warm-up.jpg",
        &["big/12mp.jpg"],
    );
    println!(
        "pillow peer, peak RSS for one 12 MP JPEG: {:.1} MB (ru_maxrss; {:.1} MB after the init and a small warm-up object)",
        peer_big.maxrss_kb / 1e3,
        peer_big.warm_maxrss_kb / 1e3
    );
    drop(server);
}

fn flag(args: &[String], name: &str) -> Option<usize> {
    let at = args.iter().position(|a| a == name)?;
    args.get(at + 1)?.parse().ok()
}

fn machine() {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .map(|l| l.trim_start_matches([' ', '\t', ':']))
        .unwrap_or("unknown");
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    println!("machine: {model}, {cpus} CPUs, Linux {}", kernel.trim());
}

fn client(endpoint: &str) -> Client {
    let mut config = Config::new("us-east-1");
    config.endpoint = Some(endpoint.parse().expect("the endpoint"));
    let credentials = Credentials::new(s3s::ACCESS_KEY, s3s::SECRET_KEY, None, None, "bench");
    Client::new(Transport::new(), config, credentials)
}

fn context() -> RequestContext {
    RequestContext::new(Instant::now() + Duration::from_secs(120))
}

async fn put(client: &Client, key: &str, body: Bytes) -> String {
    let put = PutObject {
        bucket: SOURCE,
        key,
        body,
        content: ContentHeaders {
            content_type: Some("image/jpeg".into()),
            ..ContentHeaders::default()
        },
        metadata: Default::default(),
        condition: None,
    };
    let output = client.put_object(&put, &context()).await.expect("upload");
    output.etag.unwrap_or_default()
}

/// One run of a set of objects: how many, wall and CPU seconds.
struct Run {
    objects: usize,
    wall: f64,
    cpu: f64,
    /// The part of `cpu` spent in the kernel.
    system: f64,
}

/// This process's CPU time (user + system), in seconds.
fn cpu_seconds() -> f64 {
    let (user, system) = cpu_split();
    user + system
}

/// This process's user and system CPU time, in seconds.
fn cpu_split() -> (f64, f64) {
    use nix::sys::resource::{UsageWho, getrusage};
    use nix::sys::time::TimeValLike;
    let usage = getrusage(UsageWho::RUSAGE_SELF).expect("getrusage(RUSAGE_SELF)");
    let seconds = |t: nix::sys::time::TimeVal| t.num_microseconds() as f64 / 1e6;
    (seconds(usage.user_time()), seconds(usage.system_time()))
}

/// Where our CPU goes, in process: the strip, the SHA-256 of the PUT body (the payload
/// signature over http://) and its CRC32 (the checksum over https://), per object of `photos`,
/// in ms.
fn in_process(photos: &[&Vec<u8>]) -> (f64, f64, f64) {
    use sha2::Digest as _;
    let per_object = |f: &dyn Fn(&[u8])| {
        let cpu = cpu_seconds();
        for photo in photos {
            f(photo);
        }
        (cpu_seconds() - cpu) / photos.len() as f64 * 1e3
    };
    let strip = per_object(&|photo| {
        assert!(matches!(
            edge_signer::transform::strip_metadata(photo),
            Ok(edge_signer::transform::Outcome::Stripped { .. })
        ));
    });
    let sha256 = per_object(&|photo| {
        std::hint::black_box(sha2::Sha256::digest(photo));
    });
    let crc32 = per_object(&|photo| {
        std::hint::black_box(edge_signer::s3::crc32_checksum(photo));
    });
    (strip, sha256, crc32)
}

/// The CPU of a SHA-256 and of a CRC32 (as the S3 client computes them) of one 4 MB body, in
/// ms: the mean of 100 and 1,000 rounds on this thread's CPU clock (nanoseconds; rusage's
/// resolution is too coarse for a CRC32).
fn hashes_of_4_mb() -> (f64, f64) {
    use sha2::Digest as _;
    let body: Vec<u8> = (0..4_000_000_u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    let thread_cpu = || {
        use nix::sys::time::TimeValLike;
        let t = nix::time::clock_gettime(nix::time::ClockId::CLOCK_THREAD_CPUTIME_ID)
            .expect("clock_gettime(CLOCK_THREAD_CPUTIME_ID)");
        t.num_nanoseconds() as f64 / 1e9
    };
    let mean = |rounds: u32, f: &dyn Fn(&[u8])| {
        let cpu = thread_cpu();
        for _ in 0..rounds {
            f(std::hint::black_box(&body));
        }
        (thread_cpu() - cpu) / f64::from(rounds) * 1e3
    };
    let sha256 = mean(100, &|b| {
        std::hint::black_box(sha2::Sha256::digest(b));
    });
    let crc32 = mean(1_000, &|b| {
        std::hint::black_box(edge_signer::s3::crc32_checksum(b));
    });
    (sha256, crc32)
}

async fn one(client: &Client, key: &str, etag: Option<&str>, prefix: &str) -> ObjectOutcome {
    let source = SourceObject {
        bucket: SOURCE.into(),
        key: key.into(),
        version_id: None,
        etag: etag.map(str::to_owned),
    };
    let destination = Destination {
        bucket: DEST.into(),
        key: format!("{prefix}{key}"),
    };
    process(client, &source, &destination, &Settings::default(), &context()).await
}

async fn run_ours(client: &Client, objects: &[(String, String, usize)], concurrency: usize) -> Run {
    let prefix = format!("ours-c{concurrency}/");
    let warm = one(client, "small/warm-up.jpg", None, &prefix).await;
    assert!(matches!(warm, ObjectOutcome::Stripped { .. }), "{warm}");
    let next = &Cell::new(0);
    let prefix = &prefix;
    let (wall, (user, system)) = (Instant::now(), cpu_split());
    let worker = move || async move {
        loop {
            let i = next.get();
            let Some((key, etag, _)) = objects.get(i) else {
                return;
            };
            next.set(i + 1);
            let outcome = one(client, key, Some(etag), prefix).await;
            assert!(
                matches!(outcome, ObjectOutcome::Stripped { .. }),
                "{key}: {outcome}"
            );
        }
    };
    futures_util::future::join_all((0..concurrency).map(|_| worker())).await;
    let (user_after, system_after) = cpu_split();
    Run {
        objects: objects.len(),
        wall: wall.elapsed().as_secs_f64(),
        cpu: user_after - user + system_after - system,
        system: system_after - system,
    }
}

/// The source, our output and the peer's for `key`: EXIF left, pixels changed.
async fn judge(client: &Client, key: &str) {
    let get = |bucket: &'static str, key: String| async move {
        let object = ObjectRef::new(bucket, &key);
        client
            .get_object(&object, u64::MAX, &context())
            .await
            .expect("GET")
            .body
    };
    let source = get(SOURCE, key.to_owned()).await;
    let pixels = |bytes: &[u8]| image::load_from_memory(bytes).expect("decode").to_rgb8();
    let original = pixels(&source);
    for (name, prefix) in [("ours", "ours-c1/"), ("pillow", "pillow/")] {
        let output = get(DEST, format!("{prefix}{key}")).await;
        let Ok(ExifReport::Json(json)) = exif_json(&output) else {
            panic!("{name}: not a JPEG")
        };
        let gps = json["gps"].as_object().map_or(0, |g| g.len());
        let make = json["image"].get("Make").is_some();
        let decoded = pixels(&output);
        let (differing, max) = original
            .as_raw()
            .iter()
            .zip(decoded.as_raw())
            .fold((0_usize, 0_u8), |(n, max), (a, b)| {
                (n + usize::from(a != b), max.max(a.abs_diff(*b)))
            });
        println!(
            "{name}: {:.2} MB → {:.2} MB, GPS fields left {gps}, Make left {make}, pixels {} ({differing} of {} samples differ, at most by {max})",
            source.len() as f64 / MB,
            output.len() as f64 / MB,
            if differing == 0 { "identical" } else { "changed" },
            original.as_raw().len()
        );
    }
}

/// The child that measures the peak RSS: a small object first (the runtime, the client, the
/// connection), then the 12 MP one; prints VmHWM before and after, in kB.
fn rss_child(args: &[String]) {
    let [endpoint, warm, big] = args else {
        panic!("--rss-child ENDPOINT WARM_KEY BIG_KEY")
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a Tokio runtime");
    let client = client(endpoint);
    runtime.block_on(async {
        let warm = one(&client, warm, None, "rss/").await;
        assert!(matches!(warm, ObjectOutcome::Stripped { .. }), "{warm}");
        let before = vm_hwm_kb();
        let big = one(&client, big, None, "rss/").await;
        assert!(matches!(big, ObjectOutcome::Stripped { .. }), "{big}");
        println!("{before} {}", vm_hwm_kb());
    });
}

fn vm_hwm_kb() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// A camera's photo: smooth shading with sensor-like noise (it compresses like a photo), and an
/// EXIF block with the make, model, date and a GPS position before the frame.
fn photo(width: u32, height: u32, seed: u32) -> Vec<u8> {
    let mut noise = 0x2545_F491_u32 ^ seed.wrapping_mul(0x9E37_79B9);
    let picture = RgbImage::from_fn(width, height, |x, y| {
        noise ^= noise << 13;
        noise ^= noise >> 17;
        noise ^= noise << 5;
        let grain = (noise % 16) as u8;
        let shade = |v: u32, scale: u32| ((v * 255 / scale) as u8).wrapping_add(grain);
        image::Rgb([
            shade(x, width),
            shade(y, height) ^ seed as u8,
            shade(x + y, width + height),
        ])
    });
    let mut jpeg = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 90)
        .write_image(&picture, width, height, image::ExtendedColorType::Rgb8)
        .expect("encode a JPEG");
    let exif = exif_block();
    let mut app1 = b"Exif\0\0".to_vec();
    app1.extend_from_slice(&exif);
    let frame = images::find(&jpeg, b"\xFF\xDB").expect("tables");
    let mut out = jpeg[..frame].to_vec();
    out.extend(images::jpeg_segment(0xE1, &app1));
    out.extend(images::jpeg_segment(
        0xE1,
        b"http://ns.adobe.com/xap/1.0/\0<x:xmpmeta><dc:creator>Jane Doe</dc:creator></x:xmpmeta>",
    ));
    out.extend_from_slice(&jpeg[frame..]);
    out
}

/// IFD0 (Make, Model, DateTime, the GPS pointer) and a GPS IFD (N 48°51'29.64", E 2°17'40.2").
fn exif_block() -> Vec<u8> {
    const ASCII: u16 = 2;
    const RATIONAL: u16 = 5;
    let at = images::tiff_values_at(4);
    let mut values = Vec::new();
    let offset = |values: &mut Vec<u8>, bytes: &[u8]| {
        let here = at + values.len() as u32;
        values.extend_from_slice(bytes);
        here
    };
    let make = offset(&mut values, b"ExampleCam\0");
    let model = offset(&mut values, b"X-100 Pro\0\0");
    let date = offset(&mut values, b"2026:07:14 12:34:56\0\0");
    let gps_at = at + values.len() as u32;
    let gps_values_at = gps_at + 2 + 4 * 12 + 4;
    let mut gps = 4_u16.to_be_bytes().to_vec();
    let entry = |gps: &mut Vec<u8>, tag: u16, kind: u16, count: u32, value: u32| {
        gps.extend_from_slice(&tag.to_be_bytes());
        gps.extend_from_slice(&kind.to_be_bytes());
        gps.extend_from_slice(&count.to_be_bytes());
        gps.extend_from_slice(&value.to_be_bytes());
    };
    entry(&mut gps, 0x0001, ASCII, 2, u32::from_be_bytes(*b"N\0\0\0"));
    entry(&mut gps, 0x0002, RATIONAL, 3, gps_values_at);
    entry(&mut gps, 0x0003, ASCII, 2, u32::from_be_bytes(*b"E\0\0\0"));
    entry(&mut gps, 0x0004, RATIONAL, 3, gps_values_at + 24);
    gps.extend_from_slice(&[0; 4]);
    for (num, denom) in [(48_u32, 1_u32), (51, 1), (2964, 100), (2, 1), (17, 1), (402, 10)] {
        gps.extend_from_slice(&num.to_be_bytes());
        gps.extend_from_slice(&denom.to_be_bytes());
    }
    values.extend_from_slice(&gps);
    images::tiff(
        &[
            (0x010F, ASCII, 11, make),
            (0x0110, ASCII, 11, model),
            (0x0132, ASCII, 20, date),
            (0x8825, 4, 1, gps_at),
        ],
        &values,
    )
}

/// The peer's venv under target/, made with the pinned requirements on first use.
fn python_venv() -> PathBuf {
    let dir = Path::new(ROOT).join("target/python-pillow-peer/venv");
    let python = dir.join("bin/python");
    let requirements = Path::new(ROOT).join("peers/python-pillow/requirements.txt");
    if !python.is_file() {
        let ok = Command::new("python3")
            .args(["-m", "venv"])
            .arg(&dir)
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "python3 -m venv {}", dir.display());
    }
    let ok = Command::new(&python)
        .args(["-m", "pip", "install", "-q", "--disable-pip-version-check", "-r"])
        .arg(&requirements)
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "pip install -r {}", requirements.display());
    python
}

/// What the peer's driver printed.
struct PeerRun {
    objects: usize,
    wall: f64,
    cpu: f64,
    warm_maxrss_kb: f64,
    maxrss_kb: f64,
}

fn driver(python: &Path, endpoint: &str, prefix: &str, warm: &str, keys: &[&str]) -> PeerRun {
    let output = Command::new(python)
        .arg(Path::new(ROOT).join("peers/python-pillow/driver.py"))
        .args(["--warm-up", warm, SOURCE])
        .args(keys)
        .env("AWS_ENDPOINT_URL_S3", endpoint)
        .env("AWS_ACCESS_KEY_ID", s3s::ACCESS_KEY)
        .env("AWS_SECRET_ACCESS_KEY", s3s::SECRET_KEY)
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("DEST_BUCKET", DEST)
        .env("DEST_PREFIX", prefix)
        .output()
        .expect("run the Pillow peer");
    assert!(
        output.status.success(),
        "the Pillow peer failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).expect("the driver's JSON");
    let number = |name: &str| json[name].as_f64().unwrap_or(f64::NAN);
    PeerRun {
        objects: number("objects") as usize,
        wall: number("wall_s"),
        cpu: number("cpu_s"),
        warm_maxrss_kb: number("warm_maxrss_kb"),
        maxrss_kb: number("maxrss_kb"),
    }
}
