//! Frames over a control connection (`frames.subscribe`): the newest
//! only, sent once acknowledged, deltas against what the viewer has, and
//! nothing at all while the picture stands still. A real host, a real
//! socket, a real client.

use std::time::Duration;

use advkit_ipc::api::FramesSubscribed;
use advkit_ipc::client::Client;
use advkit_ipc::stream::{self, FrameDecoder};
use advkit_ipc::{Host, HostConfig, RuntimeDir};
use serde_json::json;

const W: u32 = 32;
const H: u32 = 16;

fn picture(shade: u8) -> Vec<u8> {
    (0..W * H)
        .flat_map(|i| [shade, (i % 251) as u8, shade / 2, 255])
        .collect()
}

#[test]
fn the_newest_frame_is_sent_once_acknowledged_as_a_delta_and_a_still_picture_costs_nothing() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut host = Host::start(HostConfig {
        dir: RuntimeDir::at(tmp.path().join("advkit")),
        handle_signals: false,
        ..HostConfig::new("streamed", W, H)
    })
    .expect("start");
    host.publish(1, &picture(10)).expect("publish");

    let mut c = Client::connect_unix(host.socket_path()).expect("connect");
    let sub: FramesSubscribed = serde_json::from_value(
        c.call("frames.subscribe", json!({"max_fps": 240, "window": 1}))
            .expect("subscribe")
            .result,
    )
    .expect("subscribed");
    assert_eq!((sub.width, sub.height, sub.window), (W, H, 1));
    let mut decoder = FrameDecoder::default();
    let wait = Some(Duration::from_secs(10));

    let first = c.next_frame(wait).expect("read").expect("the first frame");
    assert_eq!(
        (first.seq, first.tick, first.encoding.as_str()),
        (1, 1, stream::WHOLE)
    );
    assert_eq!(decoder.decode(&first).expect("decodes"), &picture(10)[..]);

    // Unacknowledged, the window (1) is full: newer frames wait, and only
    // the newest of them comes once acknowledged.
    host.publish(2, &picture(20)).expect("publish");
    host.publish(3, &picture(30)).expect("publish");
    assert!(
        c.next_frame(Some(Duration::from_millis(300)))
            .expect("read")
            .is_none(),
        "nothing is sent past the window"
    );
    c.ack_frame(first.seq).expect("ack");
    let newest = c.next_frame(wait).expect("read").expect("the newest frame");
    assert_eq!(
        (newest.seq, newest.tick),
        (2, 3),
        "frame 2 (tick 2) was skipped"
    );
    assert_eq!(
        (newest.encoding.as_str(), newest.base),
        (stream::DELTA, Some(1))
    );
    assert_eq!(decoder.decode(&newest).expect("decodes"), &picture(30)[..]);
    c.ack_frame(newest.seq).expect("ack");

    // The same picture again, or nothing new: nothing is sent.
    host.publish(4, &picture(30)).expect("publish");
    assert!(
        c.next_frame(Some(Duration::from_millis(300)))
            .expect("read")
            .is_none(),
        "a still picture costs nothing"
    );
    host.publish(5, &picture(50)).expect("publish");
    let moved = c.next_frame(wait).expect("read").expect("a new picture");
    assert_eq!((moved.seq, moved.tick, moved.base), (3, 5, Some(2)));
    assert_eq!(decoder.decode(&moved).expect("decodes"), &picture(50)[..]);

    // An ack of a frame never sent is refused; unsubscribing stops it.
    let err = c
        .call("frames.ack", json!({"seq": 99}))
        .expect_err("not sent");
    assert!(err.to_string().contains("was not sent yet"), "{err}");
    c.call("frames.unsubscribe", json!({}))
        .expect("unsubscribe");
    c.ack_frame(moved.seq).ok();
    host.publish(6, &picture(60)).expect("publish");
    assert!(
        c.next_frame(Some(Duration::from_millis(300)))
            .expect("read")
            .is_none(),
        "unsubscribed"
    );
    let err = c
        .call("frames.subscribe", json!({"size": [0, 4]}))
        .expect_err("no pixels");
    assert!(err.to_string().contains("has no pixels"), "{err}");
    // Scaled down: the whole picture, area-averaged, at the size asked.
    c.call("frames.subscribe", json!({"size": [8, 4]}))
        .expect("subscribe at a size");
    let small = c.next_frame(wait).expect("read").expect("a frame");
    assert_eq!((small.width, small.height), (8, 4));
    let pixels = FrameDecoder::default()
        .decode(&small)
        .expect("decodes")
        .to_vec();
    let expected = advkit_frame::downsample(
        &picture(60),
        W,
        H,
        advkit_frame::Size {
            width: 8,
            height: 4,
        },
    )
    .expect("downsample");
    assert_eq!(pixels, expected.pixels());
}
