//! Golden frames: the scenario format ([`scenario`]), running a scenario
//! to its captures over a [`Driver`] ([`run`](mod@run)), comparing two
//! frames with a tolerance or perceptually, with a diff heat map
//! ([`compare`](mod@compare)), and the goldens on disk, typed
//! ([`store`]). A crate of its own, so `advkit-core` is only the demo game:
//! this one depends on it to run the demo in-process.
//!
//! Only [`store`] touches files. Deciding what a run's results mean
//! (verdicts, reports, the command line) is `advkit::golden`'s job; review
//! screens are `advkit-tui`'s.

#![forbid(unsafe_code)]

pub mod compare;
mod perceptual;
pub mod run;
pub mod scenario;
pub mod store;

pub use compare::{Comparison, Tolerance, compare, diff_image};
pub use run::{Demo, Driver, Ran, run};
pub use scenario::*;

#[cfg(test)]
mod tests {
    use super::*;
    use advkit_core::{Frame, Scene, Size, Timeline};

    fn frame(w: u32, h: u32, fill: [u8; 4]) -> Frame {
        let size = Size::new(w, h).expect("size");
        let px = fill.repeat((w * h) as usize);
        Frame::from_pixels(size, px).expect("frame")
    }

    #[test]
    fn exact_and_tolerant_comparison() {
        let a = frame(8, 4, [10, 20, 30, 255]);
        let mut b = a.clone();
        assert!(compare(&a, &b, Tolerance::default(), &[]).passes());
        // Two pixels off by 3 and 40.
        b.pixels_mut()[(4 + 2) * 4] = 13;
        b.pixels_mut()[(3 * 8 + 7) * 4 + 1] = 60;
        let exact = compare(&a, &b, Tolerance::default(), &[]);
        assert_eq!((exact.differing, exact.max_diff), (2, 40));
        assert_eq!(exact.bbox, Some((6, 0, 7, 3)));
        assert!(!exact.passes());
        assert!(
            exact.describe().contains("2 pixel(s) differ"),
            "{}",
            exact.describe()
        );
        let fuzzy = compare(
            &a,
            &b,
            Tolerance {
                max_diff: 5,
                max_pixels: 0,
                ..Tolerance::default()
            },
            &[],
        );
        assert_eq!(fuzzy.differing, 1);
        assert!(
            compare(
                &a,
                &b,
                Tolerance {
                    max_diff: 5,
                    max_pixels: 1,
                    ..Tolerance::default()
                },
                &[]
            )
            .passes()
        );
        let other = frame(4, 4, [0; 4]);
        let c = compare(&a, &other, Tolerance::default(), &[]);
        assert!(!c.passes() && c.describe().contains("size 4x4 but the golden is 8x4"));
    }

    #[test]
    fn the_heat_map_marks_only_differing_pixels() {
        let a = frame(4, 1, [100, 100, 100, 255]);
        let mut b = a.clone();
        b.pixels_mut()[4] = 255;
        let d = diff_image(&a, &b, Tolerance::default(), &[]);
        assert_eq!(d.pixel(0, 0), [25, 25, 25, 255]);
        assert!(d.pixel(1, 0)[0] > 200, "{:?}", d.pixel(1, 0));
    }

    #[test]
    fn scenarios_are_checked_when_parsed() {
        let ok = r#"{"seed": 3, "captures": [{"name": "a", "tick": 5}]}"#;
        Scenario::parse("s.json", ok).expect("valid");
        for (bad, why) in [
            (r#"{"captures": []}"#, "at least one capture"),
            (
                r#"{"captures": [{"name": "a/b", "tick": 1}]}"#,
                "names a file",
            ),
            (
                r#"{"captures": [{"name": "a", "tick": 1}, {"name": "a", "tick": 2}]}"#,
                "twice",
            ),
            (r#"{"captures": [{"name": "a", "tick": 0}]}"#, "at least 1"),
            (
                r#"{"size": "big", "captures": [{"name": "a", "tick": 1}]}"#,
                "WIDTHxHEIGHT",
            ),
            ("{\n  \"captures\": [], \"colour\": 1}", "unknown field"),
        ] {
            let err = Scenario::parse("s.json", bad).expect_err(bad).to_string();
            assert!(
                err.contains(why) && err.starts_with("s.json:"),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn a_run_captures_the_same_frame_as_the_engine_would() {
        let s = Scenario::parse(
            "s.json",
            r#"{"seed": 9, "record_hashes": true, "captures": [{"name": "a", "tick": 3}]}"#,
        )
        .expect("valid");
        let scene = Scene::builtin();
        let mut got = None;
        let ran = s
            .run(
                &scene,
                |_, m, _| Err(m.into()),
                true,
                |_, f, _| got = Some(f.clone()),
            )
            .expect("runs");
        let hashes = ran.hashes;
        assert_eq!(hashes.len(), 3);
        assert_eq!(ran.states.len(), 3);
        assert!(
            ran.states[2].1.iter().any(|e| e["id"] == "player"),
            "{:?}",
            ran.states[2]
        );
        let mut engine = s.engine(scene).expect("engine");
        engine.run(3, &Timeline::default());
        let mut f = Frame::new(s.size().expect("size"));
        engine.render(&mut f);
        assert_eq!(got.as_ref().map(Frame::hash), Some(f.hash()));
        assert_eq!(hashes[2], (3, f.hash()));
    }

    #[test]
    fn masks_leave_pixels_out_and_tolerated_ones_are_counted_apart() {
        let a = frame(8, 4, [10, 20, 30, 255]);
        let mut b = a.clone();
        b.pixels_mut()[0] = 11; // (0,0) by 1
        b.pixels_mut()[(8 + 5) * 4] = 90; // (5,1) by 80
        b.pixels_mut()[(3 * 8 + 7) * 4] = 90; // (7,3) by 80
        let tol = Tolerance {
            max_diff: 2,
            max_pixels: 0,
            ..Tolerance::default()
        };
        let c = compare(&a, &b, tol, &[[5, 1, 1, 1]]);
        assert_eq!((c.differing, c.tolerated, c.masked), (1, 1, 1));
        assert_eq!(c.bbox, Some((7, 3, 7, 3)));
        assert!(
            c.describe().contains("1 more within the tolerance"),
            "{}",
            c.describe()
        );
        let pass = compare(&a, &b, tol, &[[5, 1, 3, 3]]);
        assert!(pass.passes());
        assert!(
            pass.describe_pass()
                .starts_with("within tolerance: 0 pixel(s)"),
            "{}",
            pass.describe_pass()
        );
        let d = diff_image(&a, &b, tol, &[[5, 1, 3, 3]]);
        assert_eq!(d.pixel(0, 0), [40, 110, 230, 255], "tolerated is blue");
        assert_ne!(d.pixel(7, 3)[0], 255, "masked is not painted red");
        let stripes: std::collections::BTreeSet<[u8; 4]> = (5..8)
            .map(|x| d.pixel(x, 1))
            .chain((5..8).map(|x| d.pixel(x, 3)))
            .collect();
        assert!(stripes.len() > 1, "hatched: {stripes:?}");
    }

    #[test]
    fn entity_masks_resolve_through_the_entity_box() {
        let m = Mask {
            rect: None,
            entity: Some("npc:1".into()),
        };
        let entities = vec![
            serde_json::json!({"id": "player", "box": [1, 2, 3, 4]}),
            serde_json::json!({"id": "npc:1", "box": [10, 20, 16, 16]}),
            serde_json::json!({"id": "npc:2", "box": null}),
        ];
        assert_eq!(m.resolve(&entities), Ok(Some([10, 20, 16, 16])));
        let gone = Mask {
            rect: None,
            entity: Some("npc:2".into()),
        };
        assert_eq!(gone.resolve(&entities), Ok(None));
        let unknown = Mask {
            rect: None,
            entity: Some("npc:9".into()),
        };
        let e = unknown.resolve(&entities).expect_err("unknown");
        assert!(
            e.contains("no entity `npc:9`") && e.contains("npc:1"),
            "{e}"
        );
        let bad = r#"{"captures": [{"name": "a", "tick": 1, "mask": [{"rect": [0,0,1,1], "entity": "player"}]}]}"#;
        let err = Scenario::parse("s.json", bad)
            .expect_err("both")
            .to_string();
        assert!(err.contains("either"), "{err}");
    }

    /// A dark frame with a bright 16x16 sprite at `x`; with `soft`, drawn
    /// half a pixel to the right as anti-aliasing draws it: its first
    /// column and the column after it half covered.
    fn sprite(x: u32, soft: bool) -> Frame {
        let mut f = frame(64, 32, [20, 24, 40, 255]);
        let w = f.width();
        for (i, px) in f.pixels_mut().chunks_exact_mut(4).enumerate() {
            let (px_x, px_y) = (i as u32 % w, i as u32 / w);
            if !(8..24).contains(&px_y) {
                continue;
            }
            let half = soft && (px_x == x || px_x == x + 16);
            if half {
                px.copy_from_slice(&[130, 122, 100, 255]);
            } else if (x..x + 16).contains(&px_x) {
                px.copy_from_slice(&[240, 220, 160, 255]);
            }
        }
        f
    }

    #[test]
    fn a_perceptual_threshold_passes_anti_aliasing_and_fails_a_moved_sprite() {
        let tol = Tolerance {
            perceptual: Some(0.1),
            ..Tolerance::default()
        };
        let golden = sprite(20, false);
        let aa = compare(&golden, &sprite(20, true), tol, &[]);
        assert!(aa.passes(), "{}", aa.describe());
        assert!(aa.antialiased > 0, "the pixels do differ, as anti-aliasing");
        let moved = compare(&golden, &sprite(26, false), tol, &[]);
        assert!(!moved.passes(), "{}", moved.describe());
        assert!(
            moved.describe().contains("perceptual 0.1"),
            "{}",
            moved.describe()
        );
        // The exact comparison fails both.
        assert!(!compare(&golden, &sprite(20, true), Tolerance::default(), &[]).passes());
    }

    #[test]
    fn max_ratio_allows_a_share_of_the_pixels() {
        let golden = sprite(20, false);
        let moved = sprite(21, false); // 32 of 2048 pixels differ: 1.6 %
        let ratio = |r: f64| Tolerance {
            max_ratio: Some(r),
            ..Tolerance::default()
        };
        assert!(compare(&golden, &moved, ratio(0.02), &[]).passes());
        assert!(!compare(&golden, &moved, ratio(0.01), &[]).passes());
        assert!(ratio(1.5).check().is_err());
    }
}
