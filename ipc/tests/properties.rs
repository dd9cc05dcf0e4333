//! Property tests for everything the control server and the frame reader
//! take from outside: line framing, request parsing and validation, and
//! frame-region header validation. They run with `cargo test`;
//! `fuzz/` drives the same entry points with libFuzzer.

use std::io::Write;

use advkit_ipc::FrameWriter;
use advkit_ipc::api::schema::host_methods;
use advkit_ipc::protocol::{MAX_LINE, codes, error_response, find_line, parse_request, response};
use proptest::prelude::*;
use serde_json::{Value, json};

/// Arbitrary JSON values, nested a few levels.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<u64>().prop_map(|n| json!(n)),
        (-1e6f64..1e6).prop_map(|f| json!(f)),
        ".{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-z_]{1,10}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// An id as a client may write it: strings, integers of any width, fractions.
fn id_text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<i64>().prop_map(|n| n.to_string()),
        any::<u64>().prop_map(|n| n.to_string()),
        "[1-9][0-9]{19,40}",
        "-[1-9][0-9]{19,40}",
        "(0|[1-9][0-9]{0,4})\\.[0-9]{1,20}",
        "[a-zA-Z0-9 ]{0,12}".prop_map(|s| format!("\"{s}\"")),
        Just("null".to_owned()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn framing_never_panics_and_points_at_the_first_newline(
        data in prop::collection::vec(any::<u8>(), 0..2048)
    ) {
        match find_line(&data) {
            Ok(Some(i)) => {
                prop_assert_eq!(data[i], b'\n');
                prop_assert!(!data[..i].contains(&b'\n'));
                prop_assert!(i <= MAX_LINE);
            }
            Ok(None) => prop_assert!(!data.contains(&b'\n')),
            Err(e) => prop_assert_eq!(e.code, codes::LINE_TOO_LONG),
        }
    }

    #[test]
    fn any_bytes_give_a_request_or_a_json_error_reply(
        line in prop::collection::vec(any::<u8>(), 0..512)
    ) {
        let reply = match parse_request(&line) {
            Ok(_) => return Ok(()),
            Err((id, e)) => {
                prop_assert!([codes::PARSE_ERROR, codes::INVALID_REQUEST].contains(&e.code));
                error_response(id.as_ref(), 0, &e)
            }
        };
        let v: Value = serde_json::from_str(&reply).expect("the reply is JSON");
        prop_assert!(v["error"]["message"].as_str().is_some_and(|m| !m.is_empty()));
    }

    #[test]
    fn every_id_is_echoed_exactly_and_params_must_be_structured(
        id in id_text(),
        method in "[a-z.]{1,20}",
        params in json_value(),
    ) {
        let line = format!(
            r#"{{"jsonrpc":"2.0","id":{id},"method":"{method}","params":{params}}}"#
        );
        match parse_request(line.as_bytes()) {
            Ok(req) => {
                prop_assert!(params.is_object() || params.is_array());
                let got = req.id.expect("an id");
                let reply = response(&got, 1, &json!(null));
                let expect_id = if id.starts_with('"') {
                    // Strings are the same string, however escaped.
                    serde_json::to_string(&serde_json::from_str::<Value>(&id).expect("json")).expect("json")
                } else {
                    id.clone()
                };
                let needle = format!("\"id\":{expect_id},");
                prop_assert!(reply.contains(&needle), "{} in {}", needle, reply);
            }
            Err((got, e)) => {
                prop_assert!(!(params.is_object() || params.is_array()));
                prop_assert_eq!(e.code, codes::INVALID_REQUEST);
                prop_assert!(got.is_some(), "the id is kept");
            }
        }
    }

    #[test]
    fn validation_never_panics_and_rejections_name_a_param(
        params in json_value(),
        which in 0usize..64,
    ) {
        let methods = host_methods();
        let m = &methods[which % methods.len()];
        if let Err(e) = m.check(&params) {
            prop_assert_eq!(e.code, codes::INVALID_PARAMS);
            prop_assert!(!e.message.is_empty());
        }
    }

    #[test]
    fn a_step_count_is_accepted_exactly_in_range(count in any::<i64>()) {
        let step = host_methods().into_iter().find(|m| m.name == "engine.step").expect("step");
        let ok = step.check(&json!({"count": count})).is_ok();
        prop_assert_eq!(ok, (1..=10_000).contains(&count), "count {}", count);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// A real region with header bytes overwritten, or cut short: opening
    /// it is an error or a region whose every read stays inside the file.
    #[test]
    fn a_corrupted_or_short_region_is_refused_or_read_safely(
        edits in prop::collection::vec((0usize..4096, any::<u8>()), 0..8),
        cut in prop::option::of(0usize..20_000),
    ) {
        let dir = tempfile::tempdir().expect("tempdir");
        let good = dir.path().join("good.frames");
        let mut w = FrameWriter::create(&good, 8, 8, 30.0).expect("create");
        w.publish(1, &[7u8; 8 * 8 * 4]).expect("publish");
        let mut bytes = std::fs::read(&good).expect("read");
        drop(w);
        for (at, b) in &edits {
            bytes[*at] = *b;
        }
        if let Some(cut) = cut {
            bytes.truncate(cut);
        }
        let path = dir.path().join("t.frames");
        std::fs::File::create(&path)
            .and_then(|mut f| f.write_all(&bytes))
            .expect("write");
        if let Ok(r) = advkit_ipc::FrameReader::open(&path) {
            prop_assert!(r.geometry().file_size() <= bytes.len());
            let mut buf = r.buffer();
            let _ = r.read_latest(&mut buf);
        }
    }
}
