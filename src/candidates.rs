//! Stage 5 of the pipeline: signatures → candidate pairs, by LSH banding.
//!
//! A signature of `k = b·r` minima is cut into `b` bands of `r` rows. Each band
//! is hashed to a *band key*; documents with an equal key in any band land in
//! the same bucket and become a candidate pair. A pair with Jaccard
//! similarity `J` becomes a candidate with probability `1 − (1 − J^r)^b`, an
//! S-curve that is steep around `(1/b)^(1/r)`. [`LshParams::for_threshold`]
//! picks `(b, r)` so that pairs *at* the target threshold are found with
//! probability at least 0.99 while keeping `r` (selectivity) as large as
//! possible; every candidate is then verified exactly, so extra candidates
//! cost time, never precision.
//!
//! # Oversized buckets
//!
//! Exact duplicates are collapsed before banding, so a bucket with hundreds of
//! distinct documents reflects shared boilerplate (a site template, a cookie
//! notice) or a very large family of near copies. Pairing all its members
//! would cost `m²/2` verifications; a bucket larger than the cap instead pairs
//! every member with one *hub* (its first member), which still lets a real
//! family of copies join one cluster through the hub at cost `m`. Such buckets
//! are reported in [`Candidates::oversized`].
//!
//! # Bucketing strategies
//!
//! [`BandingStrategy::ConcurrentMap`] inserts band keys from all threads into
//! a `DashMap`; [`BandingStrategy::SortGroup`] writes `(key, doc)` pairs into
//! one vector, sorts it in parallel and groups runs of equal keys. Both give
//! the same candidates (a property test checks it). The default is the one
//! that measured faster: see `benches/README.md`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};

use dashmap::DashMap;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use xxhash_rust::xxh3::xxh3_64_with_seed;

use crate::sketch::Signature;

/// Probability of finding a pair at the threshold that
/// [`LshParams::for_threshold`] aims for.
pub const TARGET_RECALL_AT_THRESHOLD: f64 = 0.99;
/// Default bucket size above which a bucket is paired through a hub.
pub const DEFAULT_BUCKET_CAP: usize = 64;
/// How many oversized buckets are described in detail.
const OVERSIZED_EXAMPLES: usize = 10;

/// Banding parameters: `bands` bands of `rows` signature positions each.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LshParams {
    /// Number of bands `b`.
    pub bands: usize,
    /// Rows per band `r`.
    pub rows: usize,
}

impl LshParams {
    /// Checks that `bands × rows` fits in a signature of `num_hashes`.
    pub fn new(bands: usize, rows: usize, num_hashes: usize) -> crate::Result<Self> {
        if bands == 0 || rows == 0 || bands * rows > num_hashes {
            return Err(crate::Error::Config(format!(
                "{bands} bands × {rows} rows does not fit in a signature of {num_hashes} hashes"
            )));
        }
        Ok(LshParams { bands, rows })
    }

    /// The most selective banding of `num_hashes` positions that still finds
    /// a pair of Jaccard similarity `threshold` with probability at least
    /// [`TARGET_RECALL_AT_THRESHOLD`].
    ///
    /// ```
    /// use neardup::candidates::LshParams;
    /// let p = LshParams::for_threshold(0.5, 128).unwrap();
    /// assert_eq!((p.bands, p.rows), (42, 3));
    /// assert!(p.candidate_probability(0.5) > 0.99);
    /// ```
    pub fn for_threshold(threshold: f64, num_hashes: usize) -> crate::Result<Self> {
        if !(threshold > 0.0 && threshold <= 1.0) {
            return Err(crate::Error::Config(format!(
                "threshold must be in (0, 1], got {threshold}"
            )));
        }
        if num_hashes == 0 {
            return Err(crate::Error::Config("no hash functions".into()));
        }
        let best = (1..=num_hashes)
            .rev()
            .map(|rows| LshParams { bands: num_hashes / rows, rows })
            .find(|p| p.candidate_probability(threshold) >= TARGET_RECALL_AT_THRESHOLD)
            .unwrap_or(LshParams { bands: num_hashes, rows: 1 });
        Ok(best)
    }

    /// Probability that a pair with Jaccard similarity `jaccard` shares at
    /// least one band: `1 − (1 − J^r)^b`.
    pub fn candidate_probability(&self, jaccard: f64) -> f64 {
        1.0 - (1.0 - jaccard.powi(self.rows as i32)).powi(self.bands as i32)
    }

    /// Appends the key of every band of `signature` to `out`, as `u32`.
    /// Keys are only compared within one band (see [`find_candidates`]), so
    /// 32 bits leave a chance collision of 2^-32 per pair and band, which
    /// only adds a candidate that verification then rejects.
    pub fn band_keys_into(&self, signature: &Signature, out: &mut Vec<u32>) {
        out.extend((0..self.bands).map(|band| self.band_key(signature, band) as u32));
    }

    /// The key of band `band` of `signature`.
    #[inline]
    pub fn band_key(&self, signature: &Signature, band: usize) -> u64 {
        let rows = &signature.as_slice()[band * self.rows..(band + 1) * self.rows];
        let mut bytes = [0u8; 4 * 64];
        let mut key = BAND_KEY_SEED ^ band as u64;
        // Rows are hashed 64 at a time; r > 64 is legal but unusual.
        for chunk in rows.chunks(64) {
            for (dst, v) in bytes.chunks_exact_mut(4).zip(chunk) {
                dst.copy_from_slice(&v.to_le_bytes());
            }
            key = xxh3_64_with_seed(&bytes[..4 * chunk.len()], key);
        }
        key
    }
}

/// Seed of band keys. Part of the on-disk format of indexes.
const BAND_KEY_SEED: u64 = 0x6261_6e64_6b65_7931; // "bandkey1"

/// How band keys are grouped into buckets.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum BandingStrategy {
    /// Concurrent inserts into a `DashMap` from all threads.
    ConcurrentMap,
    /// Parallel sort of `(key, doc)` pairs, then runs of equal keys.
    #[default]
    SortGroup,
}

/// Settings of candidate generation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CandidateConfig {
    /// Banding parameters.
    pub params: LshParams,
    /// Buckets with more members than this are paired through a hub.
    pub bucket_cap: usize,
    /// Bucketing implementation.
    pub strategy: BandingStrategy,
}

/// A bucket that exceeded the cap.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OversizedBucket {
    /// Number of documents in the bucket.
    pub size: usize,
    /// The first few members (indices into the signature slice).
    pub sample: Vec<u32>,
}

/// Summary of the buckets that exceeded the cap.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct OversizedReport {
    /// Number of distinct member sets among the oversized buckets (one
    /// family overflowing in several bands counts once).
    pub count: usize,
    /// Number of documents in the largest one.
    pub largest: usize,
    /// Pairs that were not generated because of the cap.
    pub pairs_skipped: u64,
    /// The largest buckets, largest first.
    pub examples: Vec<OversizedBucket>,
}

/// Candidate pairs found by banding.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Candidates {
    /// Distinct pairs `(i, j)` with `i < j`, sorted.
    pub pairs: Vec<(u32, u32)>,
    /// Buckets that were paired through a hub.
    pub oversized: OversizedReport,
}

/// Finds candidate pairs among documents given by their band keys:
/// `keys[i]` holds document `i`'s `config.params.bands` keys.
///
/// This is the in-memory form, for callers that hold all keys; a scan
/// spills the same entries and groups them partition by partition with
/// the same functions ([`group_entries`], [`GroupPairs`], [`count_pairs`]).
pub fn find_candidates(keys: &[&[u32]], config: &CandidateConfig) -> Candidates {
    let bands = config.params.bands;
    let mut entries: Vec<(u64, u32)> = keys
        .par_iter()
        .enumerate()
        .flat_map_iter(|(doc, ks)| {
            ks.iter()
                .take(bands)
                .enumerate()
                .map(move |(band, &k)| (band_entry_key(band, k), doc as u32))
        })
        .collect();
    let groups = group_entries(&mut entries, config.strategy);
    let mut pairs = GroupPairs::new(config.bucket_cap);
    let mut packed = Vec::new();
    // Any shared band makes a candidate; an oversized bucket's hub is its
    // first member.
    for (_, members) in &groups {
        pairs.emit(members, members[0], |p| packed.push(p));
    }
    Candidates { pairs: count_pairs(packed, 1), oversized: pairs.into_report() }
}

/// The grouping key of band `band`'s key `key`: equal only for the same band.
/// The band key fills the high bits, so that the entry is spread over
/// partitions like a hash (see [`crate::spill::EntrySpill::partition_of_hash`]).
#[inline]
pub fn band_entry_key(band: usize, key: u32) -> u64 {
    (u64::from(key) << 32) | band as u64
}

/// The band keys of each signature, for [`find_candidates`].
pub fn band_keys(signatures: &[&Signature], params: &LshParams) -> Vec<Vec<u32>> {
    signatures
        .par_iter()
        .map(|s| {
            let mut keys = Vec::with_capacity(params.bands);
            params.band_keys_into(s, &mut keys);
            keys
        })
        .collect()
}

/// Groups `(key, doc)` entries by key: the groups of two or more distinct
/// documents with their key, members sorted ascending, in key order.
pub fn group_entries(
    entries: &mut Vec<(u64, u32)>,
    strategy: BandingStrategy,
) -> Vec<(u64, Vec<u32>)> {
    match strategy {
        BandingStrategy::ConcurrentMap => {
            let map: DashMap<u64, Vec<u32>> = DashMap::new();
            entries.par_iter().for_each(|&(key, doc)| map.entry(key).or_default().push(doc));
            let mut groups: Vec<(u64, Vec<u32>)> = map
                .into_par_iter()
                .filter_map(|(key, mut members)| {
                    // Threads push in any order; sort so the outcome is fixed.
                    members.sort_unstable();
                    members.dedup();
                    (members.len() > 1).then_some((key, members))
                })
                .collect();
            groups.par_sort_unstable_by_key(|g| g.0);
            groups
        }
        BandingStrategy::SortGroup => groups_by_key(entries),
    }
}

/// Groups `(key, doc)` entries by key with a parallel sort: the groups of two
/// or more documents with their key, members ascending, in key order.
///
/// The entries are sorted by key alone and each group's few members
/// afterwards: comparing keys only made sorting a batch of 4M band entries
/// about a third faster than comparing `(key, doc)` pairs (a probe, 5 runs
/// in turns: 77–92 against 110–130 ms), and most keys have one entry. The
/// runs of a key are then gathered on all threads: grouping 4M entries (a
/// tenth of the keys held by 3) took 73–81 ms against 84–89 ms with the
/// runs gathered on one thread (a probe, 2 threads, 6 rounds in turns, one
/// of which went the other way).
pub(crate) fn groups_by_key(entries: &mut [(u64, u32)]) -> Vec<(u64, Vec<u32>)> {
    sort_repeated_keys(entries)
        .par_chunk_by(|a, b| a.0 == b.0)
        .filter(|run| run.len() > 1)
        .filter_map(|run| {
            let mut members: Vec<u32> = run.iter().map(|&(_, doc)| doc).collect();
            members.sort_unstable();
            members.dedup();
            (members.len() > 1).then_some((run[0].0, members))
        })
        .collect()
}

/// The entries of `entries` whose key another entry has too (and a few
/// lone ones: see [`front_repeated_keys`]), moved to its front and sorted
/// by key alone; the rest of `entries` is left in no set order. Entries of
/// one key are in no set order either: callers order each run themselves.
pub(crate) fn sort_repeated_keys(entries: &mut [(u64, u32)]) -> &mut [(u64, u32)] {
    let repeated = front_repeated_keys(entries);
    let entries = &mut entries[..repeated];
    entries.par_sort_unstable_by_key(|e| e.0);
    entries
}

/// Filter slots per entry in [`front_repeated_keys`]: two bits each, so a
/// byte or two an entry (entries take 16; the table is rounded up to a
/// power of two), and a lone key shares its slot with another key one time
/// in five or less. (Twice the slots took longer on a probe, the table
/// less in cache; half, the sort that followed.)
const FILTER_SLOTS_PER_ENTRY: usize = 4;
/// Entries a task of [`front_repeated_keys`] moves.
const FILTER_CHUNK: usize = 1 << 16;

/// Moves to the front of `entries`, in their order, every entry whose key
/// another entry has too, and returns how many entries the front holds.
/// It may hold a few lone keys as well (those that share a slot of the
/// filter with another key); what is after it is left in no set order.
///
/// Most keys of a batch have one entry (88 % of the band entries and 82 %
/// of the passage entries of the generated 100k corpus) and can make no
/// group, so filtering them out before sorting spares most of the sort.
/// One pass marks each key's slot in a table of two bits a slot (seen,
/// seen again), on all threads with atomic `or`s, whose outcome does not
/// depend on the order; a second pass keeps the entries whose slot was
/// seen again. A probe grouping 4M entries with 87 % of them lone, 2
/// threads, 8 rounds taking turns: 46–52 ms filtered first, 71–85 ms
/// sorted whole.
fn front_repeated_keys(entries: &mut [(u64, u32)]) -> usize {
    let slots = (entries.len() * FILTER_SLOTS_PER_ENTRY).next_power_of_two().max(64);
    let shift = 64 - slots.trailing_zeros();
    // Fibonacci hashing: the top bits of the product depend on every bit
    // of the key.
    let slot = |key: u64| (key.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> shift) as usize;
    let words: Vec<AtomicU64> = (0..slots / 32).map(|_| AtomicU64::new(0)).collect();
    entries.par_chunks(FILTER_CHUNK).for_each(|chunk| {
        for &(key, _) in chunk {
            let s = slot(key);
            let seen = 1u64 << (2 * (s % 32));
            let word = &words[s / 32];
            if word.fetch_or(seen, Ordering::Relaxed) & seen != 0 {
                word.fetch_or(seen << 1, Ordering::Relaxed);
            }
        }
    });
    let seen_again = |key: u64| {
        let s = slot(key);
        words[s / 32].load(Ordering::Relaxed) & (2u64 << (2 * (s % 32))) != 0
    };
    let kept: Vec<usize> = entries
        .par_chunks_mut(FILTER_CHUNK)
        .map(|chunk| {
            let mut n = 0;
            for i in 0..chunk.len() {
                if seen_again(chunk[i].0) {
                    chunk[n] = chunk[i];
                    n += 1;
                }
            }
            n
        })
        .collect();
    let mut front = 0;
    for (chunk, n) in kept.into_iter().enumerate() {
        let start = chunk * FILTER_CHUNK;
        entries.copy_within(start..start + n, front);
        front += n;
    }
    front
}

/// Turns groups of documents that share a key into candidate pairs, and
/// keeps track of the groups too large to pair in full.
///
/// A group of at most `cap` members pairs all of them; a larger one pairs
/// every member with a hub chosen by the caller.
#[derive(Debug)]
pub struct GroupPairs {
    cap: usize,
    /// Distinct oversized member sets, by hash: size and first members. The
    /// same family of documents usually overflows in many groups at once;
    /// it is reported once.
    oversized: HashMap<u64, (usize, Vec<u32>)>,
}

impl GroupPairs {
    /// Pairs groups with at most `cap` members in full.
    pub fn new(cap: usize) -> Self {
        GroupPairs { cap, oversized: HashMap::new() }
    }

    /// Number of pairs [`GroupPairs::emit`] yields for a group of `members`.
    pub fn pair_count(&self, members: usize) -> usize {
        if members > self.cap { members - 1 } else { members * members.saturating_sub(1) / 2 }
    }

    /// Emits the packed pairs of one group (sorted members) to `out`.
    pub fn emit(&mut self, members: &[u32], hub: u32, mut out: impl FnMut(u64)) {
        if members.len() > self.cap {
            let hash = members.iter().fold(0x9e37_79b9_7f4a_7c15u64, |h, &m| {
                xxhash_rust::xxh3::xxh3_64_with_seed(&m.to_le_bytes(), h)
            });
            self.oversized
                .entry(hash)
                .or_insert_with(|| (members.len(), members.iter().take(5).copied().collect()));
            members.iter().filter(|&&m| m != hub).for_each(|&m| out(pack(hub, m)));
        } else {
            for (i, &a) in members.iter().enumerate() {
                members[i + 1..].iter().for_each(|&b| out(pack(a, b)));
            }
        }
    }

    /// Adds the oversized groups seen by `other`.
    pub fn merge(&mut self, other: GroupPairs) {
        for (hash, group) in other.oversized {
            self.oversized.entry(hash).or_insert(group);
        }
    }

    /// The summary of the oversized groups.
    pub fn into_report(self) -> OversizedReport {
        let mut groups: Vec<(usize, Vec<u32>, u64)> =
            self.oversized.into_iter().map(|(hash, (size, sample))| (size, sample, hash)).collect();
        groups
            .sort_unstable_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
        OversizedReport {
            count: groups.len(),
            largest: groups.first().map_or(0, |g| g.0),
            pairs_skipped: groups
                .iter()
                .map(|g| {
                    let m = g.0 as u64;
                    m * (m - 1) / 2 - (m - 1)
                })
                .sum(),
            examples: groups
                .into_iter()
                .take(OVERSIZED_EXAMPLES)
                .map(|(size, sample, _)| OversizedBucket { size, sample })
                .collect(),
        }
    }
}

/// The distinct pairs among `packed` (see [`pack`]) that occur at least
/// `min_shared` times, sorted.
pub fn count_pairs(mut packed: Vec<u64>, min_shared: u32) -> Vec<(u32, u32)> {
    packed.par_sort_unstable();
    packed
        .chunk_by(|x, y| x == y)
        .filter(|run| run.len() as u32 >= min_shared)
        .map(|run| unpack(run[0]))
        .collect()
}

/// A pair of documents as one `u64`, smaller index first.
#[inline]
pub fn pack(a: u32, b: u32) -> u64 {
    let (lo, hi) = if a < b { (a, b) } else { (b, a) };
    (u64::from(lo) << 32) | u64::from(hi)
}

/// A 16-bit tag of every band key of one view, for every document: enough
/// to tell, without the bucket spill, that two documents cannot share `n`
/// band keys.
///
/// A view that asks for two shared bands (see
/// [`crate::spin::SPIN_MIN_BANDS`]) still puts every pair that shares one
/// band in a bucket, and unrelated pairs do that at a fixed rate, so their
/// number grows with the square of the corpus (67 million pair entries
/// from the character view at 1M synthetic documents, for 90,224 pairs
/// with two bands). Asking the tags first keeps the rest out of the pair spill.
/// Documents in one bucket have the same key in that band, hence the same
/// tag, so [`BandTags::share_at_least`] never turns down a pair that shares
/// `n` keys; different keys have the same tag with odds 2^-16, which only
/// lets a pair through to the exact count.
#[derive(Clone, Debug, Default)]
pub struct BandTags {
    bands: usize,
    tags: Vec<u16>,
}

impl BandTags {
    /// Tags of `bands` bands per document, for no document yet.
    pub fn new(bands: usize) -> Self {
        BandTags { bands, tags: Vec::new() }
    }

    /// Adds the next document: its band keys in band order, or none when
    /// the document is in no bucket of the view (it is never asked about).
    pub fn push(&mut self, keys: impl IntoIterator<Item = u32>) {
        let start = self.tags.len();
        self.tags.extend(keys.into_iter().take(self.bands).map(|k| (k >> 16) as u16));
        self.tags.resize(start + self.bands, 0);
    }

    /// Makes room for `docs` more documents, exactly.
    pub fn reserve_exact(&mut self, docs: usize) {
        self.tags.reserve_exact(docs * self.bands);
    }

    /// Bands per document.
    pub fn bands(&self) -> usize {
        self.bands
    }

    /// Appends the tags, as little-endian bytes, to `out` and forgets them:
    /// the documents added next are numbered from 0 again.
    pub fn drain_bytes_into(&mut self, out: &mut Vec<u8>) {
        out.extend(self.tags.drain(..).flat_map(u16::to_le_bytes));
    }

    /// Adds the documents whose tags `bytes` holds (as written by
    /// [`BandTags::drain_bytes_into`]); false, adding nothing, when `bytes`
    /// is not the tags of whole documents.
    pub fn extend_from_bytes(&mut self, bytes: &[u8]) -> bool {
        if self.bands == 0 || !bytes.len().is_multiple_of(2 * self.bands) {
            return bytes.is_empty();
        }
        self.tags.extend(bytes.chunks_exact(2).map(|b| u16::from_le_bytes([b[0], b[1]])));
        true
    }

    /// Number of documents added.
    pub fn len(&self) -> usize {
        self.tags.len().checked_div(self.bands).unwrap_or(0)
    }

    /// Returns true if and only if no document was added.
    pub fn is_empty(&self) -> bool {
        self.tags.is_empty()
    }

    /// False when documents `a` and `b` share fewer than `n` band keys;
    /// true when they share `n` or more, and rarely otherwise (tags collide).
    ///
    /// Equal tags are summed as numbers, which the compiler vectorizes, not
    /// counted through a filter: a probe checking the pairs of groups of 64
    /// documents of 42 bands took 9.2–9.6 ns a pair against 15.5–17.7 ns (5
    /// rounds taking turns). At 1M generated documents a scan checks about
    /// 67M pairs of the character view.
    pub fn share_at_least(&self, a: u32, b: u32, n: u32) -> bool {
        let of = |d: u32| &self.tags[d as usize * self.bands..(d as usize + 1) * self.bands];
        of(a).iter().zip(of(b)).map(|(x, y)| u32::from(x == y)).sum::<u32>() >= n
    }
}

/// The pair packed by [`pack`].
#[inline]
pub fn unpack(p: u64) -> (u32, u32) {
    ((p >> 32) as u32, p as u32)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shingle::ShingleSet;
    use crate::sketch::MinHasher;
    use proptest::prelude::*;

    fn sig(h: &MinHasher, range: std::ops::Range<u64>) -> Signature {
        h.sketch(&ShingleSet::from_hashes(
            range.map(|x| xxhash_rust::xxh3::xxh3_64(&x.to_le_bytes())).collect(),
        ))
    }

    #[test]
    fn params_for_common_thresholds() {
        for (t, k) in [(0.3, 128), (0.5, 128), (0.8, 128), (0.5, 64), (0.9, 256)] {
            let p = LshParams::for_threshold(t, k).unwrap();
            assert!(p.bands * p.rows <= k);
            assert!(p.candidate_probability(t) >= TARGET_RECALL_AT_THRESHOLD);
            // One more row per band would miss the target.
            let tighter = LshParams { rows: p.rows + 1, bands: k / (p.rows + 1) };
            assert!(
                tighter.bands == 0 || tighter.candidate_probability(t) < TARGET_RECALL_AT_THRESHOLD
            );
        }
        assert!(LshParams::for_threshold(0.0, 128).is_err());
        assert!(LshParams::for_threshold(1.5, 128).is_err());
        assert!(LshParams::new(20, 7, 128).is_err());
    }

    #[test]
    fn similar_signatures_become_candidates() {
        let h = MinHasher::new(128, 7).unwrap();
        let a = sig(&h, 0..200);
        let b = sig(&h, 10..210); // J ≈ 0.9
        let c = sig(&h, 5000..5200);
        let config = CandidateConfig {
            params: LshParams::for_threshold(0.5, 128).unwrap(),
            bucket_cap: DEFAULT_BUCKET_CAP,
            strategy: BandingStrategy::SortGroup,
        };
        let keys = band_keys(&[&a, &b, &c], &config.params);
        let refs: Vec<&[u32]> = keys.iter().map(Vec::as_slice).collect();
        let found = find_candidates(&refs, &config);
        assert_eq!(found.pairs, vec![(0, 1)]);
        assert_eq!(found.oversized.count, 0);
    }

    #[test]
    fn oversized_buckets_pair_through_a_hub() {
        let h = MinHasher::new(16, 7).unwrap();
        let same = sig(&h, 0..50);
        let sigs: Vec<&Signature> = std::iter::repeat_n(&same, 10).collect();
        let config = CandidateConfig {
            params: LshParams::new(4, 4, 16).unwrap(),
            bucket_cap: 4,
            strategy: BandingStrategy::ConcurrentMap,
        };
        let keys = band_keys(&sigs, &config.params);
        let refs: Vec<&[u32]> = keys.iter().map(Vec::as_slice).collect();
        let found = find_candidates(&refs, &config);
        assert_eq!(found.pairs, (1..10).map(|j| (0, j)).collect::<Vec<_>>());
        // Four bands overflow with the same ten members: one family.
        assert_eq!(found.oversized.count, 1);
        assert_eq!(found.oversized.largest, 10);
        assert_eq!(found.oversized.pairs_skipped, 45 - 9);
        // pair_count says what emit yields, in full and through a hub.
        let pairing = GroupPairs::new(4);
        for m in 0..10u32 {
            let members: Vec<u32> = (0..m).collect();
            let mut n = 0;
            GroupPairs::new(4).emit(&members, 0, |_| n += 1);
            assert_eq!(pairing.pair_count(m as usize), n, "{m} members");
        }
    }

    #[test]
    fn band_entries_spread_over_spill_partitions() {
        let spill = crate::spill::EntrySpill::new(&crate::spill::Spill::Memory, 32).unwrap();
        let mut used = [0u32; 32];
        for doc in 0u64..3200 {
            let key = xxhash_rust::xxh3::xxh3_64(&doc.to_le_bytes()) as u32;
            used[spill.partition_of_hash(band_entry_key((doc % 3) as usize, key))] += 1;
        }
        assert!(used.iter().all(|&n| n > 50), "{used:?}");
    }

    #[test]
    fn band_tags_count_shared_keys() {
        let mut tags = BandTags::new(4);
        assert!(tags.is_empty());
        tags.push([0x0001_0000, 0x0002_0000, 0x0003_0000, 0x0004_0000]);
        tags.push([0x0001_1111, 0x0002_2222, 0x0009_0000, 0x0008_0000]);
        tags.push([0x0001_0000, 0x0007_0000, 0x0003_0000, 0x0006_0000]);
        tags.push([]);
        assert_eq!(tags.len(), 4);
        // Keys that differ only in their low half have the same tag.
        assert!(tags.share_at_least(0, 1, 2));
        assert!(!tags.share_at_least(0, 1, 3));
        assert!(tags.share_at_least(0, 2, 2));
        assert!(!tags.share_at_least(1, 2, 2));
        assert!(tags.share_at_least(1, 2, 1));
        assert!(!tags.share_at_least(0, 3, 1));

        let mut bytes = Vec::new();
        let copy = tags.clone();
        tags.drain_bytes_into(&mut bytes);
        assert!(tags.is_empty());
        let mut back = BandTags::new(4);
        assert!(!back.extend_from_bytes(&bytes[1..]));
        assert!(back.is_empty());
        assert!(back.extend_from_bytes(&bytes[..8]));
        assert!(back.extend_from_bytes(&bytes[8..]));
        assert_eq!(back.tags, copy.tags);
    }

    proptest! {
        #[test]
        fn the_front_keeps_every_entry_of_a_repeated_key_in_order(
            entries in prop::collection::vec((0u64..40, any::<u32>()), 0..300),
        ) {
            // Keys spread like hashes, in few values so that many repeat.
            let mut entries: Vec<(u64, u32)> = entries
                .into_iter()
                .map(|(k, d)| (crate::hash_lanes::splitmix_finalize(k), d))
                .collect();
            let input = entries.clone();
            let mut count: HashMap<u64, usize> = HashMap::new();
            input.iter().for_each(|e| *count.entry(e.0).or_default() += 1);
            let front = front_repeated_keys(&mut entries);
            let front = &entries[..front];
            let repeated: Vec<(u64, u32)> =
                input.iter().copied().filter(|e| count[&e.0] > 1).collect();
            let front_repeated: Vec<(u64, u32)> =
                front.iter().copied().filter(|e| count[&e.0] > 1).collect();
            prop_assert_eq!(front_repeated, repeated);
            // The rest of the front is input too, in its order.
            let mut rest = input.iter();
            prop_assert!(front.iter().all(|e| rest.any(|x| x == e)));
        }
    }

    #[test]
    fn the_front_leaves_out_most_lone_keys() {
        let mut entries: Vec<(u64, u32)> = (0..10_000u64)
            .map(|i| (crate::hash_lanes::splitmix_finalize(i + 100), i as u32))
            .collect();
        entries.extend([(7, 1), (7, 2)]);
        let front = front_repeated_keys(&mut entries);
        assert!(entries[..front].contains(&(7, 1)) && entries[..front].contains(&(7, 2)));
        // A lone key shares a slot with another about one time in five.
        assert!(front < 3_000, "{front} of {} entries kept", entries.len());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]
        #[test]
        fn band_tags_count_shared_keys_exactly_when_tags_differ(
            a in prop::collection::vec(0u32..6, 8),
            b in prop::collection::vec(0u32..6, 8),
            n in 1u32..4,
        ) {
            // Few distinct keys, so that many bands are equal; multiplying
            // spreads them to distinct high halves (distinct tags).
            let spread = |k: u32| k.wrapping_mul(0x9E37_79B9);
            let mut tags = BandTags::new(8);
            tags.push(a.iter().map(|&k| spread(k)));
            tags.push(b.iter().map(|&k| spread(k)));
            let shared = a.iter().zip(&b).filter(|(x, y)| x == y).count() as u32;
            prop_assert_eq!(tags.share_at_least(0, 1, n), shared >= n);
        }

        #[test]
        fn groups_by_key_are_the_distinct_documents_of_each_key(
            entries in prop::collection::vec((0u64..12, 0u32..10), 0..80),
        ) {
            // Few keys and documents: repeated entries, keys with one
            // document, and members that arrive out of order.
            let mut expected: std::collections::BTreeMap<u64, std::collections::BTreeSet<u32>> =
                Default::default();
            for &(key, doc) in &entries {
                expected.entry(key).or_default().insert(doc);
            }
            let expected: Vec<(u64, Vec<u32>)> = expected
                .into_iter()
                .filter(|(_, docs)| docs.len() > 1)
                .map(|(key, docs)| (key, docs.into_iter().collect()))
                .collect();
            prop_assert_eq!(groups_by_key(&mut entries.clone()), expected);
        }

        #[test]
        fn strategies_agree(starts in prop::collection::vec(0u64..60, 2..40), cap in 2usize..8) {
            let h = MinHasher::new(32, 3).unwrap();
            let sigs: Vec<Signature> = starts.iter().map(|&s| sig(&h, s..s + 40)).collect();
            let refs: Vec<&Signature> = sigs.iter().collect();
            let params = LshParams::new(8, 4, 32).unwrap();
            let keys = band_keys(&refs, &params);
            let keys: Vec<&[u32]> = keys.iter().map(Vec::as_slice).collect();
            let map = find_candidates(&keys, &CandidateConfig { params, bucket_cap: cap, strategy: BandingStrategy::ConcurrentMap });
            let sort = find_candidates(&keys, &CandidateConfig { params, bucket_cap: cap, strategy: BandingStrategy::SortGroup });
            prop_assert_eq!(map, sort);
        }
    }
}
