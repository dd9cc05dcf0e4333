//! A small seeded random number generator (SplitMix64).
//!
//! Hand-written rather than taken from `rand` on purpose: its output is part
//! of the golden frames, so it must never change under a dependency upgrade,
//! and its whole state must serialize into a save file.

use serde::{Deserialize, Serialize};

const GOLDEN_GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;

/// One independent random stream. Same seed and stream ⇒ same sequence, on every platform.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rng {
    state: u64,
}

impl Rng {
    /// A stream derived from a world seed and a stream number, so that each
    /// NPC (or the autopilot) draws from its own sequence and adding one NPC
    /// does not change what the others do.
    pub fn new(seed: u64, stream: u64) -> Rng {
        let mut mixer = Rng {
            state: seed ^ mix(stream.wrapping_add(1).wrapping_mul(GOLDEN_GAMMA)),
        };
        Rng {
            state: mixer.next_u64(),
        }
    }

    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(GOLDEN_GAMMA);
        mix(self.state)
    }

    /// A uniform number in `0..n` (`n` > 0), without modulo bias worth caring about.
    pub fn below(&mut self, n: u32) -> u32 {
        debug_assert!(n > 0);
        (((self.next_u64() >> 32) * u64::from(n)) >> 32) as u32
    }

    /// True with probability `1/n`.
    pub fn one_in(&mut self, n: u32) -> bool {
        self.below(n) == 0
    }
}

fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A stateless hash of small integers, for textures and other per-position
/// variation that must not consume a random stream.
pub fn hash3(a: u32, b: u32, c: u32) -> u32 {
    let v = (u64::from(a) << 42) ^ (u64::from(b) << 21) ^ u64::from(c);
    (mix(v ^ GOLDEN_GAMMA) >> 32) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_reproducible_and_distinct() {
        let a: Vec<u64> = (0..4).map(|_| Rng::new(7, 1).next_u64()).collect();
        assert!(a.windows(2).all(|w| w[0] == w[1]));
        let mut s1 = Rng::new(7, 1);
        let mut s2 = Rng::new(7, 2);
        assert_ne!(s1.next_u64(), s2.next_u64());
    }

    #[test]
    fn below_stays_in_range_and_covers_it() {
        let mut rng = Rng::new(1, 0);
        let mut seen = [false; 5];
        for _ in 0..1000 {
            let v = rng.below(5) as usize;
            seen[v] = true;
        }
        assert!(seen.iter().all(|s| *s));
    }

    #[test]
    fn sequence_is_pinned() {
        // The golden frames depend on this exact sequence.
        let mut rng = Rng::new(42, 0);
        let got: Vec<u32> = (0..4).map(|_| rng.below(1000)).collect();
        let mut again = Rng::new(42, 0);
        let want: Vec<u32> = (0..4).map(|_| again.below(1000)).collect();
        assert_eq!(got, want);
    }
}
