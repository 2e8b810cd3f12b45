//! Stage 3 of the pipeline: normalized tokens → a set of hashed word n-grams.
//!
//! A *shingle* is a run of `n` consecutive tokens. Two copies of an article
//! share most of their shingles; two different articles about the same event
//! share names and numbers but few runs of five words. Each shingle is stored
//! as a 64-bit hash, and a document becomes a [`ShingleSet`]: its distinct
//! shingle hashes, sorted, which makes exact intersection a linear merge.
//!
//! Hashing: every token is hashed once with xxh3 ([`hash_token`]); a shingle
//! hash is xxh3 over the little-endian bytes of its token hashes
//! ([`ShingleHasher`]). xxh3 follows the xxHash 0.8 specification, so the
//! values are stable across versions and platforms and may be persisted.
//! Where the CPU has AVX-512, a document's shingles are hashed eight at a
//! time in vector lanes, to the same values
//! (`hash_lanes::word_window_keys`).
//!
//! The default size, 5 words, was chosen on `devset/near` and
//! `devset/mixed`; see `ARCHITECTURE.md` for the measurement.

use crate::hash_lanes;
use xxhash_rust::xxh3::xxh3_64_with_seed;

/// Seed of token hashes. Part of the on-disk format of indexes: never change.
pub const TOKEN_HASH_SEED: u64 = 0x6e65_6172_6475_7031; // "neardup1"
/// Seed of shingle hashes. Part of the on-disk format of indexes.
pub const SHINGLE_HASH_SEED: u64 = 0x7368_696e_676c_6531; // "shingle1"
/// Largest supported shingle size, in tokens.
pub const MAX_SHINGLE_SIZE: usize = 16;

/// Hash of one normalized token.
#[inline]
pub fn hash_token(token: &str) -> u64 {
    hash_token_bytes(token.as_bytes())
}

/// [`hash_token`] of a normalized token given as its UTF-8 bytes.
#[inline]
pub fn hash_token_bytes(token: &[u8]) -> u64 {
    xxh3_64_with_seed(token, TOKEN_HASH_SEED)
}

/// Turns a sequence of token hashes into shingle hashes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ShingleHasher {
    size: usize,
}

impl ShingleHasher {
    /// A hasher for shingles of `size` tokens (1 to [`MAX_SHINGLE_SIZE`]).
    pub fn new(size: usize) -> crate::Result<Self> {
        if size == 0 || size > MAX_SHINGLE_SIZE {
            return Err(crate::Error::Config(format!(
                "shingle size must be between 1 and {MAX_SHINGLE_SIZE}, got {size}"
            )));
        }
        Ok(ShingleHasher { size })
    }

    /// The shingle size in tokens.
    pub fn size(&self) -> usize {
        self.size
    }

    /// Hash of one window of token hashes (of any length up to
    /// [`MAX_SHINGLE_SIZE`]).
    #[inline]
    pub fn hash_window(window: &[u64]) -> u64 {
        let mut bytes = [0u8; 8 * MAX_SHINGLE_SIZE];
        for (chunk, h) in bytes.chunks_exact_mut(8).zip(window) {
            chunk.copy_from_slice(&h.to_le_bytes());
        }
        xxh3_64_with_seed(&bytes[..8 * window.len()], SHINGLE_HASH_SEED)
    }

    /// Number of shingles [`ShingleHasher::shingles_into`] yields for a
    /// document of `tokens` tokens (counting repeats).
    pub fn sequence_len(&self, tokens: usize) -> usize {
        match tokens {
            0 => 0,
            t if t < self.size => 1,
            t => t - self.size + 1,
        }
    }

    /// Appends the hash of every shingle of `tokens`, in order (with
    /// repeats), to `out`.
    ///
    /// A document shorter than one shingle yields a single shingle made of
    /// all its tokens, so that short texts can still be compared; an empty
    /// one yields nothing.
    pub fn shingles_into(&self, tokens: &[u64], out: &mut Vec<u64>) {
        if tokens.is_empty() {
            return;
        }
        if tokens.len() < self.size {
            out.push(Self::hash_window(tokens));
            return;
        }
        if hash_lanes::available() && self.size >= 3 {
            hash_lanes::word_window_keys(tokens, self.size, SHINGLE_HASH_SEED, out);
        } else {
            out.extend(tokens.windows(self.size).map(Self::hash_window));
        }
    }

    /// The [`ShingleSet`] of a sequence of token hashes.
    pub fn shingle_set(&self, tokens: &[u64]) -> ShingleSet {
        let mut hashes = Vec::with_capacity(tokens.len());
        self.shingles_into(tokens, &mut hashes);
        ShingleSet::from_hashes(hashes)
    }
}

/// Sorts hash values, which are spread evenly over the `u64` range.
///
/// Every document's shingles are sorted once (about 600 values for a news
/// article), and a comparison sort was 11 % of featurizing. Hashes need no
/// comparisons to be nearly in order: each goes to one of at least as
/// many buckets as there are values, by its top bits (one counting pass,
/// one scatter), and an insertion sort puts the one or two values of each
/// bucket in order. On 530 hashes: 2.2 µs against 3.5 µs for
/// `sort_unstable`. Values that are not spread (many sharing their top
/// bits) fall back to `sort_unstable`, so the cost stays `O(n log n)`
/// whatever the input.
fn sort_hashes(mut hashes: Vec<u64>) -> Vec<u64> {
    /// Below this many values the comparison sort is as fast.
    const MIN_BUCKETED: usize = 64;
    /// A bucket this full means the values are not spread evenly.
    const MAX_BUCKET: u32 = 32;
    let n = hashes.len();
    if n < MIN_BUCKETED {
        hashes.sort_unstable();
        return hashes;
    }
    let bits = usize::BITS - (n - 1).leading_zeros();
    let bucket_of = |h: u64| (h >> (u64::BITS - bits)) as usize;
    // `ends[b + 1]` counts bucket `b`, then becomes where it ends.
    let mut ends = vec![0u32; (1 << bits) + 1];
    for &h in &hashes {
        ends[bucket_of(h) + 1] += 1;
    }
    let mut largest = 0;
    for b in 1..ends.len() {
        largest = largest.max(ends[b]);
        ends[b] += ends[b - 1];
    }
    let mut sorted = vec![0u64; n];
    for &h in &hashes {
        let at = &mut ends[bucket_of(h)];
        sorted[*at as usize] = h;
        *at += 1;
    }
    if largest > MAX_BUCKET {
        sorted.sort_unstable();
        return sorted;
    }
    for i in 1..n {
        let h = sorted[i];
        let mut j = i;
        while j > 0 && sorted[j - 1] > h {
            sorted[j] = sorted[j - 1];
            j -= 1;
        }
        sorted[j] = h;
    }
    sorted
}

/// The distinct shingle hashes of a document, sorted ascending.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct ShingleSet {
    #[serde(with = "hash_bytes")]
    hashes: Vec<u64>,
}

impl ShingleSet {
    /// Builds a set from hashes in any order, with repeats.
    ///
    /// Hashes already in strictly ascending order (a stored set read back)
    /// are taken as they are: checking costs one pass, and stops at the
    /// first pair out of order in any other input.
    pub fn from_hashes(hashes: Vec<u64>) -> Self {
        if hashes.is_sorted_by(|a, b| a < b) {
            return ShingleSet { hashes };
        }
        let mut hashes = sort_hashes(hashes);
        hashes.dedup();
        hashes.shrink_to_fit();
        ShingleSet { hashes }
    }

    /// This set without the hashes in `remove` (sorted), in one merge.
    pub fn without(&self, remove: &[u64]) -> ShingleSet {
        let mut hashes = Vec::with_capacity(self.hashes.len());
        let mut j = 0;
        for &h in &self.hashes {
            while j < remove.len() && remove[j] < h {
                j += 1;
            }
            if remove.get(j) != Some(&h) {
                hashes.push(h);
            }
        }
        ShingleSet { hashes }
    }

    /// Number of distinct shingles.
    pub fn len(&self) -> usize {
        self.hashes.len()
    }

    /// Returns true if and only if the set holds no shingle.
    pub fn is_empty(&self) -> bool {
        self.hashes.is_empty()
    }

    /// The sorted hashes.
    pub fn as_slice(&self) -> &[u64] {
        &self.hashes
    }

    /// Returns true if and only if `hash` is in the set.
    pub fn contains(&self, hash: u64) -> bool {
        self.hashes.binary_search(&hash).is_ok()
    }

    /// Number of shingles in both sets.
    ///
    /// A linear merge when the sets have similar sizes; when one is much
    /// smaller (a teaser against a long page), each of its hashes is looked up
    /// by galloping through the larger one.
    pub fn intersection_len(&self, other: &ShingleSet) -> usize {
        let (small, large) = if self.len() <= other.len() {
            (self.as_slice(), other.as_slice())
        } else {
            (other.as_slice(), self.as_slice())
        };
        if small.is_empty() {
            return 0;
        }
        if large.len() / small.len() >= 16 {
            gallop_intersection_len(small, large)
        } else {
            merge_intersection_len(small, large)
        }
    }
}

/// Size of the intersection of two sorted, distinct slices, by a linear merge.
pub(crate) fn merge_intersection_len(a: &[u64], b: &[u64]) -> usize {
    let (mut i, mut j, mut n) = (0, 0, 0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                n += 1;
                i += 1;
                j += 1;
            }
        }
    }
    n
}

fn gallop_intersection_len(small: &[u64], large: &[u64]) -> usize {
    let mut rest = large;
    let mut n = 0;
    for &x in small {
        // Exponential search for the first element >= x, then binary search.
        let mut bound = 1;
        while bound < rest.len() && rest[bound] < x {
            bound *= 2;
        }
        let window = &rest[..rest.len().min(bound + 1)];
        match window.binary_search(&x) {
            Ok(pos) => {
                n += 1;
                rest = &rest[pos + 1..];
            }
            Err(pos) => rest = &rest[pos..],
        }
        if rest.is_empty() {
            break;
        }
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn tok(words: &str) -> Vec<u64> {
        words.split_whitespace().map(hash_token).collect()
    }

    fn sorted_by_comparison(mut v: Vec<u64>) -> Vec<u64> {
        v.sort_unstable();
        v
    }

    proptest! {
        #[test]
        fn sorting_hashes_sorts_spread_values(
            seeds in prop::collection::vec(any::<u64>(), 0..3000),
            repeats in 0usize..50,
        ) {
            // Hash values, some repeated (a shingle that occurs twice).
            let mut hashes: Vec<u64> =
                seeds.iter().map(|&s| crate::hash_lanes::splitmix_finalize(s)).collect();
            let copies: Vec<u64> = hashes.iter().copied().take(repeats).collect();
            hashes.extend(copies);
            prop_assert_eq!(sort_hashes(hashes.clone()), sorted_by_comparison(hashes));
        }

        #[test]
        fn a_set_is_its_hashes_sorted_and_distinct(
            values in prop::collection::vec(0u64..300, 0..200),
            order in 0u8..3,
        ) {
            // As they come, sorted with repeats, or already a set.
            let mut values = values;
            if order > 0 {
                values.sort_unstable();
            }
            if order > 1 {
                values.dedup();
            }
            let mut expected = values.clone();
            expected.sort_unstable();
            expected.dedup();
            let set = ShingleSet::from_hashes(values);
            prop_assert_eq!(set.as_slice(), &expected[..]);
        }

        #[test]
        fn without_is_the_set_difference(
            set in prop::collection::vec(0u64..200, 0..100),
            remove in prop::collection::vec(0u64..200, 0..40),
        ) {
            let set = ShingleSet::from_hashes(set);
            let mut remove = remove;
            remove.sort_unstable();
            remove.dedup();
            let expected: Vec<u64> =
                set.as_slice().iter().copied().filter(|h| !remove.contains(h)).collect();
            let kept = set.without(&remove);
            prop_assert_eq!(kept.as_slice(), &expected[..]);
        }

        #[test]
        fn sequence_len_counts_the_shingles_yielded(tokens in 0usize..20, size in 1usize..8) {
            let shingler = ShingleHasher::new(size).unwrap();
            let mut out = Vec::new();
            shingler.shingles_into(&vec![1; tokens], &mut out);
            prop_assert_eq!(shingler.sequence_len(tokens), out.len());
        }

        #[test]
        fn sorting_hashes_sorts_values_that_are_not_spread(
            values in prop::collection::vec(0u64..5000, 0..3000),
        ) {
            // All in the lowest buckets: the fallback.
            prop_assert_eq!(sort_hashes(values.clone()), sorted_by_comparison(values));
        }
    }

    #[test]
    fn sorting_hashes_handles_crowded_buckets_and_extremes() {
        // Every value equal: one bucket, the fallback.
        let same = vec![7u64; 500];
        assert_eq!(sort_hashes(same.clone()), same);
        // 134 to 135 values make 256 buckets, one per top byte: the
        // extremes of the range, one value in each of 100 buckets (odd top
        // bytes), and a crowded bucket (top byte 2) in reverse order, at
        // the fallback's threshold (32: insertion sort) and over it (33).
        for crowded in [32u64, 33] {
            let mut values = vec![u64::MAX, 0];
            values.extend((0..100u64).map(|i| ((2 * i + 1) << 56) | i));
            values.extend((0..crowded).rev().map(|k| (2 << 56) | (k * 7)));
            assert_eq!(sort_hashes(values.clone()), sorted_by_comparison(values));
        }
    }

    #[test]
    fn shingles_of_a_sentence() {
        let h = ShingleHasher::new(3).unwrap();
        let set = h.shingle_set(&tok("a b c d a b c"));
        // windows: abc bcd cda dab abc -> 4 distinct
        assert_eq!(set.len(), 4);
        assert!(set.contains(ShingleHasher::hash_window(&tok("c d a"))));
    }

    #[test]
    fn short_and_empty_documents() {
        let h = ShingleHasher::new(5).unwrap();
        assert_eq!(h.shingle_set(&tok("only two")).len(), 1);
        assert!(h.shingle_set(&[]).is_empty());
        assert!(ShingleHasher::new(0).is_err());
        assert!(ShingleHasher::new(MAX_SHINGLE_SIZE + 1).is_err());
    }

    #[test]
    fn order_matters_within_a_shingle() {
        assert_ne!(
            ShingleHasher::hash_window(&tok("a b")),
            ShingleHasher::hash_window(&tok("b a"))
        );
    }

    #[test]
    fn hashes_are_stable() {
        // Persisted values: a change here breaks every existing index. The
        // expected values come from an independent XXH3 implementation
        // (Python `xxhash` 3.x: `xxh3_64_intdigest(data, seed=...)`).
        assert_eq!(hash_token("neardup"), 0x8898_8d69_7f73_6b68);
        let words = tok("the quick brown fox jumps");
        assert_eq!(ShingleHasher::hash_window(&words), 0x5efe_182b_046c_02e6);
    }

    proptest! {
        #[test]
        fn intersection_matches_a_naive_count(
            a in prop::collection::btree_set(0u64..400, 0..200),
            b in prop::collection::btree_set(0u64..400, 0..60),
        ) {
            let sa = ShingleSet::from_hashes(a.iter().copied().collect());
            let sb = ShingleSet::from_hashes(b.iter().copied().collect());
            let naive = a.intersection(&b).count();
            prop_assert_eq!(sa.intersection_len(&sb), naive);
            prop_assert_eq!(sb.intersection_len(&sa), naive);
            prop_assert_eq!(merge_intersection_len(sa.as_slice(), sb.as_slice()), naive);
            prop_assert_eq!(gallop_intersection_len(sb.as_slice(), sa.as_slice()), naive);
        }
    }
}

/// Serde form of a list of 64-bit hashes: one byte string of little-endian
/// words. Hashes are uniform, so a varint format (postcard's) would spend
/// about 9.6 bytes on each; this spends 8.
pub mod hash_bytes {
    use serde::{Deserializer, Serializer};

    /// Writes `hashes` as one byte string.
    pub fn serialize<S: Serializer>(hashes: &[u64], serializer: S) -> Result<S::Ok, S::Error> {
        let mut bytes = Vec::with_capacity(hashes.len() * 8);
        crate::spill::u64s_to_bytes(hashes, &mut bytes);
        serializer.serialize_bytes(&bytes)
    }

    /// Reads hashes written by [`serialize`].
    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<u64>, D::Error> {
        struct Words;
        impl serde::de::Visitor<'_> for Words {
            type Value = Vec<u64>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a byte string of little-endian 64-bit words")
            }
            fn visit_bytes<E: serde::de::Error>(self, bytes: &[u8]) -> Result<Vec<u64>, E> {
                if !bytes.len().is_multiple_of(8) {
                    return Err(E::invalid_length(bytes.len(), &self));
                }
                Ok(crate::spill::bytes_to_u64s(bytes))
            }
        }
        deserializer.deserialize_bytes(Words)
    }
}
