//! Pass 2 of a scan: document frequencies of shingles, then each distinct
//! document's boilerplate (see [`crate::boilerplate`] for the rule).
//!
//! ```text
//! shingle keys ──candidate prefixes, exact counts (see frequencies)──▶
//!     frequent shingles ──▶
//! full sets, read in order a chunk at a time ──per document that holds a
//!     candidate: its frequent shingles; every run short by its counts, or
//!     else re-tokenize its
//!     text and find the short frequent runs──▶
//!     boilerplate list stored beside the full set's place; boilerplate
//!     shingles marked removed in the passage spill
//! ```
//!
//! Nothing here holds more than one partition of keys (a share of the sort
//! memory a thread), the frequent shingles (and the few candidates counted
//! with them) and two chunks of full sets (one worked on, one being read)
//! in memory.

use rayon::prelude::*;

use crate::Result;
use crate::boilerplate::{FrequentShingles, all_runs_short, boilerplate_shingles};
use crate::passage::winnow;
use crate::progress::{Progress, Stage};
use crate::shingle::ShingleSet;
use crate::spill::{EntrySpill, KeySpill, Resources};

use super::corpus::{Corpus, SetChunks, encode_with_boilerplate};
use super::docs::DocRecord;
use super::frequencies::{ValueSet, count_frequent};
use super::{ScanStats, Scanner};

/// Marks a passage entry that cancels the same entry without the mark.
pub(super) const REMOVED: u32 = 1 << 31;

/// What was found for one document with boilerplate.
struct Found {
    doc: u32,
    /// Its boilerplate shingles, sorted; all of them are in its full set.
    boilerplate: Vec<u64>,
}

impl Scanner {
    /// Finds boilerplate and updates the stored sets, the counts and the
    /// passage entries of the documents that have some. `keys` are the
    /// shingle keys of pass 1 (`None` when the frequent shingles are known).
    pub(super) fn find_boilerplate(
        &self,
        corpus: &mut Corpus,
        keys: Option<KeySpill>,
        passages: &mut EntrySpill,
        resources: &Resources,
        progress: &dyn Progress,
        stats: &mut ScanStats,
    ) -> Result<()> {
        corpus.set_store.flush()?;
        // With counts, only the documents that hold a candidate can hold a
        // frequent shingle (`None`: any can).
        let (frequent, holders) = match (&self.known_frequent, keys) {
            (Some(known), _) => (ValueSet::new(known.hashes().iter().copied()), None),
            (None, keys) => {
                let keys = keys.unwrap_or_else(|| resources.key_spill(1));
                progress.start(Stage::Frequencies, Some(keys.len()));
                let min_df = self.config.boilerplate.min_df.max(2);
                let counted = count_frequent(keys, corpus, min_df, resources, progress)?;
                stats.frequent_shingles = counted.shingles.len() as u64;
                progress.finish();
                (ValueSet::new(counted.shingles.hashes().iter().copied()), Some(counted.holders))
            }
        };
        progress.start(Stage::Boilerplate, Some(corpus.docs.len() as u64));
        let mut with_boilerplate = 0u64;
        // With known frequent shingles, those of this corpus are counted here.
        let mut seen =
            self.known_frequent.as_ref().map(|_| std::collections::HashSet::<u64>::new());
        let mut chunks = SetChunks::new(corpus, resources)?;
        let mut first = 0;
        // Each chunk is read before the one before it is stored: storing
        // changes the records of the chunk stored only.
        while let Some((found, next)) = chunks.work_next(corpus, |sets| {
            let found = sets
                .docs
                .par_iter()
                .map(|set| {
                    if holders.as_ref().is_some_and(|h| !h[set.doc as usize]) {
                        return Ok((None, Vec::new()));
                    }
                    let hits: Vec<u64> =
                        sets.hashes(set).filter(|&h| frequent.contains(h)).collect();
                    if hits.is_empty() {
                        return Ok((None, hits));
                    }
                    let found = self.boilerplate_of(corpus, set.doc, &set.record, &hits)?;
                    Ok((found, if seen.is_some() { hits } else { Vec::new() }))
                })
                .collect::<Result<Vec<(Option<Found>, Vec<u64>)>>>();
            (found, sets.next)
        })? {
            let mut stored = Vec::new();
            for (found, hits) in found? {
                if let Some(seen) = &mut seen {
                    seen.extend(hits);
                }
                stored.extend(found);
            }
            with_boilerplate += stored.len() as u64;
            self.store_boilerplate(corpus, stored, passages)?;
            progress.advance(u64::from(next - first));
            first = next;
        }
        if let Some(seen) = seen {
            stats.frequent_shingles = seen.len() as u64;
        }
        corpus.set_store.seal()?;
        stats.documents_with_boilerplate = with_boilerplate;
        progress.finish();
        Ok(())
    }

    /// The boilerplate of one document, given its record and its frequent
    /// shingles (sorted).
    ///
    /// When its counts show that every run of frequent shingles is short
    /// (see [`all_runs_short`]), they are all boilerplate; its text is not
    /// read again. Otherwise its text is re-tokenized to find the runs.
    fn boilerplate_of(
        &self,
        corpus: &Corpus,
        doc: u32,
        record: &DocRecord,
        frequent: &[u64],
    ) -> Result<Option<Found>> {
        let short = all_runs_short(
            frequent.len(),
            self.featurizer.shingler().sequence_len(record.counts.tokens as usize),
            record.counts.shingles as usize,
            self.config.shingle_size,
            self.config.boilerplate.max_run_tokens,
        );
        if short {
            return Ok(Some(Found { doc, boilerplate: frequent.to_vec() }));
        }
        let frequent = FrequentShingles::from_sorted(frequent.to_vec());
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
