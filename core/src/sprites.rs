//! Pixel-art for characters, as text. Each sprite is 16×16:
//! `.` transparent, `o` outline, `b` body (the character's colour),
//! `h` hair, `s` skin, `e` eye, `f` boots.

/// Poses a character is drawn in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pose {
    Front,
    Back,
    Side,
}

const HEAD_FRONT: [&str; 8] = [
    "................",
    ".....oooooo.....",
    "....ohhhhhho....",
    "...ohhhhhhhho...",
    "...ohssssssho...",
    "...osesssseso...",
    "...osssssssso...",
    "....oossssoo....",
];

const HEAD_BACK: [&str; 8] = [
    "................",
    ".....oooooo.....",
    "....ohhhhhho....",
    "...ohhhhhhhho...",
    "...ohhhhhhhho...",
    "...ohhhhhhhho...",
    "...ohhhhhhhho...",
    "....oossssoo....",
];

const HEAD_SIDE: [&str; 8] = [
    "................",
    ".....oooooo.....",
    "....ohhhhhho....",
    "...ohhhhhhhho...",
    "...ohhhhhssso...",
    "...ohhhsssseo...",
    "...ohhsssssso...",
    "....oossssoo....",
];

const BODY_FRONT: [&str; 5] = [
    "...obbbbbbbbo...",
    "..osbbbbbbbbso..",
    "..osbbbbbbbbso..",
    "...obbbbbbbbo...",
    "...obbbbbbbbo...",
];

const BODY_SIDE: [&str; 5] = [
    "....obbbbbbo....",
    "....obbbbbbo....",
    "....obbbsbbo....",
    "....obbbbbbo....",
    "....obbbbbbo....",
];

const LEGS: [[&str; 3]; 2] = [
    ["....offoooffo...", "....offo.offo...", "....ooo..ooo...."],
    ["....offoooffo...", "....offo.ooo....", "....ooo........."],
];

const LEGS_SIDE: [[&str; 3]; 2] = [
    [".....offffo.....", ".....offffo.....", ".....oooooo....."],
    ["....offoooffo...", "...offo...offo..", "...ooo.....ooo.."],
];

/// The rows of a sprite, top to bottom; `mirror` for facing left.
pub fn rows(pose: Pose, walk_frame: usize) -> [&'static str; 16] {
    let (head, body, legs) = match pose {
        Pose::Front => (&HEAD_FRONT, &BODY_FRONT, &LEGS[walk_frame % 2]),
        Pose::Back => (&HEAD_BACK, &BODY_FRONT, &LEGS[walk_frame % 2]),
        Pose::Side => (&HEAD_SIDE, &BODY_SIDE, &LEGS_SIDE[walk_frame % 2]),
    };
    let mut out = [""; 16];
    for (i, r) in head
        .iter()
        .chain(body.iter())
        .chain(legs.iter())
        .enumerate()
    {
        out[i] = r;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_sprite_is_16_by_16_ascii() {
        for pose in [Pose::Front, Pose::Back, Pose::Side] {
            for f in 0..2 {
                for (i, r) in rows(pose, f).iter().enumerate() {
                    assert_eq!(r.len(), 16, "{pose:?} frame {f} row {i}: {r:?}");
                    assert!(
                        r.chars().all(|c| ".obhsef".contains(c)),
                        "{pose:?} row {i}: {r:?}"
                    );
                }
            }
        }
    }
}
