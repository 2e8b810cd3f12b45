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
use crate::candidates::{BandTags, GroupPairs, group_entries, sort_repeated_keys, unpack};
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
/// Passage entries grouped at once (see [`for_each_passage_groups`]).
const GROUP_PIECE: usize = 1 << 18;
/// Band or passage groups paired by one task.
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

/// Pairs the members of `groups`, a chunk of groups per task (`pair`
/// gives a chunk's pairs tagged with their view, and its groups too large
/// to pair in full), and pushes the pairs to `spill` in the order of the
/// groups, so that the spill's content does not depend on the threads.
fn push_group_pairs<F>(
    groups: &[(u64, Vec<u32>)],
    pairing: &mut GroupPairs,
    spill: &mut EntrySpill,
    pair: F,
) -> Result<()>
where
    F: Fn(&[(u64, Vec<u32>)]) -> (Vec<(u64, u32)>, GroupPairs) + Sync,
{
    for round in rounds_of_pairs(groups, pairing) {
        let emitted: Vec<(Vec<(u64, u32)>, GroupPairs)> =
            round.par_chunks(GROUPS_PER_TASK).map(&pair).collect();
        for (packed, oversized) in emitted {
            pairing.merge(oversized);
            for (p, view) in packed {
                spill.push(spill.partition_of_hash(mix(p)), p, view)?;
            }
        }
    }
    Ok(())
}

/// Sorts `entries` (`(fingerprint, document)` entries and removal marks)
/// and gives `f`, in fingerprint order, the groups of documents that share
/// a fingerprint (see [`passage_group`]) of about `piece` entries at a
/// time: held all at once, the groups of one batch took tens of MB at 1M
/// documents.
fn for_each_passage_groups(
    entries: &mut [(u64, u32)],
    piece: usize,
    mut f: impl FnMut(Vec<(u64, Vec<u32>)>) -> Result<()>,
) -> Result<()> {
    // Lone keys left out, then by key, then each run by document (see
    // `candidates::groups_by_key`).
    let mut rest = sort_repeated_keys(entries);
    while !rest.is_empty() {
        // A piece ends where a key does.
        let mut end = piece.clamp(1, rest.len());
        while end < rest.len() && rest[end].0 == rest[end - 1].0 {
            end += 1;
        }
        let (entries, after) = std::mem::take(&mut rest).split_at_mut(end);
        rest = after;
        f(entries
            .par_chunk_by_mut(|a, b| a.0 == b.0)
            .filter(|run| run.len() > 1)
            .filter_map(passage_group)
            .collect())?;
    }
    Ok(())
}

/// The documents that share one passage fingerprint, given its entries
/// (`run`, one key): those with a plain entry and no removal mark, when
/// there are at least two.
fn passage_group(run: &mut [(u64, u32)]) -> Option<(u64, Vec<u32>)> {
    // Plain entries sort before removal marks.
    run.sort_unstable_by_key(|e| e.1);
    let split = run.partition_point(|e| e.1 & REMOVED == 0);
    let (kept, removed) = run.split_at(split);
    let key = kept.first()?.0;
    let mut members: Vec<u32> = kept
        .iter()
        .map(|e| e.1)
        .filter(|d| removed.binary_search(&(key, d | REMOVED)).is_err())
        .collect();
    members.dedup();
    (members.len() > 1).then_some((key, members))
}

/// The pairs of some passage groups, a group of more than `cap` members
/// paired around its shortest member only (see [`passage_hub`]), and the
/// groups that were.
fn passage_pairs(
    groups: &[(u64, Vec<u32>)],
    cap: usize,
    corpus: &Corpus,
) -> (Vec<(u64, u32)>, GroupPairs) {
    let mut oversized = GroupPairs::new(cap);
    let mut packed = Vec::new();
    for (_, members) in groups {
        let hub = passage_hub(members, |d| corpus.content_len(d));
        oversized.emit(members, hub, |p| packed.push((p, PASSAGE_TAG)));
    }
    (packed, oversized)
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
                push_group_pairs(&groups, &mut band_groups, &mut pairs, |chunk| {
                    self.band_pairs(chunk, &char_tags)
                })?;
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
                for_each_passage_groups(batch, GROUP_PIECE, |groups| {
                    push_group_pairs(&groups, &mut passage_groups, &mut pairs, |chunk| {
                        passage_pairs(chunk, self.config.passage.group_cap, corpus)
                    })
                })
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grouped_passages_leave_out_removed_entries_and_lone_documents() {
        let entries = vec![
            // Fingerprint 9: documents 3, 5 (twice) and 7, but 7's entry
            // and an entry 8 never had are removed.
            (9, 7),
            (9, 5),
            (9, 8 | REMOVED),
            (9, 3),
            (9, 7 | REMOVED),
            (9, 5),
            // Fingerprint 4: two documents. 6: one document twice. 2: one
            // document and its removal. 1: one entry.
            (4, 11),
            (6, 12),
            (2, 13 | REMOVED),
            (4, 10),
            (6, 12),
            (2, 13),
            (2, 14 | REMOVED),
            (1, 15),
        ];
        // Pieces of any size give the same groups: none splits a key.
        for piece in [1, 3, 7, 100] {
            let mut groups = Vec::new();
            for_each_passage_groups(&mut entries.clone(), piece, |g| {
                groups.extend(g);
                Ok(())
            })
            .unwrap();
            assert_eq!(groups, vec![(4, vec![10, 11]), (9, vec![3, 5])], "piece {piece}");
        }
        let mut removed_only = vec![(5, 1 | REMOVED), (5, 2 | REMOVED)];
        for_each_passage_groups(&mut removed_only, 100, |g| {
            assert_eq!(g, Vec::new());
            Ok(())
        })
        .unwrap();
    }
}
