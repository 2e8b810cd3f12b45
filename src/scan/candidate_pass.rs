//! Pass 3 of a scan: band keys and passage fingerprints → candidate pairs.
//!
//! ```text
//! (band key, doc) spill ──group, check band tags──▶ pairs tagged with their view ─┐
//! (fingerprint, doc) spill ──drop boilerplate, group──▶ pairs ──────────────────┴▶ pair spill
//! pair spill ──sort, count──▶ distinct candidate pairs
//! ```
//!
//! A pair is a candidate when the word view put it in one bucket, when the
//! immutable or character view put it in the same bucket in at least two
//! bands (see [`crate::spin::SPIN_MIN_BANDS`]), or when it shares at least
//! [`crate::passage::PassageConfig::min_shared`] passage fingerprints.
//! Grouping and counting go partition by partition, so the memory they need
//! is bounded by the sort budget, not by the corpus. Only the final list of
//! distinct candidates is held whole, and, while buckets are grouped, a
//! 16-bit tag of each document's character-view band keys: unrelated texts
//! share one character band at a fixed rate, so without them the pair spill
//! would grow with the square of the corpus (see
//! [`crate::candidates::BandTags`]).

use rayon::prelude::*;

use crate::Result;
use crate::candidates::{BandTags, GroupPairs, group_entries, unpack};
use crate::passage::passage_hub;
use crate::progress::{Progress, Stage};
use crate::spill::{EntrySpill, Resources, mix};
use crate::spin::{CHAR_MIN_BANDS, SPIN_MIN_BANDS};

use super::boilerplate_pass::REMOVED;
use super::corpus::Corpus;
use super::sketch_pass::partitions_for;
use super::{ScanStats, Scanner};

/// Tag of pairs from passage fingerprints (views are 0, 1, 2).
pub(crate) const PASSAGE_TAG: u32 = 3;
/// The character view's number among the band views.
pub(crate) const CHAR_VIEW: u32 = 2;

/// Which views make a pair a candidate, given the tags of its pair entries
/// (one per band shared in views 0 to 2, one per passage shared): the
/// word view, the immutable view, the character view, passages. A pair is
/// a candidate when one word-view band, two bands of a spin view (see
/// [`crate::spin::SPIN_MIN_BANDS`]) or `min_shared` passages say so.
pub(crate) fn candidate_views(tags: impl Iterator<Item = u32>, min_shared: u32) -> [bool; 4] {
    // Bands a pair must share in each view (word, immutables, characters).
    const MIN_BANDS: [u32; 3] = [1, SPIN_MIN_BANDS, CHAR_MIN_BANDS];
    let mut shared = [0u32; 4];
    for tag in tags {
        shared[(tag as usize).min(3)] += 1;
    }
    let [word, immutables, characters] = [0, 1, 2].map(|v| shared[v] >= MIN_BANDS[v]);
    [word, immutables, characters, shared[PASSAGE_TAG as usize] >= min_shared]
}
/// Pairs gathered before they are written to the pair spill.
const FLUSH_PAIRS: usize = 1 << 20;
/// Band groups paired by one task.
const GROUPS_PER_TASK: usize = 1024;

/// Consecutive runs of `groups` that `pairing` turns into about
/// [`FLUSH_PAIRS`] pairs each, so that the pairs of one run can be gathered
/// in memory.
fn rounds_of_pairs<'g>(
    groups: &'g [(u64, Vec<u32>)],
    pairing: &GroupPairs,
) -> Vec<&'g [(u64, Vec<u32>)]> {
    let mut rounds = Vec::new();
    let (mut start, mut pairs) = (0, 0);
    for (i, (_, members)) in groups.iter().enumerate() {
        pairs += pairing.pair_count(members.len());
        if pairs >= FLUSH_PAIRS {
            rounds.push(&groups[start..=i]);
            (start, pairs) = (i + 1, 0);
        }
    }
    if start < groups.len() {
        rounds.push(&groups[start..]);
    }
    rounds
}

impl Scanner {
    /// The pairs of some band groups, tagged with their view, and the groups
    /// that were too large to pair in full. A pair from the character view
    /// needs a second shared band to become a candidate, so the pairs whose
    /// band tags rule that out are left out here (see [`BandTags`]).
    pub(super) fn band_pairs(
        &self,
        groups: &[(u64, Vec<u32>)],
        char_tags: &BandTags,
    ) -> (Vec<(u64, u32)>, GroupPairs) {
        let mut oversized = GroupPairs::new(self.config.bucket_cap);
        let mut packed = Vec::new();
        for (key, members) in groups {
            let view = ((key >> 8) & 0xff) as u32;
            let needs_tags = view == CHAR_VIEW;
            // An oversized bucket's hub is its first member.
            oversized.emit(members, members[0], |p| {
                if needs_tags {
                    let (a, b) = unpack(p);
                    if !char_tags.share_at_least(a, b, CHAR_MIN_BANDS) {
                        return;
                    }
                }
                packed.push((p, view));
            });
        }
        (packed, oversized)
    }

    /// Distinct candidate pairs `(a, b)`, `a < b`, sorted.
    pub(super) fn find_candidate_pairs(
        &self,
        corpus: &Corpus,
        bands: EntrySpill,
        passages: EntrySpill,
        resources: &Resources,
        progress: &dyn Progress,
        stats: &mut ScanStats,
    ) -> Result<Vec<(u32, u32)>> {
        let budget = resources.sort_entries();
        let mut pairs = resources.entry_spill(partitions_for(&resources.spill))?;
        progress.start(Stage::Grouping, Some(bands.len() + passages.len()));

        let mut band_groups = GroupPairs::new(self.config.bucket_cap);
        let strategy = self.config.banding;
        let char_tags = corpus.char_tags.load()?;
        bands.drain(
            budget,
            |key, _| key,
            |batch| {
                progress.advance(batch.len() as u64);
                let groups = group_entries(batch, strategy);
                for round in rounds_of_pairs(&groups, &band_groups) {
                    let emitted: Vec<(Vec<(u64, u32)>, GroupPairs)> = round
                        .par_chunks(GROUPS_PER_TASK)
                        .map(|chunk| self.band_pairs(chunk, &char_tags))
                        .collect();
                    for (packed, groups) in emitted {
                        band_groups.merge(groups);
                        for (pair, view) in packed {
                            pairs.push(pairs.partition_of_hash(mix(pair)), pair, view)?;
                        }
                    }
                }
                Ok(())
            },
        )?;
        drop(char_tags);
        let mut passage_groups = GroupPairs::new(self.config.passage.group_cap);
        passages.drain(
            budget,
            |key, _| key,
            |batch| {
                progress.advance(batch.len() as u64);
                // By key, then each run by document (see `candidates::groups_by_key`).
                batch.par_sort_unstable_by_key(|e| e.0);
                let mut packed = Vec::new();
                let mut members = Vec::new();
                for run in batch.chunk_by_mut(|a, b| a.0 == b.0) {
                    // Plain entries sort before removal marks.
                    run.sort_unstable_by_key(|e| e.1);
                    let split = run.partition_point(|e| e.1 & REMOVED == 0);
                    let (kept, removed) = run.split_at(split);
                    members.clear();
                    members.extend(
                        kept.iter()
                            .map(|e| e.1)
                            .filter(|d| removed.binary_search(&(run[0].0, d | REMOVED)).is_err()),
                    );
                    members.dedup();
                    if members.len() > 1 {
                        let hub = passage_hub(&members, |d| corpus.content_len(d));
                        passage_groups.emit(&members, hub, |p| packed.push(p));
                    }
                    if packed.len() >= FLUSH_PAIRS {
                        for p in packed.drain(..) {
                            pairs.push(pairs.partition_of_hash(mix(p)), p, PASSAGE_TAG)?;
                        }
                    }
                }
                for p in packed {
                    pairs.push(pairs.partition_of_hash(mix(p)), p, PASSAGE_TAG)?;
                }
                Ok(())
            },
        )?;
        stats.oversized = band_groups.into_report();
        stats.oversized_passages = passage_groups.into_report();

        let min_shared = self.config.passage.min_shared;
        stats.candidate_entries = pairs.len();
        let mut candidates = Vec::new();
        let mut by_view = [0u64; 4];
        pairs.drain(
            budget,
            |key, _| key,
            |batch| {
                // By pair alone: the views of a pair's entries are counted,
                // in any order.
                batch.par_sort_unstable_by_key(|e| e.0);
                for run in batch.chunk_by(|a, b| a.0 == b.0) {
                    let views = candidate_views(run.iter().map(|e| e.1), min_shared);
                    for (count, found) in by_view.iter_mut().zip(views) {
                        *count += u64::from(found);
                    }
                    if views.iter().any(|&v| v) {
                        candidates.push(unpack(run[0].0));
                    }
                }
                Ok(())
            },
        )?;
        [
            stats.lsh_candidates,
            stats.spin_candidates,
            stats.char_candidates,
            stats.passage_candidates,
        ] = by_view;
        candidates.par_sort_unstable();
        stats.candidate_pairs = candidates.len() as u64;
        progress.finish();
        Ok(candidates)
    }
}
