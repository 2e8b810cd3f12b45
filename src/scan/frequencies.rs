//! Exact document frequencies of shingles for the boilerplate pass, counted
//! from 32-bit keys.
//!
//! Boilerplate needs the shingles that occur in at least `min_df` distinct
//! documents (see [`crate::boilerplate`]), exactly. Pass 1 pushes one
//! [`KeySpill`] key for each distinct shingle of each distinct document:
//! bits 25 to 56 of its hash, into the partition of its top 7 bits, so that
//! key and partition together are the hash's top 39 bits (its *prefix*).
//! Then:
//!
//! 1. **Candidates**: the prefixes pushed at least `min_df` times, partition
//!    by partition. Every frequent shingle's prefix is one. Other shingles
//!    make one only when shingles sharing a prefix add up to `min_df`
//!    documents, which 2^39 prefixes make rare: the generated corpora have
//!    8,206 candidates for 8,200 frequent shingles (100k documents) and
//!    102,607 for 102,082 (1M).
//! 2. **Exact counts**: every distinct document's full set, stored in pass
//!    1 for verification anyway, is read in order (a chunk of the store at
//!    a time), and each shingle whose prefix is a candidate is counted. The
//!    shingles counted in `min_df` documents or more are the frequent ones:
//!    those that sorting every `(shingle, document)` entry would find.
//!
//! Why not those entries, as before: they took about 9 bytes each on disk
//! against 4 for a key, pass 1 wrote one for every shingle of the corpus
//! and pass 2 read, screened and sorted them all; a second spill then
//! brought each document's frequent entries back together, which the
//! second read of the full sets now does. Scans of the generated corpora,
//! runs taking turns, the same output: 100k documents 7.84 → 6.27 s and
//! CPU 14.1 → 11.5 s (medians of 4, keys then counted with a count-min
//! filter and a sort), 7.86 → 6.91 s (medians of 3, counted as below); 1M
//! documents 98.2 and 84.0 s →
//! 71.7 and 66.3 s, system time 44 and 22 s → 14 and 13 s, peak memory
//! 333 and 352 MB → 279 MB. The cost: the frequent shingles are held in
//! memory during the pass (102k at 1M documents, a few MB), as index
//! batches and distributed scans hold them.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

use rayon::prelude::*;

use crate::Result;
use crate::boilerplate::FrequentShingles;
use crate::progress::Progress;
use crate::spill::{KeySpill, Resources};

use super::corpus::{Corpus, FullSets, SetChunks};

/// Partitions of the key spill: the prefix's top bits.
pub(super) const KEY_PARTITIONS: usize = 1 << PARTITION_BITS;
const PARTITION_BITS: u32 = 7;
/// Bits of a prefix: a partition's and a key's.
const PREFIX_BITS: u32 = PARTITION_BITS + 32;
/// Keys counted in one table (see [`frequent_keys`]): its 16k slots take
/// 128 KiB, in a core's L2 cache.
const BUCKET_KEYS: usize = 1 << 13;

/// The top bits of `hash` that key and partition keep.
#[inline]
fn prefix(hash: u64) -> u64 {
    hash >> (64 - PREFIX_BITS)
}

/// Pushes the keys of a distinct document's shingles.
#[inline]
pub(super) fn push_keys(keys: &mut KeySpill, shingles: &[u64]) -> Result<()> {
    for &h in shingles {
        let p = prefix(h);
        keys.push((p >> 32) as usize, p as u32)?;
    }
    Ok(())
}

/// A set of values that the whole corpus's shingles are looked up in
/// (candidate prefixes, frequent shingles): a bitmap of their low bits,
/// about 32 bits a value and no larger than a core's L2 cache for up to
/// 256k values, answers most lookups in one cache line; a hash set the
/// rest.
pub(super) struct ValueSet {
    bits: Vec<u64>,
    mask: u64,
    values: HashSet<u64, foldhash::fast::FixedState>,
}

impl ValueSet {
    /// The set of `values`.
    pub fn new(values: impl IntoIterator<Item = u64>) -> Self {
        let values: HashSet<u64, foldhash::fast::FixedState> = values.into_iter().collect();
        let bit_count = (values.len() as u64 * 32).next_power_of_two().clamp(1 << 12, 1 << 26);
        let mut bits = vec![0u64; (bit_count / 64) as usize];
        let mask = bit_count - 1;
        for &v in &values {
            let b = v & mask;
            bits[(b / 64) as usize] |= 1 << (b % 64);
        }
        ValueSet { bits, mask, values }
    }

    /// Returns true if and only if `value` is in the set.
    #[inline]
    pub fn contains(&self, value: u64) -> bool {
        let b = value & self.mask;
        self.bits[(b / 64) as usize] & (1 << (b % 64)) != 0 && self.values.contains(&value)
    }

    /// Number of values.
    pub fn len(&self) -> usize {
        self.values.len()
    }
}

/// What counting found: the frequent shingles, and which distinct
/// documents hold a shingle of a candidate prefix. Only those can hold a
/// frequent shingle, so the boilerplate pass looks up no other document's
/// shingles. At 1M generated documents, 41 % of which have boilerplate,
/// that took the boilerplate stage from 7.2 to 6.4 s (medians of 2 scans
/// taking turns); another comparison, against a build that did not read
/// ahead either, was within this machine's drift (7.41 and 7.46 s).
pub(super) struct Frequencies {
    /// The shingles in at least `min_df` distinct documents.
    pub shingles: FrequentShingles,
    /// By document number: whether it holds a shingle of a candidate prefix.
    pub holders: Vec<bool>,
}

/// The frequent shingles of a scan: candidates from `keys`, then exact
/// counts from the full sets in `corpus` (see the module doc).
pub(super) fn count_frequent(
    keys: KeySpill,
    corpus: &Corpus,
    min_df: u32,
    resources: &Resources,
    progress: &dyn Progress,
) -> Result<Frequencies> {
    let docs = corpus.docs.len();
    let candidates = candidate_prefixes(keys, min_df, resources, progress)?;
    if candidates.len() == 0 {
        return Ok(Frequencies {
            shingles: FrequentShingles::default(),
            holders: vec![false; docs],
        });
    }
    let mut counts = ShingleCounts::default();
    let mut chunks = SetChunks::new(corpus, resources)?;
    let mut count = |sets: &FullSets| {
        counts.add(sets.docs.par_iter().map(|set| (set.doc, sets.hashes(set))), &candidates);
    };
    while chunks.work_next(corpus, &mut count)?.is_some() {}
    Ok(counts.into_frequencies(min_df, docs))
}

/// Exact document frequencies of the shingles of candidate prefixes, and
/// the documents that hold one.
#[derive(Default)]
struct ShingleCounts {
    counts: HashMap<u64, u32>,
    holders: Vec<u32>,
}

impl ShingleCounts {
    /// Counts the shingles of `sets` (each a distinct document's number and
    /// distinct shingles) whose prefix is in `candidates`.
    fn add<S: Iterator<Item = u64>>(
        &mut self,
        sets: impl ParallelIterator<Item = (u32, S)>,
        candidates: &ValueSet,
    ) {
        let (counted, holders) = sets
            .fold(
                || (HashMap::new(), Vec::new()),
                |(mut counts, mut holders): (HashMap<u64, u32>, Vec<u32>), (doc, set)| {
                    let mut held = false;
                    for h in set.filter(|&h| candidates.contains(prefix(h))) {
                        *counts.entry(h).or_default() += 1;
                        held = true;
                    }
                    if held {
                        holders.push(doc);
                    }
                    (counts, holders)
                },
            )
            .reduce(
                || (HashMap::new(), Vec::new()),
                |(a, mut docs_a), (b, docs_b)| {
                    docs_a.extend(docs_b);
                    (merge_counts(a, b), docs_a)
                },
            );
        self.counts = merge_counts(std::mem::take(&mut self.counts), counted);
        self.holders.extend(holders);
    }

    /// The shingles counted in at least `min_df` documents, and which of
    /// `docs` documents hold a counted shingle.
    fn into_frequencies(self, min_df: u32, docs: usize) -> Frequencies {
        let mut frequent: Vec<u64> =
            self.counts.into_iter().filter(|&(_, n)| n >= min_df).map(|(h, _)| h).collect();
        frequent.sort_unstable();
        let mut holders = vec![false; docs];
        for doc in self.holders {
            holders[doc as usize] = true;
        }
        Frequencies { shingles: FrequentShingles::from_sorted(frequent), holders }
    }
}

/// Adds the counts of the smaller map to the larger.
fn merge_counts(a: HashMap<u64, u32>, b: HashMap<u64, u32>) -> HashMap<u64, u32> {
    let (mut large, small) = if a.len() >= b.len() { (a, b) } else { (b, a) };
    for (h, n) in small {
        *large.entry(h).or_default() += n;
    }
    large
}

/// The prefixes pushed to `keys` at least `min_df` times.
fn candidate_prefixes(
    keys: KeySpill,
    min_df: u32,
    resources: &Resources,
    progress: &dyn Progress,
) -> Result<ValueSet> {
    // Partitions are counted on all threads at once, each within its share
    // of the sort memory (the keys and a copy spread by bucket).
    let max_keys = resources.sort_keys() / (2 * rayon::current_num_threads().max(1));
    let found = Mutex::new(Vec::new());
    keys.for_each_partition(max_keys, |partition, keys| {
        progress.advance(keys.len() as u64);
        let frequent = frequent_keys(keys, min_df);
        let high = (partition as u64) << 32;
        let mut found = found.lock().unwrap_or_else(|e| e.into_inner());
        found.extend(frequent.into_iter().map(|k| high | u64::from(k)));
        Ok(())
    })?;
    Ok(ValueSet::new(found.into_inner().unwrap_or_else(|e| e.into_inner())))
}

/// The keys that occur at least `min_df` (at least 1) times in `keys`, in
/// no set order.
///
/// Counted, not sorted: the keys are spread by their top bits into buckets
/// of about [`BUCKET_KEYS`], and each bucket is counted in an
/// open-addressing table of twice its size. Keys are parts of hashes, so
/// their top bits spread them evenly. A probe counting 4.1M keys (a tenth
/// of them repeated), one thread, 5 rounds taking turns: 10–12 ns a key,
/// against 25–35 ns for screening them with a count-min filter and sorting
/// those it passed (as the scan did before) and 14–20 ns for sorting
/// buckets of 256 or 2,048 keys.
fn frequent_keys(keys: &[u32], min_df: u32) -> Vec<u32> {
    let mut found = Vec::new();
    let mut table = Vec::new();
    let buckets = (keys.len() / BUCKET_KEYS).next_power_of_two();
    if buckets <= 1 {
        count_in_table(keys, min_df, &mut table, &mut found);
        return found;
    }
    let shift = 32 - buckets.trailing_zeros();
    let mut ends = vec![0usize; buckets];
    for &k in keys {
        ends[(k >> shift) as usize] += 1;
    }
    let mut start = 0;
    for end in &mut ends {
        start += *end;
        *end = start;
    }
    // Filled from the back: each bucket's end moves down to its start.
    let mut spread = vec![0u32; keys.len()];
    let mut next = ends.clone();
    for &k in keys {
        let b = (k >> shift) as usize;
        next[b] -= 1;
        spread[next[b]] = k;
    }
    let mut start = 0;
    for end in ends {
        count_in_table(&spread[start..end], min_df, &mut table, &mut found);
        start = end;
    }
    found
}

/// Counts `keys` in `table` (a scratch table, reused) and adds those seen
/// at least `min_df` times to `found`.
fn count_in_table(keys: &[u32], min_df: u32, table: &mut Vec<(u32, u32)>, found: &mut Vec<u32>) {
    let bits = (2 * keys.len()).next_power_of_two().max(16).trailing_zeros();
    table.clear();
    // `(key, count)`; a count of 0 marks an empty slot.
    table.resize(1 << bits, (0, 0));
    let mask = (1 << bits) - 1;
    for &k in keys {
        let mut slot = (k.wrapping_mul(0x9E37_79B9) >> (32 - bits)) as usize;
        loop {
            let (key, count) = &mut table[slot];
            if *count == 0 {
                *key = k;
            }
            if *key == k {
                *count += 1;
                break;
            }
            slot = (slot + 1) & mask;
        }
    }
    found.extend(table.iter().filter(|&&(_, n)| n >= min_df.max(1)).map(|&(k, _)| k));
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::shingle::ShingleSet;

    /// The keys seen at least `min_df` times, by sorting.
    fn by_sorting(keys: &[u32], min_df: u32) -> Vec<u32> {
        let mut keys = keys.to_vec();
        keys.sort_unstable();
        let runs = keys.chunk_by(|a, b| a == b);
        runs.filter(|run| run.len() >= min_df as usize).map(|run| run[0]).collect()
    }

    proptest! {
        #[test]
        fn frequent_keys_are_those_counted_by_sorting(
            keys in prop::collection::vec(prop_oneof![0u32..64, any::<u32>()], 0..600),
            min_df in 1u32..8,
        ) {
            let mut found = frequent_keys(&keys, min_df);
            found.sort_unstable();
            prop_assert_eq!(found, by_sorting(&keys, min_df));
        }
    }

    #[test]
    fn frequent_keys_of_many_buckets_are_those_counted_by_sorting() {
        // Keys spread over the whole range (so over every bucket), a third
        // of them repeated up to six times; and keys crowded in one bucket.
        let spread: Vec<u32> = (0..100_000u64)
            .flat_map(|i| {
                let h = crate::hash_lanes::splitmix_finalize(i);
                std::iter::repeat_n(
                    h as u32,
                    if i % 3 == 0 { 1 + (h >> 40) as usize % 6 } else { 1 },
                )
            })
            .collect();
        let crowded: Vec<u32> = spread.iter().map(|k| k >> 8).collect();
        for keys in [spread, crowded] {
            assert!(keys.len() > 4 * BUCKET_KEYS);
            for min_df in [1, 2, 5] {
                let mut found = frequent_keys(&keys, min_df);
                found.sort_unstable();
                let expected = by_sorting(&keys, min_df);
                assert!(!expected.is_empty());
                assert_eq!(found, expected, "min_df {min_df}");
            }
        }
    }

    #[test]
    fn a_value_set_holds_its_values_and_no_others() {
        let values: Vec<u64> =
            (0..5_000u64).map(|i| crate::hash_lanes::splitmix_finalize(i * 2)).collect();
        let set = ValueSet::new(values.iter().copied());
        assert_eq!(set.len(), 5_000);
        assert!(values.iter().all(|&v| set.contains(v)));
        let others = (0..50_000u64).map(|i| crate::hash_lanes::splitmix_finalize(i * 2 + 1));
        assert_eq!(others.filter(|&v| set.contains(v)).count(), 0);
    }

    #[test]
    fn shingles_sharing_a_candidate_prefix_are_counted_apart() {
        // Document d holds shingle i when i % 10 <= d % 10, so shingle i is
        // in 2 * (10 - i % 10) documents; shingles 10k..10k + 10 share one
        // prefix. Every prefix is a candidate; only the shingles in 5
        // documents or more (8 of each 10) are frequent.
        let shingle = |i: u64| crate::hash_lanes::splitmix_finalize(i / 10) << 8 | (i % 10);
        let sets: Vec<Vec<u64>> = (0..20u64)
            .map(|d| {
                let mut set: Vec<u64> =
                    (0..300).filter(|i| i % 10 <= d % 10).map(shingle).collect();
                set.sort_unstable();
                set
            })
            .collect();
        let resources = Resources::default();
        let mut keys = resources.key_spill(KEY_PARTITIONS);
        sets.iter().try_for_each(|set| push_keys(&mut keys, set)).unwrap();
        let candidates = candidate_prefixes(keys, 5, &resources, &crate::progress::Silent).unwrap();
        assert_eq!(candidates.len(), 30);
        // Document 20 holds none of them.
        let lone: Vec<u64> =
            (1..50).map(|i| crate::hash_lanes::splitmix_finalize(i << 40)).collect();
        let sets: Vec<Vec<u64>> = sets.into_iter().chain([lone]).collect();
        let mut counts = ShingleCounts::default();
        counts.add(
            sets.par_iter().enumerate().map(|(doc, set)| (doc as u32, set.iter().copied())),
            &candidates,
        );
        let refs: Vec<ShingleSet> = sets.into_iter().map(ShingleSet::from_hashes).collect();
        let expected = FrequentShingles::count(&refs.iter().collect::<Vec<_>>(), 5);
        assert_eq!(expected.len(), 30 * 8);
        let found = counts.into_frequencies(5, 22);
        assert_eq!(found.shingles, expected);
        let holders: Vec<bool> = (0..22).map(|doc| doc < 20).collect();
        assert_eq!(found.holders, holders);
    }

    #[test]
    fn candidate_prefixes_are_those_pushed_min_df_times() {
        let dir = tempfile::tempdir().unwrap();
        for resources in [Resources::default(), Resources::in_dir(dir.path())] {
            let mut keys = resources.key_spill(KEY_PARTITIONS);
            // Shingle i occurs in i % 9 documents, but shingles 0..4 of
            // every 1000 occur in 2 each and share one prefix (their low
            // bits differ): together they make a candidate.
            let mut expected = Vec::new();
            for i in 0..40_000u64 {
                let shared = i % 1000 < 4;
                let (h, df) = if shared {
                    (crate::hash_lanes::splitmix_finalize((1 << 40) | (i / 1000)) ^ (i % 4), 2)
                } else {
                    (crate::hash_lanes::splitmix_finalize(i), i % 9)
                };
                for _ in 0..df {
                    push_keys(&mut keys, &[h]).unwrap();
                }
                if (shared && i % 4 == 0) || (!shared && df >= 5) {
                    expected.push(prefix(h));
                }
            }
            let found = candidate_prefixes(keys, 5, &resources, &crate::progress::Silent).unwrap();
            assert_eq!(found.len(), expected.len());
            assert!(expected.iter().all(|&p| found.contains(p)));
        }
    }
}
