//! The fuzzed entry points, shared by the cargo-fuzz targets
//! (`fuzz/fuzz_targets/`) and by `tests/fuzz_corpus.rs`, which replays the
//! committed corpus on every `cargo test` (on stable, without libFuzzer).
//! Each one must return for every input: no panic, no hang, no signal.

use std::io::Write;

use advkit_ipc::api::schema::{game_method, host_methods};
use advkit_ipc::protocol::{self, RpcError, find_line, parse_request};

/// A control connection's input: split into lines as the server does,
/// parse each, check it against the schema of the method it names, and
/// build the reply line, which must itself be JSON carrying the id.
pub fn control_lines(data: &[u8]) {
    let methods: Vec<_> = host_methods()
        .into_iter()
        .chain(
            [
                "engine.reboot",
                "engine.input",
                "world.entities",
                "world.get",
                "world.set",
            ]
            .into_iter()
            .filter_map(game_method),
        )
        .collect();
    let mut buf = data;
    while let Ok(Some(end)) = find_line(buf) {
        assert_eq!(buf[end], b'\n', "find_line points at the newline");
        let line = &buf[..end];
        buf = &buf[end + 1..];
        let reply = match parse_request(line) {
            Ok(req) => {
                let checked = methods
                    .iter()
                    .find(|m| m.name == req.method)
                    .map(|m| m.check(&req.params));
                let result = match checked {
                    Some(Ok(())) => Ok(()),
                    Some(Err(e)) => Err(e),
                    None => Err(RpcError::method_not_found(&req.method)),
                };
                match (req.id, result) {
                    (Some(id), Ok(())) => protocol::response(&id, 0, &serde_json::json!({})),
                    (id, Err(e)) => protocol::error_response(id.as_ref(), 0, &e),
                    (None, Ok(())) => continue,
                }
            }
            Err((id, e)) => protocol::error_response(id.as_ref(), 0, &e),
        };
        let v: serde_json::Value = serde_json::from_str(&reply).expect("every reply line is JSON");
        assert_eq!(v["jsonrpc"], "2.0");
    }
}

/// A frame-region file with these bytes: opening it validates the header;
/// when that passes, reading the newest frame must not fault.
pub fn frame_file(data: &[u8]) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("f.frames");
    std::fs::File::create(&path)
        .and_then(|mut f| f.write_all(data))
        .expect("write");
    if let Ok(reader) = advkit_ipc::FrameReader::open(&path) {
        let mut buf = reader.buffer();
        let _ = reader.read_latest(&mut buf);
        let _ = reader.liveness();
        let _ = reader.peek(reader.latest_frame());
    }
}

/// Scene, scenario and input timeline files: an error names the file.
pub fn scene_files(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Err(e) = advkit_core::Scene::parse("fuzz.json", text) {
        assert!(e.to_string().contains("fuzz.json"), "{e}");
    }
    if let Err(e) = advkit_golden::Scenario::parse("fuzz.json", text) {
        assert!(e.to_string().contains("fuzz.json"), "{e}");
    }
    let _ = advkit_core::Timeline::parse("fuzz.json", text);
}
