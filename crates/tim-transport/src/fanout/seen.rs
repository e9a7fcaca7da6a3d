//! The set of recipients already read, as 64-bit keyed fingerprints, compact enough for tens of millions.
//!
//! New fingerprints go into a small hash set; when it holds a thirty-second of the total (at least 262,144), it is
//! sorted and merged, in place from the end, into one sorted array of all older fingerprints, indexed by their top
//! 16 bits. Memory is about 8 bytes a recipient plus the small set (a plain hash set would need up to three times
//! that while it grows); a lookup is a hash probe and a short walk inside one index bucket from where the
//! fingerprint's next bits say it would be (fingerprints are uniform, so the guess is rarely more than a step off).

use std::collections::HashSet;
use std::hash::{BuildHasherDefault, Hasher};

/// Fingerprints are already hashes: the set uses them as they are.
#[derive(Debug, Default)]
pub(super) struct Identity(u64);

impl Hasher for Identity {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for byte in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*byte);
        }
    }
    fn write_u64(&mut self, value: u64) {
        self.0 = value;
    }
}

/// The smallest number of recent fingerprints merged at once.
const MIN_RECENT: usize = 1 << 18;
/// Bits of a fingerprint used to index the sorted array.
const INDEX_BITS: u32 = 16;

#[derive(Debug)]
pub(super) struct SeenSet {
    /// The smallest merge (a constant but for tests, which merge often).
    min_recent: usize,
    recent: HashSet<u64, BuildHasherDefault<Identity>>,
    /// Every older fingerprint, sorted.
    sorted: Vec<u64>,
    /// `index[b]` is the first position in `sorted` whose top bits are at least `b` (one more entry at the end).
    index: Vec<u32>,
}

impl Default for SeenSet {
    fn default() -> Self {
        Self { min_recent: MIN_RECENT, recent: HashSet::default(), sorted: Vec::new(), index: Vec::new() }
    }
}

impl SeenSet {
    /// Adds a fingerprint; `false` when it was already there.
    pub(super) fn insert(&mut self, fingerprint: u64) -> bool {
        if self.in_sorted(fingerprint) || !self.recent.insert(fingerprint) {
            return false;
        }
        if self.recent.len() >= self.min_recent.max(self.sorted.len() / 32) {
            self.merge();
        }
        true
    }

    /// Starts loading where `insert(fingerprint)` will look in the sorted array, without waiting for it. Called for
    /// a few dozen fingerprints before inserting them, the loads overlap instead of each waiting for memory in turn
    /// (the array of ten million recipients is 80 MB: every probe misses the cache). The recent set is small
    /// enough to stay in the cache, and probing it twice costs more than it saves.
    pub(super) fn prefetch(&self, fingerprint: u64) {
        if let Some((_, _, guess)) = self.bucket(fingerprint) {
            std::hint::black_box(self.sorted[guess]);
        }
    }

    /// Whether lookups go to the sorted array, which is too large to stay in the cache (it starts at a quarter of
    /// a million fingerprints, 2 MB).
    pub(super) fn misses_cache(&self) -> bool {
        !self.sorted.is_empty()
    }

    /// The bucket of `fingerprint` in the sorted array (start and end) and where in it the fingerprint would be;
    /// `None` when the bucket is empty.
    fn bucket(&self, fingerprint: u64) -> Option<(usize, usize, usize)> {
        if self.sorted.is_empty() {
            return None;
        }
        let bucket = (fingerprint >> (64 - INDEX_BITS)) as usize;
        let (start, end) = (self.index[bucket] as usize, self.index[bucket + 1] as usize);
        if start == end {
            return None;
        }
        // Fingerprints are uniform: the bits after the bucket's say where in the bucket this one would be. Start
        // there and walk: usually one cache line, where a binary search would wait on several in a row.
        let fraction = (fingerprint << INDEX_BITS) >> (64 - INDEX_BITS);
        Some((start, end, start + (((end - start) as u64 * fraction) >> INDEX_BITS) as usize))
    }

    fn in_sorted(&self, fingerprint: u64) -> bool {
        let Some((start, end, guess)) = self.bucket(fingerprint) else { return false };
        let bucket = &self.sorted[start..end];
        let mut at = guess - start;
        if bucket[at] < fingerprint {
            while at + 1 < bucket.len() && bucket[at] < fingerprint {
                at += 1;
            }
        } else {
            while at > 0 && bucket[at - 1] >= fingerprint {
                at -= 1;
            }
        }
        bucket[at] == fingerprint
    }

    /// Moves the recent fingerprints into the sorted array.
    fn merge(&mut self) {
        let mut fresh: Vec<u64> = self.recent.drain().collect();
        fresh.sort_unstable();
        let old = self.sorted.len();
        self.sorted.reserve_exact(fresh.len());
        self.sorted.resize(old + fresh.len(), 0);
        // Merge from the end so nothing is overwritten before it is read.
        let (mut i, mut j, mut k) = (old, fresh.len(), self.sorted.len());
        while j > 0 {
            k -= 1;
            if i > 0 && self.sorted[i - 1] > fresh[j - 1] {
                self.sorted[k] = self.sorted[i - 1];
                i -= 1;
            } else {
                self.sorted[k] = fresh[j - 1];
                j -= 1;
            }
        }
        self.reindex();
        self.recent.shrink_to(self.min_recent);
    }

    fn reindex(&mut self) {
        let buckets = 1_usize << INDEX_BITS;
        self.index.clear();
        self.index.reserve_exact(buckets + 1);
        let mut position = 0;
        for bucket in 0..buckets {
            while position < self.sorted.len() && ((self.sorted[position] >> (64 - INDEX_BITS)) as usize) < bucket {
                position += 1;
            }
            self.index.push(position as u32);
        }
        self.index.push(self.sorted.len() as u32);
    }

    /// Reserves room for `additional` fingerprints in the recent set, up to the size of one merge.
    pub(super) fn reserve(&mut self, additional: usize) {
        self.recent.reserve(additional.min(self.min_recent));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::BuildHasher;

    #[test]
    fn agrees_with_a_plain_set_across_many_merges() {
        let hasher = foldhash::fast::RandomState::default();
        let mut seen = SeenSet { min_recent: 1 << 12, ..SeenSet::default() };
        let mut plain = std::collections::HashSet::new();
        // 400,000 draws from 300,000 values: many repeats, several merges.
        for i in 0..400_000_u64 {
            let fingerprint = hasher.hash_one((i * 7_919) % 300_000);
            assert_eq!(seen.insert(fingerprint), plain.insert(fingerprint), "draw {i}");
        }
        assert!(seen.sorted.len() > 1 << 16, "many merges happened");
        assert!(seen.sorted.windows(2).all(|pair| pair[0] < pair[1]), "the merged array is sorted and unique");
        // Every fingerprint merged is found again, wherever the guess lands in its bucket.
        let merged = seen.sorted.clone();
        assert!(merged.iter().all(|&fingerprint| seen.in_sorted(fingerprint)));
        assert!(
            merged.iter().all(|&fingerprint| !seen.in_sorted(fingerprint ^ 1) || merged.contains(&(fingerprint ^ 1)))
        );
        // Extremes of the index.
        for fingerprint in [0, u64::MAX, 1 << 63] {
            assert_eq!(seen.insert(fingerprint), plain.insert(fingerprint));
            assert!(!seen.insert(fingerprint));
        }
    }
}
