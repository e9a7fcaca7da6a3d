//! SplitMix64: the emulator's only source of randomness, seeded, so that the same seed and the same order of
//! requests give the same faults, sequence numbers and group ids on every machine and with every dependency
//! version (a generator from a crate may change its stream between versions; these dozen lines never will).

/// The SplitMix64 increment (the golden ratio in 64 bits).
const GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;

/// The SplitMix64 output function.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The `n`-th output (from 0) of the stream seeded with `seed`, computed directly: concurrent requests draw by a
/// counter, without sharing a generator.
pub(crate) fn nth(seed: u64, n: u64) -> u64 {
    mix(seed.wrapping_add(n.wrapping_add(1).wrapping_mul(GAMMA)))
}

/// A uniform number in `[0, 1)` from 53 bits of `bits`.
pub(crate) fn unit_interval(bits: u64) -> f64 {
    (bits >> 11) as f64 / (1_u64 << 53) as f64
}

/// A sequential SplitMix64 generator.
#[derive(Debug, Clone)]
pub(crate) struct SplitMix {
    seed: u64,
    n: u64,
}

impl SplitMix {
    /// A generator for the stream `seed`.
    pub(crate) fn new(seed: u64) -> Self {
        Self { seed, n: 0 }
    }

    /// The next 64 bits.
    pub(crate) fn next_u64(&mut self) -> u64 {
        let value = nth(self.seed, self.n);
        self.n += 1;
        value
    }

    /// The next 32 bits.
    pub(crate) fn next_u32(&mut self) -> u32 {
        (self.next_u64() >> 32) as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_reference_splitmix64_stream() {
        // The first outputs of the reference implementation (Vigna's splitmix64.c) seeded with 0.
        let mut rng = SplitMix::new(0);
        assert_eq!(rng.next_u64(), 0xE220_A839_7B1D_CDAF);
        assert_eq!(rng.next_u64(), 0x6E78_9E6A_A1B9_65F4);
        assert_eq!(nth(0, 1), 0x6E78_9E6A_A1B9_65F4);
    }

    #[test]
    fn unit_interval_stays_below_one() {
        assert_eq!(unit_interval(0), 0.0);
        assert!(unit_interval(u64::MAX) < 1.0);
    }
}
