//! Stage 5b of the pipeline: passage-level candidates, by winnowing.
//!
//! Whole-document MinHash compares documents as a whole: an article that
//! fills a sixth of an aggregator page has a Jaccard similarity of about
//! 0.17 with it and is never a candidate. Passage fingerprints find it
//! whatever surrounds it.
//!
//! **Winnowing** (Schleimer, Wilkerson & Aiken, SIGMOD 2003) keeps, from every
//! window of `w` consecutive shingle hashes, the smallest (the rightmost on
//! ties). Two texts that share a run of at least `w + n − 1` tokens (for
//! shingles of `n` tokens) share at least one fingerprint, wherever the run
//! sits in either text, and about `2/(w + 1)` of the shingles are kept.
//! Documents that share at least [`PassageConfig::min_shared`] fingerprints
//! become a candidate pair. The pairs are found by grouping
//! `(fingerprint, document)` entries by a parallel sort, the same machinery
//! as LSH bands. The cost grows with the entries and with the squared size
//! of each group, and each group is capped:
//!
//! * boilerplate shingles (see [`crate::boilerplate`]) are removed from a
//!   document's fingerprints before grouping, so site templates create no
//!   candidates;
//! * a fingerprint shared by more than [`PassageConfig::group_cap`] documents
//!   pairs each of them with one hub, the member with the fewest content
//!   shingles. For a story carried by hundreds of pages, that is the
//!   original article, so each page is still compared with it, at linear
//!   cost.
//!
//! The window was chosen on `devset/syndication`; see `ARCHITECTURE.md`.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::candidates::{Candidates, GroupPairs, count_pairs, groups_by_key};

/// Default winnowing window, in shingles.
pub const DEFAULT_WINNOW_WINDOW: usize = 16;
/// Default number of shared fingerprints that makes a candidate pair.
pub const DEFAULT_MIN_SHARED: u32 = 2;
/// Default size above which a fingerprint group is paired through a hub.
pub const DEFAULT_GROUP_CAP: usize = 64;

/// The fingerprints of a sequence of shingle hashes: the minimum of every
/// window of `window` hashes (rightmost on ties), each selected position
/// once, in text order. A sequence shorter than the window yields its
/// minimum.
///
/// ```
/// use neardup::passage::winnow;
/// let hashes = [77, 72, 42, 17, 98, 50, 17, 98, 8, 88, 67, 39, 62, 53, 87];
/// assert_eq!(winnow(&hashes, 4), [17, 17, 8, 39]);
/// ```
pub fn winnow(hashes: &[u64], window: usize) -> Vec<u64> {
    let window = window.max(1);
    if hashes.is_empty() {
        return Vec::new();
    }
    if hashes.len() <= window {
        return vec![*hashes.iter().min().unwrap_or(&0)];
    }
    let mut out = Vec::with_capacity(2 * hashes.len() / (window + 1) + 1);
    // The rightmost minimum of the current window. A new hash at most as
    // small replaces it; when it slides out, the window is scanned again.
    // On hash values that happens about once per fingerprint, so the scan
    // costs O(n) with a simpler inner loop than a monotonic deque.
    let mut min_at = rightmost_min(&hashes[..window]);
    out.push(hashes[min_at]);
    for i in window..hashes.len() {
        let start = i + 1 - window;
        if hashes[i] <= hashes[min_at] {
            min_at = i;
        } else if min_at < start {
            min_at = start + rightmost_min(&hashes[start..=i]);
        } else {
            continue;
        }
        out.push(hashes[min_at]);
    }
    out
}

/// Index of the rightmost smallest hash of `window` (not empty).
#[inline]
fn rightmost_min(window: &[u64]) -> usize {
    let mut at = 0;
    for (j, &h) in window.iter().enumerate().skip(1) {
        if h <= window[at] {
            at = j;
        }
    }
    at
}

/// Settings of passage candidates.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PassageConfig {
    /// Fingerprints two documents must share to become a candidate pair.
    pub min_shared: u32,
    /// Groups larger than this are paired through a hub.
    pub group_cap: usize,
}

impl Default for PassageConfig {
    fn default() -> Self {
        PassageConfig { min_shared: DEFAULT_MIN_SHARED, group_cap: DEFAULT_GROUP_CAP }
    }
}

/// Candidate pairs among documents that share passages.
///
/// `fingerprints[i]` are document `i`'s content fingerprints (sorted,
/// distinct); `sizes[i]` its number of content shingles, used to pick hubs.
pub fn find_passage_candidates(
    fingerprints: &[&[u64]],
    sizes: &[u32],
    config: &PassageConfig,
) -> Candidates {
    let mut entries: Vec<(u64, u32)> = fingerprints
        .par_iter()
        .enumerate()
        .flat_map_iter(|(doc, fps)| fps.iter().map(move |&fp| (fp, doc as u32)))
        .collect();
    let groups = groups_by_key(&mut entries);
    let mut pairs = GroupPairs::new(config.group_cap);
    let mut packed = Vec::new();
    for (_, members) in &groups {
        pairs.emit(members, passage_hub(members, |d| sizes[d as usize]), |p| packed.push(p));
    }
    Candidates { pairs: count_pairs(packed, config.min_shared), oversized: pairs.into_report() }
}

/// The hub of an oversized passage group: its smallest member (by content
/// size, then index). An article shared by many pages is the smallest
/// document holding the passage, so every page still meets the article.
pub fn passage_hub(members: &[u32], size: impl Fn(u32) -> u32) -> u32 {
    members.iter().copied().min_by_key(|&m| (size(m), m)).unwrap_or(members[0])
}

/// Winnowing with a monotonic deque, the textbook form the fast scan must
/// agree with.
#[cfg(test)]
fn winnow_with_deque(hashes: &[u64], window: usize) -> Vec<u64> {
    let window = window.max(1);
    if hashes.len() <= window {
        return hashes.iter().min().map_or_else(Vec::new, |&m| vec![m]);
    }
    let mut out = Vec::new();
    let mut deque = std::collections::VecDeque::with_capacity(window);
    let mut last: Option<usize> = None;
    for (i, &h) in hashes.iter().enumerate() {
        while deque.back().is_some_and(|&j| hashes[j] >= h) {
            deque.pop_back();
        }
        deque.push_back(i);
        if i + 1 >= window {
            while deque.front().is_some_and(|&j| j + window <= i) {
                deque.pop_front();
            }
            if last != Some(deque[0]) {
                out.push(hashes[deque[0]]);
                last = Some(deque[0]);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn short_and_empty_sequences() {
        assert!(winnow(&[], 4).is_empty());
        assert_eq!(winnow(&[5, 3, 9], 4), [3]);
    }

    #[test]
    fn shared_passages_make_candidates_whatever_surrounds_them() {
        let passage: Vec<u64> = (1000..1040).collect();
        let mut page: Vec<u64> = (5000..5300).collect();
        page.splice(120..120, passage.iter().copied());
        let mut article: Vec<u64> = passage.clone();
        article.extend(9000..9010);
        let unrelated: Vec<u64> = (7000..7100).collect();
        let fps: Vec<Vec<u64>> = [page, article, unrelated]
            .iter()
            .map(|seq| {
                let mut f = winnow(seq, 8);
                f.sort_unstable();
                f.dedup();
                f
            })
            .collect();
        let refs: Vec<&[u64]> = fps.iter().map(Vec::as_slice).collect();
        let found = find_passage_candidates(&refs, &[340, 50, 100], &PassageConfig::default());
        assert_eq!(found.pairs, [(0, 1)]);
    }

    #[test]
    fn oversized_groups_pair_with_the_smallest_member() {
        let shared: Vec<u64> = vec![1, 2, 3];
        let fps: Vec<&[u64]> = vec![&shared; 6];
        let sizes = [50, 40, 10, 60, 70, 80];
        let config = PassageConfig { min_shared: 2, group_cap: 3 };
        let found = find_passage_candidates(&fps, &sizes, &config);
        assert_eq!(found.pairs, [(0, 2), (1, 2), (2, 3), (2, 4), (2, 5)]);
        assert_eq!(found.oversized.count, 1);
    }

    proptest! {
        /// The rescanning form picks exactly what the deque picks, ties
        /// included (few distinct values make many ties).
        #[test]
        fn fast_winnowing_agrees_with_the_deque(
            hashes in prop::collection::vec(0u64..6, 0..120),
            wide in prop::collection::vec(any::<u64>(), 0..300),
            window in 1usize..20,
        ) {
            prop_assert_eq!(winnow(&hashes, window), winnow_with_deque(&hashes, window));
            prop_assert_eq!(winnow(&wide, window), winnow_with_deque(&wide, window));
        }

        /// The winnowing guarantee: a shared run of `window` hashes yields a
        /// shared fingerprint, wherever it sits.
        #[test]
        fn shared_runs_share_a_fingerprint(
            before in prop::collection::vec(any::<u64>(), 0..50),
            after in prop::collection::vec(any::<u64>(), 0..50),
            run in prop::collection::vec(any::<u64>(), 8..40),
            other in prop::collection::vec(any::<u64>(), 0..30),
        ) {
            let window = 8;
            let a: Vec<u64> = before.iter().chain(&run).chain(&after).copied().collect();
            let b: Vec<u64> = other.iter().chain(&run).copied().collect();
            let fa = winnow(&a, window);
            let fb = winnow(&b, window);
            prop_assert!(fa.iter().any(|h| fb.contains(h) && run.contains(h)));
        }
    }
}
