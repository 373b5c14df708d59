//! Report mode (`mode=report` of the S3 Batch Operations trigger) on a 4 MB JPEG, before and after
//! it read by byte ranges: wall time per report and bytes S3 served, against s3s-fs on loopback
//! through a counting proxy.
//!
//! - before: what report mode did until then: one GetObject of the whole object, then
//!   `summarize` of it (which strips a copy to count the metadata);
//! - after: `run_task` in report mode, the task code itself (a 64 KiB ranged GET, then
//!   `summarize_prefix`).
//!
//! Run: `EDGE_SIGNER_S3S_FS=$(scripts/s3s-fs) cargo bench --bench report_mode` (results in
//! `bench-results/`).

#[path = "../tests/support/counting_proxy.rs"]
mod counting_proxy;
#[path = "../tests/support/s3s.rs"]
#[allow(dead_code)] // the served directory
mod s3s;

use aws_credential_types::Credentials;
use bytes::Bytes;
use edge_signer::s3::{Client, Config, ObjectRef, PutObject, RequestContext, Transport};
use edge_signer::transform::summary::{FIRST_READ, Step, summarize, summarize_prefix};
use edge_signer::triggers::Settings;
use edge_signer::triggers::batch::{JobSettings, Mode, ResultCode, Task, run_task};
use std::hint::black_box;
use std::time::{Duration, Instant};

const BUCKET: &str = "photos";
const KEY: &str = "in/large photo.jpg";
const ROUNDS: usize = 40;
const SAMPLE: &[u8] = include_bytes!("../samples/images/sample.jpg");

/// A 4 MB camera-like JPEG: a noise picture (which compresses badly) at quality 95, behind the
/// sample's JFIF and EXIF segments.
fn photo() -> Vec<u8> {
    let mut state = 0x2545_F491_4F6C_DD1D_u64;
    let picture = image::RgbImage::from_fn(1480, 1120, |_, _| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let [r, g, b, ..] = state.to_le_bytes();
        image::Rgb([r, g, b])
    });
    let mut encoded = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut encoded, 95)
        .encode_image(&picture)
        .unwrap();
    let exif_end = 22 + usize::from(u16::from_be_bytes([SAMPLE[22], SAMPLE[23]]));
    let mut out = SAMPLE[..exif_end].to_vec();
    out.extend_from_slice(&encoded[20..]);
    out
}

fn client(endpoint: &str) -> Client {
    let mut config = Config::new("us-east-1");
    config.endpoint = Some(endpoint.parse().unwrap());
    let credentials = Credentials::new(s3s::ACCESS_KEY, s3s::SECRET_KEY, None, None, "bench");
    Client::new(Transport::new(), config, credentials)
}

fn context() -> RequestContext {
    RequestContext::new(Instant::now() + Duration::from_secs(30))
}

/// Median and fastest of `times`.
fn median_and_min(mut times: Vec<Duration>) -> (Duration, Duration) {
    times.sort();
    (times[times.len() / 2], times[0])
}

fn main() {
    let server = s3s::S3sFs::start(&[BUCKET]).expect("s3s-fs: set EDGE_SIGNER_S3S_FS (scripts/s3s-fs)");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let photo = photo();
    let (endpoint, counts) = counting_proxy::start(&server.endpoint);
    let client = runtime.block_on(async { client(&endpoint) });
    let put = PutObject {
        bucket: BUCKET,
        key: KEY,
        body: Bytes::from(photo.clone()),
        ..PutObject::default()
    };
    runtime.block_on(client.put_object(&put, &context())).unwrap();

    let before = || async {
        let object = client
            .get_object(&ObjectRef::new(BUCKET, KEY), u64::MAX, &context())
            .await
            .unwrap();
        black_box(summarize(&object.body).unwrap());
    };
    let task = Task {
        task_id: "t".into(),
        bucket: BUCKET.into(),
        key: "in/large+photo.jpg".into(),
        version_id: None,
    };
    let job = JobSettings {
        settings: Settings {
            source_prefix: "in/".into(),
            dest_prefix: "out/".into(),
            ..Settings::default()
        },
        mode: Mode::Report,
    };
    let after = || async {
        let result = run_task(&client, &task, &job, &context()).await;
        assert_eq!(result.code, ResultCode::Succeeded, "{}", result.result_string);
        black_box(result);
    };

    println!(
        "report mode on a {}-byte JPEG, {ROUNDS} rounds each, alternating",
        photo.len()
    );
    let (mut times_before, mut times_after) = (Vec::new(), Vec::new());
    let (mut bytes_before, mut bytes_after) = (0, 0);
    let (mut gets_before, mut gets_after) = (0, 0);
    runtime.block_on(async {
        // Warm up the connection pool and the caches.
        before().await;
        after().await;
        for _ in 0..ROUNDS {
            let (at, gets, start) = (counts.served(), counts.gets(), Instant::now());
            before().await;
            times_before.push(start.elapsed());
            bytes_before += counts.served() - at;
            gets_before += counts.gets() - gets;
            let (at, gets, start) = (counts.served(), counts.gets(), Instant::now());
            after().await;
            times_after.push(start.elapsed());
            bytes_after += counts.served() - at;
            gets_after += counts.gets() - gets;
        }
    });
    for (name, times, bytes, gets) in [
        (
            "before (whole GET + summarize)",
            times_before,
            bytes_before,
            gets_before,
        ),
        (
            "after (ranged GET + summarize_prefix)",
            times_after,
            bytes_after,
            gets_after,
        ),
    ] {
        let (median, min) = median_and_min(times);
        println!(
            "{name}: median {:.2} ms, fastest {:.2} ms, {} bytes served and {:.1} GETs per report",
            median.as_secs_f64() * 1e3,
            min.as_secs_f64() * 1e3,
            bytes / ROUNDS as u64,
            gets as f64 / ROUNDS as f64
        );
    }
    let result = runtime.block_on(run_task(&client, &task, &job, &context()));
    println!("resultString: {}", result.result_string);

    // The summaries alone, in process (no I/O): the CPU time a report costs.
    let first = &photo[..FIRST_READ as usize];
    let size = photo.len() as u64;
    for (name, run) in [
        (
            "summarize(whole object)",
            &(|| drop(black_box(summarize(&photo)))) as &dyn Fn(),
        ),
        ("summarize_prefix(first 64 KiB)", &|| {
            assert!(matches!(
                black_box(summarize_prefix(first, size)),
                Step::Done(Ok(_))
            ))
        }),
    ] {
        let times = (0..200)
            .map(|_| {
                let start = Instant::now();
                run();
                start.elapsed()
            })
            .collect();
        let (median, min) = median_and_min(times);
        println!(
            "{name}: median {:.1} µs, fastest {:.1} µs",
            median.as_secs_f64() * 1e6,
            min.as_secs_f64() * 1e6
        );
    }
}
