//! [`FrequencyFilter`]: which shingles *may* occur in at least `n`
//! documents, in a fixed amount of memory.
//!
//! Boilerplate needs the exact document frequency of the frequent shingles
//! and of no other. The scan counts them one batch of `(shingle, document)`
//! entries at a time (a batch holds every entry of its shingles); counting
//! by sorting a whole batch sorts 511M entries for the generated
//! 1M-document corpus, though 102k shingles are frequent there. The filter
//! is a count-min sketch with conservative update (Estan and Varghese,
//! SIGCOMM 2002): its estimate of a shingle's count is never below the true
//! count, so the entries of a shingle whose estimate is below `n` can be
//! dropped unsorted and only the others are counted exactly. The outcome is
//! the one of counting everything; the filter only decides how much is
//! sorted.
//!
//! Layout: each shingle maps to one 64-byte block (one cache line, so one
//! cache miss an insertion or a query) and to two 4-bit counters in it that
//! saturate at [`COUNTER_MAX`]. At two insertions a counter (the size
//! [`FrequencyFilter::new`] picks when memory allows: a quarter of a byte an
//! insertion, 1 MB for a batch of 4M entries) about 1 % of the shingles
//! that occur once pass a threshold of 5 (a simulation of the layout: 0.04 %
//! at 1.5 a counter, 26 % at 3; a unit test checks that fewer than 4 %
//! pass). A filter too small for its insertions lets more through and costs
//! time, never a wrong count.
//!
//! Filling is parallel without atomics: the blocks are cut into parts of at
//! most 256 KB (a core's L2 cache) and at least one a thread; the hashes are
//! first spread by part, in order, then each part takes its own. The
//! counters therefore do not depend on the number of threads. This is why
//! the filter is used a batch at a time rather than over the whole corpus
//! at once: a filter for the whole 1M-document corpus (128 MB) is filled
//! and asked at a cache miss to main memory a shingle, 20 ns or more on the
//! development machine, and filling and asking it cost as much as the
//! sorting and the scratch writes it saved (measured: 1M scan 99.9 s against
//! 99.5 s); within a batch, the filter stays in cache.
//!
//! Why not a crate: the count-min crates found (`cmsketch`, a CacheLib
//! port; `streaming_algorithms`) keep one row a hash function (a cache miss
//! a row), count in whole bytes or more, increment every row rather than
//! the smallest counters, and offer no way to fill disjoint parts from
//! several threads. The structure needed here is a few dozen lines.

use rayon::prelude::*;

use crate::hash_lanes::splitmix_finalize;

/// The largest count a counter holds; a saturated counter passes every
/// threshold.
pub const COUNTER_MAX: u32 = 15;
/// Insertions a counter the filter is sized for.
const INSERTIONS_PER_COUNTER: u64 = 2;
/// 4-bit counters in a 64-byte block.
const COUNTERS_PER_BLOCK: u64 = 128;

/// One cache line of 128 counters of 4 bits.
#[derive(Clone, Copy, Default)]
#[repr(C, align(64))]
struct Block([u64; 8]);

impl Block {
    #[inline(always)]
    fn get(&self, i: usize) -> u32 {
        ((self.0[i >> 4] >> ((i & 15) * 4)) & 15) as u32
    }

    /// Conservative update: only the smallest of the two counters grow.
    #[inline(always)]
    fn insert(&mut self, (a, b): (usize, usize)) {
        let (ca, cb) = (self.get(a), self.get(b));
        let least = ca.min(cb);
        // Branch-free: which counter grows depends on the data.
        let grows = u64::from(least < COUNTER_MAX);
        self.0[a >> 4] += (grows & u64::from(ca == least)) << ((a & 15) * 4);
        // The same counter twice grows once.
        self.0[b >> 4] += (grows & u64::from(cb == least && b != a)) << ((b & 15) * 4);
    }
}

/// A counting filter of shingle hashes: [`FrequencyFilter::estimate`] is
/// never below the number of times a hash was inserted (up to
/// [`COUNTER_MAX`]).
#[derive(Clone)]
pub struct FrequencyFilter {
    blocks: Vec<Block>,
}

impl std::fmt::Debug for FrequencyFilter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FrequencyFilter").field("bytes", &self.memory()).finish()
    }
}

/// A hash's block (by its high bits) and two counters (by its low bits).
#[derive(Clone, Copy)]
struct Slot {
    block: usize,
    counters: (usize, usize),
}

/// Bytes of counters in one part: the batch operations visit the hashes of
/// one part at a time, so that their counters stay in a core's L2 cache.
const PART_BYTES: usize = 256 << 10;
/// Fewest hashes one thread spreads over the parts at a time.
const SPREAD_CHUNK: usize = 1 << 16;
/// Most hashes spread at once (8 MB of spread hashes).
const SPREAD_WINDOW: usize = 1 << 20;

impl FrequencyFilter {
    /// A filter for about `insertions` insertions, in at most `max_bytes`
    /// (at least one block).
    pub fn new(insertions: u64, max_bytes: usize) -> Self {
        let wanted = insertions.div_ceil(INSERTIONS_PER_COUNTER * COUNTERS_PER_BLOCK);
        let allowed = (max_bytes / std::mem::size_of::<Block>()) as u64;
        let blocks = wanted.min(allowed).max(1) as usize;
        FrequencyFilter { blocks: vec![Block::default(); blocks] }
    }

    /// Bytes of counters.
    pub fn memory(&self) -> usize {
        self.blocks.len() * std::mem::size_of::<Block>()
    }

    /// The hash the slot is taken from. Remixed because the keys of one
    /// batch are not spread over the whole hash space: a scratch spill cuts
    /// partitions by the high bits of the hash, which are the bits the block
    /// is taken from, so unmixed keys of one partition would crowd into a
    /// 128th of the blocks.
    #[inline(always)]
    fn remix(hash: u64) -> u64 {
        splitmix_finalize(hash ^ 0x6A09_E667_F3BC_C909)
    }

    /// The slot of a remixed hash in a filter of `blocks` blocks.
    #[inline(always)]
    fn slot_in(blocks: usize, remixed: u64) -> Slot {
        let block = ((u128::from(remixed) * blocks as u128) >> 64) as usize;
        Slot { block, counters: ((remixed & 127) as usize, ((remixed >> 7) & 127) as usize) }
    }

    #[inline(always)]
    fn slot(&self, remixed: u64) -> Slot {
        Self::slot_in(self.blocks.len(), remixed)
    }

    /// Blocks in one part: at most [`PART_BYTES`] of them, and at least one
    /// part a thread.
    fn blocks_per_part(&self) -> usize {
        let by_cache = PART_BYTES / std::mem::size_of::<Block>();
        let by_threads = self.blocks.len().div_ceil(rayon::current_num_threads().max(1));
        by_cache.min(by_threads).max(1)
    }

    /// The remixed key of every item, spread by part, in parallel: for each
    /// stretch of `items`, one list a part, in the order of `items`. Random
    /// accesses to the whole filter become sequential writes here and
    /// accesses to one cache-sized part later.
    fn spread<T: Sync>(
        &self,
        items: &[T],
        key: &(impl Fn(&T) -> u64 + Sync),
        per_part: usize,
    ) -> Vec<Vec<Vec<u64>>> {
        let parts = self.blocks.len().div_ceil(per_part);
        let stretch = SPREAD_CHUNK.max(items.len() / (4 * rayon::current_num_threads().max(1)));
        items
            .par_chunks(stretch)
            .map(|stretch_items| {
                let mut by_part: Vec<Vec<u64>> = (0..parts)
                    .map(|_| Vec::with_capacity(stretch_items.len() / parts + 8))
                    .collect();
                for item in stretch_items {
                    let r = Self::remix(key(item));
                    by_part[self.slot(r).block / per_part].push(r);
                }
                by_part
            })
            .collect()
    }

    /// Inserts the key of each of `items` once, on all threads, part by
    /// part (see the module doc); the counters are those of inserting them
    /// one by one.
    pub fn insert_all<T: Sync>(&mut self, items: &[T], key: impl Fn(&T) -> u64 + Sync) {
        let per_part = self.blocks_per_part();
        let total = self.blocks.len();
        for window in items.chunks(SPREAD_WINDOW) {
            let spread = self.spread(window, &key, per_part);
            self.blocks.par_chunks_mut(per_part).enumerate().for_each(|(part, blocks)| {
                let first = part * per_part;
                for stretch in &spread {
                    for &r in &stretch[part] {
                        let s = Self::slot_in(total, r);
                        blocks[s.block - first].insert(s.counters);
                    }
                }
            });
        }
    }

    /// Inserts one hash.
    pub fn insert(&mut self, hash: u64) {
        let s = self.slot(Self::remix(hash));
        self.blocks[s.block].insert(s.counters);
    }

    /// An upper bound of the times `hash` was inserted (exact up to
    /// collisions, and [`COUNTER_MAX`] at most).
    #[inline]
    pub fn estimate(&self, hash: u64) -> u32 {
        let s = self.slot(Self::remix(hash));
        let block = &self.blocks[s.block];
        block.get(s.counters.0).min(block.get(s.counters.1))
    }

    /// Returns false only if `hash` was inserted fewer than `n` times.
    #[inline]
    pub fn may_reach(&self, hash: u64, n: u32) -> bool {
        self.estimate(hash) >= n.min(COUNTER_MAX)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use proptest::prelude::*;

    use super::*;

    /// Hashes with repeats: `distinct` values, the i-th repeated `i % 7 + 1`
    /// times, interleaved.
    fn with_repeats(distinct: u64, seed: u64) -> Vec<u64> {
        let mut out = Vec::new();
        for round in 0..7 {
            for i in 0..distinct {
                if round <= i % 7 {
                    out.push(splitmix_finalize(seed ^ i));
                }
            }
        }
        out
    }

    fn true_counts(hashes: &[u64]) -> HashMap<u64, u32> {
        let mut counts = HashMap::new();
        for &h in hashes {
            *counts.entry(h).or_insert(0) += 1;
        }
        counts
    }

    proptest! {
        #[test]
        fn the_estimate_is_never_below_the_count(
            distinct in 1u64..3000,
            seed: u64,
            blocks in 1usize..64,
        ) {
            let hashes = with_repeats(distinct, seed);
            let mut filter = FrequencyFilter::new(u64::MAX, blocks * 64);
            filter.insert_all(&hashes, |&h| h);
            for (h, count) in true_counts(&hashes) {
                prop_assert!(filter.estimate(h) >= count.min(COUNTER_MAX));
                prop_assert!(filter.may_reach(h, count));
            }
        }
    }

    #[test]
    fn filling_in_parts_is_inserting_one_by_one() {
        // 1 MB: four cache-sized parts or more; two spread windows.
        let hashes = with_repeats(300_000, 9);
        assert!(hashes.len() > SPREAD_WINDOW);
        let mut one_by_one = FrequencyFilter::new(u64::MAX, 1 << 20);
        for &h in &hashes {
            one_by_one.insert(h);
        }
        for threads in [1, 2, 3, 8] {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            let mut parts = FrequencyFilter::new(u64::MAX, 1 << 20);
            pool.install(|| parts.insert_all(&hashes, |&h| h));
            assert!(
                parts.blocks.iter().zip(&one_by_one.blocks).all(|(a, b)| a.0 == b.0),
                "{threads} threads"
            );
        }
    }

    #[test]
    fn counters_saturate_and_saturated_ones_pass_every_threshold() {
        let mut filter = FrequencyFilter::new(1, 64);
        for _ in 0..40 {
            filter.insert(7);
        }
        assert_eq!(filter.estimate(7), COUNTER_MAX);
        assert!(filter.may_reach(7, 1000));
        // The other counters of the block did not overflow into.
        let s = filter.slot(FrequencyFilter::remix(7));
        let block = &filter.blocks[0];
        let others = (0..128).filter(|&i| i != s.counters.0 && i != s.counters.1);
        assert!(others.map(|i| block.get(i)).all(|c| c == 0));
    }

    #[test]
    fn a_filter_sized_for_its_insertions_lets_few_singletons_through() {
        // 200k hashes once each, 2k five times: the threshold is 5.
        let mut hashes: Vec<u64> = (0..200_000).map(|i| splitmix_finalize(i + 1)).collect();
        let frequent: Vec<u64> = (0..2_000).map(|i| splitmix_finalize(!i)).collect();
        for _ in 0..5 {
            hashes.extend(&frequent);
        }
        let mut filter = FrequencyFilter::new(hashes.len() as u64, usize::MAX);
        filter.insert_all(&hashes, |&h| h);
        assert!(frequent.iter().all(|&h| filter.may_reach(h, 5)));
        let passed = hashes[..200_000].iter().filter(|&&h| filter.may_reach(h, 5)).count();
        // About 1 % at two insertions a counter (see the module doc).
        assert!(passed < 200_000 / 25, "{passed} singletons passed");
    }

    #[test]
    fn keys_of_one_spill_partition_spread_over_the_whole_filter() {
        // The keys of one batch share their high bits (one partition of
        // 128, as a spill cuts them); they must still use every block.
        let hashes: Vec<u64> = (0..200_000u64).map(|i| splitmix_finalize(i) >> 7).collect();
        let mut filter = FrequencyFilter::new(hashes.len() as u64, usize::MAX);
        filter.insert_all(&hashes, |&h| h);
        let used = filter.blocks.iter().filter(|b| b.0.iter().any(|&w| w != 0)).count();
        assert!(used * 10 > filter.blocks.len() * 9, "{used} of {} blocks", filter.blocks.len());
        let passed = hashes.iter().filter(|&&h| filter.may_reach(h, 5)).count();
        assert!(passed < hashes.len() / 25, "{passed} singletons passed");
    }

    #[test]
    fn memory_follows_the_insertions_up_to_the_limit() {
        assert_eq!(FrequencyFilter::new(0, 1 << 20).memory(), 64);
        assert_eq!(FrequencyFilter::new(256 * 1000, 1 << 20).memory(), 64 * 1000);
        assert_eq!(FrequencyFilter::new(1 << 40, 1 << 20).memory(), 1 << 20);
    }
}
