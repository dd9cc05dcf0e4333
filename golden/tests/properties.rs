//! Property tests for the files the engine reads: scenes, scenarios and
//! input timelines. Whatever the text, parsing returns (no panic) and an
//! error names the file and a position inside it.

use advkit_core::{Scene, Timeline};
use advkit_golden::Scenario;
use proptest::prelude::*;
use serde_json::Value;

const DEMO: &str = include_str!("../../fixtures/scenes/demo.json");

/// Replaces the value at a random path of `v` with `with`.
fn mutate(v: &mut Value, path: &[usize], with: Value) {
    let Some((&i, rest)) = path.split_first() else {
        *v = with;
        return;
    };
    match v {
        Value::Object(m) if !m.is_empty() => {
            let key = m.keys().nth(i % m.len()).cloned().expect("a key");
            mutate(m.get_mut(&key).expect("the key"), rest, with);
        }
        Value::Array(a) if !a.is_empty() => {
            let n = a.len();
            mutate(&mut a[i % n], rest, with);
        }
        _ => *v = with,
    }
}

fn odd_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        (-1e9f64..1e9).prop_map(Value::from),
        ".{0,300}".prop_map(Value::String),
        Just(serde_json::json!([])),
        Just(serde_json::json!({})),
        Just(serde_json::json!([[-1, 99999]])),
    ]
}

fn check_error(e: &impl std::fmt::Display, text: &str) -> Result<(), TestCaseError> {
    let msg = e.to_string();
    prop_assert!(msg.starts_with("scene.json:"), "names the file: {}", msg);
    let lines = text.split('\n').count();
    let line: usize = msg
        .split(':')
        .nth(1)
        .and_then(|l| l.parse().ok())
        .unwrap_or(0);
    prop_assert!(
        (1..=lines).contains(&line),
        "line {} of {}: {}",
        line,
        lines,
        msg
    );
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn arbitrary_text_never_panics_the_parsers(text in ".{0,400}") {
        if let Err(e) = Scene::parse("scene.json", &text) {
            check_error(&e, &text)?;
        }
        if let Err(e) = Scenario::parse("scene.json", &text) {
            check_error(&e, &text)?;
        }
        let _ = Timeline::parse("scene.json", &text);
    }

    #[test]
    fn the_demo_scene_with_one_value_changed_parses_or_says_where(
        path in prop::collection::vec(any::<usize>(), 1..5),
        with in odd_value(),
    ) {
        let mut v: Value = serde_json::from_str(DEMO).expect("the demo is JSON");
        mutate(&mut v, &path, with);
        let text = serde_json::to_string_pretty(&v).expect("json");
        if let Ok(scene) = Scene::parse("scene.json", &text) {
            // What parses also runs: one tick, one frame.
            let mut e = advkit_core::Engine::new(scene);
            e.step();
            let mut frame = advkit_core::Frame::new(advkit_core::Size::new(64, 36).expect("size"));
            e.render(&mut frame);
        } else if let Err(e) = Scene::parse("scene.json", &text) {
            check_error(&e, &text)?;
        }
    }

    #[test]
    fn the_demo_scene_cut_short_says_where(cut in 0usize..4000) {
        let text: String = DEMO.chars().take(cut).collect();
        if let Err(e) = Scene::parse("scene.json", &text) {
            check_error(&e, &text)?;
        }
    }
}
