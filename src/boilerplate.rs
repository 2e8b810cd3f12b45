//! Stage 5a of the pipeline: find boilerplate in the corpus itself.
//!
//! Site navigation, app banners, cookie notices, "Follow us" lines and
//! newsletter footers recur across many pages. If they counted as text, two
//! pages of one site would look related and scores would be inflated. No list
//! of phrases is used: boilerplate is found from the corpus.
//!
//! A shingle is **boilerplate in a document** when
//! 1. it occurs in at least [`BoilerplateConfig::min_df`] distinct documents
//!    (exact duplicates count once), and
//! 2. it lies in a *short* repeated run: the stretch of consecutive such
//!    shingles around it covers fewer than
//!    [`BoilerplateConfig::max_run_tokens`] tokens.
//!
//! The second condition keeps real syndication. A news-agency story carried by
//! hundreds of sites recurs just as often as a template, but as one long run
//! of hundreds of words. It stays content, so every page can still be found to
//! contain it. Template text comes in short blocks (a navigation line, a
//! footer sentence) broken up by text that varies from page to page (dates,
//! headlines, the story itself).
//!
//! Boilerplate shingles are removed from a document's *content* set before
//! verification and before passage fingerprints are grouped. So they neither
//! create candidate pairs nor count in any reported score.
//!
//! Document frequencies are exact: every distinct document's shingle hashes
//! are sorted and counted in parallel. The defaults were chosen on
//! `devset/syndication` and `devset/mixed` (see `ARCHITECTURE.md`).

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::shingle::ShingleSet;

/// Default document frequency from which a shingle may be boilerplate.
pub const DEFAULT_MIN_DF: u32 = 5;
/// Default run length (tokens) below which frequent text is boilerplate.
pub const DEFAULT_MAX_RUN_TOKENS: usize = 100;

/// When recurring text counts as boilerplate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BoilerplateConfig {
    /// Minimum number of distinct documents a shingle occurs in.
    pub min_df: u32,
    /// Runs of frequent shingles covering this many tokens or more are
    /// content, not boilerplate.
    pub max_run_tokens: usize,
}

impl Default for BoilerplateConfig {
    fn default() -> Self {
        BoilerplateConfig { min_df: DEFAULT_MIN_DF, max_run_tokens: DEFAULT_MAX_RUN_TOKENS }
    }
}

/// The shingles that occur in at least `min_df` documents.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FrequentShingles {
    hashes: Vec<u64>,
}

impl FrequentShingles {
    /// Counts document frequencies over `sets` (one per distinct document).
    pub fn count(sets: &[&ShingleSet], min_df: u32) -> Self {
        let mut all: Vec<u64> =
            sets.par_iter().flat_map_iter(|s| s.as_slice().iter().copied()).collect();
        all.par_sort_unstable();
        let hashes = all
            .chunk_by(|a, b| a == b)
            .filter(|run| run.len() as u32 >= min_df.max(2))
            .map(|run| run[0])
            .collect();
        FrequentShingles { hashes }
    }

    /// The frequent shingles among `hashes` (sorted, distinct): for one
    /// document, when frequencies were counted elsewhere.
    pub fn from_sorted(hashes: Vec<u64>) -> Self {
        debug_assert!(hashes.windows(2).all(|w| w[0] < w[1]));
        FrequentShingles { hashes }
    }

    /// The frequent shingles, sorted.
    pub fn hashes(&self) -> &[u64] {
        &self.hashes
    }

    /// Number of frequent shingles.
    pub fn len(&self) -> usize {
        self.hashes.len()
    }

    /// Returns true if and only if no shingle is frequent.
    pub fn is_empty(&self) -> bool {
        self.hashes.is_empty()
    }

    /// Returns true if and only if `hash` is frequent.
    pub fn contains(&self, hash: u64) -> bool {
        self.hashes.binary_search(&hash).is_ok()
    }

    /// Returns true if and only if `set` holds at least one frequent shingle.
    pub fn any_in(&self, set: &ShingleSet) -> bool {
        let (mut i, mut j) = (0, 0);
        let (a, b) = (set.as_slice(), self.hashes.as_slice());
        while i < a.len() && j < b.len() {
            match a[i].cmp(&b[j]) {
                std::cmp::Ordering::Less => i += 1,
                std::cmp::Ordering::Greater => j += 1,
                std::cmp::Ordering::Equal => return true,
            }
        }
        false
    }
}

/// The boilerplate shingles of one document (sorted, distinct), given its
/// shingle hashes in text order.
///
/// A shingle that occurs both in a short run and in a long run of the same
/// document is content.
pub fn boilerplate_shingles(
    sequence: &[u64],
    shingle_size: usize,
    frequent: &FrequentShingles,
    max_run_tokens: usize,
) -> Vec<u64> {
    let mut short = Vec::new();
    let mut long = Vec::new();
    let mut i = 0;
    while i < sequence.len() {
        if !frequent.contains(sequence[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < sequence.len() && frequent.contains(sequence[i]) {
            i += 1;
        }
        let tokens = i - start + shingle_size - 1;
        let run = &sequence[start..i];
        if tokens < max_run_tokens {
            short.extend_from_slice(run)
        } else {
            long.extend_from_slice(run)
        }
    }
    short.sort_unstable();
    short.dedup();
    if !long.is_empty() {
        long.sort_unstable();
        short.retain(|h| long.binary_search(h).is_err());
    }
    short
}

/// Returns true if every run of frequent shingles in a document is short,
/// judged from counts alone, so that its boilerplate is all of its
/// `frequent` frequent shingles (what [`boilerplate_shingles`] returns)
/// without its text being read again.
///
/// The document has `positions` shingles in text order, `distinct` of them
/// distinct. Only `positions - distinct` positions repeat a shingle seen
/// before, so frequent shingles fill at most `frequent + positions -
/// distinct` positions, and no run is longer than that. If such a run
/// covers fewer than `max_run_tokens` tokens, every run is short.
///
/// Most documents pass: on the generated 100k-document corpus, 99.5 % of
/// those with a frequent shingle (8 of them on average). A page whose
/// template repeats much of itself, or that carries many frequent
/// shingles, is decided from its text.
pub fn all_runs_short(
    frequent: usize,
    positions: usize,
    distinct: usize,
    shingle_size: usize,
    max_run_tokens: usize,
) -> bool {
    let longest_run = frequent + positions.saturating_sub(distinct);
    longest_run + shingle_size.saturating_sub(1) < max_run_tokens
}

/// Byte ranges of `text` that are boilerplate: runs of tokens every one of
/// whose shingles is in `boilerplate` (sorted), as shown dimmed in reports.
/// `sequence` is the text's [`crate::features::ShingleSequence`].
pub fn boilerplate_byte_ranges(
    sequence: &crate::features::ShingleSequence,
    shingle_size: usize,
    boilerplate: &[u64],
) -> Vec<std::ops::Range<usize>> {
    let n = sequence.tokens.len();
    // covering[t]: shingles over token t; frequent[t]: those that are boilerplate.
    let mut covering = vec![0u32; n];
    let mut frequent = vec![0u32; n];
    for (i, h) in sequence.hashes.iter().enumerate() {
        let is_boilerplate = boilerplate.binary_search(h).is_ok();
        let last = if sequence.hashes.len() == 1 { n } else { (i + shingle_size).min(n) };
        for t in i..last {
            covering[t] += 1;
            frequent[t] += u32::from(is_boilerplate);
        }
    }
    let mut out: Vec<std::ops::Range<usize>> = Vec::new();
    for t in 0..n {
        if covering[t] == 0 || frequent[t] < covering[t] {
            continue;
        }
        let span = sequence.tokens[t];
        match out.last_mut() {
            Some(last) if t > 0 && last.end == sequence.tokens[t - 1].end => last.end = span.end,
            _ => out.push(span.start..span.end),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(v: &[u64]) -> ShingleSet {
        ShingleSet::from_hashes(v.to_vec())
    }

    #[test]
    fn frequency_counts_documents() {
        let (a, b, c) = (set(&[1, 2, 3]), set(&[2, 3, 4]), set(&[3, 4, 5]));
        let f = FrequentShingles::count(&[&a, &b, &c], 2);
        assert_eq!(f.hashes, [2, 3, 4]);
        assert!(f.any_in(&a) && !f.any_in(&set(&[1, 5])));
        assert_eq!(FrequentShingles::count(&[&a, &b, &c], 3).hashes, [3]);
    }

    #[test]
    fn short_frequent_runs_are_boilerplate_long_ones_are_content() {
        let frequent = FrequentShingles { hashes: (100..200).collect() };
        // Content 1..=10, a 3-shingle template block, content, a 40-shingle
        // repeated story.
        let mut seq: Vec<u64> = (1..=10).collect();
        seq.extend([100, 101, 102]);
        seq.extend(20..30);
        seq.extend(150..190);
        let bp = boilerplate_shingles(&seq, 5, &frequent, 30);
        // The block covers 3 + 4 = 7 tokens: boilerplate. The story covers
        // 44 tokens: content.
        assert_eq!(bp, [100, 101, 102]);
    }

    #[test]
    fn a_shingle_in_a_long_run_elsewhere_stays_content() {
        let frequent = FrequentShingles { hashes: (100..200).collect() };
        let mut seq: Vec<u64> = vec![100, 1];
        seq.extend(100..150);
        assert!(boilerplate_shingles(&seq, 5, &frequent, 30).is_empty());
        assert_eq!(set(&[1, 2, 3]).without(&[2]), set(&[1, 3]));
    }

    proptest::proptest! {
        /// When the counts say every run is short, the boilerplate is every
        /// frequent shingle of the document, as found from its sequence.
        #[test]
        fn runs_judged_short_from_counts_leave_every_frequent_shingle_boilerplate(
            // A small alphabet, so that shingles repeat and runs form.
            sequence in proptest::collection::vec(0u64..40, 0..120),
            frequent in proptest::collection::vec(0u64..40, 0..40),
            shingle_size in 1usize..6,
            max_run_tokens in 2usize..60,
        ) {
            let frequent = FrequentShingles::from_sorted({
                let mut f = frequent;
                f.sort_unstable();
                f.dedup();
                f
            });
            let set = ShingleSet::from_hashes(sequence.clone());
            let in_doc: Vec<u64> =
                set.as_slice().iter().copied().filter(|&h| frequent.contains(h)).collect();
            let short = all_runs_short(
                in_doc.len(),
                sequence.len(),
                set.len(),
                shingle_size,
                max_run_tokens,
            );
            if short {
                proptest::prop_assert_eq!(
                    boilerplate_shingles(&sequence, shingle_size, &frequent, max_run_tokens),
                    in_doc
                );
            }
        }
    }

    #[test]
    fn counts_that_allow_a_long_run_are_not_judged_short() {
        // 20 distinct frequent shingles in a row cover 24 tokens of 5-word
        // shingles: a run of 20 tokens or more is content, so they are.
        let frequent = FrequentShingles { hashes: (100..120).collect() };
        let seq: Vec<u64> = (100..120).collect();
        assert!(boilerplate_shingles(&seq, 5, &frequent, 20).is_empty());
        assert!(!all_runs_short(20, 20, 20, 5, 20));
        assert!(all_runs_short(20, 20, 20, 5, 25));
        // Repeats: 3 frequent shingles, each 8 times, in a row (24 positions).
        let seq: Vec<u64> = (0..24).map(|i| 100 + i % 3).collect();
        assert!(boilerplate_shingles(&seq, 5, &frequent, 20).is_empty());
        assert!(!all_runs_short(3, 24, 3, 5, 20));
    }

    #[test]
    fn boilerplate_ranges_cover_only_tokens_whose_every_shingle_is_boilerplate() {
        let f = crate::features::test_featurizer();
        let text = "home news sport weather the council approved the bridge";
        let seq = f.sequence(text);
        // The first two shingles: "home news sport", "news sport weather".
        let mut bp = seq.hashes[..2].to_vec();
        bp.sort_unstable();
        let ranges = boilerplate_byte_ranges(&seq, 3, &bp);
        // "home" and "news" are covered only by those; "sport" also by a content shingle.
        assert_eq!(ranges.len(), 1);
        assert_eq!(&text[ranges[0].clone()], "home news");
    }
}
