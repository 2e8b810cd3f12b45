//! Pass 2 of a scan: document frequencies of shingles, then each distinct
//! document's boilerplate (see [`crate::boilerplate`] for the rule).
//!
//! ```text
//! (shingle, doc) spill ──batch by batch: the entries a FrequencyFilter
//!     passes, sorted; runs ≥ min_df──▶
//!     (shingle, doc) of frequent shingles, spread by document range ──▶
//!     per document: every run short by its counts, or else re-tokenize
//!     its text and find the short frequent runs ──▶
//!     boilerplate list stored beside the full set's place; boilerplate
//!     shingles marked removed in the passage spill
//! ```
//!
//! Nothing here holds more than one batch of entries (and its filter, a
//! sixty-fourth of its size) or one range of documents in memory; the
//! frequent shingles are never gathered in one table.

use rayon::prelude::*;

use crate::Result;
use crate::boilerplate::{FrequentShingles, all_runs_short, boilerplate_shingles};
use crate::frequency_filter::FrequencyFilter;
use crate::passage::winnow;
use crate::progress::{Progress, Stage};
use crate::shingle::ShingleSet;
use crate::spill::{EntrySpill, Resources};

use super::corpus::{Corpus, encode_with_boilerplate};
use super::sketch_pass::partitions_for;
use super::{ScanStats, Scanner};

/// Marks a passage entry that cancels the same entry without the mark.
pub(super) const REMOVED: u32 = 1 << 31;
/// Documents whose boilerplate is computed together.
const DOCS_PER_CHUNK: usize = 512;

/// Keeps the entries of `batch` that `keep` accepts, in their order, in
/// place, on all threads: each stretch is compacted alone, then the kept
/// parts are moved together.
fn retain_in_parallel(batch: &mut Vec<(u64, u32)>, keep: impl Fn(&(u64, u32)) -> bool + Sync) {
    let stretch = (batch.len() / (4 * rayon::current_num_threads().max(1))).max(1 << 14);
    let kept: Vec<usize> = batch
        .par_chunks_mut(stretch)
        .map(|entries| {
            let mut kept = 0;
            for i in 0..entries.len() {
                if keep(&entries[i]) {
                    entries[kept] = entries[i];
                    kept += 1;
                }
            }
            kept
        })
        .collect();
    let mut end = 0;
    for (i, kept) in kept.into_iter().enumerate() {
        batch.copy_within(i * stretch..i * stretch + kept, end);
        end += kept;
    }
    batch.truncate(end);
}

/// What was found for one document with boilerplate.
struct Found {
    doc: u32,
    /// Its boilerplate shingles, sorted; all of them are in its full set.
    boilerplate: Vec<u64>,
}

impl Scanner {
    /// Finds boilerplate and updates the stored sets, the counts and the
    /// passage entries of the documents that have some.
    pub(super) fn find_boilerplate(
        &self,
        corpus: &mut Corpus,
        frequencies: EntrySpill,
        passages: &mut EntrySpill,
        resources: &Resources,
        progress: &dyn Progress,
        stats: &mut ScanStats,
    ) -> Result<()> {
        let partitions = partitions_for(&resources.spill);
        let budget = resources.sort_entries();
        let n = corpus.docs.len().max(1) as u64;
        let min_df = self.config.boilerplate.min_df.max(2);
        progress.start(Stage::Frequencies, Some(frequencies.len()));

        // Frequent (shingle, doc) entries, spread by document range so that
        // each document's frequent shingles come back together.
        let mut frequent = resources.entry_spill(partitions)?;
        let mut frequent_shingles = 0u64;
        frequencies.drain(
            budget,
            |key, _| key,
            |batch| {
                progress.advance(batch.len() as u64);
                // A batch holds every entry of its shingles, so counts within
                // it are document frequencies. Only the entries of shingles
                // that may be frequent are sorted and counted: a filter sized
                // for the batch (a quarter of a byte an entry) passes about
                // 1 % of the others, and filling and asking it costs a
                // fraction of sorting them all (see `crate::frequency_filter`).
                // Known frequent shingles decide alone, as before.
                if self.known_frequent.is_none() {
                    let mut filter =
                        FrequencyFilter::new(batch.len() as u64, resources.sort_memory);
                    filter.insert_all(batch, |e| e.0);
                    retain_in_parallel(batch, |e| filter.may_reach(e.0, min_df));
                }
                // By shingle only: the order of documents within a run does
                // not matter (they are sorted by document next), and the
                // sort is a third faster than by (shingle, document).
                batch.par_sort_unstable_by_key(|e| e.0);
                for run in batch.chunk_by(|a, b| a.0 == b.0) {
                    let is_frequent = match &self.known_frequent {
                        Some(known) => known.contains(run[0].0),
                        None => run.len() >= min_df as usize,
                    };
                    if is_frequent {
                        frequent_shingles += 1;
                        for &(hash, doc) in run {
                            let part = (u64::from(doc) * partitions as u64 / n) as usize;
                            frequent.push(part, hash, doc)?;
                        }
                    }
                }
                Ok(())
            },
        )?;
        stats.frequent_shingles = frequent_shingles;
        progress.finish();
        progress.start(Stage::Boilerplate, None);

        let mut with_boilerplate = 0u64;
        frequent.drain(
            budget,
            |_, doc| u64::from(doc),
            |batch| {
                // By document alone; each document's few shingles are
                // sorted by `boilerplate_of` (see `candidates::groups_by_key`).
                batch.par_sort_unstable_by_key(|e| e.1);
                let per_doc: Vec<&[(u64, u32)]> = batch.chunk_by(|a, b| a.1 == b.1).collect();
                for chunk in per_doc.chunks(DOCS_PER_CHUNK) {
                    let found: Vec<Found> = chunk
                        .par_iter()
                        .map(|entries| self.boilerplate_of(corpus, entries))
                        .collect::<Result<Vec<Option<Found>>>>()?
                        .into_iter()
                        .flatten()
                        .collect();
                    with_boilerplate += found.len() as u64;
                    self.store_boilerplate(corpus, found, passages)?;
                    progress.advance(chunk.len() as u64);
                }
                Ok(())
            },
        )?;
        corpus.set_store.seal()?;
        stats.documents_with_boilerplate = with_boilerplate;
        progress.finish();
        Ok(())
    }

    /// The boilerplate of one document, given its frequent shingles (in any
    /// order).
    ///
    /// When its counts show that every run of frequent shingles is short
    /// (see [`all_runs_short`]), they are all boilerplate; its text is not
    /// read again. Its stored set is read by neither path: the content is
    /// the full set without the boilerplate, worked out when it is read.
    fn boilerplate_of(&self, corpus: &Corpus, entries: &[(u64, u32)]) -> Result<Option<Found>> {
        let doc = entries[0].1;
        let mut frequent: Vec<u64> = entries.iter().map(|e| e.0).collect();
        frequent.sort_unstable();
        let record = corpus.docs.record(doc)?;
        let short = all_runs_short(
            frequent.len(),
            self.featurizer.shingler().sequence_len(record.counts.tokens as usize),
            record.counts.shingles as usize,
            self.config.shingle_size,
            self.config.boilerplate.max_run_tokens,
        );
        if short {
            return Ok(Some(Found { doc, boilerplate: frequent }));
        }
        let frequent = FrequentShingles::from_sorted(frequent);
        let text = corpus.load_text(doc, &self.featurizer)?;
        let boilerplate = self.boilerplate_in(&text.sequence.hashes, &frequent);
        Ok((!boilerplate.is_empty()).then_some(Found { doc, boilerplate }))
    }

    /// The boilerplate shingles of a shingle sequence (sorted) under this
    /// scan's rule.
    fn boilerplate_in(&self, hashes: &[u64], frequent: &FrequentShingles) -> Vec<u64> {
        boilerplate_shingles(
            hashes,
            self.config.shingle_size,
            frequent,
            self.config.boilerplate.max_run_tokens,
        )
    }

    /// The passage fingerprints of `text` that a scan in which `frequent`
    /// are the frequent shingles drops as boilerplate, sorted.
    pub fn boilerplate_fingerprints(&self, text: &str, frequent: &FrequentShingles) -> Vec<u64> {
        self.boilerplate_split(text, frequent).map_or(Vec::new(), |split| split.1)
    }

    /// For a text with boilerplate (`None` without): its number of content
    /// shingles, and the passage fingerprints a scan in which `frequent`
    /// are the frequent shingles drops as boilerplate, sorted.
    pub fn boilerplate_split(
        &self,
        text: &str,
        frequent: &FrequentShingles,
    ) -> Option<(usize, Vec<u64>)> {
        let sequence = self.featurizer.sequence(text);
        let bp = self.boilerplate_in(&sequence.hashes, frequent);
        if bp.is_empty() {
            return None;
        }
        let content = ShingleSet::from_hashes(
            sequence.hashes.iter().copied().filter(|h| bp.binary_search(h).is_err()).collect(),
        );
        let mut removed: Vec<u64> = winnow(&sequence.hashes, self.config.winnow_window)
            .into_iter()
            .filter(|h| bp.binary_search(h).is_ok())
            .collect();
        removed.sort_unstable();
        removed.dedup();
        Some((content.len(), removed))
    }

    /// Stores each document's boilerplate beside the place of its full set
    /// (which its record gives) and marks the boilerplate shingles removed from
    /// the passage entries. The fingerprints among them are the ones
    /// removed; a mark that matches no fingerprint of the document removes
    /// nothing, so the fingerprints need not be worked out from the text.
    fn store_boilerplate(
        &self,
        corpus: &mut Corpus,
        found: Vec<Found>,
        passages: &mut EntrySpill,
    ) -> Result<()> {
        let mut buf = Vec::new();
        for f in found {
            let own = corpus.docs.record(f.doc)?;
            buf.clear();
            encode_with_boilerplate(own.sets, &f.boilerplate, &mut buf);
            let sets = corpus.set_store.append(&buf)?;
            let count = f.boilerplate.len() as u32;
            corpus.content_len[f.doc as usize] = own.counts.shingles.saturating_sub(count);
            let members = corpus.groups.group(f.doc).map_or_else(|| vec![f.doc], <[u32]>::to_vec);
            for m in members {
                let mut record = if m == f.doc { own } else { corpus.docs.record(m)? };
                record.counts.boilerplate = count;
                if m == f.doc {
                    record.sets = sets;
                }
                corpus.docs.set_record(m, &record)?;
            }
            for h in f.boilerplate {
                passages.push(passages.partition_of_hash(h), h, f.doc | REMOVED)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retaining_in_parallel_is_retaining() {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(2).build().unwrap();
        // Empty, one stretch, exactly one, and several with a short last one.
        for len in [0usize, 1, 1000, 1 << 14, 70_001] {
            let entries: Vec<(u64, u32)> = (0..len as u64)
                .map(|i| (crate::hash_lanes::splitmix_finalize(i), i as u32))
                .collect();
            for keep_one_in in [1, 3, 100, u64::MAX] {
                let keep = |e: &(u64, u32)| e.0.is_multiple_of(keep_one_in);
                let mut expected = entries.clone();
                expected.retain(keep);
                let mut batch = entries.clone();
                pool.install(|| retain_in_parallel(&mut batch, keep));
                assert_eq!(batch, expected, "{len} entries, one in {keep_one_in}");
            }
        }
    }
}
