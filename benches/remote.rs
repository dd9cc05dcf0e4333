//! Frames for a remote viewer (`frames.subscribe`): what the encoder
//! sends per frame and what it costs, beside raw RGBA and PNG of the same
//! frames, and a 1080p frame's encode beside its publish into the frame
//! region, all measured in this run. `cargo bench --bench remote`.

use std::hint::black_box;
use std::time::Duration;

use advkit_core::{Compression, Engine, Frame, Scene, Size, Timeline, encode_png};
use advkit_ipc::api::FramesSubscribeParams;
use advkit_ipc::region::FrameWriter;
use advkit_ipc::stream::{Encoder, FrameStream};

mod common;
use common::{BATCHES, median_per_iter};

/// The demo's frames, one a tick, as it runs (its camera follows the
/// walker across the map).
fn frames(size: Size, ticks: usize) -> Vec<Frame> {
    let mut engine = Engine::new(Scene::builtin());
    let mut out = Vec::with_capacity(ticks);
    for _ in 0..ticks {
        engine.run(1, &Timeline::default());
        let mut f = Frame::new(size);
        engine.render(&mut f);
        out.push(f);
    }
    out
}

fn median(mut v: Vec<usize>) -> usize {
    v.sort_unstable();
    v[v.len() / 2]
}

fn main() {
    let size = Size::new(320, 180).expect("size");
    let shots = frames(size, 121);
    let raw = size.byte_len();
    let mut encoder = Encoder::default();
    println!(
        "1. a 320x180 demo frame for a remote viewer, median over 120 frames of the demo running"
    );
    println!(
        "   {:<34} {:>10} {:>8} {:>12}",
        "", "bytes", "of raw", "CPU/frame"
    );
    // Against the frame `gap` ticks before (zstd-rows-xor, or zstd-rows
    // when smaller): a viewer keeping up at the engine's rate (1), and one
    // behind a slow link (5).
    for gap in [1usize, 5] {
        let sizes: Vec<usize> = (gap..shots.len())
            .map(|i| {
                let base = Some((1, shots[i - gap].pixels()));
                encoder.encode(shots[i].pixels(), size.width, base).2.len()
            })
            .collect();
        let mut i = gap;
        let cpu = median_per_iter(Duration::from_millis(300), || {
            let base = Some((1, shots[i - gap].pixels()));
            black_box(encoder.encode(shots[i].pixels(), size.width, base));
            i = if i + 1 < shots.len() { i + 1 } else { gap };
        });
        let bytes = median(sizes);
        println!(
            "   {:<34} {:>10} {:>7.1}% {:>10.0}µs   (base64 on the wire: +33 %)",
            format!("against the frame {gap} tick(s) before"),
            bytes,
            bytes as f64 * 100.0 / raw as f64,
            cpu.as_secs_f64() * 1e6
        );
    }
    let sizes: Vec<usize> = shots
        .iter()
        .map(|f| encoder.encode(f.pixels(), size.width, None).2.len())
        .collect();
    let mut i = 0;
    let cpu = median_per_iter(Duration::from_millis(300), || {
        black_box(encoder.encode(shots[i].pixels(), size.width, None));
        i = (i + 1) % shots.len();
    });
    let whole = median(sizes);
    println!(
        "   {:<34} {:>10} {:>7.1}% {:>10.0}µs",
        "zstd-rows, the whole frame",
        whole,
        whole as f64 * 100.0 / raw as f64,
        cpu.as_secs_f64() * 1e6
    );
    for (name, level) in [
        ("PNG fast", Compression::Fast),
        ("PNG best", Compression::Best),
    ] {
        let sizes: Vec<usize> = shots
            .iter()
            .map(|f| encode_png(f, level).expect("png").len())
            .collect();
        let mut i = 0;
        let cpu = median_per_iter(Duration::from_millis(300), || {
            black_box(encode_png(&shots[i], level).expect("png"));
            i = (i + 1) % shots.len();
        });
        let bytes = median(sizes);
        println!(
            "   {:<34} {:>10} {:>7.1}% {:>10.0}µs",
            name,
            bytes,
            bytes as f64 * 100.0 / raw as f64,
            cpu.as_secs_f64() * 1e6
        );
    }
    println!("   raw RGBA                           {raw:>10}  100.0%");

    // 1080p: a frame's encode (its delta against the frame before) beside
    // its publish into a real frame region.
    let big = Size::new(1920, 1080).expect("size");
    let pair = frames(big, 2);
    let tmp = common::shm_tempdir();
    let mut writer =
        FrameWriter::create(&tmp.path().join("remote.frames"), 1920, 1080, 60.0).expect("region");
    let mut tick = 0;
    let publish = median_per_iter(Duration::from_millis(500), || {
        tick += 1;
        black_box(writer.publish(tick, pair[1].pixels()).expect("publish"));
    });
    // Whole frames on every core (the encoder's default: a band of rows a
    // core, `Encoder::BAND_BYTES` at least) and on one.
    let mut one_core = Encoder::with_bands(1);
    let enc = median_per_iter(Duration::from_millis(500), || {
        black_box(encoder.encode(pair[1].pixels(), 1920, Some((1, pair[0].pixels()))));
    });
    let enc_one = median_per_iter(Duration::from_millis(500), || {
        black_box(one_core.encode(pair[1].pixels(), 1920, Some((1, pair[0].pixels()))));
    });
    // What a 200x60 inspector asks for: the frame area-averaged to its
    // 198x112 picture, then encoded (stream::FrameStream does both).
    let out = Size {
        width: 198,
        height: 112,
    };
    let small_base = advkit_frame::downsample(pair[0].pixels(), 1920, 1080, out).expect("small");
    let scaled = median_per_iter(Duration::from_millis(500), || {
        let small = advkit_frame::downsample(pair[1].pixels(), 1920, 1080, out).expect("small");
        black_box(encoder.encode(small.pixels(), out.width, Some((1, small_base.pixels()))));
    });
    // The same frames with every row made different (the row number added
    // to blue): what a game drawn at 1080p, not scaled up, costs.
    let native: Vec<Vec<u8>> = pair
        .iter()
        .map(|f| {
            let mut px = f.pixels().to_vec();
            for (y, row) in px.chunks_exact_mut(1920 * 4).enumerate() {
                for p in row.chunks_exact_mut(4) {
                    p[2] = p[2].wrapping_add(y as u8);
                }
            }
            px
        })
        .collect();
    let unscaled = median_per_iter(Duration::from_millis(500), || {
        black_box(encoder.encode(&native[1], 1920, Some((1, &native[0]))));
    });
    let unscaled_one = median_per_iter(Duration::from_millis(500), || {
        black_box(one_core.encode(&native[1], 1920, Some((1, &native[0]))));
    });
    let downsample_only = median_per_iter(Duration::from_millis(500), || {
        black_box(advkit_frame::downsample(pair[1].pixels(), 1920, 1080, out).expect("small"));
    });
    let ratio = |d: Duration| d.as_secs_f64() / publish.as_secs_f64();
    // The one-core lines are for reference: the target is the encoder as
    // it runs.
    let mark = |what: &str, d: Duration| {
        if d <= publish || what.ends_with("(for reference)") {
            ""
        } else {
            "  MISS"
        }
    };
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "\n2. a 1920x1080 frame, median of {BATCHES} batches; its publish into the region {:.0} µs (target: encode <= 1x)",
        publish.as_secs_f64() * 1e6
    );
    let bands = format!(
        "in {} band(s) on {cores} core(s)",
        advkit_frame::threads_for(big.byte_len())
    );
    for (what, d) in [
        ("scaled to a 200x60 inspector's 198x112 and encoded", scaled),
        ("  of which the area-average downsample", downsample_only),
        (
            &format!("the demo (drawn at 320x180, scaled up 6x), whole, {bands}")[..],
            enc,
        ),
        ("  the same on one core (for reference)", enc_one),
        (
            &format!("a game drawn at 1080p (no row repeats), whole, {bands}"),
            unscaled,
        ),
        ("  the same on one core (for reference)", unscaled_one),
    ] {
        println!(
            "   {what:<80} {:>6.0} µs = {:.2}x{}",
            d.as_secs_f64() * 1e6,
            ratio(d),
            mark(what, d)
        );
    }

    // What the server does for a subscriber per frame (stream::FrameStream):
    // copy the newest frame out of the region, scale it or not, encode,
    // base64, the line; here after each publish, the viewer acknowledging
    // at once. Median of 200 frames.
    let path = tmp.path().join("remote.frames");
    println!(
        "\n3. a subscriber's whole work per 1920x1080 frame (frames.subscribe), beside the same publish"
    );
    for (what, size) in [
        ("at a 200x60 inspector's 198x112", Some([198, 112])),
        ("at full size", None),
    ] {
        let params = FramesSubscribeParams {
            max_fps: Some(240.0),
            window: Some(1),
            bits: None,
            size,
        };
        let (mut stream, _) = FrameStream::open(&path, params).expect("subscribe");
        // Each poll timed alone (a millisecond or more: the clock's cost
        // is lost in it), after a publish it does not share.
        let mut times: Vec<Duration> = (1..=200)
            .map(|seq| {
                tick += 1;
                let shot = &pair[(tick % 2) as usize];
                black_box(writer.publish(tick, shot.pixels()).expect("publish"));
                let t = std::time::Instant::now();
                black_box(stream.poll().expect("a new frame"));
                stream.ack(seq).expect("ack");
                t.elapsed()
            })
            .collect();
        times.sort();
        let d = times[times.len() / 2];
        println!(
            "   {what:<80} {:>6.0} µs = {:.2}x{}",
            d.as_secs_f64() * 1e6,
            ratio(d),
            mark(what, d)
        );
    }
}
